//! Plans as Markdown, for pull-request comments: summary table, collapsible details, findings.

use std::fmt::Write;

use super::plan::{TextStyle, changes_text, summary_line};
use crate::plan::Plan;
use crate::rules::Severity;
use crate::suggest::printable_line;

/// The plan as a pull-request comment.
pub fn plan_markdown(plan: &Plan, source: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "### orgctl plan: {} ({})\n",
        code(&plan.organization),
        crate::model::ownership::model_name(plan.business_model)
    );
    let _ = writeln!(
        out,
        "Against {}. **{}**\n",
        code(source),
        summary_line(plan)
    );
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
            let mut text = cell(&finding.message);
            if let Some(help) = &finding.help {
                let _ = write!(text, "<br>*{}*", cell(help));
            }
            let _ = writeln!(
                out,
                "| {severity} | {} | {} | {text} |",
                code(&finding.code),
                finding.address.as_deref().map(code).unwrap_or_default()
            );
        }
        let _ = writeln!(out);
    }
    out
}

/// A value from the plan (a name from AWS, an address) as inline code that nothing in it can
/// leave: HTML `<code>` with the text escaped, on one line, safe in a table cell.
fn code(text: &str) -> String {
    format!("<code>{}</code>", html(&printable_line(text)))
}

/// Prose with values in backticks (a finding's message or help) as one table cell: each
/// backtick-quoted part becomes [`code`], the rest is escaped so that no name can open a link,
/// an image, HTML or emphasis, nor end the cell or the table.
fn cell(text: &str) -> String {
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
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '|' => out.push_str("\\|"),
            '\\' | '[' | ']' | '*' | '_' | '!' | '#' | '~' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
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
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '|' => out.push_str("&#124;"),
            '`' => out.push_str("&#96;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

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
