//! Hostile and careless input (issue 11): names from AWS that try to act on a terminal or a
//! pull-request comment, and values AWS would refuse.

use serde_json::{Value, json};

use crate::common;

/// The ECAM example's live state with an OU and an account that someone named to attack
/// whoever reads the plan: a screen clear, a colour, a bell, a right-to-left override, a line
/// break with a fake change, and Markdown/HTML that would open a link.
fn hostile_live() -> Value {
    let text = std::fs::read_to_string(common::root().join("examples/ecam/live.json"))
        .expect("the example snapshot");
    let mut live: Value = serde_json::from_str(&text).expect("JSON");
    let root = live["root"]["id"].as_str().expect("a root id").to_owned();
    live["organizational_units"]
        .as_array_mut()
        .expect("OUs")
        .push(json!({
            "id": "ou-3f8a-evil0001", "parent_id": root,
            "name": "Ops\u{1b}[2J\u{1b}[31m\u{7}\u{202e}gnikcah", "tags": {}
        }));
    live["accounts"]
        .as_array_mut()
        .expect("accounts")
        .push(json!({
            "id": "999999999999", "email": "aws+intruder@acme.example", "state": "active",
            "parent_id": root, "tags": {},
            "name": "x`</code> [approve](https://evil.test) <img src=x>\n  - account:acme-prod"
        }));
    live
}

fn run_on_hostile_state(args: &[&str]) -> std::process::Output {
    let dir = tempfile::tempdir().expect("a temp dir");
    let state = dir.path().join("live.json");
    std::fs::write(&state, hostile_live().to_string()).expect("writable");
    let state = state.to_string_lossy().into_owned();
    let mut all = args.to_vec();
    all.extend(["examples/ecam/orgctl.yaml", "--state", &state]);
    common::orgctl(&all)
}

#[test]
fn names_from_aws_never_reach_the_terminal_raw() {
    for args in [&["plan"][..], &["plan", "--format", "markdown"], &["drift"]] {
        let output = run_on_hostile_state(args);
        let printed = [output.stdout.as_slice(), output.stderr.as_slice()].concat();
        let text = String::from_utf8_lossy(&printed);
        assert!(
            text.contains("ou-3f8a-evil0001") || text.contains("Ops"),
            "{args:?}: the hostile OU is reported\n{}",
            common::describe(&output)
        );
        let raw: Vec<char> = text
            .chars()
            .filter(|c| (c.is_control() && *c != '\n') || *c == '\u{202e}')
            .collect();
        assert!(
            raw.is_empty(),
            "{args:?} printed raw control characters {raw:?}\n{}",
            common::describe(&output)
        );
        assert!(
            !text.contains("\n  - account:acme-prod"),
            "{args:?}: a name's line break forged a change line\n{}",
            common::describe(&output)
        );
    }
}

#[test]
fn names_in_the_pull_request_comment_open_no_link_and_no_html() {
    let output = run_on_hostile_state(&["plan", "--format", "markdown"]);
    let markdown = String::from_utf8_lossy(&output.stdout);
    assert!(markdown.contains("999999999999"), "{markdown}");
    assert!(!markdown.contains("<img"), "{markdown}");
    assert!(
        !markdown.contains("](https://evil.test)") || markdown.contains("\\](https://evil.test)"),
        "{markdown}"
    );
    assert!(!markdown.contains("[approve]("), "{markdown}");
}

/// The ECAM example's snapshot with `edit` applied.
fn example_live(edit: impl FnOnce(&mut Value)) -> Value {
    let text = std::fs::read_to_string(common::root().join("examples/ecam/live.json"))
        .expect("the example snapshot");
    let mut live: Value = serde_json::from_str(&text).expect("JSON");
    edit(&mut live);
    live
}

#[test]
fn a_snapshot_that_is_not_an_organization_is_refused_untouched() {
    let corruptions: Vec<(&str, Value, &str)> = vec![
        (
            "an account listed twice",
            example_live(|live| {
                let first = live["accounts"][1].clone();
                live["accounts"]
                    .as_array_mut()
                    .expect("accounts")
                    .push(first);
            }),
            "listed twice as an account",
        ),
        (
            "an OU with the root's id",
            example_live(|live| live["organizational_units"][0]["id"] = live["root"]["id"].clone()),
            "is both the root and an OU",
        ),
        (
            "an OU that is its own parent",
            example_live(|live| {
                live["organizational_units"][0]["parent_id"] =
                    live["organizational_units"][0]["id"].clone();
            }),
            "is its own parent",
        ),
        (
            "two OUs in each other",
            example_live(|live| {
                let (a, b) = (
                    live["organizational_units"][0]["id"].clone(),
                    live["organizational_units"][1]["id"].clone(),
                );
                live["organizational_units"][0]["parent_id"] = b;
                live["organizational_units"][1]["parent_id"] = a;
            }),
            "(a cycle of parents)",
        ),
        (
            "an account in an OU that does not exist",
            example_live(|live| live["accounts"][1]["parent_id"] = json!("ou-3f8a-gone0000")),
            "which is neither the root nor an OU",
        ),
    ];
    for (what, live, expected) in corruptions {
        let dir = tempfile::tempdir().expect("a temp dir");
        let state = dir.path().join("live.json");
        let text = live.to_string();
        std::fs::write(&state, &text).expect("writable");
        let state_arg = state.to_string_lossy().into_owned();
        for command in ["plan", "apply"] {
            let mut args = vec![command, "examples/ecam/orgctl.yaml", "--state", &state_arg];
            if command == "apply" {
                args.push("--auto-approve");
            }
            let output = common::orgctl(&args);
            // Diagnostics are wrapped at 80 columns: compare words.
            let stderr = String::from_utf8_lossy(&output.stderr)
                .replace('│', " ")
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            assert_eq!(
                output.status.code(),
                Some(1),
                "{what}: {}",
                common::describe(&output)
            );
            assert!(
                stderr.contains("orgctl::live::snapshot") && stderr.contains(expected),
                "{what}: expected `{expected}`\n{}",
                common::describe(&output)
            );
            assert!(
                output.stdout.is_empty()
                    || !String::from_utf8_lossy(&output.stdout).contains("+ account:"),
                "{what}: nothing is planned\n{}",
                common::describe(&output)
            );
            assert_eq!(
                std::fs::read_to_string(&state).expect("readable"),
                text,
                "{what}: the file is untouched"
            );
        }
    }
}

/// orgctl with nothing of this machine's AWS set-up: no credentials anywhere.
fn orgctl_without_credentials(args: &[&str]) -> std::process::Output {
    let home = tempfile::tempdir().expect("a temp dir");
    std::process::Command::new(env!("CARGO_BIN_EXE_orgctl"))
        .args(args)
        .current_dir(common::root())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home.path())
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("NO_COLOR", "1")
        .output()
        .expect("the orgctl binary runs")
}

#[test]
fn missing_credentials_are_named_as_such_without_a_debug_dump() {
    let output = orgctl_without_credentials(&["plan", "examples/ecam/orgctl.yaml"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        common::describe(&output)
    );
    assert!(stderr.contains("no AWS credentials were found"), "{stderr}");
    assert!(stderr.contains("--profile"), "{stderr}");
    for dump in [
        "ProviderChainError",
        "CredentialsNotLoaded",
        "Unreachable",
        "network",
    ] {
        assert!(!stderr.contains(dump), "`{dump}` in\n{stderr}");
    }
}

/// The JSON report `apply --format json` printed, checked for what every report carries.
fn report_of(output: &std::process::Output) -> Value {
    let report: Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|_| panic!("a JSON report on stdout\n{}", common::describe(output)));
    assert_eq!(report["format"], "orgctl-apply");
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        common::describe(output)
    );
    report
}

fn diagnostic_codes(report: &Value) -> Vec<&str> {
    report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| d["code"].as_str().expect("a code"))
        .collect()
}

#[test]
fn apply_json_prints_a_report_when_the_configuration_is_invalid() {
    let output = common::orgctl(&[
        "apply",
        "tests/fixtures/invalid/email-invalid-empty.yaml",
        "--state",
        "examples/ecam/live.json",
        "--format",
        "json",
    ]);
    let report = report_of(&output);
    assert_eq!(report["outcome"], "refused");
    assert_eq!(
        diagnostic_codes(&report),
        ["orgctl::email::invalid", "orgctl::email::invalid"]
    );
    assert_eq!(report["diagnostics"][0]["line"], 10);
}

#[test]
fn apply_json_prints_a_report_when_the_backend_cannot_be_reached() {
    let output = common::orgctl(&[
        "apply",
        "examples/ecam/orgctl.yaml",
        "--state",
        "no/such/live.json",
        "--format",
        "json",
    ]);
    let report = report_of(&output);
    // The lease beside the snapshot is taken before the snapshot is read.
    assert!(
        ["refused", "failed"].contains(&report["outcome"].as_str().expect("an outcome")),
        "{report}"
    );
    assert_eq!(report["organization"], "acme");
    assert_eq!(diagnostic_codes(&report), ["orgctl::live::snapshot"]);

    let output = orgctl_without_credentials(&[
        "apply",
        "examples/ecam/orgctl.yaml",
        "--format",
        "json",
        "--auto-approve",
    ]);
    let report = report_of(&output);
    assert_eq!(report["outcome"], "failed");
    assert_eq!(diagnostic_codes(&report), ["orgctl::live::aws"]);
    let message = report["diagnostics"][0]["message"]
        .as_str()
        .expect("a message");
    assert!(
        message.contains("no AWS credentials were found"),
        "{message}"
    );
}
