//! Trusted access: the AWS services allowed to act across the organization, by service
//! principal.

use std::collections::{BTreeSet, HashMap};

use super::Checker;
use crate::config::{self, Payer, Span};
use crate::rules::Rule;

/// The suffix of every AWS service principal.
const SERVICE_SUFFIX: &str = ".amazonaws.com";

/// Whether `principal` is an AWS service principal: `<service>.amazonaws.com`, the service part
/// of lowercase letters, digits, dots and dashes.
pub(super) fn is_service_principal(principal: &str) -> bool {
    principal
        .strip_suffix(SERVICE_SUFFIX)
        .is_some_and(|service| {
            !service.is_empty()
                && !service.starts_with('.')
                && !service.ends_with('.')
                && service
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        })
}

/// What to write instead of `written`, which is not a service principal.
pub(super) fn help(written: &str) -> String {
    let guess = format!("{}{SERVICE_SUFFIX}", written.trim().to_ascii_lowercase());
    if is_service_principal(&guess) {
        format!("did you mean `{guess}`? a service principal is `<service>{SERVICE_SUFFIX}`")
    } else {
        format!(
            "write the service's principal, as `guardduty{SERVICE_SUFFIX}` or `sso{SERVICE_SUFFIX}`"
        )
    }
}

/// The service principals of `organization.trusted_access`, checked; `None` when the file does
/// not set the key (trusted access is then not managed).
pub(super) fn resolve(
    checker: &mut Checker,
    raw: &config::Organization,
) -> Option<BTreeSet<String>> {
    let list = raw.trusted_access.as_ref()?;
    if raw.payer.value == Payer::Shared {
        let span = list.first().map_or(raw.payer.span, |first| first.span);
        let diagnostic = checker
            .at(
                Rule::TrustedAccessSharedPayer,
                span,
                "a shared payer cannot set organization-wide trusted access: the organization is the provider's",
                "trusted access needs a dedicated payer",
            )
            .also(raw.payer.span, "declared shared here")
            .help("remove `trusted_access`, and ask the provider to enable the service in its organization; or write `payer: dedicated`");
        checker.push(diagnostic);
    }
    let mut seen: HashMap<&str, Span> = HashMap::new();
    for principal in list {
        if !is_service_principal(&principal.value) {
            let diagnostic = checker
                .at(
                    Rule::TrustedAccessPrincipal,
                    principal.span,
                    format!("`{}` is not an AWS service principal", principal.value),
                    "not a service principal",
                )
                .help(help(&principal.value));
            checker.push(diagnostic);
        } else if let Some(first) = seen.insert(principal.value.as_str(), principal.span) {
            let diagnostic = checker
                .at(
                    Rule::TrustedAccessDuplicate,
                    principal.span,
                    format!("`{}` is listed twice in `trusted_access`", principal.value),
                    "listed again here",
                )
                .also(first, "first listed here")
                .help("remove one of the two entries");
            checker.push(diagnostic);
        }
    }
    Some(
        list.iter()
            .filter(|principal| is_service_principal(&principal.value))
            .map(|principal| principal.value.clone())
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config;
    use crate::model::{Context, resolve as resolve_model};

    const HEAD: &str = "organization:\n  name: acme\n  business_model: direct\n  customer: { name: Acme, email_domain: acme.example }\n  management_account: { name: acme-payer, email: payer@acme.example, id: \"111111111111\" }\n";

    fn resolved(rest: &str) -> crate::model::Resolved {
        let text = format!("{HEAD}{rest}");
        let config = config::load_in_memory(
            "orgctl.yaml",
            &text,
            std::path::Path::new("."),
            &std::collections::BTreeMap::new(),
        )
        .expect("the configuration loads");
        resolve_model(&config, &Context::now())
    }

    fn codes(rest: &str) -> Vec<&'static str> {
        resolved(rest)
            .diagnostics
            .iter()
            .map(|diagnostic| diagnostic.rule.code())
            .filter(|code| !code.starts_with("orgctl::email::"))
            .collect()
    }

    fn trusted(rest: &str) -> Option<BTreeSet<String>> {
        resolved(rest).desired.organization.trusted_access
    }

    #[test]
    fn service_principals_are_accepted() {
        assert_eq!(
            codes(
                "  trusted_access: [guardduty.amazonaws.com, config-multiaccountsetup.amazonaws.com]\n"
            ),
            Vec::<&str>::new()
        );
    }

    #[test]
    fn what_is_not_a_service_principal_is_an_error() {
        for written in [
            "guardduty",
            "arn:aws:iam::123456789012:root",
            ".amazonaws.com",
            "GuardDuty.amazonaws.com",
        ] {
            assert_eq!(
                codes(&format!("  trusted_access: [\"{written}\"]\n")),
                ["orgctl::trusted_access::principal"],
                "{written}"
            );
        }
    }

    #[test]
    fn a_principal_listed_twice_is_a_warning() {
        assert_eq!(
            codes("  trusted_access: [sso.amazonaws.com, sso.amazonaws.com]\n"),
            ["orgctl::trusted_access::duplicate"]
        );
    }

    #[test]
    fn a_shared_payer_cannot_set_trusted_access_even_empty() {
        for list in ["[sso.amazonaws.com]", "[]"] {
            assert_eq!(
                codes(&format!("  payer: shared\n  trusted_access: {list}\n")),
                ["orgctl::payer::shared_trusted_access"],
                "{list}"
            );
        }
    }

    #[test]
    fn absent_is_unmanaged_and_empty_is_managed() {
        assert_eq!(trusted(""), None);
        assert_eq!(trusted("  trusted_access: []\n"), Some(BTreeSet::new()));
    }
}
