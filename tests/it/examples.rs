//! Every shipped example validates, with the owners and emails its business model implies.

use std::path::{Path, PathBuf};

use orgctl::config::Party;
use orgctl::rules::Rule;

use crate::common;

fn examples() -> Vec<PathBuf> {
    let mut examples: Vec<PathBuf> = std::fs::read_dir(common::root().join("examples"))
        .expect("examples/ exists")
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.join("orgctl.yaml").is_file())
        .map(|path| {
            Path::new("examples")
                .join(path.file_name().expect("a name"))
                .join("orgctl.yaml")
        })
        .collect();
    examples.sort();
    examples
}

#[test]
fn there_is_an_example_per_business_model_and_a_shared_payer() {
    let names: Vec<String> = examples()
        .iter()
        .map(|path| {
            path.parent()
                .and_then(Path::file_name)
                .expect("a folder")
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    for expected in ["direct", "ecam", "resold", "shared-payer", "spam"] {
        assert!(
            names.iter().any(|name| name == expected),
            "missing examples/{expected}: {names:?}"
        );
    }
}

#[test]
fn every_example_is_valid_with_only_example_domain_warnings() {
    for path in examples() {
        let diagnostics = common::validate(&path);
        let unexpected: Vec<_> = diagnostics
            .iter()
            .filter(|d| d.rule != Rule::EmailExampleDomain)
            .collect();
        assert!(
            unexpected.is_empty(),
            "{}:\n{}",
            path.display(),
            common::render(&diagnostics)
        );
    }
}

#[test]
fn example_emails_follow_the_ownership_matrix() {
    for path in examples() {
        let config = orgctl::config::load(&path).expect("the example loads");
        let desired = orgctl::model::resolve(&config, &common::context()).desired;
        let organization = &desired.organization;
        let accounts =
            std::iter::once(&desired.management_account).chain(desired.accounts.values());
        for account in accounts {
            let domain = organization
                .domain_of(account.owner)
                .expect("the owner is declared");
            assert!(
                account.email.ends_with(&format!("@{domain}"))
                    || account.email.ends_with(&format!(".{domain}")),
                "{}: {} <{}> should be on {domain}",
                path.display(),
                account.name,
                account.email
            );
        }
        let ownership = organization.ownership;
        assert_eq!(desired.management_account.owner, ownership.management);
        if organization.business_model == orgctl::config::BusinessModel::Spam {
            assert!(
                desired
                    .accounts
                    .values()
                    .all(|a| a.owner == Party::Provider)
            );
        }
    }
}

#[test]
fn the_ecam_example_explains_its_owners_and_emails() {
    let output = common::orgctl(&["validate", "examples/ecam/orgctl.yaml", "--explain"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    insta::assert_snapshot!(String::from_utf8_lossy(&output.stdout));
}
