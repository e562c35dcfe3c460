//! `orgctl plan` and `orgctl drift`: load, resolve, read live, diff, render.

use super::{Exit, ExitStatus, live};
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
    let backend = live::kind(live_args);
    let (desired, input, warnings) =
        resolve_file(file, backend).map_err(|diagnostics| NotPlanned {
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
    let plan = plan::plan(&desired, &state, &input);
    // Against another organization, every change of the plan means nothing: say only that.
    if let Some(wrong) = crate::apply::check::wrong_organization(&plan) {
        let mut diagnostics = warnings;
        diagnostics.push(wrong);
        return Err(NotPlanned {
            organization: Some(desired.organization.name.clone()),
            configuration_errors: false,
            diagnostics,
        });
    }
    Ok(Computed {
        plan,
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
fn not_planned(file: &std::path::Path, format: PlanFormat, failed: NotPlanned) -> Exit {
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
            return Exit::with(ExitStatus::Failure)
                .report(serde_json::to_string_pretty(&document).unwrap_or_default());
        }
        PlanFormat::Markdown => print!(
            "{}",
            render::failure_markdown(failed.organization.as_deref(), &file_name, &records)
        ),
        PlanFormat::Text => {}
    }
    let exit = Exit::failure(failed.diagnostics);
    if failed.configuration_errors {
        exit.closing(configuration_errors(file))
    } else {
        exit
    }
}

/// The line that closes the errors of a configuration no plan was made of.
fn configuration_errors(file: &std::path::Path) -> String {
    format!(
        "{}: the configuration has errors; fix them before planning",
        file.display()
    )
}

/// Loads and resolves the configuration, for a command that makes no plan of it (`export
/// --config`); warnings go to stderr at once, and errors refuse.
pub(super) fn load_desired(file: &std::path::Path, style: RenderStyle) -> Result<Desired, Exit> {
    match resolve_file(file, plan::BackendKind::default()) {
        Ok((desired, _, warnings)) => {
            if !warnings.is_empty() {
                eprint!("{}", diagnostic::render(&warnings, style));
            }
            Ok(desired)
        }
        Err(diagnostics) => Err(Exit::failure(diagnostics).closing(configuration_errors(file))),
    }
}

/// Reads and resolves a configuration: the desired state, the plan's input (naming `backend`)
/// and the warnings, or every diagnostic when any is an error. Prints nothing.
pub(super) fn resolve_file(
    file: &std::path::Path,
    backend: plan::BackendKind,
) -> Result<(Desired, PlanInput, Vec<Diagnostic>), Vec<Diagnostic>> {
    let config = config::load(file)?;
    let resolved = model::resolve(&config, &Context::now());
    if resolved.has_errors() {
        return Err(resolved.diagnostics);
    }
    let input = PlanInput {
        config_digest: config.digest(),
        config_file: file.display().to_string(),
        backend,
    };
    // The raw, spanned configuration is done with: free it before the live state arrives.
    drop(config);
    Ok((resolved.desired, input, resolved.diagnostics))
}

pub(super) fn run(args: &PlanArgs, style: RenderStyle) -> Exit {
    // A folder names the `orgctl.yaml` inside it.
    let file = config::locate(&args.file);
    let Computed {
        mut plan,
        source,
        warnings,
    } = match compute(&file, &args.live) {
        Ok(computed) => computed,
        Err(failed) => return not_planned(&file, args.format, failed),
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
            let file = file.display().to_string();
            print!("{}", render::plan_markdown(&plan, &source, &file, &records));
        }
        PlanFormat::Json => println!("{}", plan_json(&plan)),
    }
    if args.strict
        && let Some(line) = strict_failure(&plan, &warnings)
    {
        return Exit::with(ExitStatus::Failure).closing(line);
    }
    if plan.has_errors() {
        let exit = Exit::with(ExitStatus::Failure);
        return if args.out.is_some() {
            exit.closing("the plan has findings that must be resolved first; it was not saved")
        } else {
            exit
        };
    }
    if let Some(out) = &args.out {
        record_paths_from(&mut plan, out);
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
            return Exit::failure(vec![diagnostic]);
        }
        eprintln!(
            "Saved the plan to {}; apply it with `orgctl apply {}`.",
            out.display(),
            out.display()
        );
    }
    Exit::with(if args.detailed_exitcode && !plan.is_empty() {
        ExitStatus::Changes
    } else {
        ExitStatus::Success
    })
}

/// Makes `plan` what `--out` saves: the configuration and the snapshot recorded by their paths
/// from the folder of the plan file `out`, where apply looks for them whatever directory it runs
/// in.
fn record_paths_from(plan: &mut Plan, out: &std::path::Path) {
    let folder = out.parent().unwrap_or(std::path::Path::new(""));
    let from_folder = |path: &str| {
        files::path_from(folder, std::path::Path::new(path))
            .display()
            .to_string()
    };
    plan.config_file = from_folder(&plan.config_file);
    if let plan::BackendKind::Snapshot { path } = &mut plan.backend {
        *path = from_folder(path);
    }
}

pub(super) fn drift(args: &DriftArgs, style: RenderStyle) -> Exit {
    let file = config::locate(&args.file);
    let Computed {
        plan,
        source,
        warnings,
    } = match compute(&file, &args.live) {
        Ok(computed) => computed,
        Err(failed) => {
            let format = match args.format {
                Format::Json => PlanFormat::Json,
                Format::Text => PlanFormat::Text,
            };
            return not_planned(&file, format, failed);
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
    if plan.has_errors() {
        return Exit::with(ExitStatus::Failure);
    }
    if args.strict
        && let Some(line) = strict_failure(&plan, &warnings)
    {
        return Exit::with(ExitStatus::Failure).closing(line);
    }
    let warned = !warnings.is_empty()
        || plan
            .findings
            .iter()
            .any(|finding| finding.severity == crate::rules::Severity::Warning);
    let drifted = match args.fail_on {
        FailOn::Changes => !plan.is_empty(),
        FailOn::Warning => !plan.is_empty() || warned,
        FailOn::Error => false,
    };
    Exit::with(if drifted {
        ExitStatus::Changes
    } else {
        ExitStatus::Success
    })
}

/// Under `--strict`, whether warnings (the configuration's or the plan's) fail the command: the
/// line that says so when they do.
fn strict_failure(plan: &Plan, warnings: &[Diagnostic]) -> Option<String> {
    let findings = plan
        .findings
        .iter()
        .filter(|finding| finding.severity == crate::rules::Severity::Warning)
        .count();
    let count = warnings.len() + findings;
    (count > 0).then(|| {
        format!(
            "--strict: {count} warning{} count{} as errors",
            if count == 1 { "" } else { "s" },
            if count == 1 { "s" } else { "" }
        )
    })
}

pub(super) fn plan_json(plan: &Plan) -> String {
    // Serialising orgctl's own plan type to JSON cannot fail.
    serde_json::to_string_pretty(plan).unwrap_or_default()
}
