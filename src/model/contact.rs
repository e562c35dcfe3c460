//! Alternate contacts (billing, operations, security) of every account the file declares, owned
//! by whoever the ownership matrix says receives them.
//!
//! A party's contacts (`organization.provider.contacts`, `organization.customer.contacts`) go to
//! every account whose contact of that type the party receives ([`receiver`]); an account's own
//! `contacts` override them, and `none` removes one. A type that nobody declares for an account
//! is not managed there: its live contact is left alone (and never read).

use std::collections::{BTreeMap, BTreeSet};

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::organization::Organization;
use super::ownership::{AccountKind, Ownership, model_name, party_name};
use super::{Account, Checker};
use crate::config::{
    self, AccountLifecycle, BusinessModel, ConfigFile, ContactOverride, ContactType, Contacts,
    Party, Payer, Span, Spanned,
};
use crate::rules::Rule;

/// The service principal of AWS Account Management: trusted access for it lets the management
/// account manage member accounts' alternate contacts.
pub const ACCOUNT_MANAGEMENT_PRINCIPAL: &str = "account.amazonaws.com";

/// One alternate contact, as AWS's `AlternateContact` holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    /// The contact's name.
    pub name: String,
    /// The contact's email address.
    pub email: String,
    /// The contact's phone number.
    pub phone: String,
    /// The contact's title.
    pub title: String,
}

impl Contact {
    /// The fields as `(name in the file, value)`, in the file's order.
    pub fn fields(&self) -> [(&'static str, &str); 4] {
        [
            ("name", &self.name),
            ("email", &self.email),
            ("phone", &self.phone),
            ("title", &self.title),
        ]
    }
}

impl From<&config::Contact> for Contact {
    fn from(raw: &config::Contact) -> Self {
        Self {
            name: raw.name.value.clone(),
            email: raw.email.value.clone(),
            phone: raw.phone.value.clone(),
            title: raw.title.value.clone(),
        }
    }
}

/// The alternate contacts the file manages in one account, by type: `Some(contact)` to set,
/// `None` to remove. A type without an entry is not managed.
pub type AccountContacts = BTreeMap<ContactType, Option<Contact>>;

/// Who receives an account's contact of `contact_type` unless the account says otherwise: the
/// billing contact of every account (the management account included) goes to whoever pays AWS,
/// the management account's owner; operations and security go to the account's owner.
pub const fn receiver(
    ownership: &Ownership,
    kind: AccountKind,
    contact_type: ContactType,
) -> Party {
    match contact_type {
        ContactType::Billing => ownership.management,
        ContactType::Operations | ContactType::Security => ownership.owner(kind),
    }
}

/// A contact as written, and where diagnostics point at it (its email: a flow mapping's own
/// span is only its first character).
type Written<'a> = (&'a config::Contact, Span);

/// Where diagnostics point at an account's own contact: its email, or the `none` that removes it.
fn override_span(written: &Spanned<ContactOverride>) -> Span {
    match &written.value {
        ContactOverride::Contact(contact) => contact.email.span,
        ContactOverride::None => written.span,
    }
}

/// Resolves the contacts of the management account and of every member account, and runs the
/// contact rules: AWS's limits, each email on its party's domain, a provider setting security
/// contacts of an `ecam` customer's accounts, and trusted access for AWS Account Management.
pub(super) fn resolve(
    checker: &mut Checker,
    organization: &Organization,
    file: &ConfigFile,
    management: &mut Account,
    members: &mut IndexMap<String, Account>,
) {
    let parties = party_contacts(checker, organization, &file.organization);
    let raw_management = &file.organization.management_account;
    management.contacts = account_contacts(
        checker,
        organization,
        &parties,
        AccountKind::Management,
        &format!("the management account `{}`", management.name),
        &raw_management.contacts,
    );
    if organization.payer == Payer::Shared {
        // The management account is the provider's, shared with its other customers.
        management.contacts.clear();
        shared_payer(checker, &raw_management.contacts, file);
    }
    // Where the managed contacts of active members were written, for the rules across accounts:
    // every managed type, and the security contacts set.
    let mut managed: Vec<Span> = Vec::new();
    let mut security: Vec<Span> = Vec::new();
    for (name, raw) in &file.accounts {
        let Some(account) = members.get_mut(&name.value) else {
            continue;
        };
        account.contacts = account_contacts(
            checker,
            organization,
            &parties,
            AccountKind::Member,
            &format!("account `{}`", name.value),
            &raw.contacts,
        );
        if account.lifecycle != AccountLifecycle::Active {
            continue;
        }
        for (contact_type, contact) in &account.contacts {
            let party = receiver(&organization.ownership, AccountKind::Member, *contact_type);
            let span = raw.contacts.get(*contact_type).map_or_else(
                || parties.get(&(party, *contact_type)).map(|(_, span)| *span),
                |written| Some(override_span(written)),
            );
            let Some(span) = span else { continue };
            managed.push(span);
            if *contact_type == ContactType::Security && contact.is_some() {
                security.push(span);
            }
        }
    }
    ecam_security(checker, organization, &security);
    trusted_access(checker, organization, &file.organization, &managed);
}

/// On a shared payer the file may not set the management account's own contacts.
fn shared_payer(checker: &mut Checker, written: &Contacts<ContactOverride>, file: &ConfigFile) {
    let Some((_, first)) = written.iter().next() else {
        return;
    };
    let diagnostic = checker
        .at(
            Rule::ContactSharedPayer,
            override_span(first),
            "a shared payer's management account is the provider's: the file cannot set its contacts",
            "the management account's own contact",
        )
        .also(file.organization.payer.span, "declared shared here")
        .help("remove `contacts` from `management_account`; the provider keeps the contacts of its own management account");
    checker.push(diagnostic);
}

/// The parties' contacts by `(party, type)`, each checked against AWS's limits and its party's
/// domain.
fn party_contacts<'a>(
    checker: &mut Checker,
    organization: &Organization,
    raw: &'a config::Organization,
) -> BTreeMap<(Party, ContactType), Written<'a>> {
    let declared: [(Party, Option<&'a Contacts<config::Contact>>); 2] = [
        (
            Party::Provider,
            raw.provider.as_ref().map(|provider| &provider.contacts),
        ),
        (
            Party::Customer,
            raw.customer.as_ref().map(|customer| &customer.contacts),
        ),
    ];
    let mut contacts = BTreeMap::new();
    for (party, written) in declared {
        for (contact_type, contact) in written.into_iter().flat_map(Contacts::iter) {
            let whose = format!(
                "the {} contact of {}",
                contact_type.name(),
                party_name(party)
            );
            check_limits(checker, &contact.value, &whose);
            check_domain(checker, organization, &contact.value, party, &whose);
            check_received(checker, organization, &contact.value, party, contact_type);
            contacts.insert((party, contact_type), (&contact.value, contact.email.span));
        }
    }
    contacts
}

/// One account's managed contacts: its own where it writes them, else its parties'.
fn account_contacts(
    checker: &mut Checker,
    organization: &Organization,
    parties: &BTreeMap<(Party, ContactType), Written<'_>>,
    kind: AccountKind,
    described: &str,
    written: &Contacts<ContactOverride>,
) -> AccountContacts {
    let mut contacts = AccountContacts::new();
    for contact_type in ContactType::ALL {
        let party = receiver(&organization.ownership, kind, contact_type);
        let resolved = match written.get(contact_type).map(|written| &written.value) {
            Some(ContactOverride::Contact(contact)) => {
                let whose = format!("the {} contact of {described}", contact_type.name());
                check_limits(checker, contact, &whose);
                check_domain(checker, organization, contact, party, &whose);
                Some(Some(Contact::from(contact)))
            }
            Some(ContactOverride::None) => Some(None),
            None => parties
                .get(&(party, contact_type))
                .map(|(contact, _)| Some(Contact::from(*contact))),
        };
        if let Some(resolved) = resolved {
            contacts.insert(contact_type, resolved);
        }
    }
    contacts
}

/// A party's contact of a type that the business model gives that party in no account reaches
/// nobody.
fn check_received(
    checker: &mut Checker,
    organization: &Organization,
    contact: &config::Contact,
    party: Party,
    contact_type: ContactType,
) {
    let ownership = &organization.ownership;
    let received = [AccountKind::Management, AccountKind::Member]
        .into_iter()
        .any(|kind| receiver(ownership, kind, contact_type) == party);
    if received {
        return;
    }
    let receiving = receiver(ownership, AccountKind::Member, contact_type);
    let diagnostic = checker
        .at(
            Rule::ContactUnused,
            contact.email.span,
            format!(
                "under `{}` {} receives no account's {} contact: this one goes nowhere",
                model_name(organization.business_model),
                party_name(party),
                contact_type.name()
            ),
            "received by no account",
        )
        .help(format!(
            "a billing contact goes to whoever pays AWS, operations and security contacts to the account's owner: here {}; move it there, or remove it",
            party_name(receiving)
        ));
    checker.push(diagnostic);
}

/// A contact's email must be on the domain of the party that receives it, as root emails are.
fn check_domain(
    checker: &mut Checker,
    organization: &Organization,
    contact: &config::Contact,
    party: Party,
    whose: &str,
) {
    let Some(expected) = organization.domain_of(party) else {
        return; // a party the model needs and the file lacks is reported as a missing owner
    };
    let email = contact.email.value.trim();
    let domain = email.rsplit_once('@').map_or("", |(_, domain)| domain);
    if organization.party_of_domain(domain, party) == Some(party) {
        return;
    }
    let model = model_name(organization.business_model);
    let diagnostic = checker
        .at(
            Rule::ContactEmailDomain,
            contact.email.span,
            format!(
                "the email of {whose} is `{email}`, but under `{model}` {} receives it",
                party_name(party)
            ),
            format!("should be on `{expected}`"),
        )
        .help(format!(
            "use an address on `{expected}`: a billing contact goes to whoever pays AWS, operations and security contacts to the account's owner"
        ));
    checker.push(diagnostic);
}

/// Under `ecam` the customer owns the member accounts: a provider that sets their security
/// contacts decides who hears of their security, which is the customer's to decide.
fn ecam_security(checker: &mut Checker, organization: &Organization, sources: &[Span]) {
    if organization.business_model != BusinessModel::Ecam
        || organization.operator != Party::Provider
    {
        return;
    }
    let spans: BTreeSet<(usize, usize)> =
        sources.iter().map(|span| (span.offset, span.len)).collect();
    for (offset, len) in spans {
        let diagnostic = checker
            .at(
                Rule::ContactEcamSecurity,
                Span::new(offset, len),
                "the provider sets the security contact of customer-owned member accounts",
                "a security contact of member accounts",
            )
            .help("under `ecam` the customer owns the member accounts and decides who receives their security notices: leave `security` to the customer's own file, or silence `contact::ecam_security` if the customer asked for this");
        checker.push(diagnostic);
    }
}

/// AWS manages member accounts' contacts from the management account only with trusted access
/// for AWS Account Management: a file that manages trusted access must list it.
fn trusted_access(
    checker: &mut Checker,
    organization: &Organization,
    raw: &config::Organization,
    member_sources: &[Span],
) {
    let Some(trusted) = &organization.trusted_access else {
        return; // the planner checks live trusted access instead
    };
    if trusted.contains(ACCOUNT_MANAGEMENT_PRINCIPAL) {
        return;
    }
    let Some(first) = member_sources.iter().min_by_key(|span| span.offset) else {
        return;
    };
    let mut diagnostic = checker.at(
        Rule::ContactTrustedAccess,
        *first,
        format!(
            "member accounts' alternate contacts are managed, but `trusted_access` does not list `{ACCOUNT_MANAGEMENT_PRINCIPAL}`"
        ),
        "a contact of member accounts",
    );
    if let Some(listed) = raw.trusted_access.as_ref().and_then(|list| list.first()) {
        diagnostic = diagnostic.also(listed.span, "trusted access is managed here");
    }
    let diagnostic = diagnostic.help(format!(
        "add `{ACCOUNT_MANAGEMENT_PRINCIPAL}` to `organization.trusted_access`: AWS lets the management account change member accounts' contacts only with trusted access for AWS Account Management"
    ));
    checker.push(diagnostic);
}

/// AWS's limits on an alternate contact (Account Management API reference, `AlternateContact`).
struct FieldLimit {
    /// The field as the file names it.
    field: &'static str,
    /// The most characters AWS accepts (the least is 1).
    max: usize,
    /// What else AWS asks of it, when anything.
    pattern: Option<Pattern>,
}

/// A pattern AWS asks a field to match, and what that is in words.
#[derive(Clone, Copy)]
struct Pattern {
    matches: fn(&str) -> bool,
    words: &'static str,
}

/// The four fields' limits.
const FIELD_LIMITS: [FieldLimit; 4] = [
    FieldLimit {
        field: "name",
        max: 64,
        pattern: None,
    },
    FieldLimit {
        field: "email",
        max: 254,
        pattern: Some(Pattern {
            matches: is_contact_email,
            words: "one `@` between a local part of letters, digits and `_+=.#|!&-`, and a domain with a dot",
        }),
    },
    FieldLimit {
        field: "phone",
        max: 25,
        pattern: Some(Pattern {
            matches: is_phone,
            words: "digits, spaces, `(`, `)`, `+` and `-` only",
        }),
    },
    FieldLimit {
        field: "title",
        max: 50,
        pattern: None,
    },
];

/// AWS's `EmailAddress` pattern: `[\s]*[\w+=.#|!&-]+@[\w.-]+\.[\w]+[\s]*`.
fn is_contact_email(email: &str) -> bool {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let Some((local, domain)) = email.trim().split_once('@') else {
        return false;
    };
    let Some((head, last)) = domain.rsplit_once('.') else {
        return false;
    };
    !local.is_empty()
        && local.chars().all(|c| word(c) || "+=.#|!&-".contains(c))
        && !head.is_empty()
        && head.chars().all(|c| word(c) || c == '.' || c == '-')
        && !last.is_empty()
        && last.chars().all(word)
}

/// AWS's `PhoneNumber` pattern: `[\s0-9()+-]+`.
fn is_phone(phone: &str) -> bool {
    phone
        .chars()
        .all(|c| c.is_whitespace() || c.is_ascii_digit() || "()+-".contains(c))
}

/// Each field within AWS's limits, reported at its span with the limit.
fn check_limits(checker: &mut Checker, contact: &config::Contact, whose: &str) {
    let values: [&Spanned<String>; 4] = [
        &contact.name,
        &contact.email,
        &contact.phone,
        &contact.title,
    ];
    for (limit, value) in FIELD_LIMITS.iter().zip(values) {
        let length = value.value.chars().count();
        let problem = if length == 0 || length > limit.max {
            Some(format!(
                "has {length} characters; AWS takes 1 to {}",
                limit.max
            ))
        } else {
            limit
                .pattern
                .filter(|pattern| !(pattern.matches)(&value.value))
                .map(|pattern| format!("is not what AWS takes: {}", pattern.words))
        };
        if let Some(problem) = problem {
            let diagnostic = checker
                .at(
                    Rule::ContactField,
                    value.span,
                    format!("the {} of {whose} {problem}", limit.field),
                    format!("outside AWS's limits for a contact's {}", limit.field),
                )
                .help(format!(
                    "a contact's {} is 1 to {} characters{}",
                    limit.field,
                    limit.max,
                    limit
                        .pattern
                        .map_or(String::new(), |pattern| format!(": {}", pattern.words))
                ));
            checker.push(diagnostic);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config;
    use crate::model::{Context, resolve as resolve_model};
    use BusinessModel::{Direct, Ecam, Resold, Spam};
    use ContactType::{Billing, Operations, Security};
    use Party::{Customer, Provider};

    #[test]
    fn billing_goes_to_the_payer_and_the_rest_to_the_owner_in_every_model() {
        // (model, management: billing, operations, security; member: the same)
        let rows = [
            (
                Direct,
                [Customer, Customer, Customer],
                [Customer, Customer, Customer],
            ),
            (
                Resold,
                [Provider, Provider, Provider],
                [Provider, Customer, Customer],
            ),
            (
                Ecam,
                [Provider, Provider, Provider],
                [Provider, Customer, Customer],
            ),
            (
                Spam,
                [Provider, Provider, Provider],
                [Provider, Provider, Provider],
            ),
        ];
        for (model, management, member) in rows {
            let ownership = Ownership::of(model);
            for (kind, expected) in [
                (AccountKind::Management, management),
                (AccountKind::Member, member),
            ] {
                let got = [Billing, Operations, Security]
                    .map(|contact_type| receiver(&ownership, kind, contact_type));
                assert_eq!(got, expected, "{model:?} {kind:?}");
            }
        }
    }

    const PROVIDER_CONTACTS: &str = "    contacts:\n      billing: { name: Billing Desk, email: billing@reseller.example, phone: \"+49 30 1234\", title: Billing }\n      security: { name: SOC, email: soc@reseller.example, phone: \"+49 30 9999\", title: Security }\n";
    const CUSTOMER_CONTACTS: &str = "    contacts:\n      operations: { name: Ops, email: ops@acme.example, phone: \"+1 555 0100\", title: Operations }\n      security: { name: Sec, email: sec@acme.example, phone: \"+1 555 0199\", title: CISO }\n";

    fn file(model: &str, operator: &str, accounts: &str) -> String {
        format!(
            "organization:\n  name: acme\n  business_model: {model}\n{operator}  provider:\n    name: Reseller\n    email_domain: reseller.example\n{PROVIDER_CONTACTS}  customer:\n    name: Acme\n    email_domain: acme.example\n{CUSTOMER_CONTACTS}  management_account: {{ name: acme-payer, id: \"111111111111\" }}\naccounts:\n{accounts}"
        )
    }

    fn resolved(text: &str) -> crate::model::Resolved {
        let config = config::load_in_memory(
            "orgctl.yaml",
            text,
            std::path::Path::new("."),
            &BTreeMap::new(),
        )
        .expect("the configuration loads");
        resolve_model(&config, &Context::now())
    }

    /// The contact codes of `text`, those of contacts no account receives left out.
    fn codes(text: &str) -> Vec<&'static str> {
        let mut codes = all_codes(text);
        codes.retain(|code| *code != "orgctl::contact::unused");
        codes
    }

    fn all_codes(text: &str) -> Vec<&'static str> {
        resolved(text)
            .diagnostics
            .iter()
            .map(|diagnostic| diagnostic.rule.code())
            .filter(|code| {
                code.starts_with("orgctl::contact::") || code.starts_with("orgctl::limits::contact")
            })
            .collect()
    }

    /// `(type, email)` of an account's managed contacts; `-` for a removal.
    fn emails(contacts: &AccountContacts) -> Vec<(&'static str, String)> {
        contacts
            .iter()
            .map(|(contact_type, contact)| {
                (
                    contact_type.name(),
                    contact
                        .as_ref()
                        .map_or_else(|| "-".to_owned(), |c| c.email.clone()),
                )
            })
            .collect()
    }

    #[test]
    fn under_resold_the_provider_bills_and_the_customer_operates_and_secures_members() {
        let resolved = resolved(&file("resold", "", "  acme-prod: {}\n"));
        let desired = &resolved.desired;
        assert_eq!(
            emails(&desired.accounts["acme-prod"].contacts),
            [
                ("billing", "billing@reseller.example".to_owned()),
                ("operations", "ops@acme.example".to_owned()),
                ("security", "sec@acme.example".to_owned()),
            ]
        );
        // The provider owns the management account: operations is nobody's, so unmanaged.
        assert_eq!(
            emails(&desired.management_account.contacts),
            [
                ("billing", "billing@reseller.example".to_owned()),
                ("security", "soc@reseller.example".to_owned()),
            ]
        );
    }

    #[test]
    fn under_direct_the_customer_receives_everything_and_provider_contacts_go_nowhere() {
        let resolved = resolved(&file("direct", "", "  acme-prod: {}\n"));
        assert_eq!(
            emails(&resolved.desired.accounts["acme-prod"].contacts),
            [
                ("operations", "ops@acme.example".to_owned()),
                ("security", "sec@acme.example".to_owned()),
            ]
        );
    }

    #[test]
    fn under_spam_the_provider_receives_everything() {
        let resolved = resolved(&file("spam", "", "  acme-prod: {}\n"));
        assert_eq!(
            emails(&resolved.desired.accounts["acme-prod"].contacts),
            [
                ("billing", "billing@reseller.example".to_owned()),
                ("security", "soc@reseller.example".to_owned()),
            ]
        );
    }

    #[test]
    fn an_account_overrides_a_contact_and_removes_another() {
        let resolved = resolved(&file(
            "resold",
            "",
            "  acme-prod:\n    contacts:\n      security: { name: Team, email: team@acme.example, phone: \"1\", title: Lead }\n      billing: none\n",
        ));
        assert_eq!(
            emails(&resolved.desired.accounts["acme-prod"].contacts),
            [
                ("billing", "-".to_owned()),
                ("operations", "ops@acme.example".to_owned()),
                ("security", "team@acme.example".to_owned()),
            ]
        );
        assert_eq!(
            codes(&file("resold", "", "  acme-prod: {}\n")),
            Vec::<&str>::new()
        );
    }

    #[test]
    fn an_override_is_judged_against_the_party_that_receives_the_contact() {
        // The billing contact of a member is the provider's under `resold`.
        let text = file(
            "resold",
            "",
            "  acme-prod:\n    contacts:\n      billing: { name: Acme AP, email: ap@acme.example, phone: \"1\", title: AP }\n",
        );
        assert_eq!(codes(&text), ["orgctl::contact::email_domain"]);
    }

    #[test]
    fn a_party_contact_off_its_domain_is_an_error() {
        let text = file("direct", "", "  acme-prod: {}\n")
            .replace("sec@acme.example", "sec@elsewhere.example");
        assert_eq!(codes(&text), ["orgctl::contact::email_domain"]);
    }

    #[test]
    fn an_ecam_provider_setting_member_security_contacts_is_warned_once_per_place() {
        let text = file("ecam", "  operator: provider\n", "  a: {}\n  b: {}\n");
        assert_eq!(codes(&text), ["orgctl::contact::ecam_security"]);
        let customer = file("ecam", "  operator: customer\n", "  a: {}\n");
        assert_eq!(codes(&customer), Vec::<&str>::new());
    }

    #[test]
    fn managed_trusted_access_without_account_management_is_an_error() {
        let text = file("direct", "", "  a: {}\n").replace(
            "  management_account:",
            "  trusted_access: [sso.amazonaws.com]\n  management_account:",
        );
        assert_eq!(codes(&text), ["orgctl::contact::trusted_access"]);
        let listed = text.replace("[sso.amazonaws.com]", "[account.amazonaws.com]");
        assert_eq!(codes(&listed), Vec::<&str>::new());
    }

    #[test]
    fn fields_outside_aws_limits_are_errors() {
        for (field, value) in [
            ("name", "x".repeat(65)),
            ("title", "x".repeat(51)),
            ("phone", "call me".to_owned()),
            ("phone", "1".repeat(26)),
            ("email", "no-at-sign".to_owned()),
            ("email", "a@nodot".to_owned()),
        ] {
            let text = file("direct", "", "  a: {}\n");
            let text = match field {
                "name" => text.replace("name: Ops,", &format!("name: \"{value}\",")),
                "title" => text.replace("title: Operations", &format!("title: \"{value}\"")),
                "phone" => text.replace("\"+1 555 0100\"", &format!("\"{value}\"")),
                _ => text.replace("ops@acme.example", &value),
            };
            let found = codes(&text);
            assert!(
                found.contains(&"orgctl::limits::contact"),
                "{field} {value}: {found:?}"
            );
        }
    }

    #[test]
    fn a_shared_payer_manages_no_contact_of_the_management_account() {
        let text = file("resold", "  payer: shared\n", "  acme-prod: {}\n");
        let resolved = resolved(&text);
        assert!(resolved.desired.management_account.contacts.is_empty());
        assert_eq!(resolved.desired.accounts["acme-prod"].contacts.len(), 3);
        assert_eq!(codes(&text), Vec::<&str>::new());
    }

    #[test]
    fn a_party_contact_no_account_receives_is_warned() {
        // Under `direct` the provider receives nothing; under `resold` the customer pays nothing.
        assert_eq!(
            all_codes(&file("direct", "", "  a: {}\n")),
            ["orgctl::contact::unused", "orgctl::contact::unused"]
        );
        let text = file("resold", "", "  a: {}\n").replace(
            "    contacts:\n      operations: { name: Ops,",
            "    contacts:\n      billing: { name: AP, email: ap@acme.example, phone: \"1\", title: AP }\n      operations: { name: Ops,",
        );
        assert_eq!(all_codes(&text), ["orgctl::contact::unused"]);
    }

    #[test]
    fn aws_email_pattern() {
        assert!(is_contact_email("ops+aws@acme.example"));
        assert!(is_contact_email(" ops@mail.acme.example "));
        assert!(!is_contact_email("ops@acme"));
        assert!(!is_contact_email("@acme.example"));
        assert!(!is_contact_email("o p@acme.example"));
    }
}
