//! The lease that keeps two applies apart: a lock of the operating system beside a snapshot, a
//! policy created atomically in AWS Organizations; who is refused, who waits, what is taken over,
//! what `force-unlock` removes, and races of two applies with the lease writes delayed.

use std::fs::OpenOptions;
use std::io::Write as _;
use std::path::Path;
use std::process::{Child, Output};
use std::time::Duration;

use aws_sdk_organizations as organizations;
use orgctl::live::lease::{LEASE_POLICY, LEASE_TAG};
use orgctl::live::{AccountState, LiveAccount, LiveOrganization, LiveRoot, LiveState, snapshot};
use serde_json::Value;

use crate::apply::{APPLY_ALL, example_copy, export, orgctl_in, scenario, text};
use crate::common::moto::{Management, Moto, client_at, create_organization, runtime};
use crate::common::snapshot::run;
use crate::common::{describe, proxy::FaultProxy};

/// A lease another apply recorded, until far in the future.
pub(crate) const HELD: &str = "0123456789abcdef alice@build-7:4242 until 2999-01-01T00:00:00Z";
/// A lease that ran out long ago.
const EXPIRED: &str = "0123456789abcdef alice@build-7:4242 until 2020-01-01T00:00:00Z";

/// The lease diagnostic an apply printed (the configuration's warnings before it left out).
fn lease_diagnostic(output: &Output) -> String {
    let stderr = text(&output.stderr);
    match stderr.find("orgctl::apply::lease") {
        Some(start) => stderr[start..].to_owned(),
        None => panic!("no lease diagnostic: {}", describe(output)),
    }
}

fn apply_snapshot(dir: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["apply", "--state", "live.json", "--auto-approve"];
    args.extend(extra);
    orgctl_in(dir, &args)
}

/// Opens `path` and locks it as a running apply does, with `record` in it; the lock lasts as
/// long as the file is open.
pub(crate) fn lock_as_a_running_apply(path: &Path, record: &str) -> std::fs::File {
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
        .expect("the lock file opens");
    file.lock().expect("locked");
    file.write_all(record.as_bytes()).expect("recorded");
    file
}

// ---- Snapshots ------------------------------------------------------------------------------

#[test]
fn a_snapshot_locked_by_a_running_apply_is_refused_naming_the_holder() {
    let directory = example_copy("resold");
    let dir = directory.path();
    let before = std::fs::read(dir.join("live.json")).expect("readable");
    let _held = lock_as_a_running_apply(&dir.join("live.json.lock"), HELD);
    let output = apply_snapshot(dir, &[]);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    insta::assert_snapshot!(lease_diagnostic(&output));
    assert_eq!(
        std::fs::read(dir.join("live.json")).expect("readable"),
        before,
        "nothing was changed"
    );
}

#[test]
fn force_unlock_leaves_a_snapshot_lock_a_running_apply_holds() {
    let directory = example_copy("resold");
    let dir = directory.path();
    let lock = dir.join("live.json.lock");
    let _held = lock_as_a_running_apply(&lock, HELD);
    cli_snapshot!(run(&["force-unlock", "0123456789abcdef", "--state", "live.json"]).in_dir(dir));
    assert_eq!(std::fs::read_to_string(&lock).expect("kept"), HELD);
}

#[test]
fn a_snapshot_lock_left_by_a_crashed_apply_is_taken_over_at_once() {
    let directory = example_copy("resold");
    let dir = directory.path();
    // What an apply killed midway leaves: its record, and no lock (the OS released it).
    std::fs::write(dir.join("live.json.lock"), HELD).expect("writable");
    cli_snapshot!(
        run(&[
            "apply",
            "--state",
            "live.json",
            "--auto-approve",
            "--parallelism",
            "1"
        ])
        .in_dir(dir)
    );
    assert!(!dir.join("live.json.lock").exists(), "released at the end");
}

/// The safety issue: an empty lock file (a disk that filled up) said "until +262142-12-31" and
/// held the snapshot until `force-unlock unreadable`, which no message mentioned.
#[test]
fn an_empty_snapshot_lock_file_left_behind_holds_nothing() {
    let directory = example_copy("resold");
    let dir = directory.path();
    std::fs::write(dir.join("live.json.lock"), "").expect("writable");
    let output = apply_snapshot(dir, &[]);
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    assert!(
        !text(&output.stderr).contains("262142"),
        "{}",
        describe(&output)
    );
}

#[test]
fn a_waiting_apply_goes_on_once_the_snapshot_lock_is_released() {
    let directory = example_copy("resold");
    let dir = directory.path();
    let held = lock_as_a_running_apply(&dir.join("live.json.lock"), HELD);
    let release = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(800));
        drop(held);
    });
    let output = apply_snapshot(dir, &["--lock-timeout", "20"]);
    release.join().expect("released");
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    assert!(
        text(&output.stderr).contains(
            "waiting up to 20 s for the lease held by alice@build-7:4242 (lease 0123456789abcdef)"
        ),
        "{}",
        describe(&output)
    );
}

// ---- AWS ------------------------------------------------------------------------------------

/// Creates the lease policy as another apply would, with `description`; returns its id.
async fn put_lease_policy(client: &organizations::Client, description: &str) -> String {
    client
        .create_policy()
        .name(LEASE_POLICY)
        .r#type(organizations::types::PolicyType::ServiceControlPolicy)
        .description(description)
        .content(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#)
        .send()
        .await
        .expect("CreatePolicy")
        .policy
        .and_then(|p| p.policy_summary)
        .and_then(|s| s.id)
        .expect("a policy id")
}

/// The lease policies in the organization: (id, description).
pub(crate) async fn lease_policies(client: &organizations::Client) -> Vec<(String, String)> {
    client
        .list_policies()
        .filter(organizations::types::PolicyType::ServiceControlPolicy)
        .send()
        .await
        .expect("ListPolicies")
        .policies
        .unwrap_or_default()
        .into_iter()
        .filter(|p| p.name.as_deref() == Some(LEASE_POLICY))
        .map(|p| (p.id.unwrap_or_default(), p.description.unwrap_or_default()))
        .collect()
}

/// An organization in moto and a configuration of two OUs for it, in a temporary directory.
pub(crate) fn small_organization(moto: &Moto) -> (Management, tempfile::TempDir, String) {
    let management = runtime().block_on(create_organization(&moto.client()));
    let directory = tempfile::tempdir().expect("a temp dir");
    let config = directory.path().join("orgctl.yaml");
    let body = "organizational_units:\n  Platform: {}\n  Workloads: {}\n";
    std::fs::write(&config, scenario(&management, body)).expect("writable");
    let config = config.to_string_lossy().into_owned();
    (management, directory, config)
}

#[test]
fn an_apply_through_aws_leaves_no_lease_behind() {
    let (_guard, moto) = Moto::lock();
    let (_management, _directory, config) = small_organization(moto);
    let output = moto.orgctl(&["apply", &config, "--auto-approve"]);
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    assert_eq!(runtime().block_on(lease_policies(&moto.client())), []);
}

#[test]
fn the_lease_policy_is_hidden_from_export_and_plans() {
    let (_guard, moto) = Moto::lock();
    let (_management, _directory, config) = small_organization(moto);
    runtime().block_on(put_lease_policy(&moto.client(), HELD));
    assert!(
        !export(moto).policies.iter().any(|p| p.name == LEASE_POLICY),
        "export shows no lease"
    );
    let output = moto.orgctl(&["plan", &config, "--format", "json"]);
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    assert!(
        !text(&output.stdout).contains(LEASE_POLICY),
        "{}",
        describe(&output)
    );
}

#[test]
fn a_held_aws_lease_refuses_naming_the_force_unlock_command() {
    let (_guard, moto) = Moto::lock();
    let (_management, _directory, config) = small_organization(moto);
    runtime().block_on(put_lease_policy(&moto.client(), HELD));
    let output = moto.orgctl(&["apply", &config, "--auto-approve"]);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    insta::assert_snapshot!(lease_diagnostic(&output));
}

#[test]
fn force_unlock_removes_the_aws_lease_it_names() {
    let (_guard, moto) = Moto::lock();
    let client = moto.client();
    let (_management, _directory, _config) = small_organization(moto);
    runtime().block_on(put_lease_policy(&client, HELD));
    let output = moto.orgctl(&["force-unlock", "0123456789abcdef"]);
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    assert_eq!(runtime().block_on(lease_policies(&client)), []);
}

#[test]
fn force_unlock_of_another_lease_id_removes_nothing() {
    let (_guard, moto) = Moto::lock();
    let client = moto.client();
    let (_management, _directory, _config) = small_organization(moto);
    let id = runtime().block_on(put_lease_policy(&client, HELD));
    let output = moto.orgctl(&["force-unlock", "ffffffffffffffff"]);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    assert!(
        text(&output.stderr).contains("`ffffffffffffffff` does not name the lease"),
        "{}",
        describe(&output)
    );
    assert_eq!(
        runtime().block_on(lease_policies(&client)),
        [(id, HELD.to_owned())]
    );
}

/// The safety issue: an empty or unreadable lease said "until +262142-12-31" and never named
/// the command that removes it.
#[test]
fn an_unreadable_aws_lease_names_the_command_that_removes_it() {
    let (_guard, moto) = Moto::lock();
    let client = moto.client();
    let (_management, _directory, config) = small_organization(moto);
    let id = runtime().block_on(put_lease_policy(&client, ""));
    let output = moto.orgctl(&["apply", &config, "--auto-approve"]);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let stderr = text(&output.stderr);
    let command = format!("orgctl force-unlock {id}");
    assert!(stderr.contains(&format!("`{command}`")), "{stderr}");
    insta::assert_snapshot!(lease_diagnostic(&output).replace(&id, "p-[lease]"));

    let output = moto.orgctl(&["force-unlock", &id]);
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    let output = moto.orgctl(&["apply", &config, "--auto-approve"]);
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
}

#[test]
fn an_expired_aws_lease_is_taken_over_with_a_note() {
    let (_guard, moto) = Moto::lock();
    let client = moto.client();
    let (_management, _directory, config) = small_organization(moto);
    runtime().block_on(put_lease_policy(&client, EXPIRED));
    let output = moto.orgctl(&["apply", &config, "--auto-approve"]);
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    assert!(
        text(&output.stderr).contains("note: took over the lease held by alice@build-7:4242 until 2020-01-01T00:00:00Z (lease 0123456789abcdef): it had run out"),
        "{}",
        describe(&output)
    );
    assert_eq!(runtime().block_on(lease_policies(&client)), []);
}

/// The names of the OUs under the root, sorted.
async fn ou_names(client: &organizations::Client) -> Vec<String> {
    let root = client.list_roots().send().await.expect("ListRoots").roots;
    let root_id = root.unwrap_or_default().remove(0).id.expect("an id");
    let mut names: Vec<String> = client
        .list_organizational_units_for_parent()
        .parent_id(root_id)
        .send()
        .await
        .expect("ListOrganizationalUnitsForParent")
        .organizational_units
        .unwrap_or_default()
        .into_iter()
        .filter_map(|ou| ou.name)
        .collect();
    names.sort();
    names
}

async fn tag_root(client: &organizations::Client, value: &str) {
    let root = client.list_roots().send().await.expect("ListRoots").roots;
    let root_id = root
        .unwrap_or_default()
        .remove(0)
        .id
        .expect("the root's id");
    let tag = organizations::types::Tag::builder()
        .key(LEASE_TAG)
        .value(value)
        .build()
        .expect("a tag");
    client
        .tag_resource()
        .resource_id(root_id)
        .tags(tag)
        .send()
        .await
        .expect("TagResource");
}

#[test]
fn a_live_lease_of_an_older_orgctl_is_honoured() {
    let (_guard, moto) = Moto::lock();
    let client = moto.client();
    let (_management, _directory, config) = small_organization(moto);
    runtime().block_on(tag_root(&client, HELD));
    let output = moto.orgctl(&["apply", &config, "--auto-approve"]);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    assert!(
        text(&output.stderr).contains("recorded by an older orgctl in the root tag"),
        "{}",
        describe(&output)
    );
    assert_eq!(
        runtime().block_on(lease_policies(&client)),
        [],
        "its own lease is given back"
    );
}

#[test]
fn an_expired_lease_of_an_older_orgctl_is_removed() {
    let (_guard, moto) = Moto::lock();
    let client = moto.client();
    let (_management, _directory, config) = small_organization(moto);
    runtime().block_on(tag_root(&client, EXPIRED));
    let output = moto.orgctl(&["apply", &config, "--auto-approve"]);
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    let tags = runtime().block_on(async {
        let root = client.list_roots().send().await.expect("ListRoots").roots;
        let root_id = root.unwrap_or_default().remove(0).id.expect("an id");
        client
            .list_tags_for_resource()
            .resource_id(root_id)
            .send()
            .await
            .expect("ListTagsForResource")
            .tags
            .unwrap_or_default()
    });
    assert!(
        !tags.iter().any(|tag| tag.key == LEASE_TAG),
        "removed: {tags:?}"
    );
}

// ---- Races ----------------------------------------------------------------------------------

/// Trials per race test.
const TRIALS: usize = 20;

/// One of two racing applies: its process, and the name of what it adds.
struct Racer {
    child: Child,
    adds: &'static str,
}

/// A finished racer.
struct Finished {
    output: Output,
    pid: u32,
    adds: &'static str,
}

fn finish(racers: Vec<Racer>) -> Vec<Finished> {
    racers
        .into_iter()
        .map(|racer| {
            let pid = racer.child.id();
            let output = racer.child.wait_with_output().expect("finished");
            Finished {
                output,
                pid,
                adds: racer.adds,
            }
        })
        .collect()
}

/// The outcome in an apply's JSON report (`refused` when it printed none).
fn outcome(output: &Output) -> String {
    serde_json::from_slice::<Value>(&output.stdout)
        .ok()
        .and_then(|report| report["outcome"].as_str().map(str::to_owned))
        .unwrap_or_else(|| "refused".to_owned())
}

/// Checks that of two racers one went first and the other refused (`waited` false) or waited for
/// it (`waited` true), and returns them in that order.
fn one_went_first<'a>(
    trial: usize,
    finished: &'a [Finished],
    waited: bool,
    outcome_after_waiting: &str,
) -> (&'a Finished, &'a Finished) {
    let all = || {
        finished
            .iter()
            .map(|f| format!("{} (pid {}): {}", f.adds, f.pid, describe(&f.output)))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let first = finished.iter().find(|f| {
        outcome(&f.output) == "applied" && !text(&f.output.stderr).contains("waiting up to")
    });
    let Some(first) = first else {
        panic!("trial {trial}: no apply went first:\n{}", all());
    };
    let Some(second) = finished.iter().find(|f| f.pid != first.pid) else {
        panic!("trial {trial}: two racers");
    };
    let stderr = text(&second.output.stderr);
    if waited {
        assert_eq!(
            (
                second.output.status.code(),
                outcome(&second.output).as_str()
            ),
            (Some(0), outcome_after_waiting),
            "trial {trial}: the second waited, then applied:\n{}",
            all()
        );
        assert!(
            stderr.contains("waiting up to") && stderr.contains(&format!(":{} ", first.pid)),
            "trial {trial}: the second waited for the first's lease:\n{}",
            all()
        );
    } else {
        assert_eq!(
            second.output.status.code(),
            Some(1),
            "trial {trial}: the second refused:\n{}",
            all()
        );
        assert!(
            stderr.contains("orgctl::apply::lease") && stderr.contains(&format!(":{} ", first.pid)),
            "trial {trial}: the second refused for the first's lease:\n{}",
            all()
        );
    }
    (first, second)
}

/// Writes two configurations into `dir`, `alpha.yaml` and `beta.yaml`, each adding the OU of its
/// name; returns the text of a snapshot of an organization with only its management account.
fn race_files(dir: &Path) -> Vec<u8> {
    let management = "111111111111";
    let state = LiveState {
        organization: LiveOrganization {
            id: "o-race123456".to_owned(),
            management_account_id: management.to_owned(),
            management_account_email: "aws-management@race-corp.net".to_owned(),
        },
        root: LiveRoot {
            id: "r-race".to_owned(),
            enabled_policy_types: Vec::new(),
            tags: Default::default(),
        },
        trusted_access: Vec::new(),
        delegated_administrators: Vec::new(),
        invitations: Vec::new(),
        contacts: Vec::new(),
        organizational_units: Vec::new(),
        accounts: vec![LiveAccount {
            id: management.to_owned(),
            name: "race-management".to_owned(),
            email: "aws-management@race-corp.net".to_owned(),
            state: AccountState::Active,
            parent_id: "r-race".to_owned(),
            tags: Default::default(),
        }],
        policies: Vec::new(),
        account_creations: Vec::new(),
        account_closures: None,
        iam: Vec::new(),
    };
    for name in ["alpha", "beta"] {
        let yaml = format!(
            r#"organization:
  name: race
  business_model: direct
  customer: {{ name: Race, email_domain: race-corp.net }}
  management_account: {{ name: race-management, email: aws-management@race-corp.net, id: "{management}" }}
  email_template: "aws+{{account}}@{{domain}}"
organizational_units:
  {name}: {{}}
"#
        );
        std::fs::write(dir.join(format!("{name}.yaml")), yaml).expect("writable");
    }
    snapshot::to_json(&state).into_bytes()
}

/// A racer whose standard error is read as it comes: each line also goes to `lines`.
struct Watched {
    child: Child,
    stderr: std::thread::JoinHandle<String>,
    adds: &'static str,
}

impl Watched {
    fn start(
        dir: &Path,
        name: &'static str,
        timeout: &str,
        lines: std::sync::mpsc::Sender<String>,
    ) -> Self {
        let config = format!("{name}.yaml");
        let mut args = vec!["apply", config.as_str(), "--state", "live.json"];
        args.extend(APPLY_ALL);
        args.extend(["--lock-timeout", timeout]);
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_orgctl"))
            .args(&args)
            .current_dir(dir)
            .env("NO_COLOR", "1")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("orgctl starts");
        let stderr = child.stderr.take().expect("piped");
        let stderr = std::thread::spawn(move || {
            let mut all = String::new();
            for line in std::io::BufRead::lines(std::io::BufReader::new(stderr)) {
                let Ok(line) = line else { break };
                all.push_str(&line);
                all.push('\n');
                let _ = lines.send(line);
            }
            all
        });
        Self {
            child,
            stderr,
            adds: name,
        }
    }

    fn finish(self) -> Finished {
        let pid = self.child.id();
        let mut output = self.child.wait_with_output().expect("finished");
        output.stderr = self.stderr.join().expect("stderr read").into_bytes();
        Finished {
            output,
            pid,
            adds: self.adds,
        }
    }
}

/// Waits up to a minute for `done`; kills the racers and fails the test if it never comes.
fn within_a_minute(
    trial: usize,
    what: &str,
    racers: &mut [Watched],
    mut done: impl FnMut(&mut [Watched]) -> bool,
) {
    let started = std::time::Instant::now();
    while !done(racers) {
        if started.elapsed() > Duration::from_secs(60) {
            for racer in racers.iter_mut() {
                let _ = racer.child.kill();
            }
            panic!("trial {trial}: {what} did not happen within a minute");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The issue's race: after a crash (a lock file nobody holds), two applies start together, each
/// adding its own OU. Taking over the crashed apply's lock was check-then-write, so both went on
/// and the last to save the snapshot made the other's OU vanish.
///
/// The snapshot is first a link to a named pipe, so that the apply that takes the lease (and only
/// then reads the snapshot) holds it until the test has seen the other apply refuse (even trials)
/// or wait (odd trials). The test then points the link at a regular file (orgctl writes only
/// regular files, and through a link updates its target) and feeds the pipe. Every trial, one
/// goes first, the other refuses or waits for it and then adds its OU, and no OU vanishes.
#[cfg(unix)]
#[test]
fn two_applies_racing_for_a_snapshot_never_both_proceed() {
    let directory = tempfile::tempdir().expect("a temp dir");
    let dir = directory.path();
    let base = race_files(dir);
    let snapshot = dir.join("live.json");
    let pipe = dir.join("feed.fifo");
    let saved = dir.join("saved.json");
    for trial in 0..TRIALS {
        for path in [&snapshot, &pipe, &saved] {
            let _ = std::fs::remove_file(path);
        }
        let made = std::process::Command::new("mkfifo")
            .arg(&pipe)
            .status()
            .expect("mkfifo runs");
        assert!(made.success(), "mkfifo made a named pipe");
        std::os::unix::fs::symlink("feed.fifo", &snapshot).expect("a link to the pipe");
        // Where the link points once the winner reads: a regular file for the applies to save.
        std::fs::write(&saved, &base).expect("writable");
        // What an apply killed midway leaves: its record, and no lock.
        std::fs::write(dir.join("live.json.lock"), EXPIRED).expect("writable");

        // Opening the pipe for writing returns once the lease's winner opens it to read.
        let (opened, winner_reads) = std::sync::mpsc::channel();
        let (go, fed) = std::sync::mpsc::channel::<()>();
        let feeder = {
            let (pipe, base) = (pipe.clone(), base.clone());
            std::thread::spawn(move || {
                let mut pipe = OpenOptions::new().write(true).open(&pipe)?;
                let _ = opened.send(());
                let _ = fed.recv();
                pipe.write_all(&base)
            })
        };
        let waits = trial % 2 == 1;
        let timeout = if waits { "30" } else { "0" };
        let (lines, seen) = std::sync::mpsc::channel();
        let names = if trial % 4 < 2 {
            ["alpha", "beta"]
        } else {
            ["beta", "alpha"]
        };
        let mut racers: Vec<Watched> = names
            .into_iter()
            .map(|name| Watched::start(dir, name, timeout, lines.clone()))
            .collect();
        within_a_minute(trial, "an apply taking the lease", &mut racers, |_| {
            winner_reads.try_recv().is_ok()
        });
        if waits {
            within_a_minute(trial, "the other apply waiting", &mut racers, |_| {
                seen.try_iter()
                    .any(|line: String| line.contains("waiting up to"))
            });
        } else {
            within_a_minute(trial, "the other apply refusing", &mut racers, |racers| {
                racers
                    .iter_mut()
                    .any(|racer| racer.child.try_wait().ok().flatten().is_some())
            });
        }
        // The winner has the pipe open: from now on the snapshot is the regular file.
        let link = dir.join("live.json.next");
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink("saved.json", &link).expect("a link to the file");
        std::fs::rename(&link, &snapshot).expect("the link re-pointed");
        go.send(()).expect("the feeder waits");
        let finished: Vec<Finished> = racers.into_iter().map(Watched::finish).collect();
        feeder
            .join()
            .expect("the feeder ends")
            .unwrap_or_else(|error| panic!("trial {trial}: the snapshot was not fed: {error}"));

        let (first, second) = one_went_first(trial, &finished, waits, "applied");
        let state = snapshot::Snapshot::new(&snapshot)
            .load()
            .expect("the snapshot loads");
        let ous: Vec<&str> = state
            .organizational_units
            .iter()
            .map(|ou| ou.name.as_str())
            .collect();
        let mut expected = vec![first.adds];
        if waits {
            expected.push(second.adds);
        }
        expected.sort_unstable();
        assert_eq!(ous, expected, "trial {trial}: no change vanished");
        assert!(
            !dir.join("live.json.lock").exists(),
            "trial {trial}: released"
        );
    }
}

/// Trials of the AWS race run at once, each in its own organization.
const AWS_TRIALS_AT_ONCE: usize = 10;

/// One AWS race trial: an organization of its own (moto acts in another account behind each
/// proxy), and a proxy that delays the lease writes.
struct AwsTrial {
    proxy: FaultProxy,
    client: organizations::Client,
    _directory: tempfile::TempDir,
    config: String,
}

impl AwsTrial {
    fn new(moto: &Moto, trial: usize) -> Self {
        let proxy = FaultProxy::start(&moto.endpoint, trial as u64, 0.0);
        let account = format!("{}", 700_000_000_000_u64 + trial as u64);
        // Creations land up to 0.3 s late, in the order the draws make. The first read of the
        // organization (after the lease is taken) answers 0.5 s late and releases land 0.6 s
        // late, so that the first apply still holds the lease when the second's creation lands.
        proxy.configure(&format!(
            r#"{{"headers": {{"x-moto-account-id": "{account}"}},
                 "delays": {{"CreatePolicy": [0.0, 0.3], "DescribeOrganization": [0.5, 0.5],
                             "DeletePolicy": [0.6, 0.6], "UpdatePolicy": [0.3, 0.3]}}}}"#
        ));
        let client = client_at(&proxy.endpoint);
        let management = runtime().block_on(create_organization(&client));
        let directory = tempfile::tempdir().expect("a temp dir");
        let config = directory.path().join("orgctl.yaml");
        let body =
            "organizational_units:\n  Platform:\n    tags: { tier: platform }\n  Workloads: {}\n";
        std::fs::write(&config, scenario(&management, body)).expect("writable");
        let config = config.to_string_lossy().into_owned();
        Self {
            proxy,
            client,
            _directory: directory,
            config,
        }
    }

    fn start(&self, moto: &Moto, timeout: &str) -> Vec<Racer> {
        (0..2)
            .map(|_| {
                let mut args = vec!["apply", self.config.as_str()];
                args.extend(APPLY_ALL);
                args.extend(["--lock-timeout", timeout]);
                let child = moto
                    .command(&args)
                    .env("AWS_ENDPOINT_URL", &self.proxy.endpoint)
                    .spawn()
                    .expect("orgctl starts");
                Racer {
                    child,
                    adds: "Platform and Workloads",
                }
            })
            .collect()
    }
}

/// Two applies of one configuration start together against one organization, their lease
/// writes delayed by a proxy. With the old lease (write a tag, wait a second, read it back) a
/// write landing late let both go on. Now, every trial, one goes first and the other refuses
/// (even trials) or waits for it and then finds nothing to do (odd trials); nothing is made twice
/// and no lease is left.
#[test]
fn two_applies_racing_for_aws_with_delayed_lease_writes_never_both_proceed() {
    let (_guard, moto) = Moto::lock();
    for batch in (0..TRIALS).collect::<Vec<_>>().chunks(AWS_TRIALS_AT_ONCE) {
        let trials: Vec<AwsTrial> = std::thread::scope(|scope| {
            let starting: Vec<_> = batch
                .iter()
                .map(|&trial| scope.spawn(move || AwsTrial::new(moto, trial)))
                .collect();
            starting
                .into_iter()
                .map(|started| started.join().expect("the trial is set up"))
                .collect()
        });
        let racing: Vec<Vec<Racer>> = batch
            .iter()
            .zip(&trials)
            .map(|(&trial, aws)| aws.start(moto, if trial % 2 == 1 { "30" } else { "0" }))
            .collect();
        for ((&trial, aws), racers) in batch.iter().zip(&trials).zip(racing) {
            let finished = finish(racers);
            one_went_first(trial, &finished, trial % 2 == 1, "no_changes");
            let leases = runtime().block_on(lease_policies(&aws.client));
            assert_eq!(leases, [], "trial {trial}: no lease is left");
            let ous = runtime().block_on(ou_names(&aws.client));
            assert_eq!(ous, ["Platform", "Workloads"], "trial {trial}: made once");
        }
    }
}
