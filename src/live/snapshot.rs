//! The snapshot backend: a JSON file holding a live organization.
//!
//! It lets a new user plan with no AWS account, lets a pull-request job plan without
//! credentials, and is the format `orgctl export` writes. The file is versioned: `format` names
//! it and `version` is bumped on any incompatible change.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{LiveState, OrgReader};
use crate::diagnostic::Diagnostic;
use crate::rules::Rule;

/// The value of a snapshot's `format` field.
pub const FORMAT: &str = "orgctl-live";
/// The snapshot version this build reads and writes.
pub const VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct Header {
    format: String,
    version: u32,
}

/// A snapshot file: the live state with its format and version.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(title = "orgctl live snapshot")]
pub struct SnapshotFile {
    /// Always `orgctl-live`.
    pub format: String,
    /// The snapshot format version.
    pub version: u32,
    /// The live organization.
    #[serde(flatten)]
    pub state: LiveState,
}

/// The file as read. Reading through `SnapshotFile`'s `flatten` would make serde buffer the whole
/// document as an intermediate tree (more memory, and slower); the fields are spelled out here
/// instead, so that every unknown field is refused too.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SnapshotIn {
    #[serde(rename = "format")]
    _format: String,
    #[serde(rename = "version")]
    _version: u32,
    organization: super::LiveOrganization,
    root: super::LiveRoot,
    #[serde(default)]
    organizational_units: Vec<super::LiveOu>,
    #[serde(default)]
    accounts: Vec<super::LiveAccount>,
    #[serde(default)]
    policies: Vec<super::LivePolicy>,
    #[serde(default)]
    account_closures: Option<super::ClosureQuota>,
}

/// A snapshot file as a live organization.
#[derive(Debug, Clone)]
pub struct Snapshot {
    path: PathBuf,
}

impl Snapshot {
    /// The snapshot at `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads and checks the file.
    pub fn load(&self) -> Result<LiveState, Diagnostic> {
        let display = self.path.display();
        let bytes = std::fs::read(&self.path).map_err(|error| {
            Diagnostic::new(
                Rule::LiveSnapshot,
                format!("cannot read the snapshot `{display}`: {error}"),
            )
            .help("pass a file written by `orgctl export`, e.g. `--state examples/ecam/live.json`")
        })?;
        parse(&display.to_string(), &bytes)
    }

    /// Writes `state` atomically: a temporary file beside the target, flushed to disk, then renamed.
    pub fn save(&self, state: &LiveState) -> Result<(), Diagnostic> {
        write_atomically(&self.path, to_json(state).as_bytes())
            .map_err(|error| self.write_error(&error.to_string()))
    }

    fn write_error(&self, reason: &str) -> Diagnostic {
        Diagnostic::new(
            Rule::LiveSnapshot,
            format!(
                "cannot write the snapshot `{}`: {reason}",
                self.path.display()
            ),
        )
        .help("check that the directory exists and is writable")
    }
}

impl OrgReader for Snapshot {
    async fn read(&self) -> Result<LiveState, Diagnostic> {
        self.load()
    }
}

/// Parses snapshot bytes; `name` is how messages name the file.
pub fn parse(name: &str, bytes: &[u8]) -> Result<LiveState, Diagnostic> {
    let invalid = |reason: String| {
        Diagnostic::new(Rule::LiveSnapshot, format!("`{name}` is not an orgctl snapshot: {reason}"))
            .help("snapshots are written by `orgctl export --out FILE`; `orgctl schema live` describes them")
    };
    let header: Header =
        serde_json::from_slice(bytes).map_err(|error| invalid(error.to_string()))?;
    if header.format != FORMAT {
        return Err(invalid(format!(
            "its `format` is `{}`, not `{FORMAT}`",
            header.format
        )));
    }
    if header.version != VERSION {
        return Err(invalid(format!(
            "it is version {}, and this orgctl reads version {VERSION}",
            header.version
        )));
    }
    let snapshot: SnapshotIn =
        serde_json::from_slice(bytes).map_err(|error| invalid(error.to_string()))?;
    let mut state = LiveState {
        organization: snapshot.organization,
        root: snapshot.root,
        organizational_units: snapshot.organizational_units,
        accounts: snapshot.accounts,
        policies: snapshot.policies,
        account_closures: snapshot.account_closures,
    };
    state.normalise();
    Ok(state)
}

/// The snapshot text of a state (normalised, pretty, with a final newline).
pub fn to_json(state: &LiveState) -> String {
    let mut state = state.clone();
    state.normalise();
    let file = SnapshotFile {
        format: FORMAT.to_owned(),
        version: VERSION,
        state,
    };
    // Serialising orgctl's own plain data types to JSON cannot fail.
    let mut text = serde_json::to_string_pretty(&file).unwrap_or_default();
    text.push('\n');
    text
}

/// Writes `bytes` to `path` so that readers see the old file or the new one, never a mix.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let directory = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = directory.join(format!(".{file_name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    result
}
