//! Whole runs of the orgctl binary as users see them: the exit code, stdout and stderr in one
//! snapshot, with what differs from run to run (temporary paths, durations, lease ids and
//! holders, today's date, the version) filtered out. [`cli_snapshot!`] is the assertion.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use orgctl::live::lease;

/// One run of orgctl: its arguments and the folder it runs in (the crate root unless told).
#[derive(Debug, Clone)]
pub struct Run {
    args: Vec<String>,
    directory: PathBuf,
}

/// A run of `orgctl` with `args`, from the crate root, without colour, 80 columns wide and with
/// no terminal (so `apply` never asks).
pub fn run(args: &[&str]) -> Run {
    Run {
        args: args.iter().map(|arg| (*arg).to_owned()).collect(),
        directory: super::root(),
    }
}

impl Run {
    /// The same run, from `directory` (relative arguments name its files).
    pub fn in_dir(self, directory: &Path) -> Self {
        Self {
            directory: directory.to_owned(),
            ..self
        }
    }

    /// Runs it.
    pub fn output(&self) -> Output {
        Command::new(env!("CARGO_BIN_EXE_orgctl"))
            .args(&self.args)
            .current_dir(&self.directory)
            .env("NO_COLOR", "1")
            .env_remove("CLICOLOR_FORCE")
            .env("COLUMNS", "80")
            .stdin(Stdio::null())
            .output()
            .expect("the orgctl binary runs")
    }

    /// The command line, for the snapshot's description.
    pub fn command_line(&self) -> String {
        let mut line = String::from("orgctl");
        for arg in &self.args {
            line.push(' ');
            if arg.is_empty() || arg.contains(|c: char| c.is_whitespace() || c == '\'') {
                line.push_str(&format!("{arg:?}"));
            } else {
                line.push_str(arg);
            }
        }
        line
    }
}

/// What a user saw: the exit code, then stdout, then stderr.
pub fn transcript(output: &Output) -> String {
    let code = output
        .status
        .code()
        .map_or_else(|| "killed by a signal".to_owned(), |code| code.to_string());
    format!(
        "exit: {code}\n----- stdout -----\n{}\n----- stderr -----\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// `text` with every character a regular expression treats specially escaped.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// The filters of a whole-run snapshot, as (regular expression, replacement) pairs applied in
/// order.
pub fn filters() -> Vec<(String, String)> {
    let temp = std::env::temp_dir();
    let temp = escape(temp.to_string_lossy().trim_end_matches('/'));
    vec![
        // A temporary file or folder (`tempfile` names them `.tmp` and six characters).
        (
            format!(r"{temp}/\.tmp[A-Za-z0-9]{{6}}"),
            "[TEMP]".to_owned(),
        ),
        // The version: in plans, and in the header of an imported configuration.
        (escape(env!("CARGO_PKG_VERSION")), "[VERSION]".to_owned()),
        // Wall times: `in 0.3s`, `after 12.0s`, and the report's milliseconds.
        (
            r"(^|[^\w.-])\d+\.\d+s\b".to_owned(),
            "${1}[TIME]".to_owned(),
        ),
        (
            r#""(duration_ms|started_ms)": \d+"#.to_owned(),
            r#""$1": [MS]"#.to_owned(),
        ),
        // When this run's lease runs out, and when an import read the organization: both from
        // the clock (the far-off dates of recorded test leases stay).
        (
            r"\b20\d{2}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z".to_owned(),
            "[DATE]".to_owned(),
        ),
        (
            r"\b20\d{2}-\d{2}-\d{2} \d{2}:\d{2} UTC".to_owned(),
            "[DATE]".to_owned(),
        ),
        // This run's own lease: its holder `user@host:pid`, and its random id where messages
        // name it (the leases tests record for other applies are named as they are).
        (
            format!(
                r"\b{}@{}:\d+\b",
                escape(&lease::user()),
                escape(&lease::host())
            ),
            "[USER]@[HOST]:[PID]".to_owned(),
        ),
        (
            r"\b[0-9a-f]{16}( \[USER\]@\[HOST\]:\[PID\])".to_owned(),
            "[LEASE]${1}".to_owned(),
        ),
        (
            r"(this apply's lease )[0-9a-f]{16}\b".to_owned(),
            "${1}[LEASE]".to_owned(),
        ),
        (
            r"(the lease )[0-9a-f]{16}( was not released: .*`orgctl force-unlock )[0-9a-f]{16}\b"
                .to_owned(),
            "${1}[LEASE]${2}[LEASE]".to_owned(),
        ),
    ]
}

/// Settings that apply [`filters`] and leave the expression out of the snapshot.
pub fn settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    for (pattern, replacement) in filters() {
        settings.add_filter(&pattern, replacement);
    }
    settings.set_omit_expression(true);
    settings
}

/// Runs `$run` (a [`Run`]) and snapshots its [`transcript`], filtered; evaluates to the
/// [`Output`] for the assertions a snapshot cannot make (files written, files left alone).
/// `cli_snapshot!("name", run)` names the snapshot; without a name it is the test's.
macro_rules! cli_snapshot {
    ($run:expr) => {
        cli_snapshot!(None::<&str>, $run)
    };
    ($name:expr, $run:expr) => {{
        let run: $crate::common::snapshot::Run = $run;
        let output = run.output();
        let mut settings = $crate::common::snapshot::settings();
        settings.set_description(run.command_line());
        settings.bind(|| {
            let name: Option<&str> = $name.into();
            match name {
                Some(name) => {
                    insta::assert_snapshot!(name, $crate::common::snapshot::transcript(&output))
                }
                None => insta::assert_snapshot!($crate::common::snapshot::transcript(&output)),
            }
        });
        output
    }};
}

#[test]
fn the_filters_hide_what_differs_between_runs_and_nothing_else() {
    let temp = std::env::temp_dir().join(".tmpAb12Cd").join("live.json");
    let own = format!("{}@{}:4242", lease::user(), lease::host());
    let text = format!(
        "{}\nApplied 3 changes in 0.4s.\n+ ou:Dev: done in 12.0s\nv1.2s 1.5 steps\n\"duration_ms\": 431,\n\
{own} until 2026-06-01T12:00:00Z (lease 0123456789abcdef)\n\
fedcba9876543210 {own} until 2026-06-01T12:00:00Z\n\
warning: this apply's lease fedcba9876543210 was removed while it ran\n\
warning: the lease fedcba9876543210 was not released: gone; it runs out at 2026-06-01T12:00:00Z, or `orgctl force-unlock fedcba9876543210` removes it now\n\
held by alice@build-7:4242 until 2999-01-01T00:00:00Z (lease 0123456789abcdef)\n\
\"live_fingerprint\": \"0123456789abcdef\"\n\
Imported by orgctl {} from live.json on 2026-06-01 12:00 UTC:\naws+acme-dev@acme.example 111111111111\n",
        temp.display(),
        env!("CARGO_PKG_VERSION"),
    );
    settings().bind(|| insta::assert_snapshot!(text));
}
