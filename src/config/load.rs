//! Reading the configuration: bytes to [`ConfigFile`], every failure a [`Diagnostic`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use indexmap::IndexMap;
use serde_saphyr::Error as YamlError;

use super::shape;
use super::{ConfigFile, Span};
use crate::diagnostic::{Diagnostic, SourceFile};
use crate::rules::Rule;
use crate::suggest;

/// The largest configuration orgctl reads (a 10,000-account organization is about 1.5 MiB).
pub const MAX_CONFIG_BYTES: usize = 64 * 1024 * 1024;
/// The largest policy document file orgctl reads (AWS's largest policy type allows 10,000
/// characters; anything far beyond is not a policy).
pub const MAX_POLICY_FILE_BYTES: usize = 1024 * 1024;

/// A loaded configuration: the parsed file and the policy documents it names.
#[derive(Debug, Clone)]
pub struct Config {
    /// The YAML text, for diagnostics.
    pub source: Arc<SourceFile>,
    /// The directory policy `file` paths are relative to.
    pub base_dir: PathBuf,
    /// The parsed file.
    pub file: ConfigFile,
    /// The contents of each policy's `file`, keyed by policy name.
    pub policy_files: IndexMap<String, PolicySource>,
}

impl Config {
    /// A digest of the configuration and the policy files it names: a saved plan records it, and
    /// apply refuses the plan when the files have changed since.
    pub fn digest(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut hasher = Sha256::new();
        hasher.update(self.source.text().as_bytes());
        for (name, source) in &self.policy_files {
            hasher.update(name.as_bytes());
            if let PolicySource::Read(file) = source {
                hasher.update(file.text().as_bytes());
            }
        }
        hasher
            .finalize()
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect()
    }
}

/// What reading a policy's `file` gave.
#[derive(Debug, Clone)]
pub enum PolicySource {
    /// The file's text.
    Read(Arc<SourceFile>),
    /// The file could not be read.
    Unreadable {
        /// The path as orgctl looked for it.
        path: String,
        /// Why, as a phrase that follows the path ("does not exist").
        reason: String,
    },
}

/// Reads `path` and the policy files it names.
///
/// A file that cannot be read or parsed yields diagnostics and no configuration. Policy files
/// that cannot be read are recorded as [`PolicySource::Unreadable`] for the model to report with
/// the rest, so that one run shows every problem.
pub fn load(path: &Path) -> Result<Config, Vec<Diagnostic>> {
    let display = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|error| {
        vec![
            Diagnostic::new(Rule::ConfigRead, format!("cannot read `{display}`: {error}")).help(
                "pass the path of an orgctl configuration, e.g. `orgctl validate examples/ecam/orgctl.yaml`",
            ),
        ]
    })?;
    let base_dir = path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    assemble(&display, &bytes, base_dir, read_policy_file)
}

/// A configuration that is not on disk yet (`orgctl import` checks what it is about to write):
/// `text` named `name`, its policy files looked up in `files` by the relative path the YAML
/// gives.
pub fn load_in_memory(
    name: &str,
    text: &str,
    base_dir: &Path,
    files: &BTreeMap<String, String>,
) -> Result<Config, Vec<Diagnostic>> {
    assemble(
        name,
        text.as_bytes(),
        base_dir.to_path_buf(),
        |base, relative| {
            let display = base.join(relative).display().to_string();
            match files.get(relative) {
                Some(text) => PolicySource::Read(SourceFile::new(display, text.clone())),
                None => PolicySource::Unreadable {
                    path: display,
                    reason: "does not exist".to_owned(),
                },
            }
        },
    )
}

fn assemble(
    name: &str,
    bytes: &[u8],
    base_dir: PathBuf,
    read_policy: impl Fn(&Path, &str) -> PolicySource,
) -> Result<Config, Vec<Diagnostic>> {
    let (source, file) = parse(name, bytes)?;
    let policy_files = file
        .policies
        .iter()
        .filter_map(|(name, policy)| {
            let relative = policy.file.as_ref()?;
            Some((name.value.clone(), read_policy(&base_dir, &relative.value)))
        })
        .collect();
    Ok(Config {
        source,
        base_dir,
        file,
        policy_files,
    })
}

fn read_policy_file(base_dir: &Path, relative: &str) -> PolicySource {
    let path = base_dir.join(relative);
    let display = path.display().to_string();
    let unreadable = |reason: String| PolicySource::Unreadable {
        path: display.clone(),
        reason,
    };
    match std::fs::metadata(&path) {
        Ok(metadata) if metadata.is_dir() => {
            return unreadable("is a directory, not a file".to_owned());
        }
        Ok(metadata) if metadata.len() > MAX_POLICY_FILE_BYTES as u64 => {
            return unreadable(format!(
                "is {} bytes, larger than any policy document",
                metadata.len()
            ));
        }
        _ => {}
    }
    match std::fs::read(&path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => PolicySource::Read(SourceFile::new(display, text)),
            Err(_) => unreadable("is not UTF-8 text".to_owned()),
        },
        Err(error) => unreadable(match error.kind() {
            std::io::ErrorKind::NotFound => "does not exist".to_owned(),
            std::io::ErrorKind::PermissionDenied => "cannot be read (permission denied)".to_owned(),
            _ => format!("cannot be read ({error})"),
        }),
    }
}

/// Parses configuration bytes; `name` is how diagnostics name the file. Never panics.
pub fn parse(name: &str, bytes: &[u8]) -> Result<(Arc<SourceFile>, ConfigFile), Vec<Diagnostic>> {
    if bytes.len() > MAX_CONFIG_BYTES {
        return Err(vec![
            Diagnostic::new(
                Rule::ConfigTooLarge,
                format!(
                    "`{name}` is {} bytes; a configuration may be at most {MAX_CONFIG_BYTES} bytes",
                    bytes.len()
                ),
            )
            .help("is this the right file? A 10,000-account organization takes about 1.5 MB"),
        ]);
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(error) => {
            let valid = error.valid_up_to();
            // Show the text with the bad byte replaced (U+FFFD), and point at the replacement.
            let source = SourceFile::new(name, String::from_utf8_lossy(bytes).into_owned());
            let (line, column) = source.line_column(valid);
            let byte = bytes.get(valid).copied().unwrap_or_default();
            return Err(vec![
                Diagnostic::new(
                    Rule::ConfigEncoding,
                    format!("`{name}` is not UTF-8 text: byte 0x{byte:02X} at line {line}, column {column}"),
                )
                .at(&source, Span::new(valid, '\u{FFFD}'.len_utf8()), "not UTF-8")
                .help("save the file as UTF-8 (a Latin-1 `é` is the usual culprit); orgctl configurations are YAML text"),
            ]);
        }
    };
    let source = SourceFile::new(name, text);
    if is_blank(text) {
        return Err(vec![
            Diagnostic::new(Rule::ConfigEmpty, format!("`{name}` is empty"))
                .help("start with an `organization:` section; `orgctl schema` prints every key the file may hold"),
        ]);
    }
    let options = serde_saphyr::options! {
        with_snippet: false,
        budget: serde_saphyr::budget! {
            max_depth: 64,
            max_documents: 1,
        },
    };
    match serde_saphyr::from_str_with_options::<ConfigFile>(text, options) {
        Ok(file) => Ok((source, file)),
        Err(error) => {
            // serde stops at the first problem; the shape check finds every key problem at once.
            let mut diagnostics = shape::check(&source, text);
            if diagnostics.is_empty() {
                diagnostics.push(yaml_diagnostic(&source, &error));
            }
            crate::diagnostic::sort(&mut diagnostics);
            Err(diagnostics)
        }
    }
}

/// Whether a text holds no YAML content: only blank lines, comments and document markers.
fn is_blank(text: &str) -> bool {
    text.lines().all(|line| {
        let line = line.trim();
        line.is_empty() || line.starts_with('#') || line == "---" || line == "..."
    })
}

/// Where an error points: serde-saphyr gives byte offsets for values, but only line and column
/// for errors its parser raises.
fn error_span(source: &SourceFile, location: serde_saphyr::Location) -> Span {
    match location.span().byte_offset() {
        Some(_) => Span::from(location),
        None => {
            let line = usize::try_from(location.line()).unwrap_or(usize::MAX);
            let column = usize::try_from(location.column()).unwrap_or(usize::MAX);
            Span::new(source.offset_of_char(line, column), 0)
        }
    }
}

/// Turns a YAML or shape error into a diagnostic with a code, a label and a help line.
fn yaml_diagnostic(source: &Arc<SourceFile>, error: &YamlError) -> Diagnostic {
    let error = error.without_snippet();
    let span = error
        .location()
        .filter(|location| location.line() > 0)
        .map(|location| error_span(source, location));
    match error {
        YamlError::SerdeUnknownField {
            field, expected, ..
        } => shape::unknown_key_diagnostic(source, span, field, expected),
        YamlError::SerdeUnknownVariant {
            variant, expected, ..
        } => {
            let mut help = match suggest::closest(variant, expected.iter().copied()) {
                Some(candidate) => format!("did you mean `{candidate}`? "),
                None => String::new(),
            };
            help.push_str(&format!("write one of {}", suggest::list(expected)));
            let message = match span.and_then(|span| key_before(source, span.offset)) {
                Some(key) => format!("`{variant}` is not a valid `{key}`"),
                None => format!("unknown value `{variant}`"),
            };
            Diagnostic::new(Rule::ConfigInvalidValue, message)
                .help(help)
                .labelled(source, span, "not one of the allowed values")
        }
        YamlError::SerdeMissingField { field, .. } => {
            Diagnostic::new(Rule::ConfigMissingKey, format!("missing key `{field}`"))
                .help(format!(
                    "add `{field}:` to this mapping; see the schema in schemas/orgctl.schema.json"
                ))
                .labelled(source, span, format!("`{field}` is required here"))
        }
        YamlError::DuplicateMappingKey { key, .. } => {
            let key = key.as_deref().unwrap_or("this key");
            Diagnostic::new(Rule::ConfigDuplicateKey, format!("duplicate key `{key}`"))
                .help("each key may appear once per mapping; merge the two entries")
                .labelled(source, span, "written a second time here")
        }
        YamlError::SerdeInvalidType {
            unexpected,
            expected,
            ..
        }
        | YamlError::SerdeInvalidValue {
            unexpected,
            expected,
            ..
        } => Diagnostic::new(
            Rule::ConfigInvalidValue,
            format!("expected {expected}, found {unexpected}"),
        )
        .help(format!("write {expected} here"))
        .labelled(source, span, format!("expected {expected}")),
        YamlError::Unexpected { expected, .. } => {
            let (expected, how) = describe_expected(expected);
            let message = match span.and_then(|span| key_before(source, span.offset)) {
                Some(key) => format!("`{key}` must be {expected}"),
                None => format!("expected {expected} here"),
            };
            Diagnostic::new(Rule::ConfigInvalidValue, message)
                .help(format!(
                    "{how}; `orgctl schema` shows the shape of every key"
                ))
                .labelled(source, span, format!("expected {expected}"))
        }
        YamlError::InvalidBooleanStrict { .. } => {
            Diagnostic::new(Rule::ConfigInvalidValue, "expected `true` or `false`")
                .help("write `true` or `false`")
                .labelled(source, span, "not a boolean")
        }
        YamlError::InvalidScalar { .. } | YamlError::SerdeInvalidLength { .. } => {
            let message = strip_location(&error.to_string());
            Diagnostic::new(Rule::ConfigInvalidValue, message)
                .help("see schemas/orgctl.schema.json for the values each key takes")
                .labelled(source, span, "invalid value")
        }
        YamlError::NullIntoString { .. } => {
            let message = match span.and_then(|span| key_before(source, span.offset)) {
                Some(key) => format!("`{key}` has no value"),
                None => "a value is missing".to_owned(),
            };
            Diagnostic::new(Rule::ConfigInvalidValue, message)
                .help("write a value after the colon")
                .labelled(source, span, "no value")
        }
        YamlError::Budget { breach, .. } => Diagnostic::new(
            Rule::ConfigTooLarge,
            format!("the YAML exceeds what a configuration can hold ({breach:?})"),
        )
        .help("an orgctl configuration nests at most a few dozen levels; is this the right file?")
        .labelled(source, span, "here"),
        // The parser's own nesting guard (granit-parser's RecursionLimitExceeded) reaches us as
        // plain text; it means the same as a depth budget breach.
        other if other.to_string().contains("recursion limit exceeded") => Diagnostic::new(
            Rule::ConfigTooLarge,
            "the YAML nests deeper than a configuration can",
        )
        .help("an orgctl configuration nests at most a few dozen levels; is this the right file?")
        .labelled(source, span, "somewhere in this document"),
        other => {
            let message = strip_location(&other.to_string()).replace('\'', "`");
            if message.starts_with("unclosed") {
                return Diagnostic::new(Rule::ConfigSyntax, format!("malformed YAML: {message}"))
                    .help("close it with the matching bracket")
                    .labelled(source, span, "opened here and never closed");
            }
            Diagnostic::new(Rule::ConfigSyntax, format!("malformed YAML: {message}"))
                .help("check the indentation and quoting near this point")
                .labelled(source, span, "the YAML parser stopped here")
        }
    }
}

/// Plain words for serde-saphyr's names of the node it expected.
fn describe_expected(expected: &str) -> (String, String) {
    match expected {
        "mapping start" | "mapping" => (
            "a mapping".to_owned(),
            "write `key: value` lines below it, or `{ key: value }`".to_owned(),
        ),
        "sequence start" | "sequence" => (
            "a list".to_owned(),
            "write `- item` lines below it, or `[a, b]`".to_owned(),
        ),
        "string scalar" | "string" | "scalar" => (
            "a single value".to_owned(),
            "write one string, number or date".to_owned(),
        ),
        other => (format!("a {other}"), format!("write a {other}")),
    }
}

/// The mapping key written just before `offset` on its line (`tags` in `tags: [a, b]`).
fn key_before(source: &SourceFile, offset: usize) -> Option<String> {
    let text = source.text();
    let line_start = text.get(..offset)?.rfind('\n').map_or(0, |i| i + 1);
    let before = text.get(line_start..offset)?.trim_end();
    // The offset is either just after `key:` or on the colon itself.
    let key = match before.strip_suffix(':') {
        Some(key) => key,
        None if text.get(offset..)?.starts_with(':') => before,
        None => return None,
    };
    let key = key.trim_start().trim_start_matches("- ");
    let key = key
        .rsplit(['{', ',', ' '])
        .next()?
        .trim_matches(['"', '\'']);
    (!key.is_empty()).then(|| key.to_owned())
}

/// serde-saphyr appends ` at line N column M` to plain messages; the label already says where.
fn strip_location(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(index) => message[..index].to_owned(),
        None => message.to_owned(),
    }
}

impl Diagnostic {
    /// Points at `span` when the parser knew where, and otherwise names just the file.
    fn labelled(
        self,
        source: &Arc<SourceFile>,
        span: Option<Span>,
        label: impl Into<String>,
    ) -> Self {
        match span {
            Some(span) => self.at(source, span, label),
            None => Self {
                source: Some(Arc::clone(source)),
                ..self
            },
        }
    }
}
