//! `orgctl plan` and `orgctl drift`: load, resolve, read live, diff, render.

use super::{ExitStatus, live};
use crate::cli::{DriftArgs, Format, LiveArgs, PlanArgs, PlanFormat};
use crate::config;
use crate::diagnostic::{self, Diagnostic, RenderStyle};
use crate::files;
use crate::model::{self, Context, Desired};
use crate::plan::{self, Plan, PlanInput};
use crate::render::{self, TextStyle};
use crate::rules::Rule;

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
    let config = config::load(file).map_err(|diagnostics| {
        eprint!("{}", diagnostic::render(&diagnostics, style));
        ExitStatus::Failure
    })?;
    let resolved = model::resolve(&config, &Context::now());
    if !resolved.diagnostics.is_empty() {
        eprint!("{}", diagnostic::render(&resolved.diagnostics, style));
    }
    if resolved.has_errors() {
        eprintln!(
            "{}: the configuration has errors; fix them before planning",
            file.display()
        );
        return Err(ExitStatus::Failure);
    }
    let input = PlanInput {
        config_digest: config.digest(),
        config_file: file.display().to_string(),
    };
    // The raw, spanned configuration is done with: free it before the live state arrives.
    drop(config);
    Ok((resolved.desired, input))
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
    let (plan, _) = match compute(&args.file, &args.live, style) {
        Ok(computed) => computed,
        Err(status) => return status,
    };
    match args.format {
        Format::Text => print!("{}", render::drift_lines(&plan)),
        Format::Json => println!("{}", plan_json(&plan)),
    }
    if plan.has_errors() {
        ExitStatus::Failure
    } else if plan.is_empty() && plan.findings.is_empty() {
        ExitStatus::Success
    } else {
        ExitStatus::Changes
    }
}

pub(super) fn plan_json(plan: &Plan) -> String {
    // Serialising orgctl's own plan type to JSON cannot fail.
    serde_json::to_string_pretty(plan).unwrap_or_default()
}
