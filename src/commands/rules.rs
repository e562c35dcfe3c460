//! `orgctl rules`: the rule catalogue.

use serde::Serialize;

use super::{Exit, ExitStatus};
use crate::cli::{Format, RulesArgs};
use crate::rules::{Rule, Severity};

/// One rule as `orgctl rules --format json` prints it (`schemas/rules.schema.json`).
#[derive(Serialize, schemars::JsonSchema)]
pub(super) struct RuleRecord {
    /// The stable code, e.g. `orgctl::ownership::member_email_domain`.
    code: &'static str,
    /// The default severity.
    severity: Severity,
    /// What the rule checks, in one line.
    summary: &'static str,
}

pub(super) fn run(args: &RulesArgs) -> Exit {
    let records: Vec<RuleRecord> = Rule::ALL
        .iter()
        .map(|rule| RuleRecord {
            code: rule.code(),
            severity: rule.severity(),
            summary: rule.summary(),
        })
        .collect();
    match args.format {
        Format::Json => match serde_json::to_string_pretty(&records) {
            Ok(json) => println!("{json}"),
            Err(error) => {
                return Exit::with(ExitStatus::Failure)
                    .closing(format!("error: cannot write the rules as JSON: {error}"));
            }
        },
        Format::Text => {
            let width = records.iter().map(|r| r.code.len()).max().unwrap_or(0);
            for record in &records {
                println!(
                    "{:<width$}  {:<7}  {}",
                    record.code,
                    record.severity.as_str(),
                    record.summary
                );
            }
        }
    }
    Exit::with(ExitStatus::Success)
}
