//! `orgctl schema`: the JSON Schemas in `schemas/`, generated from the types.

use super::{Exit, ExitStatus};
use crate::cli::{SchemaArgs, SchemaKind};

/// The JSON Schema of a kind of file, as checked in under `schemas/`.
pub fn schema(kind: SchemaKind) -> String {
    let schema = match kind {
        SchemaKind::Config => schemars::schema_for!(crate::config::ConfigFile),
        SchemaKind::Plan => schemars::schema_for!(crate::plan::Plan),
        SchemaKind::Live => schemars::schema_for!(crate::live::snapshot::SnapshotFile),
        SchemaKind::Apply => schemars::schema_for!(crate::apply::Report),
        SchemaKind::PlanFailure => schemars::schema_for!(super::plan::PlanFailure),
        SchemaKind::Validate => schemars::schema_for!(super::validate::ValidateReport<'static>),
        SchemaKind::Rules => {
            let mut schema = schemars::schema_for!(Vec<super::rules::RuleRecord>);
            schema.insert("title".to_owned(), "orgctl rules".into());
            schema
        }
        SchemaKind::FleetFile => schemars::schema_for!(crate::fleet::FleetFile),
        SchemaKind::Fleet => schemars::schema_for!(crate::fleet::summary::Summary),
    };
    // Serialising a schema (a JSON value) cannot fail.
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

/// The JSON Schema of the configuration file, as checked in at `schemas/orgctl.schema.json`.
pub fn config_schema() -> String {
    schema(SchemaKind::Config)
}

pub(super) fn run(args: &SchemaArgs) -> Exit {
    print!("{}", schema(args.kind));
    Exit::with(ExitStatus::Success)
}
