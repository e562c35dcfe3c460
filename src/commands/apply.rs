//! `orgctl apply` and `orgctl force-unlock`: lease, read, plan (or check a saved plan), confirm,
//! execute, report.

use std::io::{BufRead, IsTerminal};
use std::path::Path;
use std::time::{Duration, Instant};

use super::live;
use super::plan::resolve_file;
use super::{Exit, ExitStatus};
use crate::apply::{self, Outcome, Progress, Report, Signal, Stop, check, lease};
use crate::cli::{ApplyArgs, ForceUnlockArgs, Format};
use crate::diagnostic::{self, Diagnostic, RenderStyle};
use crate::files;
use crate::live::password::PasswordFile;
use crate::live::{Backend, OrgWriter};
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
    /// How to name the backend (`AWS at …`, the snapshot's path), before it is read.
    source: String,
    /// When the apply started, before it took the lease: the report's times count from it.
    started: Instant,
    /// Set by `SIGINT` or `SIGTERM`: start nothing new, release the lease, exit.
    stop: Stop,
}

pub(super) fn run(args: &ApplyArgs, style: RenderStyle) -> Exit {
    // Until the configuration is read, a report cannot name the organization.
    let stop =
        |outcome: Outcome, diagnostics: Vec<Diagnostic>| stopped(args, "", outcome, diagnostics);
    // A folder names the `orgctl.yaml` inside it.
    let file = crate::config::locate(&args.file);
    let mut saved = match read_saved_plan(&file) {
        Ok(saved) => saved,
        Err(error) => return stop(Outcome::Refused, vec![error]),
    };
    let config_file = match &saved {
        Some(plan) => {
            if let Some(refusal) = check::backend(plan, &live::kind(&args.live), &file) {
                return stopped(args, &plan.organization, Outcome::Refused, vec![refusal]);
            }
            // The plan records its configuration by the path from its own folder.
            args.config.as_deref().map_or_else(
                || check::from_plan(&file, &plan.config_file),
                crate::config::locate,
            )
        }
        None => file,
    };
    let (desired, input) = match resolve_file(&config_file, live::kind(&args.live)) {
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
        Err(error) => return stopped(args, &organization, Outcome::Failed, vec![error]),
    };
    runtime.block_on(async {
        let started = Instant::now();
        let (backend, source) = match live::open_for_writing(&args.live).await {
            Ok(opened) => opened,
            Err(error) => return stopped(args, &organization, Outcome::Failed, vec![error]),
        };
        // From here on the apply may hold the lease: a signal must release it, not end the
        // process.
        let stop = match Stop::on_signals() {
            Ok(stop) => stop,
            Err(error) => {
                let error = Diagnostic::new(
                    Rule::ApplyRefused,
                    format!("cannot catch SIGINT and SIGTERM: {error}"),
                )
                .help("without them an interrupted apply would leave its lease; this is a problem of the machine orgctl runs on");
                return stopped(args, &organization, Outcome::Refused, vec![error]);
            }
        };
        let job = Job {
            args,
            style,
            desired,
            input,
            saved,
            source,
            started,
            stop,
        };
        leased(&backend, &job).await
    })
}

/// An apply that stopped before it had a plan: the diagnostics and, with `--format json`, a
/// report on stdout all the same, so that a CI job always has one to read.
fn stopped(
    args: &ApplyArgs,
    organization: &str,
    outcome: Outcome,
    diagnostics: Vec<Diagnostic>,
) -> Exit {
    if args.format == Format::Json {
        let messages = diagnostics.iter().map(|d| d.message.clone()).collect();
        let mut report = Report::refused_before_planning(organization, messages);
        report.outcome = outcome;
        report.diagnostics = diagnostics.iter().map(Diagnostic::to_record).collect();
        Exit::failure(diagnostics).report(report_json(&report))
    } else {
        Exit::failure(diagnostics).closing("Nothing was changed.")
    }
}

pub(super) fn force_unlock(args: &ForceUnlockArgs) -> Exit {
    let result = live::runtime().and_then(|runtime| {
        runtime.block_on(async {
            let (backend, _) = live::open_for_writing(&args.live).await?;
            lease::force_unlock(&backend, &args.lease_id).await
        })
    });
    match result {
        Ok(removed) => {
            eprintln!(
                "Removed {}: {}.",
                removed.where_recorded(),
                removed.describe()
            );
            Exit::with(ExitStatus::Success)
        }
        Err(error) => Exit::failure(vec![error]),
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

/// Runs the job under the organization's lease, released at the end whatever happens: after
/// the last change, a refusal, a failure, or a signal (`SIGINT`, `SIGTERM`), once the changes in
/// flight have ended.
async fn leased(writer: &Backend, job: &Job<'_>) -> Exit {
    let wait = Duration::from_secs(job.args.lock_timeout);
    let lease = match lease::acquire(writer, wait, &job.stop).await {
        Ok(lease) => lease,
        Err(error) => {
            let organization = &job.desired.organization.name;
            let exit = stopped(job.args, organization, Outcome::Refused, vec![error]);
            return match job.stop.signal() {
                Some(signal) => exit.status(ExitStatus::from(signal)),
                None => exit,
            };
        }
    };
    let (outcome, lease) = lease::hold(writer, lease, apply_leased(writer, job)).await;
    let released = writer.release_lease(&lease).await;
    let exit = match outcome {
        Ok(applied) => {
            // Counted after the release, so that the report covers every request and the
            // whole apply, from before the lease was taken.
            let mut report = applied.report;
            report.requests = writer.requests();
            report.duration_ms =
                u64::try_from(job.started.elapsed().as_millis()).unwrap_or(u64::MAX);
            Exit::with(finish(
                job,
                &report,
                applied.plan_shown,
                applied.passwords.as_ref(),
            ))
        }
        Err(exit) => exit,
    };
    // Said last, after whatever the apply reported.
    match released {
        Ok(()) if job.stop.signal().is_some() => exit.closing("The lease was released."),
        Ok(()) => exit,
        Err(error) => exit.closing(format!(
            "warning: the lease {} was not released: {}; it runs out at {}, or `orgctl force-unlock {}` (with the same backend options) removes it now",
            lease.id,
            Diagnostic::from(error).message,
            lease
                .until
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            lease.id
        )),
    }
}

/// What an apply that ran (or had nothing to do) leaves to report.
struct Applied {
    report: Report,
    /// Whether the plan was printed on stdout, with its own "No changes." line.
    plan_shown: bool,
    /// The password file, when the apply had one.
    passwords: Option<PasswordFile>,
}

/// Everything done under the lease: what to report, or how a refusal ends. A password file this
/// apply created and left empty is removed, and that said after the refusal if there was one.
async fn apply_leased(writer: &Backend, job: &Job<'_>) -> Result<Applied, Exit> {
    let mut password_file = None;
    let result = plan_and_execute(writer, job, &mut password_file).await;
    let removed = password_file
        .as_ref()
        .filter(|file| file.discard_if_unused())
        .map(|file| {
            format!(
                "Removed the password file `{}`: this apply created it and wrote no password.",
                file.path().display()
            )
        });
    match result {
        Ok((report, plan_shown)) => {
            if let Some(line) = removed {
                eprintln!("{line}");
            }
            Ok(Applied {
                report,
                plan_shown,
                passwords: password_file,
            })
        }
        Err(exit) => Err(match removed {
            Some(line) => exit.closing(line),
            None => exit,
        }),
    }
}

/// Reads, plans (or checks the saved plan), confirms and executes; the report and whether the
/// plan was printed, or how a refusal ends. `password_file` is set once opened.
async fn plan_and_execute(
    writer: &Backend,
    job: &Job<'_>,
    password_file: &mut Option<PasswordFile>,
) -> Result<(Report, bool), Exit> {
    let args = job.args;
    let read = tokio::select! {
        read = live::read_for(writer, &job.desired) => read,
        // Only reads are in flight: they are dropped.
        signal = job.stop.requested() => {
            return Err(interrupted(job, None, signal, "while it read the organization"));
        }
    };
    let live = match read {
        Ok(live) => live,
        Err(error) => {
            let organization = &job.desired.organization.name;
            return Err(stopped(args, organization, Outcome::Failed, vec![error]));
        }
    };
    let source = live::reached(&job.source, &live);
    let fresh = plan::plan(&job.desired, &live, &job.input);
    // Another organization than the file's: say so before anything else, not after its plan.
    if let Some(wrong) = check::wrong_organization(&fresh) {
        return Err(refuse(job, Some(&fresh), vec![wrong]));
    }
    let mut plan_shown = false;
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
            let text = |colour| render::plan_text(&fresh, &source, TextStyle { colour });
            if args.format == Format::Text {
                print!("{}", text(job.style.stdout_colour));
                plan_shown = true;
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
    if let Some(needed) = check::needs_password_file(&plan) {
        match &args.password_file {
            None => refusals.push(needed),
            // Opened and checked before anything is created (a user must not be left without
            // a password), and written through this one handle for the whole apply.
            Some(path) => match PasswordFile::open(path) {
                Ok(file) => *password_file = Some(file),
                Err(refusal) => refusals.push(refusal),
            },
        }
    }
    if !refusals.is_empty() {
        return Err(refuse(job, Some(&plan), refusals));
    }
    if plan.is_empty() {
        return Ok((Report::no_changes(&plan), plan_shown));
    }
    if job.saved.is_none() && !args.auto_approve {
        match confirm(&plan, &source, &job.stop).await {
            Ok(()) => {}
            Err(Declined::Answer(error)) => return Err(refuse(job, Some(&plan), vec![error])),
            Err(Declined::Signal(signal)) => {
                // The terminal's cursor is still after the question.
                eprintln!();
                return Err(interrupted(
                    job,
                    Some(&plan),
                    signal,
                    "at the confirmation prompt",
                ));
            }
        }
    }
    let progress = if args.format == Format::Text {
        Progress::new(std::io::stderr().is_terminal(), plan.changes.len())
    } else {
        Progress::silent()
    };
    let options = apply::Options {
        parallelism: usize::from(args.parallelism),
        password_file: password_file.clone(),
        stop: job.stop.clone(),
        started: Some(job.started),
    };
    let mut report = apply::execute(&plan, &live.root.id, writer, options, &progress).await;
    // What was done is saved, whether the apply ended, failed or was interrupted. A failure to
    // save is said at once: the report that follows counts it, and the apply still ends with it.
    if let Err(error) = writer.finish().await {
        let error = Diagnostic::from(error);
        eprint!(
            "{}",
            diagnostic::render(std::slice::from_ref(&error), job.style)
        );
        report.not_saved(&error);
    }
    Ok((report, plan_shown))
}

/// Why the plan was not confirmed.
enum Declined {
    /// No terminal, or an answer other than `yes`.
    Answer(Diagnostic),
    /// A signal came while orgctl asked.
    Signal(Signal),
}

/// Asks on the terminal; only `yes` goes on. The answer is read on a thread of its own, so that
/// Ctrl-C while orgctl waits for it ends the wait (and the apply releases its lease) rather than
/// the process.
async fn confirm(plan: &Plan, source: &str, stop: &Stop) -> Result<(), Declined> {
    if !std::io::stdin().is_terminal() {
        return Err(Declined::Answer(Diagnostic::new(
            Rule::ApplyRefused,
            "there is no terminal to confirm the plan on",
        )
        .help("review the plan and pass --auto-approve (CI), or save it with `orgctl plan --out FILE` and apply that file")));
    }
    let count = plan.changes.len();
    let these = if count == 1 {
        "this change".to_owned()
    } else {
        format!("these {count} changes")
    };
    eprint!(
        "\nApply {these} to `{}`, against {source}? Only `yes` goes on: ",
        plan.organization
    );
    let (sender, answer) = tokio::sync::oneshot::channel();
    let reader = std::thread::Builder::new()
        .name("confirm".to_owned())
        .spawn(move || {
            let mut line = String::new();
            let read = std::io::stdin().lock().read_line(&mut line);
            let _ = sender.send(read.map(|_| line));
        });
    if let Err(error) = reader {
        return Err(Declined::Answer(
            Diagnostic::new(
                Rule::ApplyRefused,
                format!("cannot read the answer: {error}"),
            )
            .help("nothing was changed; apply again, or pass --auto-approve"),
        ));
    }
    let answer = tokio::select! {
        answer = answer => answer,
        signal = stop.requested() => return Err(Declined::Signal(signal)),
    };
    // A signal that came as the answer did still wins: nothing has started yet.
    if let Some(signal) = stop.signal() {
        return Err(Declined::Signal(signal));
    }
    match answer {
        Ok(Ok(line)) if line.trim() == "yes" => Ok(()),
        _ => Err(Declined::Answer(
            Diagnostic::new(
                Rule::ApplyRefused,
                "apply cancelled: the answer was not `yes`",
            )
            .help("nothing was changed"),
        )),
    }
}

/// An apply that `signal` stopped before it changed anything, `when` (`at the confirmation
/// prompt`): a refusal with the signal's exit status.
fn interrupted(job: &Job<'_>, plan: Option<&Plan>, signal: Signal, when: &str) -> Exit {
    let diagnostic = Diagnostic::new(
        Rule::ApplyInterrupted,
        format!("apply was stopped by {} {when}", signal.name()),
    )
    .help("nothing was changed; apply again when ready");
    refuse(job, plan, vec![diagnostic]).status(ExitStatus::from(signal))
}

/// A refusal: the diagnostics, and the report on stdout for `--format json`.
fn refuse(job: &Job<'_>, plan: Option<&Plan>, reasons: Vec<Diagnostic>) -> Exit {
    if job.args.format == Format::Json {
        let messages = reasons.iter().map(|d| d.message.clone()).collect();
        let mut report = match plan {
            Some(plan) => Report::refused(plan, messages),
            None => Report::refused_before_planning(&job.desired.organization.name, messages),
        };
        report.diagnostics = reasons.iter().map(Diagnostic::to_record).collect();
        Exit::failure(reasons).report(report_json(&report))
    } else {
        Exit::failure(reasons).closing("Nothing was changed.")
    }
}

/// Prints the report (its summary line, for text) and what to do with the passwords written;
/// `plan_shown` says the printed plan already said there was nothing to change.
fn finish(
    job: &Job<'_>,
    report: &Report,
    plan_shown: bool,
    passwords: Option<&PasswordFile>,
) -> ExitStatus {
    match job.args.format {
        Format::Json => println!("{}", report_json(report)),
        Format::Text if plan_shown && report.outcome == Outcome::NoChanges => {}
        Format::Text => println!("\n{}", report.summary_line()),
    }
    if let Some(file) = passwords
        && file.recorded() > 0
    {
        let count = file.recorded();
        let line = format!(
            "The one-time password{} of {count} new console user{} {} in `{}` (mode 0600; a line each: account id, user name, password). Give each to its user by a private channel; AWS asks for a new password at the first sign-in. Then delete the file.",
            if count == 1 { "" } else { "s" },
            if count == 1 { "" } else { "s" },
            if count == 1 { "is" } else { "are" },
            file.path().display()
        );
        match job.args.format {
            Format::Text => println!("{line}"),
            Format::Json => eprintln!("{line}"),
        }
    }
    if job.args.live.verbose > 0
        && let Some(requests) = report.requests
    {
        eprintln!("orgctl: {requests} AWS requests (retries included)");
    }
    match (report.interrupted, report.outcome) {
        (Some(signal), _) => ExitStatus::from(signal),
        (None, Outcome::Applied | Outcome::NoChanges) => ExitStatus::Success,
        (None, Outcome::Failed | Outcome::Refused) => ExitStatus::Failure,
    }
}

fn report_json(report: &Report) -> String {
    // Serialising orgctl's own report type to JSON cannot fail.
    serde_json::to_string_pretty(report).unwrap_or_default()
}
