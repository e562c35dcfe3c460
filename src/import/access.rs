//! The IAM orgctl created inside member accounts, written back as `partners` and the end
//! customer's user, so that an imported file does not revoke what an earlier file granted.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;

use super::yaml::{Document, scalar};
use crate::diagnostic::Diagnostic;
use crate::live::{LiveState, MANAGED_TAG, PARTNER_TAG};
use crate::rules::Rule;

/// What one partner's role is, the same in every account it has it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct RoleShape {
    account_id: String,
    role_name: String,
    external_id: Option<String>,
    managed_policies: Vec<String>,
    until: Option<NaiveDate>,
}

/// A partner as the file declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Partner {
    role: RoleShape,
    /// Keys of the accounts that have the role, sorted.
    accounts: Vec<String>,
}

/// The end customer's user, when every active member account has the same one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct User {
    name: String,
    managed_policies: Vec<String>,
    console: bool,
}

/// What the roles and users orgctl created say about the file that made them.
#[derive(Debug, Default)]
pub(super) struct Access {
    pub partners: BTreeMap<String, Partner>,
    pub user: Option<User>,
}

/// Rebuilds partners from their roles (trust policy, managed policies, tags) and the end
/// customer's user from the users; `keys` names accounts as the file does.
pub(super) fn rebuild(
    live: &LiveState,
    keys: &HashMap<String, String>,
    active_members: usize,
    notes: &mut Vec<String>,
) -> Result<Access, Vec<Diagnostic>> {
    let mut problems = Vec::new();
    let mut access = Access::default();
    // Per partner, per shape of role: the accounts that have it.
    let mut shapes: BTreeMap<String, BTreeMap<RoleShape, Vec<String>>> = BTreeMap::new();
    let mut users: BTreeMap<(String, Vec<String>, bool), usize> = BTreeMap::new();
    for iam in &live.iam {
        let Some(key) = keys.get(&iam.account_id) else {
            continue;
        };
        for role in iam
            .roles
            .iter()
            .filter(|r| r.tags.contains_key(MANAGED_TAG))
        {
            let partner = role
                .tags
                .get(PARTNER_TAG)
                .cloned()
                .unwrap_or_else(|| role.name.clone());
            let Some((account_id, external_id, until)) = parse_trust(&role.trust_policy) else {
                problems.push(
                    Diagnostic::new(
                        Rule::ImportConflict,
                        format!(
                            "the role `{}` orgctl made in {} has a trust policy orgctl did not write",
                            role.name, iam.account_id
                        ),
                    )
                    .help("restore its trust policy (one partner account, optional external id and end date), or delete the role, then import again"),
                );
                continue;
            };
            shapes
                .entry(partner)
                .or_default()
                .entry(RoleShape {
                    account_id,
                    role_name: role.name.clone(),
                    external_id,
                    managed_policies: role.managed_policies.clone(),
                    until,
                })
                .or_default()
                .push(key.clone());
        }
        for user in iam
            .users
            .iter()
            .filter(|u| u.tags.contains_key(MANAGED_TAG))
        {
            *users
                .entry((
                    user.name.clone(),
                    user.managed_policies.clone(),
                    user.console,
                ))
                .or_default() += 1;
        }
    }
    for (name, shapes) in shapes {
        if shapes.len() > 1 {
            problems.push(
                Diagnostic::new(
                    Rule::ImportConflict,
                    format!(
                        "partner `{name}` has roles that differ between accounts (trust, name or policies): {}",
                        shapes.values().map(|accounts| accounts.join(", ")).collect::<Vec<_>>().join(" / ")
                    ),
                )
                .help("make its roles alike (apply one file), or delete the odd ones, then import again"),
            );
            continue;
        }
        if let Some((role, mut accounts)) = shapes.into_iter().next() {
            accounts.sort();
            access.partners.insert(name, Partner { role, accounts });
        }
    }
    match users.into_iter().collect::<Vec<_>>().as_slice() {
        [] => {}
        [((name, managed_policies, console), count)] if *count == active_members => {
            access.user = Some(User {
                name: name.clone(),
                managed_policies: managed_policies.clone(),
                console: *console,
            });
        }
        _ => notes.push(
            "the end customer's users orgctl created differ between accounts, or some accounts lack one: `end_customer_user` is not declared, and orgctl leaves them alone".to_owned(),
        ),
    }
    if problems.is_empty() {
        Ok(access)
    } else {
        Err(problems)
    }
}

/// The partner account, external id and last day of a trust policy orgctl wrote.
fn parse_trust(document: &str) -> Option<(String, Option<String>, Option<NaiveDate>)> {
    let value: serde_json::Value = serde_json::from_str(document).ok()?;
    let statements = value["Statement"].as_array()?;
    let [statement] = statements.as_slice() else {
        return None;
    };
    let account_id = statement["Principal"]["AWS"]
        .as_str()?
        .strip_prefix("arn:aws:iam::")?
        .strip_suffix(":root")?
        .to_owned();
    let condition = &statement["Condition"];
    let external_id = condition["StringEquals"]["sts:ExternalId"]
        .as_str()
        .map(str::to_owned);
    let until = match condition["DateLessThan"]["aws:CurrentTime"].as_str() {
        Some(end) => Some(
            NaiveDate::parse_from_str(end.get(..10)?, "%Y-%m-%d")
                .ok()?
                .pred_opt()?,
        ),
        None => None,
    };
    Some((account_id, external_id, until))
}

/// `partners:` as YAML.
pub(super) fn write_partners(document: &mut Document, partners: &BTreeMap<String, Partner>) {
    if partners.is_empty() {
        return;
    }
    document.blank();
    document.open(0, "partners");
    for (name, partner) in partners {
        document.open(2, name);
        let role = &partner.role;
        document.entry(4, "account_id", &role.account_id);
        document.entry(4, "role_name", &role.role_name);
        if let Some(external_id) = &role.external_id {
            document.entry(4, "external_id", external_id);
        }
        if !role.managed_policies.is_empty() {
            document.list(4, "managed_policies", &role.managed_policies);
        }
        document.list(4, "accounts", &partner.accounts);
        if let Some(until) = role.until {
            document.raw(4, "until", &scalar(&until.to_string()));
        }
    }
}

/// `end_customer_access` and `end_customer_user` under `organization:`.
pub(super) fn write_user(document: &mut Document, user: &User) {
    document.raw(2, "end_customer_access", "iam_user");
    document.open(2, "end_customer_user");
    document.entry(4, "name", &user.name);
    document.list(4, "managed_policies", &user.managed_policies);
    document.raw(4, "console", if user.console { "true" } else { "false" });
}
