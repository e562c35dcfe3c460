//! The shape check: when typed parsing fails, walk the YAML as a spanned tree against the JSON
//! Schema generated from the configuration types, so that every unknown key and every missing
//! required key is reported at once, each at the mapping it belongs to.
//!
//! serde stops at the first problem and, for a missing key, knows only where the mapping ended;
//! this pass knows the whole tree. It runs only on the failure path.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use super::{Span, Spanned};
use crate::diagnostic::{Diagnostic, SourceFile};
use crate::rules::Rule;
use crate::suggest;

/// A YAML node, kept only for its shape.
#[derive(Debug)]
enum Node {
    Map(Vec<(Spanned<Key>, Spanned<Node>)>),
    Seq(Vec<Spanned<Node>>),
    Scalar,
}

/// A mapping key as text, whatever scalar it was written as.
#[derive(Debug, Default)]
struct Key(String);

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a scalar key")
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<Key, E> {
                Ok(Key(value.to_owned()))
            }
            fn visit_bool<E: de::Error>(self, value: bool) -> Result<Key, E> {
                Ok(Key(value.to_string()))
            }
            fn visit_i64<E: de::Error>(self, value: i64) -> Result<Key, E> {
                Ok(Key(value.to_string()))
            }
            fn visit_u64<E: de::Error>(self, value: u64) -> Result<Key, E> {
                Ok(Key(value.to_string()))
            }
            fn visit_f64<E: de::Error>(self, value: f64) -> Result<Key, E> {
                Ok(Key(value.to_string()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Key, E> {
                Ok(Key(String::new()))
            }
        }
        deserializer.deserialize_any(KeyVisitor)
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NodeVisitor;
        impl<'de> Visitor<'de> for NodeVisitor {
            type Value = Node;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any YAML node")
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Node, E> {
                Ok(Node::Scalar)
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Node, E> {
                Ok(Node::Scalar)
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Node, E> {
                Ok(Node::Scalar)
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Node, E> {
                Ok(Node::Scalar)
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Node, E> {
                Ok(Node::Scalar)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
                Ok(Node::Scalar)
            }
            fn visit_none<E: de::Error>(self) -> Result<Node, E> {
                Ok(Node::Scalar)
            }
            fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Node, D::Error> {
                Node::deserialize(deserializer)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<Spanned<Node>>()? {
                    items.push(item);
                }
                Ok(Node::Seq(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
                let mut entries = Vec::new();
                while let Some(key) = map.next_key::<Spanned<Key>>()? {
                    let value = map.next_value::<Spanned<Node>>()?;
                    entries.push((key, value));
                }
                Ok(Node::Map(entries))
            }
        }
        deserializer.deserialize_any(NodeVisitor)
    }
}

/// Every unknown and missing key of `text` against `schema` (of the configuration, of a fleet);
/// empty when the shape is right (the problem is then a value, reported by serde) or the YAML
/// does not parse.
pub(super) fn check_against(
    source: &Arc<SourceFile>,
    text: &str,
    schema: &Value,
) -> Vec<Diagnostic> {
    let options = serde_saphyr::options! {
        with_snippet: false,
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::PassThrough,
        budget: super::load::yaml_budget(),
    };
    let Ok(root) = serde_saphyr::from_str_with_options::<Spanned<Node>>(text, options) else {
        return Vec::new();
    };
    let walker = Walker {
        source,
        definitions: schema
            .get("$defs")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default(),
    };
    let mut diagnostics = Vec::new();
    walker.walk(&root, schema, None, "the file", &mut diagnostics);
    diagnostics
}

struct Walker<'a> {
    source: &'a Arc<SourceFile>,
    definitions: serde_json::Map<String, Value>,
}

impl Walker<'_> {
    /// The schema behind `$ref`s, and the object alternative of an `Option`'s `anyOf`.
    fn resolve<'s>(&'s self, schema: &'s Value) -> &'s Value {
        if let Some(name) = schema
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("#/$defs/"))
        {
            return self
                .definitions
                .get(name)
                .map_or(schema, |target| self.resolve(target));
        }
        if let Some(Value::Array(alternatives)) = schema.get("anyOf") {
            let object = alternatives
                .iter()
                .map(|alternative| self.resolve(alternative))
                .find(|alternative| {
                    alternative.get("properties").is_some()
                        || alternative.get("additionalProperties").is_some()
                });
            if let Some(object) = object {
                return object;
            }
        }
        schema
    }

    fn walk(
        &self,
        node: &Spanned<Node>,
        schema: &Value,
        key: Option<&Spanned<Key>>,
        place: &str,
        out: &mut Vec<Diagnostic>,
    ) {
        let schema = self.resolve(schema);
        match &node.value {
            Node::Map(entries) => {
                if let Some(Value::Object(properties)) = schema.get("properties") {
                    self.walk_struct(entries, properties, schema, key, place, out);
                } else if let Some(values) =
                    schema.get("additionalProperties").filter(|v| v.is_object())
                {
                    let mut seen: BTreeMap<&str, Span> = BTreeMap::new();
                    for (child_key, value) in entries {
                        if let Some(first) = seen.insert(child_key.value.0.as_str(), child_key.span)
                        {
                            out.push(duplicate_key(
                                self.source,
                                &child_key.value.0,
                                first,
                                child_key.span,
                            ));
                            continue;
                        }
                        let place = format!("`{}`", child_key.value.0);
                        self.walk(value, values, Some(child_key), &place, out);
                    }
                }
            }
            Node::Seq(items) => {
                if let Some(item_schema) = schema.get("items") {
                    for item in items {
                        self.walk(item, item_schema, key, place, out);
                    }
                }
            }
            Node::Scalar => {}
        }
    }

    fn walk_struct(
        &self,
        entries: &[(Spanned<Key>, Spanned<Node>)],
        properties: &serde_json::Map<String, Value>,
        schema: &Value,
        key: Option<&Spanned<Key>>,
        place: &str,
        out: &mut Vec<Diagnostic>,
    ) {
        let allowed: Vec<&str> = properties.keys().map(String::as_str).collect();
        let closed = schema.get("additionalProperties") == Some(&Value::Bool(false));
        let mut present: BTreeMap<&str, Span> = BTreeMap::new();
        for (child_key, value) in entries {
            let name = child_key.value.0.as_str();
            if let Some(first) = present.insert(name, child_key.span) {
                out.push(duplicate_key(self.source, name, first, child_key.span));
                continue;
            }
            match properties.get(name) {
                Some(property) => {
                    self.walk(value, property, Some(child_key), &format!("`{name}`"), out)
                }
                None if closed => out.push(unknown_key(self.source, child_key, &allowed)),
                None => {}
            }
        }
        let required = schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten();
        for name in required.filter_map(Value::as_str) {
            if present.contains_key(name) {
                continue;
            }
            let diagnostic =
                Diagnostic::new(Rule::ConfigMissingKey, format!("{place} has no `{name}`"))
                    .help(self.missing_key_help(name, properties.get(name)));
            out.push(match key {
                Some(key) => diagnostic.at(
                    self.source,
                    key.span,
                    format!("`{name}` is required in this mapping"),
                ),
                None => diagnostic.at(
                    self.source,
                    Span::new(0, 0),
                    format!("`{name}` is required at the top level"),
                ),
            });
        }
    }
}

/// An unknown key, with the closest allowed key and the list of allowed ones.
pub(super) fn unknown_key_diagnostic(
    source: &Arc<SourceFile>,
    span: Option<Span>,
    name: &str,
    allowed: &[&str],
) -> Diagnostic {
    let mut help = match suggest::closest(name, allowed.iter().copied()) {
        Some(candidate) => format!("did you mean `{candidate}`? "),
        None => String::new(),
    };
    if allowed.is_empty() {
        help.push_str("nothing may be written here");
    } else {
        help.push_str(&format!(
            "the keys allowed here are {}",
            suggest::list(allowed)
        ));
    }
    let diagnostic =
        Diagnostic::new(Rule::ConfigUnknownKey, format!("unknown key `{name}`")).help(help);
    match span {
        Some(span) => diagnostic.at(source, span, "not a key orgctl knows here"),
        None => Diagnostic {
            source: Some(Arc::clone(source)),
            ..diagnostic
        },
    }
}

fn unknown_key(source: &Arc<SourceFile>, key: &Spanned<Key>, allowed: &[&str]) -> Diagnostic {
    unknown_key_diagnostic(source, Some(key.span), &key.value.0, allowed)
}

/// A key written twice in one mapping, with both places.
fn duplicate_key(source: &Arc<SourceFile>, name: &str, first: Span, again: Span) -> Diagnostic {
    Diagnostic::new(Rule::ConfigDuplicateKey, format!("duplicate key `{name}`"))
        .at(source, again, "written a second time here")
        .also(first, "first written here")
        .help("each key may appear once per mapping; merge the two entries")
}

impl Walker<'_> {
    fn missing_key_help(&self, name: &str, property: Option<&Value>) -> String {
        let property = property.map(|property| self.resolve(property));
        let values: Vec<&str> = property
            .and_then(|p| p.get("oneOf"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|variant| variant.get("const").and_then(Value::as_str))
            .collect();
        if !values.is_empty() {
            return format!("add `{name}:` with one of {}", suggest::list(&values));
        }
        let description = property
            .and_then(|p| p.get("description"))
            .and_then(Value::as_str)
            .map(|d| d.split("\n\n").next().unwrap_or(d).replace('\n', " "));
        match description {
            Some(description) => {
                let description = description.trim_end_matches('.');
                let mut chars = description.chars();
                let lowered: String = chars
                    .next()
                    .map(|c| c.to_lowercase().chain(chars).collect())
                    .unwrap_or_default();
                format!("add `{name}:`, {lowered}")
            }
            None => format!("add `{name}:`; `orgctl schema` shows what it holds"),
        }
    }
}
