//! Root emails: generated from the template with the owner's domain, then judged against AWS's
//! rules and against the ownership matrix (an email on a party's domain means that party holds
//! the root user).

use std::collections::HashMap;

use indexmap::IndexMap;

use super::organization::Organization;
use super::ownership::{AccountKind, Ownership, model_name, party_name};
use super::{Account, Checker, EmailSource};
use crate::config::{ConfigFile, Join, Party, Span, Spanned};
use crate::rules::Rule;
use crate::suggest::describe_char;

const PLACEHOLDERS: &[&str] = &["account", "domain", "organization"];

/// The root email the template gives `account` when `owner` owns it; `None` when the owner's
/// domain is not declared (reported as a missing owner).
pub(super) fn expand(organization: &Organization, account: &str, owner: Party) -> Option<String> {
    let domain = organization.domain_of(owner)?;
    Some(expand_template(
        &organization.email_template,
        account,
        domain,
        &organization.name,
    ))
}

/// The root email `template` gives the account `account` whose owner's domain is `domain`.
pub fn expand_template(template: &str, account: &str, domain: &str, organization: &str) -> String {
    template
        .replace("{account}", account)
        .replace("{domain}", domain)
        .replace("{organization}", organization)
}

/// Why AWS would reject `email`, if it would (CreateAccount's rules).
pub fn invalid_reason(email: &str) -> Option<String> {
    let length = email.chars().count();
    if !(6..=64).contains(&length) {
        return Some(format!(
            "it is {length} characters long; AWS allows 6 to 64"
        ));
    }
    if let Some(c) = email
        .chars()
        .find(|c| !c.is_ascii() || c.is_ascii_control())
    {
        if c.is_ascii_control() {
            return Some(format!(
                "it contains {}, a control character",
                describe_char(c)
            ));
        }
        return Some(format!(
            "it contains {}; AWS allows 7-bit ASCII only",
            describe_char(c)
        ));
    }
    let mut parts = email.split('@');
    let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
        return Some("it must contain exactly one `@`".to_owned());
    };
    if local.is_empty() {
        return Some("nothing stands before the `@`".to_owned());
    }
    if local.starts_with('.') {
        return Some("the part before the `@` starts with a dot".to_owned());
    }
    if let Some(c) = local
        .chars()
        .find(|c| c.is_whitespace() || "\"'()<>[]:;,|%&".contains(*c))
    {
        return Some(format!(
            "the part before the `@` contains {}",
            describe_char(c)
        ));
    }
    if let Some(c) = domain
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '.'))
    {
        return Some(format!("the domain contains {}", describe_char(c)));
    }
    if domain.starts_with(['-', '.']) || domain.ends_with(['-', '.']) {
        return Some("the domain starts or ends with `-` or `.`".to_owned());
    }
    if !domain.contains('.') {
        return Some("the domain has no dot".to_owned());
    }
    None
}

/// Whether `domain` is reserved for examples and documentation (RFC 2606, RFC 6761): mail to it
/// goes nowhere, so AWS's root-user emails would be lost.
pub fn is_example_domain(domain: &str) -> bool {
    let domain = domain.trim_end_matches('.').to_ascii_lowercase();
    let under = |suffix: &str| domain == suffix || domain.ends_with(&format!(".{suffix}"));
    ["example.com", "example.net", "example.org"]
        .iter()
        .any(|d| under(d))
        || ["example", "test", "invalid", "localhost"]
            .iter()
            .any(|tld| under(tld))
}

fn domain_of(email: &str) -> &str {
    email.rsplit_once('@').map_or("", |(_, domain)| domain)
}

/// The template, every account's email, uniqueness, and emails against owners.
pub(super) fn check_all(
    checker: &mut Checker,
    organization: &Organization,
    management: &Account,
    accounts: &IndexMap<String, Account>,
    file: &ConfigFile,
) {
    let raw_organization = &file.organization;
    let template = &raw_organization.email_template;
    check_template(checker, template);
    check_declared_domains(checker, file);

    let raw_management = &raw_organization.management_account;
    let management_spans = EmailSpans {
        name: raw_management.name.span,
        email: raw_management.email.as_ref(),
    };
    let mut judge = Judge {
        organization,
        template,
        management_owner: management.owner,
        seen: HashMap::with_capacity(accounts.len() + 1),
        template_mismatch: [None, None],
    };
    // The management account's actual owner decides which member owners are possible.
    judge.management_owner = organization
        .party_of_domain(domain_of(&management.email), management.owner)
        .unwrap_or(management.owner);
    judge.check(
        checker,
        management,
        AccountKind::Management,
        &management_spans,
    );
    for (name, raw) in &file.accounts {
        if let Some(account) = accounts.get(&name.value) {
            let spans = EmailSpans {
                name: name.span,
                email: raw.email.as_ref(),
            };
            judge.check(checker, account, AccountKind::Member, &spans);
        }
    }
    judge.report_template_mismatches(checker);
}

struct EmailSpans<'a> {
    name: Span,
    email: Option<&'a Spanned<String>>,
}

struct Judge<'a> {
    organization: &'a Organization,
    template: &'a Spanned<String>,
    management_owner: Party,
    /// Lower-cased emails seen so far, with the account and span that used them first.
    seen: HashMap<String, (String, Span)>,
    /// The first template-generated email on the wrong domain, and how many, per account kind.
    template_mismatch: [Option<(String, Option<Party>, usize)>; 2],
}

impl Judge<'_> {
    fn check(
        &mut self,
        checker: &mut Checker,
        account: &Account,
        kind: AccountKind,
        spans: &EmailSpans<'_>,
    ) {
        // An empty generated email means the template failed, which is reported on its own; an
        // empty written one is checked like any other.
        if account.email.is_empty() && account.email_source == EmailSource::Template {
            return;
        }
        let (span, label) = match spans.email {
            Some(email) => (email.span, "this email"),
            None => (spans.name, "this account's generated email"),
        };
        if let Some(reason) = invalid_reason(&account.email) {
            let help = match account.email_source {
                EmailSource::Explicit => match self.organization.domain_of(account.owner) {
                    Some(domain) => format!("write an address of 6–64 ASCII characters on the owner's domain, e.g. `aws+{}@{domain}`", account.name),
                    None => "write an address of 6–64 ASCII characters with one `@` and a domain with a dot".to_owned(),
                },
                EmailSource::Template => {
                    let fixed = account.email.chars().count().saturating_sub(account.name.chars().count());
                    if account.email.chars().count() > 64 && fixed < 64 {
                        format!(
                            "shorten the account name to at most {} characters, or give it an explicit `email`",
                            64 - fixed
                        )
                    } else {
                        format!(
                            "give `{}` an explicit `email`: the template `{}` cannot make a valid address of its name",
                            account.name, self.organization.email_template
                        )
                    }
                }
            };
            let diagnostic = checker
                .at(
                    Rule::EmailInvalid,
                    span,
                    if account.email.is_empty() {
                        format!(
                            "the root email of `{}` is empty: AWS requires one",
                            account.name
                        )
                    } else {
                        format!(
                            "AWS would reject the root email `{}` of `{}`: {reason}",
                            account.email, account.name
                        )
                    },
                    label,
                )
                .help(help);
            checker.push(diagnostic);
            return;
        }

        let key = account.email.to_ascii_lowercase();
        if let Some((first_name, first_span)) = self.seen.get(&key) {
            let diagnostic = checker
                .at(
                    Rule::EmailDuplicate,
                    span,
                    format!("`{first_name}` and `{}` have the same root email `{}`", account.name, account.email),
                    "used again here",
                )
                .also(*first_span, "first used here")
                .help("every AWS account needs its own root email (compared without case); change one of them");
            checker.push(diagnostic);
        } else {
            self.seen.insert(key, (account.name.clone(), span));
        }

        if let Some(email) = spans.email
            && is_example_domain(domain_of(&email.value))
            && self
                .organization
                .party_of_domain(domain_of(&email.value), account.owner)
                .is_none()
        {
            let diagnostic = checker
                .at(
                    Rule::EmailExampleDomain,
                    email.span,
                    format!("`{}` is on a domain reserved for examples; no mail reaches it", email.value),
                    "example domain",
                )
                .help("use a domain whose mailbox the owner reads: AWS sends root-user mail and password resets there");
            checker.push(diagnostic);
        }

        self.check_owner(checker, account, kind, spans, span);
    }

    /// The email's domain says who holds the root user; it must be the owner of the matrix.
    fn check_owner(
        &mut self,
        checker: &mut Checker,
        account: &Account,
        kind: AccountKind,
        spans: &EmailSpans<'_>,
        span: Span,
    ) {
        let expected = account.owner;
        let Some(expected_domain) = self.organization.domain_of(expected) else {
            return; // reported as a missing owner
        };
        let actual = self
            .organization
            .party_of_domain(domain_of(&account.email), expected);
        if actual == Some(expected) {
            return;
        }
        if spans.email.is_none() {
            let slot = &mut self.template_mismatch[kind as usize];
            match slot {
                Some((_, _, count)) => *count += 1,
                None => *slot = Some((account.email.clone(), actual, 1)),
            }
            return;
        }
        let model = model_name(self.organization.business_model);
        let on = describe_domain(domain_of(&account.email), actual);
        let impossible = kind == AccountKind::Member
            && actual.is_some_and(|actual| !Ownership::possible(self.management_owner, actual));
        let diagnostic = if impossible {
            checker
                .at(
                    Rule::ImpossibleOwnership,
                    span,
                    format!(
                        "`{}` would be owned by the provider (its root email is on {on}) while the customer owns the management account",
                        account.name
                    ),
                    "a provider-owned member",
                )
                .help(format!(
                    "a provider cannot own a member of a customer-owned organization: use an address on `{expected_domain}`, or, if the provider should own every account, write `business_model: spam`"
                ))
        } else if account.join == Join::Invite {
            // An existing account: its root is someone's already, and joining does not move it.
            checker
                .at(
                    Rule::InvitedRoot,
                    span,
                    format!(
                        "`{}` would join with its root on {on}, but under `{model}` {} owns {}",
                        account.name,
                        party_name(expected),
                        kind.describe()
                    ),
                    format!("should be on `{expected_domain}`"),
                )
                .help(format!(
                    "the root user is handed over before the account is invited: its holder changes the root email to an address on `{expected_domain}` (and the MFA with it), then `email` here says so"
                ))
        } else {
            let rule = match kind {
                AccountKind::Management => Rule::ManagementEmailDomain,
                AccountKind::Member => Rule::MemberEmailDomain,
            };
            checker
                .at(
                    rule,
                    span,
                    format!(
                        "the root email of `{}` is on {on}, but under `{model}` {} owns {}",
                        account.name,
                        party_name(expected),
                        kind.describe()
                    ),
                    format!("should be on `{expected_domain}`"),
                )
                .help(format!(
                    "whoever holds the root email owns the account: use an address on `{expected_domain}`, or remove `email` to use the template"
                ))
        };
        checker.push(diagnostic);
    }

    fn report_template_mismatches(&self, checker: &mut Checker) {
        for (index, kind) in [AccountKind::Management, AccountKind::Member]
            .into_iter()
            .enumerate()
        {
            let Some((example, actual, count)) = &self.template_mismatch[index] else {
                continue;
            };
            let owner = self.organization.ownership.owner(kind);
            let rule = match kind {
                AccountKind::Management => Rule::ManagementEmailDomain,
                AccountKind::Member => Rule::MemberEmailDomain,
            };
            let on = describe_domain(domain_of(example), *actual);
            let model = model_name(self.organization.business_model);
            let message = match kind {
                AccountKind::Management => format!(
                    "the email template gives the management account the root email `{example}`, on {on}, but under `{model}` {} owns it",
                    party_name(owner)
                ),
                AccountKind::Member => format!(
                    "the email template gives {count} member account{} root emails on {on}, e.g. `{example}`, but under `{model}` {} owns member accounts",
                    if *count == 1 { "" } else { "s" },
                    party_name(owner)
                ),
            };
            let diagnostic = checker
                .at(
                    rule,
                    self.template.span,
                    message,
                    "the template fixes the domain",
                )
                .help("write `{domain}` where the domain goes, e.g. `email_template: \"aws+{account}@{domain}\"`: it stands for the domain of each account's owner");
            checker.push(diagnostic);
        }
    }
}

fn describe_domain(domain: &str, party: Option<Party>) -> String {
    match party {
        Some(party) => format!("`{domain}`, {}'s domain", party_name(party)),
        None => format!("`{domain}`, which is neither the provider's nor the customer's domain"),
    }
}

fn check_template(checker: &mut Checker, template: &Spanned<String>) {
    let mut rest = template.value.as_str();
    while let Some(start) = rest.find('{') {
        let Some(end) = rest[start..].find('}') else {
            let diagnostic = checker
                .at(
                    Rule::EmailTemplate,
                    checker.sub_span(template.span, &rest[start..]),
                    "the email template opens a `{` it never closes",
                    "unclosed placeholder",
                )
                .help("placeholders are `{account}`, `{domain}` and `{organization}`");
            checker.push(diagnostic);
            return;
        };
        let placeholder = &rest[start..start + end + 1];
        let name = &placeholder[1..placeholder.len() - 1];
        if !PLACEHOLDERS.contains(&name) {
            let suggestion = crate::suggest::closest(name, PLACEHOLDERS.iter().copied())
                .or_else(|| {
                    PLACEHOLDERS
                        .iter()
                        .copied()
                        .find(|p| p.starts_with(name) && !name.is_empty())
                })
                .map(|p| format!("did you mean `{{{p}}}`? "))
                .unwrap_or_default();
            let diagnostic = checker
                .at(
                    Rule::EmailTemplate,
                    checker.sub_span(template.span, placeholder),
                    format!("the email template has the unknown placeholder `{placeholder}`"),
                    "unknown placeholder",
                )
                .help(format!(
                    "{suggestion}placeholders are `{{account}}`, `{{domain}}` and `{{organization}}`"
                ));
            checker.push(diagnostic);
            return;
        }
        rest = &rest[start + end + 1..];
    }
    if !template.value.contains("{account}") {
        let diagnostic = checker
            .at(
                Rule::EmailTemplate,
                template.span,
                "the email template has no `{account}`, so every account would get the same root email",
                "no `{account}`",
            )
            .help("add `{account}`, e.g. `email_template: \"aws+{account}@{domain}\"`");
        checker.push(diagnostic);
    }
}

fn check_declared_domains(checker: &mut Checker, file: &ConfigFile) {
    let organization = &file.organization;
    let domains = [
        organization
            .provider
            .as_ref()
            .map(|p| (&p.email_domain, Party::Provider)),
        organization
            .customer
            .as_ref()
            .map(|c| (&c.email_domain, Party::Customer)),
    ];
    for (domain, party) in domains.into_iter().flatten() {
        if is_example_domain(&domain.value) {
            let diagnostic = checker
                .at(
                    Rule::EmailExampleDomain,
                    domain.span,
                    format!("`{}` is reserved for examples; no mail reaches it", domain.value),
                    "example domain",
                )
                .help(format!("use the domain whose mailboxes {} reads: AWS sends root-user mail and password resets there", party_name(party)));
            checker.push(diagnostic);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_what_aws_accepts() {
        for email in [
            "aws+acme-prod@acme.example",
            "a.b@c.de",
            "root@sub.domain.co.uk",
        ] {
            assert_eq!(invalid_reason(email), None, "{email}");
        }
    }

    #[test]
    fn rejects_what_aws_rejects() {
        let cases = [
            ("a@b.c", "6 to 64"),
            ("no-at-sign.example", "exactly one `@`"),
            ("two@@signs.example", "exactly one `@`"),
            (".dot@acme.example", "starts with a dot"),
            ("with space@acme.example", "contains a space"),
            ("aws@nodot", "no dot"),
            ("aws@-acme.example", "starts or ends"),
            ("aws@acme_corp.example", "domain contains `_`"),
            ("äws@acme.example", "7-bit ASCII"),
        ];
        for (email, expected) in cases {
            let reason = invalid_reason(email).unwrap_or_default();
            assert!(reason.contains(expected), "{email}: {reason}");
        }
        let long = format!("{}@acme.example", "a".repeat(60));
        assert!(invalid_reason(&long).is_some_and(|r| r.contains("6 to 64")));
    }

    #[test]
    fn knows_reserved_domains() {
        assert!(is_example_domain("example.com"));
        assert!(is_example_domain("mail.example.org"));
        assert!(is_example_domain("acme.example"));
        assert!(is_example_domain("acme.test"));
        assert!(!is_example_domain("acme.com"));
        assert!(!is_example_domain("notexample.com"));
    }
}
