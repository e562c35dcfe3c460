//! The binary: exit codes, output streams, JSON diagnostics, and bad input that must not panic.

use std::io::Write;

use crate::common;

fn write_temp(contents: &[u8]) -> tempfile::NamedTempFile {
    let mut file = tempfile::Builder::new()
        .suffix(".yaml")
        .tempfile()
        .expect("a temp file");
    file.write_all(contents).expect("writable");
    file
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn assert_clean_failure(output: &std::process::Output, code: &str) {
    let stderr = stderr(output);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(code), "expected {code} in:\n{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_valid_file_exits_zero_with_a_summary_on_stdout() {
    let output = common::orgctl(&[
        "validate",
        "tests/fixtures/invalid/email-example_domain.yaml",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "tests/fixtures/invalid/email-example_domain.yaml: valid (1 warning)\n"
    );
    assert!(stderr(&output).contains("orgctl::email::example_domain"));
}

#[test]
fn an_invalid_file_exits_one_and_reports_every_problem() {
    let file = write_temp(
        b"organization:\n  name: acme\n  business_model: ecam\n  management_account: { name: acme-payer }\n\
accounts:\n  prod: { ou: Nowhere }\n",
    );
    let path = file.path().to_string_lossy().into_owned();
    let output = common::orgctl(&["validate", &path]);
    let stderr = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    // No provider, no customer, and a dangling OU: all three at once.
    assert_eq!(
        stderr.matches("orgctl::ownership::owner_missing").count(),
        2,
        "{stderr}"
    );
    assert!(stderr.contains("orgctl::reference::unknown_ou"), "{stderr}");
    assert!(String::from_utf8_lossy(&output.stdout).contains("3 errors"));
}

#[test]
fn json_diagnostics_have_code_severity_file_line_column_and_help() {
    let file = write_temp(b"organization:\n  name: acme\n  bussiness_model: ecam\n");
    let path = file.path().to_string_lossy().into_owned();
    let output = common::orgctl(&["validate", &path, "--format", "json"]);
    assert_eq!(output.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON on stdout");
    assert_eq!(report["valid"], false);
    // The misspelt key, and the two required keys the mapping therefore lacks: all at once.
    assert_eq!(report["errors"], 3);
    let codes: Vec<&str> = report["diagnostics"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|d| d["code"].as_str().expect("a code"))
        .collect();
    assert_eq!(
        codes,
        [
            "orgctl::config::missing_key",
            "orgctl::config::missing_key",
            "orgctl::config::unknown_key"
        ]
    );
    let diagnostic = &report["diagnostics"][2];
    assert_eq!(diagnostic["code"], "orgctl::config::unknown_key");
    assert_eq!(diagnostic["severity"], "error");
    assert_eq!(diagnostic["file"], path.as_str());
    assert_eq!(diagnostic["line"], 3);
    assert_eq!(diagnostic["column"], 3);
    let help = diagnostic["help"].as_str().expect("help");
    assert!(help.starts_with("did you mean `business_model`?"), "{help}");
}

#[test]
fn json_output_of_a_valid_file_lists_its_warnings() {
    let output = common::orgctl(&[
        "validate",
        "tests/fixtures/invalid/email-example_domain.yaml",
        "--format",
        "json",
    ]);
    assert_eq!(output.status.code(), Some(0));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON on stdout");
    assert_eq!(report["valid"], true);
    assert_eq!(report["warnings"], 1);
    assert_eq!(report["diagnostics"][0]["line"], 7);
    assert!(output.stderr.is_empty(), "{}", stderr(&output));
}

#[test]
fn a_missing_file_is_a_clear_error() {
    let output = common::orgctl(&["validate", "no/such/orgctl.yaml"]);
    assert_clean_failure(&output, "orgctl::config::read");
    assert!(stderr(&output).contains("cannot read `no/such/orgctl.yaml`"));
}

#[test]
fn an_empty_file_is_a_clear_error() {
    let file = write_temp(b"  \n\n");
    let output = common::orgctl(&["validate", &file.path().to_string_lossy()]);
    assert_clean_failure(&output, "orgctl::config::empty");
}

/// A deterministic byte generator (xorshift), so the garbage is the same on every run.
fn garbage(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

#[test]
fn two_megabytes_of_binary_garbage_is_a_clear_error() {
    let file = write_temp(&garbage(2 * 1024 * 1024, 0x9E37_79B9_7F4A_7C15));
    let output = common::orgctl(&["validate", &file.path().to_string_lossy()]);
    assert_clean_failure(&output, "orgctl::config::encoding");
}

#[test]
fn two_megabytes_of_text_garbage_is_a_clear_error() {
    let text: Vec<u8> = garbage(2 * 1024 * 1024, 42)
        .into_iter()
        .map(|byte| {
            let alphabet = b" :-[]{}#'\"\nabcxyz019";
            alphabet[usize::from(byte) % alphabet.len()]
        })
        .collect();
    let file = write_temp(&text);
    let output = common::orgctl(&["validate", &file.path().to_string_lossy()]);
    let stderr = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("orgctl::config::"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn deep_nesting_is_refused() {
    // An inline policy document takes any YAML value, so only the depth budget stops this.
    let mut text = b"policies:\n  deep:\n    type: tag\n    document: ".to_vec();
    text.extend(std::iter::repeat_n(b'[', 5_000));
    text.extend(std::iter::repeat_n(b']', 5_000));
    let file = write_temp(&text);
    let output = common::orgctl(&["validate", &file.path().to_string_lossy()]);
    assert_clean_failure(&output, "orgctl::config::too_large");
}

#[test]
fn no_color_is_honoured_and_color_always_wins() {
    let warned = "tests/fixtures/invalid/email-example_domain.yaml";
    let plain = common::orgctl(&["validate", warned]);
    assert!(
        !plain.stderr.contains(&0x1b),
        "escape codes despite NO_COLOR"
    );
    let coloured = common::orgctl(&["--color", "always", "validate", warned]);
    assert!(
        coloured.stderr.contains(&0x1b),
        "no escape codes with --color always"
    );
}

#[test]
fn rules_lists_the_whole_catalogue_as_json() {
    let output = common::orgctl(&["rules", "--format", "json"]);
    assert!(output.status.success());
    let rules: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(rules.len(), orgctl::rules::Rule::ALL.len());
    assert!(
        rules
            .iter()
            .any(|rule| rule["code"] == "orgctl::ownership::operator_boundary")
    );
}

#[test]
fn a_broken_snapshot_is_a_clear_error() {
    let file = write_temp(br#"{"format": "something-else", "version": 1}"#);
    let output = common::orgctl(&[
        "plan",
        "examples/ecam/orgctl.yaml",
        "--state",
        &file.path().to_string_lossy(),
    ]);
    assert_clean_failure(&output, "orgctl::live::snapshot");
    assert!(
        stderr(&output).contains("not `orgctl-live`"),
        "{}",
        stderr(&output)
    );
    let output = common::orgctl(&[
        "plan",
        "examples/ecam/orgctl.yaml",
        "--state",
        "no/such/live.json",
    ]);
    assert_clean_failure(&output, "orgctl::live::snapshot");
}

#[test]
fn plan_exit_codes_follow_terraform() {
    let args = [
        "plan",
        "examples/ecam/orgctl.yaml",
        "--state",
        "examples/ecam/live.json",
    ];
    assert_eq!(common::orgctl(&args).status.code(), Some(0));
    let mut detailed = args.to_vec();
    detailed.push("--detailed-exitcode");
    assert_eq!(common::orgctl(&detailed).status.code(), Some(2));
    let drift = common::orgctl(&[
        "drift",
        "examples/ecam/orgctl.yaml",
        "--state",
        "examples/ecam/live.json",
    ]);
    assert_eq!(drift.status.code(), Some(2));
    let lines = String::from_utf8_lossy(&drift.stdout);
    assert!(
        lines
            .lines()
            .any(|l| l.starts_with("~ account:acme-prod  update_tags")),
        "{lines}"
    );
}

#[test]
fn plan_out_saves_a_plan_that_reads_back() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let out = dir.path().join("plan.json");
    let output = common::orgctl(&[
        "plan",
        "examples/ecam/orgctl.yaml",
        "--state",
        "examples/ecam/live.json",
        "--out",
        &out.to_string_lossy(),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let saved: orgctl::plan::Plan =
        serde_json::from_slice(&std::fs::read(&out).expect("the plan was saved")).expect("a plan");
    assert_eq!(saved.format, "orgctl-plan");
    assert!(!saved.changes.is_empty());
}

#[test]
fn export_writes_a_snapshot_that_reads_back_the_same() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let out = dir.path().join("live.json");
    let output = common::orgctl(&[
        "export",
        "--state",
        "examples/spam/live.json",
        "--out",
        &out.to_string_lossy(),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let original = orgctl::live::snapshot::Snapshot::new("examples/spam/live.json")
        .load()
        .expect("loads");
    let exported = orgctl::live::snapshot::Snapshot::new(&out)
        .load()
        .expect("loads");
    assert_eq!(original, exported);
}

#[test]
fn a_usage_error_exits_one_not_the_changes_code() {
    for args in [
        &["plna"][..],
        &["plan", "--no-such-flag"],
        &["drift", "--fail-on", "sometimes"],
    ] {
        let output = common::orgctl(args);
        assert_eq!(
            output.status.code(),
            Some(1),
            "{args:?}: {}",
            common::describe(&output)
        );
        assert!(
            stderr(&output).contains("error:"),
            "{}",
            common::describe(&output)
        );
    }
    assert_eq!(common::orgctl(&["--help"]).status.code(), Some(0));
}

/// A copy of the ECAM example's snapshot, applied, so that only warnings remain (an account
/// someone created in the console).
fn converged_ecam_state(dir: &std::path::Path) -> String {
    let state = dir.join("live.json");
    std::fs::copy(common::root().join("examples/ecam/live.json"), &state).expect("copied");
    let state = state.to_string_lossy().into_owned();
    let passwords = dir.join("passwords").to_string_lossy().into_owned();
    let applied = common::orgctl(&[
        "apply",
        "examples/ecam/orgctl.yaml",
        "--state",
        &state,
        "--auto-approve",
        "--allow-close",
        "--password-file",
        &passwords,
    ]);
    assert_eq!(
        applied.status.code(),
        Some(0),
        "{}",
        common::describe(&applied)
    );
    state
}

#[test]
fn drift_of_a_clean_organization_with_warnings_exits_zero_unless_asked() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let state = converged_ecam_state(dir.path());
    let drift = |extra: &[&str]| {
        let mut args = vec!["drift", "examples/ecam/orgctl.yaml", "--state", &state];
        args.extend_from_slice(extra);
        common::orgctl(&args)
    };
    let default = drift(&[]);
    assert_eq!(
        default.status.code(),
        Some(0),
        "{}",
        common::describe(&default)
    );
    let lines = String::from_utf8_lossy(&default.stdout);
    assert!(
        lines.contains("warning account:738201946155  orgctl::live::undeclared_account"),
        "the warning is still listed: {lines}"
    );
    assert_eq!(
        lines.lines().last(),
        Some("No drift: the organization matches the configuration.")
    );
    let plan = common::orgctl(&[
        "plan",
        "examples/ecam/orgctl.yaml",
        "--state",
        &state,
        "--detailed-exitcode",
    ]);
    assert_eq!(plan.status.code(), Some(0), "plan and drift agree");
    assert_eq!(drift(&["--fail-on", "warning"]).status.code(), Some(2));
    assert_eq!(drift(&["--fail-on", "error"]).status.code(), Some(0));
}

#[test]
fn drift_fails_on_changes_by_default_and_not_with_fail_on_error() {
    let drift = |extra: &[&str]| {
        let mut args = vec![
            "drift",
            "examples/ecam/orgctl.yaml",
            "--state",
            "examples/ecam/live.json",
        ];
        args.extend_from_slice(extra);
        common::orgctl(&args).status.code()
    };
    assert_eq!(drift(&[]), Some(2));
    assert_eq!(drift(&["--fail-on", "changes"]), Some(2));
    assert_eq!(drift(&["--fail-on", "error"]), Some(0));
}

#[test]
fn completions_are_generated_from_the_command_line_and_parse_in_their_shell() {
    for shell in ["bash", "zsh", "fish"] {
        let output = common::orgctl(&["completions", shell]);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{}",
            common::describe(&output)
        );
        let script = String::from_utf8_lossy(&output.stdout);
        for word in ["plan", "drift", "force-unlock", "fail-on"] {
            assert!(script.contains(word), "{shell}: no `{word}`");
        }
    }
    // bash is on every machine that runs these tests: the script must at least parse.
    let dir = tempfile::tempdir().expect("a temp dir");
    let script = dir.path().join("orgctl.bash");
    std::fs::write(&script, common::orgctl(&["completions", "bash"]).stdout).expect("written");
    let parsed = std::process::Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
        .expect("bash runs");
    assert!(parsed.status.success(), "{}", common::describe(&parsed));
}

#[test]
fn the_manual_page_is_generated_from_the_command_line() {
    let output = common::orgctl(&["man"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        common::describe(&output)
    );
    let page = String::from_utf8_lossy(&output.stdout);
    assert!(page.contains(".TH orgctl 1"), "{page}");
    for command in [
        "validate",
        "plan",
        "drift",
        "apply",
        "import",
        "completions",
    ] {
        assert!(page.contains(command), "no `{command}` in the manual page");
    }
}

#[test]
fn color_always_colours_a_piped_plan_and_clicolor_force_does_too() {
    let plan = [
        "plan",
        "examples/ecam/orgctl.yaml",
        "--state",
        "examples/ecam/live.json",
    ];
    let piped = common::orgctl(&plan);
    assert!(
        !piped.stdout.contains(&0x1b),
        "no colour in a pipe by default"
    );
    let mut always = vec!["--color", "always"];
    always.extend(plan);
    let coloured = common::orgctl(&always);
    let text = String::from_utf8_lossy(&coloured.stdout);
    assert!(text.contains("\x1b[32m+ account:acme-dev"), "{text}");
    assert!(
        text.contains("        \x1b[31m  - CostCenter = \"0815\"\x1b[0m"),
        "tag diffs are coloured too: {text}"
    );
    let forced = std::process::Command::new(env!("CARGO_BIN_EXE_orgctl"))
        .args(plan)
        .current_dir(common::root())
        .env_remove("NO_COLOR")
        .env("CLICOLOR_FORCE", "1")
        .output()
        .expect("runs");
    assert!(
        forced.stdout.contains(&0x1b),
        "CLICOLOR_FORCE colours a pipe"
    );
    let refused = std::process::Command::new(env!("CARGO_BIN_EXE_orgctl"))
        .args(plan)
        .current_dir(common::root())
        .env("NO_COLOR", "1")
        .env("CLICOLOR_FORCE", "1")
        .output()
        .expect("runs");
    assert!(
        !refused.stdout.contains(&0x1b),
        "NO_COLOR wins over CLICOLOR_FORCE"
    );
}

#[test]
fn a_file_silences_warnings_by_code_and_explain_says_which() {
    let output = common::orgctl(&["validate", "examples/ecam/orgctl.yaml", "--explain"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        common::describe(&output)
    );
    assert!(
        !stderr(&output).contains("example_domain"),
        "the example silences its reserved domains: {}",
        common::describe(&output)
    );
    let explained = String::from_utf8_lossy(&output.stdout);
    assert!(
        explained.contains("silenced warnings  orgctl::email::example_domain"),
        "{explained}"
    );
}

#[test]
fn a_silenced_plan_finding_is_not_reported() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let yaml = std::fs::read_to_string(common::root().join("examples/ecam/orgctl.yaml"))
        .expect("the example")
        .replace(
            "ignore: [orgctl::email::example_domain]",
            "ignore: [orgctl::email::example_domain, live::undeclared_account]",
        );
    let config = dir.path().join("orgctl.yaml");
    std::fs::write(&config, yaml).expect("written");
    std::fs::create_dir(dir.path().join("policies")).expect("a folder");
    for entry in std::fs::read_dir(common::root().join("examples/ecam/policies")).expect("policies")
    {
        let path = entry.expect("an entry").path();
        std::fs::copy(
            &path,
            dir.path()
                .join("policies")
                .join(path.file_name().expect("a name")),
        )
        .expect("copied");
    }
    let config = config.to_string_lossy().into_owned();
    let plain = common::orgctl(&[
        "plan",
        "examples/ecam/orgctl.yaml",
        "--state",
        "examples/ecam/live.json",
    ]);
    assert!(String::from_utf8_lossy(&plain.stdout).contains("live::undeclared_account"));
    let silenced = common::orgctl(&["plan", &config, "--state", "examples/ecam/live.json"]);
    assert_eq!(
        silenced.status.code(),
        Some(0),
        "{}",
        common::describe(&silenced)
    );
    assert!(
        !String::from_utf8_lossy(&silenced.stdout).contains("undeclared_account"),
        "{}",
        common::describe(&silenced)
    );
}

#[test]
fn strict_makes_warnings_fail() {
    let plan = [
        "plan",
        "examples/ecam/orgctl.yaml",
        "--state",
        "examples/ecam/live.json",
    ];
    assert_eq!(common::orgctl(&plan).status.code(), Some(0));
    let mut strict = plan.to_vec();
    strict.push("--strict");
    let output = common::orgctl(&strict);
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        common::describe(&output)
    );
    assert!(
        stderr(&output).contains("--strict: 1 warning counts as errors"),
        "{}",
        common::describe(&output)
    );
    let validate = common::orgctl(&[
        "validate",
        "tests/fixtures/invalid/email-example_domain.yaml",
        "--strict",
    ]);
    assert_eq!(
        validate.status.code(),
        Some(1),
        "{}",
        common::describe(&validate)
    );
    let clean = common::orgctl(&["validate", "examples/ecam/orgctl.yaml", "--strict"]);
    assert_eq!(clean.status.code(), Some(0), "{}", common::describe(&clean));
}

#[test]
fn validate_plan_and_drift_take_the_folder_of_a_configuration() {
    let output = common::orgctl(&["validate", "examples/ecam"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        common::describe(&output)
    );
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "examples/ecam/orgctl.yaml: valid\n"
    );
    for (command, code) in [("plan", 0), ("drift", 2)] {
        let output = common::orgctl(&[
            command,
            "examples/ecam",
            "--state",
            "examples/ecam/live.json",
        ]);
        assert_eq!(
            output.status.code(),
            Some(code),
            "{command}: {}",
            common::describe(&output)
        );
    }
}
