//! Ctrl-C (`SIGINT`) and `SIGTERM` while an apply holds the organization's lease: at the
//! confirmation prompt, while it waits for the lease, and in the middle of its changes. The
//! changes in flight end, nothing new starts, what was done is saved, the lease is released, and
//! orgctl exits 130 (143 for `SIGTERM`).
//!
//! The prompt is driven through a pseudo-terminal (`common::terminal`), where Ctrl-C is a key.
//! An apply is slowed down by what it writes: a snapshot apply of many changes blocks on its
//! progress lines once the test stops reading them; an AWS apply waits for a proxy that delays
//! the writes.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use crate::apply::{example_copy, orgctl_in, scenario, text};
use crate::common::moto::{Moto, client_at, create_organization, runtime};
use crate::common::proxy::FaultProxy;
use crate::common::terminal::Terminal;
use crate::common::{describe, without_durations};
use crate::lease::{HELD, lease_policies, lock_as_a_running_apply, small_organization};

/// The orgctl command in `directory`, without colour, 80 columns wide.
pub(crate) fn orgctl_command(directory: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_orgctl"));
    command
        .args(args)
        .current_dir(directory)
        .env("NO_COLOR", "1")
        .env("COLUMNS", "80");
    command
}

/// The organization id moto gave the organization behind `endpoint`.
fn organization_id(endpoint: &str) -> String {
    runtime()
        .block_on(client_at(endpoint).describe_organization().send())
        .expect("DescribeOrganization")
        .organization
        .and_then(|organization| organization.id)
        .expect("an organization id")
}

/// Sends `signal` to `child`.
fn send(child: &Child, signal: rustix::process::Signal) {
    rustix::process::kill_process(rustix::process::Pid::from_child(child), signal)
        .expect("the signal is sent");
}

/// Presses Ctrl-C at the confirmation prompt of `command`; its exit code and screen.
fn ctrl_c_at_the_prompt(command: &Command) -> (Option<i32>, String) {
    let mut terminal = Terminal::start(command);
    terminal.wait_for("Only `yes` goes on: ");
    terminal.type_keys(b"\x03");
    terminal.finish()
}

/// The end of a screen, from the confirmation question on.
pub(crate) fn from_the_question(screen: &str) -> String {
    let start = screen
        .rfind("\nApply ")
        .unwrap_or_else(|| panic!("no question on the screen:\n{screen}"));
    screen[start + 1..].to_owned()
}

#[test]
fn ctrl_c_at_the_prompt_releases_the_snapshot_lease_and_changes_nothing() {
    let directory = example_copy("resold");
    let dir = directory.path();
    let before = std::fs::read(dir.join("live.json")).expect("readable");
    let (code, screen) =
        ctrl_c_at_the_prompt(&orgctl_command(dir, &["apply", "--state", "live.json"]));
    assert_eq!(code, Some(130), "{screen}");
    assert!(!dir.join("live.json.lock").exists(), "released:\n{screen}");
    assert_eq!(
        std::fs::read(dir.join("live.json")).expect("readable"),
        before,
        "nothing was changed"
    );
    insta::assert_snapshot!(from_the_question(&screen));
}

#[test]
fn ctrl_c_at_the_prompt_releases_the_aws_lease() {
    let (_guard, moto) = Moto::lock();
    let (management, _directory, config) = small_organization(moto);
    let (code, screen) = ctrl_c_at_the_prompt(&moto.command(&["apply", &config]));
    assert_eq!(code, Some(130), "{screen}");
    assert_eq!(
        runtime().block_on(lease_policies(&moto.client())),
        [],
        "no lease is left:\n{screen}"
    );
    let screen = from_the_question(&screen)
        .replace(&moto.endpoint, "[endpoint]")
        .replace(&organization_id(&moto.endpoint), "[organization]")
        .replace(&management.id, "[management]");
    insta::assert_snapshot!(screen);
}

#[test]
fn sigint_while_waiting_for_the_lease_stops_the_wait() {
    let directory = example_copy("resold");
    let dir = directory.path();
    let _held = lock_as_a_running_apply(&dir.join("live.json.lock"), HELD);
    let mut child = orgctl_command(
        dir,
        &[
            "apply",
            "--state",
            "live.json",
            "--auto-approve",
            "--lock-timeout",
            "600",
        ],
    )
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .expect("orgctl starts");
    let mut stderr = BufReader::new(child.stderr.take().expect("piped"));
    let mut waiting = String::new();
    while !waiting.contains("waiting up to") {
        waiting.clear();
        let read = stderr.read_line(&mut waiting).expect("readable");
        assert!(read > 0, "orgctl ended before it waited");
    }
    send(&child, rustix::process::Signal::INT);
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).expect("readable");
    let status = child.wait().expect("ended");
    assert_eq!(status.code(), Some(130), "{waiting}{rest}");
    insta::assert_snapshot!(format!("{waiting}{rest}"));
}

/// A configuration in `dir` of `count` new accounts for an organization that has only its
/// management account (`live.json`): a plan of `count` account creations.
pub(crate) fn many_new_accounts(dir: &Path, count: usize) {
    let snapshot = r#"{
  "format": "orgctl-live",
  "version": 1,
  "organization": { "id": "o-slow123456", "management_account_id": "111111111111", "management_account_email": "aws-management@slow-corp.net" },
  "root": { "id": "r-slow", "enabled_policy_types": [], "tags": {} },
  "organizational_units": [],
  "accounts": [ { "id": "111111111111", "name": "slow-management", "email": "aws-management@slow-corp.net", "state": "active", "parent_id": "r-slow", "tags": {} } ],
  "policies": []
}
"#;
    std::fs::write(dir.join("live.json"), snapshot).expect("writable");
    let mut yaml = String::from(
        r#"organization:
  name: slow
  business_model: direct
  customer: { name: Slow, email_domain: slow-corp.net }
  management_account: { name: slow-management, email: aws-management@slow-corp.net, id: "111111111111" }
  email_template: "aws+{account}@{domain}"
accounts:
"#,
    );
    for index in 0..count {
        yaml.push_str(&format!("  team-{index:04}: {{}}\n"));
    }
    std::fs::write(dir.join("orgctl.yaml"), yaml).expect("writable");
}

/// Accounts in the plan of [`many_new_accounts`]: their progress lines are several times what
/// a pipe holds, so the apply blocks on them while the test does not read.
const MANY: usize = 2000;

/// What a stopped apply printed, with what differs between runs (counts of changes made before
/// the signal, ids, durations) replaced by placeholders.
fn stopped_snapshot_apply(signal: rustix::process::Signal) -> (Option<i32>, String, String) {
    let directory = tempfile::tempdir().expect("a temp dir");
    let dir = directory.path();
    many_new_accounts(dir, MANY);
    let mut child = orgctl_command(dir, &["apply", "--state", "live.json", "--auto-approve"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("orgctl starts");
    let mut stdout = child.stdout.take().expect("piped");
    let plan_and_summary = std::thread::spawn(move || {
        let mut text = String::new();
        stdout.read_to_string(&mut text).expect("readable");
        text
    });
    let mut stderr = BufReader::new(child.stderr.take().expect("piped"));
    let mut first = String::new();
    stderr.read_line(&mut first).expect("readable");
    assert!(first.contains(": creating…"), "a change started: {first}");
    // orgctl now blocks on its progress lines, which nobody reads, with changes still to start.
    send(&child, signal);
    let mut progress = String::new();
    stderr.read_to_string(&mut progress).expect("readable");
    let status = child.wait().expect("ended");
    let stdout = plan_and_summary.join().expect("stdout read");
    let summary = stdout.lines().last().expect("a summary line").to_owned();
    // The lines after the signal's note: the changes in flight ending, and the release.
    let after_signal = progress
        .lines()
        .skip_while(|line| !line.starts_with("SIG"))
        .filter(|line| !line.starts_with("+ account:"))
        .collect::<Vec<_>>()
        .join("\n");
    let done = count_between(&summary, ": ", " done");
    let not_started = count_between(&summary, "failed, ", " not started");
    assert_eq!(done + not_started, MANY, "{summary}");
    assert!(
        (1..MANY).contains(&done),
        "stopped midway, not before or after: {summary}"
    );
    assert!(
        !dir.join("live.json.lock").exists(),
        "the lock file is removed"
    );
    // What was done was saved: a new plan creates the rest.
    let plan = orgctl_in(dir, &["plan", "--state", "live.json"]);
    assert!(
        text(&plan.stdout).contains(&format!("Plan: {not_started} to create.")),
        "{}",
        describe(&plan)
    );
    let shown = format!(
        "{}\n{}\n",
        without_durations(&summary)
            .replace(&format!("{done} done"), "[n] done")
            .replace(&format!("{not_started} not started"), "[m] not started"),
        in_flight_as_placeholder(&after_signal)
    );
    (status.code(), shown, text(&plan.stderr))
}

/// The number in `text` between `before` and `after`.
fn count_between(text: &str, before: &str, after: &str) -> usize {
    text.split_once(before)
        .and_then(|(_, rest)| rest.split_once(after))
        .and_then(|(number, _)| number.rsplit(' ').next())
        .and_then(|number| number.parse().ok())
        .unwrap_or_else(|| panic!("no number between `{before}` and `{after}` in {text}"))
}

/// `waiting for the 3 in flight` as `waiting for the [k] in flight`: how many were in flight
/// when the signal came depends on the moment.
fn in_flight_as_placeholder(text: &str) -> String {
    let mut out = text.to_owned();
    for count in 2..=8 {
        out = out.replace(&format!("the {count} in flight"), "the [k] in flight");
    }
    out.replace("the one in flight", "the [k] in flight")
        .replace(
            "starting no more changes\n",
            "starting no more changes; waiting for the [k] in flight to end\n",
        )
}

#[test]
fn sigint_during_a_snapshot_apply_saves_what_was_done_and_releases_the_lease() {
    let (code, shown, next_plan) = stopped_snapshot_apply(rustix::process::Signal::INT);
    assert_eq!(code, Some(130), "{shown}");
    assert!(
        !next_plan.contains("took over"),
        "no lease was left to take over: {next_plan}"
    );
    insta::assert_snapshot!(shown);
}

#[test]
fn sigterm_during_a_snapshot_apply_exits_143_after_releasing_the_lease() {
    let (code, shown, _) = stopped_snapshot_apply(rustix::process::Signal::TERM);
    assert_eq!(code, Some(143), "{shown}");
    assert!(shown.contains("Interrupted by SIGTERM"), "{shown}");
}

/// The issue: an AWS apply interrupted midway left its lease for an hour. With one change at a
/// time and each OU creation delayed by a second, Ctrl-C after the first has started lets that
/// one end, starts no other, and deletes the lease policy.
#[test]
fn sigint_during_a_slowed_aws_apply_lets_the_change_in_flight_end_and_releases_the_lease() {
    let (_guard, moto) = Moto::lock();
    let proxy = FaultProxy::start(&moto.endpoint, 3, 0.0);
    proxy.configure(r#"{"delays": {"CreateOrganizationalUnit": [1.0, 1.0]}}"#);
    let client = client_at(&proxy.endpoint);
    let management = runtime().block_on(create_organization(&client));
    let directory = tempfile::tempdir().expect("a temp dir");
    let config = directory.path().join("orgctl.yaml");
    let body = "organizational_units:\n  Alpha: {}\n  Bravo: {}\n  Charlie: {}\n  Delta: {}\n";
    std::fs::write(&config, scenario(&management, body)).expect("writable");
    let config = config.to_string_lossy().into_owned();

    let mut child = moto
        .command(&["apply", &config, "--auto-approve", "--parallelism", "1"])
        .env("AWS_ENDPOINT_URL", &proxy.endpoint)
        .spawn()
        .expect("orgctl starts");
    let mut stderr = BufReader::new(child.stderr.take().expect("piped"));
    let mut progress = String::new();
    while !progress.contains(": creating…") {
        let read = stderr.read_line(&mut progress).expect("readable");
        assert!(read > 0, "orgctl ended before a change started: {progress}");
    }
    send(&child, rustix::process::Signal::INT);
    stderr.read_to_string(&mut progress).expect("readable");
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .expect("piped")
        .read_to_string(&mut stdout)
        .expect("readable");
    let status = child.wait().expect("ended");
    assert_eq!(status.code(), Some(130), "{stdout}\n{progress}");
    assert_eq!(
        runtime().block_on(lease_policies(&client)),
        [],
        "no lease is left"
    );
    let created: Vec<String> = crate::apply::export(moto)
        .organizational_units
        .into_iter()
        .map(|ou| ou.name)
        .collect();
    assert_eq!(
        created,
        ["Alpha"],
        "the change in flight ended; no other started"
    );

    let created_id = progress
        .split_once("created in ")
        .and_then(|(_, rest)| rest.split_once('('))
        .and_then(|(_, rest)| rest.split_once(')'))
        .map(|(id, _)| id.to_owned())
        .unwrap_or_else(|| panic!("the created OU's id: {progress}"));
    let summary = stdout.lines().last().unwrap_or_default();
    // From the first change on: the configuration's warnings before it name a temporary path.
    let progress = &progress[progress.find("+ ou:").unwrap_or_default()..];
    let shown = without_durations(&format!("{progress}\n{summary}\n"))
        .replace(&created_id, "[ou id]")
        .replace(&proxy.endpoint, "[endpoint]");
    insta::assert_snapshot!(shown);
}
