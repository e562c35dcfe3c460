//! `orgctl schema`: the JSON Schemas in `schemas/`, generated from the types.

use super::ExitStatus;
use crate::cli::{SchemaArgs, SchemaKind};
use crate::config::ConfigFile;

/// The JSON Schema of the configuration file, as checked in at `schemas/orgctl.schema.json`.
pub fn config_schema() -> String {
    let schema = schemars::schema_for!(ConfigFile);
    // Serialising a schema (a JSON value) cannot fail.
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

pub(super) fn run(args: &SchemaArgs) -> ExitStatus {
    match args.kind {
        SchemaKind::Config => print!("{}", config_schema()),
    }
    ExitStatus::Success
}
