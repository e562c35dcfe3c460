//! The fleet's pure core: reading a fleet, what organizations inherit, the checks across files.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::*;

const FLEET: &str = r#"provider: { name: Example Reseller, email_domain: reseller.example }
companies:
  reseller-de:
    business_model: ecam
    end_customer_access: iam_user
    presets: [deny-leave-organization]
    policies:
      cost-center:
        type: tag
        document: { tags: { CostCenter: { tag_key: { "@@assign": CostCenter } } } }
        attach: [root]
  reseller-uk: { business_model: spam, allowed_business_models: [resold] }
organizations:
  acme: { company: reseller-de, config: acme.yaml, role_arn: "arn:aws:iam::111111111111:role/orgctl" }
  globex: { company: reseller-uk, config: globex.yaml, profile: globex }
"#;

fn fleet(text: &str) -> Loaded {
    let (source, file) =
        config::parse_document::<FleetFile>("fleet.yaml", text.as_bytes(), "provider")
            .unwrap_or_else(|diagnostics| panic!("{diagnostics:?}"));
    Loaded {
        source,
        file,
        folder: PathBuf::from("fleet"),
        policy_files: BTreeMap::new(),
    }
}

fn organization(loaded: &Loaded, name: &str) -> Organization {
    organizations(loaded)
        .into_iter()
        .find(|organization| organization.name == name)
        .unwrap()
}

/// An organization's file as a fleet reads it (its business model may be left out).
fn config(text: &str) -> Config {
    let (source, file) = config::parse_inheriting("acme.yaml", text.as_bytes())
        .unwrap_or_else(|diagnostics| panic!("{diagnostics:?}"));
    Config {
        source,
        base_dir: PathBuf::from("."),
        file,
        policy_files: Default::default(),
    }
}

fn codes(diagnostics: &[Diagnostic]) -> Vec<&'static str> {
    diagnostics
        .iter()
        .map(|diagnostic| diagnostic.rule.code())
        .collect()
}

const ACME: &str = "organization:
  name: acme
  customer: { name: Acme, email_domain: acme.example }
  management_account: { name: acme-payer }
accounts:
  acme-prod: {}
";

#[test]
fn an_organization_inherits_its_company_and_provider() {
    let loaded = fleet(FLEET);
    let mut acme = config(ACME);
    let diagnostics = inherit(&mut acme, &loaded, &organization(&loaded, "acme"));
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let raw = &acme.file.organization;
    assert_eq!(
        raw.business_model.as_ref().map(|model| model.value),
        Some(BusinessModel::Ecam)
    );
    assert_eq!(
        raw.provider
            .as_ref()
            .map(|provider| provider.email_domain.value.as_str()),
        Some("reseller.example")
    );
    assert_eq!(
        raw.end_customer_access.as_ref().map(|access| access.value),
        Some(config::EndCustomerAccess::IamUser)
    );
    assert!(acme.file.policies.contains_key("deny-leave-organization"));
    assert!(acme.file.policies.contains_key("cost-center"));
    assert_eq!(
        raw_types(&acme),
        [PolicyType::ServiceControl, PolicyType::Tag]
    );
    let resolved = crate::model::resolve(&acme, &crate::model::Context::now());
    assert!(!resolved.has_errors(), "{:?}", resolved.diagnostics);
    assert_eq!(
        resolved.desired.management_account.email,
        "aws+acme-payer@reseller.example"
    );
}

#[test]
fn an_organization_inherits_the_providers_contacts() {
    let with_contacts = FLEET.replacen(
        "provider: { name: Example Reseller, email_domain: reseller.example }",
        "provider:\n  name: Example Reseller\n  email_domain: reseller.example\n  contacts:\n    billing: { name: Billing Desk, email: billing@reseller.example, phone: \"+49 30 1234\", title: Billing }",
        1,
    );
    let loaded = fleet(&with_contacts);
    let mut acme = config(ACME);
    let diagnostics = inherit(&mut acme, &loaded, &organization(&loaded, "acme"));
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let provider = acme.file.organization.provider.as_ref().expect("inherited");
    let billing = provider
        .contacts
        .billing
        .as_ref()
        .expect("the billing contact");
    assert_eq!(billing.email.value, "billing@reseller.example");
    // Its spans point into the organization's file, where diagnostics are shown.
    assert!(billing.email.span.offset + billing.email.span.len <= ACME.len());
}

#[test]
fn a_companys_contacts_replace_the_providers_and_a_files_own_win() {
    let fleet_text = FLEET
        .replacen(
            "provider: { name: Example Reseller, email_domain: reseller.example }",
            "provider:\n  name: Example Reseller\n  email_domain: reseller.example\n  contacts:\n    billing: { name: Group Billing, email: billing@reseller.example, phone: \"1\", title: Billing }\n    security: { name: Group SOC, email: soc@reseller.example, phone: \"1\", title: SOC }",
            1,
        )
        .replacen(
            "    end_customer_access: iam_user\n",
            "    end_customer_access: iam_user\n    contacts:\n      billing: { name: DE Billing, email: billing-de@reseller.example, phone: \"2\", title: Billing }\n",
            1,
        );
    let loaded = fleet(&fleet_text);
    let email = |contact: &Option<Spanned<config::Contact>>| {
        contact.as_ref().map(|contact| contact.email.value.clone())
    };
    let mut inherited = config(ACME);
    let diagnostics = inherit(&mut inherited, &loaded, &organization(&loaded, "acme"));
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let contacts = &inherited
        .file
        .organization
        .provider
        .as_ref()
        .expect("inherited")
        .contacts;
    assert_eq!(
        email(&contacts.billing).as_deref(),
        Some("billing-de@reseller.example")
    );
    assert_eq!(
        email(&contacts.security).as_deref(),
        Some("soc@reseller.example")
    );

    let own = ACME.replacen(
        "  customer:",
        "  provider:\n    name: Example Reseller\n    email_domain: reseller.example\n    contacts:\n      billing: { name: Acme Desk, email: acme-billing@reseller.example, phone: \"3\", title: Billing }\n  customer:",
        1,
    );
    let mut written = config(&own);
    let diagnostics = inherit(&mut written, &loaded, &organization(&loaded, "acme"));
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let contacts = &written
        .file
        .organization
        .provider
        .as_ref()
        .expect("its own")
        .contacts;
    assert_eq!(
        email(&contacts.billing).as_deref(),
        Some("acme-billing@reseller.example")
    );
    assert_eq!(
        email(&contacts.security),
        None,
        "the file's provider has no security contact, and the company none to give"
    );
}

fn raw_types(config: &Config) -> Vec<PolicyType> {
    config
        .file
        .organization
        .enabled_policy_types
        .iter()
        .map(|kind| kind.value)
        .collect()
}

#[test]
fn a_shared_payer_gets_no_company_policies() {
    let loaded = fleet(FLEET);
    let text = ACME
        .replace("  name: acme\n", "  name: acme\n  payer: shared\n")
        .replace("accounts:\n  acme-prod: {}\n", "");
    let mut shared = config(&text);
    let diagnostics = inherit(&mut shared, &loaded, &organization(&loaded, "acme"));
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    assert!(shared.file.policies.is_empty());
    assert!(raw_types(&shared).is_empty());
}

#[test]
fn a_file_without_a_business_model_and_without_a_fleet_is_an_error() {
    let errors = config::parse("acme.yaml", ACME.as_bytes())
        .err()
        .unwrap_or_default();
    assert_eq!(codes(&errors), ["orgctl::config::missing_key"]);
    // Read for a fleet, the model still says so when nothing gave it one.
    let resolved = crate::model::resolve(&config(ACME), &crate::model::Context::now());
    assert!(codes(&resolved.diagnostics).contains(&"orgctl::config::missing_key"));
}

#[test]
fn a_model_the_company_forbids_is_an_error_at_the_file() {
    let loaded = fleet(FLEET);
    let mut acme =
        config(&ACME.replace("  name: acme\n", "  name: acme\n  business_model: spam\n"));
    let diagnostics = inherit(&mut acme, &loaded, &organization(&loaded, "acme"));
    assert_eq!(codes(&diagnostics), ["orgctl::fleet::business_model"]);
    assert_eq!(
        diagnostics[0].source.as_ref().map(|source| source.name()),
        Some("acme.yaml")
    );
    assert!(
        diagnostics[0]
            .help
            .as_deref()
            .unwrap_or_default()
            .contains("fleet.yaml:4:")
    );
}

#[test]
fn a_model_the_company_allows_is_kept() {
    let loaded = fleet(FLEET);
    let mut globex =
        config(&ACME.replace("  name: acme\n", "  name: acme\n  business_model: resold\n"));
    let diagnostics = inherit(&mut globex, &loaded, &organization(&loaded, "globex"));
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    assert_eq!(
        globex
            .file
            .organization
            .business_model
            .map(|model| model.value),
        Some(BusinessModel::Resold)
    );
}

#[test]
fn another_provider_is_an_error_at_the_file() {
    let loaded = fleet(FLEET);
    let mut acme = config(&ACME.replace(
        "  name: acme\n",
        "  name: acme\n  provider: { name: Other, email_domain: other.example }\n",
    ));
    let diagnostics = inherit(&mut acme, &loaded, &organization(&loaded, "acme"));
    assert_eq!(codes(&diagnostics), ["orgctl::fleet::provider"]);
    // The fleet's line is the secondary place, in the fleet file.
    let places: Vec<(&str, usize)> = diagnostics[0]
        .elsewhere
        .iter()
        .map(|place| {
            (
                place.source.name(),
                place.source.line_column(place.span.offset).0,
            )
        })
        .collect();
    assert_eq!(places, [("fleet.yaml", 1)]);
}

#[test]
fn the_fleet_file_checks_companies_and_how_organizations_are_reached() {
    let loaded = fleet(
        "provider: { name: R, email_domain: r.example }
companies: { de: { business_model: ecam } }
organizations:
  a: { company: fr, config: a.yaml, state: a.json }
  b: { company: de, config: b.yaml }
  c: { company: de, config: c.yaml, state: c.json, profile: c }
  d: { company: de, config: d.yaml, profile: d, external_id: x, management_account_id: \"12\" }
",
    );
    let organizations = organizations(&loaded);
    assert_eq!(organizations.len(), 4);
    let diagnostics: Vec<Diagnostic> = organizations
        .into_iter()
        .flat_map(|organization| organization.problems)
        .collect();
    assert_eq!(
        codes(&diagnostics),
        [
            "orgctl::fleet::company",
            "orgctl::fleet::access",
            "orgctl::fleet::access",
            "orgctl::fleet::access",
            "orgctl::fleet::management_account"
        ]
    );
}

#[test]
fn an_account_two_customers_of_one_shared_payer_claim_is_an_error_naming_both_files() {
    let loaded = fleet(
        "provider: { name: Example Reseller, email_domain: reseller.example }
companies: { de: { business_model: ecam } }
organizations:
  a: { company: de, config: a.yaml, state: shared.json }
  b: { company: de, config: b.yaml, state: shared.json }
  c: { company: de, config: c.yaml, state: other.json }
",
    );
    let customer = |name: &str, id: &str| {
        let text = format!(
            "organization:
  name: {name}
  payer: shared
  customer: {{ name: {name}, email_domain: {name}.example }}
  management_account: {{ name: payer, email: payer@reseller.example }}
accounts:
  {name}-prod: {{ id: \"{id}\" }}
"
        );
        let mut config = config(&text);
        config.source = crate::diagnostic::SourceFile::new(format!("{name}.yaml"), text.clone());
        let _ = inherit(&mut config, &loaded, &organization(&loaded, name));
        let desired = crate::model::resolve(&config, &crate::model::Context::now()).desired;
        (config, desired)
    };
    let organizations = organizations(&loaded);
    let a = customer("a", "222222222222");
    let b = customer("b", "222222222222");
    let c = customer("c", "222222222222");
    let resolved = [
        Resolved {
            organization: &organizations[0],
            config: &a.0,
            desired: &a.1,
        },
        Resolved {
            organization: &organizations[1],
            config: &b.0,
            desired: &b.1,
        },
        Resolved {
            organization: &organizations[2],
            config: &c.0,
            desired: &c.1,
        },
    ];
    let (names, diagnostics): (Vec<String>, Vec<Diagnostic>) =
        cross_check(&resolved).into_iter().unzip();
    assert_eq!(names, ["b"]);
    assert_eq!(codes(&diagnostics), ["orgctl::fleet::account_claimed"]);
    assert_eq!(
        claimed_by_others(&resolved[0], &resolved),
        ["222222222222", "aws+b-prod@b.example"]
    );
    assert!(claimed_by_others(&resolved[2], &resolved).is_empty());
    assert!(
        diagnostics[0].message.contains("b.yaml") && diagnostics[0].message.contains("a.yaml"),
        "{}",
        diagnostics[0].message
    );
}

#[test]
fn an_account_invited_from_another_organization_of_the_fleet_is_a_move() {
    let crossing = |name: &str, organization: &str, invited: &[&str], members: &[&str]| Crossing {
        name: name.to_owned(),
        organization_id: organization.to_owned(),
        invited: invited
            .iter()
            .map(|id| {
                (
                    crate::address::Address::account(format!("a-{id}")),
                    (*id).to_owned(),
                )
            })
            .collect(),
        members: members.iter().map(|id| (*id).to_owned()).collect(),
    };
    let found = moves(&[
        // Two customers of one shared payer both read the account: one warning, not two.
        crossing("hooli-shared", "o-shared", &[], &["222222222222"]),
        crossing("pied-piper", "o-shared", &[], &["222222222222"]),
        crossing("hooli", "o-hooli", &["222222222222", "333333333333"], &[]),
        // An organization inviting what it already holds moves nothing.
        crossing("globex", "o-globex", &["444444444444"], &["444444444444"]),
    ]);
    let named: Vec<(&str, &str)> = found
        .iter()
        .map(|(organization, diagnostic)| (organization.as_str(), diagnostic.rule.code()))
        .collect();
    assert_eq!(named, [("hooli", "orgctl::fleet::account_moves")]);
    assert!(
        found[0]
            .1
            .message
            .contains("member of `hooli-shared` (o-shared)"),
        "{}",
        found[0].1.message
    );
}
