//! Helpers shared by the integration tests.

pub mod fakecloud;
pub mod moto;
pub mod proxy;
#[macro_use]
pub mod snapshot;
pub mod terminal;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use aws_sdk_organizations as organizations;

use chrono::NaiveDate;
use orgctl::diagnostic::{self, Diagnostic, RenderStyle};
use orgctl::model::{self, Context};

/// Writes `yaml` as `orgctl.yaml` in `directory`; gives its path, as the command line takes it.
pub fn write_config(directory: &Path, yaml: &str) -> String {
    let config = directory.join("orgctl.yaml");
    std::fs::write(&config, yaml).expect("writable");
    config.to_string_lossy().into_owned()
}

/// A fixed date, so that partner expiry does not depend on when the tests run.
pub fn context() -> Context {
    Context {
        today: NaiveDate::from_ymd_opt(2026, 6, 1).expect("a valid date"),
    }
}

/// The crate root; tests run from it, and paths below are relative to it.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Loads and resolves `path` (relative to the crate root), returning every diagnostic.
pub fn validate(path: &Path) -> Vec<Diagnostic> {
    match orgctl::config::load(path) {
        Ok(config) => model::resolve(&config, &context()).diagnostics,
        Err(diagnostics) => diagnostics,
    }
}

/// Resolves a configuration given as text (policy files relative to the crate root), errors
/// and all.
pub fn resolve_yaml(yaml: &str) -> model::Resolved {
    let (source, file) =
        orgctl::config::parse("orgctl.yaml", yaml.as_bytes()).expect("the YAML parses");
    let config = orgctl::config::Config {
        source,
        base_dir: root(),
        file,
        policy_files: Default::default(),
    };
    model::resolve(&config, &context())
}

/// Diagnostics as people see them, without colour, 80 columns wide.
pub fn render(diagnostics: &[Diagnostic]) -> String {
    diagnostic::render(
        diagnostics,
        RenderStyle {
            colour: false,
            stdout_colour: false,
            width: 80,
        },
    )
}

/// Runs the orgctl binary from the crate root, without colour.
pub fn orgctl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_orgctl"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .env("COLUMNS", "80")
        .output()
        .expect("the orgctl binary runs")
}

/// A finished command as a test failure shows it: exit code, stdout and stderr.
pub fn describe(output: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The files of `dir` (relative to the crate root) whose name ends with `suffix`, sorted.
pub fn files(dir: &str, suffix: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
        .expect("the directory exists")
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.to_string_lossy().ends_with(suffix))
        .map(|path| Path::new(dir).join(path.file_name().expect("a file name")))
        .collect();
    files.sort();
    files
}

/// `text` with every duration (`0.4s`, `12.0s`) written as `[s]`: wall times differ per run.
pub fn without_durations(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(|c: char| c.is_ascii_digit()) {
        let (before, from) = rest.split_at(start);
        out.push_str(before);
        let digits = from.len() - from.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        let after = &from[digits..];
        let preceded_by_word = before.ends_with(|c: char| c.is_alphanumeric() || c == '-');
        match after.strip_prefix('.') {
            Some(tail)
                if !preceded_by_word
                    && tail.starts_with(|c: char| c.is_ascii_digit())
                    && tail[1..].starts_with('s')
                    && !tail[2..].starts_with(|c: char| c.is_alphanumeric()) =>
            {
                out.push_str("[s]");
                rest = &tail[2..];
            }
            _ => {
                out.push_str(&from[..digits]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[test]
fn durations_are_written_as_a_placeholder() {
    assert_eq!(
        without_durations(
            "created in 0.4s (ou-ab12) and in 12.0s. In 1.5 steps, 3.0seconds, v1.2s"
        ),
        "created in [s] (ou-ab12) and in [s]. In 1.5 steps, 3.0seconds, v1.2s"
    );
}

/// An AWS API emulator on a loopback port (moto, fakecloud) that orgctl's aws backend is
/// pointed at.
pub trait Emulator {
    /// Its URL, `http://127.0.0.1:PORT`.
    fn endpoint(&self) -> &str;

    /// The orgctl command against it, not yet started, with standard streams captured.
    fn command(&self, args: &[&str]) -> Command {
        moto::orgctl_command(self.endpoint(), args)
    }

    /// Runs the orgctl binary against it through the aws backend.
    fn orgctl(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("the orgctl binary runs")
    }

    /// An Organizations client of it, acting as the default account's management.
    fn client(&self) -> organizations::Client {
        moto::client_at(self.endpoint())
    }
}
