//! The binary: exit codes, output streams, JSON diagnostics, and bad input that must not panic.

use std::io::Write;

use crate::common;
use crate::common::snapshot::run;

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
fn json_output_of_a_valid_file_lists_its_warnings() {
    let output = cli_snapshot!(run(&[
        "validate",
        "tests/fixtures/invalid/email-example_domain.yaml",
        "--format",
        "json",
    ]));
    assert!(output.stderr.is_empty(), "nothing but the JSON");
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

#[test]
fn drift_fail_on_error_passes_a_clean_organization_with_warnings() {
    // What drift prints there, and `--fail-on warning`, are in `runs`.
    let directory = crate::runs::converged_ecam();
    let path = |name: &str| directory.path().join(name).to_string_lossy().into_owned();
    let drift = common::orgctl(&[
        "drift",
        &path("orgctl.yaml"),
        "--state",
        &path("live.json"),
        "--fail-on",
        "error",
    ]);
    assert_eq!(drift.status.code(), Some(0), "{}", common::describe(&drift));
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
fn plan_and_drift_take_the_folder_of_a_configuration() {
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

#[test]
fn a_reader_that_stops_early_ends_orgctl_quietly() {
    // `orgctl rules | head -1`: the reader is gone before orgctl writes.
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_orgctl"))
        .args(["rules"])
        .current_dir(common::root())
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .output()
        .expect("orgctl runs");
    let stderr = stderr(&output);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_ne!(output.status.code(), Some(101), "{stderr}");
}
