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
