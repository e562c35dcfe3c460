//! The snapshot backend: a JSON file holding a live organization.
//!
//! It lets a new user plan with no AWS account, lets a pull-request job plan without
//! credentials, and is the format `orgctl export` writes. The file is versioned: `format` names
//! it and `version` is bumped on any incompatible change.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub mod emulate;

use super::{
    AccountState, Error, Holder, Lease, LeaseAttempt, LiveAccount, LiveContact, LiveOu, LivePolicy,
    LiveState, OrgReader, OrgWriter, Record, Unlock, Write,
};
use crate::diagnostic::Diagnostic;
use crate::files;
use crate::rules::Rule;

/// The value of a snapshot's `format` field.
pub const FORMAT: &str = "orgctl-live";
/// The snapshot version this build reads and writes.
pub const VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct Header {
    format: String,
    version: u32,
}

/// A snapshot file: the live state with its format and version.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(title = "orgctl live snapshot")]
pub struct SnapshotFile {
    /// Always `orgctl-live`.
    pub format: String,
    /// The snapshot format version.
    pub version: u32,
    /// The live organization.
    #[serde(flatten)]
    pub state: LiveState,
}

/// The file as read. Reading through `SnapshotFile`'s `flatten` would make serde buffer the whole
/// document as an intermediate tree (more memory, and slower); the fields are spelled out here
/// instead, so that every unknown field is refused too.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SnapshotIn {
    #[serde(rename = "format")]
    _format: String,
    #[serde(rename = "version")]
    _version: u32,
    organization: super::LiveOrganization,
    root: super::LiveRoot,
    #[serde(default)]
    organizational_units: Vec<super::LiveOu>,
    #[serde(default)]
    accounts: Vec<super::LiveAccount>,
    #[serde(default)]
    policies: Vec<super::LivePolicy>,
    #[serde(default)]
    trusted_access: Vec<String>,
    #[serde(default)]
    delegated_administrators: Vec<super::LiveDelegation>,
    #[serde(default)]
    invitations: Vec<super::LiveInvitation>,
    #[serde(default)]
    contacts: Vec<LiveContact>,
    #[serde(default)]
    account_creations: Vec<super::LiveAccountCreation>,
    #[serde(default)]
    account_closures: Option<super::ClosureQuota>,
    #[serde(default)]
    iam: Vec<super::LiveIam>,
}

/// A snapshot file as a live organization.
#[derive(Debug, Clone)]
pub struct Snapshot {
    path: PathBuf,
}

impl Snapshot {
    /// The snapshot at `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads and checks the file (at most [`files::SNAPSHOT`] bytes; not a device or directory).
    pub fn load(&self) -> Result<LiveState, Diagnostic> {
        let display = self.path.display();
        let bytes = files::read(&self.path, files::SNAPSHOT).map_err(|error| {
            Diagnostic::new(
                Rule::LiveSnapshot,
                format!("cannot read the snapshot `{display}`: {error}"),
            )
            .help("pass a file written by `orgctl export`, e.g. `--state examples/ecam/live.json`")
        })?;
        parse(&display.to_string(), &bytes)
    }

    /// Writes `state` through [`files::write`]: a new file beside the target, flushed to disk,
    /// then renamed over it.
    pub fn save(&self, state: &LiveState) -> Result<(), Diagnostic> {
        files::write(
            &self.path,
            to_json(state).as_bytes(),
            files::Existing::Replace,
            0o666,
        )
        .map_err(|error| self.write_error(&error))
    }

    fn write_error(&self, error: &files::Error) -> Diagnostic {
        Diagnostic::new(
            Rule::LiveSnapshot,
            format!(
                "cannot write the snapshot `{}`: {error}",
                self.path.display()
            ),
        )
        .help(
            error
                .write_help()
                .unwrap_or("check that the directory exists and is writable"),
        )
    }
}

impl OrgReader for Snapshot {
    async fn read(&self) -> Result<LiveState, Error> {
        Ok(self.load()?)
    }
}

/// Parses snapshot bytes; `name` is how messages name the file.
pub fn parse(name: &str, bytes: &[u8]) -> Result<LiveState, Diagnostic> {
    let invalid = |reason: String| {
        Diagnostic::new(Rule::LiveSnapshot, format!("`{name}` is not an orgctl snapshot: {reason}"))
            .help("snapshots are written by `orgctl export --out FILE`; `orgctl schema live` describes them")
    };
    let header: Header =
        serde_json::from_slice(bytes).map_err(|error| invalid(error.to_string()))?;
    if header.format != FORMAT {
        return Err(invalid(format!(
            "its `format` is `{}`, not `{FORMAT}`",
            header.format
        )));
    }
    if header.version != VERSION {
        return Err(invalid(format!(
            "it is version {}, and this orgctl reads version {VERSION}",
            header.version
        )));
    }
    let snapshot: SnapshotIn =
        serde_json::from_slice(bytes).map_err(|error| invalid(error.to_string()))?;
    let mut state = LiveState {
        organization: snapshot.organization,
        root: snapshot.root,
        organizational_units: snapshot.organizational_units,
        accounts: snapshot.accounts,
        policies: snapshot.policies,
        trusted_access: snapshot.trusted_access,
        delegated_administrators: snapshot.delegated_administrators,
        invitations: snapshot.invitations,
        contacts: snapshot.contacts,
        account_creations: snapshot.account_creations,
        account_closures: snapshot.account_closures,
        iam: snapshot.iam,
    };
    state.normalise();
    let problems = state.integrity_problems();
    if !problems.is_empty() {
        let shown = problems
            .iter()
            .take(10)
            .cloned()
            .collect::<Vec<_>>()
            .join("; ");
        let more = match problems.len() {
            0..=10 => String::new(),
            n => format!(" (and {} more)", n - 10),
        };
        return Err(Diagnostic::new(
            Rule::LiveSnapshot,
            format!("`{name}` does not hold together as an organization: {shown}{more}"),
        )
        .help("orgctl plans nothing over it; write the snapshot anew with `orgctl export --out FILE`, or correct those entries"));
    }
    Ok(state)
}

/// The snapshot text of a state (normalised, pretty, with a final newline).
pub fn to_json(state: &LiveState) -> String {
    let mut state = state.clone();
    state.normalise();
    let file = SnapshotFile {
        format: FORMAT.to_owned(),
        version: VERSION,
        state,
    };
    // Serialising orgctl's own plain data types to JSON cannot fail.
    let mut text = serde_json::to_string_pretty(&file).unwrap_or_default();
    text.push('\n');
    text
}

/// Writes `bytes` to `path` through [`files::write`], replacing what is there: readers see the
/// old file or the new one, never a mix.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    files::write(path, bytes, files::Existing::Replace, 0o666).map_err(std::io::Error::from)
}

/// Applies writes to a snapshot file: to the state it last read, in memory, then saved
/// atomically by [`OrgWriter::finish`]. It behaves as AWS does where plans rely on it (see
/// [`emulate`]: full-access policies on enabling a type and on new OUs and accounts, closed
/// accounts suspended), and repeating a write changes nothing.
///
/// Its lease is an exclusive lock of the operating system on `FILE.lock` beside the snapshot,
/// held by the open lock file from [`OrgWriter::take_lease`] to [`OrgWriter::release_lease`]
/// (or the end of the process).
#[derive(Debug)]
pub struct SnapshotWriter {
    snapshot: Snapshot,
    state: std::sync::Mutex<Option<LiveState>>,
    /// The lock file, open and locked, while this writer holds the lease.
    lock_file: std::sync::Mutex<Option<std::fs::File>>,
}

impl SnapshotWriter {
    /// The snapshot file's path.
    pub fn path(&self) -> &Path {
        self.snapshot.path()
    }

    /// How commands name it: the file's path.
    pub fn describe(&self) -> String {
        self.path().display().to_string()
    }

    /// A snapshot sends no requests: nothing to report.
    pub fn request_report(&self) -> Option<String> {
        None
    }

    /// A writer over `snapshot`; writes need a [`OrgReader::read`] first.
    pub fn new(snapshot: Snapshot) -> Self {
        Self {
            snapshot,
            state: std::sync::Mutex::new(None),
            lock_file: std::sync::Mutex::new(None),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<LiveState>> {
        // A panic while holding the lock leaves plain data behind; it is still consistent enough
        // to save what was done.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn lock_file_slot(&self) -> std::sync::MutexGuard<'_, Option<std::fs::File>> {
        self.lock_file
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// `FILE.lock`, beside the snapshot.
    pub fn lock_path(&self) -> PathBuf {
        let mut name = self.snapshot.path.as_os_str().to_owned();
        name.push(".lock");
        PathBuf::from(name)
    }

    fn lock_error(&self, error: &std::io::Error) -> Diagnostic {
        Diagnostic::new(
            Rule::LiveSnapshot,
            format!(
                "cannot use the lock file `{}`: {error}",
                self.lock_path().display()
            ),
        )
        .help("the lock file sits beside the snapshot; check that the directory is writable")
    }

    /// Opens the lock file (made if missing, with `create`) and locks it, without waiting. A
    /// file it locks is emptied at once, so that a process that finds it locked never reads a
    /// record left by an earlier holder; that record is returned instead.
    fn lock_file(&self, create: bool) -> Result<LockFile, Diagnostic> {
        let path = self.lock_path();
        let failed = |error: std::io::Error| self.lock_error(&error);
        // A released lock file is removed by its holder while locked; whoever opened it just
        // before then locks a file no longer at `path`, and opens again.
        for _ in 0..LOCK_FILE_ATTEMPTS {
            let opened = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(create)
                .truncate(false)
                .open(&path);
            let file = match opened {
                Ok(file) => file,
                Err(error) if !create && error.kind() == std::io::ErrorKind::NotFound => {
                    return Ok(LockFile::Missing);
                }
                Err(error) => return Err(failed(error)),
            };
            // Read before locking: once locked, it is emptied before anything else.
            let left = read_text(&file).map_err(failed)?;
            match file.try_lock() {
                Ok(()) => file.set_len(0).map_err(failed)?,
                Err(std::fs::TryLockError::WouldBlock) => {
                    let text = read_text(&file).map_err(failed)?;
                    return Ok(LockFile::Held(Holder::read(Record::LockFile(path), &text)));
                }
                Err(std::fs::TryLockError::Error(error)) => return Err(failed(error)),
            }
            if is_at(&file, &path) {
                return Ok(LockFile::Locked { file, left });
            }
        }
        Err(self.lock_error(&std::io::Error::other(
            "it kept being removed and made again by other applies",
        )))
    }

    fn apply(
        state: &mut LiveState,
        write: &Write,
        password_file: Option<&super::password::PasswordFile>,
    ) -> Result<Option<String>, String> {
        let root_id = state.root.id.clone();
        match write {
            Write::EnablePolicyType { policy_type } => {
                emulate::enable_policy_type(state, *policy_type);
                Ok(None)
            }
            Write::EnableTrustedAccess { principal } => {
                if !state.trusted_access.contains(principal) {
                    state.trusted_access.push(principal.clone());
                    state.trusted_access.sort();
                }
                Ok(None)
            }
            Write::DisableTrustedAccess { principal } => {
                state.trusted_access.retain(|enabled| enabled != principal);
                Ok(None)
            }
            Write::InviteAccount {
                account_id, notes, ..
            } => {
                // An invitation is not the account: nothing is created that later changes name.
                if emulate::open_invitation(state, account_id)?.is_some() {
                    return Ok(None);
                }
                let sent = state.invitations.len().to_string();
                let id = new_id(state, "h-", 10, &[account_id, &sent]);
                emulate::invite(state, &id, account_id, notes, chrono::Utc::now());
                Ok(None)
            }
            Write::CancelInvitation { id, .. } => {
                emulate::cancel_invitation(state, id)?;
                Ok(None)
            }
            Write::RegisterDelegatedAdministrator { account, service } => {
                emulate::register_delegated_administrator(state, account, service)?;
                Ok(None)
            }
            Write::DeregisterDelegatedAdministrator {
                account_id,
                service,
            } => {
                state.delegated_administrators.retain(|delegation| {
                    !(&delegation.account_id == account_id && &delegation.service == service)
                });
                Ok(None)
            }
            Write::PutAlternateContact {
                account: account_id,
                contact_type,
                contact,
                ..
            } => {
                account(state, account_id)?;
                state.contacts.retain(|live| {
                    !(&live.account_id == account_id && live.contact_type == *contact_type)
                });
                state.contacts.push(LiveContact {
                    account_id: account_id.clone(),
                    contact_type: *contact_type,
                    contact: contact.clone(),
                });
                state.normalise();
                Ok(None)
            }
            Write::DeleteAlternateContact {
                account: account_id,
                contact_type,
                ..
            } => {
                account(state, account_id)?;
                state.contacts.retain(|live| {
                    !(&live.account_id == account_id && live.contact_type == *contact_type)
                });
                Ok(None)
            }
            Write::CreateOu {
                parent: parent_id,
                name,
                tags,
            } => {
                parent(state, parent_id)?;
                if let Some(existing) = state
                    .organizational_units
                    .iter()
                    .find(|ou| &ou.parent_id == parent_id && &ou.name == name)
                {
                    return Ok(Some(existing.id.clone()));
                }
                let suffix = root_id.trim_start_matches("r-").to_owned();
                let id = new_id(state, &format!("ou-{suffix}-"), 8, &[parent_id, name]);
                state.organizational_units.push(LiveOu {
                    id: id.clone(),
                    name: name.clone(),
                    parent_id: parent_id.clone(),
                    tags: tags.clone(),
                });
                emulate::target_created(state, &id);
                Ok(Some(id))
            }
            Write::RenameOu { id, to, .. } => {
                ou(state, id)?.name.clone_from(to);
                Ok(None)
            }
            Write::DeleteOu { id } => {
                let holds = state
                    .organizational_units
                    .iter()
                    .any(|ou| &ou.parent_id == id)
                    || state
                        .accounts
                        .iter()
                        .any(|account| &account.parent_id == id);
                if holds {
                    return Err(format!("OU {id} is not empty"));
                }
                state.organizational_units.retain(|ou| &ou.id != id);
                emulate::target_gone(state, id);
                Ok(None)
            }
            Write::CreateAccount {
                name,
                email,
                parent: parent_id,
                tags,
            } => {
                parent(state, parent_id)?;
                if let Some(existing) = state
                    .accounts
                    .iter()
                    .find(|account| account.email.eq_ignore_ascii_case(email))
                {
                    return Ok(Some(existing.id.clone()));
                }
                let id = new_id(state, "", 12, &[email, name]);
                state.accounts.push(LiveAccount {
                    id: id.clone(),
                    name: name.clone(),
                    email: email.clone(),
                    state: AccountState::Active,
                    parent_id: parent_id.clone(),
                    tags: tags.clone(),
                });
                emulate::target_created(state, &id);
                Ok(Some(id))
            }
            Write::MoveAccount { id, to: to_id, .. } => {
                parent(state, to_id)?;
                account(state, id)?.parent_id.clone_from(to_id);
                Ok(None)
            }
            Write::RenameAccount { id, to, .. } => {
                account(state, id)?.name.clone_from(to);
                Ok(None)
            }
            Write::ChangeEmail { id, .. } => Err(format!(
                "the root email of {id} is changed by a person, not by orgctl"
            )),
            Write::CloseAccount { id, .. } => {
                emulate::close_account(state, id)?;
                Ok(None)
            }
            Write::RemoveAccount { id, .. } => {
                emulate::may_leave(state, id)?;
                state.accounts.retain(|account| &account.id != id);
                // Its contacts leave with it: they are no longer the organization's to read.
                state.contacts.retain(|contact| &contact.account_id != id);
                emulate::target_gone(state, id);
                Ok(None)
            }
            Write::CreatePolicy {
                name,
                policy_type,
                description,
                document,
                tags,
            } => {
                if let Some(existing) = state
                    .policies
                    .iter()
                    .find(|p| p.policy_type == *policy_type && &p.name == name)
                {
                    return Ok(Some(existing.id.clone()));
                }
                let id = new_id(state, "p-", 8, &[name]);
                state.policies.push(LivePolicy {
                    id: id.clone(),
                    name: name.clone(),
                    policy_type: *policy_type,
                    description: description.clone(),
                    aws_managed: false,
                    document: document.clone(),
                    tags: tags.clone(),
                    targets: Vec::new(),
                });
                Ok(Some(id))
            }
            Write::UpdatePolicy {
                id,
                description,
                document,
            } => {
                let policy = policy(state, id)?;
                if let Some(description) = description {
                    policy.description.clone_from(&description.to);
                }
                if let Some(document) = document {
                    policy.document.clone_from(&document.to);
                }
                Ok(None)
            }
            Write::DeletePolicy { id } => {
                if policy(state, id).is_ok_and(|p| !p.targets.is_empty()) {
                    return Err(format!("policy {id} is still attached"));
                }
                state.policies.retain(|p| &p.id != id);
                Ok(None)
            }
            Write::AttachPolicy {
                policy: policy_id,
                target: target_id,
            } => {
                target(state, target_id)?;
                let policy = policy(state, policy_id)?;
                if !policy.targets.contains(target_id) {
                    policy.targets.push(target_id.clone());
                    policy.targets.sort();
                }
                Ok(None)
            }
            Write::DetachPolicy {
                policy: policy_id,
                target: target_id,
            } => {
                policy(state, policy_id)?.targets.retain(|t| t != target_id);
                Ok(None)
            }
            Write::UpdateTags { id, set, unset, .. } => {
                let id = id
                    .as_deref()
                    .ok_or_else(|| "a tag change names no resource id".to_owned())?;
                let tags = tags_of(state, id)?;
                for key in unset {
                    tags.remove(key);
                }
                tags.extend(set.iter().map(|(k, v)| (k.clone(), v.clone())));
                Ok(None)
            }
            Write::PutRole {
                account: account_id,
                name,
                partner,
                trust_policy,
                managed_policies,
                ..
            } => {
                let iam = member_iam(state, account_id)?;
                let role = super::LiveRole {
                    name: name.clone(),
                    trust_policy: trust_policy.clone(),
                    managed_policies: sorted(managed_policies),
                    tags: BTreeMap::from([
                        (super::MANAGED_TAG.to_owned(), "true".to_owned()),
                        (super::PARTNER_TAG.to_owned(), partner.clone()),
                    ]),
                };
                iam.roles.retain(|existing| existing.name != *name);
                iam.roles.push(role);
                Ok(None)
            }
            Write::DeleteRole {
                account_id, name, ..
            } => {
                if let Some(iam) = state
                    .iam
                    .iter_mut()
                    .find(|iam| iam.account_id == *account_id)
                {
                    iam.roles.retain(|role| role.name != *name);
                }
                Ok(None)
            }
            Write::PutUser {
                account: account_id,
                name,
                managed_policies,
                inline_policies,
                console,
                ..
            } => {
                let iam = member_iam(state, account_id)?;
                let had_console = iam
                    .users
                    .iter()
                    .any(|user| user.name == *name && user.console);
                if *console && !had_console {
                    let file = password_file
                        .ok_or("a console user needs --password-file for its one-time password")?;
                    // The snapshot stands in for IAM: the password goes where AWS's would.
                    file.record(account_id, name)
                        .map_err(|error| error.message)?;
                }
                // IAM keeps the inline policies a user has; those asked for are put over them.
                let mut inline: Vec<String> = iam
                    .users
                    .iter()
                    .filter(|user| user.name == *name)
                    .flat_map(|user| user.inline_policies.iter().cloned())
                    .chain(
                        inline_policies
                            .iter()
                            .map(|preset| crate::model::preset::name(*preset).to_owned()),
                    )
                    .collect();
                inline.sort();
                inline.dedup();
                iam.users.retain(|user| user.name != *name);
                iam.users.push(super::LiveUser {
                    name: name.clone(),
                    managed_policies: sorted(managed_policies),
                    inline_policies: inline,
                    console: *console || had_console,
                    tags: BTreeMap::from([(super::MANAGED_TAG.to_owned(), "true".to_owned())]),
                });
                Ok(None)
            }
        }
    }
}

/// The lock file beside a snapshot, as an attempt to lock it found it.
enum LockFile {
    /// There is none.
    Missing,
    /// A running process holds it.
    Held(Holder),
    /// Locked by this process (and emptied), until the file is closed; `left` is what it
    /// recorded before.
    Locked {
        /// The open, locked file.
        file: std::fs::File,
        /// Its text before it was emptied.
        left: String,
    },
}

/// How often a lock file found locked is looked at before what it records is reported as it is.
const RECORD_LOOKS: usize = 5;
/// The pause between two looks at a locked lock file.
const RECORD_PAUSE: std::time::Duration = std::time::Duration::from_millis(10);

/// How often opening and locking the lock file is tried when other applies keep removing it.
const LOCK_FILE_ATTEMPTS: usize = 20;

/// The whole text of an open file, from its start.
fn read_text(mut file: &std::fs::File) -> std::io::Result<String> {
    use std::io::{Read as _, Seek as _};
    file.seek(std::io::SeekFrom::Start(0))?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Replaces the text of an open file.
fn record(file: &mut std::fs::File, text: &str) -> std::io::Result<()> {
    use std::io::Seek as _;
    file.set_len(0)?;
    file.seek(std::io::SeekFrom::Start(0))?;
    file.write_all(text.as_bytes())?;
    file.flush()
}

/// Whether `path` still names the open `file` (and not a file made there since, or nothing).
#[cfg(unix)]
fn is_at(file: &std::fs::File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(open), Ok(named)) => open.dev() == named.dev() && open.ino() == named.ino(),
        _ => false,
    }
}

/// Whether `path` still names the open `file`. Elsewhere than Unix, a file that is open cannot be
/// removed, so it does.
#[cfg(not(unix))]
fn is_at(_file: &std::fs::File, path: &Path) -> bool {
    path.exists()
}

fn sorted(items: &[String]) -> Vec<String> {
    let mut items = items.to_vec();
    items.sort();
    items.dedup();
    items
}

/// The IAM of a member account (created empty).
fn member_iam<'s>(
    state: &'s mut LiveState,
    account_id: &str,
) -> Result<&'s mut super::LiveIam, String> {
    if account_id == state.organization.management_account_id {
        return Err("orgctl keeps no IAM in the management account".to_owned());
    }
    if !state
        .accounts
        .iter()
        .any(|account| account.id == account_id)
    {
        return Err(format!("account {account_id} is not in the organization"));
    }
    let index = match state
        .iam
        .iter()
        .position(|iam| iam.account_id == account_id)
    {
        Some(index) => index,
        None => {
            state.iam.push(super::LiveIam {
                account_id: account_id.to_owned(),
                roles: Vec::new(),
                users: Vec::new(),
            });
            state.iam.len() - 1
        }
    };
    Ok(&mut state.iam[index])
}

impl OrgWriter for SnapshotWriter {
    async fn write(
        &self,
        write: &Write,
        password_file: Option<&super::password::PasswordFile>,
    ) -> Result<Option<String>, Error> {
        let mut state = self.lock();
        let state = state
            .as_mut()
            .ok_or_else(|| "the snapshot was not read before writing".to_owned());
        state
            .and_then(|state| Self::apply(state, write, password_file))
            .map_err(|reason| {
                Diagnostic::new(
                    Rule::LiveSnapshot,
                    format!(
                        "cannot change the snapshot `{}`: {reason}",
                        self.snapshot.path.display()
                    ),
                )
                .help("the snapshot no longer matches the plan; plan again")
                .into()
            })
    }

    async fn take_lease(&self, lease: &Lease) -> Result<LeaseAttempt, Error> {
        // A holder empties the file right after locking it and records itself right after
        // that: a record is believed once two looks a moment apart find it unchanged.
        let mut seen: Option<Holder> = None;
        let mut looks = 0;
        let (mut file, left) = loop {
            match self.lock_file(true)? {
                LockFile::Locked { file, left } => break (file, left),
                LockFile::Held(holder) => {
                    let settled = holder.lease.is_some() && seen.as_ref() == Some(&holder);
                    if settled || looks >= RECORD_LOOKS {
                        return Ok(LeaseAttempt::Held(Some(holder)));
                    }
                    seen = Some(holder);
                    looks += 1;
                    tokio::time::sleep(RECORD_PAUSE).await;
                }
                // Opened with `create`, it is never missing.
                LockFile::Missing => return Ok(LeaseAttempt::Held(None)),
            }
        };
        // A record left in a lock file nobody holds is that of an apply that ended without
        // releasing it (its process ended, and the operating system released its lock).
        let replaced = (!left.trim().is_empty())
            .then(|| Holder::read(Record::LockFile(self.lock_path()), &left));
        record(&mut file, &lease.encode()).map_err(|error| self.lock_error(&error))?;
        *self.lock_file_slot() = Some(file);
        Ok(LeaseAttempt::Taken { replaced })
    }

    async fn renew_lease(&self, _lease: &Lease) -> Result<bool, Error> {
        // The operating system's lock does not run out: it is held while the file is open.
        Ok(self.lock_file_slot().is_some())
    }

    async fn release_lease(&self, _lease: &Lease) -> Result<(), Error> {
        let Some(file) = self.lock_file_slot().take() else {
            return Ok(());
        };
        // Removed while still locked, then unlocked by closing: see `lock_file`.
        let removed = std::fs::remove_file(self.lock_path());
        drop(file);
        removed.map_err(|error| self.lock_error(&error).into())
    }

    async fn force_unlock(&self, _id: &str) -> Result<Unlock, Error> {
        match self.lock_file(false)? {
            LockFile::Missing => Ok(Unlock::Nothing),
            LockFile::Held(holder) => Ok(Unlock::Running(holder)),
            LockFile::Locked { file, left } => {
                // Nobody holds it: what it records is left by an apply that ended.
                std::fs::remove_file(self.lock_path()).map_err(|error| self.lock_error(&error))?;
                drop(file);
                Ok(Unlock::Removed(Holder::read(
                    Record::LockFile(self.lock_path()),
                    &left,
                )))
            }
        }
    }

    async fn finish(&self) -> Result<(), Error> {
        match self.lock().as_ref() {
            Some(state) => Ok(self.snapshot.save(state)?),
            None => Ok(()),
        }
    }
}

impl OrgReader for SnapshotWriter {
    /// Reads the file, and writes to what it read from then on.
    async fn read(&self) -> Result<LiveState, Error> {
        let state = self.snapshot.load()?;
        *self.lock() = Some(state.clone());
        Ok(state)
    }
}

fn parent(state: &LiveState, id: &str) -> Result<(), String> {
    let exists = state.root.id == id || state.organizational_units.iter().any(|ou| ou.id == id);
    if exists {
        Ok(())
    } else {
        Err(format!("the parent {id} does not exist"))
    }
}

fn target(state: &LiveState, id: &str) -> Result<(), String> {
    if parent(state, id).is_ok() || state.accounts.iter().any(|account| account.id == id) {
        Ok(())
    } else {
        Err(format!("the target {id} does not exist"))
    }
}

fn ou<'s>(state: &'s mut LiveState, id: &str) -> Result<&'s mut LiveOu, String> {
    state
        .organizational_units
        .iter_mut()
        .find(|ou| ou.id == id)
        .ok_or_else(|| format!("OU {id} does not exist"))
}

fn account<'s>(state: &'s mut LiveState, id: &str) -> Result<&'s mut LiveAccount, String> {
    state
        .accounts
        .iter_mut()
        .find(|account| account.id == id)
        .ok_or_else(|| format!("account {id} is not in the organization"))
}

fn policy<'s>(state: &'s mut LiveState, id: &str) -> Result<&'s mut LivePolicy, String> {
    state
        .policies
        .iter_mut()
        .find(|policy| policy.id == id)
        .ok_or_else(|| format!("policy {id} does not exist"))
}

fn tags_of<'s>(
    state: &'s mut LiveState,
    id: &str,
) -> Result<&'s mut std::collections::BTreeMap<String, String>, String> {
    if state.root.id == id {
        return Ok(&mut state.root.tags);
    }
    if let Some(ou) = state.organizational_units.iter_mut().find(|ou| ou.id == id) {
        return Ok(&mut ou.tags);
    }
    if let Some(account) = state.accounts.iter_mut().find(|account| account.id == id) {
        return Ok(&mut account.tags);
    }
    if let Some(policy) = state.policies.iter_mut().find(|policy| policy.id == id) {
        return Ok(&mut policy.tags);
    }
    Err(format!("{id} does not exist"))
}

/// A new id: `prefix` and `length` characters derived from `seed`, so a snapshot apply gives the
/// same ids every time (digits for accounts, lowercase letters and digits otherwise).
fn new_id(state: &LiveState, prefix: &str, length: usize, seed: &[&str]) -> String {
    use sha2::{Digest, Sha256};
    let taken = |id: &str| {
        state.organizational_units.iter().any(|ou| ou.id == id)
            || state
                .invitations
                .iter()
                .any(|invitation| invitation.id == id)
            || state.accounts.iter().any(|account| account.id == id)
            || state.policies.iter().any(|policy| policy.id == id)
    };
    let alphabet: &[u8] = if prefix.is_empty() {
        b"0123456789"
    } else {
        b"abcdefghijklmnopqrstuvwxyz0123456789"
    };
    (0u32..)
        .map(|attempt| {
            let mut hasher = Sha256::new();
            for part in seed {
                hasher.update(part.as_bytes());
                hasher.update([0]);
            }
            hasher.update(attempt.to_le_bytes());
            let digest = hasher.finalize();
            let body: String = digest
                .iter()
                .take(length)
                .map(|byte| char::from(alphabet[usize::from(*byte) % alphabet.len()]))
                .collect();
            format!("{prefix}{body}")
        })
        .find(|id| !(taken(id) || prefix.is_empty() && id.starts_with('0')))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer over `live.json` in `directory` (the file need not exist: the lease comes first).
    fn writer(directory: &tempfile::TempDir) -> SnapshotWriter {
        SnapshotWriter::new(Snapshot::new(directory.path().join("live.json")))
    }

    /// A snapshot written before AWS retired `Status` (2026-09-09): accounts have `status`.
    const STATUS_SNAPSHOT: &str = r#"{
  "format": "orgctl-live",
  "version": 1,
  "organization": { "id": "o-abcdefghij", "management_account_id": "111111111111", "management_account_email": "payer@example.net" },
  "root": { "id": "r-ab12" },
  "accounts": [
    { "id": "111111111111", "name": "payer", "email": "payer@example.net", "status": "active", "parent_id": "r-ab12" },
    { "id": "222222222222", "name": "closed", "email": "closed@example.net", "status": "suspended", "parent_id": "r-ab12" },
    { "id": "333333333333", "name": "closing", "email": "closing@example.net", "status": "pending_closure", "parent_id": "r-ab12" },
    { "id": "444444444444", "name": "no-status", "email": "no-status@example.net", "parent_id": "r-ab12" }
  ]
}"#;

    #[test]
    fn a_snapshot_with_the_retired_status_loads_and_is_written_with_state() {
        let state = parse("live.json", STATUS_SNAPSHOT.as_bytes()).unwrap();
        let states: Vec<AccountState> = state.accounts.iter().map(|a| a.state).collect();
        assert_eq!(
            states,
            [
                AccountState::Active,
                AccountState::Suspended,
                AccountState::PendingClosure,
                AccountState::Active
            ]
        );
        let written = to_json(&state);
        assert!(!written.contains("\"status\""), "{written}");
        assert!(
            written.contains("\"state\": \"pending_closure\""),
            "{written}"
        );
        assert_eq!(parse("live.json", written.as_bytes()).unwrap(), state);
    }

    #[test]
    fn every_account_state_round_trips_through_a_snapshot() {
        let mut state = parse("live.json", STATUS_SNAPSHOT.as_bytes()).unwrap();
        for (account, value) in state.accounts.iter_mut().zip([
            AccountState::PendingActivation,
            AccountState::Suspended,
            AccountState::Closed,
            AccountState::PendingClosure,
        ]) {
            account.state = value;
        }
        let written = to_json(&state);
        assert!(
            written.contains("\"state\": \"pending_activation\""),
            "{written}"
        );
        assert!(written.contains("\"state\": \"closed\""), "{written}");
        assert_eq!(parse("live.json", written.as_bytes()).unwrap(), state);
    }

    fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
            .block_on(future)
    }

    fn take(writer: &SnapshotWriter) -> (Lease, LeaseAttempt) {
        let lease = Lease::new(chrono::Duration::minutes(60));
        let attempt = block_on(writer.take_lease(&lease)).unwrap();
        (lease, attempt)
    }

    #[test]
    fn a_second_writer_finds_the_lease_held_and_by_whom() {
        let directory = tempfile::tempdir().unwrap();
        let first = writer(&directory);
        let (lease, taken) = take(&first);
        assert_eq!(taken, LeaseAttempt::Taken { replaced: None });
        let (_, attempt) = take(&writer(&directory));
        let LeaseAttempt::Held(Some(holder)) = attempt else {
            panic!("held: {attempt:?}");
        };
        assert_eq!(holder.lease, Some(lease));
    }

    #[test]
    fn a_released_lease_is_taken_by_the_next_writer_and_leaves_no_file() {
        let directory = tempfile::tempdir().unwrap();
        let first = writer(&directory);
        let (lease, _) = take(&first);
        block_on(first.release_lease(&lease)).unwrap();
        assert!(!first.lock_path().exists());
        let (_, attempt) = take(&writer(&directory));
        assert_eq!(attempt, LeaseAttempt::Taken { replaced: None });
    }

    #[test]
    fn a_lock_file_nobody_holds_is_taken_over_and_reported() {
        let directory = tempfile::tempdir().unwrap();
        let writer = writer(&directory);
        let left = "0123456789abcdef alice@build-7:4242 until 2999-01-01T00:00:00Z";
        std::fs::write(writer.lock_path(), left).unwrap();
        let (lease, attempt) = take(&writer);
        let LeaseAttempt::Taken {
            replaced: Some(replaced),
        } = attempt
        else {
            panic!("taken over: {attempt:?}");
        };
        assert_eq!(replaced.text, left);
        assert_eq!(
            std::fs::read_to_string(writer.lock_path()).unwrap(),
            lease.encode()
        );
    }

    #[test]
    fn force_unlock_leaves_a_lock_a_running_process_holds() {
        let directory = tempfile::tempdir().unwrap();
        let holder = writer(&directory);
        let (lease, _) = take(&holder);
        let unlock = block_on(writer(&directory).force_unlock(&lease.id)).unwrap();
        assert!(matches!(unlock, Unlock::Running(_)), "{unlock:?}");
        assert!(holder.lock_path().exists());
    }

    #[test]
    fn force_unlock_removes_a_lock_file_nobody_holds() {
        let directory = tempfile::tempdir().unwrap();
        let writer = writer(&directory);
        std::fs::write(writer.lock_path(), "").unwrap();
        let unlock = block_on(writer.force_unlock("anything")).unwrap();
        assert!(matches!(unlock, Unlock::Removed(_)), "{unlock:?}");
        assert!(!writer.lock_path().exists());
    }

    #[test]
    fn a_policy_type_this_orgctl_does_not_know_is_refused_by_name() {
        let text = r#"{"format": "orgctl-live", "version": 1,
            "organization": {"id": "o-a", "management_account_id": "111111111111",
                "management_account_email": "root@example.com"},
            "root": {"id": "r-a", "enabled_policy_types": ["securityhub"]}}"#;
        let error = parse("live.json", text.as_bytes()).expect_err("an unknown type");
        assert_eq!(error.rule, Rule::LiveSnapshot);
        assert!(
            error
                .message
                .starts_with("`live.json` is not an orgctl snapshot: unknown variant `securityhub`, expected one of `service_control`"),
            "{}",
            error.message
        );
    }
}
