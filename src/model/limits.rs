//! AWS's own limits on names, tags and ids, checked before any call.

use super::Checker;
use crate::config::{Span, Spanned, Tags};
use crate::rules::Rule;
use crate::suggest::disallowed_chars;

/// AWS allows at most 50 tags on a resource.
pub const MAX_TAGS: usize = 50;

/// `CreateAccount`'s `AccountName`: 1–50 printable ASCII characters.
pub(super) fn check_account_name(checker: &mut Checker, name: &Spanned<String>) {
    check_length(checker, name, "account", 50);
    if let Some(bad) = disallowed_chars(&name.value, |c| (' '..='~').contains(&c)) {
        report_name(
            checker,
            name,
            format!(
                "the account name `{}` contains {bad}; AWS allows printable ASCII only",
                name.value
            ),
            "not printable ASCII",
            "use letters, digits, spaces and ASCII punctuation only".to_owned(),
        );
    }
}

/// OU names: 1–128 characters, and no `/` (orgctl writes OU references as paths).
pub(super) fn check_ou_name(checker: &mut Checker, name: &Spanned<String>) {
    check_length(checker, name, "OU", 128);
    if let Some((parent, child)) = name.value.split_once('/') {
        report_name(
            checker,
            name,
            format!(
                "the OU name `{}` contains `/`, which orgctl uses to separate OU paths",
                name.value
            ),
            "contains `/`",
            format!("nest it instead: `{parent}: {{ children: {{ {child}: {{}} }} }}`"),
        );
    }
}

/// The name of the service control policy orgctl records its lease in (see `live::lease`):
/// no configuration may declare a policy of this name.
pub const LEASE_POLICY_NAME: &str = "orgctl-lease";

/// Policy names: 1–128 characters, and not orgctl's own lease policy.
pub(super) fn check_policy_name(checker: &mut Checker, name: &Spanned<String>) {
    check_length(checker, name, "policy", 128);
    if name.value == LEASE_POLICY_NAME {
        let diagnostic = checker
            .at(
                Rule::NameInvalid,
                name.span,
                format!("`{LEASE_POLICY_NAME}` is the name of orgctl's own lease policy"),
                "reserved name",
            )
            .help("give the policy another name: orgctl creates and deletes the policy of this name around every apply");
        checker.push(diagnostic);
    }
}

fn check_length(checker: &mut Checker, name: &Spanned<String>, kind: &str, most: usize) {
    let length = name.value.chars().count();
    if length == 0 {
        report_name(
            checker,
            name,
            format!("a {kind} name is empty"),
            "empty name",
            format!("name the {kind}: AWS needs 1 to {most} characters"),
        );
    } else if length > most {
        report_name(
            checker,
            name,
            format!(
                "the {kind} name `{}` is {length} characters long; AWS allows at most {most}",
                name.value
            ),
            format!("{length} characters"),
            format!("shorten it to at most {most} characters"),
        );
    }
}

fn report_name(
    checker: &mut Checker,
    name: &Spanned<String>,
    message: String,
    label: impl Into<String>,
    help: String,
) {
    let diagnostic = checker
        .at(Rule::NameInvalid, name.span, message, label)
        .help(help);
    checker.push(diagnostic);
}

/// Whether a tag key is in AWS's reserved `aws:` namespace: AWS sets such tags (CloudFormation,
/// Control Tower), and nobody else can set or remove them.
pub fn is_aws_tag(key: &str) -> bool {
    key.get(..4)
        .is_some_and(|prefix| prefix.eq_ignore_ascii_case("aws:"))
}

/// The prefix of the tags orgctl keeps for itself (`orgctl:lease` on the root, the lease of older
/// versions; `orgctl:iam` on accounts whose IAM it manages; `orgctl:managed` on roles and users it
/// created).
pub const ORGCTL_TAG_PREFIX: &str = "orgctl:";

/// Whether a tag belongs to AWS or to orgctl itself rather than to the file.
pub fn is_reserved_tag(key: &str) -> bool {
    is_aws_tag(key)
        || key
            .get(..ORGCTL_TAG_PREFIX.len())
            .is_some_and(|prefix| prefix.eq_ignore_ascii_case(ORGCTL_TAG_PREFIX))
}

/// The tag character set of AWS: letters, numbers, spaces and `_ . : / = + - @`.
fn tag_character_allowed(c: char) -> bool {
    c.is_alphanumeric() || c == ' ' || "_.:/=+-@".contains(c)
}

/// Tag count, key and value limits of AWS Organizations; `owner` names the tagged resource.
pub(super) fn check_tags(checker: &mut Checker, tags: &Tags, owner_span: Span, owner: &str) {
    if tags.len() > MAX_TAGS {
        let first_extra = tags.keys().nth(MAX_TAGS).map_or(owner_span, |key| key.span);
        let diagnostic = checker
            .at(
                Rule::TagCount,
                first_extra,
                format!(
                    "{owner} has {} tags; AWS allows at most {MAX_TAGS}",
                    tags.len()
                ),
                format!("tag number {}", MAX_TAGS + 1),
            )
            .also(owner_span, "on this resource")
            .help(match tags.len() - MAX_TAGS {
                1 => "remove a tag, or combine related ones into one value".to_owned(),
                extra => format!("remove {extra} tags, or combine related ones into one value"),
            });
        checker.push(diagnostic);
    }
    for (key, value) in tags {
        let key_length = key.value.chars().count();
        let key_problem = if key_length == 0 || key_length > 128 {
            Some(format!(
                "is {key_length} characters long; AWS allows 1 to 128"
            ))
        } else if is_aws_tag(&key.value) {
            Some("starts with `aws:`, which AWS reserves for its own tags".to_owned())
        } else if is_reserved_tag(&key.value) {
            Some("starts with `orgctl:`, which orgctl reserves for its own tags".to_owned())
        } else {
            disallowed_chars(&key.value, tag_character_allowed).map(|bad| format!("contains {bad}"))
        };
        if let Some(problem) = key_problem {
            let diagnostic = checker
                .at(Rule::TagKey, key.span, format!("the tag key `{}` of {owner} {problem}", key.value), "invalid tag key")
                .help("tag keys are 1–128 letters, digits, spaces and `_ . : / = + - @`, not starting with `aws:`");
            checker.push(diagnostic);
        }
        let value_length = value.value.chars().count();
        let value_problem = if value_length > 256 {
            Some(format!(
                "is {value_length} characters long; AWS allows up to 256"
            ))
        } else {
            disallowed_chars(&value.value, tag_character_allowed)
                .map(|bad| format!("contains {bad}"))
        };
        if let Some(problem) = value_problem {
            let diagnostic = checker
                .at(
                    Rule::TagValue,
                    value.span,
                    format!("the value of tag `{}` of {owner} {problem}", key.value),
                    "invalid tag value",
                )
                .help("tag values are up to 256 letters, digits, spaces and `_ . : / = + - @`");
            checker.push(diagnostic);
        }
    }
}

/// Account ids are 12 digits; `whose` says whose id it is ("the id of `acme-prod`").
pub(super) fn check_account_id(checker: &mut Checker, id: &Spanned<String>, whose: &str) {
    let digits: String = id.value.chars().filter(char::is_ascii_digit).collect();
    if id.value.len() == 12 && digits.len() == 12 {
        return;
    }
    let (problem, help) = if digits.len() == 12 {
        (
            "is not written as 12 plain digits".to_owned(),
            format!("remove the separators: `\"{digits}\"`"),
        )
    } else if digits.len() == id.value.len() {
        (
            format!("has {} digits, not 12", digits.len()),
            "AWS account ids are exactly 12 digits; write them quoted, e.g. \"012345678901\", so that YAML keeps leading zeros".to_owned(),
        )
    } else {
        (
            "is not 12 digits".to_owned(),
            "AWS account ids are exactly 12 digits, e.g. \"111122223333\"".to_owned(),
        )
    };
    let diagnostic = checker
        .at(
            Rule::AccountId,
            id.span,
            format!("{whose}, `{}`, {problem}", id.value),
            "not an account id",
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
            .help("OU ids look like `ou-ab12-cd34ef56`; `aws organizations list-organizational-units-for-parent` lists them");
        checker.push(diagnostic);
    }
}

/// What is wrong with an AWS identifier of `lengths` characters from `[A-Za-z0-9]` and
/// `punctuation`, if anything ("is 70 characters long; IAM allows 1 to 64", "contains a space").
fn identifier_problem(
    value: &str,
    lengths: std::ops::RangeInclusive<usize>,
    punctuation: &str,
    service: &str,
) -> Option<String> {
    let length = value.chars().count();
    if !lengths.contains(&length) {
        return Some(format!(
            "is {length} characters long; {service} allows {} to {}",
            lengths.start(),
            lengths.end()
        ));
    }
    disallowed_chars(value, |c| {
        c.is_ascii_alphanumeric() || punctuation.contains(c)
    })
    .map(|bad| format!("contains {bad}"))
}

/// IAM role names: `[\w+=,.@-]{1,64}`.
pub(super) fn check_role_name(checker: &mut Checker, name: &Spanned<String>) {
    if let Some(problem) = identifier_problem(&name.value, 1..=64, "_+=,.@-", "IAM") {
        let diagnostic = checker
            .at(
                Rule::RoleName,
                name.span,
                format!("the IAM role name `{}` {problem}", name.value),
                "invalid role name",
            )
            .help("IAM role names are 1–64 letters, digits and `_ + = , . @ -`, e.g. `PartnerOperations`");
        checker.push(diagnostic);
    }
}

/// IAM user names: 1–64 of `[\w+=,.@-]`.
pub(super) fn check_user_name(checker: &mut Checker, name: &Spanned<String>) {
    if let Some(problem) = identifier_problem(&name.value, 1..=64, "_+=,.@-", "IAM") {
        let diagnostic = checker
            .at(
                Rule::RoleName,
                name.span,
                format!("the IAM user name `{}` {problem}", name.value),
                "invalid user name",
            )
            .help("IAM user names are 1–64 letters, digits and `_ + = , . @ -`, e.g. `acme-admin`");
        checker.push(diagnostic);
    }
}

/// STS external ids: 2–1224 characters of `[\w+=,.@:/-]`.
pub(super) fn check_external_id(checker: &mut Checker, external_id: &Spanned<String>) {
    if let Some(problem) = identifier_problem(&external_id.value, 2..=1224, "_+=,.@:/-", "STS") {
        let diagnostic = checker
            .at(
                Rule::ConfigInvalidValue,
                external_id.span,
                format!("the external id {problem}"),
                "invalid external id",
            )
            .help("external ids are 2–1224 letters, digits and `_ + = , . @ : / -`");
        checker.push(diagnostic);
    }
}

/// IAM policy ARNs: `arn:<partition>:iam::<aws|account id>:policy/<path and name>`.
pub(super) fn check_policy_arn(checker: &mut Checker, arn: &Spanned<String>) {
    let parts: Vec<&str> = arn.value.splitn(6, ':').collect();
    let valid = matches!(
        parts.as_slice(),
        ["arn", partition, "iam", "", owner, resource]
            if partition.starts_with("aws")
                && (*owner == "aws" || (owner.len() == 12 && owner.bytes().all(|b| b.is_ascii_digit())))
                && resource.strip_prefix("policy/").is_some_and(|name| !name.is_empty())
    );
    if !valid {
        let diagnostic = checker
            .at(
                Rule::PartnerPolicyArn,
                arn.span,
                format!("`{}` is not an IAM managed policy ARN", arn.value),
                "not a policy ARN",
            )
            .help("write the full ARN, e.g. `arn:aws:iam::aws:policy/ReadOnlyAccess`");
        checker.push(diagnostic);
    }
}
