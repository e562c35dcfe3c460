//! Diagnostics: what every stage reports to the user.
//!
//! Each [`Diagnostic`] names the [`Rule`] it comes from (stable code and severity), says what is
//! wrong, points at the source (YAML or a policy document) and says what to write instead. They are
//! rendered by miette for people and as JSON for machines; both come from the same value.

use std::fmt;
use std::sync::Arc;

use miette::{LabeledSpan, MietteSpanContents, SourceCode, SpanContents};
use serde::{Deserialize, Serialize};

use crate::address::Address;
use crate::config::Span;
use crate::rules::{Rule, Severity};

/// A file whose text diagnostics point into.
#[derive(Debug)]
pub struct SourceFile {
    name: String,
    text: String,
    line_starts: Vec<usize>,
    /// Whether diagnostics may show its text; otherwise they give only the line and column.
    quoted: bool,
}

impl SourceFile {
    /// A named text; the name is shown to users as given.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Arc<Self> {
        Self::with_quoting(name.into(), text.into(), true)
    }

    /// A named text that diagnostics never show: they point at a line and column only. For
    /// files the configuration names rather than the user (policy documents), which may hold
    /// anything, up to a secret a link led to.
    pub fn unquoted(name: impl Into<String>, text: impl Into<String>) -> Arc<Self> {
        Self::with_quoting(name.into(), text.into(), false)
    }

    fn with_quoting(name: String, text: String, quoted: bool) -> Arc<Self> {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(index, _)| index + 1))
            .collect();
        Arc::new(Self {
            name,
            text,
            line_starts,
            quoted,
        })
    }

    /// Whether diagnostics may show its text.
    pub fn is_quoted(&self) -> bool {
        self.quoted
    }

    /// The name shown to users (a path as the user wrote it).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The whole text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The byte offset of a 1-based line and byte column, clamped to the text.
    pub fn offset_of(&self, line: usize, column: usize) -> usize {
        let start = self
            .line_starts
            .get(line.saturating_sub(1))
            .copied()
            .unwrap_or(self.text.len());
        let mut offset = (start + column.saturating_sub(1)).min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        offset
    }

    /// The byte offset of a 1-based line and character column, clamped to the text.
    pub fn offset_of_char(&self, line: usize, column: usize) -> usize {
        let Some(&start) = self.line_starts.get(line.saturating_sub(1)) else {
            return self.text.len();
        };
        let line_text = &self.text[start..];
        let line_text = line_text.split('\n').next().unwrap_or_default();
        let within = line_text
            .char_indices()
            .nth(column.saturating_sub(1))
            .map_or(line_text.len(), |(index, _)| index);
        start + within
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_column(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|&start| start <= offset);
        let start = self.line_starts[line - 1];
        let column = self
            .text
            .get(start..offset)
            .map_or(offset - start, |prefix| prefix.chars().count());
        (line, column + 1)
    }
}

/// Two files are the same when their names, texts and quoting are.
impl PartialEq for SourceFile {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.text == other.text && self.quoted == other.quoted
    }
}

impl SourceCode for SourceFile {
    fn read_span<'a>(
        &'a self,
        span: &miette::SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, miette::MietteError> {
        let contents = self
            .text
            .read_span(span, context_lines_before, context_lines_after)?;
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            contents.data(),
            *contents.span(),
            contents.line(),
            contents.column(),
            contents.line_count(),
        )))
    }
}

/// A labelled place in a source file.
#[derive(Debug, Clone, PartialEq)]
pub struct Label {
    /// Where.
    pub span: Span,
    /// What to say there (may be empty).
    pub text: String,
}

/// One problem found in the user's input or in the live organization: a validation's diagnostic
/// or a plan's finding, one type for both.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    /// The rule that found it.
    pub rule: Rule,
    /// How bad it is (the rule's severity unless configured otherwise).
    pub severity: Severity,
    /// What is wrong, in one sentence.
    pub message: String,
    /// What to write instead.
    pub help: Option<String>,
    /// The file the labels point into.
    pub source: Option<Arc<SourceFile>>,
    /// The places; the first is the primary one.
    pub labels: Vec<Label>,
    /// The resource it is about, when there is one (a plan's finding names the live resource).
    /// Boxed: most diagnostics have none, and every `Result` carrying one stays small.
    pub address: Option<Box<Address>>,
    /// Places in other files it also points at (the line of a fleet file that an
    /// organization's file contradicts), each drawn after it with that file's lines.
    pub elsewhere: Vec<Elsewhere>,
}

/// A place in another file than its diagnostic's, which the diagnostic also points at.
#[derive(Debug, Clone, PartialEq)]
pub struct Elsewhere {
    /// The file.
    pub source: Arc<SourceFile>,
    /// Where in it.
    pub span: Span,
    /// What to say there.
    pub text: String,
}

impl fmt::Display for Elsewhere {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::error::Error for Elsewhere {}

/// Drawn as advice after its diagnostic: the other file's lines, labelled.
impl miette::Diagnostic for Elsewhere {
    fn severity(&self) -> Option<miette::Severity> {
        Some(miette::Severity::Advice)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source
            .is_quoted()
            .then_some(&*self.source as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if !self.source.is_quoted() {
            return None;
        }
        Some(Box::new(std::iter::once(
            LabeledSpan::new_primary_with_span(Some(self.text.clone()), self.span),
        )))
    }
}

impl Diagnostic {
    /// A diagnostic of `rule` with its default severity.
    pub fn new(rule: Rule, message: impl Into<String>) -> Self {
        Self {
            rule,
            severity: rule.severity(),
            message: crate::suggest::printable(&message.into()).into_owned(),
            help: None,
            source: None,
            labels: Vec::new(),
            address: None,
            elsewhere: Vec::new(),
        }
    }

    /// A plan's finding: `rule` with its default severity, about the resource at `address` when
    /// there is one, with what to do about it. The message and help are kept as written: they
    /// name live resources, which each renderer escapes as it shows them.
    pub fn finding(
        rule: Rule,
        address: Option<Address>,
        message: impl Into<String>,
        help: impl Into<String>,
    ) -> Self {
        Self {
            rule,
            severity: rule.severity(),
            message: message.into(),
            help: Some(help.into()),
            source: None,
            labels: Vec::new(),
            address: address.map(Box::new),
            elsewhere: Vec::new(),
        }
    }

    /// Points at `span` of `source` with a label text.
    pub fn at(mut self, source: &Arc<SourceFile>, span: Span, label: impl Into<String>) -> Self {
        self.source = Some(Arc::clone(source));
        self.labels.push(Label {
            span,
            text: label.into(),
        });
        self
    }

    /// Adds a secondary label in the same source.
    pub fn also(mut self, span: Span, label: impl Into<String>) -> Self {
        self.labels.push(Label {
            span,
            text: label.into(),
        });
        self
    }

    /// Also points at `span` of another file, `source`, with a label text.
    pub fn also_in(
        mut self,
        source: &Arc<SourceFile>,
        span: Span,
        text: impl Into<String>,
    ) -> Self {
        self.elsewhere.push(Elsewhere {
            source: Arc::clone(source),
            span,
            text: text.into(),
        });
        self
    }

    /// Says what to write instead.
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(crate::suggest::printable(&help.into()).into_owned());
        self
    }

    /// True for errors (which fail the command), false for warnings.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// The machine-readable form: code, severity, message, file, 1-based line and column, help.
    pub fn to_record(&self) -> DiagnosticRecord {
        let position = self
            .source
            .as_ref()
            .zip(self.labels.first())
            .map(|(source, label)| {
                (
                    source.name().to_owned(),
                    source.line_column(label.span.offset),
                )
            });
        DiagnosticRecord {
            code: self.rule.code(),
            severity: self.severity,
            message: self.message.clone(),
            file: position.as_ref().map(|(file, _)| file.clone()),
            line: position.as_ref().map(|(_, (line, _))| *line),
            column: position.as_ref().map(|(_, (_, column))| *column),
            help: self.help.clone(),
        }
    }
}

impl Diagnostic {
    /// The source diagnostics may quote: `None` when there is none or it is
    /// [`SourceFile::unquoted`].
    fn quotable_source(&self) -> Option<&SourceFile> {
        self.source.as_deref().filter(|source| source.is_quoted())
    }
}

impl fmt::Display for Diagnostic {
    /// The message; for a source that is not quoted, followed by where in it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(source) = self.source.as_ref().filter(|source| !source.is_quoted())
            && let Some(label) = self.labels.first()
        {
            let (line, column) = source.line_column(label.span.offset);
            write!(
                f,
                " (line {line}, column {column}; the file's text is not shown)"
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostic {}

impl miette::Diagnostic for Diagnostic {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.rule.code()))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|help| Box::new(help) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.quotable_source()
            .map(|source| source as &dyn SourceCode)
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        if self.elsewhere.is_empty() {
            return None;
        }
        Some(Box::new(
            self.elsewhere
                .iter()
                .map(|place| place as &dyn miette::Diagnostic),
        ))
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.quotable_source().is_none() || self.labels.is_empty() {
            return None;
        }
        Some(Box::new(self.labels.iter().enumerate().map(
            |(index, label)| {
                let text = (!label.text.is_empty()).then(|| label.text.clone());
                if index == 0 {
                    LabeledSpan::new_primary_with_span(text, label.span)
                } else {
                    LabeledSpan::new_with_span(text, label.span)
                }
            },
        )))
    }
}

/// The JSON form of a diagnostic (`orgctl validate --format json`).
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct DiagnosticRecord {
    /// Stable code, e.g. `orgctl::ownership::member_email_domain`.
    pub code: &'static str,
    /// `error` or `warning`.
    pub severity: Severity,
    /// What is wrong.
    pub message: String,
    /// The file the diagnostic points into, as given on the command line.
    pub file: Option<String>,
    /// 1-based line.
    pub line: Option<usize>,
    /// 1-based column, in characters.
    pub column: Option<usize>,
    /// What to write instead.
    pub help: Option<String>,
}

// The JSON form of a plan's finding, in `plan --format json` and in a saved plan; its doc line is
// the schema's description of `Finding`.
/// Something the plan found in the live organization.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "Finding")]
pub struct FindingRecord {
    /// The rule's stable code.
    pub code: String,
    /// `error` (the plan cannot be applied) or `warning`.
    pub severity: Severity,
    /// What was found.
    pub message: String,
    /// The resource, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
    /// What to do about it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

impl From<&Diagnostic> for FindingRecord {
    /// The finding's code, severity, message, address and help; a finding points into no file.
    fn from(diagnostic: &Diagnostic) -> Self {
        Self {
            code: diagnostic.rule.code().to_owned(),
            severity: diagnostic.severity,
            message: diagnostic.message.clone(),
            address: diagnostic.address.as_deref().cloned(),
            help: diagnostic.help.clone(),
        }
    }
}

/// A code that is not in this orgctl's rule catalogue, read from a saved plan.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a finding has the code `{code}`, which is not in this orgctl's rule catalogue")]
pub struct UnknownCode {
    /// The code as read.
    pub code: String,
}

impl TryFrom<FindingRecord> for Diagnostic {
    type Error = UnknownCode;

    /// The finding a record names, its rule found by code in the catalogue.
    fn try_from(record: FindingRecord) -> Result<Self, UnknownCode> {
        let rule = Rule::from_code(&record.code).ok_or(UnknownCode { code: record.code })?;
        Ok(Self {
            rule,
            severity: record.severity,
            message: record.message,
            help: record.help,
            source: None,
            labels: Vec::new(),
            address: record.address.map(Box::new),
            elsewhere: Vec::new(),
        })
    }
}

/// Serde for a plan's findings: a list of [`FindingRecord`]s in JSON, read back into
/// [`Diagnostic`]s; a code the catalogue lacks is an error. For `#[serde(with = …)]`.
pub mod findings {
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serializer};

    use super::{Diagnostic, FindingRecord};

    /// Writes each finding as its record.
    pub fn serialize<S: Serializer>(
        findings: &[Diagnostic],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(findings.iter().map(FindingRecord::from))
    }

    /// Reads records back into findings.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<Diagnostic>, D::Error> {
        Vec::<FindingRecord>::deserialize(deserializer)?
            .into_iter()
            .map(|record| Diagnostic::try_from(record).map_err(D::Error::custom))
            .collect()
    }
}

/// Diagnostics in the order users read them: by file, then position, then code.
pub fn sort(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by(|a, b| {
        let key = |d: &Diagnostic| {
            (
                d.source.as_ref().map(|s| s.name().to_owned()),
                d.labels.first().map(|l| l.span.offset),
                d.rule.code(),
            )
        };
        key(a).cmp(&key(b))
    });
}

/// How to draw diagnostics for people.
#[derive(Debug, Clone, Copy)]
pub struct RenderStyle {
    /// Colour the diagnostics on stderr (off for `NO_COLOR`, pipes and snapshots).
    pub colour: bool,
    /// Colour what goes to stdout (the text plan): decided apart, since either stream can be
    /// piped while the other is a terminal.
    pub stdout_colour: bool,
    /// Terminal width to wrap to.
    pub width: usize,
}

/// Renders diagnostics as miette draws them, one after the other.
pub fn render(diagnostics: &[Diagnostic], style: RenderStyle) -> String {
    let theme = if style.colour {
        miette::GraphicalTheme::unicode()
    } else {
        miette::GraphicalTheme::unicode_nocolor()
    };
    // Names such as `acme-payer` or `policies/deny.json` must survive wrapping whole.
    let handler = miette::GraphicalReportHandler::new_themed(theme)
        .with_width(style.width)
        .with_word_separator(textwrap::WordSeparator::AsciiSpace)
        .with_word_splitter(textwrap::WordSplitter::NoHyphenation)
        .with_break_words(false)
        .with_context_lines(1);
    let mut out = String::new();
    for (index, diagnostic) in diagnostics.iter().enumerate() {
        if index > 0 {
            out.push('\n');
        }
        if handler.render_report(&mut out, diagnostic).is_err() {
            // Rendering into a String only fails if a Display impl fails; fall back to the message.
            out.push_str(&diagnostic.message);
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A plan's findings, as `Plan` holds them.
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Findings {
        #[serde(with = "findings")]
        findings: Vec<Diagnostic>,
    }

    #[test]
    fn a_finding_is_written_as_code_severity_message_address_and_help_only() {
        let with_address = Diagnostic::finding(
            Rule::Unmanaged,
            Some("ou:Legacy".parse().expect("an address")),
            "OU `Legacy` is not in the file",
            "declare it",
        );
        let mut without = Diagnostic::finding(Rule::CloseQuota, None, "too many", "wait");
        without.help = None;
        let json = serde_json::to_value(Findings {
            findings: vec![with_address, without],
        })
        .expect("serialised");
        assert_eq!(
            json,
            serde_json::json!({"findings": [
                {
                    "code": "orgctl::live::unmanaged",
                    "severity": "warning",
                    "message": "OU `Legacy` is not in the file",
                    "address": "ou:Legacy",
                    "help": "declare it",
                },
                {"code": "orgctl::live::close_quota", "severity": "error", "message": "too many"},
            ]})
        );
    }

    #[test]
    fn a_finding_reads_back_to_its_rule_with_its_severity() {
        let mut finding = Diagnostic::finding(
            Rule::UndeclaredAccount,
            Some("ou:Legacy".parse().expect("an address")),
            "an account",
            "declare it",
        );
        finding.severity = Severity::Error;
        let findings = Findings {
            findings: vec![finding],
        };
        let text = serde_json::to_string(&findings).expect("serialised");
        let read: Findings = serde_json::from_str(&text).expect("read back");
        assert_eq!(read, findings);
    }

    #[test]
    fn a_code_the_catalogue_lacks_is_an_error() {
        let text = r#"{"findings": [{"code": "orgctl::live::nothing", "severity": "error", "message": "?"}]}"#;
        let error = serde_json::from_str::<Findings>(text).expect_err("refused");
        assert!(
            error.to_string().starts_with(
                "a finding has the code `orgctl::live::nothing`, which is not in this orgctl's rule catalogue"
            ),
            "{error}"
        );
    }
}
