//! `orgctl apply` and `orgctl force-unlock`: lease, read, plan (or check a saved plan), confirm,
//! execute, report.

use std::io::{BufRead, IsTerminal};
use std::path::Path;
use std::time::Duration;

use super::ExitStatus;
use super::live::{self, Writer};
use super::plan::resolve_file;
use crate::apply::{self, Outcome, Progress, Report, check, lease};
use crate::cli::{ApplyArgs, ForceUnlockArgs, Format};
use crate::diagnostic::{self, Diagnostic, RenderStyle};
use crate::files;
use crate::live::password::PasswordFile;
use crate::live::{OrgReader, OrgWriter};
use crate::model::Desired;
use crate::plan::{self, Plan, PlanInput};
use crate::render::{self, TextStyle};
use crate::rules::Rule;

/// What one apply works from.
struct Job<'a> {
    args: &'a ApplyArgs,
    style: RenderStyle,
    desired: Desired,
    input: PlanInput,
    /// The saved plan to carry out, if the file was one.
    saved: Option<Plan>,
    source: String,
}

pub(super) fn run(args: &ApplyArgs, style: RenderStyle) -> ExitStatus {
    // Until the configuration is read, a report cannot name the organization.
    let stop = |outcome: Outcome, diagnostics: Vec<Diagnostic>| {
        stopped(args, style, "", outcome, &diagnostics)
    };
    // A folder names the `orgctl.yaml` inside it.
    let file = crate::config::locate(&args.file);
    let mut saved = match read_saved_plan(&file) {
        Ok(saved) => saved,
        Err(error) => return stop(Outcome::Refused, vec![error]),
    };
    let config_file = match &saved {
        Some(plan) => {
            if let Some(refusal) = check::backend(plan, &live::backend(&args.live), &file) {
                return stopped(
                    args,
                    style,
                    &plan.organization,
                    Outcome::Refused,
                    &[refusal],
                );
            }
            // The plan records its configuration by the path from its own folder.
            args.config.as_deref().map_or_else(
                || check::from_plan(&file, &plan.config_file),
                crate::config::locate,
            )
        }
        None => file,
    };
    let (desired, input) = match resolve_file(&config_file, live::backend(&args.live)) {
        Ok((desired, input, warnings)) => {
            if !warnings.is_empty() {
                eprint!("{}", diagnostic::render(&warnings, style));
            }
            (desired, input)
        }
        Err(diagnostics) => return stop(Outcome::Refused, diagnostics),
    };
    if let Some(plan) = &mut saved {
        // From here on, messages name the configuration as seen from here, not from the plan.
        plan.config_file.clone_from(&input.config_file);
    }
    let organization = desired.organization.name.clone();
    let runtime = match live::runtime() {
        Ok(runtime) => runtime,
        Err(error) => return stopped(args, style, &organization, Outcome::Failed, &[error]),
    };
    runtime.block_on(async {
        let (writer, source) = match live::writer(&args.live).await {
            Ok(writer) => writer,
            Err(error) => {
                return stopped(args, style, &organization, Outcome::Failed, &[error]);
            }
        };
        let job = Job {
            args,
            style,
            desired,
            input,
            saved,
            source,
        };
        match &writer {
            Writer::Snapshot(writer) => leased(writer.as_ref(), &job).await,
            Writer::Aws(writer) => leased(writer.as_ref(), &job).await,
        }
    })
}

/// Reports an apply that stopped before it had a plan: the diagnostics on stderr and, with
/// `--format json`, a report on stdout all the same, so that a CI job always has one to read.
fn stopped(
    args: &ApplyArgs,
    style: RenderStyle,
    organization: &str,
    outcome: Outcome,
    diagnostics: &[Diagnostic],
) -> ExitStatus {
    eprint!("{}", diagnostic::render(diagnostics, style));
    if args.format == Format::Json {
        let messages = diagnostics.iter().map(|d| d.message.clone()).collect();
        let mut report = Report::refused_before_planning(organization, messages);
        report.outcome = outcome;
        report.diagnostics = diagnostics.iter().map(Diagnostic::to_record).collect();
        println!("{}", report_json(&report));
    } else {
        eprintln!("Nothing was changed.");
    }
    ExitStatus::Failure
}

pub(super) fn force_unlock(args: &ForceUnlockArgs, style: RenderStyle) -> ExitStatus {
    let result = live::runtime().and_then(|runtime| {
        runtime.block_on(async {
            let (writer, _) = live::writer(&args.live).await?;
            match &writer {
                Writer::Snapshot(writer) => {
                    lease::force_unlock(writer.as_ref(), &args.lease_id).await
                }
                Writer::Aws(writer) => lease::force_unlock(writer.as_ref(), &args.lease_id).await,
            }
        })
    });
    match result {
        Ok(removed) => {
            eprintln!(
                "Removed {}: {}.",
                removed.where_recorded(),
                removed.describe()
            );
            ExitStatus::Success
        }
        Err(error) => {
            eprint!("{}", diagnostic::render(&[error], style));
            ExitStatus::Failure
        }
    }
}

/// A saved plan, when `file` is one (JSON naming the plan format); `None` for a configuration.
/// Read with the limit of a saved plan, which is larger than a configuration's.
fn read_saved_plan(file: &Path) -> Result<Option<Plan>, Diagnostic> {
    let bytes = match files::read(file, files::PLAN) {
        Ok(bytes) => bytes,
        Err(error @ files::Error::TooLarge { .. }) => {
            return Err(Diagnostic::new(
                Rule::ApplyRefused,
                format!("cannot read `{}`: {error}", file.display()),
            )
            .help("name a configuration or a plan saved by `orgctl plan --out FILE`"));
        }
        // Missing, unreadable or not a file: the configuration loader says so, with its help.
        Err(_) => return Ok(None),
    };
    #[derive(serde::Deserialize)]
    struct Header {
        format: String,
        version: u32,
    }
    let Ok(header) = serde_json::from_slice::<Header>(&bytes) else {
        return Ok(None);
    };
    let invalid = |reason: String| {
        Diagnostic::new(
            Rule::ApplyRefused,
            format!(
                "`{}` is not a plan this orgctl can apply: {reason}",
                file.display()
            ),
        )
        .help("plan again with this orgctl: `orgctl plan --out FILE`")
    };
    if header.format != plan::FORMAT {
        return Ok(None);
    }
    if header.version != plan::VERSION {
        return Err(invalid(format!(
            "it is version {}, and this orgctl applies version {}",
            header.version,
            plan::VERSION
        )));
    }
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|error| invalid(error.to_string()))
}

/// Runs the job under the organization's lease, released at the end whatever happens.
async fn leased<W: OrgWriter + OrgReader>(writer: &W, job: &Job<'_>) -> ExitStatus {
    let wait = Duration::from_secs(job.args.lock_timeout);
    let lease = match lease::acquire(writer, wait).await {
        Ok(lease) => lease,
        Err(error) => {
            let organization = &job.desired.organization.name;
            return stopped(
                job.args,
                job.style,
                organization,
                Outcome::Refused,
                &[error],
            );
        }
    };
    let (outcome, lease) = lease::hold(writer, lease, apply_leased(writer, job)).await;
    let released = writer.release_lease(&lease).await;
    let status = match outcome {
        Ok(mut report) => {
            // Counted after the release, so that the report covers every request.
            report.requests = writer.requests();
            finish(job, &report)
        }
        Err(status) => status,
    };
    if let Err(error) = released {
        eprintln!(
            "warning: the lease {} was not released: {}; it runs out at {}, or `orgctl force-unlock {}` (with the same backend options) removes it now",
            lease.id,
            error.message,
            lease
                .until
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            lease.id
        );
    }
    status
}

/// Everything done under the lease: the report to print, or the exit status of a refusal (already
/// reported).
async fn apply_leased<W: OrgWriter + OrgReader>(
    writer: &W,
    job: &Job<'_>,
) -> Result<Report, ExitStatus> {
    let args = job.args;
    let live = match live::read_for(writer, &job.desired).await {
        Ok(live) => live,
        Err(error) => {
            let organization = &job.desired.organization.name;
            return Err(stopped(
                args,
                job.style,
                organization,
                Outcome::Failed,
                &[error],
            ));
        }
    };
    let fresh = plan::plan(&job.desired, &live, &job.input);
    let plan = match &job.saved {
        Some(saved) => {
            let stale = check::staleness(saved, &fresh, &live);
            if !stale.is_empty() {
                return Err(refuse(job, Some(saved), stale));
            }
            // The same changes: carry out the fresh plan, whose ids and findings come from the
            // organization as it is now, not from a file that could have been edited.
            fresh
        }
        None => {
            let text = |colour| render::plan_text(&fresh, &job.source, TextStyle { colour });
            if args.format == Format::Text {
                print!("{}", text(job.style.stdout_colour));
            } else if !args.auto_approve {
                // stdout is the report's; whoever is asked must still see what they approve.
                eprint!("{}", text(job.style.colour));
            }
            fresh
        }
    };
    let allow = check::Allow {
        close: args.allow_close,
        remove: args.allow_remove,
    };
    let mut refusals = check::refusals(&plan, &live, allow);
    let mut password_file = None;
    if let Some(needed) = check::needs_password_file(&plan) {
        match &args.password_file {
            None => refusals.push(needed),
            // Opened and checked before anything is created (a user must not be left without
            // a password), and written through this one handle for the whole apply.
            Some(path) => match PasswordFile::open(path) {
                Ok(file) => password_file = Some(file),
                Err(refusal) => refusals.push(refusal),
            },
        }
    }
    if !refusals.is_empty() {
        return Err(refuse(job, Some(&plan), refusals));
    }
    if plan.is_empty() {
        return Ok(Report::no_changes(&plan));
    }
    if job.saved.is_none()
        && !args.auto_approve
        && let Err(error) = confirm(&plan, &job.source)
    {
        return Err(refuse(job, Some(&plan), vec![error]));
    }
    let progress = if args.format == Format::Text {
        Progress::new(std::io::stderr().is_terminal(), plan.changes.len())
    } else {
        Progress::silent()
    };
    let options = apply::Options {
        parallelism: usize::from(args.parallelism),
        password_file,
    };
    let mut report = apply::execute(&plan, &live.root.id, writer, options, &progress).await;
    if let Err(error) = writer.finish().await {
        eprint!(
            "{}",
            diagnostic::render(std::slice::from_ref(&error), job.style)
        );
        report.not_saved(&error);
    }
    Ok(report)
}

/// Asks on the terminal; only `yes` goes on.
fn confirm(plan: &Plan, source: &str) -> Result<(), Diagnostic> {
    if !std::io::stdin().is_terminal() {
        return Err(Diagnostic::new(
            Rule::ApplyRefused,
            "there is no terminal to confirm the plan on",
        )
        .help("review the plan and pass --auto-approve (CI), or save it with `orgctl plan --out FILE` and apply that file"));
    }
    eprint!(
        "\nApply these {} changes to `{}` ({source})? Only `yes` goes on: ",
        plan.changes.len(),
        plan.organization
    );
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    if answer.trim() == "yes" {
        Ok(())
    } else {
        Err(Diagnostic::new(
            Rule::ApplyRefused,
            "apply cancelled: the answer was not `yes`",
        )
        .help("nothing was changed"))
    }
}

/// Reports a refusal: diagnostics on stderr, and the report on stdout for `--format json`.
fn refuse(job: &Job<'_>, plan: Option<&Plan>, reasons: Vec<Diagnostic>) -> ExitStatus {
    eprint!("{}", diagnostic::render(&reasons, job.style));
    if job.args.format == Format::Json {
        let messages = reasons.iter().map(|d| d.message.clone()).collect();
        let mut report = match plan {
            Some(plan) => Report::refused(plan, messages),
            None => Report::refused_before_planning(&job.desired.organization.name, messages),
        };
        report.diagnostics = reasons.iter().map(Diagnostic::to_record).collect();
        println!("{}", report_json(&report));
    } else {
        eprintln!("Nothing was changed.");
    }
    ExitStatus::Failure
}

fn finish(job: &Job<'_>, report: &Report) -> ExitStatus {
    match job.args.format {
        Format::Json => println!("{}", report_json(report)),
        Format::Text => println!("\n{}", report.summary_line()),
    }
    match report.outcome {
        Outcome::Applied | Outcome::NoChanges => ExitStatus::Success,
        Outcome::Failed | Outcome::Refused => ExitStatus::Failure,
    }
}

fn report_json(report: &Report) -> String {
    // Serialising orgctl's own report type to JSON cannot fail.
    serde_json::to_string_pretty(report).unwrap_or_default()
}
