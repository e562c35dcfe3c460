//! Plans as Markdown, for pull-request comments: a hidden marker a bot can find its comment by,
//! destructive changes above the fold, the summary table, the changes as a `diff` block whose
//! colours mean what they say, new policy documents collapsed, findings and configuration
//! warnings; always under GitHub's comment limit. A configuration or organization that cannot
//! be planned gets a "plan failed" comment with its diagnostics instead.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::plan::{GROUPS, details, diff_marker, group, summary_line, symbol};
use crate::address::Address;
use crate::diagnostic::DiagnosticRecord;
use crate::plan::{Action, Change, Kind, Plan};
use crate::rules::Severity;
use crate::suggest::printable_line;

/// GitHub refuses comments over 65,536 characters; this leaves room for what a bot adds.
pub const COMMENT_LIMIT: usize = 60_000;
/// Destructive changes listed by name above the fold; the rest are counted.
const DESTRUCTIVE_LISTED: usize = 50;

/// The plan as a pull-request comment, under [`COMMENT_LIMIT`] characters. `config_file` names
/// the configuration (the marker's key with the organization); `warnings` are the
/// configuration's own.
pub fn plan_markdown(
    plan: &Plan,
    source: &str,
    config_file: &str,
    warnings: &[DiagnosticRecord],
) -> String {
    let mut head = marker(Some(&plan.organization), config_file);
    let _ = writeln!(
        head,
        "### orgctl plan: {} ({})\n",
        code(&plan.organization),
        crate::model::ownership::model_name(plan.business_model)
    );
    let _ = writeln!(
        head,
        "Against {}. **{}**\n",
        code(source),
        summary_line(plan)
    );
    head.push_str(&destructive_block(plan));
    let parts = plan.summary.parts();
    if !parts.is_empty() {
        let _ = writeln!(head, "| change | count |\n|---|---:|");
        for (count, words) in parts {
            let _ = writeln!(head, "| {words} | {count} |");
        }
        let _ = writeln!(head);
    }

    // The tail (findings and warnings) is kept whole when it fits, and cut first otherwise.
    let mut tail = findings_table(plan);
    tail.push_str(&warnings_table(warnings));
    let room = COMMENT_LIMIT.saturating_sub(chars(&head) + 200);
    if chars(&tail) > room / 2 {
        tail = cut_rows(&tail, room / 2);
    }
    let room = room.saturating_sub(chars(&tail));

    let mut out = head;
    out.push_str(&changes_block(plan, room));
    out.push_str(&tail);
    out
}

/// The comment when no plan could be made: the configuration's (or the organization's)
/// diagnostics, so that a bot never posts an empty comment.
pub fn failure_markdown(
    organization: Option<&str>,
    config_file: &str,
    diagnostics: &[DiagnosticRecord],
) -> String {
    let mut out = marker(organization, config_file);
    let errors = diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let _ = writeln!(
        out,
        "### orgctl plan failed: {}\n\n> [!CAUTION]\n> No plan could be made: {errors} error{}. Nothing below is a change; fix these and push again.\n",
        code(config_file),
        if errors == 1 { "" } else { "s" }
    );
    let table = diagnostics_table("Problems", diagnostics);
    out.push_str(&cut_rows(
        &table,
        COMMENT_LIMIT.saturating_sub(chars(&out) + 100),
    ));
    out
}

/// `<!-- orgctl-plan organization="acme" config="orgctl.yaml" -->`: invisible on GitHub; a bot
/// updates the comment holding it instead of adding one per push.
fn marker(organization: Option<&str>, config_file: &str) -> String {
    let attribute = |text: &str| {
        printable_line(text)
            .replace('&', "&amp;")
            .replace('"', "&quot;")
            .replace("--", "&#45;&#45;")
            .replace('>', "&gt;")
    };
    let mut line = "<!-- orgctl-plan".to_owned();
    if let Some(organization) = organization {
        let _ = write!(line, " organization=\"{}\"", attribute(organization));
    }
    let _ = writeln!(line, " config=\"{}\" -->", attribute(config_file));
    line
}

/// Closes, removals, deletions, detaches and revocations, listed above the fold.
fn destructive_block(plan: &Plan) -> String {
    let destructive: Vec<&Change> = plan
        .changes
        .iter()
        .filter(|change| {
            matches!(
                change.action.kind(),
                Kind::Close | Kind::Remove | Kind::Delete | Kind::Detach
            )
        })
        .collect();
    if destructive.is_empty() {
        return String::new();
    }
    let mut out = format!(
        "> [!WARNING]\n> **{} destructive change{}** in this plan:\n",
        destructive.len(),
        if destructive.len() == 1 { "" } else { "s" }
    );
    for change in destructive.iter().take(DESTRUCTIVE_LISTED) {
        let what = match &change.action {
            Action::CloseAccount { id, name } => format!("close account {} ({id})", code(name)),
            Action::RemoveAccount { id, name, .. } => {
                format!("remove account {} ({id}) from the organization", code(name))
            }
            action => action.name().replace('_', " "),
        };
        let _ = writeln!(out, "> - {what}: {}", code(&change.address.to_string()));
    }
    if destructive.len() > DESTRUCTIVE_LISTED {
        let _ = writeln!(
            out,
            "> - … and {} more (see the job log)",
            destructive.len() - DESTRUCTIVE_LISTED
        );
    }
    out.push('\n');
    out
}

/// The changes as a collapsed `diff` block, then each new policy's document, as much as fits in
/// `room` characters; what does not fit is counted.
fn changes_block(plan: &Plan, room: usize) -> String {
    if plan.changes.is_empty() {
        return String::new();
    }
    let mut groups: BTreeMap<usize, Vec<&Change>> = BTreeMap::new();
    for change in &plan.changes {
        groups.entry(group(change)).or_default().push(change);
    }
    let open = format!(
        "<details><summary>{} change{}</summary>\n\n```diff\n",
        plan.changes.len(),
        if plan.changes.len() == 1 { "" } else { "s" }
    );
    let close = "```\n\n</details>\n\n";
    let mut used = chars(&open) + chars(close) + 100;
    let mut body = String::new();
    let mut shown = 0;
    'groups: for (index, changes) in groups {
        let heading = format!("# {}\n", GROUPS[index]);
        let mut heading = Some(heading);
        for change in changes {
            let lines = diff_lines(change);
            let size = chars(&lines) + heading.as_deref().map_or(0, chars);
            if used + size > room {
                break 'groups;
            }
            if let Some(heading) = heading.take() {
                body.push_str(&heading);
            }
            body.push_str(&lines);
            used += size;
            shown += 1;
        }
    }
    let mut out = open;
    out.push_str(&body);
    if shown < plan.changes.len() {
        let _ = writeln!(
            out,
            "# … and {} more changes (see the job log)",
            plan.changes.len() - shown
        );
    }
    out.push_str(close);

    for change in plan.changes.iter().take(shown) {
        let Action::CreatePolicy { document, .. } = &change.action else {
            continue;
        };
        let section = document_section(&change.address, document);
        if used + chars(&section) > room {
            out.push_str("New policy documents that did not fit are in the job log.\n\n");
            break;
        }
        used += chars(&section);
        out.push_str(&section);
    }
    out
}

/// One change in a `diff` block: the first column is GitHub's colour (`+` green for what is
/// added, `-` red for what goes away, `!` for an update, a move or a manual step); tag and
/// document diffs keep their own `+` and `-` there, every other line is neutral.
fn diff_lines(change: &Change) -> String {
    let kind = change.action.kind();
    let address = change.address.to_string();
    let address = printable_line(&address);
    let mut out = match kind {
        Kind::Update | Kind::Move => format!("! {} {address}\n", symbol(kind)),
        _ => format!("{} {address}\n", symbol(kind)),
    };
    for line in details(change) {
        let line = format!("        {}", printable_line(&line));
        match diff_marker(&line) {
            Some(marker) => {
                // Move the diff's own marker to the first column, keeping the indentation.
                let trimmed = line.trim_start();
                let at = line.len() - trimmed.len();
                let _ = writeln!(out, "{marker}{} {}", &line[1..at], &trimmed[1..]);
            }
            None => {
                let _ = writeln!(out, "{line}");
            }
        }
    }
    out
}

/// A new policy's document, collapsed, in a fence no backtick run in it can close.
fn document_section(address: &Address, document: &str) -> String {
    let pretty = serde_json::from_str::<serde_json::Value>(document)
        .ok()
        .and_then(|value| serde_json::to_string_pretty(&value).ok())
        .unwrap_or_else(|| document.to_owned());
    let longest_run = pretty.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest_run.max(2) + 1);
    format!(
        "<details><summary>document of {} ({} characters)</summary>\n\n{fence}json\n{}\n{fence}\n\n</details>\n\n",
        code(&address.to_string()),
        document.chars().count(),
        crate::suggest::printable(&pretty)
    )
}

fn findings_table(plan: &Plan) -> String {
    if plan.findings.is_empty() {
        return String::new();
    }
    let mut out =
        "#### Findings\n\n| | code | resource | finding |\n|---|---|---|---|\n".to_owned();
    for finding in &plan.findings {
        let mut text = cell(&finding.message);
        if let Some(help) = &finding.help {
            let _ = write!(text, "<br>*{}*", cell(help));
        }
        let _ = writeln!(
            out,
            "| {} | {} | {} | {text} |",
            finding.severity.as_str(),
            code(finding.rule.code()),
            finding
                .address
                .as_ref()
                .map(|address| code(&address.to_string()))
                .unwrap_or_default()
        );
    }
    out.push('\n');
    out
}

fn warnings_table(warnings: &[DiagnosticRecord]) -> String {
    diagnostics_table("Configuration warnings", warnings)
}

/// Diagnostics with their place in the file.
fn diagnostics_table(title: &str, diagnostics: &[DiagnosticRecord]) -> String {
    if diagnostics.is_empty() {
        return String::new();
    }
    let mut out = format!("#### {title}\n\n| | code | where | problem |\n|---|---|---|---|\n");
    for diagnostic in diagnostics {
        let place = match (&diagnostic.file, diagnostic.line) {
            (Some(file), Some(line)) => code(&format!("{file}:{line}")),
            (Some(file), None) => code(file),
            _ => String::new(),
        };
        let mut text = cell(&diagnostic.message);
        if let Some(help) = &diagnostic.help {
            let _ = write!(text, "<br>*{}*", cell(help));
        }
        let _ = writeln!(
            out,
            "| {} | {} | {place} | {text} |",
            diagnostic.severity.as_str(),
            code(diagnostic.code)
        );
    }
    out.push('\n');
    out
}

/// A table cut to `room` characters at a row's end, saying how many rows were left out.
fn cut_rows(table: &str, room: usize) -> String {
    if chars(table) <= room {
        return table.to_owned();
    }
    let mut out = String::new();
    let mut left = 0;
    for line in table.lines() {
        if left == 0 && chars(&out) + chars(line) + 60 <= room {
            out.push_str(line);
            out.push('\n');
        } else if line.starts_with('|') {
            left += 1;
        }
    }
    let _ = writeln!(out, "\n… and {left} more rows (see the job log)\n");
    out
}

fn chars(text: &str) -> usize {
    text.chars().count()
}

/// A value from the plan (a name from AWS, an address) as inline code that nothing in it can
/// leave: HTML `<code>` with the text escaped, on one line, safe in a table cell.
fn code(text: &str) -> String {
    format!("<code>{}</code>", html(&printable_line(text)))
}

/// Prose with values in backticks (a finding's message or help) as one table cell: each
/// backtick-quoted part becomes a `<code>` element, the rest is escaped so that no name can open
/// a link, an image, HTML or emphasis, nor end the cell or the table.
pub fn cell(text: &str) -> String {
    let text = printable_line(text);
    let mut out = String::with_capacity(text.len() + 16);
    let mut parts = text.split('`').peekable();
    let mut inside = false;
    while let Some(part) = parts.next() {
        if inside && parts.peek().is_some() {
            out.push_str(&code(part));
        } else {
            if inside {
                // An unmatched backtick (a name holding one): shown as it is.
                out.push_str("\\`");
            }
            out.push_str(&prose(part));
        }
        inside = !inside;
    }
    out
}

/// Text outside code: HTML and Markdown punctuation escaped.
fn prose(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '|' => out.push_str("\\|"),
            '\\' | '[' | ']' | '*' | '_' | '!' | '#' | '~' => {
                out.push('\\');
                out.push(c);
            }
            c => push_html(&mut out, c),
        }
    }
    out
}

/// Text inside `<code>`: HTML escaped; a pipe as an entity, since GitHub splits table cells on it
/// even inside HTML.
fn html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '|' => out.push_str("&#124;"),
            '`' => out.push_str("&#96;"),
            c => push_html(&mut out, c),
        }
    }
    out
}

/// `c`, as an entity when HTML would read it as markup.
fn push_html(out: &mut String, c: char) {
    match c {
        '<' => out.push_str("&lt;"),
        '>' => out.push_str("&gt;"),
        '&' => out.push_str("&amp;"),
        c => out.push(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configuration_warnings_are_listed_with_their_place() {
        let warning = DiagnosticRecord {
            code: "orgctl::email::example_domain",
            severity: Severity::Warning,
            message: "`acme.example` is reserved for examples".to_owned(),
            file: Some("orgctl.yaml".to_owned()),
            line: Some(14),
            column: Some(3),
            help: Some("use a real domain".to_owned()),
        };
        let table = warnings_table(&[warning]);
        assert!(table.starts_with("#### Configuration warnings"), "{table}");
        assert!(
            table.contains("| warning | <code>orgctl::email::example_domain</code> | <code>orgctl.yaml:14</code> | <code>acme.example</code> is reserved for examples<br>*use a real domain* |"),
            "{table}"
        );
    }

    #[test]
    fn a_value_cannot_leave_its_code_span() {
        let hostile = "x`</code><img src=x onerror=alert(1)>|\n```";
        let rendered = code(hostile);
        assert_eq!(
            rendered,
            "<code>x&#96;&lt;/code&gt;&lt;img src=x onerror=alert(1)&gt;&#124;\\u{a}&#96;&#96;&#96;</code>"
        );
    }

    #[test]
    fn prose_cannot_open_links_html_or_end_the_cell() {
        let rendered = cell("account `evil` [approve](https://x.test) <b>bold</b> | next");
        assert_eq!(
            rendered,
            "account <code>evil</code> \\[approve\\](https://x.test) &lt;b&gt;bold&lt;/b&gt; \\| next"
        );
    }

    #[test]
    fn a_name_holding_a_backtick_keeps_the_rest_escaped() {
        // The name `a`b` unbalances the message's backticks: what follows stays escaped prose.
        let rendered = cell("account `a`b` is *closed* [x](y)");
        assert!(!rendered.contains("[x]("), "{rendered}");
        assert!(!rendered.contains("*closed*"), "{rendered}");
        assert!(
            rendered.starts_with("account <code>a</code>b"),
            "{rendered}"
        );
    }
}
