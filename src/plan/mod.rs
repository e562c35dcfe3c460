//! Plans: the difference between the desired and the live organization, as ordered changes.
//!
//! [`plan`] is a pure function of ([`Desired`], [`LiveState`]): it matches the two once
//! ([`matching::Matching`], which the read scope [`read_scope`] builds too), lists the changes
//! from that matching, and orders them. The [`Plan`] it returns is a value:
//! rendered as text, JSON or Markdown, saved with `--out`, and executed by apply without being
//! re-decided. It carries the fingerprint of the live state it was computed from, and of each live
//! resource it touches, so a stale saved plan can be refused.

mod contact;
mod diff;
mod iam;
pub mod matching;
mod order;

pub use contact::every_contact;
pub use iam::{marked_accounts, trust_policy};

/// What a plan of `desired` reads beyond the organization itself, from one matching of the file
/// to `live`: the IAM orgctl made in member accounts ([`iam::scope`]), the alternate contacts
/// the file manages ([`contact::scope`]), and the invitations when the file invites an account
/// that is not a member yet.
pub fn read_scope(desired: &Desired, live: &LiveState) -> crate::live::Scope {
    let matching = matching::Matching::of(desired, live);
    crate::live::Scope {
        iam: iam::scope(desired, live, &matching),
        contacts: contact::scope(desired, live, &matching),
        invitations: invites_outsiders(&matching),
    }
}

/// Whether the file invites an account (`join: invite`) that is not a member: its pinned id is
/// missing, as the plan's invitations see it. Only then does a plan need the invitations (one
/// more request, and an API some emulators lack).
fn invites_outsiders(matching: &matching::Matching) -> bool {
    matching.accounts.iter().any(|entry| {
        entry.desired.join == crate::config::Join::Invite
            && matches!(entry.matched, matching::AccountMatch::PinnedMissing { .. })
    })
}

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use crate::action::{Kind, RoleBefore, Update, UserBefore};
use crate::address::Address;

use crate::config::BusinessModel;
use crate::diagnostic::Diagnostic;
use crate::live::LiveState;
use crate::model::Desired;
use crate::rules::{Rule, Severity};

/// The value of a saved plan's `format` field.
pub const FORMAT: &str = "orgctl-plan";
/// The plan version this build reads and writes. Version 3 names undeclared accounts
/// `account_id:…`, shows the account marks and a user's inline policies as changes, and leaves out
/// the id of a resource the plan creates; saved plans of earlier versions are refused (plan
/// again).
pub const VERSION: u32 = 3;

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

/// What a change does, its references named by address.
pub type Action = crate::action::Action<crate::action::ByAddress>;

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
    let matching = matching::Matching::of(desired, live);
    let diff = diff::diff(desired, live, &matching);
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
                id: Some(address.to_owned()),
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
