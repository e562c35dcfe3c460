//! `orgctl plan` and `orgctl drift`: load, resolve, read live, diff, render.

use super::{ExitStatus, live};
use crate::cli::{DriftArgs, FailOn, Format, LiveArgs, PlanArgs, PlanFormat};
use crate::config;
use crate::diagnostic::{self, Diagnostic, RenderStyle};
use crate::live::snapshot::write_atomically;
use crate::model::{self, Context, Desired};
use crate::plan::{self, Plan, PlanInput};
use crate::render::{self, TextStyle};

/// Loads, resolves and plans; diagnostics go to stderr. `Err` carries the exit status.
fn compute(
    file: &std::path::Path,
    live_args: &LiveArgs,
    style: RenderStyle,
) -> Result<(Plan, String), ExitStatus> {
    let (desired, input) = load_desired(file, style)?;
    let (state, source) = live::read(live_args, Some(&desired)).map_err(|error| {
        eprint!("{}", diagnostic::render(&[error], style));
        ExitStatus::Failure
    })?;
    Ok((plan::plan(&desired, &state, &input), source))
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
    let (plan, source) = match compute(&args.file, &args.live, style) {
        Ok(computed) => computed,
        Err(status) => return status,
    };
    let text_style = TextStyle {
        colour: style.colour && std::io::IsTerminal::is_terminal(&std::io::stdout()),
    };
    match args.format {
        PlanFormat::Text => print!("{}", render::plan_text(&plan, &source, text_style)),
        PlanFormat::Markdown => print!("{}", render::plan_markdown(&plan, &source)),
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
        if let Err(error) = write_atomically(out, text.as_bytes()) {
            eprintln!(
                "error: cannot write the plan to `{}`: {error}",
                out.display()
            );
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
    let (plan, _) = match compute(&args.file, &args.live, style) {
        Ok(computed) => computed,
        Err(status) => return status,
    };
    match args.format {
        Format::Text => {
            print!("{}", render::drift_lines(&plan));
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
