//! What every command prints, whole: the exit code, stdout and stderr of one run per behaviour,
//! on the snapshot backend (a copy of an example where a command writes).

use std::path::Path;

use crate::apply::example_copy;
use crate::common::snapshot::run;

/// The ECAM example's configuration and snapshot, from the crate root.
const ECAM: [&str; 3] = [
    "examples/ecam/orgctl.yaml",
    "--state",
    "examples/ecam/live.json",
];

/// `command` on the ECAM example, then `extra`.
fn ecam(command: &str, extra: &[&str]) -> Vec<String> {
    std::iter::once(command)
        .chain(ECAM)
        .chain(extra.iter().copied())
        .map(str::to_owned)
        .collect()
}

fn strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

/// A copy of the ECAM example with everything applied, so that only a warning remains (an
/// account someone created in the console).
pub(crate) fn converged_ecam() -> tempfile::TempDir {
    let directory = example_copy("ecam");
    let output = run(&[
        "apply",
        "--state",
        "live.json",
        "--auto-approve",
        "--allow-close",
        "--password-file",
        "passwords",
    ])
    .in_dir(directory.path())
    .output();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        crate::common::describe(&output)
    );
    directory
}

/// Writes `yaml` as `orgctl.yaml` into a new temporary folder.
fn configuration(yaml: &str) -> tempfile::TempDir {
    let directory = tempfile::tempdir().expect("a temp dir");
    std::fs::write(directory.path().join("orgctl.yaml"), yaml).expect("writable");
    directory
}

fn files_of(directory: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(directory)
        .expect("readable")
        .map(|entry| {
            entry
                .expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

// ---- validate -------------------------------------------------------------------------------

#[test]
fn validate_a_valid_file_with_a_warning() {
    cli_snapshot!(run(&[
        "validate",
        "tests/fixtures/invalid/email-example_domain.yaml"
    ]));
}

#[test]
fn validate_a_folder_names_its_orgctl_yaml() {
    cli_snapshot!(run(&["validate", "examples/ecam"]));
}

#[test]
fn validate_an_invalid_file_reports_every_problem() {
    let directory = configuration(
        "organization:\n  name: acme\n  business_model: ecam\n  management_account: { name: acme-payer }\n\
accounts:\n  prod: { ou: Nowhere }\n",
    );
    cli_snapshot!(run(&["validate"]).in_dir(directory.path()));
}

#[test]
fn validate_as_json() {
    let directory = configuration("organization:\n  name: acme\n  bussiness_model: ecam\n");
    cli_snapshot!(run(&["validate", "--format", "json"]).in_dir(directory.path()));
}

#[test]
fn validate_explain_prints_the_resolved_model() {
    cli_snapshot!(run(&["validate", "examples/ecam/orgctl.yaml", "--explain"]));
}

#[test]
fn validate_strict_fails_on_a_warning() {
    cli_snapshot!(run(&[
        "validate",
        "tests/fixtures/invalid/email-example_domain.yaml",
        "--strict"
    ]));
}

#[test]
fn validate_a_missing_file() {
    cli_snapshot!(run(&["validate", "no/such/orgctl.yaml"]));
}

#[test]
fn validate_an_empty_file() {
    let directory = configuration("  \n\n");
    cli_snapshot!(run(&["validate"]).in_dir(directory.path()));
}

#[test]
fn a_misspelt_command_is_a_usage_error() {
    cli_snapshot!(run(&["plna"]));
}

// ---- plan -----------------------------------------------------------------------------------

#[test]
fn plan_as_text() {
    cli_snapshot!(run(&strs(&ecam("plan", &[]))));
}

#[test]
fn plan_as_markdown() {
    cli_snapshot!(run(&strs(&ecam("plan", &["--format", "markdown"]))));
}

#[test]
fn plan_as_json() {
    cli_snapshot!(run(&strs(&ecam("plan", &["--format", "json"]))));
}

#[test]
fn plan_enables_one_trusted_access_and_disables_another() {
    let directory = crate::apply::direct_with_trusted_access();
    cli_snapshot!(run(&["plan", "--state", "live.json"]).in_dir(directory.path()));
}

#[test]
fn plan_sets_updates_and_removes_alternate_contacts() {
    let directory = crate::apply::direct_with_live_contacts();
    cli_snapshot!(run(&["plan", "--state", "live.json"]).in_dir(directory.path()));
}

#[test]
fn plan_detailed_exitcode_exits_two_on_changes() {
    let directory = example_copy("shared-payer");
    cli_snapshot!(
        run(&["plan", "--state", "live.json", "--detailed-exitcode"]).in_dir(directory.path())
    );
}

#[test]
fn plan_detailed_exitcode_exits_zero_without_changes() {
    let directory = converged_ecam();
    cli_snapshot!(
        run(&["plan", "--state", "live.json", "--detailed-exitcode"]).in_dir(directory.path())
    );
}

#[test]
fn plan_strict_fails_on_a_warning() {
    cli_snapshot!(run(&strs(&ecam("plan", &["--strict"]))));
}

#[test]
fn plan_out_says_where_the_plan_went() {
    let directory = example_copy("shared-payer");
    let output = cli_snapshot!(
        run(&["plan", "--state", "live.json", "--out", "plan.json"]).in_dir(directory.path())
    );
    assert_eq!(output.status.code(), Some(0));
    assert!(directory.path().join("plan.json").exists());
}

#[test]
fn plan_against_a_snapshot_of_another_format() {
    let directory = example_copy("ecam");
    std::fs::write(
        directory.path().join("live.json"),
        r#"{"format": "something-else", "version": 1}"#,
    )
    .expect("writable");
    cli_snapshot!(run(&["plan", "--state", "live.json"]).in_dir(directory.path()));
}

#[test]
fn plan_against_a_missing_snapshot() {
    cli_snapshot!(run(&[
        "plan",
        "examples/ecam/orgctl.yaml",
        "--state",
        "no/such/live.json"
    ]));
}

// ---- drift ----------------------------------------------------------------------------------

#[test]
fn drift_with_changes_exits_two() {
    cli_snapshot!(run(&strs(&ecam("drift", &[]))));
}

/// A copy of the ECAM example whose live accounts are in `states` (`(id, state)`).
fn ecam_with_states(states: &[(&str, &str)]) -> tempfile::TempDir {
    let directory = example_copy("ecam");
    let path = directory.path().join("live.json");
    let text = std::fs::read_to_string(&path).expect("readable");
    let mut live: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    for account in live["accounts"].as_array_mut().expect("accounts") {
        if let Some((_, state)) = states.iter().find(|(id, _)| account["id"] == *id) {
            account["state"] = serde_json::json!(state);
        }
    }
    std::fs::write(&path, live.to_string()).expect("writable");
    directory
}

/// Every state but ACTIVE, on accounts the file declares active (and one it closes).
const STATES: [(&str, &str); 4] = [
    ("222222222222", "pending_closure"),
    ("333333333333", "closed"),
    ("444444444444", "pending_activation"),
    ("555555555555", "closed"),
];

#[test]
fn drift_names_the_state_of_accounts_that_are_not_active_and_changes_none_of_them() {
    let directory = ecam_with_states(&STATES);
    cli_snapshot!(run(&["drift", "--state", "live.json"]).in_dir(directory.path()));
}

#[test]
fn drift_of_a_clean_organization_lists_its_warnings_and_exits_zero() {
    let directory = converged_ecam();
    cli_snapshot!(run(&["drift", "--state", "live.json"]).in_dir(directory.path()));
}

#[test]
fn drift_fail_on_warning_exits_two_on_a_warning() {
    let directory = converged_ecam();
    cli_snapshot!(
        run(&["drift", "--state", "live.json", "--fail-on", "warning"]).in_dir(directory.path())
    );
}

#[test]
fn drift_fail_on_an_unknown_level_is_a_usage_error() {
    cli_snapshot!(run(&strs(&ecam("drift", &["--fail-on", "sometimes"]))));
}

// ---- apply ----------------------------------------------------------------------------------

#[test]
fn apply_prints_its_progress_in_plain_lines() {
    let directory = example_copy("ecam");
    let output = cli_snapshot!(
        run(&[
            "apply",
            "--state",
            "live.json",
            "--auto-approve",
            "--allow-close",
            "--parallelism",
            "1",
            "--password-file",
            "passwords",
        ])
        .in_dir(directory.path())
    );
    assert_eq!(output.status.code(), Some(0));
}

#[test]
fn apply_without_allow_close_refuses_the_closure_and_changes_nothing() {
    let directory = example_copy("ecam");
    let before = std::fs::read(directory.path().join("live.json")).expect("readable");
    cli_snapshot!(
        run(&["apply", "--state", "live.json", "--auto-approve"]).in_dir(directory.path())
    );
    assert_eq!(
        std::fs::read(directory.path().join("live.json")).expect("readable"),
        before
    );
}

#[test]
fn apply_without_a_terminal_or_auto_approve_refuses() {
    let directory = example_copy("resold");
    cli_snapshot!(run(&["apply", "--state", "live.json"]).in_dir(directory.path()));
}

#[test]
fn apply_with_nothing_to_do() {
    let directory = converged_ecam();
    cli_snapshot!(
        run(&["apply", "--state", "live.json", "--auto-approve"]).in_dir(directory.path())
    );
}

#[test]
fn apply_as_json() {
    let directory = example_copy("resold");
    cli_snapshot!(
        run(&[
            "apply",
            "--state",
            "live.json",
            "--auto-approve",
            "--parallelism",
            "1",
            "--format",
            "json"
        ])
        .in_dir(directory.path())
    );
}

#[test]
fn force_unlock_with_no_lease_removes_nothing() {
    let directory = example_copy("resold");
    cli_snapshot!(
        run(&["force-unlock", "0123456789abcdef", "--state", "live.json"]).in_dir(directory.path())
    );
}

// ---- import and export ----------------------------------------------------------------------

#[test]
fn import_prints_its_notes() {
    let directory = tempfile::tempdir().expect("a temp dir");
    std::fs::copy(
        crate::common::root().join("examples/ecam/live.json"),
        directory.path().join("live.json"),
    )
    .expect("copied");
    cli_snapshot!(
        run(&["import", "--state", "live.json", "--business-model", "ecam"])
            .in_dir(directory.path())
    );
    assert_eq!(
        files_of(directory.path()),
        ["live.json", "orgctl.yaml", "policies"]
    );
}

#[test]
fn import_keeps_every_account_state_honestly() {
    let directory = ecam_with_states(&[
        ("222222222222", "pending_closure"),
        ("333333333333", "closed"),
        ("444444444444", "pending_activation"),
        ("555555555555", "suspended"),
    ]);
    std::fs::remove_file(directory.path().join("orgctl.yaml")).expect("removable");
    std::fs::remove_dir_all(directory.path().join("policies")).expect("removable");
    let output = run(&["import", "--state", "live.json", "--business-model", "ecam"])
        .in_dir(directory.path())
        .output();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        crate::common::describe(&output)
    );
    let yaml = std::fs::read_to_string(directory.path().join("orgctl.yaml")).expect("readable");
    let accounts = &yaml[yaml.find("\naccounts:").expect("accounts")..];
    let accounts = &accounts[..accounts.find("\npolicies:").unwrap_or(accounts.len())];
    insta::assert_snapshot!(accounts);
}

#[test]
fn import_keeps_an_existing_file() {
    let directory = example_copy("resold");
    let before = std::fs::read(directory.path().join("orgctl.yaml")).expect("readable");
    cli_snapshot!(run(&["import", "--state", "live.json"]).in_dir(directory.path()));
    assert_eq!(
        std::fs::read(directory.path().join("orgctl.yaml")).expect("readable"),
        before
    );
}

#[test]
fn export_to_standard_output() {
    cli_snapshot!(run(&[
        "export",
        "--state",
        "examples/shared-payer/live.json"
    ]));
}

#[test]
fn export_to_a_file() {
    let directory = example_copy("shared-payer");
    cli_snapshot!(
        run(&["export", "--state", "live.json", "--out", "copy.json"]).in_dir(directory.path())
    );
    assert!(directory.path().join("copy.json").exists());
}

// ---- rules, schema, completions, manual -----------------------------------------------------

#[test]
fn rules_as_text() {
    cli_snapshot!(run(&["rules"]));
}

#[test]
fn schema_of_an_unknown_kind_lists_the_kinds() {
    cli_snapshot!(run(&["schema", "nonsense"]));
}

/// The first lines of a generated script, with the exit code and stderr: the rest is clap's.
fn head(name: &str, args: &[&str], lines: usize) {
    let output = run(args).output();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let head: Vec<&str> = stdout.lines().take(lines).collect();
    let text = format!(
        "exit: {}\n----- stdout (first {lines} lines) -----\n{}\n----- stderr -----\n{}",
        output.status.code().unwrap_or(-1),
        head.join("\n"),
        String::from_utf8_lossy(&output.stderr)
    );
    crate::common::snapshot::settings().bind(|| insta::assert_snapshot!(name, text));
}

#[test]
fn completions_for_bash_begin_with_the_function() {
    head("completions_bash_head", &["completions", "bash"], 5);
}

#[test]
fn the_manual_page_begins_with_its_title() {
    head("man_head", &["man"], 8);
}
