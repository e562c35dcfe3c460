//! Every JSON document orgctl prints or writes matches its schema in `schemas/`: plans (printed,
//! saved, and as drift), the document of a plan that could not be made, apply reports of every
//! outcome, validate reports, snapshots, and the rule catalogue. The schemas are generated from
//! the types (`schema.rs` checks that); these tests check that the documents keep to them.

use std::path::Path;
use std::process::Output;

use serde_json::Value;

use crate::apply::{APPLY_ALL, example_copy, orgctl_in};
use crate::common::{self, describe, orgctl};

const EXAMPLES: [&str; 5] = ["direct", "ecam", "resold", "shared-payer", "spam"];

/// The validator of `schemas/<schema>.schema.json`.
fn validator(schema: &str) -> jsonschema::Validator {
    let path = common::root().join(format!("schemas/{schema}.schema.json"));
    let schema_json: Value =
        serde_json::from_slice(&std::fs::read(&path).expect("the schema is checked in"))
            .expect("the schema is JSON");
    jsonschema::validator_for(&schema_json)
        .unwrap_or_else(|error| panic!("{}: not a schema: {error}", path.display()))
}

/// `document` checked against `schemas/<schema>.schema.json`; every violation is listed with
/// where it is. Returns the document.
pub(crate) fn assert_matches(schema: &str, document: &[u8]) -> Value {
    let validator = validator(schema);
    let instance: Value = serde_json::from_slice(document).unwrap_or_else(|error| {
        panic!("not JSON ({error}):\n{}", String::from_utf8_lossy(document))
    });
    let violations: Vec<String> = validator
        .iter_errors(&instance)
        .map(|error| format!("at `{}`: {error}", error.instance_path()))
        .collect();
    assert!(
        violations.is_empty(),
        "the document does not match schemas/{schema}.schema.json:\n{}\n--- document\n{instance:#}",
        violations.join("\n")
    );
    instance
}

/// stdout of a run that exited with `code`.
fn stdout_of(output: &Output, code: i32) -> &[u8] {
    assert_eq!(output.status.code(), Some(code), "{}", describe(output));
    &output.stdout
}

fn plan_args<'a>(command: &'a str, name: &'a str, buffer: &'a mut [String; 2]) -> Vec<&'a str> {
    buffer[0] = format!("examples/{name}/orgctl.yaml");
    buffer[1] = format!("examples/{name}/live.json");
    vec![
        command,
        buffer[0].as_str(),
        "--state",
        buffer[1].as_str(),
        "--format",
        "json",
    ]
}

#[test]
fn printed_plans_match_the_plan_schema() {
    for name in EXAMPLES {
        let mut buffer = Default::default();
        let output = orgctl(&plan_args("plan", name, &mut buffer));
        let plan = assert_matches("plan", stdout_of(&output, 0));
        assert!(!plan["changes"].as_array().expect("changes").is_empty());
    }
}

#[test]
fn a_saved_plan_matches_the_plan_schema() {
    let directory = tempfile::tempdir().expect("a temp dir");
    let out = directory.path().join("plan.json");
    let out = out.to_string_lossy();
    let output = orgctl(&[
        "plan",
        "examples/ecam/orgctl.yaml",
        "--state",
        "examples/ecam/live.json",
        "--out",
        &out,
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    assert_matches("plan", &std::fs::read(out.as_ref()).expect("saved"));
}

#[test]
fn drift_json_matches_the_plan_schema() {
    let mut buffer = Default::default();
    let output = orgctl(&plan_args("drift", "ecam", &mut buffer));
    assert_matches("plan", stdout_of(&output, 2));
}

#[test]
fn a_plan_of_an_invalid_configuration_matches_the_plan_failure_schema() {
    let output = orgctl(&[
        "plan",
        "tests/fixtures/invalid/email-invalid-empty.yaml",
        "--state",
        "examples/ecam/live.json",
        "--format",
        "json",
    ]);
    let failure = assert_matches("plan-failure", stdout_of(&output, 1));
    assert_eq!(failure["organization"], Value::Null);
}

#[test]
fn drift_without_its_snapshot_matches_the_plan_failure_schema() {
    let output = orgctl(&[
        "drift",
        "examples/ecam/orgctl.yaml",
        "--state",
        "no/such/live.json",
        "--format",
        "json",
    ]);
    let failure = assert_matches("plan-failure", stdout_of(&output, 1));
    assert_eq!(failure["organization"], "acme");
}

/// `apply --format json` of the example's copy, with every permission, and its report.
fn apply_report(directory: &Path, extra: &[&str], code: i32) -> Value {
    let mut args = vec![
        "apply",
        "--state",
        "live.json",
        "--password-file",
        "passwords",
    ];
    args.extend(extra);
    let output = orgctl_in(directory, &args);
    assert_matches("apply", stdout_of(&output, code))
}

#[test]
fn an_applied_report_matches_the_apply_schema() {
    let directory = example_copy("resold");
    let report = apply_report(directory.path(), &APPLY_ALL, 0);
    assert_eq!(report["outcome"], "applied");
    assert_eq!(report["refusals"], serde_json::json!([]));
}

#[test]
fn a_report_without_its_refusals_would_not_match() {
    // The schema requires `refusals`, empty or not: a report that left it out would fail here.
    let directory = example_copy("resold");
    let mut report = apply_report(directory.path(), &APPLY_ALL, 0);
    report
        .as_object_mut()
        .expect("an object")
        .remove("refusals");
    assert!(!validator("apply").is_valid(&report));
}

#[test]
fn a_report_with_nothing_to_do_matches_the_apply_schema() {
    let directory = example_copy("resold");
    apply_report(directory.path(), &APPLY_ALL, 0);
    let report = apply_report(directory.path(), &APPLY_ALL, 0);
    assert_eq!(report["outcome"], "no_changes");
}

#[test]
fn a_refused_report_matches_the_apply_schema() {
    // The spam example closes an account, which needs --allow-close.
    let directory = example_copy("spam");
    let report = apply_report(directory.path(), &["--auto-approve", "--format", "json"], 1);
    assert_eq!(report["outcome"], "refused");
    assert!(
        report["results"]
            .as_array()
            .expect("results")
            .iter()
            .all(|result| result["status"] == "not_started")
    );
}

#[test]
fn a_report_refused_before_planning_matches_the_apply_schema() {
    let output = orgctl(&[
        "apply",
        "tests/fixtures/invalid/email-invalid-empty.yaml",
        "--state",
        "examples/ecam/live.json",
        "--format",
        "json",
    ]);
    let report = assert_matches("apply", stdout_of(&output, 1));
    assert_eq!(report["outcome"], "refused");
}

#[test]
fn a_report_of_a_failed_read_matches_the_apply_schema() {
    let directory = example_copy("ecam");
    let dir = directory.path();
    std::fs::write(dir.join("live.json"), "{ not a snapshot").expect("writable");
    let report = apply_report(dir, &["--auto-approve", "--format", "json"], 1);
    assert_eq!(report["outcome"], "failed");
}

#[test]
fn validate_json_matches_the_validate_schema() {
    for file in [
        "examples/ecam/orgctl.yaml",
        "tests/fixtures/invalid/email-invalid-empty.yaml",
    ] {
        let output = orgctl(&["validate", file, "--format", "json"]);
        let code = output.status.code().expect("an exit code");
        let report = assert_matches("validate", stdout_of(&output, code));
        assert_eq!(report["valid"], code == 0, "{file}");
    }
}

#[test]
fn validate_json_with_the_resolved_model_matches_the_validate_schema() {
    let output = orgctl(&[
        "validate",
        "examples/ecam/orgctl.yaml",
        "--format",
        "json",
        "--explain",
    ]);
    let report = assert_matches("validate", stdout_of(&output, 0));
    assert!(report["desired"].is_object());
}

#[test]
fn validate_json_prints_nothing_on_stderr() {
    // An error, then a warning: each is in the document on stdout, and only there.
    for file in [
        "tests/fixtures/invalid/email-invalid-empty.yaml",
        "tests/fixtures/invalid/email-example_domain.yaml",
    ] {
        let output = orgctl(&["validate", file, "--format", "json"]);
        let report: Value = serde_json::from_slice(&output.stdout).expect("JSON on stdout");
        assert_eq!(
            report["diagnostics"].as_array().map(Vec::is_empty),
            Some(false)
        );
        assert_eq!(
            String::from_utf8_lossy(&output.stderr),
            "",
            "{}",
            describe(&output)
        );
    }
}

#[test]
fn exported_snapshots_match_the_live_schema() {
    for name in EXAMPLES {
        let state = format!("examples/{name}/live.json");
        let output = orgctl(&["export", "--state", &state]);
        assert_matches("live", stdout_of(&output, 0));
    }
}

#[test]
fn the_example_snapshots_match_the_live_schema() {
    for name in EXAMPLES {
        let state = common::root().join(format!("examples/{name}/live.json"));
        assert_matches("live", &std::fs::read(state).expect("readable"));
    }
}

#[test]
fn the_rule_catalogue_matches_the_rules_schema() {
    let output = orgctl(&["rules", "--format", "json"]);
    let rules = assert_matches("rules", stdout_of(&output, 0));
    assert_eq!(
        rules.as_array().map(Vec::len),
        Some(orgctl::rules::Rule::ALL.len())
    );
}

/// A snapshot written before AWS retired `Status` names an account's state `status`: orgctl
/// reads it, and the schema editors use accepts it too; a misspelt key is still refused.
#[test]
fn the_live_schema_accepts_the_former_status_key_and_nothing_else() {
    let validator = validator("live");
    let snapshot = |key: &str| {
        serde_json::json!({
            "format": "orgctl-live",
            "version": 1,
            "organization": {
                "id": "o-acme",
                "management_account_id": "111111111111",
                "management_account_email": "payer@acme.example"
            },
            "root": { "id": "r-acme", "enabled_policy_types": [], "tags": {} },
            "accounts": [{
                "id": "111111111111",
                "name": "acme-payer",
                "email": "payer@acme.example",
                key: "suspended",
                "parent_id": "r-acme",
                "tags": {}
            }]
        })
    };
    for key in ["state", "status"] {
        let document = snapshot(key);
        assert!(validator.is_valid(&document), "{key}");
        let state = orgctl::live::snapshot::parse("old.json", document.to_string().as_bytes())
            .unwrap_or_else(|error| panic!("{key}: {error:?}"));
        assert_eq!(
            state.accounts[0].state,
            orgctl::live::AccountState::Suspended,
            "{key}"
        );
    }
    assert!(!validator.is_valid(&snapshot("stat")));
}
