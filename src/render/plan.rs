//! Plans as text: terraform-like symbols, grouped by resource, diffs for documents and tags.

use std::collections::BTreeMap;
use std::fmt::Write;

use similar::{ChangeTag, TextDiff};

use crate::address::Address;
use crate::config::Preset;
use crate::plan::{Action, Change, Finding, Kind, Plan};
use crate::rules::Severity;
use crate::suggest::printable_line;

/// How to draw a plan.
#[derive(Debug, Clone, Copy)]
pub struct TextStyle {
    /// ANSI colours (off for `NO_COLOR`, pipes, Markdown and snapshots).
    pub colour: bool,
}

/// A line of a tag or document diff in the diff's colours (`+` green, `-` red); other lines as
/// they are.
fn paint_diff_line(style: TextStyle, line: &str) -> String {
    match diff_marker(line) {
        Some('+') if style.colour => format!("\x1b[32m{line}\x1b[0m"),
        Some('-') if style.colour => format!("\x1b[31m{line}\x1b[0m"),
        _ => line.to_owned(),
    }
}

/// The `+` or `-` a line of a tag or document diff begins with (after its indentation); `None`
/// for other lines, a unified diff's `---`/`+++` headers included.
pub(super) fn diff_marker(line: &str) -> Option<char> {
    let trimmed = line.trim_start();
    if trimmed.starts_with("---") || trimmed.starts_with("+++") {
        return None;
    }
    trimmed.chars().next().filter(|c| *c == '+' || *c == '-')
}

/// The symbol of a kind of change.
pub fn symbol(kind: Kind) -> &'static str {
    match kind {
        Kind::Create | Kind::Attach => "+",
        Kind::Update => "~",
        Kind::Move => "->",
        Kind::Detach | Kind::Close | Kind::Remove | Kind::Delete => "-",
        Kind::Manual => "!",
    }
}

fn paint(style: TextStyle, kind: Kind, text: &str) -> String {
    if !style.colour {
        return text.to_owned();
    }
    let code = match kind {
        Kind::Create | Kind::Attach => "32",
        Kind::Update => "33",
        Kind::Move => "36",
        Kind::Detach | Kind::Close | Kind::Remove | Kind::Delete => "31",
        Kind::Manual => "35",
    };
    format!("\x1b[{code}m{text}\x1b[0m")
}

/// The groups of the text plan, in the order they print.
pub(super) const GROUPS: &[&str] = &[
    "Organization",
    "Organizational units",
    "Accounts",
    "Policies",
    "Attachments",
    "Access in member accounts",
    "Manual steps",
];

pub(super) fn group(change: &Change) -> usize {
    if change.action.kind() == Kind::Manual {
        return 6;
    }
    match change.address {
        Address::Ou(_) => 1,
        Address::Account(_) | Address::AccountId(_) | Address::Contact { .. } => 2,
        Address::Policy { .. } => 3,
        Address::Attachment { .. } => 4,
        Address::Role { .. } | Address::User { .. } => 5,
        Address::Root
        | Address::PolicyType(_)
        | Address::TrustedAccess(_)
        | Address::DelegatedAdministrator { .. } => 0,
    }
}

/// The whole plan for people: header, grouped changes, findings, summary line.
pub fn plan_text(plan: &Plan, source: &str, style: TextStyle) -> String {
    let mut out = header("plan", plan, source);
    // An empty plan says so once, in its summary line.
    out.push_str(&changes_text(plan, style, "  "));
    if !plan.findings.is_empty() {
        let _ = writeln!(out, "\nFindings");
        for finding in &plan.findings {
            out.push_str(&finding_text(finding, "  "));
        }
    }
    let _ = writeln!(out, "\n{}", summary_line(plan));
    out
}

/// The changes, grouped, each with its details; `indent` goes before each change's symbol
/// (Markdown's `diff` blocks want the symbol in the first column).
pub fn changes_text(plan: &Plan, style: TextStyle, indent: &str) -> String {
    let mut groups: BTreeMap<usize, Vec<&Change>> = BTreeMap::new();
    for change in &plan.changes {
        groups.entry(group(change)).or_default().push(change);
    }
    let mut out = String::new();
    for (index, changes) in groups {
        let _ = writeln!(out, "\n{}", GROUPS[index]);
        for change in changes {
            let kind = change.action.kind();
            let _ = writeln!(
                out,
                "{indent}{}",
                paint(
                    style,
                    kind,
                    &format!(
                        "{} {}",
                        symbol(kind),
                        printable_line(&change.address.to_string())
                    )
                )
            );
            for line in details(change) {
                let line = printable_line(&line);
                let _ = writeln!(out, "        {}", paint_diff_line(style, &line));
            }
        }
    }
    out
}

/// `Plan: 3 to create, 1 to move.` or `No changes: the organization matches the configuration.`
pub fn summary_line(plan: &Plan) -> String {
    let parts: Vec<String> = plan
        .summary
        .parts()
        .iter()
        .map(|(count, words)| format!("{count} {words}"))
        .collect();
    let errors = plan
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let mut line = if parts.is_empty() && errors == 0 {
        "No changes: the organization matches the configuration.".to_owned()
    } else if parts.is_empty() {
        "No changes.".to_owned()
    } else {
        format!("Plan: {}.", parts.join(", "))
    };
    if errors > 0 {
        let _ = write!(
            line,
            " {errors} finding{} must be resolved before apply.",
            if errors == 1 { "" } else { "s" }
        );
    }
    line
}

/// A finding as `error[code] address` with its message and help, indented.
pub fn finding_text(finding: &Finding, indent: &str) -> String {
    let mut out = String::new();
    let severity = match finding.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let _ = writeln!(
        out,
        "{indent}{severity}[{}]{}",
        printable_line(finding.rule.code()),
        finding
            .address
            .as_ref()
            .map(|a| format!(" {}", printable_line(&a.to_string())))
            .unwrap_or_default()
    );
    let _ = writeln!(out, "{indent}    {}", printable_line(&finding.message));
    if let Some(help) = &finding.help {
        let _ = writeln!(out, "{indent}    help: {}", printable_line(help));
    }
    out
}

/// The first line of a plan or drift report: what was compared with what, the organization and
/// management account that `source` reached included (a reseller's credentials reach many).
fn header(command: &str, plan: &Plan, source: &str) -> String {
    format!(
        "orgctl {command} for {} ({}), against {}\n",
        printable_line(&plan.organization),
        crate::model::ownership::model_name(plan.business_model),
        printable_line(source)
    )
}

/// A header line, then one line per change and finding, for scheduled drift jobs and logs.
pub fn drift_lines(plan: &Plan, source: &str) -> String {
    let mut out = header("drift", plan, source);
    for change in &plan.changes {
        let kind = change.action.kind();
        let _ = writeln!(
            out,
            "{} {}  {}: {}",
            symbol(kind),
            printable_line(&change.address.to_string()),
            change.action.name(),
            printable_line(&change.reason)
        );
    }
    for finding in &plan.findings {
        let _ = writeln!(
            out,
            "{} {}  {}: {}",
            match finding.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            },
            printable_line(
                &finding
                    .address
                    .as_ref()
                    .map_or_else(|| "organization".to_owned(), ToString::to_string)
            ),
            printable_line(finding.rule.code()),
            printable_line(&finding.message)
        );
    }
    out
}

fn tag_list(tags: &BTreeMap<String, String>) -> String {
    tags.iter()
        .map(|(k, v)| format!("{k} = {v:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The lines under a change's address.
pub(super) fn details(change: &Change) -> Vec<String> {
    let mut lines = Vec::new();
    match &change.action {
        Action::EnablePolicyType { policy_type } => {
            lines.push(format!(
                "enable {} on the root",
                crate::model::policy_type_plural(*policy_type)
            ));
        }
        Action::EnableTrustedAccess { principal } => {
            lines.push(format!(
                "enable trusted access for {} across the organization",
                principal
            ));
        }
        Action::DisableTrustedAccess { principal } => {
            lines.push(format!(
                "disable trusted access for {} across the organization",
                principal
            ));
        }
        Action::RegisterDelegatedAdministrator { account, service } => {
            lines.push(format!(
                "register {account} as delegated administrator of {service}"
            ));
        }
        Action::DeregisterDelegatedAdministrator {
            account_id,
            service,
        } => {
            lines.push(format!(
                "deregister {account_id} as delegated administrator of {service}"
            ));
        }
        Action::InviteAccount {
            account_id, tags, ..
        } => {
            lines.push(format!(
                "invite {account_id} to join; it joins when its holder accepts (AWS keeps the invitation open 15 days)"
            ));
            lines.push(
                "a member of another organization moves here directly when it accepts (AWS, since 2025-11, within one region group): that organization's policies stop applying, and its delegated administrations, IAM Identity Center assignments and organization-wide shares end"
                    .to_owned(),
            );
            if !tags.is_empty() {
                lines.push(format!("tags when it joins: {}", tag_list(tags)));
            }
        }
        Action::CancelInvitation { id, account_id } => {
            lines.push(format!("cancel the invitation {id} of {account_id}"));
        }
        Action::CreateOu { parent, tags, .. } => {
            lines.push(format!("create under {parent}"));
            if !tags.is_empty() {
                lines.push(format!("tags: {}", tag_list(tags)));
            }
        }
        Action::RenameOu { from, to, .. } => lines.push(format!("rename {from:?} -> {to:?}")),
        Action::RenameAccount { id, from, to } => {
            lines.push(format!("rename {id} {from:?} -> {to:?}"));
        }
        Action::DeleteOu { id } => lines.push(format!("delete {id}")),
        Action::CreateAccount {
            email,
            parent,
            tags,
            ..
        } => {
            lines.push(format!("create in {parent}, root email {email}"));
            if !tags.is_empty() {
                lines.push(format!("tags: {}", tag_list(tags)));
            }
        }
        Action::MoveAccount { from, to, .. } => lines.push(format!("move {from} -> {to}")),
        Action::ChangeEmail { id, from, to } => {
            lines.push(format!("root email of {id}: {from} -> {to}"));
            lines.push(
                "whoever holds the root user signs in as root and changes it; orgctl cannot"
                    .to_owned(),
            );
        }
        Action::CloseAccount { id, name } => {
            lines.push(format!("close {id} {name:?} (apply needs --allow-close)"))
        }
        Action::RemoveAccount { id, name, .. } => {
            lines.push(format!(
                "remove {id} {name:?} from the organization (apply needs --allow-remove)"
            ));
            lines.push(
                "it loses the organization's policies (SCPs, RCPs, tag and every other type stop applying), its delegated administrations and organization-wide shares, and the consolidated bill: it needs its own payment method and support plan"
                    .to_owned(),
            );
            lines.push(
                "the member access role in it still trusts this management account until someone deletes it"
                    .to_owned(),
            );
        }
        Action::CreatePolicy {
            description,
            document,
            tags,
            ..
        } => {
            if !description.is_empty() {
                lines.push(format!("description: {description:?}"));
            }
            lines.push(format!("document: {} characters", document.chars().count()));
            if !tags.is_empty() {
                lines.push(format!("tags: {}", tag_list(tags)));
            }
        }
        Action::UpdatePolicy {
            description,
            document,
            ..
        } => {
            if let Some(update) = description {
                lines.push(format!("description: {:?} -> {:?}", update.from, update.to));
            }
            if let Some(update) = document {
                lines.push("document:".to_owned());
                lines.extend(
                    document_diff(&update.from, &update.to)
                        .into_iter()
                        .map(|l| format!("  {l}")),
                );
            }
        }
        Action::DeletePolicy { id } => lines.push(format!("delete {id}")),
        Action::AttachPolicy { .. } | Action::DetachPolicy { .. } => {
            lines.push(change.reason.clone())
        }
        Action::PutRole {
            trust_policy,
            managed_policies,
            before,
            ..
        } => {
            lines.push(change.reason.clone());
            match before {
                None => {
                    lines.push(format!("trusts {}", trusted(trust_policy)));
                    lines.push(format!("managed policies: {}", managed_policies.join(", ")));
                }
                Some(before) => {
                    if before.trust_policy != *trust_policy {
                        lines.push("trust policy:".to_owned());
                        lines.extend(
                            document_diff(&before.trust_policy, trust_policy)
                                .into_iter()
                                .map(|l| format!("  {l}")),
                        );
                    }
                    if before.managed_policies != *managed_policies {
                        lines.push(format!(
                            "managed policies: {} -> {}",
                            before.managed_policies.join(", "),
                            managed_policies.join(", ")
                        ));
                    }
                }
            }
        }
        Action::DeleteRole { account_id, .. } => {
            lines.push(format!("{} (in {account_id})", change.reason));
            lines.push("detach its policies and delete it".to_owned());
        }
        Action::PutUser {
            managed_policies,
            inline_policies,
            console,
            handover,
            before,
            ..
        } => {
            lines.push(change.reason.clone());
            let credentials = if *console {
                "console password reset at first sign-in, written to --password-file only"
            } else {
                "no credentials"
            };
            let inline: String = inline_policies
                .iter()
                .map(|preset| match preset {
                    Preset::RequireMfa => "; MFA required (require-mfa)".to_owned(),
                    other => format!("; inline policy {}", crate::model::preset::name(*other)),
                })
                .collect();
            match before {
                None => lines.push(format!(
                    "managed policies: {}{inline}; {credentials}",
                    managed_policies.join(", ")
                )),
                Some(before) => lines.push(format!(
                    "managed policies: {} -> {}{}",
                    before.managed_policies.join(", "),
                    managed_policies.join(", "),
                    if *console && !before.console {
                        format!("; {credentials}")
                    } else {
                        String::new()
                    }
                )),
            }
            if *handover {
                lines.push("a hand-over: orgctl does not touch it again".to_owned());
            }
        }
        Action::PutAlternateContact {
            contact, before, ..
        } => {
            lines.push(change.reason.clone());
            match before {
                None => lines.extend(
                    contact
                        .fields()
                        .iter()
                        .map(|(field, value)| format!("{field}: {value:?}")),
                ),
                Some(before) => lines.extend(
                    before
                        .fields()
                        .iter()
                        .zip(contact.fields())
                        .filter(|((_, from), (_, to))| from != to)
                        .map(|((field, from), (_, to))| format!("{field}: {from:?} -> {to:?}")),
                ),
            }
        }
        Action::DeleteAlternateContact { before, .. } => {
            lines.push(change.reason.clone());
            lines.push(format!("remove {} <{}>", before.name, before.email));
        }
        Action::UpdateTags {
            set, unset, before, ..
        } => {
            let mut after = before.clone();
            for key in unset {
                after.remove(key);
            }
            after.extend(set.iter().map(|(k, v)| (k.clone(), v.clone())));
            lines.push("tags:".to_owned());
            lines.extend(
                tags_diff(before, &after)
                    .into_iter()
                    .map(|l| format!("  {l}")),
            );
        }
    }
    lines
}

/// Who a trust policy lets in: its `AWS` principals, and whether an external id is required.
fn trusted(trust_policy: &str) -> String {
    let Ok(document) = serde_json::from_str::<serde_json::Value>(trust_policy) else {
        return trust_policy.to_owned();
    };
    let statements = document["Statement"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    statements
        .iter()
        .map(|statement| {
            let principal = statement["Principal"]["AWS"]
                .as_str()
                .unwrap_or("?")
                .to_owned();
            let mut terms = Vec::new();
            if statement["Condition"]["StringEquals"]["sts:ExternalId"].is_string() {
                terms.push("with its external id".to_owned());
            }
            if let Some(end) = statement["Condition"]["DateLessThan"]["aws:CurrentTime"].as_str() {
                terms.push(format!("refused from {end}"));
            }
            if terms.is_empty() {
                principal
            } else {
                format!("{principal} ({})", terms.join("; "))
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A unified diff of two policy documents, pretty-printed so that each statement has its lines.
pub fn document_diff(from: &str, to: &str) -> Vec<String> {
    let pretty = |document: &str| {
        serde_json::from_str::<serde_json::Value>(document)
            .ok()
            .and_then(|value| serde_json::to_string_pretty(&value).ok())
            .unwrap_or_else(|| document.to_owned())
            + "\n"
    };
    let (from, to) = (pretty(from), pretty(to));
    let diff = TextDiff::from_lines(&from, &to);
    diff.unified_diff()
        .context_radius(2)
        .header("live", "desired")
        .to_string()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// The tag lines that change, `-` for live and `+` for desired.
pub fn tags_diff(
    before: &BTreeMap<String, String>,
    after: &BTreeMap<String, String>,
) -> Vec<String> {
    let lines = |tags: &BTreeMap<String, String>| {
        tags.iter()
            .map(|(k, v)| format!("{k} = {v:?}\n"))
            .collect::<String>()
    };
    let (before, after) = (lines(before), lines(after));
    TextDiff::from_lines(&before, &after)
        .iter_all_changes()
        .filter_map(|change| match change.tag() {
            ChangeTag::Delete => Some(format!("- {}", change.value().trim_end())),
            ChangeTag::Insert => Some(format!("+ {}", change.value().trim_end())),
            ChangeTag::Equal => None,
        })
        .collect()
}
