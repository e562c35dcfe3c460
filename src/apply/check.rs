//! Whether a plan may run: decided before the first write, so a refusal changes nothing.

use std::collections::BTreeSet;
use std::path::Path;

use crate::diagnostic::Diagnostic;
use crate::live::{LiveState, fingerprint};
use crate::plan::{Action, BackendKind, Plan};
use crate::rules::Rule;

/// What the command line allows beyond ordinary changes.
#[derive(Debug, Clone, Copy, Default)]
pub struct Allow {
    /// `--allow-close`.
    pub close: bool,
    /// `--allow-remove`.
    pub remove: bool,
}

/// A refusal when the plan gives a user a console password and there is no file to put it in.
pub fn needs_password_file(plan: &Plan) -> Option<Diagnostic> {
    let users: Vec<String> = plan
        .changes
        .iter()
        .filter(|change| {
            matches!(
                &change.action,
                Action::PutUser { console: true, before, .. }
                    if before.as_ref().is_none_or(|before| !before.console)
            )
        })
        .map(|change| change.address.to_string())
        .collect();
    if users.is_empty() {
        return None;
    }
    Some(
        Diagnostic::new(
            Rule::ApplyRefused,
            format!(
                "the plan gives {} a console password, and there is no --password-file to write it to",
                users.join(", ")
            ),
        )
        .help("apply again with --password-file FILE: each one-time password goes there (mode 0600) and nowhere else; or set `end_customer_user.console: false`"),
    )
}

/// The refusal of a plan made against another organization than the file's (its pinned
/// management account is not this organization's), which an apply says before anything else:
/// the rest of such a plan (every resource to create) means nothing.
pub fn wrong_organization(plan: &Plan) -> Option<Diagnostic> {
    let finding = plan
        .findings
        .iter()
        .find(|finding| finding.rule == Rule::WrongOrganization)?;
    let diagnostic = Diagnostic::new(Rule::WrongOrganization, finding.message.clone());
    Some(match &finding.help {
        Some(help) => diagnostic.help(help.clone()),
        None => diagnostic,
    })
}

/// The reasons not to start `plan` on `live`: error findings, closes and removals not allowed,
/// the management account.
pub fn refusals(plan: &Plan, live: &LiveState, allow: Allow) -> Vec<Diagnostic> {
    let mut refusals = Vec::new();
    let errors = plan
        .findings
        .iter()
        .filter(|finding| finding.severity == crate::rules::Severity::Error)
        .count();
    if errors > 0 {
        refusals.push(
            Diagnostic::new(
                Rule::ApplyRefused,
                format!(
                    "the plan has {errors} error finding{}",
                    if errors == 1 { "" } else { "s" }
                ),
            )
            .help("resolve the findings the plan lists, then apply again"),
        );
    }
    let management = live.organization.management_account_id.as_str();
    let mut closes = Vec::new();
    let mut removals = Vec::new();
    for change in &plan.changes {
        match &change.action {
            Action::CloseAccount { id, name } | Action::RemoveAccount { id, name, .. }
                if id == management =>
            {
                refusals.push(
                    Diagnostic::new(
                        Rule::ApplyRefused,
                        format!("the plan would close or remove `{name}` ({id}), the management account"),
                    )
                    .help("orgctl never closes or removes the management account; the plan was not made by this orgctl from this organization"),
                );
            }
            Action::CloseAccount { id, name } => closes.push(format!("`{name}` ({id})")),
            Action::RemoveAccount { id, name, .. } => removals.push(format!("`{name}` ({id})")),
            _ => {}
        }
    }
    if !closes.is_empty() && !allow.close {
        refusals.push(
            Diagnostic::new(
                Rule::ApplyRefused,
                format!("the plan closes {}, and closing was not allowed", closes.join(", ")),
            )
            .help("closing an account cannot be undone after 90 days; if the file is right, apply again with --allow-close"),
        );
    }
    if !removals.is_empty() && !allow.remove {
        refusals.push(
            Diagnostic::new(
                Rule::ApplyRefused,
                format!(
                    "the plan removes {} from the organization, and removing was not allowed",
                    removals.join(", ")
                ),
            )
            .help("a removed account must carry its own payment method and leaves every policy; if the file is right, apply again with --allow-remove"),
        );
    }
    refusals
}

/// A refusal when a saved plan was made from another kind of backend than the one this apply
/// would change (`now`): a plan of a snapshot never reaches AWS, nor a plan of AWS a snapshot.
/// `plan_file` is the saved plan, whose recorded paths lead from its folder. Two snapshots may
/// differ: a copy of the one planned is fine, and its resources' fingerprints must still match.
pub fn backend(saved: &Plan, now: &BackendKind, plan_file: &Path) -> Option<Diagnostic> {
    let shown = plan_file.display();
    let (message, help) = match (&saved.backend, now) {
        (BackendKind::Aws, BackendKind::Aws)
        | (BackendKind::Snapshot { .. }, BackendKind::Snapshot { .. }) => {
            return None;
        }
        (BackendKind::Snapshot { path }, BackendKind::Aws) => {
            let snapshot = from_plan(plan_file, path);
            let snapshot = snapshot.display();
            (
                format!(
                    "`{shown}` was planned against the snapshot `{snapshot}`, and without --state this apply would change the organization in AWS"
                ),
                format!(
                    "apply it to the snapshot it was made from: `orgctl apply {shown} --state {snapshot}`; to change AWS, plan again without --state and apply that plan"
                ),
            )
        }
        (BackendKind::Aws, BackendKind::Snapshot { path }) => (
            format!(
                "`{shown}` was planned against the organization in AWS, and with --state this apply would change the snapshot `{path}` instead"
            ),
            format!(
                "apply it without --state, with the AWS options it was planned with; to change the snapshot, plan again with `--state {path}` and apply that plan"
            ),
        ),
    };
    Some(Diagnostic::new(Rule::PlanBackend, message).help(help))
}

/// A path a saved plan records, as seen from where orgctl runs: it leads from the plan's folder
/// (an absolute one stays as it is).
pub fn from_plan(plan_file: &Path, recorded: &str) -> std::path::PathBuf {
    plan_file.parent().unwrap_or(Path::new("")).join(recorded)
}

/// Why a saved plan no longer fits: the configuration changed, a resource it touches changed in
/// the organization, or the configuration now plans other changes. `fresh` is the plan computed
/// now from the current configuration and `live`; `config_digest` is the current configuration's.
pub fn staleness(saved: &Plan, fresh: &Plan, live: &LiveState) -> Vec<Diagnostic> {
    let mut reasons = Vec::new();
    if saved.config_digest != fresh.config_digest {
        reasons.push(stale(format!(
            "the configuration `{}` (or a policy file it names) changed since the plan was made",
            saved.config_file
        )));
    }
    for (address, touched) in &saved.touched {
        match live_fingerprint(live, &touched.id) {
            None => reasons.push(stale(format!(
                "`{address}` ({}) no longer exists in the organization",
                touched.id
            ))),
            Some(now) if now != touched.fingerprint => reasons.push(stale(format!(
                "`{address}` ({}) changed in the organization since the plan was made",
                touched.id
            ))),
            Some(_) => {}
        }
    }
    if reasons.is_empty() && saved.changes != fresh.changes {
        let describe = |plan: &Plan| -> BTreeSet<String> {
            plan.changes
                .iter()
                .map(|c| format!("{} {}", c.action.name(), c.address))
                .collect()
        };
        let (before, now) = (describe(saved), describe(fresh));
        let mut differences: Vec<String> = before
            .difference(&now)
            .map(|c| format!("no longer planned: {c}"))
            .chain(
                now.difference(&before)
                    .map(|c| format!("newly planned: {c}")),
            )
            .collect();
        if differences.is_empty() {
            differences.push("the same changes, with other details or order".to_owned());
        }
        reasons.push(stale(format!(
            "the configuration now plans different changes: {}",
            differences.join("; ")
        )));
    }
    reasons
}

fn stale(message: String) -> Diagnostic {
    Diagnostic::new(Rule::StalePlan, message)
        .help("the saved plan is stale; plan again, review it, and apply the new plan")
}

/// The fingerprint of the live root, OU, account or policy with `id`, computed as the plan
/// computes it.
fn live_fingerprint(live: &LiveState, id: &str) -> Option<String> {
    if live.root.id == id {
        return Some(fingerprint(&live.root));
    }
    if let Some(ou) = live.organizational_units.iter().find(|ou| ou.id == id) {
        return Some(fingerprint(ou));
    }
    if let Some(account) = live.accounts.iter().find(|account| account.id == id) {
        return Some(fingerprint(account));
    }
    live.policies
        .iter()
        .find(|policy| policy.id == id)
        .map(fingerprint)
}
