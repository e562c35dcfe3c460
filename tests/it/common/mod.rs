//! Helpers shared by the integration tests.

pub mod moto;
pub mod proxy;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use chrono::NaiveDate;
use orgctl::diagnostic::{self, Diagnostic, RenderStyle};
use orgctl::model::{self, Context};

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
