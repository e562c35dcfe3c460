//! `orgctl plan` and `orgctl drift`: load, resolve, read live, diff, render.

use super::{ExitStatus, live};
use crate::cli::{DriftArgs, FailOn, Format, LiveArgs, PlanArgs, PlanFormat};
use crate::config;
use crate::diagnostic::{self, Diagnostic, DiagnosticRecord, RenderStyle};
use crate::files;
use crate::model::{self, Context, Desired};
use crate::plan::{self, Plan, PlanInput};
use crate::render::{self, TextStyle};
use crate::rules::Rule;

/// A plan, what it was made against, and the configuration's warnings.
struct Computed {
    plan: Plan,
    source: String,
    warnings: Vec<Diagnostic>,
}

/// Why no plan was made: the organization's name when the file got that far, and every
/// diagnostic (the configuration's warnings included).
struct NotPlanned {
    organization: Option<String>,
    configuration_errors: bool,
    diagnostics: Vec<Diagnostic>,
}

/// Loads, resolves, reads the live organization and plans. Prints nothing.
fn compute(file: &std::path::Path, live_args: &LiveArgs) -> Result<Computed, NotPlanned> {
    let (desired, input, warnings) = resolve_file(file).map_err(|diagnostics| NotPlanned {
        organization: None,
        configuration_errors: true,
        diagnostics,
    })?;
    let (state, source) = match live::read(live_args, Some(&desired)) {
        Ok(read) => read,
        Err(error) => {
            let mut diagnostics = warnings;
            diagnostics.push(error);
            return Err(NotPlanned {
                organization: Some(desired.organization.name.clone()),
                configuration_errors: false,
                diagnostics,
            });
        }
    };
    Ok(Computed {
        plan: plan::plan(&desired, &state, &input),
        source,
        warnings,
    })
}

/// The document `plan --format json` and `drift --format json` print when no plan was made
/// (`schemas/plan-failure.schema.json`).
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
#[schemars(title = "orgctl plan failure")]
pub struct PlanFailure {
    /// Always `orgctl-plan-failure`.
    pub format: String,
    /// The version of this document's shape.
    pub version: u32,
    /// The configuration file.
    pub file: String,
    /// The organization's name, when the configuration could be read that far.
    pub organization: Option<String>,
    /// Why no plan was made: the configuration's errors and warnings, or the backend's error.
    pub diagnostics: Vec<DiagnosticRecord>,
}

/// Reports that no plan was made, in the output's own form (a human on stderr, a "plan failed"
/// comment for Markdown, a [`PlanFailure`] for JSON), and exits 1.
fn not_planned(
    file: &std::path::Path,
    format: PlanFormat,
    style: RenderStyle,
    failed: &NotPlanned,
) -> ExitStatus {
    let records: Vec<DiagnosticRecord> = failed
        .diagnostics
        .iter()
        .map(Diagnostic::to_record)
        .collect();
    let file_name = file.display().to_string();
    match format {
        PlanFormat::Json => {
            let document = PlanFailure {
                format: "orgctl-plan-failure".to_owned(),
                version: 1,
                file: file_name,
                organization: failed.organization.clone(),
                diagnostics: records,
            };
            // Serialising orgctl's own document type cannot fail.
            println!(
                "{}",
                serde_json::to_string_pretty(&document).unwrap_or_default()
            );
            return ExitStatus::Failure;
        }
        PlanFormat::Markdown => print!(
            "{}",
            render::failure_markdown(failed.organization.as_deref(), &file_name, &records)
        ),
        PlanFormat::Text => {}
    }
    eprint!("{}", diagnostic::render(&failed.diagnostics, style));
    if failed.configuration_errors {
        eprintln!("{file_name}: the configuration has errors; fix them before planning");
    }
    ExitStatus::Failure
}

/// Loads and resolves the configuration; diagnostics go to stderr, and errors refuse planning.
pub(super) fn load_desired(
    file: &std::path::Path,
    style: RenderStyle,
) -> Result<(Desired, PlanInput), ExitStatus> {
    match resolve_file(file) {
        Ok((desired, input, warnings)) => {
            if !warnings.is_empty() {
                eprint!("{}", diagnostic::render(&warnings, style));
            }
            Ok((desired, input))
        }
        Err(diagnostics) => {
            eprint!("{}", diagnostic::render(&diagnostics, style));
            eprintln!(
                "{}: the configuration has errors; fix them before planning",
                file.display()
            );
            Err(ExitStatus::Failure)
        }
    }
}

/// Reads and resolves a configuration: the desired state, the plan's input and the warnings, or
/// every diagnostic when any is an error. Prints nothing.
pub(super) fn resolve_file(
    file: &std::path::Path,
) -> Result<(Desired, PlanInput, Vec<Diagnostic>), Vec<Diagnostic>> {
    let config = config::load(file)?;
    let resolved = model::resolve(&config, &Context::now());
    if resolved.has_errors() {
        return Err(resolved.diagnostics);
    }
    let input = PlanInput {
        config_digest: config.digest(),
        config_file: file.display().to_string(),
    };
    // The raw, spanned configuration is done with: free it before the live state arrives.
    drop(config);
    Ok((resolved.desired, input, resolved.diagnostics))
}

pub(super) fn run(args: &PlanArgs, style: RenderStyle) -> ExitStatus {
    let Computed {
        plan,
        source,
        warnings,
    } = match compute(&args.file, &args.live) {
        Ok(computed) => computed,
        Err(failed) => return not_planned(&args.file, args.format, style, &failed),
    };
    if !warnings.is_empty() {
        eprint!("{}", diagnostic::render(&warnings, style));
    }
    let text_style = TextStyle {
        colour: style.stdout_colour,
    };
    match args.format {
        PlanFormat::Text => print!("{}", render::plan_text(&plan, &source, text_style)),
        PlanFormat::Markdown => {
            let records: Vec<DiagnosticRecord> =
                warnings.iter().map(Diagnostic::to_record).collect();
            let file = args.file.display().to_string();
            print!("{}", render::plan_markdown(&plan, &source, &file, &records));
        }
        PlanFormat::Json => println!("{}", plan_json(&plan)),
    }
    if plan.has_errors() {
        if args.out.is_some() {
            eprintln!("the plan has findings that must be resolved first; it was not saved");
        }
        return ExitStatus::Failure;
    }
    if let Some(out) = &args.out {
        let mut text = plan_json(&plan);
        text.push('\n');
        if let Err(error) = files::write(out, text.as_bytes(), files::Existing::Replace, 0o666) {
            let diagnostic = Diagnostic::new(
                Rule::PlanOutput,
                format!("cannot save the plan to `{}`: {error}", out.display()),
            )
            .help(error.write_help().unwrap_or(
                "check that the folder exists and is writable; to print the plan as JSON, use --format json without --out",
            ));
            eprint!("{}", diagnostic::render(&[diagnostic], style));
            return ExitStatus::Failure;
        }
        eprintln!(
            "Saved the plan to {}; apply it with `orgctl apply {}`.",
            out.display(),
            out.display()
        );
    }
    if args.detailed_exitcode && !plan.is_empty() {
        ExitStatus::Changes
    } else {
        ExitStatus::Success
    }
}

pub(super) fn drift(args: &DriftArgs, style: RenderStyle) -> ExitStatus {
    let Computed {
        plan,
        source,
        warnings,
    } = match compute(&args.file, &args.live) {
        Ok(computed) => computed,
        Err(failed) => {
            let format = match args.format {
                Format::Json => PlanFormat::Json,
                Format::Text => PlanFormat::Text,
            };
            return not_planned(&args.file, format, style, &failed);
        }
    };
    if !warnings.is_empty() {
        eprint!("{}", diagnostic::render(&warnings, style));
    }
    match args.format {
        Format::Text => {
            print!("{}", render::drift_lines(&plan, &source));
            if plan.is_empty() {
                println!("No drift: the organization matches the configuration.");
            }
        }
        Format::Json => println!("{}", plan_json(&plan)),
    }
    let warnings = plan
        .findings
        .iter()
        .any(|finding| finding.severity == crate::rules::Severity::Warning);
    if plan.has_errors() {
        return ExitStatus::Failure;
    }
    let drifted = match args.fail_on {
        FailOn::Changes => !plan.is_empty(),
        FailOn::Warning => !plan.is_empty() || warnings,
        FailOn::Error => false,
    };
    if drifted {
        ExitStatus::Changes
    } else {
        ExitStatus::Success
    }
}

pub(super) fn plan_json(plan: &Plan) -> String {
    // Serialising orgctl's own plan type to JSON cannot fail.
    serde_json::to_string_pretty(plan).unwrap_or_default()
}
