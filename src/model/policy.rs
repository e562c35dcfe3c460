//! Organization policies: documents, sizes, types, targets and attachment limits.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use indexmap::IndexMap;
use serde::Serialize;

use super::organization::Organization;
use super::{
    Account, Checker, Ou, OuPath, check_duplicate_references, limits, ou, preset, resolve_tags,
};
use crate::address::Address;
use crate::config::{
    self, ConfigFile, Payer, PolicyLifecycle, PolicySource, PolicyType, Span, Spanned,
};
use crate::diagnostic::{Diagnostic, SourceFile};
use crate::rules::Rule;
use crate::suggest;

/// An organization policy, resolved.
#[derive(Debug, Clone, Serialize)]
pub struct Policy {
    /// The policy name.
    pub name: String,
    /// Its type.
    #[serde(rename = "type")]
    pub policy_type: PolicyType,
    /// Its description.
    pub description: String,
    /// The document, minified as orgctl sends it (key order kept).
    pub document: String,
    /// Where it is attached.
    pub targets: Vec<Target>,
    /// Its tags.
    pub tags: BTreeMap<String, String>,
    /// Whether it should exist.
    pub lifecycle: PolicyLifecycle,
}

/// Where a policy is attached.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// The organization root.
    Root,
    /// An OU.
    Ou(OuPath),
    /// A member account, by name.
    Account(String),
}

impl Target {
    /// The target's address.
    pub fn address(&self) -> Address {
        match self {
            Target::Root => Address::Root,
            Target::Ou(path) => Address::ou(path),
            Target::Account(name) => Address::account(name),
        }
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.address().fmt(f)
    }
}

/// The largest document (in characters, minified) and the most policies of one type on one
/// target that AWS allows for a policy type (see [`super::policy_type::POLICY_TYPES`]).
pub fn policy_limits(policy_type: PolicyType) -> (usize, usize) {
    let row = super::policy_type::info(policy_type);
    (row.max_size, row.max_per_target)
}

/// The policy type in a sentence, plural ("SCPs", "tag policies").
pub fn type_plural(policy_type: PolicyType) -> &'static str {
    super::policy_type::info(policy_type).plural
}

/// The policy type as written in the file.
pub fn type_name(policy_type: PolicyType) -> &'static str {
    super::policy_type::info(policy_type).config_name
}

pub(super) fn resolve(
    checker: &mut Checker,
    organization: &Organization,
    ous: &IndexMap<OuPath, Ou>,
    accounts: &IndexMap<String, Account>,
    management: &Account,
    file: &ConfigFile,
    policy_files: &IndexMap<String, PolicySource>,
) -> IndexMap<String, Policy> {
    let mut policies = IndexMap::with_capacity(file.policies.len());
    let mut attached: HashMap<(Target, PolicyType), usize> = HashMap::new();
    for (name, raw) in &file.policies {
        limits::check_policy_name(checker, name);
        let policy_type = raw.policy_type.value;
        if organization.payer == Payer::Dedicated
            && !organization.enabled_policy_types.contains(&policy_type)
        {
            let mut diagnostic = checker.at(
                Rule::PolicyTypeNotEnabled,
                raw.policy_type.span,
                format!(
                    "policy `{}` is a `{}` policy, a type the organization does not enable",
                    name.value,
                    type_name(policy_type)
                ),
                "not enabled",
            );
            if let Some(first) = file.organization.enabled_policy_types.first() {
                diagnostic = diagnostic.also(first.span, "enabled policy types");
            }
            checker.push(diagnostic.help(format!(
                "add `{}` to `organization.enabled_policy_types`",
                type_name(policy_type)
            )));
        }
        let document = resolve_document(checker, name, raw, policy_files.get(&name.value));
        check_duplicate_references(
            checker,
            &raw.attach,
            &format!("the targets of policy `{}`", name.value),
        );
        let mut targets = Vec::with_capacity(raw.attach.len());
        for reference in &raw.attach {
            let Some(target) =
                resolve_target(checker, ous, accounts, management, reference, &name.value)
            else {
                continue;
            };
            if targets.contains(&target) {
                continue;
            }
            let count = attached.entry((target.clone(), policy_type)).or_default();
            *count += 1;
            let (_, most) = policy_limits(policy_type);
            if *count == most + 1 {
                let diagnostic = checker
                    .at(
                        Rule::PolicyAttachmentLimit,
                        reference.span,
                        format!(
                            "{target} would have {} {} attached; AWS allows at most {most}",
                            *count,
                            type_plural(policy_type)
                        ),
                        format!("attachment number {count}"),
                    )
                    .help(if target == Target::Root {
                        "merge policies into fewer documents, or attach some to the OUs below the root instead"
                    } else {
                        "merge policies into fewer documents, or attach some to a parent OU instead"
                    });
                checker.push(diagnostic);
            }
            targets.push(target);
        }
        policies.insert(
            name.value.clone(),
            Policy {
                name: name.value.clone(),
                policy_type,
                description: raw
                    .description
                    .as_ref()
                    .map(|d| d.value.clone())
                    .unwrap_or_default(),
                document: document.unwrap_or_default(),
                targets,
                tags: resolve_tags(
                    checker,
                    &raw.tags,
                    name.span,
                    &format!("policy `{}`", name.value),
                ),
                lifecycle: raw.lifecycle.value,
            },
        );
    }
    policies
}

/// The minified document, after checking that it is JSON within the type's size limit.
fn resolve_document(
    checker: &mut Checker,
    name: &Spanned<String>,
    raw: &config::Policy,
    file: Option<&PolicySource>,
) -> Option<String> {
    let (value, span) = match (&raw.file, &raw.document, &raw.preset) {
        (None, None, Some(preset)) => {
            let wanted = preset::policy_type(preset.value);
            if raw.policy_type.value != wanted {
                let diagnostic = checker
                    .at(
                        Rule::ConfigInvalidValue,
                        preset.span,
                        format!(
                            "policy `{}` is a `{}` policy, but the preset `{}` is a `{}` policy",
                            name.value,
                            type_name(raw.policy_type.value),
                            preset::name(preset.value),
                            type_name(wanted)
                        ),
                        "a preset of another type",
                    )
                    .also(raw.policy_type.span, "the policy's type")
                    .help(format!("write `type: {}`", type_name(wanted)));
                checker.push(diagnostic);
                return None;
            }
            // The presets are orgctl's own JSON files, tested to parse.
            let value = serde_json::from_str(preset::document(preset.value)).unwrap_or_default();
            (value, preset.span)
        }
        (Some(path), None, None) => match file? {
            PolicySource::Read(source) => match parse_json(source) {
                Ok(value) => (value, path.span),
                Err(diagnostic) => {
                    checker.push(diagnostic.help(format!(
                        "fix the JSON of policy `{}`; AWS accepts only valid JSON policy documents",
                        name.value
                    )));
                    return None;
                }
            },
            PolicySource::Unreadable {
                path: full_path,
                reason,
            } => {
                let label = if reason.contains("directory") {
                    "a directory"
                } else {
                    "this file"
                };
                let diagnostic = checker
                    .at(
                        Rule::PolicyFile,
                        path.span,
                        format!("the document of policy `{}`, `{full_path}`, {reason}", name.value),
                        label,
                    )
                    .help("name a JSON file, relative to this YAML file, e.g. `policies/deny-leave-org.json`");
                checker.push(diagnostic);
                return None;
            }
        },
        (None, Some(document), None) => match &document.value {
            serde_json::Value::String(text) => {
                match serde_json::from_str::<serde_json::Value>(text) {
                    Ok(value) => (value, document.span),
                    Err(error) => {
                        let diagnostic = checker
                        .at(
                            Rule::PolicyNotJson,
                            document.span,
                            format!(
                                "the document of policy `{}` is not JSON: {}",
                                name.value,
                                strip_json_position(&error.to_string())
                            ),
                            "not JSON",
                        )
                        .help("write the document as a YAML mapping, or as a string of valid JSON (keys in double quotes: `{\"Version\": \"2012-10-17\", ...}`)");
                        checker.push(diagnostic);
                        return None;
                    }
                }
            }
            value => (value.clone(), document.span),
        },
        _ => {
            let given: Vec<(&str, Span)> = [
                raw.file.as_ref().map(|f| ("file", f.span)),
                raw.document.as_ref().map(|d| ("document", d.span)),
                raw.preset.as_ref().map(|p| ("preset", p.span)),
            ]
            .into_iter()
            .flatten()
            .collect();
            let many = !given.is_empty();
            let names: Vec<String> = given.iter().map(|(what, _)| format!("`{what}`")).collect();
            let mut diagnostic = checker
                .at(
                    Rule::PolicySource,
                    name.span,
                    if many {
                        format!(
                            "policy `{}` has {}{}",
                            name.value,
                            if names.len() == 2 { "both " } else { "" },
                            crate::suggest::and_list(&names.iter().map(String::as_str).collect::<Vec<_>>())
                        )
                    } else {
                        format!("policy `{}` has no `file`, `document` or `preset`", name.value)
                    },
                    if many { "more than one document" } else { "no document" },
                )
                .help("give exactly one: `file: policies/name.json` (relative to this YAML), an inline `document`, or a `preset` (e.g. `preset: deny-leave-organization`)");
            for (what, span) in given {
                diagnostic = diagnostic.also(span, format!("`{what}` here"));
            }
            checker.push(diagnostic);
            return None;
        }
    };
    if !value.is_object() {
        let kind = match &value {
            serde_json::Value::Array(_) => "a list",
            serde_json::Value::String(_) => "a string",
            serde_json::Value::Number(_) => "a number",
            serde_json::Value::Bool(_) => "a boolean",
            _ => "empty",
        };
        let diagnostic = checker
            .at(
                Rule::PolicyNotJson,
                span,
                format!("the document of policy `{}` is {kind}, not a mapping of keys to values", name.value),
                format!("{kind}, not a mapping"),
            )
            .help("a policy document is a mapping: put statements under `Statement`, next to `Version: \"2012-10-17\"` (in JSON: `{\"Version\": \"2012-10-17\", \"Statement\": [...]}`)");
        checker.push(diagnostic);
        return None;
    }
    let minified = value.to_string();
    let (most, _) = policy_limits(raw.policy_type.value);
    let size = minified.chars().count();
    if size > most {
        let diagnostic = checker
            .at(
                Rule::PolicySize,
                span,
                format!(
                    "the document of policy `{}` is {size} characters (minified); a `{}` policy may have at most {most}",
                    name.value,
                    type_name(raw.policy_type.value)
                ),
                "too large",
            )
            .help("split it into several policies, or shorten it (wildcards in actions, fewer statements)");
        checker.push(diagnostic);
    }
    Some(minified)
}

fn parse_json(source: &Arc<SourceFile>) -> Result<serde_json::Value, Diagnostic> {
    serde_json::from_str(source.text()).map_err(|error| {
        let offset = source.offset_of(error.line(), error.column());
        let length = source.text()[offset..]
            .chars()
            .next()
            .map_or(0, char::len_utf8);
        let message = error.to_string();
        let message = strip_json_position(&message);
        Diagnostic::new(
            Rule::PolicyNotJson,
            format!("`{}` is not JSON: {message}", source.name()),
        )
        .at(source, Span::new(offset, length), message)
    })
}

/// serde_json appends ` at line N column M`; the label already says where.
fn strip_json_position(message: &str) -> &str {
    message
        .rfind(" at line ")
        .map_or(message, |index| &message[..index])
}

/// A policy target: `root`, an OU path, or an account name (the management account's included:
/// tag, backup and other non-SCP policies apply to it).
fn resolve_target(
    checker: &mut Checker,
    ous: &IndexMap<OuPath, Ou>,
    accounts: &IndexMap<String, Account>,
    management: &Account,
    reference: &Spanned<String>,
    policy: &str,
) -> Option<Target> {
    let written = reference.value.as_str();
    let context = format!("policy `{policy}`");
    let is_management = |name: &str| name == management.name && !accounts.contains_key(name);
    // Written as an address (`root`, `ou:…`, `account:…`), or else as a bare path or name.
    let address = written.parse::<Address>().ok();
    if address == Some(Address::Root) {
        // `root` is the organization root, unless the file also calls an OU or an account so:
        // then it is never guessed.
        let ou = ous.contains_key(&OuPath::parse(written));
        let account = accounts.contains_key(written) || is_management(written);
        if !ou && !account {
            return Some(Target::Root);
        }
        let what = if ou { "an OU" } else { "an account" };
        let (prefixed, thing) = if ou {
            (Address::ou(written), "the OU")
        } else {
            (Address::account(written), "the account")
        };
        let diagnostic = checker
            .at(
                Rule::ConfigInvalidValue,
                reference.span,
                format!("`root` is both the organization root and {what} of the file"),
                "ambiguous target",
            )
            .help(format!(
                "write `{prefixed}` for {thing}; to attach to the organization root, rename {thing} `root`"
            ));
        checker.push(diagnostic);
        return None;
    }
    if let Some(Address::Ou(path)) = address {
        let reference = Spanned::new(path, reference.span);
        return ou::resolve_reference(checker, ous, &reference, &context).map(Target::Ou);
    }
    if let Some(Address::Account(name)) = address {
        if is_management(&name) {
            return Some(Target::Account(name));
        }
        let reference = Spanned::new(name, reference.span);
        return resolve_account_reference(checker, accounts, &reference, &context)
            .map(Target::Account);
    }
    let path = OuPath::parse(written);
    let account = accounts.contains_key(written) || is_management(written);
    match (ous.contains_key(&path), account) {
        (true, false) => Some(Target::Ou(path)),
        (false, true) => Some(Target::Account(written.to_owned())),
        (true, true) => {
            let diagnostic = checker
                .at(
                    Rule::ConfigInvalidValue,
                    reference.span,
                    format!("`{written}` is both an OU and an account"),
                    "ambiguous target",
                )
                .help(format!(
                    "write `{}` or `{}`",
                    Address::ou(written),
                    Address::account(written)
                ));
            checker.push(diagnostic);
            None
        }
        (false, false) if written.contains('/') => {
            ou::resolve_reference(checker, ous, reference, &context).map(Target::Ou)
        }
        (false, false) => {
            let names = accounts
                .keys()
                .map(String::as_str)
                .chain(ous.keys().map(OuPath::as_str));
            let help = match suggest::closest(written, names) {
                Some(candidate) => format!(
                    "did you mean `{candidate}`? targets are `root`, OU paths and account names"
                ),
                None => "targets are `root`, OU paths (e.g. `Workloads/Prod`) and account names"
                    .to_owned(),
            };
            let diagnostic = checker
                .at(
                    Rule::UnknownAccount,
                    reference.span,
                    format!("policy `{policy}` is attached to `{written}`, which is neither an OU nor an account of the file"),
                    "unknown target",
                )
                .help(help);
            checker.push(diagnostic);
            None
        }
    }
}

/// Resolves a reference to an account name, reporting an unknown one with the closest name.
pub(super) fn resolve_account_reference(
    checker: &mut Checker,
    accounts: &IndexMap<String, Account>,
    reference: &Spanned<String>,
    context: &str,
) -> Option<String> {
    if accounts.contains_key(&reference.value) {
        return Some(reference.value.clone());
    }
    let help = match suggest::closest(&reference.value, accounts.keys().map(String::as_str)) {
        Some(candidate) => format!("did you mean `{candidate}`?"),
        None => "declare the account under `accounts`".to_owned(),
    };
    let diagnostic = checker
        .at(
            Rule::UnknownAccount,
            reference.span,
            format!(
                "{context} names the account `{}`, which the file does not declare",
                reference.value
            ),
            "no such account",
        )
        .help(help);
    checker.push(diagnostic);
    None
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::super::policy_type::{POLICY_TYPES, PolicyTypeInfo};
    use crate::rules::Rule;

    /// The rules broken by a configuration enabling `row`'s type, with the given policies of that
    /// type (each a name, its document and the OUs it is attached to) under one OU, `Apps`.
    fn rules(row: &PolicyTypeInfo, policies: &[(String, String, &str)]) -> Vec<Rule> {
        let mut text = format!(
            r#"organization:
  name: example
  business_model: direct
  payer: dedicated
  operator: customer
  customer: {{ name: Example, email_domain: acme-corp.net }}
  management_account: {{ name: management, email: management@acme-corp.net, id: "111111111111" }}
  email_template: "{{account}}@{{domain}}"
  enabled_policy_types: [service_control, {}]
organizational_units:
  Apps: {{}}
policies:
"#,
            row.config_name
        );
        let mut files = BTreeMap::new();
        for (name, document, attach) in policies {
            text.push_str(&format!(
                "  {name}:\n    type: {}\n    file: {name}.json\n    attach: [{attach}]\n",
                row.config_name
            ));
            files.insert(format!("{name}.json"), document.clone());
        }
        let config =
            crate::config::load_in_memory("orgctl.yaml", &text, std::path::Path::new("."), &files)
                .expect("the configuration loads");
        let context = super::super::Context {
            today: chrono::NaiveDate::from_ymd_opt(2026, 11, 30).expect("a date"),
        };
        super::super::resolve(&config, &context)
            .diagnostics
            .iter()
            .map(|diagnostic| diagnostic.rule)
            .collect()
    }

    /// A JSON document of exactly `characters` characters, minified.
    fn document(characters: usize) -> String {
        // `{"x":""}` is 8 characters; the value fills the rest.
        let document = format!(r#"{{"x":"{}"}}"#, "a".repeat(characters - 8));
        assert_eq!(document.chars().count(), characters);
        document
    }

    #[test]
    fn every_type_takes_a_document_at_its_size_limit_and_refuses_one_character_more() {
        for row in &POLICY_TYPES {
            let at = rules(row, &[("at".to_owned(), document(row.max_size), "Apps")]);
            assert_eq!(at, [], "{}: {} characters", row.config_name, row.max_size);
            let over = rules(
                row,
                &[("over".to_owned(), document(row.max_size + 1), "Apps")],
            );
            assert_eq!(
                over,
                [Rule::PolicySize],
                "{}: {} characters",
                row.config_name,
                row.max_size + 1
            );
        }
    }

    #[test]
    fn every_type_takes_its_limit_of_attachments_to_one_target_and_refuses_one_more() {
        for row in &POLICY_TYPES {
            let policies = |count: usize| -> Vec<(String, String, &str)> {
                (0..count)
                    .map(|n| (format!("p{n}"), format!(r#"{{"n":{n}}}"#), "Apps"))
                    .collect()
            };
            let at = rules(row, &policies(row.max_per_target));
            assert_eq!(at, [], "{}: {}", row.config_name, row.max_per_target);
            let over = rules(row, &policies(row.max_per_target + 1));
            assert_eq!(
                over,
                [Rule::PolicyAttachmentLimit],
                "{}: {}",
                row.config_name,
                row.max_per_target + 1
            );
        }
    }
}
