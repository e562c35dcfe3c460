//! What a fleet run did, one row per organization: the summary document (`--format json`,
//! `schemas/fleet.schema.json`, and `summary.json` under `--out-dir`), its text and Markdown
//! tables, merging the summaries of shards (`orgctl fleet report`), and the exit status.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::config::{BusinessModel, Payer};
use crate::diagnostic::FindingRecord;
use crate::rules::Severity;

use super::shard::Shard;

/// The value of a summary's `format` field.
pub const FORMAT: &str = "orgctl-fleet";
/// The summary version this build writes.
pub const VERSION: u32 = 1;

/// What a fleet command did to each organization.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "orgctl fleet summary")]
pub struct Summary {
    /// Always `orgctl-fleet`.
    pub format: String,
    /// The summary version.
    pub version: u32,
    /// The command: `validate`, `plan`, `drift` or `apply`.
    pub command: Command,
    /// The shards this summary covers (empty: the whole fleet, or the organizations `--only`
    /// picked).
    #[serde(default)]
    pub shards: Vec<Shard>,
    /// One row per organization, sorted by name.
    pub organizations: Vec<Row>,
}

/// The fleet commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Command {
    /// `orgctl fleet validate`.
    Validate,
    /// `orgctl fleet plan`.
    Plan,
    /// `orgctl fleet drift`.
    Drift,
    /// `orgctl fleet apply`.
    Apply,
}

impl Command {
    /// The command's name.
    pub const fn name(self) -> &'static str {
        match self {
            Command::Validate => "validate",
            Command::Plan => "plan",
            Command::Drift => "drift",
            Command::Apply => "apply",
        }
    }
}

/// One organization's line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Row {
    /// Its name in the fleet.
    pub organization: String,
    /// Its operating company.
    pub company: String,
    /// Its business model, once its configuration was resolved.
    #[serde(default)]
    pub business_model: Option<BusinessModel>,
    /// Its payer type, once its configuration was resolved.
    #[serde(default)]
    pub payer: Option<Payer>,
    /// How it ended.
    pub result: Outcome,
    /// Changes by kind: planned (`plan`, `drift`) or made (`apply`).
    pub changes: crate::plan::Summary,
    /// Findings and diagnostics by severity.
    pub findings: Findings,
    /// AWS requests sent, retries included (the `aws` backend only).
    #[serde(default)]
    pub requests: Option<usize>,
    /// Wall time, in milliseconds.
    pub duration_ms: u64,
    /// Why it failed, and its warnings.
    #[serde(default)]
    pub diagnostics: Vec<FindingRecord>,
}

/// How one organization ended.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// `validate`: the configuration is valid (warnings allowed).
    Valid,
    /// Nothing to change: the organization matches its configuration.
    NoChanges,
    /// Changes to make (or drift found).
    Changes,
    /// `apply`: its changes were made.
    Applied,
    /// `apply`: not applied (not confirmed); its changes are still to make.
    Skipped,
    /// Its configuration, its credentials, its organization or a change failed.
    Failed,
}

impl Outcome {
    /// How the text and Markdown tables say it.
    pub const fn describe(self) -> &'static str {
        match self {
            Outcome::Valid => "valid",
            Outcome::NoChanges => "no changes",
            Outcome::Changes => "changes",
            Outcome::Applied => "applied",
            Outcome::Skipped => "skipped",
            Outcome::Failed => "failed",
        }
    }

    /// How the closing line counts it: `2 with changes`.
    const fn counted(self) -> &'static str {
        match self {
            Outcome::Valid => "valid",
            Outcome::NoChanges => "unchanged",
            Outcome::Changes => "with changes",
            Outcome::Applied => "applied",
            Outcome::Skipped => "skipped",
            Outcome::Failed => "failed",
        }
    }
}

/// Counts of findings by severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Findings {
    /// Errors.
    pub errors: usize,
    /// Warnings.
    pub warnings: usize,
}

impl Findings {
    /// The counts of `records`.
    pub fn of(records: &[FindingRecord]) -> Self {
        let errors = records
            .iter()
            .filter(|record| record.severity == Severity::Error)
            .count();
        Self {
            errors,
            warnings: records.len() - errors,
        }
    }
}

/// How a fleet command exits, from its rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Nothing to change anywhere (or every change made).
    Clean,
    /// Some organization has changes to make or drift.
    Changes,
    /// Some organization failed.
    Failed,
}

impl Summary {
    /// A summary of `rows`, sorted by organization.
    pub fn new(command: Command, shards: Vec<Shard>, mut rows: Vec<Row>) -> Self {
        rows.sort_by(|a, b| a.organization.cmp(&b.organization));
        Self {
            format: FORMAT.to_owned(),
            version: VERSION,
            command,
            shards,
            organizations: rows,
        }
    }

    /// How the command exits: failed when any organization failed, else changes when any has
    /// changes to make, else clean.
    pub fn status(&self) -> Status {
        let results: Vec<Outcome> = self.organizations.iter().map(|row| row.result).collect();
        if results.contains(&Outcome::Failed) {
            Status::Failed
        } else if results.contains(&Outcome::Changes) || results.contains(&Outcome::Skipped) {
            Status::Changes
        } else {
            Status::Clean
        }
    }

    /// The one line under the table: `5 organizations: 2 unchanged, 2 with changes, 1 failed`.
    pub fn closing_line(&self) -> String {
        let mut counts: BTreeMap<Outcome, usize> = BTreeMap::new();
        for row in &self.organizations {
            *counts.entry(row.result).or_default() += 1;
        }
        let parts: Vec<String> = counts
            .iter()
            .map(|(outcome, count)| format!("{count} {}", outcome.counted()))
            .collect();
        let total = self.organizations.len();
        format!(
            "{total} organization{}: {}",
            if total == 1 { "" } else { "s" },
            if parts.is_empty() {
                "none".to_owned()
            } else {
                parts.join(", ")
            }
        )
    }
}

/// Merges the summaries of shards (or of any runs of one command) into one: every row, sorted
/// by organization. An organization in two summaries keeps the row of the later one given.
/// An error when they are of different commands.
pub fn merge(summaries: Vec<Summary>) -> Result<Summary, String> {
    let command = summaries
        .first()
        .map_or(Command::Plan, |summary| summary.command);
    let mut rows: BTreeMap<String, Row> = BTreeMap::new();
    let mut shards = Vec::new();
    for summary in summaries {
        if summary.command != command {
            return Err(format!(
                "the summaries are of different commands (`{}` and `{}`)",
                command.name(),
                summary.command.name()
            ));
        }
        shards.extend(summary.shards);
        for row in summary.organizations {
            rows.insert(row.organization.clone(), row);
        }
    }
    shards.sort_by_key(|shard| (shard.total, shard.index));
    shards.dedup();
    Ok(Summary::new(command, shards, rows.into_values().collect()))
}

/// The changes of a row in a few characters: `+3 ~1 ->2 -1` (creations and attachments,
/// updates, moves, removals of any kind), `0` for none.
fn changes_cell(changes: &crate::plan::Summary) -> String {
    let added = changes.create + changes.attach;
    let removed = changes.detach + changes.close + changes.remove + changes.delete;
    let parts: Vec<String> = [
        (added, "+"),
        (changes.update, "~"),
        (changes.move_, "->"),
        (removed, "-"),
        (changes.manual, "!"),
    ]
    .into_iter()
    .filter(|(count, _)| *count > 0)
    .map(|(count, symbol)| format!("{symbol}{count}"))
    .collect();
    if parts.is_empty() {
        "0".to_owned()
    } else {
        parts.join(" ")
    }
}

/// The findings of a row: `1 error, 2 warnings`, `-` for none.
fn findings_cell(findings: Findings) -> String {
    let mut parts = Vec::new();
    if findings.errors > 0 {
        parts.push(format!(
            "{} error{}",
            findings.errors,
            if findings.errors == 1 { "" } else { "s" }
        ));
    }
    if findings.warnings > 0 {
        parts.push(format!(
            "{} warning{}",
            findings.warnings,
            if findings.warnings == 1 { "" } else { "s" }
        ));
    }
    if parts.is_empty() {
        "-".to_owned()
    } else {
        parts.join(", ")
    }
}

/// The cells of a row, in the tables' column order.
fn cells(row: &Row) -> [String; 8] {
    [
        row.organization.clone(),
        row.company.clone(),
        row.business_model
            .map_or("-", crate::model::ownership::model_name)
            .to_owned(),
        changes_cell(&row.changes),
        findings_cell(row.findings),
        row.result.describe().to_owned(),
        row.requests
            .map_or_else(|| "-".to_owned(), |requests| requests.to_string()),
        format!("{:.1}s", row.duration_ms as f64 / 1000.0),
    ]
}

/// The tables' column headers.
const HEADERS: [&str; 8] = [
    "organization",
    "company",
    "model",
    "changes",
    "findings",
    "result",
    "requests",
    "duration",
];

/// Whether a row's diagnostic is one only the fleet finds (no organization's own plan holds
/// it): a move of an account between organizations.
fn across_organizations(record: &FindingRecord) -> bool {
    crate::rules::Rule::from_code(&record.code) == Some(crate::rules::Rule::FleetAccountMoves)
}

/// Whether the text summary spells a row's diagnostic out: its errors, and what only the fleet
/// finds.
fn shown(record: &FindingRecord) -> bool {
    record.severity == Severity::Error || across_organizations(record)
}

/// The summary as a text table, then each failed organization's reasons and what only the
/// fleet finds, then the closing line.
pub fn text(summary: &Summary) -> String {
    let rows: Vec<[String; 8]> = summary.organizations.iter().map(cells).collect();
    let mut widths = HEADERS.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        format!("{}\n", padded.join("  ").trim_end())
    };
    let mut out = line(HEADERS.to_vec());
    for row in &rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    for row in &summary.organizations {
        for record in row.diagnostics.iter().filter(|record| shown(record)) {
            out.push_str(&format!(
                "\n{}: {}[{}] {}",
                row.organization,
                record.severity.as_str(),
                record.code,
                crate::suggest::printable(&record.message)
            ));
            if let Some(help) = &record.help {
                out.push_str(&format!("\n  help: {}", crate::suggest::printable(help)));
            }
            out.push('\n');
        }
    }
    out.push('\n');
    out.push_str(&summary.closing_line());
    out.push('\n');
    out
}

/// The summary as Markdown, for one pull-request comment: a table, each failure's first reason,
/// what only the fleet finds, and the closing line.
pub fn markdown(summary: &Summary) -> String {
    let mut out = format!("### orgctl fleet {}\n\n", summary.command.name());
    out.push_str(&format!("| {} |\n", HEADERS.join(" | ")));
    out.push_str(&format!("|{}\n", "---|".repeat(HEADERS.len())));
    for row in &summary.organizations {
        let cells: Vec<String> = cells(row)
            .iter()
            .map(|cell| crate::render::markdown_cell(cell))
            .collect();
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    let failures: Vec<String> = summary
        .organizations
        .iter()
        .filter_map(|row| {
            let first = row
                .diagnostics
                .iter()
                .find(|record| record.severity == Severity::Error)?;
            Some(format!(
                "- **{}**: {}",
                crate::render::markdown_cell(&row.organization),
                crate::render::markdown_cell(&first.message)
            ))
        })
        .collect();
    if !failures.is_empty() {
        out.push_str("\n**Failed**\n\n");
        out.push_str(&failures.join("\n"));
        out.push('\n');
    }
    let across: Vec<String> = summary
        .organizations
        .iter()
        .flat_map(|row| {
            row.diagnostics
                .iter()
                .filter(|record| across_organizations(record))
                .map(|record| {
                    format!(
                        "- **{}**: {}",
                        crate::render::markdown_cell(&row.organization),
                        crate::render::markdown_cell(&record.message)
                    )
                })
        })
        .collect();
    if !across.is_empty() {
        out.push_str("\n**Across organizations**\n\n");
        out.push_str(&across.join("\n"));
        out.push('\n');
    }
    out.push_str(&format!("\n{}\n", summary.closing_line()));
    out
}

/// [`markdown`], then each organization's plan (`plans`: name and the plan as Markdown) folded
/// under its name, as many as fit one pull-request comment ([`crate::render::COMMENT_LIMIT`]);
/// the others are named, for the run's files.
pub fn markdown_with_plans(summary: &Summary, plans: &[(String, String)]) -> String {
    let mut out = markdown(summary);
    let mut left_out = Vec::new();
    for (name, plan) in plans {
        let folded = format!(
            "\n<details><summary>{}</summary>\n\n{}\n</details>\n",
            crate::render::markdown_cell(name),
            plan.trim_end()
        );
        if out.chars().count() + folded.chars().count() < crate::render::COMMENT_LIMIT {
            out.push_str(&folded);
        } else {
            left_out.push(format!("`{name}`"));
        }
    }
    if !left_out.is_empty() {
        out.push_str(&format!(
            "\nThe plans of {} do not fit this comment: see the run's `--out-dir`.\n",
            crate::render::markdown_cell(&left_out.join(", "))
        ));
    }
    out.trim_end().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, result: Outcome) -> Row {
        Row {
            organization: name.to_owned(),
            company: "reseller-de".to_owned(),
            business_model: Some(BusinessModel::Ecam),
            payer: Some(Payer::Dedicated),
            result,
            changes: crate::plan::Summary {
                create: usize::from(result == Outcome::Changes),
                ..Default::default()
            },
            findings: Findings::default(),
            requests: None,
            duration_ms: 1200,
            diagnostics: Vec::new(),
        }
    }

    #[test]
    fn any_failure_fails_the_fleet_and_changes_come_next() {
        let status = |results: &[Outcome]| {
            let rows = results
                .iter()
                .enumerate()
                .map(|(index, result)| row(&index.to_string(), *result))
                .collect();
            Summary::new(Command::Plan, Vec::new(), rows).status()
        };
        assert_eq!(
            status(&[Outcome::NoChanges, Outcome::Applied]),
            Status::Clean
        );
        assert_eq!(
            status(&[Outcome::NoChanges, Outcome::Changes]),
            Status::Changes
        );
        assert_eq!(status(&[Outcome::Skipped]), Status::Changes);
        assert_eq!(status(&[Outcome::Changes, Outcome::Failed]), Status::Failed);
        assert_eq!(status(&[]), Status::Clean);
    }

    #[test]
    fn merging_shards_gives_every_row_once_sorted() {
        let first = Summary::new(
            Command::Drift,
            vec![Shard { index: 2, total: 2 }],
            vec![row("globex", Outcome::Changes)],
        );
        let second = Summary::new(
            Command::Drift,
            vec![Shard { index: 1, total: 2 }],
            vec![
                row("acme", Outcome::NoChanges),
                row("initech", Outcome::Failed),
            ],
        );
        let merged = merge(vec![first, second]).unwrap();
        let names: Vec<&str> = merged
            .organizations
            .iter()
            .map(|row| row.organization.as_str())
            .collect();
        assert_eq!(names, ["acme", "globex", "initech"]);
        assert_eq!(
            merged.shards,
            [Shard { index: 1, total: 2 }, Shard { index: 2, total: 2 }]
        );
        assert_eq!(merged.status(), Status::Failed);
    }

    #[test]
    fn summaries_of_different_commands_do_not_merge() {
        let plan = Summary::new(Command::Plan, Vec::new(), Vec::new());
        let apply = Summary::new(Command::Apply, Vec::new(), Vec::new());
        assert!(merge(vec![plan, apply]).is_err());
    }

    #[test]
    fn the_text_table_aligns_its_columns() {
        let summary = Summary::new(
            Command::Plan,
            Vec::new(),
            vec![
                row("acme", Outcome::Changes),
                row("globex-holdings", Outcome::NoChanges),
            ],
        );
        insta::assert_snapshot!(text(&summary), @r"
        organization     company      model  changes  findings  result      requests  duration
        acme             reseller-de  ecam   +1       -         changes     -         1.2s
        globex-holdings  reseller-de  ecam   0        -         no changes  -         1.2s

        2 organizations: 1 unchanged, 1 with changes
        ");
    }

    #[test]
    fn plans_fold_under_the_table_as_long_as_they_fit_one_comment() {
        let summary = Summary::new(
            Command::Plan,
            Vec::new(),
            vec![
                row("acme", Outcome::Changes),
                row("globex", Outcome::Changes),
            ],
        );
        let small = ("acme".to_owned(), "### orgctl plan: acme\n".to_owned());
        let large = (
            "globex".to_owned(),
            "x".repeat(crate::render::COMMENT_LIMIT),
        );
        let text = markdown_with_plans(&summary, &[small, large]);
        assert!(
            text.contains("<details><summary>acme</summary>\n\n### orgctl plan: acme\n</details>"),
            "{text}"
        );
        assert!(!text.contains("xxxx"));
        assert!(text.ends_with("The plans of <code>globex</code> do not fit this comment: see the run's `--out-dir`."), "{text}");
    }

    #[test]
    fn the_markdown_table_escapes_names() {
        let summary = Summary::new(
            Command::Plan,
            Vec::new(),
            vec![row("a|b<script>", Outcome::Changes)],
        );
        insta::assert_snapshot!(markdown(&summary), @r"
        ### orgctl fleet plan

        | organization | company | model | changes | findings | result | requests | duration |
        |---|---|---|---|---|---|---|---|
        | a\|b&lt;script&gt; | reseller-de | ecam | +1 | - | changes | - | 1.2s |

        1 organization: 1 with changes
        ");
    }
}
