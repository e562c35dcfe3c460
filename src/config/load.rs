//! Reading the configuration: bytes to [`ConfigFile`], every failure a [`Diagnostic`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use indexmap::IndexMap;
use serde_saphyr::Error as YamlError;

use super::shape;
use super::{ConfigFile, Span};
use crate::diagnostic::{Diagnostic, SourceFile};
use crate::files::{self, largest};
use crate::rules::Rule;
use crate::suggest;

/// The largest configuration orgctl reads: the largest organization AWS allows ([`files::CONFIG`]).
pub const MAX_CONFIG_BYTES: usize = files::CONFIG.bytes as usize;

/// YAML nodes one account or OU can take, at most: its name and mapping, each of its keys with a
/// value, 50 tags (a key and a value each), and its place in the `attach` lists of policies and
/// in the lists of partners (about 200 in all).
const NODES_PER_RESOURCE: u64 = 256;
/// YAML nodes one policy can take, at most: its keys and values, and an inline document written
/// as YAML as densely as JSON allows (a node for every two characters of AWS's largest document).
const NODES_PER_POLICY: u64 = 64 + largest::POLICY_CHARACTERS / 2;
/// The YAML nodes of the largest organization AWS allows: the node budget of a configuration.
pub const MAX_YAML_NODES: usize = ((largest::ACCOUNTS + largest::OUS + 1) * NODES_PER_RESOURCE
    + largest::POLICIES * NODES_PER_POLICY) as usize;
/// The deepest nesting a configuration has (an inline policy document nests a few levels more
/// than the OU tree); deeper is not a configuration.
const MAX_YAML_DEPTH: usize = 64;

/// The YAML budget of a configuration: one document, nested at most [`MAX_YAML_DEPTH`] levels,
/// with room for the nodes and text of the largest organization AWS allows. Aliases keep
/// serde-saphyr's own limits on how much they may repeat.
pub(super) fn yaml_budget() -> Option<serde_saphyr::Budget> {
    serde_saphyr::budget! {
        max_depth: MAX_YAML_DEPTH,
        max_documents: 1,
        max_nodes: MAX_YAML_NODES,
        // A node is one event, and a mapping or list adds its end; the stream and document
        // add four.
        max_events: 2 * MAX_YAML_NODES + 8,
        max_total_scalar_bytes: MAX_CONFIG_BYTES,
    }
}

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

/// The file orgctl looks for in a folder: `orgctl plan acme` reads `acme/orgctl.yaml`.
pub const FILE_NAME: &str = "orgctl.yaml";

/// The configuration file `path` names: the [`FILE_NAME`] inside it when it is a folder (or ends
/// with `/`, a folder to be), else `path` itself.
pub fn locate(path: &Path) -> PathBuf {
    if path.is_dir() || path.as_os_str().as_encoded_bytes().ends_with(b"/") {
        path.join(FILE_NAME)
    } else {
        path.to_path_buf()
    }
}

/// Reads `path` and the policy files it names.
///
/// A file that cannot be read or parsed yields diagnostics and no configuration. Policy files
/// that cannot be read are recorded as [`PolicySource::Unreadable`] for the model to report with
/// the rest, so that one run shows every problem.
pub fn load(path: &Path) -> Result<Config, Vec<Diagnostic>> {
    load_with(path, parse)
}

/// Reads `path` as [`load`] does, for an organization a fleet lists: what the fleet gives may
/// be left out ([`parse_inheriting`]).
pub fn load_inheriting(path: &Path) -> Result<Config, Vec<Diagnostic>> {
    load_with(path, parse_inheriting)
}

/// Parses configuration bytes, named, into the file and its text.
type Parse = fn(&str, &[u8]) -> Result<(Arc<SourceFile>, ConfigFile), Vec<Diagnostic>>;

fn load_with(path: &Path, parse: Parse) -> Result<Config, Vec<Diagnostic>> {
    let display = path.display().to_string();
    let bytes = files::read(path, files::CONFIG).map_err(|error| {
        vec![match error {
            files::Error::TooLarge { .. } => Diagnostic::new(
                Rule::ConfigTooLarge,
                format!("cannot read `{display}`: {error}"),
            )
            .help("is this the right file? A 10,000-account organization takes about 1.5 MB"),
            _ => Diagnostic::new(Rule::ConfigRead, format!("cannot read `{display}`: {error}")).help(
                "pass the path of an orgctl configuration, e.g. `orgctl validate examples/ecam/orgctl.yaml`",
            ),
        }]
    })?;
    let base_dir = path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    assemble(&display, &bytes, base_dir, parse, read_policy_file)
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
        parse,
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
    parse: Parse,
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

/// Reads the policy file `relative` names: a regular file inside the configuration's directory
/// (no absolute path, no `..` out of it, no link that leads out of it), opened without waiting
/// (a named pipe or device is refused) and at most [`files::POLICY_FILE`] bytes. Its text is
/// never quoted in a diagnostic ([`SourceFile::unquoted`]).
pub fn read_policy_file(base_dir: &Path, relative: &str) -> PolicySource {
    let path = base_dir.join(relative);
    let display = path.display().to_string();
    let unreadable = |reason: String| PolicySource::Unreadable {
        path: display.clone(),
        reason,
    };
    let inside = match inside_directory(base_dir, relative) {
        Ok(inside) => inside,
        Err(reason) => return unreadable(reason),
    };
    match files::read_regular(&inside, files::POLICY_FILE) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => PolicySource::Read(SourceFile::unquoted(display, text)),
            Err(_) => unreadable("is not UTF-8 text".to_owned()),
        },
        Err(files::Error::Io(error)) => unreadable(match error.kind() {
            std::io::ErrorKind::NotFound => "does not exist".to_owned(),
            std::io::ErrorKind::PermissionDenied => "cannot be read (permission denied)".to_owned(),
            _ => format!("cannot be read ({error})"),
        }),
        Err(error) => unreadable(error.to_string().replacen("it is", "is", 1)),
    }
}

/// The real path of the policy file `relative` names, when it is inside `base_dir` (links
/// resolved); otherwise why not, as a phrase that follows the path.
fn inside_directory(base_dir: &Path, relative: &str) -> Result<PathBuf, String> {
    use std::path::Component;
    let outside = "the configuration's folder";
    if Path::new(relative).is_absolute() {
        return Err(format!(
            "is an absolute path; a policy file must be inside {outside}"
        ));
    }
    let mut depth = 0usize;
    for component in Path::new(relative).components() {
        match component {
            Component::ParentDir if depth == 0 => {
                return Err(format!(
                    "is outside {outside} (`..` leads out of it); a policy file must be inside it"
                ));
            }
            Component::ParentDir => depth -= 1,
            Component::Normal(_) => depth += 1,
            _ => {}
        }
    }
    let not_found = |error: std::io::Error| match error.kind() {
        std::io::ErrorKind::NotFound => "does not exist".to_owned(),
        std::io::ErrorKind::PermissionDenied => "cannot be read (permission denied)".to_owned(),
        _ => format!("cannot be read ({error})"),
    };
    // `orgctl.yaml` has the empty path for its folder: the current one.
    let base_dir = if base_dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        base_dir
    };
    let base = std::fs::canonicalize(base_dir).map_err(not_found)?;
    let real = std::fs::canonicalize(base.join(relative)).map_err(not_found)?;
    if !real.starts_with(&base) {
        return Err(format!(
            "is a link to a file outside {outside}; a policy file must be inside it"
        ));
    }
    Ok(real)
}

/// Parses configuration bytes; `name` is how diagnostics name the file. Never panics. A file
/// standing on its own must declare its `business_model` (a missing one is reported with the
/// file's other missing keys); only a fleet's files inherit it ([`parse_inheriting`]).
pub fn parse(name: &str, bytes: &[u8]) -> Result<(Arc<SourceFile>, ConfigFile), Vec<Diagnostic>> {
    let schema = standalone_schema();
    let (source, file) = parse_against::<ConfigFile>(name, bytes, "organization", &schema)?;
    if file.organization.business_model.is_none() {
        return Err(shape::check_against(&source, source.text(), &schema));
    }
    Ok((source, file))
}

/// Parses the configuration of an organization a fleet lists: as [`parse`], but what the fleet
/// gives (the business model) may be left out.
pub fn parse_inheriting(
    name: &str,
    bytes: &[u8],
) -> Result<(Arc<SourceFile>, ConfigFile), Vec<Diagnostic>> {
    parse_document(name, bytes, "organization")
}

/// The schema a file standing on its own is checked against: the configuration's, with
/// `organization.business_model` required.
fn standalone_schema() -> serde_json::Value {
    let mut schema = schemars::schema_for!(ConfigFile).to_value();
    if let Some(required) = schema
        .pointer_mut("/$defs/Organization/required")
        .and_then(serde_json::Value::as_array_mut)
    {
        required.insert(1.min(required.len()), "business_model".into());
    }
    schema
}

/// Parses the bytes of one of orgctl's YAML files (a configuration, a fleet) into `T`, with
/// the configuration's budget and diagnostics: every unknown or missing key at once, against
/// `T`'s schema. `first_key` is the section an empty file should start with. Never panics.
pub fn parse_document<T: serde::de::DeserializeOwned + schemars::JsonSchema>(
    name: &str,
    bytes: &[u8],
    first_key: &str,
) -> Result<(Arc<SourceFile>, T), Vec<Diagnostic>> {
    parse_against(name, bytes, first_key, &schemars::schema_for!(T).to_value())
}

/// [`parse_document`], its key problems found against `schema`.
fn parse_against<T: serde::de::DeserializeOwned>(
    name: &str,
    bytes: &[u8],
    first_key: &str,
    schema: &serde_json::Value,
) -> Result<(Arc<SourceFile>, T), Vec<Diagnostic>> {
    if bytes.len() > MAX_CONFIG_BYTES {
        let error = files::Error::TooLarge {
            size: Some(bytes.len() as u64),
            limit: files::CONFIG,
        };
        return Err(vec![
            Diagnostic::new(Rule::ConfigTooLarge, format!("`{name}`: {error}"))
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
                .help(format!("start with an `{first_key}:` section; `orgctl schema` prints every key the file may hold")),
        ]);
    }
    let options = serde_saphyr::options! {
        with_snippet: false,
        budget: yaml_budget(),
    };
    match serde_saphyr::from_str_with_options::<T>(text, options) {
        Ok(file) => Ok((source, file)),
        Err(error) => {
            // serde stops at the first problem; the shape check finds every key problem at once.
            let mut diagnostics = shape::check_against(&source, text, schema);
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
        YamlError::Budget { breach, .. } => {
            let (message, help) = describe_breach(breach);
            Diagnostic::new(Rule::ConfigTooLarge, message)
                .help(help)
                .labelled(source, span, "here")
        }
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

/// What a YAML budget breach means, and what to do about it.
fn describe_breach(breach: &serde_saphyr::budget::BudgetBreach) -> (String, String) {
    use serde_saphyr::budget::BudgetBreach;
    let right_file = "is this the right file?";
    match breach {
        BudgetBreach::Depth { .. } => (
            format!(
                "the YAML nests deeper than {MAX_YAML_DEPTH} levels, deeper than a configuration can"
            ),
            format!("an orgctl configuration nests at most a few dozen levels; {right_file}"),
        ),
        BudgetBreach::Documents { .. } => (
            "the file holds more than one YAML document".to_owned(),
            "a configuration is one document: remove the `---` lines that start others".to_owned(),
        ),
        BudgetBreach::Nodes { .. } | BudgetBreach::Events { .. } => (
            format!(
                "the YAML holds more than {} values, more than {}",
                files::grouped(MAX_YAML_NODES as u64),
                largest::DESCRIPTION
            ),
            right_file.to_owned(),
        ),
        BudgetBreach::ScalarBytes { .. } => (
            format!(
                "the YAML's values hold more than {} bytes of text, more than {}",
                files::grouped(MAX_CONFIG_BYTES as u64),
                largest::DESCRIPTION
            ),
            right_file.to_owned(),
        ),
        other => (
            format!(
                "the YAML repeats itself through anchors and aliases more than a configuration may ({other:?})"
            ),
            "write the repeated parts out instead of aliasing them".to_owned(),
        ),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_names_the_configuration_inside_it() {
        assert_eq!(
            locate(Path::new("examples/ecam")),
            Path::new("examples/ecam/orgctl.yaml")
        );
        assert_eq!(
            locate(Path::new("no/such/folder/")),
            Path::new("no/such/folder/orgctl.yaml")
        );
        assert_eq!(
            locate(Path::new("examples/ecam/orgctl.yaml")),
            Path::new("examples/ecam/orgctl.yaml")
        );
        assert_eq!(locate(Path::new("new.yaml")), Path::new("new.yaml"));
    }
    use std::fmt::Write as _;
    use std::os::unix::fs::symlink;

    const HEAD: &str = "organization:\n  name: acme\n  business_model: direct\n  customer: { name: Acme, email_domain: acme.example }\n  management_account: { name: acme-payer, email: payer@acme.example, id: \"111111111111\" }\n  enabled_policy_types: [service_control]\n";

    /// A configuration in `directory` whose one policy names `file`.
    fn with_policy_file(directory: &Path, file: &str) -> PathBuf {
        let path = directory.join("orgctl.yaml");
        let text = format!(
            "{HEAD}policies:\n  guard:\n    type: service_control\n    file: {file}\n    attach: [root]\n"
        );
        std::fs::write(&path, text).expect("writable");
        path
    }

    fn policy_source(path: &Path) -> PolicySource {
        let config = load(path).expect("the configuration loads");
        config.policy_files["guard"].clone()
    }

    fn unreadable_reason(path: &Path) -> String {
        match policy_source(path) {
            PolicySource::Unreadable { reason, .. } => reason,
            PolicySource::Read(source) => panic!("read `{}`", source.text()),
        }
    }

    #[test]
    fn a_policy_file_linked_out_of_the_configuration_folder_is_refused() {
        let outside = tempfile::tempdir().expect("a temp dir");
        let secret = outside.path().join("credentials");
        std::fs::write(&secret, "aws_secret_access_key = hunter2").expect("writable");
        let directory = tempfile::tempdir().expect("a temp dir");
        symlink(&secret, directory.path().join("policy.json")).expect("a link");
        let path = with_policy_file(directory.path(), "policy.json");
        assert_eq!(
            unreadable_reason(&path),
            "is a link to a file outside the configuration's folder; a policy file must be inside it"
        );
    }

    #[test]
    fn a_folder_linked_out_of_the_configuration_folder_is_refused() {
        let outside = tempfile::tempdir().expect("a temp dir");
        std::fs::write(outside.path().join("policy.json"), "{}").expect("writable");
        let directory = tempfile::tempdir().expect("a temp dir");
        symlink(outside.path(), directory.path().join("policies")).expect("a link");
        let path = with_policy_file(directory.path(), "policies/policy.json");
        assert!(
            unreadable_reason(&path).starts_with("is a link to a file outside"),
            "{}",
            unreadable_reason(&path)
        );
    }

    #[test]
    fn a_policy_file_linked_inside_the_configuration_folder_is_read() {
        let directory = tempfile::tempdir().expect("a temp dir");
        std::fs::create_dir(directory.path().join("shared")).expect("a folder");
        std::fs::write(directory.path().join("shared/policy.json"), "{}").expect("writable");
        symlink("shared/policy.json", directory.path().join("policy.json")).expect("a link");
        let path = with_policy_file(directory.path(), "policy.json");
        match policy_source(&path) {
            PolicySource::Read(source) => assert_eq!(source.text(), "{}"),
            PolicySource::Unreadable { reason, .. } => panic!("refused: {reason}"),
        }
    }

    #[test]
    fn a_configuration_named_without_a_folder_finds_its_policy_files() {
        // `orgctl plan orgctl.yaml` in the configuration's folder: the folder is the empty path.
        let real = inside_directory(Path::new(""), "examples/direct/orgctl.yaml");
        let expected = std::fs::canonicalize("examples/direct/orgctl.yaml").expect("exists");
        assert_eq!(real, Ok(expected));
    }

    #[test]
    fn a_named_pipe_as_policy_file_is_refused_without_waiting_for_a_writer() {
        let directory = tempfile::tempdir().expect("a temp dir");
        rustix::fs::mknodat(
            rustix::fs::CWD,
            directory.path().join("policy.json"),
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
            0,
        )
        .expect("a named pipe");
        let path = with_policy_file(directory.path(), "policy.json");
        // Opening a pipe for reading waits for a writer that never comes; the load must not.
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = sender.send(unreadable_reason(&path));
        });
        let reason = receiver
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("the load waited on the pipe");
        assert_eq!(reason, "is a named pipe (FIFO), not a regular file");
    }

    #[test]
    fn a_policy_file_over_its_limit_is_refused_with_the_limit() {
        let directory = tempfile::tempdir().expect("a temp dir");
        let file = std::fs::File::create(directory.path().join("policy.json")).expect("created");
        file.set_len(files::POLICY_FILE.bytes + 1).expect("sized");
        let path = with_policy_file(directory.path(), "policy.json");
        assert_eq!(
            unreadable_reason(&path),
            "is 1,048,577 bytes; a policy file may have at most 1,048,576 bytes (AWS's largest policy document is 10,240 characters)"
        );
    }

    #[test]
    fn a_policy_file_that_is_not_json_is_never_quoted() {
        let directory = tempfile::tempdir().expect("a temp dir");
        std::fs::write(
            directory.path().join("policy.json"),
            "{\n  \"Version\": \"2012-10-17\",\n  aws_secret_access_key = hunter2\n}\n",
        )
        .expect("writable");
        let path = with_policy_file(directory.path(), "policy.json");
        let config = load(&path).expect("the configuration loads");
        let resolved = crate::model::resolve(&config, &crate::model::Context::now());
        let not_json: Vec<_> = resolved
            .diagnostics
            .into_iter()
            .filter(|diagnostic| diagnostic.rule == Rule::PolicyNotJson)
            .collect();
        assert_eq!(not_json.len(), 1);
        let style = crate::diagnostic::RenderStyle {
            colour: false,
            stdout_colour: false,
            width: 200,
        };
        let rendered = crate::diagnostic::render(&not_json, style);
        assert!(!rendered.contains("hunter2"), "{rendered}");
        assert!(
            rendered.contains("(line 3, column 3; the file's text is not shown)"),
            "{rendered}"
        );
    }

    #[test]
    fn a_configuration_over_its_limit_is_refused_unread_with_the_limit() {
        let directory = tempfile::tempdir().expect("a temp dir");
        let path = directory.path().join("orgctl.yaml");
        // Sparse: the limit is checked before a byte is read.
        let file = std::fs::File::create(&path).expect("created");
        file.set_len(files::CONFIG.bytes + 1).expect("sized");
        let diagnostics = load(&path).expect_err("refused");
        assert_eq!(diagnostics[0].rule, Rule::ConfigTooLarge);
        assert!(
            diagnostics[0].message.ends_with(
                "is 2,334,360,097 bytes; a configuration may have at most 2,334,360,096 bytes (the largest organization AWS allows: 50,000 accounts and 2,000 OUs with 50 tags each, 24,000 policies)"
            ),
            "{}",
            diagnostics[0].message
        );
    }

    #[test]
    fn a_device_as_configuration_is_refused_unread() {
        let diagnostics = load(Path::new("/dev/zero")).expect_err("refused");
        assert_eq!(diagnostics[0].rule, Rule::ConfigRead);
        assert_eq!(
            diagnostics[0].message,
            "cannot read `/dev/zero`: it is a character device, not a regular file"
        );
    }

    /// A configuration of `accounts` accounts with `tags` tags each, as `orgctl import` writes
    /// them.
    fn organization(accounts: usize, tags: usize) -> String {
        let mut text = format!("{HEAD}organizational_units:\n  Workloads: {{}}\naccounts:\n");
        for account in 0..accounts {
            let _ = write!(
                text,
                "  account-{account:05}:\n    id: \"{:012}\"\n    ou: Workloads\n    tags: {{ ",
                200_000_000_000u64 + account as u64
            );
            for tag in 0..tags {
                let _ = write!(text, "tag-{tag:02}: value-{tag:02}, ");
            }
            text.push_str("}\n");
        }
        text
    }

    #[test]
    fn ten_thousand_accounts_with_ten_tags_each_parse() {
        let text = organization(10_000, 10);
        let file = match parse("orgctl.yaml", text.as_bytes()) {
            Ok((_, file)) => file,
            Err(diagnostics) => panic!("refused: {}", diagnostics[0].message),
        };
        assert_eq!(file.accounts.len(), 10_000);
    }

    #[test]
    #[ignore = "60 MB of YAML, over a minute in a debug build: run with --ignored"]
    fn the_largest_organization_aws_allows_parses() {
        let text = organization(largest::ACCOUNTS as usize, largest::TAGS as usize);
        let file = match parse("orgctl.yaml", text.as_bytes()) {
            Ok((_, file)) => file,
            Err(diagnostics) => panic!("refused: {}", diagnostics[0].message),
        };
        assert_eq!(file.accounts.len(), 50_000);
    }
}
