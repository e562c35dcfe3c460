//! The checked-in JSON Schema is generated from the configuration types.

use crate::common;

#[test]
fn the_checked_in_config_schema_matches_the_code() {
    let path = common::root().join("schemas/orgctl.schema.json");
    let generated = orgctl::commands::config_schema();
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == generated,
        "schemas/orgctl.schema.json is out of date; regenerate it with\n    cargo run -- schema config > schemas/orgctl.schema.json"
    );
}

#[test]
fn the_checked_in_schemas_of_orgctl_output_match_the_code() {
    for (kind, file) in [
        (orgctl::cli::SchemaKind::Plan, "plan"),
        (orgctl::cli::SchemaKind::Live, "live"),
        (orgctl::cli::SchemaKind::Apply, "apply"),
        (orgctl::cli::SchemaKind::PlanFailure, "plan-failure"),
        (orgctl::cli::SchemaKind::Validate, "validate"),
        (orgctl::cli::SchemaKind::Rules, "rules"),
        (orgctl::cli::SchemaKind::FleetFile, "fleet-file"),
        (orgctl::cli::SchemaKind::Fleet, "fleet"),
    ] {
        let path = common::root().join(format!("schemas/{file}.schema.json"));
        let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            checked_in == orgctl::commands::schema(kind),
            "schemas/{file}.schema.json is out of date; regenerate it with\n    cargo run -- schema {file} > schemas/{file}.schema.json"
        );
    }
}

#[test]
fn the_plan_schema_describes_the_changes_array() {
    let schema: serde_json::Value =
        serde_json::from_str(&orgctl::commands::schema(orgctl::cli::SchemaKind::Plan))
            .expect("JSON");
    assert!(schema["properties"]["changes"]["type"] == "array");
    let text = schema.to_string();
    for action in [
        "create_ou",
        "move_account",
        "attach_policy",
        "close_account",
        "change_email",
    ] {
        assert!(text.contains(&format!("\"{action}\"")), "{action}");
    }
}

#[test]
fn the_schema_knows_every_business_model_and_rejects_unknown_keys() {
    let schema: serde_json::Value =
        serde_json::from_str(&orgctl::commands::config_schema()).expect("the schema is JSON");
    let text = schema.to_string();
    for model in ["direct", "resold", "ecam", "spam"] {
        assert!(text.contains(&format!("\"{model}\"")), "{model}");
    }
    assert_eq!(
        schema["additionalProperties"],
        serde_json::Value::Bool(false)
    );
    assert_eq!(schema["required"], serde_json::json!(["organization"]));
}
