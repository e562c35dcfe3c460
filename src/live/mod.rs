//! The live organization: what exists in AWS (or in a snapshot file standing in for it), in
//! orgctl's own types.
//!
//! [`OrgReader`] reads a [`LiveState`] and [`OrgWriter`] carries out [`Write`]s; the backends are
//! [`snapshot`] (a JSON file: the embedded default, offline pull-request plans, and `orgctl
//! export`'s format) and `aws`. Commands open one with [`Backend::open`] from [`Options`] and use
//! only the [`Backend`] value. Writes speak in ids: turning a plan's addresses into ids is the
//! executor's work (`apply`). Backends report an [`Error`], a value to decide on; it becomes a
//! [`crate::diagnostic::Diagnostic`] where it reaches the user.

mod backend;
mod error;
pub mod lease;
pub mod password;

pub mod aws;
pub mod snapshot;

pub use backend::{Backend, Options};
pub use error::Error;
pub use lease::{Holder, Lease, LeaseAttempt, Record, Unlock};

use std::collections::{BTreeMap, HashMap, HashSet};
use std::future::Future;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::{ContactType, PolicyType};
use crate::model::Contact;

/// Reads the live organization.
pub trait OrgReader {
    /// Everything orgctl manages: organization, root, OUs, accounts, policies, tags, targets.
    fn read(&self) -> impl Future<Output = Result<LiveState, Error>>;

    /// The IAM orgctl created inside `accounts` (member account ids), reached through
    /// `access_role`; `None` when [`OrgReader::read`] holds it already (a snapshot).
    fn read_iam(
        &self,
        accounts: &[String],
        access_role: &str,
    ) -> impl Future<Output = Result<Option<Vec<LiveIam>>, Error>> {
        let _ = (accounts, access_role);
        async { Ok(None) }
    }

    /// The alternate contacts `wanted` names (account id and type; one request each), those
    /// that are set; `None` when [`OrgReader::read`] holds them already (a snapshot).
    fn read_contacts(
        &self,
        wanted: &[(String, ContactType)],
    ) -> impl Future<Output = Result<Option<Vec<LiveContact>>, Error>> {
        let _ = wanted;
        async { Ok(None) }
    }

    /// The organization's invitations of accounts to join it (its management account is
    /// `management`, which a handshake may list as a party too); `None` when [`OrgReader::read`]
    /// holds them already (a snapshot).
    fn read_invitations(
        &self,
        management: &str,
    ) -> impl Future<Output = Result<Option<Vec<LiveInvitation>>, Error>> {
        let _ = management;
        async { Ok(None) }
    }
}

/// What a read reaches beyond the organization itself, chosen from what it read there.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    /// Member accounts whose IAM (what orgctl created) to read.
    pub iam: Vec<String>,
    /// Alternate contacts to read, by account id and type.
    pub contacts: Vec<(String, ContactType)>,
    /// Whether to read the invitations: the file invites an account that is not a member.
    pub invitations: bool,
}

/// Reads the organization, then what `select` picks from it: the IAM orgctl created in member
/// accounts (reached through `access_role`), alternate contacts and invitations.
pub async fn read_in_scope<R: OrgReader>(
    reader: &R,
    access_role: &str,
    select: impl FnOnce(&LiveState) -> Scope,
) -> Result<LiveState, Error> {
    let mut state = reader.read().await?;
    let scope = select(&state);
    if !scope.iam.is_empty()
        && let Some(iam) = reader.read_iam(&scope.iam, access_role).await?
    {
        state.iam = iam;
        state.normalise();
    }
    if !scope.contacts.is_empty()
        && let Some(contacts) = reader.read_contacts(&scope.contacts).await?
    {
        state.contacts = contacts;
        state.normalise();
    }
    if scope.invitations
        && let Some(invitations) = reader
            .read_invitations(&state.organization.management_account_id)
            .await?
    {
        state.invitations = invitations;
        state.normalise();
    }
    Ok(state)
}

/// Changes the live organization.
pub trait OrgWriter {
    /// Carries out one write; returns the id of the resource it created, if it created one. A
    /// new console password of [`Write::PutUser`] goes to `password_file`, and nowhere else.
    ///
    /// Every write converges: repeating one that already took effect (after a lost response, or
    /// a crash) succeeds without doing it twice.
    fn write(
        &self,
        write: &Write,
        password_file: Option<&password::PasswordFile>,
    ) -> impl Future<Output = Result<Option<String>, Error>>;

    /// Takes the organization's lease for `lease` if nobody holds it, or if its holder has
    /// ended without releasing it (its lock went with its process, or its lease ran out); says
    /// who holds it otherwise. Of two applies that try at once, exactly one takes it.
    fn take_lease(&self, lease: &Lease) -> impl Future<Output = Result<LeaseAttempt, Error>>;

    /// Records `lease` (the held one, running out later) as long as it is still this apply's;
    /// `Ok(false)` when it is not (removed by `orgctl force-unlock`, or taken over after it ran
    /// out), and every later write then fails rather than interleave with another apply.
    fn renew_lease(&self, lease: &Lease) -> impl Future<Output = Result<bool, Error>>;

    /// Gives the lease back, if this apply still holds it.
    fn release_lease(&self, lease: &Lease) -> impl Future<Output = Result<(), Error>>;

    /// Removes the lease that `id` names (a lease id, or the id of a record that is not a
    /// lease), whoever holds it; never one a running process is known to hold.
    fn force_unlock(&self, id: &str) -> impl Future<Output = Result<Unlock, Error>>;

    /// Makes the writes so far durable (the snapshot backend saves its file; AWS already has
    /// them).
    fn finish(&self) -> impl Future<Output = Result<(), Error>> {
        async { Ok(()) }
    }

    /// Requests sent to AWS so far, retries included, for backends that send any.
    fn requests(&self) -> Option<usize> {
        None
    }
}

/// One write to the organization: an action with every resource named by id. What a write
/// needs that a plan does not hold comes from the writer (the root's id) or from the executor
/// (the password file).
pub type Write = crate::action::Action<crate::action::ById>;

/// The whole live organization. Every list is sorted by id, so equal states serialise equally.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LiveState {
    /// The organization.
    pub organization: LiveOrganization,
    /// The root.
    pub root: LiveRoot,
    /// Every OU.
    #[serde(default)]
    pub organizational_units: Vec<LiveOu>,
    /// Every account, the management account included.
    #[serde(default)]
    pub accounts: Vec<LiveAccount>,
    /// Every policy of the enabled types, AWS-managed ones included.
    #[serde(default)]
    pub policies: Vec<LivePolicy>,
    /// The service principals with trusted access to the organization, sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trusted_access: Vec<String>,
    /// The delegated administrators of AWS services, sorted by service, then account.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub delegated_administrators: Vec<LiveDelegation>,
    /// Invitations to join the organization that AWS still lists (it keeps a handshake for 30
    /// days after it ends), sorted by id.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub invitations: Vec<LiveInvitation>,
    /// Alternate contacts that are set, for the accounts and types read (a snapshot holds every
    /// one; AWS is asked only for those the configuration manages), sorted by account and type.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contacts: Vec<LiveContact>,
    /// Account creations AWS has started and not finished (`CreateAccount` is asynchronous), sorted
    /// by request id. Their accounts are not in `accounts` yet.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub account_creations: Vec<LiveAccountCreation>,
    /// The account-closure quota, when the backend can read it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_closures: Option<ClosureQuota>,
    /// IAM that orgctl created inside member accounts, for the accounts whose IAM was read: one
    /// entry per account, empty when orgctl manages nothing there. An account without an entry
    /// holds no IAM of orgctl's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub iam: Vec<LiveIam>,
}

/// An alternate contact that is set on an account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LiveContact {
    /// The account's id.
    pub account_id: String,
    /// The contact's type.
    #[serde(rename = "type")]
    pub contact_type: ContactType,
    /// The contact.
    pub contact: Contact,
}

/// The IAM path of every role and user orgctl creates: it lists them without touching the rest.
pub const IAM_PATH: &str = "/orgctl/";
/// The tag on roles and users orgctl created.
pub const MANAGED_TAG: &str = "orgctl:managed";
/// The tag naming the partner a role was created for.
pub const PARTNER_TAG: &str = "orgctl:partner";
/// The tag on accounts (in Organizations) that hold IAM orgctl created.
pub const ACCOUNT_IAM_TAG: &str = "orgctl:iam";
/// The tag on a new account whose hand-over user is not made yet: set at creation, removed once
/// the user exists, so that a hand-over that failed is planned again.
pub const HANDOVER_TAG: &str = "orgctl:handover";

/// An invitation of an account to join the organization: an AWS handshake of type `INVITE`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LiveInvitation {
    /// The handshake id (`h-…`).
    pub id: String,
    /// The invited account's id.
    pub account_id: String,
    /// Where it stands.
    pub state: InvitationState,
    /// When AWS expires it if nobody answers (15 days after it was sent), RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    /// The note sent with it; orgctl's start with [`INVITATION_NOTE`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

/// How the notes of the invitations orgctl sends begin: an open invitation with them is
/// orgctl's to cancel once its account leaves the file.
pub const INVITATION_NOTE: &str = "orgctl:";

/// Where an invitation stands: AWS's `HandshakeState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum InvitationState {
    /// Sent, being prepared for the invited account.
    Requested,
    /// Waiting for the invited account to accept or decline.
    Open,
    /// Accepted: the account joined.
    Accepted,
    /// Declined by the invited account.
    Declined,
    /// Canceled by the organization.
    Canceled,
    /// Not answered within 15 days.
    Expired,
}

impl InvitationState {
    /// Whether the invited account can still answer it.
    pub fn is_open(self) -> bool {
        matches!(self, Self::Requested | Self::Open)
    }

    /// As AWS writes it (`OPEN`).
    pub fn aws_name(self) -> &'static str {
        match self {
            Self::Requested => "REQUESTED",
            Self::Open => "OPEN",
            Self::Accepted => "ACCEPTED",
            Self::Declined => "DECLINED",
            Self::Canceled => "CANCELED",
            Self::Expired => "EXPIRED",
        }
    }
}

/// A member account registered as delegated administrator of an AWS service.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LiveDelegation {
    /// The service principal (`guardduty.amazonaws.com`).
    pub service: String,
    /// The account id.
    pub account_id: String,
}

/// IAM orgctl created in one member account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LiveIam {
    /// The member account.
    pub account_id: String,
    /// Roles under orgctl's path, sorted by name.
    #[serde(default)]
    pub roles: Vec<LiveRole>,
    /// Users under orgctl's path, sorted by name.
    #[serde(default)]
    pub users: Vec<LiveUser>,
}

/// An IAM role orgctl created (for a partner).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LiveRole {
    /// The role name.
    pub name: String,
    /// Its trust policy, as AWS returns it (decoded).
    pub trust_policy: String,
    /// Attached managed policy ARNs, sorted.
    #[serde(default)]
    pub managed_policies: Vec<String>,
    /// Its tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

/// An account creation in progress: AWS's `CreateAccountStatus` in state `IN_PROGRESS`. AWS tells
/// the request's account name, not its email, so that is what a declared account is known by.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LiveAccountCreation {
    /// The request id (`car-…`).
    pub request_id: String,
    /// The name the new account is given.
    pub name: String,
}

/// An IAM user orgctl created (the end customer's).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LiveUser {
    /// The user name.
    pub name: String,
    /// Attached managed policy ARNs, sorted.
    #[serde(default)]
    pub managed_policies: Vec<String>,
    /// Names of its inline policies, sorted.
    #[serde(default)]
    pub inline_policies: Vec<String>,
    /// Whether it has a console password (a login profile).
    #[serde(default)]
    pub console: bool,
    /// Its tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

/// The organization itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LiveOrganization {
    /// `o-…`.
    pub id: String,
    /// The management account's id.
    pub management_account_id: String,
    /// The management account's root email.
    pub management_account_email: String,
}

/// The organization root.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LiveRoot {
    /// `r-…`.
    pub id: String,
    /// Policy types enabled on the root.
    #[serde(default)]
    pub enabled_policy_types: Vec<PolicyType>,
    /// Tags on the root.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

/// An OU.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LiveOu {
    /// `ou-…`.
    pub id: String,
    /// Its name.
    pub name: String,
    /// The id of the root or OU it sits in.
    pub parent_id: String,
    /// Its tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

/// An account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(transform = accept_status_alias)]
pub struct LiveAccount {
    /// The 12-digit id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its root email.
    pub email: String,
    /// Where it is in its life cycle, as AWS's `State` says. Snapshots written before AWS
    /// retired `Status` (2026-09-09) name this `status`; their values load as the same states.
    #[serde(default, alias = "status")]
    pub state: AccountState,
    /// The id of the root or OU it sits in.
    pub parent_id: String,
    /// Its tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

/// Lets editors accept `status`, which serde reads as an alias of `state` (snapshots written
/// before AWS retired `Status`): the same values, marked deprecated.
fn accept_status_alias(schema: &mut schemars::Schema) {
    let Some(serde_json::Value::Object(properties)) = schema.get_mut("properties") else {
        return;
    };
    let Some(state) = properties.get("state").cloned() else {
        return;
    };
    let mut status = match state {
        serde_json::Value::Object(state) => state,
        _ => serde_json::Map::new(),
    };
    status.insert("deprecated".to_owned(), serde_json::Value::Bool(true));
    status.insert(
        "description".to_owned(),
        serde_json::Value::String(
            "The former name of `state`, in snapshots written before AWS retired `Status` (2026-09-09).".to_owned(),
        ),
    );
    properties.insert("status".to_owned(), serde_json::Value::Object(status));
}

/// An account's state in the organization: AWS's `AccountState` (Organizations API reference,
/// `Account` data type; "Monitor the state of your AWS accounts" in the user guide).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccountState {
    /// Sign-up started and not completed: unusable until its holder finishes it (phone, payment).
    PendingActivation,
    /// In use.
    #[default]
    Active,
    /// AWS restricted access to it. Also what the retired `Status` field (and moto 5.2.5) say of a
    /// closed account, so a state read from `Status` alone may be a closed account.
    Suspended,
    /// Closing: a close request in progress.
    PendingClosure,
    /// Closed: in AWS's 90-day reinstatement window, after which AWS removes it.
    Closed,
}

impl AccountState {
    /// As AWS writes it (`PENDING_CLOSURE`), for plans and findings.
    pub fn aws_name(self) -> &'static str {
        match self {
            Self::PendingActivation => "PENDING_ACTIVATION",
            Self::Active => "ACTIVE",
            Self::Suspended => "SUSPENDED",
            Self::PendingClosure => "PENDING_CLOSURE",
            Self::Closed => "CLOSED",
        }
    }

    /// In use: the only state orgctl moves, renames, tags or reaches into.
    pub fn is_active(self) -> bool {
        self == Self::Active
    }

    /// Closing or closed: never created again, moved, renamed, tagged or closed again.
    pub fn is_closing_or_closed(self) -> bool {
        matches!(self, Self::PendingClosure | Self::Closed)
    }
}

/// A policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LivePolicy {
    /// `p-…`.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its type.
    #[serde(rename = "type")]
    pub policy_type: PolicyType,
    /// Its description.
    #[serde(default)]
    pub description: String,
    /// Whether AWS manages it (such as `FullAWSAccess`): never updated or deleted by orgctl.
    #[serde(default)]
    pub aws_managed: bool,
    /// The document, as AWS returns it.
    pub document: String,
    /// Its tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// The ids of the root, OUs and accounts it is attached to, sorted.
    #[serde(default)]
    pub targets: Vec<String>,
}

/// How many accounts may still be closed: AWS allows a share of the member accounts per rolling
/// 30 days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClosureQuota {
    /// Closures allowed per rolling 30 days.
    pub per_30_days: u32,
    /// Closures made in the last 30 days.
    pub used: u32,
}

impl LiveState {
    /// Sorts every list by id (the canonical order for snapshots and fingerprints).
    pub fn normalise(&mut self) {
        self.root.enabled_policy_types.sort();
        self.root.enabled_policy_types.dedup();
        self.trusted_access.sort();
        self.trusted_access.dedup();
        self.delegated_administrators.sort();
        self.delegated_administrators.dedup();
        self.invitations.sort_by(|a, b| a.id.cmp(&b.id));
        self.account_creations.sort();
        self.account_creations.dedup();
        self.organizational_units.sort_by(|a, b| a.id.cmp(&b.id));
        self.accounts.sort_by(|a, b| a.id.cmp(&b.id));
        self.policies.sort_by(|a, b| a.id.cmp(&b.id));
        for policy in &mut self.policies {
            policy.targets.sort();
            policy.targets.dedup();
        }
        self.contacts
            .sort_by(|a, b| (&a.account_id, a.contact_type).cmp(&(&b.account_id, b.contact_type)));
        self.contacts
            .dedup_by(|a, b| a.account_id == b.account_id && a.contact_type == b.contact_type);
        self.iam.sort_by(|a, b| a.account_id.cmp(&b.account_id));
        for iam in &mut self.iam {
            iam.roles.sort_by(|a, b| a.name.cmp(&b.name));
            iam.users.sort_by(|a, b| a.name.cmp(&b.name));
            for role in &mut iam.roles {
                role.managed_policies.sort();
            }
            for user in &mut iam.users {
                user.managed_policies.sort();
                user.inline_policies.sort();
            }
        }
    }

    /// What makes the state impossible as an organization: ids used twice (an OU sharing the
    /// root's, an account listed twice), parents that are missing, the resource itself, or a
    /// cycle. A state with any of these is never planned: a plan over it could act on the wrong
    /// resource. Empty when the state holds together.
    pub fn integrity_problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let mut kind_of_id: HashMap<&str, &str> = HashMap::new();
        kind_of_id.insert(self.root.id.as_str(), "the root");
        let ids = (self
            .organizational_units
            .iter()
            .map(|ou| (ou.id.as_str(), "an OU")))
        .chain(self.accounts.iter().map(|a| (a.id.as_str(), "an account")));
        for (id, kind) in ids {
            match kind_of_id.get(id) {
                Some(first) if *first == kind => {
                    problems.push(format!("the id `{id}` is listed twice as {kind}"));
                }
                Some(first) => problems.push(format!("the id `{id}` is both {first} and {kind}")),
                None => {
                    kind_of_id.insert(id, kind);
                }
            }
        }
        let mut policy_ids = HashSet::new();
        for policy in &self.policies {
            if !policy_ids.insert(policy.id.as_str()) {
                problems.push(format!("the policy id `{}` is listed twice", policy.id));
            }
        }
        let parent_of: HashMap<&str, &str> = self
            .organizational_units
            .iter()
            .map(|ou| (ou.id.as_str(), ou.parent_id.as_str()))
            .collect();
        let is_container = |id: &str| id == self.root.id || parent_of.contains_key(id);
        for ou in &self.organizational_units {
            if ou.parent_id == ou.id {
                problems.push(format!("the OU `{}` is its own parent", ou.id));
            } else if !is_container(&ou.parent_id) {
                problems.push(format!(
                    "the OU `{}` sits in `{}`, which is neither the root nor an OU",
                    ou.id, ou.parent_id
                ));
            } else {
                // Walk up: a path longer than the number of OUs has gone round a cycle.
                let mut current = ou.parent_id.as_str();
                let mut steps = 0;
                while let Some(parent) = parent_of.get(current) {
                    steps += 1;
                    if current == ou.id || steps > parent_of.len() {
                        problems.push(format!(
                            "the OU `{}` is inside itself (a cycle of parents)",
                            ou.id
                        ));
                        break;
                    }
                    current = parent;
                }
            }
        }
        for contact in &self.contacts {
            if kind_of_id.get(contact.account_id.as_str()) != Some(&"an account") {
                problems.push(format!(
                    "a contact belongs to `{}`, which is not an account",
                    contact.account_id
                ));
            }
        }
        for account in &self.accounts {
            if !is_container(&account.parent_id) {
                problems.push(format!(
                    "the account `{}` sits in `{}`, which is neither the root nor an OU",
                    account.id, account.parent_id
                ));
            }
        }
        for delegation in &self.delegated_administrators {
            if kind_of_id.get(delegation.account_id.as_str()) != Some(&"an account") {
                problems.push(format!(
                    "`{}` is delegated to `{}`, which is not an account of the organization",
                    delegation.service, delegation.account_id
                ));
            }
        }
        problems
    }

    /// The live contact of `contact_type` of the account `account_id`, if one is set.
    pub fn contact(&self, account_id: &str, contact_type: ContactType) -> Option<&Contact> {
        self.contacts
            .iter()
            .find(|live| live.account_id == account_id && live.contact_type == contact_type)
            .map(|live| &live.contact)
    }

    /// A short digest of the whole state.
    pub fn fingerprint(&self) -> String {
        fingerprint(self)
    }
}

/// A short, stable digest of a value's JSON form (16 hex digits of SHA-256), streamed into the
/// hash without building the JSON text.
pub fn fingerprint<T: Serialize>(value: &T) -> String {
    struct HashWriter(Sha256);
    impl std::io::Write for HashWriter {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.update(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut writer = HashWriter(Sha256::new());
    // Serialising orgctl's own plain data types into a hash cannot fail.
    let _ = serde_json::to_writer(&mut writer, value);
    let digest = writer.0.finalize();
    digest
        .iter()
        .take(8)
        .map(|byte| format!("{byte:02x}"))
        .collect()
}
