//! Plans: the difference between the desired and the live organization, as ordered changes.
//!
//! [`plan`] is a pure function of ([`Desired`], [`LiveState`]). The [`Plan`] it returns is a value:
//! rendered as text, JSON or Markdown, saved with `--out`, and executed by apply without being
//! re-decided. It carries the fingerprint of the live state it was computed from, and of each live
//! resource it touches, so a stale saved plan can be refused.

mod diff;
mod iam;
mod order;

pub use iam::{marked_accounts, scope as iam_scope, trust_policy};

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::address::Address;
use crate::config::{BusinessModel, PolicyType};
use crate::diagnostic::Diagnostic;
use crate::live::LiveState;
use crate::model::Desired;
use crate::rules::{Rule, Severity};

/// The value of a saved plan's `format` field.
pub const FORMAT: &str = "orgctl-plan";
/// The plan version this build reads and writes. Version 2 names dependencies by address and
/// records the backend; saved plans of version 1 are refused (plan again).
pub const VERSION: u32 = 2;

/// What the plan needs besides the two states.
#[derive(Debug, Clone, Default)]
pub struct PlanInput {
    /// Digest of the configuration file and the policy files it names.
    pub config_digest: String,
    /// The configuration file, as given on the command line.
    pub config_file: String,
    /// Where the live organization is read from.
    pub backend: BackendKind,
}

/// Where the live organization a plan was computed from came from. Apply refuses a saved plan on
/// another kind of backend: a plan of a snapshot never reaches AWS, nor the reverse.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
#[schemars(rename = "Backend")]
pub enum BackendKind {
    /// AWS Organizations, through the standard credential chain (orgctl's default).
    #[default]
    Aws,
    /// A snapshot file (`--state FILE`).
    Snapshot {
        /// The snapshot file, given as `config_file` is.
        path: String,
    },
}

impl BackendKind {
    /// The kind of backend `options` open.
    pub fn of(options: &crate::live::Options) -> Self {
        match &options.snapshot {
            Some(path) => BackendKind::Snapshot {
                path: path.display().to_string(),
            },
            None => BackendKind::Aws,
        }
    }
}

/// A plan: the changes that make the live organization match the configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// Always `orgctl-plan`.
    pub format: String,
    /// The plan format version.
    pub version: u32,
    /// The orgctl version that computed the plan.
    pub orgctl_version: String,
    /// The organization's name in the configuration.
    pub organization: String,
    /// Its business model.
    pub business_model: BusinessModel,
    /// The configuration file the plan was computed from. In a plan saved with `--out`, the path
    /// from the plan file's folder (apply finds it from there, wherever it runs); in a plan
    /// printed on standard output, as given on the command line.
    pub config_file: String,
    /// Where the live organization was read from.
    pub backend: BackendKind,
    /// Digest of the configuration the plan was computed from.
    pub config_digest: String,
    /// Digest of the whole live state the plan was computed from.
    pub live_fingerprint: String,
    /// Each live resource the changes act on or refer to, by address: its id (how apply finds
    /// it) and its digest (apply refuses a saved plan when any of them has changed since).
    pub touched: BTreeMap<Address, Touched>,
    /// The changes, in the order they run: every change comes after the ones it depends on.
    pub changes: Vec<Change>,
    /// What the plan found in the live organization (unmanaged resources, limits, quotas).
    #[serde(with = "crate::diagnostic::findings")]
    #[schemars(with = "Vec<crate::diagnostic::FindingRecord>")]
    pub findings: Vec<Finding>,
    /// How many changes of each kind.
    pub summary: Summary,
}

/// A live resource a plan touches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Touched {
    /// Its id (`r-…`, `ou-…`, the account id, `p-…`).
    pub id: String,
    /// The digest of its live state when the plan was made.
    pub fingerprint: String,
}

/// One change to one resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Change {
    /// The resource, e.g. `ou:Workloads/Prod` or `attachment:service_control/deny-leave-org->root`.
    pub address: Address,
    /// What to do, with the details the executor needs.
    #[serde(flatten)]
    pub action: Action,
    /// Why, in words.
    pub reason: String,
    /// The addresses of the changes that must finish first, in plan order. Where several
    /// changes share an address (an account moved, then tagged), this change waits for every
    /// one of them that comes before it in `changes`.
    #[serde(default)]
    pub depends_on: Vec<Address>,
}

/// What a change does. Parents and targets are addresses (`root`, `ou:…`, `account:…`);
/// ids are given for resources that exist.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// Enable a policy type on the root.
    EnablePolicyType {
        /// The type.
        policy_type: PolicyType,
    },
    /// Create an OU.
    CreateOu {
        /// The parent's address.
        parent: Address,
        /// The new OU's name.
        name: String,
        /// Tags set at creation.
        tags: BTreeMap<String, String>,
    },
    /// Rename an OU (its `id` is pinned in the file).
    RenameOu {
        /// The OU id.
        id: String,
        /// The live name.
        from: String,
        /// The new name.
        to: String,
    },
    /// Delete an empty OU.
    DeleteOu {
        /// The OU id.
        id: String,
    },
    /// Create an account, straight into its OU, tagged.
    CreateAccount {
        /// The account name.
        name: String,
        /// The root email.
        email: String,
        /// The parent's address.
        parent: Address,
        /// Tags set at creation.
        tags: BTreeMap<String, String>,
    },
    /// Move an account to another parent.
    MoveAccount {
        /// The account id.
        id: String,
        /// The live parent's address.
        from: Address,
        /// The new parent's address.
        to: Address,
    },
    /// Rename an account (Account Management `PutAccountName`).
    RenameAccount {
        /// The account id.
        id: String,
        /// The live name.
        from: String,
        /// The new name.
        to: String,
    },
    /// Change a root email: AWS offers no API to the management account for this, so it is a
    /// manual step for the account's owner.
    ChangeEmail {
        /// The account id.
        id: String,
        /// The live email.
        from: String,
        /// The desired email.
        to: String,
    },
    /// Close an account (`lifecycle: close`; apply needs `--allow-close`).
    CloseAccount {
        /// The account id.
        id: String,
        /// The account's live name: what is closed, whatever the file calls it.
        name: String,
    },
    /// Remove an account from the organization (`lifecycle: remove`; apply needs `--allow-remove`).
    RemoveAccount {
        /// The account id.
        id: String,
        /// The account's live name: what leaves, whatever the file calls it.
        name: String,
        /// The address of the OU (or root) it leaves.
        parent: Address,
    },
    /// Create a policy.
    CreatePolicy {
        /// The policy name.
        name: String,
        /// Its type.
        policy_type: PolicyType,
        /// Its description.
        description: String,
        /// The document, minified.
        document: String,
        /// Tags set at creation.
        tags: BTreeMap<String, String>,
    },
    /// Update a policy's document or description.
    UpdatePolicy {
        /// The policy id.
        id: String,
        /// The new description, when it changes.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        description: Option<Update>,
        /// The new document, when it changes.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        document: Option<Update>,
    },
    /// Delete a policy (`lifecycle: delete`), after detaching it everywhere.
    DeletePolicy {
        /// The policy id.
        id: String,
    },
    /// Attach a policy to a target.
    AttachPolicy {
        /// The policy's address.
        policy: Address,
        /// The target's address.
        target: Address,
    },
    /// Detach a policy from a target.
    DetachPolicy {
        /// The policy's address.
        policy: Address,
        /// The target's address.
        target: Address,
    },
    /// Create or correct a partner's IAM role in a member account.
    PutRole {
        /// The account's address.
        account: Address,
        /// The role orgctl assumes in the account.
        access_role: String,
        /// The role name.
        name: String,
        /// The partner it is for.
        partner: String,
        /// The trust policy (the partner's account, and its external id).
        trust_policy: String,
        /// The managed policy ARNs it gets, sorted.
        managed_policies: Vec<String>,
        /// The role as it is, when it exists.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        before: Option<RoleBefore>,
    },
    /// Revoke a partner's access: delete the role orgctl created for it.
    DeleteRole {
        /// The account's address.
        account: Address,
        /// The account id.
        account_id: String,
        /// The role orgctl assumes in the account.
        access_role: String,
        /// The role name.
        name: String,
        /// The partner it was for, as its tag says.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        partner: Option<String>,
    },
    /// Create or correct the end customer's IAM user in a member account. No password is in the
    /// plan: apply writes a new console password to `--password-file` only.
    PutUser {
        /// The account's address.
        account: Address,
        /// The role orgctl assumes in the account.
        access_role: String,
        /// The user name.
        name: String,
        /// The managed policy ARNs it gets, sorted (the `require-mfa` preset is put inline).
        managed_policies: Vec<String>,
        /// Whether it gets a console password.
        console: bool,
        /// A hand-over: created with a new account and never touched again.
        handover: bool,
        /// The user as it is, when it exists.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        before: Option<UserBefore>,
    },
    /// Set and remove tags on an existing resource.
    UpdateTags {
        /// The resource id.
        id: String,
        /// Tags to add or change.
        set: BTreeMap<String, String>,
        /// Tag keys to remove.
        unset: Vec<String>,
        /// The live tags.
        before: BTreeMap<String, String>,
    },
}

/// A role as it is, before a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RoleBefore {
    /// Its trust policy.
    pub trust_policy: String,
    /// Its managed policies.
    pub managed_policies: Vec<String>,
}

/// A user as it is, before a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct UserBefore {
    /// Its managed policies.
    pub managed_policies: Vec<String>,
    /// Whether it has a console password.
    pub console: bool,
}

/// A value before and after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Update {
    /// Live.
    pub from: String,
    /// Desired.
    pub to: String,
}

/// The kinds of change, for the summary and the symbols of the text plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// `+`
    Create,
    /// `~`
    Update,
    /// `->`
    Move,
    /// `+` on an attachment.
    Attach,
    /// `-` on an attachment.
    Detach,
    /// `-` on an account that closes.
    Close,
    /// `-` on an account that leaves.
    Remove,
    /// `-`
    Delete,
    /// `!`: a step for a person.
    Manual,
}

impl Action {
    /// The kind of change.
    pub const fn kind(&self) -> Kind {
        match self {
            Action::EnablePolicyType { .. }
            | Action::CreateOu { .. }
            | Action::CreateAccount { .. }
            | Action::CreatePolicy { .. }
            | Action::PutRole { before: None, .. }
            | Action::PutUser { before: None, .. } => Kind::Create,
            Action::PutRole {
                before: Some(_), ..
            }
            | Action::PutUser {
                before: Some(_), ..
            } => Kind::Update,
            Action::DeleteRole { .. } => Kind::Delete,
            Action::RenameOu { .. }
            | Action::RenameAccount { .. }
            | Action::UpdatePolicy { .. }
            | Action::UpdateTags { .. } => Kind::Update,
            Action::MoveAccount { .. } => Kind::Move,
            Action::AttachPolicy { .. } => Kind::Attach,
            Action::DetachPolicy { .. } => Kind::Detach,
            Action::CloseAccount { .. } => Kind::Close,
            Action::RemoveAccount { .. } => Kind::Remove,
            Action::DeleteOu { .. } | Action::DeletePolicy { .. } => Kind::Delete,
            Action::ChangeEmail { .. } => Kind::Manual,
        }
    }

    /// The action's name as in JSON (`create_ou`).
    pub const fn name(&self) -> &'static str {
        match self {
            Action::EnablePolicyType { .. } => "enable_policy_type",
            Action::CreateOu { .. } => "create_ou",
            Action::RenameOu { .. } => "rename_ou",
            Action::DeleteOu { .. } => "delete_ou",
            Action::CreateAccount { .. } => "create_account",
            Action::MoveAccount { .. } => "move_account",
            Action::RenameAccount { .. } => "rename_account",
            Action::ChangeEmail { .. } => "change_email",
            Action::CloseAccount { .. } => "close_account",
            Action::RemoveAccount { .. } => "remove_account",
            Action::CreatePolicy { .. } => "create_policy",
            Action::UpdatePolicy { .. } => "update_policy",
            Action::DeletePolicy { .. } => "delete_policy",
            Action::AttachPolicy { .. } => "attach_policy",
            Action::DetachPolicy { .. } => "detach_policy",
            Action::UpdateTags { .. } => "update_tags",
            Action::PutRole { .. } => "put_role",
            Action::DeleteRole { .. } => "delete_role",
            Action::PutUser { .. } => "put_user",
        }
    }
}

/// Counts of changes by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Summary {
    /// OUs, accounts and policies created, policy types enabled.
    pub create: usize,
    /// Renames, policy updates, tag changes.
    pub update: usize,
    /// Accounts moved.
    #[serde(rename = "move")]
    pub move_: usize,
    /// Policies attached.
    pub attach: usize,
    /// Policies detached.
    pub detach: usize,
    /// Accounts closed.
    pub close: usize,
    /// Accounts removed from the organization.
    pub remove: usize,
    /// OUs and policies deleted.
    pub delete: usize,
    /// Steps a person must take.
    pub manual: usize,
}

impl Summary {
    fn of(changes: &[Change]) -> Self {
        let mut summary = Summary::default();
        for change in changes {
            let count = match change.action.kind() {
                Kind::Create => &mut summary.create,
                Kind::Update => &mut summary.update,
                Kind::Move => &mut summary.move_,
                Kind::Attach => &mut summary.attach,
                Kind::Detach => &mut summary.detach,
                Kind::Close => &mut summary.close,
                Kind::Remove => &mut summary.remove,
                Kind::Delete => &mut summary.delete,
                Kind::Manual => &mut summary.manual,
            };
            *count += 1;
        }
        summary
    }

    /// The counts that are not zero, as `(count, words)`: `(3, "to create")`.
    pub fn parts(&self) -> Vec<(usize, &'static str)> {
        [
            (self.create, "to create"),
            (self.update, "to update"),
            (self.move_, "to move"),
            (self.attach, "to attach"),
            (self.detach, "to detach"),
            (self.close, "to close"),
            (self.remove, "to remove"),
            (self.delete, "to delete"),
            (self.manual, "manual"),
        ]
        .into_iter()
        .filter(|(count, _)| *count > 0)
        .collect()
    }
}

/// Something the plan found in the live organization: a [`Diagnostic`] of the rule catalogue,
/// made by [`Diagnostic::finding`], naming the resource when there is one.
pub type Finding = Diagnostic;

impl Plan {
    /// Whether the plan changes nothing.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// Whether any finding is an error (the plan must not be applied).
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Error)
    }
}

/// For each change, the positions in `changes` of the changes it waits for: those before it
/// whose address its `depends_on` names. Only earlier changes count, so the result has no cycle
/// whatever a saved plan says.
pub fn dependency_positions(changes: &[Change]) -> Vec<Vec<usize>> {
    let mut at: std::collections::HashMap<&Address, Vec<usize>> = std::collections::HashMap::new();
    for (position, change) in changes.iter().enumerate() {
        at.entry(&change.address).or_default().push(position);
    }
    changes
        .iter()
        .enumerate()
        .map(|(position, change)| {
            let mut before: Vec<usize> = change
                .depends_on
                .iter()
                .filter_map(|address| at.get(address))
                .flat_map(|positions| positions.iter().copied())
                .filter(|&earlier| earlier < position)
                .collect();
            before.sort_unstable();
            before.dedup();
            before
        })
        .collect()
}

/// Computes the plan that makes `live` match `desired`.
pub fn plan(desired: &Desired, live: &LiveState, input: &PlanInput) -> Plan {
    let diff = diff::diff(desired, live);
    let (changes, cyclic) = order::order(diff.changes, &diff.detach_first);
    let mut findings = diff.findings;
    if !cyclic.is_empty() {
        findings.push(Finding::finding(
            Rule::DependencyCycle,
            None,
            format!("these changes depend on each other in a cycle: {}", cyclic.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")),
            "this is a bug in orgctl's ordering; please report it with the configuration and `orgctl export` of the organization",
        ));
    }
    // Warnings the file silences are silenced here too (errors never are).
    findings.retain(|finding| {
        finding.severity == Severity::Error
            || !desired.ignored.iter().any(|rule| *rule == finding.rule)
    });
    Plan {
        format: FORMAT.to_owned(),
        version: VERSION,
        orgctl_version: env!("CARGO_PKG_VERSION").to_owned(),
        organization: desired.organization.name.clone(),
        business_model: desired.organization.business_model,
        config_file: input.config_file.clone(),
        backend: input.backend.clone(),
        config_digest: input.config_digest.clone(),
        live_fingerprint: live.fingerprint(),
        touched: diff.touched,
        summary: Summary::of(&changes),
        changes,
        findings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(address: &str, depends_on: &[&str]) -> Change {
        let parse = |text: &str| text.parse::<Address>().expect("an address");
        Change {
            address: parse(address),
            action: Action::UpdateTags {
                id: address.to_owned(),
                set: BTreeMap::new(),
                unset: Vec::new(),
                before: BTreeMap::new(),
            },
            reason: String::new(),
            depends_on: depends_on.iter().map(|a| parse(a)).collect(),
        }
    }

    #[test]
    fn an_address_names_every_earlier_change_to_it_and_no_later_one() {
        let changes = [
            tags("account:a", &[]),
            tags("account:a", &[]),
            tags("ou:X", &["account:a"]),
            tags("account:a", &[]),
        ];
        assert_eq!(dependency_positions(&changes)[2], [0, 1]);
    }

    #[test]
    fn a_dependency_on_a_later_change_or_an_unknown_address_is_dropped() {
        // Whatever a plan says, the executor must never wait for something that cannot come.
        let changes = [tags("ou:X", &["ou:Y", "ou:Nowhere"]), tags("ou:Y", &[])];
        assert_eq!(dependency_positions(&changes)[0], Vec::<usize>::new());
    }
}
