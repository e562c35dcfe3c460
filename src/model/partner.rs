//! APN partners: IAM roles trusted to a partner's account in the accounts it is granted, for the
//! length of its contract.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use indexmap::IndexMap;
use serde::Serialize;

use super::policy::resolve_account_reference;
use super::{Account, Checker, Context, Ou, OuPath, check_duplicate_references, limits, ou};
use crate::config::{AccountLifecycle, ConfigFile, Span, Spanned};
use crate::rules::Rule;

/// A partner's access, resolved.
#[derive(Debug, Clone, Serialize)]
pub struct Partner {
    /// The partner name.
    pub name: String,
    /// The partner's own account, trusted by the role.
    pub account_id: String,
    /// The role created in each granted account.
    pub role_name: String,
    /// The external id the partner must present, if any.
    pub external_id: Option<String>,
    /// Managed policy ARNs attached to the role.
    pub managed_policies: Vec<String>,
    /// The member accounts that get the role (through `ous` or `accounts`), by name.
    pub accounts: BTreeSet<String>,
    /// The last day of the contract.
    pub until: Option<NaiveDate>,
    /// Whether the contract has ended: the plan revokes the role.
    pub expired: bool,
}

pub(super) fn resolve(
    checker: &mut Checker,
    context: &Context,
    ous: &IndexMap<OuPath, Ou>,
    management: &Account,
    accounts: &IndexMap<String, Account>,
    file: &ConfigFile,
) -> IndexMap<String, Partner> {
    let management_ou_span = file
        .organization
        .management_account
        .ou
        .as_ref()
        .map(|ou| ou.span);
    let mut partners = IndexMap::with_capacity(file.partners.len());
    // The partner that has each (account, role name): one role is one partner's.
    let mut roles: std::collections::HashMap<(String, String), String> =
        std::collections::HashMap::new();
    for (name, raw) in &file.partners {
        let context_text = format!("partner `{}`", name.value);
        limits::check_account_id(
            checker,
            &raw.account_id,
            &format!("the account id of {context_text}"),
        );
        limits::check_role_name(checker, &raw.role_name);
        if let Some(external_id) = &raw.external_id {
            limits::check_external_id(checker, external_id);
        }
        for arn in &raw.managed_policies {
            limits::check_policy_arn(checker, arn);
        }
        check_duplicate_references(checker, &raw.ous, &format!("the OUs of {context_text}"));
        check_duplicate_references(
            checker,
            &raw.accounts,
            &format!("the accounts of {context_text}"),
        );
        if raw.ous.is_empty() && raw.accounts.is_empty() {
            let diagnostic = checker
                .at(
                    Rule::PartnerNoTargets,
                    name.span,
                    format!("partner `{}` is granted no OU and no account", name.value),
                    "grants nothing",
                )
                .help("list the OUs (`ous`) or accounts (`accounts`) the partner operates, or remove the partner");
            checker.push(diagnostic);
        }

        let mut granted = BTreeSet::new();
        for reference in &raw.ous {
            let Some(path) = ou::resolve_reference(checker, ous, reference, &context_text) else {
                continue;
            };
            if management.ou.is_within(&path) {
                report_management_access(
                    checker,
                    reference,
                    &name.value,
                    &management.name,
                    management_ou_span,
                );
            }
            granted.extend(
                accounts
                    .values()
                    .filter(|account| {
                        account.ou.is_within(&path) && account.lifecycle == AccountLifecycle::Active
                    })
                    .map(|account| account.name.clone()),
            );
        }
        for reference in &raw.accounts {
            if reference.value == management.name {
                report_management_access(checker, reference, &name.value, &management.name, None);
                continue;
            }
            // Accounts on their way out get no new roles, however they are named.
            if let Some(account) =
                resolve_account_reference(checker, accounts, reference, &context_text)
                && accounts
                    .get(&account)
                    .is_some_and(|a| a.lifecycle == AccountLifecycle::Active)
            {
                granted.insert(account);
            }
        }

        let until = raw
            .until
            .as_ref()
            .and_then(|until| parse_until(checker, until));
        let expired = until.is_some_and(|until| until < context.today);
        if let (Some(until), true) = (until, expired) {
            let span = raw.until.as_ref().map_or(name.span, |until| until.span);
            let diagnostic = checker
                .at(
                    Rule::PartnerExpired,
                    span,
                    format!(
                        "the contract of partner `{}` ended on {until}: the plan revokes role `{}` in {} account{}",
                        name.value,
                        raw.role_name.value,
                        granted.len(),
                        if granted.len() == 1 { "" } else { "s" }
                    ),
                    "ended",
                )
                .help("extend `until` if the contract was renewed; otherwise apply the plan to revoke the access, then remove the partner");
            checker.push(diagnostic);
        }
        // An expired partner's role goes to whoever has the name next.
        for account in granted.iter().filter(|_| !expired) {
            let key = (account.clone(), raw.role_name.value.clone());
            if let Some(other) = roles.insert(key, name.value.clone()) {
                let diagnostic = checker
                    .at(
                        Rule::ConfigInvalidValue,
                        raw.role_name.span,
                        format!(
                            "partners `{other}` and `{}` both get the role `{}` in `{account}`",
                            name.value, raw.role_name.value
                        ),
                        "a role name another partner has",
                    )
                    .help("give each partner its own `role_name`: a role trusts one partner");
                checker.push(diagnostic);
                break;
            }
        }
        partners.insert(
            name.value.clone(),
            Partner {
                name: name.value.clone(),
                account_id: raw.account_id.value.clone(),
                role_name: raw.role_name.value.clone(),
                external_id: raw.external_id.as_ref().map(|id| id.value.clone()),
                managed_policies: raw
                    .managed_policies
                    .iter()
                    .map(|arn| arn.value.clone())
                    .collect(),
                accounts: granted,
                until,
                expired,
            },
        );
    }
    partners
}

fn report_management_access(
    checker: &mut Checker,
    reference: &Spanned<String>,
    partner: &str,
    management: &str,
    through_ou: Option<Span>,
) {
    let mut diagnostic = checker.at(
        Rule::ManagementWorkloadAccess,
        reference.span,
        format!("partner `{partner}` would get a role in the management account `{management}`"),
        "reaches the management account",
    );
    diagnostic = match through_ou {
        Some(span) => diagnostic
            .also(span, "the management account sits in this OU")
            .help(format!("grant the partner the member accounts by name, or move the management account out of `{}`", reference.value)),
        None => diagnostic.help("remove it from the partner's `accounts`: the management account runs billing and organization management only"),
    };
    checker.push(diagnostic);
}

fn parse_until(checker: &mut Checker, until: &Spanned<String>) -> Option<NaiveDate> {
    match NaiveDate::parse_from_str(until.value.trim(), "%Y-%m-%d") {
        Ok(date) => Some(date),
        Err(error) => {
            let diagnostic = checker
                .at(
                    Rule::PartnerUntil,
                    until.span,
                    if error.kind() == chrono::format::ParseErrorKind::OutOfRange {
                        format!("`{}` is not a calendar date", until.value)
                    } else {
                        format!("`{}` is not a YYYY-MM-DD date", until.value)
                    },
                    "not a date",
                )
                .help("write the contract's last day as YYYY-MM-DD, e.g. `until: 2027-06-30`");
            checker.push(diagnostic);
            None
        }
    }
}
