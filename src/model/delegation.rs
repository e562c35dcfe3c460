//! Delegated administrators: member accounts that administer an AWS service for the whole
//! organization (GuardDuty, Security Hub, IAM Identity Center, …), by service principal.

use std::collections::{BTreeMap, BTreeSet};

use indexmap::IndexMap;

use super::organization::Organization;
use super::{Account, Checker, check_duplicate_references, policy, trusted_access};
use crate::config::{self, AccountLifecycle, BusinessModel, Party, Payer, Spanned};
use crate::rules::Rule;

/// Delegated administrators as the file declares them: service principal to the names of the
/// accounts that administer it.
pub type Delegations = BTreeMap<String, BTreeSet<String>>;

/// The accounts of `organization.delegated_administrators`, checked; `None` when the file does
/// not set the key (delegated administrators are then not managed).
pub(super) fn resolve(
    checker: &mut Checker,
    raw: &config::Organization,
    organization: &Organization,
    management: &Account,
    accounts: &IndexMap<String, Account>,
) -> Option<Delegations> {
    let written = raw.delegated_administrators.as_ref()?;
    if organization.payer == Payer::Shared {
        shared_payer(checker, raw, written);
    }
    let mut delegations = Delegations::new();
    for (principal, names) in written {
        if !trusted_access::is_service_principal(&principal.value) {
            let diagnostic = checker
                .at(
                    Rule::DelegatedAdministratorPrincipal,
                    principal.span,
                    format!("`{}` is not an AWS service principal", principal.value),
                    "not a service principal",
                )
                .help(trusted_access::help(&principal.value));
            checker.push(diagnostic);
            continue;
        }
        needs_trusted_access(checker, organization, principal);
        check_duplicate_references(
            checker,
            names,
            &format!("the delegated administrators of `{}`", principal.value),
        );
        let delegated = names
            .iter()
            .filter_map(|name| member(checker, organization, management, accounts, principal, name))
            .collect();
        delegations.insert(principal.value.clone(), delegated);
    }
    Some(delegations)
}

/// On a shared payer the organization is the provider's: a customer's file may not delegate its
/// services.
fn shared_payer(
    checker: &mut Checker,
    raw: &config::Organization,
    written: &IndexMap<Spanned<String>, Vec<Spanned<String>>>,
) {
    let span = written
        .keys()
        .next()
        .map_or(raw.payer.span, |first| first.span);
    let diagnostic = checker
        .at(
            Rule::DelegatedAdministratorSharedPayer,
            span,
            "a shared payer cannot delegate the administration of AWS services: the organization is the provider's",
            "delegated administration needs a dedicated payer",
        )
        .also(raw.payer.span, "declared shared here")
        .help("remove `delegated_administrators`, and ask the provider; or write `payer: dedicated`");
    checker.push(diagnostic);
}

/// AWS registers a delegated administrator only for a service with trusted access: when the file
/// manages trusted access, it must list the service. (When it does not, the plan checks the live
/// organization.)
fn needs_trusted_access(
    checker: &mut Checker,
    organization: &Organization,
    principal: &Spanned<String>,
) {
    let Some(trusted) = &organization.trusted_access else {
        return;
    };
    if trusted.contains(&principal.value) {
        return;
    }
    let diagnostic = checker
        .at(
            Rule::DelegatedAdministratorTrustedAccess,
            principal.span,
            format!(
                "`{}` has delegated administrators but no trusted access, which AWS requires first",
                principal.value
            ),
            "no trusted access",
        )
        .help(format!("add `{}` to `trusted_access`", principal.value));
    checker.push(diagnostic);
}

/// The account `name` names, when it may administer `principal`: a declared member account that
/// stays in the organization.
fn member(
    checker: &mut Checker,
    organization: &Organization,
    management: &Account,
    accounts: &IndexMap<String, Account>,
    principal: &Spanned<String>,
    name: &Spanned<String>,
) -> Option<String> {
    if name.value == management.name {
        let diagnostic = checker
            .at(
                Rule::DelegatedAdministratorManagement,
                name.span,
                format!(
                    "the management account `{}` cannot be the delegated administrator of `{}`: AWS delegates to member accounts only",
                    name.value, principal.value
                ),
                "the management account",
            )
            .help("name a member account, such as a security or tooling account; the management account administers every service already");
        checker.push(diagnostic);
        return None;
    }
    let context = format!("the delegated administrators of `{}`", principal.value);
    let name_resolved = policy::resolve_account_reference(checker, accounts, name, &context)?;
    let account = &accounts[&name_resolved];
    if account.lifecycle != AccountLifecycle::Active {
        let leaving = match account.lifecycle {
            AccountLifecycle::Close => "closes",
            _ => "removes",
        };
        let diagnostic = checker
            .at(
                Rule::DelegatedAdministratorInactive,
                name.span,
                format!(
                    "`{}` cannot administer `{}`: the file {leaving} the account",
                    name.value, principal.value
                ),
                "leaving the organization",
            )
            .help("delegate the service to an account that stays, or keep this account");
        checker.push(diagnostic);
        return None;
    }
    // On a shared payer the delegation is refused outright (`payer::shared_…`).
    if organization.business_model == BusinessModel::Ecam
        && organization.payer == Payer::Dedicated
        && organization.operator == Party::Provider
        && account.owner == Party::Customer
    {
        let diagnostic = checker
            .at(
                Rule::EcamDelegation,
                name.span,
                format!(
                    "delegating `{}` to `{}` is the customer's decision: under `ecam` the customer owns the account, and the provider runs the payer for billing only",
                    principal.value, name.value
                ),
                "a customer-owned account",
            )
            .help("agree the delegation with the customer, then list this warning under `orgctl.ignore`");
        checker.push(diagnostic);
    }
    Some(name_resolved)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Context, Resolved, resolve as resolve_model};

    /// A dedicated organization of `model`, run by `operator`, with the accounts `acme-security`
    /// and `acme-old` (closed) and the given `organization` keys appended.
    fn resolved(model: &str, operator: &str, organization: &str) -> Resolved {
        let text = format!(
            "organization:
  name: acme
  business_model: {model}
  operator: {operator}
  provider: {{ name: Reseller, email_domain: reseller.example }}
  customer: {{ name: Acme, email_domain: acme.example }}
  management_account: {{ name: acme-payer, email: payer@{payer_domain}, id: \"111111111111\" }}
{organization}
accounts:
  acme-security: {{}}
  acme-old: {{ id: \"333333333333\", lifecycle: close }}
",
            payer_domain = if model == "direct" {
                "acme.example"
            } else {
                "reseller.example"
            },
        );
        let config = config::load_in_memory(
            "orgctl.yaml",
            &text,
            std::path::Path::new("."),
            &BTreeMap::new(),
        )
        .expect("the configuration loads");
        resolve_model(&config, &Context::now())
    }

    fn codes(model: &str, operator: &str, organization: &str) -> Vec<&'static str> {
        resolved(model, operator, organization)
            .diagnostics
            .iter()
            .map(|diagnostic| diagnostic.rule.code())
            .filter(|code| !code.starts_with("orgctl::email::"))
            .collect()
    }

    fn direct(organization: &str) -> Vec<&'static str> {
        codes("direct", "customer", organization)
    }

    const TRUSTED: &str = "  trusted_access: [guardduty.amazonaws.com]\n";

    #[test]
    fn a_member_with_trusted_access_is_delegated() {
        let organization = format!(
            "{TRUSTED}  delegated_administrators:\n    guardduty.amazonaws.com: [acme-security]"
        );
        assert_eq!(direct(&organization), Vec::<&str>::new());
        let delegations = resolved("direct", "customer", &organization)
            .desired
            .delegated_administrators;
        assert_eq!(
            delegations,
            Some(BTreeMap::from([(
                "guardduty.amazonaws.com".to_owned(),
                BTreeSet::from(["acme-security".to_owned()])
            )]))
        );
    }

    #[test]
    fn absent_is_unmanaged_and_empty_is_managed() {
        assert_eq!(
            resolved("direct", "customer", "")
                .desired
                .delegated_administrators,
            None
        );
        assert_eq!(
            resolved("direct", "customer", "  delegated_administrators: {}")
                .desired
                .delegated_administrators,
            Some(BTreeMap::new())
        );
    }

    #[test]
    fn the_management_account_is_refused() {
        assert_eq!(
            direct(&format!(
                "{TRUSTED}  delegated_administrators:\n    guardduty.amazonaws.com: [acme-payer]"
            )),
            ["orgctl::delegated_administrator::management"]
        );
    }

    #[test]
    fn an_account_the_file_does_not_declare_is_named() {
        let resolved = resolved(
            "direct",
            "customer",
            &format!(
                "{TRUSTED}  delegated_administrators:\n    guardduty.amazonaws.com: [acme-securty]"
            ),
        );
        let errors: Vec<_> = resolved
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .collect();
        let [diagnostic] = errors.as_slice() else {
            panic!("one error: {errors:?}");
        };
        assert_eq!(diagnostic.rule, Rule::UnknownAccount);
        assert!(
            diagnostic.message.contains("`acme-securty`"),
            "{}",
            diagnostic.message
        );
        assert_eq!(
            diagnostic.help.as_deref(),
            Some("did you mean `acme-security`?")
        );
    }

    #[test]
    fn an_account_the_file_closes_is_refused() {
        assert_eq!(
            direct(&format!(
                "{TRUSTED}  delegated_administrators:\n    guardduty.amazonaws.com: [acme-old]"
            )),
            ["orgctl::delegated_administrator::inactive"]
        );
    }

    #[test]
    fn managed_trusted_access_must_list_the_service() {
        assert_eq!(
            direct(
                "  trusted_access: []\n  delegated_administrators:\n    guardduty.amazonaws.com: [acme-security]"
            ),
            ["orgctl::delegated_administrator::trusted_access"]
        );
        // Unmanaged trusted access is checked against the live organization by the plan.
        assert_eq!(
            direct("  delegated_administrators:\n    guardduty.amazonaws.com: [acme-security]"),
            Vec::<&str>::new()
        );
    }

    #[test]
    fn what_is_not_a_service_principal_is_an_error() {
        assert_eq!(
            direct("  delegated_administrators:\n    guardduty: [acme-security]"),
            ["orgctl::delegated_administrator::principal"]
        );
    }

    #[test]
    fn a_shared_payer_cannot_delegate() {
        assert_eq!(
            codes(
                "resold",
                "provider",
                "  payer: shared\n  delegated_administrators: {}"
            ),
            ["orgctl::payer::shared_delegated_administrator"]
        );
    }

    #[test]
    fn an_ecam_provider_delegating_to_a_customer_account_is_warned() {
        let organization = format!(
            "{TRUSTED}  delegated_administrators:\n    guardduty.amazonaws.com: [acme-security]"
        );
        assert_eq!(
            codes("ecam", "provider", &organization),
            ["orgctl::ownership::ecam_delegation"]
        );
        assert_eq!(codes("ecam", "customer", &organization), Vec::<&str>::new());
        assert_eq!(codes("spam", "provider", &organization), Vec::<&str>::new());
    }
}
