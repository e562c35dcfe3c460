//! `orgctl fleet validate|plan|drift|apply|report`: the pipeline once per organization of a
//! fleet, the organizations concurrently (bounded by `--parallel`), each with its own
//! credentials, lease and request count; one organization's failure is its row of the summary
//! and never stops the others.

use std::collections::BTreeSet;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use futures_util::{StreamExt, stream};

use super::{Exit, ExitStatus, live};
use crate::apply::{self, Progress, Stop, check, lease};
use crate::cli::{FleetApplyArgs, FleetArgs, FleetCommand, FleetReportArgs, PlanFormat};
use crate::config::{self, Config};
use crate::diagnostic::{self, Diagnostic, FindingRecord, RenderStyle};
use crate::fleet::summary::{self, Command, Findings, Outcome, Row, Status, Summary};
use crate::fleet::{self, Organization};
use crate::live::password::PasswordFile;
use crate::live::{Backend, LiveState, OrgReader, OrgWriter};
use crate::model::{self, Context, Desired};
use crate::plan::{self, Plan, PlanInput};
use crate::render::{self, TextStyle};
use crate::rules::Rule;

/// The file each run writes under `--out-dir`, and `orgctl fleet report` reads.
const SUMMARY_FILE: &str = "summary.json";

/// What a fleet run does to each organization.
#[derive(Debug, Clone, Copy)]
enum Run<'a> {
    /// Resolves its configuration, offline.
    Validate,
    /// Plans it (`Command::Plan`) or reports its drift (`Command::Drift`).
    Plan(Command),
    /// Applies it, with the apply's own arguments.
    Apply(&'a FleetApplyArgs),
}

impl Run<'_> {
    /// The command the summary names.
    fn command(self) -> Command {
        match self {
            Run::Validate => Command::Validate,
            Run::Plan(command) => command,
            Run::Apply(_) => Command::Apply,
        }
    }
}

pub(super) fn run(command: &FleetCommand, style: RenderStyle) -> Exit {
    match command {
        FleetCommand::Validate(args) => run_fleet(args, Run::Validate, style),
        FleetCommand::Plan(args) => run_fleet(args, Run::Plan(Command::Plan), style),
        FleetCommand::Drift(args) => run_fleet(args, Run::Plan(Command::Drift), style),
        FleetCommand::Apply(args) => run_fleet(&args.fleet, Run::Apply(args), style),
        FleetCommand::Report(args) => report(args),
    }
}

/// `orgctl validate FILE` on a fleet file: `orgctl fleet validate FILE`, in `format`.
pub(super) fn validate(file: &Path, format: crate::cli::Format, style: RenderStyle) -> Exit {
    let args = FleetArgs {
        file: file.to_path_buf(),
        format: match format {
            crate::cli::Format::Text => PlanFormat::Text,
            crate::cli::Format::Json => PlanFormat::Json,
        },
        ..FleetArgs::offline()
    };
    run_fleet(&args, Run::Validate, style)
}

/// One organization, made ready offline: its configuration read, inherited and resolved, or why
/// not.
struct Prepared {
    organization: Organization,
    resolved: Result<Ready, Vec<Diagnostic>>,
}

/// An organization's configuration, resolved, with its warnings.
struct Ready {
    config: Config,
    desired: Desired,
    input: PlanInput,
    warnings: Vec<Diagnostic>,
    /// The ids and root emails of accounts other customers of its shared payer claim.
    others: Vec<String>,
}

/// Validates, plans, drifts or applies the organizations of a fleet and prints the summary.
fn run_fleet(args: &FleetArgs, run: Run<'_>, style: RenderStyle) -> Exit {
    let loaded = match fleet::load(&args.file) {
        Ok(loaded) => loaded,
        Err(diagnostics) => return Exit::failure(diagnostics),
    };
    let organizations = fleet::organizations(&loaded);
    if let Some(unknown) = unknown_names(&args.only, &organizations, &loaded) {
        return Exit::failure(vec![unknown]);
    }
    if let Run::Apply(apply_args) = run
        && !apply_args.auto_approve
        && !std::io::stdin().is_terminal()
    {
        return Exit::failure(vec![
            Diagnostic::new(
                Rule::ApplyRefused,
                "there is no terminal to confirm each organization's plan on",
            )
            .help(
                "run `orgctl fleet plan` and review it, then `orgctl fleet apply --auto-approve`",
            ),
        ]);
    }
    let mut prepared = prepare(&loaded, organizations);
    prepared.retain(|prepared| selected(args, &prepared.organization.name));
    // Each organization's plan as Markdown, for the comment under the summary.
    let mut plans = Vec::new();
    let rows = match run {
        Run::Validate => prepared.iter().map(validated).collect(),
        Run::Plan(command) => match live::runtime() {
            Ok(runtime) => {
                let planned = runtime.block_on(plan_all(args, command, &prepared));
                let crossings: Vec<fleet::Crossing> = planned
                    .iter()
                    .filter_map(|(_, _, crossing)| crossing.clone())
                    .collect();
                let mut rows: Vec<Row> = planned
                    .into_iter()
                    .map(|(row, markdown, _)| {
                        if let Some(markdown) = markdown {
                            plans.push((row.organization.clone(), markdown));
                        }
                        row
                    })
                    .collect();
                add_moves(&mut rows, &crossings);
                rows
            }
            Err(error) => return Exit::failure(vec![error]),
        },
        Run::Apply(apply_args) => match live::runtime() {
            Ok(runtime) => runtime.block_on(apply_all(apply_args, &prepared)),
            Err(error) => return Exit::failure(vec![error]),
        },
    };
    if matches!(run, Run::Validate) && args.format == PlanFormat::Text {
        let diagnostics: Vec<Diagnostic> = prepared.iter().flat_map(all_diagnostics).collect();
        if !diagnostics.is_empty() {
            eprint!("{}", diagnostic::render(&diagnostics, style));
        }
    }
    let summary = Summary::new(run.command(), args.shard.into_iter().collect(), rows);
    let shown = match args.format {
        PlanFormat::Markdown => {
            plans.sort();
            summary::markdown_with_plans(&summary, &plans)
        }
        format => show(&summary, format),
    };
    if let Some(folder) = &args.out_dir
        && let Err(error) = write_summary(folder, &summary)
    {
        return Exit::failure(vec![error]).report(shown);
    }
    Exit::with(exit_status(&summary)).report(shown)
}

/// The moves between the fleet's organizations ([`fleet::moves`]): a warning on each inviting
/// organization's row.
fn add_moves(rows: &mut [Row], crossings: &[fleet::Crossing]) {
    for (name, diagnostic) in fleet::moves(crossings) {
        if let Some(row) = rows.iter_mut().find(|row| row.organization == name) {
            row.diagnostics.push(FindingRecord::from(&diagnostic));
            row.findings = Findings::of(&row.diagnostics);
        }
    }
}

/// Every diagnostic of a prepared organization (its entry's, its file's), for `validate`.
fn all_diagnostics(prepared: &Prepared) -> Vec<Diagnostic> {
    let mut diagnostics = prepared.organization.problems.clone();
    match &prepared.resolved {
        Ok(ready) => diagnostics.extend(ready.warnings.iter().cloned()),
        Err(errors) => diagnostics.extend(errors.iter().cloned()),
    }
    diagnostics
}

/// The exit status of a summary: 0 clean, 2 changes or drift, 1 any failure.
fn exit_status(summary: &Summary) -> ExitStatus {
    match summary.status() {
        Status::Clean => ExitStatus::Success,
        Status::Changes => ExitStatus::Changes,
        Status::Failed => ExitStatus::Failure,
    }
}

/// The summary in the output's format, without its trailing newline.
fn show(summary: &Summary, format: PlanFormat) -> String {
    let text = match format {
        PlanFormat::Text => summary::text(summary),
        PlanFormat::Markdown => summary::markdown(summary),
        // Serialising orgctl's own summary type cannot fail.
        PlanFormat::Json => serde_json::to_string_pretty(summary).unwrap_or_default(),
    };
    text.trim_end_matches('\n').to_owned()
}

/// The error for `--only` names the fleet does not have, if any.
fn unknown_names(
    only: &[String],
    organizations: &[Organization],
    loaded: &fleet::Loaded,
) -> Option<Diagnostic> {
    let known: Vec<&str> = organizations
        .iter()
        .map(|organization| organization.name.as_str())
        .collect();
    let unknown: Vec<&str> = only
        .iter()
        .map(String::as_str)
        .filter(|name| !known.contains(name))
        .collect();
    (!unknown.is_empty()).then(|| {
        Diagnostic::new(
            Rule::FleetOnly,
            format!(
                "--only names {} that `{}` does not have",
                unknown
                    .iter()
                    .map(|name| format!("`{name}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                loaded.source.name()
            ),
        )
        .help(format!(
            "the fleet's organizations are {}",
            crate::suggest::list(&known)
        ))
    })
}

/// Whether `--only` and `--shard` pick the organization `name`.
fn selected(args: &FleetArgs, name: &str) -> bool {
    (args.only.is_empty() || args.only.iter().any(|only| only == name))
        && args.shard.is_none_or(|shard| shard.holds(name))
}

/// Reads, inherits and resolves every organization's configuration (all of them, whatever the
/// selection: the checks across files need every customer of a shared payer), then runs the
/// checks across files.
fn prepare(loaded: &fleet::Loaded, organizations: Vec<Organization>) -> Vec<Prepared> {
    let mut prepared: Vec<Prepared> = organizations
        .into_iter()
        .map(|organization| {
            let resolved = resolve(loaded, &organization);
            Prepared {
                organization,
                resolved,
            }
        })
        .collect();
    let (claims, others) = {
        let ready: Vec<fleet::Resolved<'_>> = prepared
            .iter()
            .filter_map(|prepared| {
                let ready = prepared.resolved.as_ref().ok()?;
                Some(fleet::Resolved {
                    organization: &prepared.organization,
                    config: &ready.config,
                    desired: &ready.desired,
                })
            })
            .collect();
        let others: Vec<(String, Vec<String>)> = ready
            .iter()
            .map(|one| {
                (
                    one.organization.name.clone(),
                    fleet::claimed_by_others(one, &ready),
                )
            })
            .collect();
        (fleet::cross_check(&ready), others)
    };
    for prepared in &mut prepared {
        let name = &prepared.organization.name;
        let claimed: Vec<Diagnostic> = claims
            .iter()
            .filter(|(claimer, _)| claimer == name)
            .map(|(_, diagnostic)| diagnostic.clone())
            .collect();
        if let Ok(ready) = &mut prepared.resolved {
            if let Some((_, accounts)) = others.iter().find(|(other, _)| other == name) {
                ready.others.clone_from(accounts);
            }
            if !claimed.is_empty() {
                let mut diagnostics = std::mem::take(&mut ready.warnings);
                diagnostics.extend(claimed);
                prepared.resolved = Err(diagnostics);
            }
        }
    }
    prepared
}

/// One organization's configuration: read, given what it inherits, resolved. Its fleet entry's
/// problems fail it too.
fn resolve(loaded: &fleet::Loaded, organization: &Organization) -> Result<Ready, Vec<Diagnostic>> {
    let mut diagnostics = organization.problems.clone();
    let mut config = match config::load_inheriting(&organization.config) {
        Ok(config) => config,
        Err(errors) => {
            diagnostics.extend(errors);
            return Err(diagnostics);
        }
    };
    diagnostics.extend(fleet::inherit(&mut config, loaded, organization));
    let resolved = model::resolve(&config, &Context::now());
    diagnostics.extend(resolved.diagnostics);
    if let (Some(declared), Some(pinned)) = (
        &organization.management_account_id,
        &resolved.desired.management_account.id,
    ) && declared != pinned
    {
        diagnostics.push(
            Diagnostic::new(
                Rule::FleetManagementAccount,
                format!(
                    "the fleet says organization `{}` is managed by {declared}, its file by {pinned}",
                    organization.name
                ),
            )
            .help("the two must agree: correct the fleet's `management_account_id` or the file's `management_account.id`"),
        );
    }
    if diagnostics.iter().any(Diagnostic::is_error) {
        return Err(diagnostics);
    }
    let input = PlanInput {
        config_digest: config.digest(),
        config_file: organization.config.display().to_string(),
        backend: plan::BackendKind::of(&options(organization, &FleetArgs::offline(), false)),
    };
    Ok(Ready {
        desired: resolved.desired,
        config,
        input,
        warnings: diagnostics,
        others: Vec::new(),
    })
}

impl FleetArgs {
    /// The arguments of an offline run (no endpoint, no region), for naming backends.
    fn offline() -> Self {
        Self {
            file: PathBuf::new(),
            only: Vec::new(),
            parallel: 1,
            out_dir: None,
            shard: None,
            format: PlanFormat::Text,
            region: None,
            endpoint_url: None,
        }
    }
}

/// The backend options of one organization: its snapshot, or AWS through its role or profile.
fn options(organization: &Organization, args: &FleetArgs, writes: bool) -> crate::live::Options {
    let reach = &organization.reach;
    crate::live::Options {
        snapshot: reach.snapshot.clone(),
        aws: crate::live::aws::Options {
            profile: reach.profile.clone(),
            region: args.region.clone(),
            endpoint_url: args.endpoint_url.clone(),
            assume_role: reach.role_arn.clone(),
            external_id: reach.external_id.clone(),
            progress: false,
            verbose: 0,
        },
        writes,
    }
}

/// A row with no live read: valid, or failed with its diagnostics.
fn validated(prepared: &Prepared) -> Row {
    let (result, diagnostics, desired) = match &prepared.resolved {
        Ok(ready) => (Outcome::Valid, ready.warnings.clone(), Some(&ready.desired)),
        Err(diagnostics) => (Outcome::Failed, diagnostics.clone(), None),
    };
    row(
        prepared,
        desired,
        result,
        &diagnostics,
        plan::Summary::default(),
        None,
        Duration::ZERO,
    )
}

/// A summary row.
fn row(
    prepared: &Prepared,
    desired: Option<&Desired>,
    result: Outcome,
    diagnostics: &[Diagnostic],
    changes: plan::Summary,
    requests: Option<usize>,
    duration: Duration,
) -> Row {
    let records: Vec<FindingRecord> = diagnostics.iter().map(FindingRecord::from).collect();
    Row {
        organization: prepared.organization.name.clone(),
        company: prepared.organization.company.clone(),
        business_model: desired.map(|desired| desired.organization.business_model),
        payer: desired.map(|desired| desired.organization.payer),
        result,
        changes,
        findings: Findings::of(&records),
        requests,
        duration_ms: u64::try_from(duration.as_millis()).unwrap_or(u64::MAX),
        diagnostics: records,
    }
}

/// Plans every prepared organization, `--parallel` at once; writes each plan under
/// `--out-dir`.
async fn plan_all(
    args: &FleetArgs,
    command: Command,
    prepared: &[Prepared],
) -> Vec<(Row, Option<String>, Option<fleet::Crossing>)> {
    stream::iter(prepared)
        .map(|prepared| plan_one(args, command, prepared))
        .buffer_unordered(usize::from(args.parallel))
        .collect()
        .await
}

/// What reading and planning one organization gave.
struct Planned {
    plan: Plan,
    live: LiveState,
    source: String,
}

/// Plans one organization, and writes its plan under `--out-dir`: its row, its plan as
/// Markdown when the plan has changes or findings (for `--format markdown`), and what it says
/// of accounts crossing organizations.
async fn plan_one(
    args: &FleetArgs,
    command: Command,
    prepared: &Prepared,
) -> (Row, Option<String>, Option<fleet::Crossing>) {
    let started = Instant::now();
    let ready = match &prepared.resolved {
        Ok(ready) => ready,
        Err(diagnostics) => return (unresolved(prepared, diagnostics, started), None, None),
    };
    let backend = match Backend::open(&options(&prepared.organization, args, false)).await {
        Ok(backend) => backend,
        Err(error) => {
            let row = failed(prepared, ready, Diagnostic::from(error), None, started);
            return (row, None, None);
        }
    };
    let planned = read_and_plan(&backend, prepared, ready).await;
    let requests = backend.requests();
    let Planned { plan, source, live } = match planned {
        Ok(planned) => planned,
        Err(error) => {
            return (
                failed(prepared, ready, error, requests, started),
                None,
                None,
            );
        }
    };
    let mut diagnostics = ready.warnings.clone();
    diagnostics.extend(plan.findings.iter().cloned());
    let result = if plan.has_errors() {
        Outcome::Failed
    } else if plan.is_empty() {
        Outcome::NoChanges
    } else {
        Outcome::Changes
    };
    if let Some(folder) = &args.out_dir
        && let Err(error) = write_plan(folder, &prepared.organization.name, command, &plan, &source)
    {
        diagnostics.push(error);
        let row = row(
            prepared,
            Some(&ready.desired),
            Outcome::Failed,
            &diagnostics,
            plan.summary,
            requests,
            started.elapsed(),
        );
        return (row, None, None);
    }
    let crossing = fleet::Crossing {
        name: prepared.organization.name.clone(),
        organization_id: live.organization.id.clone(),
        invited: plan
            .changes
            .iter()
            .filter_map(|change| match &change.action {
                plan::Action::InviteAccount { account_id, .. } => {
                    Some((change.address.clone(), account_id.clone()))
                }
                _ => None,
            })
            .collect(),
        members: live
            .accounts
            .iter()
            .map(|account| account.id.clone())
            .collect(),
    };
    let markdown = (args.format == PlanFormat::Markdown
        && !(plan.is_empty() && plan.findings.is_empty()))
    .then(|| {
        let records: Vec<_> = ready.warnings.iter().map(Diagnostic::to_record).collect();
        render::plan_markdown(&plan, &source, &ready.input.config_file, &records)
    });
    let row = row(
        prepared,
        Some(&ready.desired),
        result,
        &diagnostics,
        plan.summary,
        requests,
        started.elapsed(),
    );
    (row, markdown, Some(crossing))
}

/// The failed row of an organization whose configuration did not resolve.
fn unresolved(prepared: &Prepared, diagnostics: &[Diagnostic], started: Instant) -> Row {
    row(
        prepared,
        None,
        Outcome::Failed,
        diagnostics,
        plan::Summary::default(),
        None,
        started.elapsed(),
    )
}

/// A failed row: the configuration's warnings and the error.
fn failed(
    prepared: &Prepared,
    ready: &Ready,
    error: Diagnostic,
    requests: Option<usize>,
    started: Instant,
) -> Row {
    let mut diagnostics = ready.warnings.clone();
    diagnostics.push(error);
    row(
        prepared,
        Some(&ready.desired),
        Outcome::Failed,
        &diagnostics,
        plan::Summary::default(),
        requests,
        started.elapsed(),
    )
}

/// Reads the organization through `backend`, checks that it is the one the fleet declares,
/// leaves out the accounts other customers of a shared payer claim, and plans.
async fn read_and_plan(
    backend: &Backend,
    prepared: &Prepared,
    ready: &Ready,
) -> Result<Planned, Diagnostic> {
    let mut state = live::read_for(backend, &ready.desired).await?;
    if let Some(wrong) = wrong_management_account(prepared, ready, &state) {
        return Err(wrong);
    }
    leave_out(&mut state, &ready.others);
    let source = live::reached(&backend.describe(), &state);
    let plan = plan::plan(&ready.desired, &state, &ready.input);
    if let Some(wrong) = check::wrong_organization(&plan) {
        return Err(wrong);
    }
    Ok(Planned {
        plan,
        live: state,
        source,
    })
}

/// An error when the management account that answered is not the one the fleet (or the
/// organization's file) declares: the role or profile leads to another organization.
fn wrong_management_account(
    prepared: &Prepared,
    ready: &Ready,
    state: &LiveState,
) -> Option<Diagnostic> {
    let expected = prepared
        .organization
        .management_account_id
        .as_ref()
        .or(ready.desired.management_account.id.as_ref())?;
    let answered = &state.organization.management_account_id;
    (answered != expected).then(|| {
        Diagnostic::new(
            Rule::WrongOrganization,
            format!(
                "organization `{}` is managed by {expected}, but the credentials reached organization {} managed by {answered}",
                prepared.organization.name, state.organization.id
            ),
        )
        .help("the fleet entry's `role_arn`, `profile` or `state` leads to another organization; point it at this customer's management account")
    })
}

/// Removes from `state` the member accounts whose id or root email is in `others`: they are
/// other customers' on a shared payer, and this customer's plan leaves them alone.
fn leave_out(state: &mut LiveState, others: &[String]) {
    if others.is_empty() {
        return;
    }
    let others: BTreeSet<&str> = others.iter().map(String::as_str).collect();
    let management = state.organization.management_account_id.clone();
    state.accounts.retain(|account| {
        account.id == management
            || !(others.contains(account.id.as_str())
                || others.contains(account.email.to_ascii_lowercase().as_str()))
    });
}

/// Writes one organization's plan under `folder`: `<name>.plan.json` and the text of the plan
/// (`<name>.plan.txt`) or of its drift (`<name>.drift.txt`).
fn write_plan(
    folder: &Path,
    name: &str,
    command: Command,
    plan: &Plan,
    source: &str,
) -> Result<(), Diagnostic> {
    let mut json = super::plan::plan_json(plan);
    json.push('\n');
    write_file(&folder.join(format!("{name}.plan.json")), &json)?;
    let (suffix, text) = match command {
        Command::Drift => ("drift", render::drift_lines(plan, source)),
        _ => (
            "plan",
            render::plan_text(plan, source, TextStyle { colour: false }),
        ),
    };
    write_file(&folder.join(format!("{name}.{suffix}.txt")), &text)
}

/// Writes the summary to `folder/summary.json`.
fn write_summary(folder: &Path, summary: &Summary) -> Result<(), Diagnostic> {
    // Serialising orgctl's own summary type cannot fail.
    let mut json = serde_json::to_string_pretty(summary).unwrap_or_default();
    json.push('\n');
    write_file(&folder.join(SUMMARY_FILE), &json)
}

/// Writes `text` to `path`, creating its folder.
fn write_file(path: &Path, text: &str) -> Result<(), Diagnostic> {
    let cannot = |error: String| {
        Diagnostic::new(
            Rule::FleetFiles,
            format!("cannot write `{}`: {error}", path.display()),
        )
        .help("check that --out-dir names a folder that can be created and written")
    };
    if let Some(folder) = path.parent()
        && !folder.as_os_str().is_empty()
    {
        std::fs::create_dir_all(folder).map_err(|error| cannot(error.to_string()))?;
    }
    crate::files::write(
        path,
        text.as_bytes(),
        crate::files::Existing::Replace,
        0o666,
    )
    .map_err(|error| cannot(error.to_string()))
}

/// Applies every prepared organization whose plan is clean. Organizations of one shared payer
/// run one after the other (they share a lease); the others `--parallel` at once.
async fn apply_all(args: &FleetApplyArgs, prepared: &[Prepared]) -> Vec<Row> {
    let stop = Stop::on_signals().unwrap_or_else(|_| Stop::never());
    // One organization at a time when each is confirmed on the terminal.
    let parallel = if args.auto_approve {
        usize::from(args.fleet.parallel)
    } else {
        1
    };
    let mut groups: Vec<(String, Vec<&Prepared>)> = Vec::new();
    for one in prepared {
        let key = payer_key(one);
        match groups.iter_mut().find(|(group, _)| *group == key) {
            Some((_, members)) => members.push(one),
            None => groups.push((key, vec![one])),
        }
    }
    let stop = &stop;
    let rows: Vec<Vec<Row>> = stream::iter(groups)
        .map(|(_, members)| async move {
            let mut rows = Vec::new();
            for member in members {
                rows.push(apply_one(args, member, stop).await);
            }
            rows
        })
        .buffer_unordered(parallel)
        .collect()
        .await;
    rows.into_iter().flatten().collect()
}

/// What groups organizations that must not be applied at once: the payer they live in.
fn payer_key(prepared: &Prepared) -> String {
    match &prepared.resolved {
        Ok(ready) => fleet::payer_identity(&fleet::Resolved {
            organization: &prepared.organization,
            config: &ready.config,
            desired: &ready.desired,
        }),
        Err(_) => format!("organization {}", prepared.organization.name),
    }
}

/// Applies one organization under its lease: reads, plans, refuses a plan with error findings
/// (or closes, removals, IAM users needing a password file), asks when not `--auto-approve`,
/// executes, and writes its report under `--out-dir`.
async fn apply_one(args: &FleetApplyArgs, prepared: &Prepared, stop: &Stop) -> Row {
    let started = Instant::now();
    let ready = match &prepared.resolved {
        Ok(ready) => ready,
        Err(diagnostics) => return unresolved(prepared, diagnostics, started),
    };
    let backend = match Backend::open(&options(&prepared.organization, &args.fleet, true)).await {
        Ok(backend) => backend,
        Err(error) => return failed(prepared, ready, Diagnostic::from(error), None, started),
    };
    // Another organization's lease is not this one's to take: the management account is
    // checked before the lease, and again in the plan under it.
    match backend.read().await {
        Ok(state) => {
            if let Some(wrong) = wrong_management_account(prepared, ready, &state) {
                return failed(prepared, ready, wrong, backend.requests(), started);
            }
        }
        Err(error) => {
            return failed(
                prepared,
                ready,
                Diagnostic::from(error),
                backend.requests(),
                started,
            );
        }
    }
    let wait = Duration::from_secs(args.lock_timeout);
    let taken = match lease::acquire(&backend, wait, stop).await {
        Ok(taken) => taken,
        Err(error) => return failed(prepared, ready, error, backend.requests(), started),
    };
    let (applied, taken) = lease::hold(
        &backend,
        taken,
        apply_leased(args, &backend, prepared, ready, stop),
    )
    .await;
    let released = backend.release_lease(&taken).await;
    let requests = backend.requests();
    let (result, mut diagnostics, changes) = match applied {
        Ok(applied) => applied,
        Err(error) => (Outcome::Failed, vec![error], plan::Summary::default()),
    };
    if let Err(error) = released {
        diagnostics.push(Diagnostic::from(error));
    }
    let mut all = ready.warnings.clone();
    all.extend(diagnostics);
    row(
        prepared,
        Some(&ready.desired),
        result,
        &all,
        changes,
        requests,
        started.elapsed(),
    )
}

/// What applying one organization gave: how it ended, its findings and errors, its changes.
type Applied = (Outcome, Vec<Diagnostic>, plan::Summary);

/// Everything one organization's apply does under its lease.
async fn apply_leased(
    args: &FleetApplyArgs,
    backend: &Backend,
    prepared: &Prepared,
    ready: &Ready,
    stop: &Stop,
) -> Result<Applied, Diagnostic> {
    let Planned { plan, live, source } = read_and_plan(backend, prepared, ready).await?;
    let allow = check::Allow {
        close: args.allow_close,
        remove: args.allow_remove,
    };
    let mut refusals = check::refusals(&plan, &live, allow);
    let mut password_file = None;
    if let Some(needed) = check::needs_password_file(&plan) {
        match &args.password_dir {
            None => refusals.push(needed.help(
                "give `--password-dir DIR`: each organization's one-time passwords go to `DIR/NAME.passwords`",
            )),
            // Opened before anything is created, as `orgctl apply` does.
            Some(folder) => {
                let path = folder.join(format!("{}.passwords", prepared.organization.name));
                match PasswordFile::open(&path) {
                    Ok(file) => password_file = Some(file),
                    Err(refusal) => refusals.push(refusal),
                }
            }
        }
    }
    let mut diagnostics: Vec<Diagnostic> = plan.findings.clone();
    if !refusals.is_empty() {
        diagnostics.extend(refusals);
        return Ok((Outcome::Failed, diagnostics, plan.summary));
    }
    if plan.is_empty() {
        return Ok((Outcome::NoChanges, diagnostics, plan.summary));
    }
    if !args.auto_approve && !confirmed(&prepared.organization.name, &plan, &source) {
        return Ok((Outcome::Skipped, diagnostics, plan.summary));
    }
    let options = apply::Options {
        stop: stop.clone(),
        password_file: password_file.clone(),
        ..apply::Options::default()
    };
    let report = apply::execute(
        &plan,
        &live.root.id,
        backend,
        options,
        &Progress::of_organization(&prepared.organization.name),
    )
    .await;
    if let Some(file) = &password_file {
        // A file this apply created and left empty goes.
        file.discard_if_unused();
    }
    if let Err(error) = backend.finish().await {
        diagnostics.push(Diagnostic::from(error));
        return Ok((Outcome::Failed, diagnostics, plan.summary));
    }
    if let Some(folder) = &args.fleet.out_dir {
        // Serialising orgctl's own report type cannot fail.
        let mut json = serde_json::to_string_pretty(&report).unwrap_or_default();
        json.push('\n');
        let path = folder.join(format!("{}.apply.json", prepared.organization.name));
        if let Err(error) = write_file(&path, &json) {
            diagnostics.push(error);
        }
    }
    diagnostics.extend(report.diagnostics.iter().filter_map(|record| {
        Rule::from_code(record.code).map(|rule| Diagnostic::new(rule, record.message.clone()))
    }));
    let outcome = match report.outcome {
        apply::Outcome::Applied | apply::Outcome::NoChanges => Outcome::Applied,
        apply::Outcome::Failed | apply::Outcome::Refused => Outcome::Failed,
    };
    Ok((outcome, diagnostics, plan.summary))
}

/// Shows one organization's plan on stderr and asks on the terminal; only `yes` goes on.
fn confirmed(name: &str, plan: &Plan, source: &str) -> bool {
    eprint!(
        "{}",
        render::plan_text(plan, source, TextStyle { colour: false })
    );
    eprint!("Apply these changes to organization `{name}`? Only `yes` applies: ");
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer).is_ok() && answer.trim() == "yes"
}

/// `orgctl fleet report DIR...`: merges the summaries the runs wrote into one, printed in the
/// chosen format, and exits as the merged fleet.
fn report(args: &FleetReportArgs) -> Exit {
    let mut summaries = Vec::new();
    let mut errors = Vec::new();
    for folder in &args.dirs {
        match read_summary(&folder.join(SUMMARY_FILE)) {
            Ok(summary) => summaries.push(summary),
            Err(error) => errors.push(error),
        }
    }
    if !errors.is_empty() {
        return Exit::failure(errors);
    }
    match summary::merge(summaries) {
        Ok(merged) => Exit::with(exit_status(&merged)).report(show(&merged, args.format)),
        Err(reason) => Exit::failure(vec![
            Diagnostic::new(
                Rule::FleetFiles,
                format!("cannot merge the summaries: {reason}"),
            )
            .help("merge the folders of one command's runs (the shards of one `fleet drift`)"),
        ]),
    }
}

/// Reads one run's `summary.json`.
fn read_summary(path: &Path) -> Result<Summary, Diagnostic> {
    let cannot = |reason: String| {
        Diagnostic::new(
            Rule::FleetFiles,
            format!(
                "cannot read the fleet summary `{}`: {reason}",
                path.display()
            ),
        )
        .help("pass the --out-dir folders of `orgctl fleet plan|drift|apply` runs")
    };
    let bytes = crate::files::read(path, crate::files::CONFIG)
        .map_err(|error| cannot(error.to_string()))?;
    let summary: Summary =
        serde_json::from_slice(&bytes).map_err(|error| cannot(error.to_string()))?;
    if summary.format != summary::FORMAT || summary.version != summary::VERSION {
        return Err(cannot(format!(
            "it is `{}` version {}, not `{}` version {}",
            summary.format,
            summary.version,
            summary::FORMAT,
            summary::VERSION
        )));
    }
    Ok(summary)
}
