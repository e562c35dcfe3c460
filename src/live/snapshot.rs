//! The snapshot backend: a JSON file holding a live organization.
//!
//! It lets a new user plan with no AWS account, lets a pull-request job plan without
//! credentials, and is the format `orgctl export` writes. The file is versioned: `format` names
//! it and `version` is bumped on any incompatible change.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{
    AccountStatus, Lease, LiveAccount, LiveOu, LivePolicy, LiveState, OrgReader, OrgWriter, Write,
};
use crate::config::PolicyType;
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
    async fn read(&self) -> Result<LiveState, Diagnostic> {
        self.load()
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
        account_closures: snapshot.account_closures,
        iam: snapshot.iam,
    };
    state.normalise();
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
/// atomically by [`OrgWriter::finish`]. It behaves as AWS does where plans rely on it: enabling SCPs (or
/// RCPs) attaches AWS's full-access policy to the root and everything under it, new OUs and
/// accounts get it too, and repeating a write changes nothing.
#[derive(Debug)]
pub struct SnapshotWriter {
    snapshot: Snapshot,
    state: std::sync::Mutex<Option<LiveState>>,
}

/// AWS's own full-access policies, attached wherever their type is enabled.
const FULL_ACCESS: &[(PolicyType, &str, &str, &str)] = &[
    (
        PolicyType::ServiceControl,
        "p-FullAWSAccess",
        "FullAWSAccess",
        "Allows access to every operation",
    ),
    (
        PolicyType::ResourceControl,
        "p-RCPFullAWSAccess",
        "RCPFullAWSAccess",
        "Allows access to every resource",
    ),
];

impl SnapshotWriter {
    /// A writer over `snapshot`; writes need a [`OrgReader::read`] first.
    pub fn new(snapshot: Snapshot) -> Self {
        Self {
            snapshot,
            state: std::sync::Mutex::new(None),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<LiveState>> {
        // A panic while holding the lock leaves plain data behind; it is still consistent enough
        // to save what was done.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn lock_path(&self) -> PathBuf {
        let mut name = self.snapshot.path.as_os_str().to_owned();
        name.push(".lock");
        PathBuf::from(name)
    }

    fn read_lock(&self) -> Result<Option<Lease>, Diagnostic> {
        match std::fs::read_to_string(self.lock_path()) {
            Ok(text) => Ok(Some(Lease::read(&text))),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(self.lock_error(&error)),
        }
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

    fn apply(state: &mut LiveState, write: &Write) -> Result<Option<String>, String> {
        let root_id = state.root.id.clone();
        match write {
            Write::EnablePolicyType { policy_type, .. } => {
                if !state.root.enabled_policy_types.contains(policy_type) {
                    state.root.enabled_policy_types.push(*policy_type);
                    state.root.enabled_policy_types.sort();
                    let everything: Vec<String> = std::iter::once(root_id)
                        .chain(state.organizational_units.iter().map(|ou| ou.id.clone()))
                        .chain(state.accounts.iter().map(|account| account.id.clone()))
                        .collect();
                    if let Some(policy) = full_access(state, *policy_type) {
                        policy.targets.extend(everything);
                        policy.targets.sort();
                        policy.targets.dedup();
                    }
                }
                Ok(None)
            }
            Write::CreateOu {
                parent_id,
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
                attach_full_access(state, &id);
                Ok(Some(id))
            }
            Write::RenameOu { id, name } => {
                ou(state, id)?.name.clone_from(name);
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
                detach_everywhere(state, id);
                Ok(None)
            }
            Write::CreateAccount {
                name,
                email,
                parent_id,
                tags,
                ..
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
                    status: AccountStatus::Active,
                    parent_id: parent_id.clone(),
                    tags: tags.clone(),
                });
                attach_full_access(state, &id);
                Ok(Some(id))
            }
            Write::MoveAccount { id, to_id, .. } => {
                parent(state, to_id)?;
                account(state, id)?.parent_id.clone_from(to_id);
                Ok(None)
            }
            Write::RenameAccount { id, name } => {
                account(state, id)?.name.clone_from(name);
                Ok(None)
            }
            Write::CloseAccount { id } => {
                // AWS keeps a closed account in the organization, suspended, for 90 days.
                account(state, id)?.status = AccountStatus::Suspended;
                Ok(None)
            }
            Write::RemoveAccount { id } => {
                state.accounts.retain(|account| &account.id != id);
                detach_everywhere(state, id);
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
                    policy.description.clone_from(description);
                }
                if let Some(document) = document {
                    policy.document.clone_from(document);
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
                policy_id,
                target_id,
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
                policy_id,
                target_id,
            } => {
                policy(state, policy_id)?.targets.retain(|t| t != target_id);
                Ok(None)
            }
            Write::Tag { id, set, unset } => {
                let tags = tags_of(state, id)?;
                for key in unset {
                    tags.remove(key);
                }
                tags.extend(set.iter().map(|(k, v)| (k.clone(), v.clone())));
                Ok(None)
            }
            Write::PutRole {
                account_id,
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
                account_id,
                name,
                managed_policies,
                console,
                password_file,
                handover,
                ..
            } => {
                let iam = member_iam(state, account_id)?;
                let had_console = iam
                    .users
                    .iter()
                    .any(|user| user.name == *name && user.console);
                if *console && !had_console {
                    let file = password_file
                        .as_ref()
                        .ok_or("a console user needs --password-file for its one-time password")?;
                    // The snapshot stands in for IAM: the password goes where AWS's would.
                    file.record(account_id, name)
                        .map_err(|error| error.message)?;
                }
                iam.users.retain(|user| user.name != *name);
                iam.users.push(super::LiveUser {
                    name: name.clone(),
                    managed_policies: sorted(managed_policies),
                    inline_policies: vec![
                        crate::model::preset::name(crate::config::Preset::RequireMfa).to_owned(),
                    ],
                    console: *console || had_console,
                    tags: BTreeMap::from([(super::MANAGED_TAG.to_owned(), "true".to_owned())]),
                });
                if *handover {
                    let account = state.accounts.iter_mut().find(|a| a.id == *account_id);
                    if let Some(account) = account {
                        account.tags.remove(super::HANDOVER_TAG);
                    }
                }
                Ok(None)
            }
        }
    }
}

fn sorted(items: &[String]) -> Vec<String> {
    let mut items = items.to_vec();
    items.sort();
    items.dedup();
    items
}

/// The IAM of a member account (created empty), after tagging the account as holding orgctl's IAM.
fn member_iam<'s>(
    state: &'s mut LiveState,
    account_id: &str,
) -> Result<&'s mut super::LiveIam, String> {
    if account_id == state.organization.management_account_id {
        return Err("orgctl keeps no IAM in the management account".to_owned());
    }
    let account = state
        .accounts
        .iter_mut()
        .find(|account| account.id == account_id)
        .ok_or_else(|| format!("account {account_id} is not in the organization"))?;
    account
        .tags
        .insert(super::ACCOUNT_IAM_TAG.to_owned(), "managed".to_owned());
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
    async fn write(&self, write: &Write) -> Result<Option<String>, Diagnostic> {
        let mut state = self.lock();
        let state = state
            .as_mut()
            .ok_or_else(|| "the snapshot was not read before writing".to_owned());
        state
            .and_then(|state| Self::apply(state, write))
            .map_err(|reason| {
                Diagnostic::new(
                    Rule::LiveSnapshot,
                    format!(
                        "cannot change the snapshot `{}`: {reason}",
                        self.snapshot.path.display()
                    ),
                )
                .help("the snapshot no longer matches the plan; plan again")
            })
    }

    async fn lease(&self) -> Result<Option<Lease>, Diagnostic> {
        self.read_lock()
    }

    async fn take_lease(&self, lease: &Lease, current: Option<&Lease>) -> Result<bool, Diagnostic> {
        let text = lease.encode();
        match current {
            None => {
                let created = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(self.lock_path());
                match created {
                    Ok(mut file) => {
                        if let Err(error) = file
                            .write_all(text.as_bytes())
                            .and_then(|()| file.sync_all())
                        {
                            // An empty lock file would hold the snapshot until force-unlocked.
                            let _ = std::fs::remove_file(self.lock_path());
                            return Err(self.lock_error(&error));
                        }
                        Ok(true)
                    }
                    Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
                    Err(error) => Err(self.lock_error(&error)),
                }
            }
            Some(current) => {
                if self.read_lock()?.as_ref() != Some(current) {
                    return Ok(false);
                }
                write_atomically(&self.lock_path(), text.as_bytes())
                    .map_err(|error| self.lock_error(&error))?;
                Ok(true)
            }
        }
    }

    async fn release_lease(&self, lease: &Lease) -> Result<(), Diagnostic> {
        if self.read_lock()?.is_some_and(|held| held.id == lease.id) {
            std::fs::remove_file(self.lock_path()).map_err(|error| self.lock_error(&error))?;
        }
        Ok(())
    }

    async fn finish(&self) -> Result<(), Diagnostic> {
        match self.lock().as_ref() {
            Some(state) => self.snapshot.save(state),
            None => Ok(()),
        }
    }
}

impl OrgReader for SnapshotWriter {
    /// Reads the file, and writes to what it read from then on.
    async fn read(&self) -> Result<LiveState, Diagnostic> {
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

/// AWS's full-access policy of a type, created as AWS does when the type is first enabled.
fn full_access(state: &mut LiveState, policy_type: PolicyType) -> Option<&mut LivePolicy> {
    let &(_, id, name, description) = FULL_ACCESS.iter().find(|(t, ..)| *t == policy_type)?;
    if !state.policies.iter().any(|p| p.id == id) {
        state.policies.push(LivePolicy {
            id: id.to_owned(),
            name: name.to_owned(),
            policy_type,
            description: description.to_owned(),
            aws_managed: true,
            document: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#.to_owned(),
            tags: std::collections::BTreeMap::new(),
            targets: Vec::new(),
        });
    }
    state.policies.iter_mut().find(|p| p.id == id)
}

/// Attaches the full-access policies of the enabled types to a new OU or account.
fn attach_full_access(state: &mut LiveState, id: &str) {
    for &(policy_type, ..) in FULL_ACCESS {
        if state.root.enabled_policy_types.contains(&policy_type)
            && let Some(policy) = full_access(state, policy_type)
        {
            policy.targets.push(id.to_owned());
            policy.targets.sort();
        }
    }
}

fn detach_everywhere(state: &mut LiveState, id: &str) {
    for policy in &mut state.policies {
        policy.targets.retain(|target| target != id);
    }
}

/// A new id: `prefix` and `length` characters derived from `seed`, so a snapshot apply gives the
/// same ids every time (digits for accounts, lowercase letters and digits otherwise).
fn new_id(state: &LiveState, prefix: &str, length: usize, seed: &[&str]) -> String {
    use sha2::{Digest, Sha256};
    let taken = |id: &str| {
        state.organizational_units.iter().any(|ou| ou.id == id)
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
