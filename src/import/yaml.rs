//! Writing YAML by hand, for a file people read: block style, short mappings and lists in flow
//! style, and every scalar quoted exactly when YAML would otherwise read it as something else.

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Lines longer than this are written in block style instead of flow style.
const FLOW_WIDTH: usize = 100;

/// A scalar as YAML text, for flow collections and keys: plain when that reads back as the same
/// string, double-quoted otherwise.
pub fn scalar(value: &str) -> String {
    if is_plain_safe(value, "") {
        value.to_owned()
    } else {
        quoted(value)
    }
}

/// A scalar as the value of a block mapping entry, where prose punctuation may stay plain.
pub fn block_scalar(value: &str) -> String {
    if is_plain_safe(value, ",;()'!?") {
        value.to_owned()
    } else {
        quoted(value)
    }
}

/// Whether `value` reads back as this string when written plain.
///
/// Deliberately narrow: letters, digits, `_ . / @ + -` and the `extra` characters, single inner
/// spaces, starting with a letter or `_`, and none of the words YAML 1.1 reads as booleans or
/// null.
fn is_plain_safe(value: &str, extra: &str) -> bool {
    let Some(first) = value.chars().next() else {
        return false;
    };
    if !(first.is_ascii_alphabetic() || first == '_') || value.ends_with(' ') {
        return false;
    }
    if value.contains("  ") {
        return false;
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || "_./@+- ".contains(c) || extra.contains(c);
    if !value.chars().all(allowed) {
        return false;
    }
    const SPECIAL: &[&str] = &[
        "true", "false", "yes", "no", "on", "off", "y", "n", "null", "nan", "inf",
    ];
    !SPECIAL.contains(&value.to_ascii_lowercase().as_str())
}

/// A double-quoted scalar: `"` and `\\` escaped, and every character YAML does not allow raw (C0
/// and C1 controls, DEL, surrogates, U+FEFF, U+FFFE/U+FFFF) as an escape.
pub fn quoted(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if is_printable(c) => out.push(c),
            c => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
        }
    }
    out.push('"');
    out
}

/// YAML 1.2's `c-printable`, less the byte-order mark.
fn is_printable(c: char) -> bool {
    matches!(u32::from(c),
        0x20..=0x7E | 0x85 | 0xA0..=0xD7FF | 0xE000..=0xFEFE | 0xFF00..=0xFFFD | 0x10000..=0x10FFFF)
}

/// A YAML document built line by line.
#[derive(Debug, Default)]
pub struct Document {
    text: String,
}

impl Document {
    /// A `# comment` line (each line of `text` becomes one), at `indent`.
    ///
    /// Characters a comment cannot hold (controls, and `\r`, which YAML reads as a line break)
    /// are written as `\u{…}`.
    pub fn comment(&mut self, indent: usize, text: &str) {
        for line in text.lines() {
            let line: String = line
                .chars()
                .map(|c| {
                    if is_printable(c) {
                        c.to_string()
                    } else {
                        format!("\\u{{{:04X}}}", u32::from(c))
                    }
                })
                .collect();
            self.pad(indent);
            if line.is_empty() {
                self.text.push_str("#\n");
            } else {
                let _ = writeln!(self.text, "# {line}");
            }
        }
    }

    /// An empty line.
    pub fn blank(&mut self) {
        self.text.push('\n');
    }

    /// `key:` opening a nested block.
    pub fn open(&mut self, indent: usize, key: &str) {
        self.pad(indent);
        let _ = writeln!(self.text, "{}:", scalar(key));
    }

    /// `key: value`, the value written as given (already YAML).
    pub fn raw(&mut self, indent: usize, key: &str, value: &str) {
        self.pad(indent);
        let _ = writeln!(self.text, "{}: {value}", scalar(key));
    }

    /// `key: scalar`.
    pub fn entry(&mut self, indent: usize, key: &str, value: &str) {
        self.raw(indent, key, &block_scalar(value));
    }

    /// `key: |` and `text` as a literal block, its lines at `indent + 2`, where YAML reads it back
    /// as the same string; a double-quoted scalar otherwise (a character a block cannot hold, a
    /// line break other than `\n`, a first line that starts with a space, an end other than one
    /// `\n`).
    pub fn literal(&mut self, indent: usize, key: &str, text: &str) {
        let fits = text.ends_with('\n')
            && !text.ends_with("\n\n")
            && !text.starts_with([' ', '\n'])
            && text.chars().all(|c| {
                c == '\n' || (is_printable(c) && !matches!(c, '\u{85}' | '\u{2028}' | '\u{2029}'))
            });
        if !fits {
            self.raw(indent, key, &quoted(text));
            return;
        }
        self.raw(indent, key, "|");
        for line in text.lines() {
            if !line.is_empty() {
                self.pad(indent + 2);
                self.text.push_str(line);
            }
            self.text.push('\n');
        }
    }

    /// `key: { k: v, ... }`, or a block mapping when that line would be too long.
    pub fn map(&mut self, indent: usize, key: &str, map: &BTreeMap<String, String>) {
        let flow = flow_map(map);
        if indent + key.len() + flow.len() + 2 <= FLOW_WIDTH {
            self.raw(indent, key, &flow);
        } else {
            self.open(indent, key);
            for (k, v) in map {
                self.entry(indent + 2, k, v);
            }
        }
    }

    /// `key: [a, b]`, or a block list when that line would be too long.
    pub fn list(&mut self, indent: usize, key: &str, items: &[String]) {
        let flow = format!(
            "[{}]",
            items
                .iter()
                .map(|item| scalar(item))
                .collect::<Vec<_>>()
                .join(", ")
        );
        if indent + key.len() + flow.len() + 2 <= FLOW_WIDTH {
            self.raw(indent, key, &flow);
        } else {
            self.open(indent, key);
            for item in items {
                self.pad(indent + 2);
                let _ = writeln!(self.text, "- {}", scalar(item));
            }
        }
    }

    fn pad(&mut self, indent: usize) {
        self.text.extend(std::iter::repeat_n(' ', indent));
    }

    /// The text.
    pub fn finish(self) -> String {
        self.text
    }
}

/// `{ k: v, ... }`; `{}` when empty.
pub fn flow_map(map: &BTreeMap<String, String>) -> String {
    if map.is_empty() {
        return "{}".to_owned();
    }
    let entries: Vec<String> = map
        .iter()
        .map(|(k, v)| format!("{}: {}", scalar(k), scalar(v)))
        .collect();
    format!("{{ {} }}", entries.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_back_block(text: &str) -> String {
        #[derive(serde::Deserialize)]
        struct Probe {
            value: String,
        }
        let yaml = format!("value: {text}\n");
        let probe: Probe = serde_saphyr::from_str(&yaml).unwrap_or_else(|e| panic!("{yaml}: {e}"));
        probe.value
    }

    /// The string `value` of a YAML document.
    fn read_value(yaml: &str) -> String {
        #[derive(serde::Deserialize)]
        struct Probe {
            value: String,
        }
        let probe: Probe = serde_saphyr::from_str(yaml).unwrap_or_else(|e| panic!("{yaml}: {e}"));
        probe.value
    }

    fn read_back(text: &str) -> String {
        let yaml = format!("value: {text}\nlist: [{text}]\nflow: {{ k: {text} }}\n");
        #[derive(serde::Deserialize)]
        struct Probe {
            value: String,
            list: Vec<String>,
            flow: BTreeMap<String, String>,
        }
        let probe: Probe = serde_saphyr::from_str(&yaml).unwrap_or_else(|e| panic!("{yaml}: {e}"));
        assert_eq!(probe.list, vec![probe.value.clone()], "{yaml}");
        assert_eq!(probe.flow["k"], probe.value, "{yaml}");
        probe.value
    }

    #[test]
    fn a_literal_block_reads_back_as_the_text() {
        for text in [
            "{\n  \"Version\": \"2012-10-17\",\n  \"Sid\": \"# not a comment: {}\"\n}\n",
            "line\n\n  indented after an empty line\n",
        ] {
            let mut document = Document::default();
            document.literal(0, "value", text);
            let written = document.finish();
            assert!(written.starts_with("value: |\n"), "{written}");
            assert_eq!(read_value(&written), text);
        }
    }

    #[test]
    fn what_a_literal_block_cannot_hold_is_quoted() {
        for text in [
            "no newline at the end",
            " leading space\n",
            "two\n\n",
            "nel \u{85}\n",
            "del \u{7f}\n",
        ] {
            let mut document = Document::default();
            document.literal(0, "value", text);
            let written = document.finish();
            assert!(written.starts_with("value: \""), "{written}");
            assert_eq!(read_value(&written), text);
        }
    }

    #[test]
    fn scalars_read_back_as_written() {
        let cases = [
            "acme-prod",
            "Workloads/Prod",
            "aws+acme@acme.example",
            "123456789012",
            "0123",
            "1e3",
            "true",
            "No",
            "null",
            "~",
            "",
            " leading",
            "trailing ",
            "a: b",
            "a #b",
            "#comment",
            "- dash",
            "[x]",
            "{x}",
            "x, y",
            "'single'",
            "\"double\"",
            "back\\slash",
            "tab\there",
            "line\nbreak",
            "del\u{7f}",
            "bom\u{feff}",
            "c1\u{85}\u{9b}",
            "ünïcødé Prod",
            "emoji 🚀",
            "*alias",
            "&anchor",
            "!tag",
            "%percent",
            "@at",
            "`tick",
            "|",
            ">",
            "?",
            "2026-11-22",
            "0x1F",
            ".inf",
            "=",
            "<<",
        ];
        for case in cases {
            assert_eq!(read_back(&scalar(case)), case, "{:?}", scalar(case));
            assert_eq!(
                read_back_block(&block_scalar(case)),
                case,
                "{:?}",
                block_scalar(case)
            );
        }
        let prose =
            "Member accounts cannot leave (the reseller would lose billing); really, it's so!";
        assert_eq!(block_scalar(prose), prose);
        assert_eq!(read_back_block(prose), prose);
    }

    #[test]
    fn plain_where_it_is_safe() {
        assert_eq!(scalar("acme-prod"), "acme-prod");
        assert_eq!(scalar("Workloads/Prod"), "Workloads/Prod");
        assert_eq!(scalar("Prod Accounts"), "Prod Accounts");
        assert_eq!(scalar("123456789012"), "\"123456789012\"");
        assert_eq!(scalar("yes"), "\"yes\"");
        assert_eq!(scalar("a: b"), "\"a: b\"");
    }

    #[test]
    fn long_maps_and_lists_go_to_block_style() {
        let mut document = Document::default();
        let short: BTreeMap<String, String> = [("a".to_owned(), "1".to_owned())].into();
        let long: BTreeMap<String, String> = (0..20)
            .map(|i| (format!("key{i}"), format!("value{i}")))
            .collect();
        document.map(2, "tags", &short);
        document.map(2, "tags", &long);
        document.list(2, "attach", &["root".to_owned()]);
        let text = document.finish();
        let mut commented = Document::default();
        commented.comment(0, "policy `a\rb\u{7}c` was left out");
        commented.raw(0, "key", "value");
        let commented = commented.finish();
        assert_eq!(
            commented,
            "# policy `a\\u{000D}b\\u{0007}c` was left out\nkey: value\n"
        );
        let parsed: BTreeMap<String, String> =
            serde_saphyr::from_str(&commented).expect("a comment never breaks the document");
        assert_eq!(parsed.len(), 1);
        assert!(
            text.starts_with("  tags: { a: \"1\" }\n  tags:\n    key0: value0\n"),
            "{text}"
        );
        assert!(text.ends_with("  attach: [root]\n"), "{text}");
    }
}
