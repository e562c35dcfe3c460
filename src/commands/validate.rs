//! `orgctl validate`: load, resolve, report.

use serde::Serialize;

use super::{Exit, ExitStatus};
use crate::cli::{Format, ValidateArgs};
use crate::diagnostic::{Diagnostic, DiagnosticRecord};
use crate::model::{self, Context, Desired};
use crate::{config, render};

/// The JSON document `orgctl validate --format json` prints (`schemas/validate.schema.json`).
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[schemars(title = "orgctl validate report")]
pub struct ValidateReport<'a> {
    /// Version of this document's shape.
    pub version: u32,
    /// The file validated.
    pub file: String,
    /// No errors (warnings allowed).
    pub valid: bool,
    /// Number of errors.
    pub errors: usize,
    /// Number of warnings.
    pub warnings: usize,
    /// Every diagnostic, in file order.
    pub diagnostics: Vec<DiagnosticRecord>,
    /// The resolved model, with `--explain`: owners, OUs, accounts with their resolved root
    /// emails, policies, partners. For people and ad-hoc scripts; its shape follows orgctl's
    /// model and is not versioned with this document.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<serde_json::Map<String, serde_json::Value>>")]
    pub desired: Option<&'a Desired>,
}

pub(super) fn run(args: &ValidateArgs, style: crate::diagnostic::RenderStyle) -> Exit {
    // A folder names the `orgctl.yaml` inside it.
    let path = config::locate(&args.file);
    // A fleet file is recognised by its top-level keys, and validated as a fleet.
    let fleet = crate::files::read(&path, crate::files::CONFIG)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .is_some_and(|text| crate::fleet::is_fleet(&text));
    if fleet {
        return super::fleet::validate(&path, args.format, style);
    }
    let file = path.display().to_string();
    let (desired, diagnostics) = match config::load(&path) {
        Ok(config) => {
            let resolved = model::resolve(&config, &Context::now());
            (Some(resolved.desired), resolved.diagnostics)
        }
        Err(diagnostics) => (None, diagnostics),
    };
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = diagnostics.len() - errors;
    let status = if errors == 0 && !(args.strict && warnings > 0) {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    };
    match args.format {
        Format::Json => {
            let report = ValidateReport {
                version: 1,
                file,
                valid: errors == 0,
                errors,
                warnings,
                diagnostics: diagnostics.iter().map(Diagnostic::to_record).collect(),
                desired: desired.as_ref().filter(|_| args.explain),
            };
            match serde_json::to_string_pretty(&report) {
                Ok(json) => Exit::with(status).report(json),
                Err(error) => Exit::with(ExitStatus::Failure)
                    .closing(format!("error: cannot write the report as JSON: {error}")),
            }
        }
        Format::Text => {
            if let (Some(desired), true) = (&desired, args.explain) {
                print!("{}", render::desired_table(desired));
                println!();
            }
            let exit = Exit {
                diagnostics,
                ..Exit::with(status)
            }
            .report(summary(&file, errors, warnings));
            if errors == 0 && status == ExitStatus::Failure {
                exit.closing("--strict: warnings count as errors")
            } else {
                exit
            }
        }
    }
}

/// `orgctl.yaml: valid (2 warnings)` or `orgctl.yaml: 3 errors, 1 warning`.
fn summary(file: &str, errors: usize, warnings: usize) -> String {
    let plural =
        |count: usize, word: &str| format!("{count} {word}{}", if count == 1 { "" } else { "s" });
    match (errors, warnings) {
        (0, 0) => format!("{file}: valid"),
        (0, warnings) => format!("{file}: valid ({})", plural(warnings, "warning")),
        (errors, 0) => format!("{file}: {}", plural(errors, "error")),
        (errors, warnings) => format!(
            "{file}: {}, {}",
            plural(errors, "error"),
            plural(warnings, "warning")
        ),
    }
}
