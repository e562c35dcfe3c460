//! What an apply did: one line per change as it starts and ends (stderr), and the report
//! (`--format json`, `schemas/apply.schema.json`).

use std::time::Duration;

use schemars::JsonSchema;
use serde::Serialize;

use crate::address::Address;
use crate::plan::{Change, Plan};
use crate::render::symbol;

/// The value of a report's `format` field.
pub const FORMAT: &str = "orgctl-apply";
/// The report version this build writes.
pub const VERSION: u32 = 1;

/// What `orgctl apply` did.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[schemars(title = "orgctl apply report")]
pub struct Report {
    /// Always `orgctl-apply`.
    pub format: String,
    /// The report format version.
    pub version: u32,
    /// The organization's name in the configuration.
    pub organization: String,
    /// How it ended.
    pub outcome: Outcome,
    /// Why apply did not start, when it did not (empty otherwise).
    pub refusals: Vec<String>,
    /// Every problem reported: configuration errors and warnings, a held lease, an unreachable
    /// backend, a snapshot that could not be written (empty when there was none).
    pub diagnostics: Vec<crate::diagnostic::DiagnosticRecord>,
    /// Every change of the plan, in plan order.
    pub results: Vec<ChangeResult>,
    /// Counts by status.
    pub summary: ReportSummary,
    /// Wall time, in milliseconds.
    pub duration_ms: u64,
    /// AWS requests sent, retries included (the `aws` backend only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requests: Option<usize>,
    /// The signal that stopped the apply, if one did; the JSON report says it with an
    /// `apply::interrupted` diagnostic.
    #[serde(skip)]
    #[schemars(skip)]
    pub interrupted: Option<super::Signal>,
}

/// How an apply ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Every change was made (manual steps aside).
    Applied,
    /// There was nothing to change.
    NoChanges,
    /// A change failed; the results say which ones were done.
    Failed,
    /// Nothing was started (see `refusals`).
    Refused,
}

/// One change and what became of it.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct ChangeResult {
    /// Its position in the plan.
    pub index: usize,
    /// The resource.
    pub address: Address,
    /// The action, as in the plan (`create_ou`).
    pub action: String,
    /// What became of it.
    pub status: ChangeStatus,
    /// The id of what it created.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// What to do about the failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// When it started, in milliseconds from the start of the apply.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_ms: Option<u64>,
    /// How long it took, in milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
}

/// What became of a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChangeStatus {
    /// Made.
    Done,
    /// Tried, and failed.
    Failed,
    /// Not tried: an earlier failure stopped new work, or apply did not start.
    NotStarted,
    /// A step for a person; orgctl cannot make it.
    Manual,
    /// Made in the state orgctl held, but the snapshot file could not be written: the file does
    /// not have it (a snapshot's changes reach it only in the final write).
    NotSaved,
}

/// Counts of changes by status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, JsonSchema)]
pub struct ReportSummary {
    /// Made.
    pub done: usize,
    /// Failed.
    pub failed: usize,
    /// Not tried.
    pub not_started: usize,
    /// Left to a person.
    pub manual: usize,
    /// Made but not saved (the snapshot file could not be written).
    pub not_saved: usize,
}

impl ChangeResult {
    pub(super) fn not_started(index: usize, change: &Change) -> Self {
        Self {
            index,
            address: change.address.clone(),
            action: change.action.name().to_owned(),
            status: ChangeStatus::NotStarted,
            id: None,
            error: None,
            help: None,
            started_ms: None,
            duration_ms: None,
        }
    }
}

impl Report {
    pub(super) fn new(plan: &Plan, results: Vec<ChangeResult>, took: Duration) -> Self {
        let mut summary = ReportSummary::default();
        for result in &results {
            *match result.status {
                ChangeStatus::Done => &mut summary.done,
                ChangeStatus::Failed => &mut summary.failed,
                ChangeStatus::NotStarted => &mut summary.not_started,
                ChangeStatus::Manual => &mut summary.manual,
                ChangeStatus::NotSaved => &mut summary.not_saved,
            } += 1;
        }
        let outcome = if results.is_empty() {
            Outcome::NoChanges
        } else if summary.failed > 0 || summary.not_started > 0 || summary.not_saved > 0 {
            Outcome::Failed
        } else {
            Outcome::Applied
        };
        Self {
            format: FORMAT.to_owned(),
            version: VERSION,
            organization: plan.organization.clone(),
            outcome,
            refusals: Vec::new(),
            diagnostics: Vec::new(),
            results,
            summary,
            duration_ms: u64::try_from(took.as_millis()).unwrap_or(u64::MAX),
            requests: None,
            interrupted: None,
        }
    }

    /// The report of a plan with nothing to do.
    pub fn no_changes(plan: &Plan) -> Self {
        Self::new(plan, Vec::new(), Duration::ZERO)
    }

    /// The report of an apply that stopped before it had a plan (the organization could not be
    /// read).
    pub fn refused_before_planning(organization: &str, refusals: Vec<String>) -> Self {
        Self {
            format: FORMAT.to_owned(),
            version: VERSION,
            organization: organization.to_owned(),
            outcome: Outcome::Refused,
            refusals,
            diagnostics: Vec::new(),
            results: Vec::new(),
            summary: ReportSummary::default(),
            duration_ms: 0,
            requests: None,
            interrupted: None,
        }
    }

    /// The report of an apply that did not start.
    pub fn refused(plan: &Plan, refusals: Vec<String>) -> Self {
        let results = plan
            .changes
            .iter()
            .enumerate()
            .map(|(index, change)| ChangeResult::not_started(index, change))
            .collect();
        Self {
            outcome: Outcome::Refused,
            refusals,
            ..Self::new(plan, results, Duration::ZERO)
        }
    }

    /// The changes made in memory but never written, because the final snapshot write failed:
    /// `error` says why.
    pub fn not_saved(&mut self, error: &crate::diagnostic::Diagnostic) {
        for result in &mut self.results {
            if result.status == ChangeStatus::Done {
                result.status = ChangeStatus::NotSaved;
                result.error = Some(error.message.clone());
                self.summary.done -= 1;
                self.summary.not_saved += 1;
            }
        }
        self.outcome = Outcome::Failed;
        self.diagnostics.push(error.to_record());
    }

    /// Records that `signal` stopped the apply: no change started after it.
    pub fn interrupted(&mut self, signal: super::Signal) {
        self.interrupted = Some(signal);
        self.diagnostics
            .push(interruption(signal, &self.summary).to_record());
    }

    /// `Applied 12 changes in 3.4s.` or `Stopped after a failure: 3 done, 1 failed, 8 not started.`
    pub fn summary_line(&self) -> String {
        let seconds = self.duration_ms as f64 / 1000.0;
        let s = self.summary;
        let mut line = match self.outcome {
            Outcome::Failed if s.not_saved == 0 && self.interrupted.is_some() => format!(
                "Interrupted by {}, in {seconds:.1}s: {} done, {} failed, {} not started. Writes converge: apply again to make the rest.",
                self.interrupted.map_or("a signal", super::Signal::name),
                s.done,
                s.failed,
                s.not_started
            ),
            Outcome::NoChanges => {
                "No changes: the organization matches the configuration.".to_owned()
            }
            Outcome::Refused => "Nothing was changed.".to_owned(),
            Outcome::Applied => format!(
                "Applied {} change{} in {seconds:.1}s.{}",
                s.done,
                if s.done == 1 { "" } else { "s" },
                self.interrupted
                    .map(|signal| format!(
                        " {} came after the last change had started.",
                        signal.name()
                    ))
                    .unwrap_or_default()
            ),
            Outcome::Failed if s.not_saved > 0 => format!(
                "The snapshot was not written, in {seconds:.1}s: {} change{} made in memory and not saved, {} failed, {} not started; the file is as it was. Fix the cause and apply again.",
                s.not_saved,
                if s.not_saved == 1 { "" } else { "s" },
                s.failed,
                s.not_started
            ),
            Outcome::Failed => format!(
                "Stopped after a failure, in {seconds:.1}s: {} done, {} failed, {} not started. Writes converge: fix the cause and apply again.",
                s.done, s.failed, s.not_started
            ),
        };
        if s.manual > 0 {
            line.push_str(&format!(
                " {} manual step{} left for a person (see the plan).",
                s.manual,
                if s.manual == 1 { "" } else { "s" }
            ));
        }
        line
    }
}

/// The diagnostic of an apply that `signal` stopped, with what it did by then.
fn interruption(signal: super::Signal, summary: &ReportSummary) -> crate::diagnostic::Diagnostic {
    crate::diagnostic::Diagnostic::new(
        crate::rules::Rule::ApplyInterrupted,
        format!(
            "apply was stopped by {}: {} change{} done, {} not started; no change started after the signal, and those in flight ended",
            signal.name(),
            summary.done,
            if summary.done == 1 { "" } else { "s" },
            summary.not_started
        ),
    )
    .help("writes converge: apply again (a fresh plan) to make the rest")
}

/// One line per change as it starts and ends, on stderr: spinners on a terminal, plain lines
/// otherwise (CI logs).
pub struct Progress {
    bars: Option<(
        indicatif::MultiProgress,
        std::sync::Mutex<Vec<Option<indicatif::ProgressBar>>>,
    )>,
    /// What each plain line starts with: the organization's name in a fleet's apply, where
    /// several organizations' lines interleave.
    prefix: String,
}

impl Progress {
    /// Spinners when `terminal`, plain lines otherwise; `changes` is the plan's length.
    pub fn new(terminal: bool, changes: usize) -> Self {
        let bars = terminal.then(|| {
            (
                indicatif::MultiProgress::with_draw_target(indicatif::ProgressDrawTarget::stderr()),
                std::sync::Mutex::new(vec![None; changes]),
            )
        });
        Self {
            bars,
            prefix: String::new(),
        }
    }

    /// Plain lines (no spinners), on stderr (tests, `--quiet`).
    pub fn silent() -> Self {
        Self {
            bars: None,
            prefix: String::new(),
        }
    }

    /// Plain lines, each starting with `organization: `: one organization's apply among a
    /// fleet's.
    pub fn of_organization(organization: &str) -> Self {
        Self {
            bars: None,
            prefix: format!("{organization}: "),
        }
    }

    pub(super) fn started(&self, index: usize, change: &Change) {
        let line = format!(
            "{} {}: {}",
            symbol(change.action.kind()),
            change.address,
            change.action.verbs().0
        );
        match &self.bars {
            Some((multi, bars)) => {
                let bar = multi.add(indicatif::ProgressBar::new_spinner());
                bar.set_message(line);
                bar.enable_steady_tick(Duration::from_millis(120));
                if let Ok(mut bars) = bars.lock()
                    && let Some(slot) = bars.get_mut(index)
                {
                    *slot = Some(bar);
                }
            }
            None => eprintln!("{}{line}…", self.prefix),
        }
    }

    /// Says that `signal` came, with `in_flight` changes still running.
    pub(super) fn interrupted(&self, signal: super::Signal, in_flight: usize) {
        let line = match in_flight {
            0 => format!("{}: starting no more changes", signal.name()),
            1 => format!(
                "{}: starting no more changes; waiting for the one in flight to end",
                signal.name()
            ),
            n => format!(
                "{}: starting no more changes; waiting for the {n} in flight to end",
                signal.name()
            ),
        };
        match &self.bars {
            Some((multi, _)) => {
                let _ = multi.println(line);
            }
            None => eprintln!("{}{line}", self.prefix),
        }
    }

    pub(super) fn finished(&self, change: &Change, result: &ChangeResult) {
        let seconds = result.duration_ms.unwrap_or(0) as f64 / 1000.0;
        let symbol = symbol(change.action.kind());
        let line = match (result.status, &result.error) {
            (ChangeStatus::Failed, Some(error)) => {
                format!(
                    "{symbol} {}: failed after {seconds:.1}s: {error}",
                    change.address
                )
            }
            _ => {
                let id = result
                    .id
                    .as_ref()
                    .map(|id| format!(" ({id})"))
                    .unwrap_or_default();
                format!(
                    "{symbol} {}: {} in {seconds:.1}s{id}",
                    change.address,
                    change.action.verbs().1
                )
            }
        };
        match &self.bars {
            Some((multi, bars)) => {
                if let Ok(mut bars) = bars.lock()
                    && let Some(bar) = bars.get_mut(result.index).and_then(Option::take)
                {
                    bar.finish_and_clear();
                    multi.remove(&bar);
                }
                let _ = multi.println(line);
            }
            None => eprintln!("{}{line}", self.prefix),
        }
    }
}
