//! Applying plans: walks a plan's dependency graph with bounded concurrency through a live
//! writer.
//!
//! ```text
//! plan ─► check (refusals, stale saved plan) ─► lease ─► execute ─► report
//!                                                          │
//!                                          address → id ◄──┴──► live::OrgWriter (AWS │ snapshot)
//! ```
//!
//! - [`check`] decides whether a plan may run at all: error findings, closes and removals the
//!   command line does not allow, the management account, and (for saved plans) whether the live
//!   resources and the configuration are still those the plan was made from.
//! - [`lease`] takes, renews and releases the organization's lease, so two applies never
//!   interleave.
//! - [`execute`] starts a change when every change it depends on is done, up to
//!   [`Options::parallelism`] at once, with AWS's own limits per kind of change (5 account
//!   creations, 3 closures in flight) and one write at a time per policy target. The first
//!   failure stops new work; changes in flight finish; the [`Report`] says what was done and what
//!   was not. Writes converge, so running the plan again (or a fresh one) picks up where it
//!   stopped.
//! - [`stop`] catches `SIGINT` and `SIGTERM`: the executor then stops new work as after a
//!   failure, and the command releases the lease before it exits.

pub mod check;
pub mod lease;
mod report;
pub mod stop;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;

pub use report::{ChangeResult, ChangeStatus, Outcome, Progress, Report, ReportSummary};
pub use stop::{Signal, Stop};

use crate::address::Address;
use crate::diagnostic::Diagnostic;
use crate::live::{OrgWriter, Write};
use crate::plan::{Action, Change, Plan};
use crate::rules::Rule;

/// Account creations AWS runs at once per organization.
pub const CREATE_ACCOUNTS_IN_FLIGHT: usize = 5;
/// Account closures in flight at once.
pub const CLOSES_IN_FLIGHT: usize = 3;
/// Changes in flight at once by default: AWS Organizations throttles writes at a few per
/// second, and account creations are the long waits worth overlapping.
pub const DEFAULT_PARALLELISM: usize = 8;

/// How to execute.
#[derive(Debug, Clone)]
pub struct Options {
    /// Changes in flight at once (at least 1).
    pub parallelism: usize,
    /// Where new console passwords are written, opened before the first change; never printed.
    pub password_file: Option<crate::live::password::PasswordFile>,
    /// A signal asking to stop: no change starts after it, those in flight end.
    pub stop: Stop,
    /// When the apply started (the command, before its lease and its read): the report's times
    /// count from it. `None`: from the first change.
    pub started: Option<Instant>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            parallelism: DEFAULT_PARALLELISM,
            password_file: None,
            stop: Stop::never(),
            started: None,
        }
    }
}

/// Changes limited in number in flight, beyond the overall parallelism.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Limited {
    CreateAccount,
    Close,
}

impl Limited {
    fn of(action: &Action) -> Option<Self> {
        match action {
            Action::CreateAccount { .. } => Some(Self::CreateAccount),
            Action::CloseAccount { .. } => Some(Self::Close),
            _ => None,
        }
    }

    const fn most(self) -> usize {
        match self {
            Self::CreateAccount => CREATE_ACCOUNTS_IN_FLIGHT,
            Self::Close => CLOSES_IN_FLIGHT,
        }
    }
}

/// The resource whose writes run one at a time: AWS answers concurrent attachment changes on one
/// target, or tag changes on one resource, with `ConcurrentModificationException`.
fn lane(change: &Change) -> Option<String> {
    match &change.action {
        Action::AttachPolicy { target, .. } | Action::DetachPolicy { target, .. } => {
            Some(format!("target {target}"))
        }
        // An account's tags by its address: a new account's id is not in the plan.
        Action::UpdateTags { .. } if change.address.is_account() => {
            Some(format!("tags {}", change.address))
        }
        Action::UpdateTags { id: Some(id), .. } => Some(format!("tags {id}")),
        Action::UpdateTags { id: None, .. } => Some(format!("tags {}", change.address)),
        _ => None,
    }
}

/// Executes `plan` through `writer`. `root_id` is the live root's id; the plan's other existing
/// resources are found through [`Plan::touched`], new ones through the changes that create them.
/// A signal ([`Options::stop`]) stops new work as a failure does; the report then says so.
pub async fn execute<W: OrgWriter>(
    plan: &Plan,
    root_id: &str,
    writer: &W,
    options: Options,
    progress: &Progress,
) -> Report {
    let started = options.started.unwrap_or_else(Instant::now);
    let count = plan.changes.len();
    let mut ids: HashMap<Address, String> = plan
        .touched
        .iter()
        .map(|(address, touched)| (address.clone(), touched.id.clone()))
        .collect();
    ids.insert(Address::Root, root_id.to_owned());

    let mut results: Vec<ChangeResult> = plan
        .changes
        .iter()
        .enumerate()
        .map(|(index, change)| ChangeResult::not_started(index, change))
        .collect();
    // The plan names dependencies by address; the executor works with positions.
    let dependencies = crate::plan::dependency_positions(&plan.changes);
    let mut waiting_on: Vec<usize> = dependencies.iter().map(Vec::len).collect();
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); count];
    for (index, before) in dependencies.iter().enumerate() {
        for &dependency in before {
            dependents[dependency].push(index);
        }
    }
    let mut ready: BTreeSet<usize> = (0..count).filter(|&i| waiting_on[i] == 0).collect();
    let mut limited: HashMap<Limited, usize> = HashMap::new();
    let mut lanes: HashSet<String> = HashSet::new();
    let mut running = FuturesUnordered::new();
    let mut stopping = false;
    let mut interrupted = None;
    let parallelism = options.parallelism.max(1);

    loop {
        if interrupted.is_none()
            && let Some(signal) = options.stop.signal()
        {
            // Caught before this round starts anything.
            interrupted = Some(signal);
            stopping = true;
            progress.interrupted(signal, running.len());
        }
        // Manual steps are reported, not run; nothing waits for a person.
        while let Some(index) = ready
            .iter()
            .copied()
            .find(|&i| matches!(plan.changes[i].action, Action::ChangeEmail { .. }))
        {
            ready.remove(&index);
            results[index].status = ChangeStatus::Manual;
            release(index, &dependents, &mut waiting_on, &mut ready);
        }
        if !stopping {
            let startable: Vec<usize> = ready.iter().copied().collect();
            for index in startable {
                if running.len() >= parallelism {
                    break;
                }
                let change = &plan.changes[index];
                let kind = Limited::of(&change.action);
                if kind.is_some_and(|kind| limited.get(&kind).copied().unwrap_or(0) >= kind.most())
                {
                    continue;
                }
                let lane = lane(change);
                if lane.as_ref().is_some_and(|lane| lanes.contains(lane)) {
                    continue;
                }
                ready.remove(&index);
                if let Some(kind) = kind {
                    *limited.entry(kind).or_default() += 1;
                }
                if let Some(lane) = &lane {
                    lanes.insert(lane.clone());
                }
                let write = to_write(change, &ids);
                let password_file = options.password_file.as_ref();
                progress.started(index, change);
                results[index].started_ms = Some(millis(started.elapsed()));
                running.push(async move {
                    let clock = Instant::now();
                    let outcome = match write {
                        Ok(write) => writer
                            .write(&write, password_file)
                            .await
                            .map_err(Diagnostic::from),
                        Err(error) => Err(error),
                    };
                    (index, outcome, clock.elapsed(), kind, lane)
                });
            }
        }
        let next = if interrupted.is_some() || running.is_empty() {
            running.next().await
        } else {
            tokio::select! {
                next = running.next() => next,
                signal = options.stop.requested() => {
                    interrupted = Some(signal);
                    stopping = true;
                    progress.interrupted(signal, running.len());
                    continue;
                }
            }
        };
        let Some((index, outcome, took, kind, lane)) = next else {
            break;
        };
        if let Some(kind) = kind {
            *limited.entry(kind).or_default() -= 1;
        }
        if let Some(lane) = lane {
            lanes.remove(&lane);
        }
        let change = &plan.changes[index];
        let result = &mut results[index];
        result.duration_ms = Some(millis(took));
        match outcome {
            Ok(created) => {
                result.status = ChangeStatus::Done;
                if let Some(id) = &created {
                    ids.insert(change.address.clone(), id.clone());
                }
                result.id = created;
                release(index, &dependents, &mut waiting_on, &mut ready);
            }
            Err(error) => {
                result.status = ChangeStatus::Failed;
                result.error = Some(error.message.clone());
                result.help.clone_from(&error.help);
                stopping = true;
            }
        }
        progress.finished(change, result);
    }
    let mut report = Report::new(plan, results, started.elapsed());
    if let Some(signal) = interrupted {
        report.interrupted(signal);
    }
    report
}

/// Marks `index` done for the changes that wait on it.
fn release(
    index: usize,
    dependents: &[Vec<usize>],
    waiting_on: &mut [usize],
    ready: &mut BTreeSet<usize>,
) {
    for &dependent in &dependents[index] {
        waiting_on[dependent] -= 1;
        if waiting_on[dependent] == 0 {
            ready.insert(dependent);
        }
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// The write that carries out `change`, its addresses turned into ids.
fn to_write(change: &Change, ids: &HashMap<Address, String>) -> Result<Write, Diagnostic> {
    if matches!(change.action, Action::ChangeEmail { .. }) {
        return Err(Diagnostic::new(
            Rule::ChangeFailed,
            format!(
                "{}: a root email change is a step for a person",
                change.address
            ),
        ));
    }
    let id = |address: &Address| {
        ids.get(address).cloned().ok_or_else(|| {
            Diagnostic::new(
                Rule::ChangeFailed,
                format!("{}: `{address}` is neither in the organization nor created by an earlier change", change.address),
            )
            .help("the plan does not fit this organization; plan again")
        })
    };
    let mut write = change.action.try_map(id)?;
    // Tags of a resource an earlier change created: the plan could not know its id.
    if let Write::UpdateTags { id: tagged, .. } = &mut write
        && tagged.is_none()
    {
        *tagged = Some(id(&change.address)?);
    }
    Ok(write)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Mutex;

    use super::*;
    use crate::config::BusinessModel;
    use crate::live::{Lease, LeaseAttempt, Unlock};
    use crate::plan::{Summary, Touched};

    /// Records what runs at once; fails renames to `boom`.
    #[derive(Default)]
    struct Recorder {
        state: Mutex<RecorderState>,
    }

    #[derive(Default)]
    struct RecorderState {
        creating: usize,
        most_creating: usize,
        running: usize,
        most_running: usize,
        writes: Vec<Write>,
    }

    impl OrgWriter for Recorder {
        async fn write(
            &self,
            write: &Write,
            _: Option<&crate::live::password::PasswordFile>,
        ) -> Result<Option<String>, crate::live::Error> {
            let creates = matches!(write, Write::CreateAccount { .. });
            {
                let mut state = self.state.lock().unwrap();
                state.running += 1;
                state.most_running = state.most_running.max(state.running);
                if creates {
                    state.creating += 1;
                    state.most_creating = state.most_creating.max(state.creating);
                }
                state.writes.push(write.clone());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
            let mut state = self.state.lock().unwrap();
            state.running -= 1;
            if creates {
                state.creating -= 1;
            }
            match write {
                Write::RenameOu { to, .. } if to == "boom" => Err(Diagnostic::new(
                    Rule::ChangeFailed,
                    "UpdateOrganizationalUnit failed",
                )
                .into()),
                Write::CreateOu { name, .. } => Ok(Some(format!("ou-{name}"))),
                Write::CreateAccount { name, .. } => Ok(Some(format!("id-{name}"))),
                _ => Ok(None),
            }
        }
        async fn take_lease(&self, _: &Lease) -> Result<LeaseAttempt, crate::live::Error> {
            Ok(LeaseAttempt::Taken { replaced: None })
        }
        async fn renew_lease(&self, _: &Lease) -> Result<bool, crate::live::Error> {
            Ok(true)
        }
        async fn release_lease(&self, _: &Lease) -> Result<(), crate::live::Error> {
            Ok(())
        }
        async fn force_unlock(&self, _: &str) -> Result<Unlock, crate::live::Error> {
            Ok(Unlock::Nothing)
        }
    }

    fn at(text: &str) -> Address {
        text.parse().expect("an address")
    }

    fn change(address: Address, action: Action, depends_on: &[&str]) -> Change {
        Change {
            address,
            action,
            reason: String::new(),
            depends_on: depends_on.iter().map(|address| at(address)).collect(),
        }
    }

    fn create_account(name: &str, parent: &str) -> Action {
        Action::CreateAccount {
            name: name.to_owned(),
            email: format!("{name}@example.org"),
            parent: at(parent),
            tags: BTreeMap::new(),
        }
    }

    fn plan_of(changes: Vec<Change>) -> Plan {
        Plan {
            format: crate::plan::FORMAT.to_owned(),
            version: crate::plan::VERSION,
            orgctl_version: String::new(),
            organization: "test".to_owned(),
            business_model: BusinessModel::Direct,
            config_file: String::new(),
            backend: crate::plan::BackendKind::Aws,
            config_digest: String::new(),
            live_fingerprint: String::new(),
            touched: BTreeMap::from([(
                at("ou:Old"),
                Touched {
                    id: "ou-old".to_owned(),
                    fingerprint: String::new(),
                },
            )]),
            changes,
            findings: Vec::new(),
            summary: Summary::default(),
        }
    }

    fn run(plan: &Plan, writer: &Recorder, parallelism: usize) -> Report {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
            .block_on(execute(
                plan,
                "r-root",
                writer,
                Options {
                    parallelism,
                    ..Options::default()
                },
                &Progress::silent(),
            ))
    }

    #[test]
    fn account_creations_run_five_at_a_time_within_the_parallelism() {
        let changes = (0..12)
            .map(|i| {
                change(
                    Address::account(format!("a{i}")),
                    create_account(&format!("a{i}"), "root"),
                    &[],
                )
            })
            .chain((0..6).map(|i| {
                change(
                    Address::account(format!("x{i}")),
                    Action::UpdateTags {
                        id: Some(format!("x{i}")),
                        set: BTreeMap::new(),
                        unset: Vec::new(),
                        before: BTreeMap::new(),
                    },
                    &[],
                )
            }))
            .collect();
        let writer = Recorder::default();
        let report = run(&plan_of(changes), &writer, 8);
        assert_eq!(report.outcome, Outcome::Applied);
        assert_eq!(report.summary.done, 18);
        let state = writer.state.lock().unwrap();
        assert_eq!(state.most_creating, CREATE_ACCOUNTS_IN_FLIGHT);
        assert_eq!(
            state.most_running, 8,
            "other changes fill the remaining slots"
        );
    }

    #[test]
    fn a_change_starts_after_its_dependencies_with_the_ids_they_created() {
        let plan = plan_of(vec![
            change(
                at("ou:New"),
                Action::CreateOu {
                    parent: at("ou:Old"),
                    name: "New".to_owned(),
                    tags: BTreeMap::new(),
                },
                &[],
            ),
            change(at("account:a"), create_account("a", "ou:New"), &["ou:New"]),
        ]);
        let writer = Recorder::default();
        let report = run(&plan, &writer, 8);
        assert_eq!(report.outcome, Outcome::Applied);
        let state = writer.state.lock().unwrap();
        assert!(matches!(&state.writes[0], Write::CreateOu { parent, .. } if parent == "ou-old"));
        assert!(matches!(
            &state.writes[1],
            Write::CreateAccount { parent, .. } if parent == "ou-New"
        ));
        assert_eq!(report.results[1].id.as_deref(), Some("id-a"));
    }

    #[test]
    fn a_failure_stops_new_work_and_reports_what_was_done() {
        let rename = |name: &str| Action::RenameOu {
            id: "ou-old".to_owned(),
            from: "Old".to_owned(),
            to: name.to_owned(),
        };
        let plan = plan_of(vec![
            change(at("ou:Boom"), rename("boom"), &[]),
            change(at("account:slow"), create_account("slow", "root"), &[]),
            change(
                at("account:after"),
                create_account("after", "ou:Boom"),
                &["ou:Boom"],
            ),
            change(
                at("account:later"),
                create_account("later", "root"),
                &["account:slow"],
            ),
        ]);
        let writer = Recorder::default();
        let report = run(&plan, &writer, 2);
        assert_eq!(report.outcome, Outcome::Failed);
        let statuses: Vec<ChangeStatus> = report.results.iter().map(|r| r.status).collect();
        assert_eq!(
            statuses,
            [
                ChangeStatus::Failed,
                ChangeStatus::Done,
                ChangeStatus::NotStarted,
                ChangeStatus::NotStarted
            ],
            "the change in flight finished; nothing new started"
        );
        assert_eq!(
            report.results[0].error.as_deref(),
            Some("UpdateOrganizationalUnit failed")
        );
        assert!(
            report
                .summary_line()
                .contains("1 done, 1 failed, 2 not started")
        );
    }

    /// The violations of `schemas/apply.schema.json` in `report`.
    fn violations_of_the_schema(report: &Report) -> Vec<String> {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schemas/apply.schema.json");
        let schema: serde_json::Value =
            serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        let document = serde_json::to_value(report).unwrap();
        jsonschema::validator_for(&schema)
            .unwrap()
            .iter_errors(&document)
            .map(|error| format!("at `{}`: {error}", error.instance_path()))
            .collect()
    }

    #[test]
    fn failed_reports_match_the_schema() {
        let rename = Action::RenameOu {
            id: "ou-old".to_owned(),
            from: "Old".to_owned(),
            to: "boom".to_owned(),
        };
        let plan = plan_of(vec![
            change(at("ou:Boom"), rename, &[]),
            change(at("account:a"), create_account("a", "root"), &[]),
            change(
                at("account:b"),
                create_account("b", "ou:Boom"),
                &["ou:Boom"],
            ),
        ]);
        let failed = run(&plan, &Recorder::default(), 2);
        assert_eq!(failed.outcome, Outcome::Failed);
        assert_eq!(violations_of_the_schema(&failed), Vec::<String>::new());

        let mut not_saved = run(
            &plan_of(plan.changes[1..2].to_vec()),
            &Recorder::default(),
            2,
        );
        not_saved.not_saved(&crate::diagnostic::Diagnostic::new(
            crate::rules::Rule::LiveSnapshot,
            "cannot write the snapshot",
        ));
        assert_eq!(not_saved.results[0].status, ChangeStatus::NotSaved);
        assert_eq!(violations_of_the_schema(&not_saved), Vec::<String>::new());
    }

    #[test]
    fn a_signal_stops_new_work_and_lets_the_changes_in_flight_end() {
        // Four creations two at a time, each 20 ms: the signal comes while the first two run.
        let plan = plan_of(
            (0..4)
                .map(|i| {
                    change(
                        Address::account(format!("a{i}")),
                        create_account(&format!("a{i}"), "root"),
                        &[],
                    )
                })
                .collect(),
        );
        let writer = Recorder::default();
        let (sender, stop) = Stop::by_hand();
        // A paused clock: time moves to the next timer only when nothing else can run.
        let report = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap()
            .block_on(async {
                let signal = async {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    sender.send_replace(Some(Signal::Interrupt));
                };
                let options = Options {
                    parallelism: 2,
                    stop,
                    ..Options::default()
                };
                let progress = Progress::silent();
                let (report, ()) = tokio::join!(
                    execute(&plan, "r-root", &writer, options, &progress),
                    signal
                );
                report
            });
        let statuses: Vec<ChangeStatus> = report.results.iter().map(|r| r.status).collect();
        assert_eq!(
            statuses,
            [
                ChangeStatus::Done,
                ChangeStatus::Done,
                ChangeStatus::NotStarted,
                ChangeStatus::NotStarted
            ]
        );
        assert_eq!(report.outcome, Outcome::Failed);
        assert_eq!(report.interrupted, Some(Signal::Interrupt));
        assert_eq!(report.diagnostics[0].code, "orgctl::apply::interrupted");
        assert!(
            report
                .summary_line()
                .starts_with("Interrupted by SIGINT, in "),
            "{}",
            report.summary_line()
        );
    }

    #[test]
    fn changes_the_snapshot_never_received_are_reported_not_saved() {
        // Issue 11: a failed final snapshot write used to leave every change reported done.
        let plan = plan_of(vec![
            change(at("account:a"), create_account("a", "root"), &[]),
            change(at("account:b"), create_account("b", "root"), &[]),
        ]);
        let mut report = run(&plan, &Recorder::default(), 2);
        assert_eq!(report.outcome, Outcome::Applied);
        let cause = crate::diagnostic::Diagnostic::new(
            crate::rules::Rule::LiveSnapshot,
            "cannot write the snapshot `live.json`: No space left on device",
        );
        report.not_saved(&cause);
        assert_eq!(report.outcome, Outcome::Failed);
        assert!(
            report
                .results
                .iter()
                .all(|r| r.status == ChangeStatus::NotSaved
                    && r.error.as_deref() == Some(cause.message.as_str()))
        );
        assert_eq!((report.summary.done, report.summary.not_saved), (0, 2));
        assert_eq!(report.diagnostics[0].message, cause.message);
        let line = report.summary_line();
        assert!(
            line.contains("2 changes made in memory and not saved") && !line.contains("Applied"),
            "{line}"
        );
    }

    #[test]
    fn an_address_nothing_resolves_fails_that_change() {
        let plan = plan_of(vec![change(
            at("account:a"),
            create_account("a", "ou:Nowhere"),
            &[],
        )]);
        let report = run(&plan, &Recorder::default(), 8);
        assert_eq!(report.results[0].status, ChangeStatus::Failed);
        assert!(
            report.results[0]
                .error
                .as_deref()
                .is_some_and(|e| e.contains("`ou:Nowhere`")),
            "{:?}",
            report.results[0].error
        );
    }
}
