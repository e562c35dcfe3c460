//! Plans as Markdown, for pull-request comments: summary table, collapsible details, findings.

use std::fmt::Write;

use super::plan::{TextStyle, changes_text, summary_line};
use crate::plan::Plan;
use crate::rules::Severity;

/// The plan as a pull-request comment.
pub fn plan_markdown(plan: &Plan, source: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "### orgctl plan: `{}` ({})\n",
        plan.organization,
        crate::model::ownership::model_name(plan.business_model)
    );
    let _ = writeln!(out, "Against `{source}`. **{}**\n", summary_line(plan));
    let parts = plan.summary.parts();
    if !parts.is_empty() {
        let _ = writeln!(out, "| change | count |\n|---|---:|");
        for (count, words) in parts {
            let _ = writeln!(out, "| {words} | {count} |");
        }
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "<details><summary>{} change{}</summary>\n\n```diff",
            plan.changes.len(),
            if plan.changes.len() == 1 { "" } else { "s" }
        );
        out.push_str(changes_text(plan, TextStyle { colour: false }, "").trim_start_matches('\n'));
        let _ = writeln!(out, "```\n\n</details>\n");
    }
    if !plan.findings.is_empty() {
        let _ = writeln!(
            out,
            "#### Findings\n\n| | code | resource | finding |\n|---|---|---|---|"
        );
        for finding in &plan.findings {
            let severity = match finding.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            };
            let mut text = escape(&finding.message);
            if let Some(help) = &finding.help {
                let _ = write!(text, "<br>*{}*", escape(help));
            }
            let _ = writeln!(
                out,
                "| {severity} | `{}` | {} | {text} |",
                finding.code,
                finding
                    .address
                    .as_ref()
                    .map(|a| format!("`{a}`"))
                    .unwrap_or_default()
            );
        }
        let _ = writeln!(out);
    }
    out
}

/// Table cells may not hold pipes or line breaks.
fn escape(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}
