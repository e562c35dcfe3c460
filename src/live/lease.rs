//! The lease that keeps two applies from writing to one organization at once.
//!
//! Each backend records it with a primitive that lets exactly one of two racing applies win:
//!
//! - **snapshot**: an exclusive lock of the operating system (`flock`) on `FILE.lock` beside the
//!   snapshot, held by the open file for the whole apply. The operating system releases it when
//!   the process ends, however it ends, so a crashed apply never leaves it held; the lease text in
//!   the file only names the holder for messages.
//! - **aws**: a service control policy named [`LEASE_POLICY`], created with the lease text as its
//!   description. AWS Organizations refuses a second policy of one name and type
//!   (`DuplicatePolicyException`), so creating it is an atomic test-and-set. Its holder renews it
//!   while it runs and deletes it at the end; another apply takes it over only once it has run
//!   out (by deleting that exact policy, so two takers cannot remove each other's fresh lease), or
//!   a person removes it with `orgctl force-unlock`.

use std::path::PathBuf;

use chrono::{DateTime, SecondsFormat, Utc};

/// The root tag that orgctl versions before the policy lease recorded their lease in. Still
/// honoured until it runs out, and hidden from plans.
pub const LEASE_TAG: &str = "orgctl:lease";

/// The name of the service control policy that records the lease in AWS Organizations. It is
/// never attached, is hidden from plans, drift, export and import, and no configuration may
/// declare a service control policy of this name.
pub const LEASE_POLICY: &str = crate::model::limits::LEASE_POLICY_NAME;

/// Who holds the organization, and until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// A random id, unique per apply: what `orgctl force-unlock` takes.
    pub id: String,
    /// `user@host:pid`, for messages.
    pub owner: String,
    /// When the lease runs out unless renewed.
    pub until: DateTime<Utc>,
}

impl Lease {
    /// A new lease for this process, valid for `duration`.
    pub fn new(duration: chrono::Duration) -> Self {
        let owner = format!("{}@{}:{}", user(), host(), std::process::id());
        Self {
            id: random_id(),
            owner: one_word(&owner),
            until: whole_seconds(Utc::now()) + duration,
        }
    }

    /// The same lease, running out `duration` from now.
    pub fn renewed(&self, duration: chrono::Duration) -> Self {
        Self {
            until: whole_seconds(Utc::now()) + duration,
            ..self.clone()
        }
    }

    /// The recorded text: `<id> <owner> until <RFC 3339 time>` (only characters AWS allows in
    /// tag values and policy descriptions).
    pub fn encode(&self) -> String {
        format!(
            "{} {} until {}",
            self.id,
            self.owner,
            self.until.to_rfc3339_opts(SecondsFormat::Secs, true)
        )
    }

    /// Reads a recorded lease; `None` when the text is not one.
    pub fn decode(text: &str) -> Option<Self> {
        let mut words = text.split_whitespace();
        let (id, owner, until, time) = (words.next()?, words.next()?, words.next()?, words.next()?);
        if until != "until" || words.next().is_some() {
            return None;
        }
        Some(Self {
            id: id.to_owned(),
            owner: owner.to_owned(),
            until: DateTime::parse_from_rfc3339(time).ok()?.with_timezone(&Utc),
        })
    }

    /// Whether it has run out.
    pub fn expired(&self) -> bool {
        self.until <= Utc::now()
    }
}

/// Where a lease is recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// The lock file beside a snapshot.
    LockFile(PathBuf),
    /// The lease policy in AWS Organizations, by its id (`p-…`).
    Policy(String),
    /// The root tag of orgctl versions before the policy lease.
    RootTag,
}

/// A lease as found where it is recorded: who holds the organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    /// The lease, or `None` when the record is not one (empty, cut short, edited by hand).
    pub lease: Option<Lease>,
    /// The recorded text, as found.
    pub text: String,
    /// Where it is recorded.
    pub record: Record,
}

impl Holder {
    /// The holder a recorded `text` names.
    pub fn read(record: Record, text: &str) -> Self {
        Self {
            lease: Lease::decode(text),
            text: text.trim().to_owned(),
            record,
        }
    }

    /// What `orgctl force-unlock` takes to remove this record: the lease's id, or for a record
    /// that is not a lease the id of what holds it (the policy's). `None` for a record that
    /// `force-unlock` does not need to name (a lock file, whose lock goes with its process).
    pub fn unlock_id(&self) -> Option<&str> {
        match (&self.lease, &self.record) {
            (_, Record::LockFile(_)) => None,
            (Some(lease), _) => Some(&lease.id),
            (None, Record::Policy(id)) => Some(id),
            (None, Record::RootTag) => Some(LEASE_TAG),
        }
    }

    /// Whether `id`, as given to `orgctl force-unlock`, names this record.
    pub fn is_named(&self, id: &str) -> bool {
        self.unlock_id() == Some(id)
            || self.lease.as_ref().is_some_and(|lease| lease.id == id)
            || matches!(&self.record, Record::Policy(policy) if policy == id)
    }

    /// Who holds it, in a sentence's words: `alice@ci-7:4242 until … (lease 1f2e…)`; for a
    /// record that is not a lease, what the record holds instead: `the lease policy
    /// `orgctl-lease` (p-…) is empty`. Never a date that was not recorded.
    pub fn describe(&self) -> String {
        let Some(lease) = &self.lease else {
            return if self.text.is_empty() {
                format!("{} is empty", self.where_recorded())
            } else {
                format!(
                    "{} reads `{}`, which is not a lease",
                    self.where_recorded(),
                    abbreviate(&self.text)
                )
            };
        };
        let until = lease.until.to_rfc3339_opts(SecondsFormat::Secs, true);
        match &self.record {
            Record::LockFile(_) => format!("{} (lease {})", lease.owner, lease.id),
            Record::Policy(_) => format!("{} until {until} (lease {})", lease.owner, lease.id),
            Record::RootTag => format!(
                "{} until {until} (lease {}, recorded by an older orgctl in the root tag `{LEASE_TAG}`)",
                lease.owner, lease.id
            ),
        }
    }

    /// The record, as messages name it.
    pub fn where_recorded(&self) -> String {
        match &self.record {
            Record::LockFile(path) => format!("the lock file `{}`", path.display()),
            Record::Policy(id) => format!("the lease policy `{LEASE_POLICY}` ({id})"),
            Record::RootTag => format!("the root tag `{LEASE_TAG}` of an older orgctl"),
        }
    }
}

/// What [`crate::live::OrgWriter::take_lease`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaseAttempt {
    /// The lease is this apply's now. `replaced` is the record of an apply that ended without
    /// releasing it (its lock went with its process, or its lease ran out), taken over.
    Taken {
        /// What was taken over, if anything.
        replaced: Option<Holder>,
    },
    /// Someone else holds it; `None` when it was taken and released while orgctl looked, so
    /// that who held it is not known.
    Held(Option<Holder>),
}

/// What [`crate::live::OrgWriter::force_unlock`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unlock {
    /// Removed this record.
    Removed(Holder),
    /// Nothing is recorded.
    Nothing,
    /// The recorded lease is another one; nothing was removed.
    Other(Holder),
    /// A running process holds it (a snapshot's lock); nothing was removed.
    Running(Holder),
}

/// 16 random hex digits from the operating system's random source (the time and the process id
/// when there is none: the id only needs to differ between applies).
fn random_id() -> String {
    let mut bytes = [0u8; 8];
    if getrandom::fill(&mut bytes).is_err() {
        let nanos = Utc::now().timestamp_nanos_opt().unwrap_or_default();
        let mixed = nanos.unsigned_abs() ^ u64::from(std::process::id()).rotate_left(40);
        bytes = mixed.to_le_bytes();
    }
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Leases are recorded to the second; holding them so keeps the recorded one equal to the held one.
fn whole_seconds(time: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(time.timestamp(), 0).unwrap_or(time)
}

/// The user a lease of this process names.
pub fn user() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "unknown".to_owned())
}

/// The host a lease of this process names.
pub fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|name| name.trim().to_owned())
        .ok()
        .filter(|name| !name.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Replaces white space (the field separator) and what AWS does not allow in a tag value.
fn one_word(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_alphanumeric() || "_.:/=+-@".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// A recorded text cut to a length a message can quote.
fn abbreviate(text: &str) -> String {
    const MOST: usize = 80;
    match text.char_indices().nth(MOST) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lease_round_trips_through_its_text() {
        let lease = Lease::new(chrono::Duration::minutes(30));
        assert_eq!(Lease::decode(&lease.encode()), Some(lease.clone()));
        let renewed = lease.renewed(chrono::Duration::minutes(60));
        assert_eq!(Lease::decode(&renewed.encode()), Some(renewed));
    }

    #[test]
    fn a_new_lease_has_not_run_out_and_an_old_one_has() {
        let lease = Lease::new(chrono::Duration::minutes(30));
        assert!(!lease.expired());
        assert!(lease.renewed(chrono::Duration::minutes(-1)).expired());
    }

    #[test]
    fn two_leases_have_different_ids() {
        let first = Lease::new(chrono::Duration::minutes(30));
        let second = Lease::new(chrono::Duration::minutes(30));
        assert_ne!(first.id, second.id);
        assert_eq!(first.id.len(), 16);
    }

    #[test]
    fn text_that_is_not_a_lease_is_refused() {
        assert_eq!(Lease::decode(""), None);
        assert_eq!(Lease::decode("abc def until yesterday"), None);
        assert_eq!(Lease::decode("abc def after 2026-01-01T00:00:00Z"), None);
        assert_eq!(Lease::decode("a b until 2026-01-01T00:00:00Z extra"), None);
    }

    #[test]
    fn its_text_is_a_valid_tag_value() {
        let lease = Lease::new(chrono::Duration::minutes(30));
        let text = lease.encode();
        assert!(text.len() <= 256);
        assert!(
            text.chars()
                .all(|c| c.is_alphanumeric() || " _.:/=+-@".contains(c)),
            "{text}"
        );
    }

    #[test]
    fn an_empty_policy_record_says_so_and_is_named_by_the_policy_id() {
        let holder = Holder::read(Record::Policy("p-12345678".to_owned()), "");
        assert_eq!(
            holder.describe(),
            "the lease policy `orgctl-lease` (p-12345678) is empty"
        );
        assert_eq!(holder.unlock_id(), Some("p-12345678"));
        assert!(holder.is_named("p-12345678"));
        assert!(!holder.is_named("unreadable"));
    }

    #[test]
    fn an_unreadable_record_is_quoted_and_never_given_a_date() {
        let holder = Holder::read(Record::Policy("p-1".to_owned()), "someone typed this");
        let described = holder.describe();
        assert!(described.contains("`someone typed this`"), "{described}");
        assert!(!described.contains("until"), "{described}");
    }

    #[test]
    fn a_held_policy_lease_names_its_owner_expiry_and_id() {
        let holder = Holder::read(
            Record::Policy("p-1".to_owned()),
            "0123456789abcdef alice@ci-7:4242 until 2026-11-22T10:00:00Z",
        );
        assert_eq!(
            holder.describe(),
            "alice@ci-7:4242 until 2026-11-22T10:00:00Z (lease 0123456789abcdef)"
        );
        assert_eq!(holder.unlock_id(), Some("0123456789abcdef"));
        assert!(holder.is_named("p-1"), "the policy id names it too");
    }

    #[test]
    fn a_lock_file_holder_has_no_expiry_and_no_unlock_id() {
        let holder = Holder::read(
            Record::LockFile(PathBuf::from("live.json.lock")),
            "0123456789abcdef alice@ci-7:4242 until 2026-11-22T10:00:00Z",
        );
        assert_eq!(
            holder.describe(),
            "alice@ci-7:4242 (lease 0123456789abcdef)"
        );
        assert_eq!(holder.unlock_id(), None);
    }

    #[test]
    fn long_records_are_cut_in_messages() {
        let holder = Holder::read(Record::RootTag, &"x".repeat(300));
        assert!(holder.describe().len() < 200, "{}", holder.describe());
    }
}
