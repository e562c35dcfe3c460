//! The lease that keeps two applies from writing to one organization at once.
//!
//! A lease is a short text recorded where every writer of the organization can see it: a tag on
//! the organization root (the `aws` backend) or a lock file beside the snapshot. It names its
//! holder and when it runs out, so a crashed holder's lease is taken over after it expires, or
//! at once when the holder was a process on this machine that no longer runs.

use chrono::{DateTime, SecondsFormat, Utc};
use sha2::{Digest, Sha256};

/// The tag key (on the organization root) and the lock file's content marker.
pub const LEASE_TAG: &str = "orgctl:lease";

/// Who holds the organization, and until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// A random id, unique per apply: what `orgctl force-unlock` takes.
    pub id: String,
    /// `user@host:pid`.
    pub owner: String,
    /// When the lease runs out unless renewed.
    pub until: DateTime<Utc>,
}

impl Lease {
    /// A new lease for this process, valid for `duration`.
    pub fn new(duration: chrono::Duration) -> Self {
        let now = whole_seconds(Utc::now());
        let owner = format!("{}@{}:{}", user(), host(), std::process::id());
        let mut hasher = Sha256::new();
        hasher.update(owner.as_bytes());
        hasher.update(now.timestamp_nanos_opt().unwrap_or_default().to_le_bytes());
        hasher.update(std::ptr::from_ref(&now).addr().to_le_bytes());
        let id = hasher.finalize()[..8]
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        Self {
            id,
            owner: tag_safe(&owner),
            until: now + duration,
        }
    }

    /// The same lease, running out `duration` from now.
    pub fn renewed(&self, duration: chrono::Duration) -> Self {
        Self {
            until: whole_seconds(Utc::now()) + duration,
            ..self.clone()
        }
    }

    /// What a recorded text that is not a lease stands for: a holder orgctl cannot name, which
    /// never runs out, so only `orgctl force-unlock unreadable` removes it.
    pub fn unreadable() -> Self {
        Self {
            id: "unreadable".to_owned(),
            owner: "an-unreadable-lease".to_owned(),
            until: DateTime::<Utc>::MAX_UTC,
        }
    }

    /// A recorded text as a lease: [`Lease::decode`], or [`Lease::unreadable`].
    pub fn read(text: &str) -> Self {
        Self::decode(text).unwrap_or_else(Self::unreadable)
    }

    /// The recorded text: `<id> <owner> until <RFC 3339 time>` (only characters AWS allows in
    /// tag values).
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

    /// Whether its holder was a process on this machine that has ended (a crash, a kill).
    /// `false` when that cannot be known: another machine, or no `/proc`.
    pub fn holder_gone(&self) -> bool {
        let Some((user_host, pid)) = self.owner.rsplit_once(':') else {
            return false;
        };
        let this_machine = format!("{}@{}", tag_safe(&user()), tag_safe(&host()));
        if user_host != this_machine || !std::path::Path::new("/proc/self").exists() {
            return false;
        }
        pid.parse::<u32>().is_ok_and(|pid| {
            pid != std::process::id() && !std::path::Path::new(&format!("/proc/{pid}")).exists()
        })
    }

    /// `held by alice@ci-7:4242 until 2026-11-22T10:00:00Z (lease 1f2e…)`, for messages.
    pub fn describe(&self) -> String {
        format!(
            "held by {} until {} (lease {})",
            self.owner,
            self.until.to_rfc3339_opts(SecondsFormat::Secs, true),
            self.id
        )
    }
}

/// Leases are recorded to the second; holding them so keeps the recorded one equal to the held one.
fn whole_seconds(time: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(time.timestamp(), 0).unwrap_or(time)
}

fn user() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "unknown".to_owned())
}

fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|name| name.trim().to_owned())
        .ok()
        .filter(|name| !name.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Replaces what AWS does not allow in a tag value (and white space, the field separator).
fn tag_safe(text: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_its_text() {
        let lease = Lease::new(chrono::Duration::minutes(30));
        let decoded = Lease::decode(&lease.encode()).expect("a lease's own text decodes");
        assert_eq!(
            decoded, lease,
            "what is recorded is what is held (renewal compares them)"
        );
        let renewed = lease.renewed(chrono::Duration::minutes(60));
        assert_eq!(Lease::decode(&renewed.encode()), Some(renewed));
        assert!(!decoded.expired());
        assert_eq!(Lease::read("garbage").id, "unreadable");
        assert!(!Lease::read("").expired());
    }

    #[test]
    fn refuses_text_that_is_not_a_lease() {
        assert_eq!(Lease::decode(""), None);
        assert_eq!(Lease::decode("abc def until yesterday"), None);
        assert_eq!(Lease::decode("abc def after 2026-01-01T00:00:00Z"), None);
        assert_eq!(Lease::decode("a b until 2026-01-01T00:00:00Z extra"), None);
    }

    #[test]
    fn a_dead_local_holder_is_gone_and_a_live_one_is_not() {
        let mut lease = Lease::new(chrono::Duration::minutes(30));
        assert!(!lease.holder_gone(), "this process holds it");
        if std::path::Path::new("/proc/self").exists() {
            // Pids wrap below 2^22 on Linux; this one cannot be running.
            lease.owner = format!("{}:4294967294", lease.owner.rsplit_once(':').unwrap().0);
            assert!(lease.holder_gone());
        }
        lease.owner = "someone@elsewhere:1".to_owned();
        assert!(
            !lease.holder_gone(),
            "another machine's process is never judged"
        );
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
}
