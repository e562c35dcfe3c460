//! What `orgctl apply` tells people: the question it asks, the summary and its time, where the
//! one-time passwords went, a refusal of the wrong organization before any plan, the request
//! count `-v` promises, and an empty password file it made and never used.

use std::path::Path;

use serde_json::Value;

use crate::apply::{example_copy, orgctl_in, text};
use crate::common::moto::Moto;
use crate::common::proxy::FaultProxy;
use crate::common::terminal::Terminal;
use crate::common::{describe, without_durations};
use crate::lease::small_organization;
use crate::signals::{from_the_question, many_new_accounts, orgctl_command};

/// Answers `answer` to the question of `orgctl apply` (with `args`) in `dir`, at a terminal;
/// the exit code and the screen from the question on.
fn answer(dir: &Path, args: &[&str], answer: &str) -> (Option<i32>, String) {
    let mut terminal = Terminal::start(&orgctl_command(dir, args));
    terminal.wait_for("Only `yes` goes on: ");
    terminal.type_keys(format!("{answer}\n").as_bytes());
    let (code, screen) = terminal.finish();
    (code, from_the_question(&screen))
}

#[test]
fn one_change_is_asked_for_in_the_singular() {
    let directory = tempfile::tempdir().expect("a temp dir");
    many_new_accounts(directory.path(), 1);
    let (code, screen) = answer(directory.path(), &["apply", "--state", "live.json"], "no");
    assert_eq!(code, Some(1), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn a_cancelled_apply_removes_the_password_file_it_created() {
    let directory = example_copy("ecam");
    let dir = directory.path();
    let args = [
        "apply",
        "--state",
        "live.json",
        "--allow-close",
        "--password-file",
        "passwords",
    ];
    let (code, screen) = answer(dir, &args, "no");
    assert_eq!(code, Some(1), "{screen}");
    assert!(!dir.join("passwords").exists(), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn a_refused_apply_keeps_a_password_file_that_was_there() {
    let directory = example_copy("ecam");
    let dir = directory.path();
    let passwords = dir.join("passwords");
    std::fs::write(&passwords, "").expect("writable");
    std::fs::set_permissions(
        &passwords,
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .expect("chmod");
    // Without --allow-close the plan is refused, after the password file was opened.
    let output = orgctl_in(
        dir,
        &[
            "apply",
            "--state",
            "live.json",
            "--auto-approve",
            "--password-file",
            "passwords",
        ],
    );
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    assert!(passwords.exists(), "{}", describe(&output));
}

#[test]
fn an_apply_says_where_the_one_time_passwords_went() {
    let directory = example_copy("ecam");
    let output = orgctl_in(
        directory.path(),
        &[
            "apply",
            "--state",
            "live.json",
            "--auto-approve",
            "--allow-close",
            "--password-file",
            "passwords",
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    let stdout = text(&output.stdout);
    let end = stdout.rfind("\nApplied ").expect("a summary line");
    insta::assert_snapshot!(without_durations(&stdout[end + 1..]));
}

#[test]
fn an_apply_with_nothing_to_do_says_so_once() {
    let directory = example_copy("resold");
    let dir = directory.path();
    let args = ["apply", "--state", "live.json", "--auto-approve"];
    let first = orgctl_in(dir, &args);
    assert_eq!(first.status.code(), Some(0), "{}", describe(&first));
    let again = orgctl_in(dir, &args);
    assert_eq!(again.status.code(), Some(0), "{}", describe(&again));
    insta::assert_snapshot!(text(&again.stdout));
}

#[test]
fn the_wrong_organization_is_refused_before_any_plan_is_printed() {
    let directory = example_copy("ecam");
    let dir = directory.path();
    let config = std::fs::read_to_string(dir.join("orgctl.yaml")).expect("readable");
    let pinned = "id: \"111111111111\"";
    assert!(
        config.contains(pinned),
        "the example pins its management account"
    );
    std::fs::write(
        dir.join("orgctl.yaml"),
        config.replace(pinned, "id: \"999999999999\""),
    )
    .expect("writable");
    let output = orgctl_in(dir, &["apply", "--state", "live.json", "--auto-approve"]);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    assert_eq!(text(&output.stdout), "", "no plan is printed");
    let stderr = text(&output.stderr);
    let start = stderr
        .find("orgctl::live::wrong_organization")
        .unwrap_or_else(|| panic!("{}", describe(&output)));
    insta::assert_snapshot!(&stderr[start..]);
    // `plan` and `drift` say only that too, in every format.
    for args in [
        &["plan", "--state", "live.json"][..],
        &["drift", "--state", "live.json"],
        &["plan", "--state", "live.json", "--format", "markdown"],
    ] {
        let output = orgctl_in(dir, args);
        assert_eq!(
            output.status.code(),
            Some(1),
            "{args:?}: {}",
            describe(&output)
        );
        let stdout = text(&output.stdout);
        assert!(
            !stdout.contains("+ account:"),
            "{args:?}: no change is shown: {stdout}"
        );
        assert!(
            text(&output.stderr).contains("orgctl::live::wrong_organization"),
            "{args:?}: {}",
            describe(&output)
        );
    }
    let json = orgctl_in(dir, &["plan", "--state", "live.json", "--format", "json"]);
    let document: Value = serde_json::from_slice(&json.stdout).expect("a JSON document");
    assert_eq!(document["format"], "orgctl-plan-failure");
    assert_eq!(
        document["diagnostics"][0]["code"],
        "orgctl::live::wrong_organization"
    );
}

/// The report's time is the apply's, from before the lease to its release: the issue's apply of
/// 2.35 s said "in 0.0s", the time of its changes alone. Here the read of the organization
/// answers a second late.
#[test]
fn the_reported_time_covers_the_whole_apply() {
    let (_guard, moto) = Moto::lock();
    let (_management, _directory, config) = small_organization(moto);
    let proxy = FaultProxy::start(&moto.endpoint, 5, 0.0);
    proxy.configure(r#"{"delays": {"DescribeOrganization": [1.0, 1.0]}}"#);
    let output = moto
        .command(&["apply", &config, "--auto-approve", "--format", "json"])
        .env("AWS_ENDPOINT_URL", &proxy.endpoint)
        .output()
        .expect("orgctl runs");
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    let report: Value = serde_json::from_slice(&output.stdout).expect("a JSON report");
    let took = report["duration_ms"].as_u64().expect("a duration");
    assert!(took >= 1000, "{took} ms: {report:#}");
}

#[test]
fn verbose_apply_prints_its_request_count_in_text_mode() {
    let (_guard, moto) = Moto::lock();
    let (_management, _directory, config) = small_organization(moto);
    let output = moto.orgctl(&["apply", &config, "--auto-approve", "-v"]);
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    let stderr = text(&output.stderr);
    let count = stderr
        .lines()
        .find_map(|line| line.strip_prefix("orgctl: "))
        .and_then(|rest| rest.strip_suffix(" AWS requests (retries included)"))
        .and_then(|count| count.parse::<usize>().ok());
    assert!(count.is_some_and(|count| count > 0), "{stderr}");
}
