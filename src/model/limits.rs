//! AWS's own limits on names, tags and ids, checked before any call.

use super::Checker;
use crate::config::{Span, Spanned, Tags};
use crate::rules::Rule;

/// AWS allows at most 50 tags on a resource.
pub const MAX_TAGS: usize = 50;

/// `CreateAccount`'s `AccountName`: 1–50 printable ASCII characters.
pub(super) fn check_account_name(checker: &mut Checker, name: &Spanned<String>) {
    let value = &name.value;
    let problem = if value.is_empty() || value.len() > 50 {
        Some(format!(
            "is {} characters long; AWS allows 1 to 50",
            value.chars().count()
        ))
    } else {
        value.chars().find(|c| !(' '..='~').contains(c)).map(|bad| {
            format!(
                "contains `{}`; AWS allows printable ASCII only",
                bad.escape_default()
            )
        })
    };
    if let Some(problem) = problem {
        report_name(checker, name, "account", &problem);
    }
}

/// OU names: 1–128 characters, and no `/` (orgctl writes OU references as paths).
pub(super) fn check_ou_name(checker: &mut Checker, name: &Spanned<String>) {
    let length = name.value.chars().count();
    let problem = if length == 0 || length > 128 {
        Some(format!("is {length} characters long; AWS allows 1 to 128"))
    } else if name.value.contains('/') {
        Some(
            "contains `/`, which separates OU names in paths; nest the OU under `children` instead"
                .to_owned(),
        )
    } else {
        None
    };
    if let Some(problem) = problem {
        report_name(checker, name, "OU", &problem);
    }
}

/// Policy names: 1–128 characters.
pub(super) fn check_policy_name(checker: &mut Checker, name: &Spanned<String>) {
    let length = name.value.chars().count();
    if length == 0 || length > 128 {
        report_name(
            checker,
            name,
            "policy",
            &format!("is {length} characters long; AWS allows 1 to 128"),
        );
    }
}

fn report_name(checker: &mut Checker, name: &Spanned<String>, kind: &str, problem: &str) {
    let diagnostic = checker
        .at(
            Rule::NameInvalid,
            name.span,
            format!("the {kind} name `{}` {problem}", name.value),
            "invalid name",
        )
        .help(format!("rename the {kind}; AWS rejects this name"));
    checker.push(diagnostic);
}

/// The tag character set of AWS: letters, numbers, spaces and `_ . : / = + - @`.
fn tag_character_allowed(c: char) -> bool {
    c.is_alphanumeric() || c.is_whitespace() || "_.:/=+-@".contains(c)
}

/// Tag count, key and value limits of AWS Organizations.
pub(super) fn check_tags(checker: &mut Checker, tags: &Tags, owner_span: Span) {
    if tags.len() > MAX_TAGS {
        let first_extra = tags.keys().nth(MAX_TAGS).map_or(owner_span, |key| key.span);
        let diagnostic = checker
            .at(
                Rule::TagCount,
                first_extra,
                format!(
                    "{} tags on one resource; AWS allows at most {MAX_TAGS}",
                    tags.len()
                ),
                format!("tag number {} of {}", MAX_TAGS + 1, tags.len()),
            )
            .also(owner_span, "on this resource")
            .help("remove tags, or combine related ones into one value");
        checker.push(diagnostic);
    }
    for (key, value) in tags {
        let key_length = key.value.chars().count();
        let key_problem = if key_length == 0 || key_length > 128 {
            Some(format!(
                "is {key_length} characters long; AWS allows 1 to 128"
            ))
        } else if key.value.to_ascii_lowercase().starts_with("aws:") {
            Some("starts with `aws:`, which AWS reserves for its own tags".to_owned())
        } else {
            key.value
                .chars()
                .find(|c| !tag_character_allowed(*c))
                .map(|c| format!("contains `{}`", c.escape_default()))
        };
        if let Some(problem) = key_problem {
            let diagnostic = checker
                .at(Rule::TagKey, key.span, format!("the tag key `{}` {problem}", key.value), "invalid tag key")
                .help("tag keys are 1–128 letters, digits, spaces and `_ . : / = + - @`, not starting with `aws:`");
            checker.push(diagnostic);
        }
        let value_length = value.value.chars().count();
        let value_problem = if value_length > 256 {
            Some(format!(
                "is {value_length} characters long; AWS allows up to 256"
            ))
        } else {
            value
                .value
                .chars()
                .find(|c| !tag_character_allowed(*c))
                .map(|c| format!("contains `{}`", c.escape_default()))
        };
        if let Some(problem) = value_problem {
            let diagnostic = checker
                .at(
                    Rule::TagValue,
                    value.span,
                    format!("the value of tag `{}` {problem}", key.value),
                    "invalid tag value",
                )
                .help("tag values are up to 256 letters, digits, spaces and `_ . : / = + - @`");
            checker.push(diagnostic);
        }
    }
}

/// Account ids are 12 digits.
pub(super) fn check_account_id(checker: &mut Checker, id: &Spanned<String>, whose: &str) {
    if id.value.len() == 12 && id.value.bytes().all(|b| b.is_ascii_digit()) {
        return;
    }
    let help = "AWS account ids are exactly 12 digits; write them quoted, e.g. \"012345678901\", so that YAML keeps leading zeros";
    let diagnostic = checker
        .at(
            Rule::AccountId,
            id.span,
            format!("`{}` is not an account id ({whose})", id.value),
            "not 12 digits",
        )
        .help(help);
    checker.push(diagnostic);
}

/// OU ids look like `ou-ab12-cd34ef56`.
pub(super) fn check_ou_id(checker: &mut Checker, id: &Spanned<String>) {
    let valid = id
        .value
        .strip_prefix("ou-")
        .and_then(|rest| rest.split_once('-'))
        .is_some_and(|(root, unit)| {
            (4..=32).contains(&root.len())
                && (8..=32).contains(&unit.len())
                && root
                    .bytes()
                    .chain(unit.bytes())
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        });
    if !valid {
        let diagnostic = checker
            .at(Rule::ConfigInvalidValue, id.span, format!("`{}` is not an OU id", id.value), "not an OU id")
            .help("OU ids look like `ou-ab12-cd34ef56`; copy it from `orgctl export` or the AWS console");
        checker.push(diagnostic);
    }
}

/// IAM role names: `[\w+=,.@-]{1,64}`.
pub(super) fn check_role_name(checker: &mut Checker, name: &Spanned<String>) {
    let valid = (1..=64).contains(&name.value.len())
        && name
            .value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c));
    if !valid {
        let diagnostic = checker
            .at(
                Rule::RoleName,
                name.span,
                format!("`{}` is not a valid IAM role name", name.value),
                "invalid role name",
            )
            .help("IAM role names are 1–64 letters, digits and `_ + = , . @ -`");
        checker.push(diagnostic);
    }
}
