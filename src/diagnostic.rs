//! Diagnostics: what every stage reports to the user.
//!
//! Each [`Diagnostic`] names the [`Rule`] it comes from (stable code and severity), says what is
//! wrong, points at the source (YAML or a policy document) and says what to write instead. They are
//! rendered by miette for people and as JSON for machines; both come from the same value.

use std::fmt;
use std::sync::Arc;

use miette::{LabeledSpan, MietteSpanContents, SourceCode, SpanContents};
use serde::Serialize;

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
#[derive(Debug, Clone)]
pub struct Label {
    /// Where.
    pub span: Span,
    /// What to say there (may be empty).
    pub text: String,
}

/// One problem found in the user's input or in the live organization.
#[derive(Debug, Clone)]
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
