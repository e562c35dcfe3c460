//! Delegated administrators and trusted access, through moto and on snapshots: planned after
//! trusted access and the account they name, applied, drift found after changes made out of
//! band, imported back with nothing to plan.

use serde_json::Value;

use crate::apply::{
    apply_and_converge, apply_snapshot, direct_with_trusted_access, export, import_direct,
    planned_changes, scenario, snapshot_plan,
};
use crate::common::moto::{Moto, create_organization, runtime};
use crate::common::{self, describe};

const GUARDDUTY: &str = "guardduty.amazonaws.com";
const ACCESS_ANALYZER: &str = "access-analyzer.amazonaws.com";

/// The scenario's organization with `acme-security` administering GuardDuty. The provider runs
/// this `ecam` file and has agreed the delegation with the customer.
fn delegating(management: &common::moto::Management) -> String {
    scenario(
        management,
        &format!(
            "  trusted_access: [{GUARDDUTY}]
  delegated_administrators:
    {GUARDDUTY}: [acme-security]
accounts:
  acme-security: {{}}
orgctl:
  ignore: [ownership::ecam_delegation]
"
        ),
    )
}

/// `(action, address, depends on)` of the changes to trusted access and delegations.
fn delegation_changes(changes: &[Value]) -> Vec<(String, String, Vec<String>)> {
    changes
        .iter()
        .filter(|change| {
            change["address"].as_str().is_some_and(|address| {
                address.starts_with("delegated_administrator:")
                    || address.starts_with("trusted_access:")
            })
        })
        .map(|change| {
            (
                change["action"].as_str().unwrap_or_default().to_owned(),
                change["address"].as_str().unwrap_or_default().to_owned(),
                change["depends_on"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|address| address.as_str().map(str::to_owned))
                    .collect(),
            )
        })
        .collect()
}

/// `(service, account id)` of every delegated administrator, as moto has them.
fn delegations(moto: &Moto) -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> = export(moto)
        .delegated_administrators
        .into_iter()
        .map(|delegation| (delegation.service, delegation.account_id))
        .collect();
    found.sort();
    found
}

#[test]
fn a_delegated_administrator_is_applied_drift_is_found_and_an_import_plans_nothing() {
    let (_guard, moto) = Moto::lock();
    let client = moto.client();
    let management = runtime().block_on(create_organization(&client));
    let directory = tempfile::tempdir().expect("a temp dir");
    let dir = directory.path();
    let yaml = delegating(&management);
    let config = common::write_config(dir, &yaml);

    // Planned after the trusted access and the account it needs.
    let output = moto.orgctl(&["plan", &config, "--format", "json"]);
    assert_eq!(
        delegation_changes(&planned_changes(&output)),
        [
            (
                "enable_trusted_access".to_owned(),
                format!("trusted_access:{GUARDDUTY}"),
                vec![],
            ),
            (
                "register_delegated_administrator".to_owned(),
                format!("delegated_administrator:acme-security/{GUARDDUTY}"),
                vec![
                    format!("trusted_access:{GUARDDUTY}"),
                    "account:acme-security".to_owned()
                ],
            ),
        ]
    );

    apply_and_converge(moto, dir, &yaml, "delegation");
    let security = export(moto)
        .accounts
        .into_iter()
        .find(|account| account.name == "acme-security")
        .expect("acme-security was created")
        .id;
    assert_eq!(
        delegations(moto),
        [(GUARDDUTY.to_owned(), security.clone())]
    );

    // Out of band: GuardDuty deregistered, IAM Access Analyzer delegated, Config trusted.
    runtime().block_on(async {
        client
            .enable_aws_service_access()
            .service_principal("config.amazonaws.com")
            .send()
            .await
            .expect("EnableAWSServiceAccess");
        client
            .deregister_delegated_administrator()
            .account_id(&security)
            .service_principal(GUARDDUTY)
            .send()
            .await
            .expect("DeregisterDelegatedAdministrator");
        client
            .register_delegated_administrator()
            .account_id(&security)
            .service_principal(ACCESS_ANALYZER)
            .send()
            .await
            .expect("RegisterDelegatedAdministrator");
    });
    let drift = moto.orgctl(&["drift", &config]);
    assert_eq!(drift.status.code(), Some(2), "{}", describe(&drift));
    let lines = String::from_utf8_lossy(&drift.stdout);
    for address in [
        "trusted_access:config.amazonaws.com".to_owned(),
        format!("delegated_administrator:acme-security/{GUARDDUTY}"),
        format!("delegated_administrator:acme-security/{ACCESS_ANALYZER}"),
    ] {
        assert!(lines.contains(&address), "{address} in:\n{lines}");
    }
    apply_and_converge(moto, dir, &yaml, "after drift");
    assert_eq!(delegations(moto), [(GUARDDUTY.to_owned(), security)]);

    let imported = dir.join("imported.yaml");
    let imported = imported.to_string_lossy().into_owned();
    let import = moto.orgctl(&[
        "import",
        "--out",
        &imported,
        "--business-model",
        "ecam",
        "--customer-domain",
        "acme-corp.net",
    ]);
    assert_eq!(import.status.code(), Some(0), "{}", describe(&import));
    let text = std::fs::read_to_string(&imported).expect("written");
    assert!(
        text.contains(&format!(
            "  trusted_access: [{GUARDDUTY}]\n  delegated_administrators:\n    {GUARDDUTY}: [acme-security]\n"
        )),
        "{text}"
    );
    let planned = moto.orgctl(&["plan", &imported, "--detailed-exitcode"]);
    assert_eq!(planned.status.code(), Some(0), "{}", describe(&planned));
}

#[test]
fn a_delegated_administrator_applies_to_a_snapshot_plans_empty_and_imports_back() {
    let directory = direct_with_trusted_access();
    let dir = directory.path();
    let config = dir.join("orgctl.yaml");
    let yaml = std::fs::read_to_string(&config)
        .expect("readable")
        .replace(
            &format!("  trusted_access: [{GUARDDUTY}]\n"),
            &format!(
                "  trusted_access: [{GUARDDUTY}]\n  delegated_administrators:\n    {GUARDDUTY}: [northwind-security-tooling]\n"
            ),
        );
    assert!(yaml.contains("delegated_administrators"), "{yaml}");
    std::fs::write(&config, yaml).expect("writable");
    let registered = format!("delegated_administrator:northwind-security-tooling/{GUARDDUTY}");
    assert!(
        delegation_changes(&snapshot_plan(dir)).contains(&(
            "register_delegated_administrator".to_owned(),
            registered,
            vec![format!("trusted_access:{GUARDDUTY}")]
        )),
        "{:?}",
        delegation_changes(&snapshot_plan(dir))
    );

    let live = apply_snapshot(dir);
    assert_eq!(
        live.delegated_administrators
            .iter()
            .map(|delegation| (delegation.service.as_str(), delegation.account_id.as_str()))
            .collect::<Vec<_>>(),
        [(GUARDDUTY, "210987654323")]
    );

    let imported = import_direct(dir);
    assert!(
        imported.contains(&format!(
            "  delegated_administrators:\n    {GUARDDUTY}: [northwind-security-tooling]\n"
        )),
        "{imported}"
    );
}
