//! The IAM policies in `iam/` are generated from the AWS calls the code makes, and checked:
//! every operation called on an AWS SDK client in `src/` (`.list_accounts()` is
//! `organizations:ListAccounts`) must be allowed by the right policy, and no policy may allow an
//! action the code never calls.
//!
//! - `iam/orgctl-plan.json`: the reads (Describe, List, Get) in the management account, and
//!   `sts:AssumeRole` of the member access role (plans read the IAM orgctl made in members).
//!   `plan`, `drift`, `export` and `import` need nothing more.
//! - `iam/orgctl-apply.json`: the same, and every write.
//! - `iam/orgctl-member.json`: the IAM calls made inside member accounts, with the member access
//!   role's credentials: what that role must allow.
//!
//! The operations are the SDK crates' own (`src/operation/` of each, with AWS's name of each);
//! a call whose name several services share (`create_policy`) is given the service of its client.
//! After a change to the calls, regenerate the files with
//! `UPDATE_IAM_POLICIES=1 cargo test --test it permissions`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use serde_json::{Value, json};

use crate::common;

/// The AWS SDK crates orgctl calls AWS through, and the prefix of their IAM actions.
const SERVICES: [(&str, &str); 4] = [
    ("aws-sdk-organizations", "organizations"),
    ("aws-sdk-iam", "iam"),
    ("aws-sdk-account", "account"),
    ("aws-sdk-sts", "sts"),
];

/// How orgctl's code names its clients, for calls whose name several services share.
const CLIENTS: [(&str, &str); 5] = [
    ("self.client", "organizations"),
    ("self.client()", "organizations"),
    ("self.aws.client", "organizations"),
    ("self.aws.client()", "organizations"),
    ("self.account", "account"),
];

/// Actions AWS checks on top of the one called: a creation with tags also needs the tagging
/// action (Organizations' CreateAccount, CreateOrganizationalUnit and CreatePolicy reference:
/// "If the request includes tags, then the requester must have the organizations:TagResource
/// permission"; IAM: tagging an entity as it is created needs `iam:Tag<Entity>`). orgctl tags
/// everything it creates.
const IMPLIED: [(&str, &str); 5] = [
    ("organizations:CreateAccount", "organizations:TagResource"),
    (
        "organizations:CreateOrganizationalUnit",
        "organizations:TagResource",
    ),
    ("organizations:CreatePolicy", "organizations:TagResource"),
    ("iam:CreateRole", "iam:TagRole"),
    ("iam:CreateUser", "iam:TagUser"),
];

/// The action STS is asked for when orgctl assumes a role (`AssumeRoleProvider`).
const ASSUME_ROLE: &str = "sts:AssumeRole";

/// The checked-in policies, relative to the crate root.
const PLAN: &str = "iam/orgctl-plan.json";
const APPLY: &str = "iam/orgctl-apply.json";
const MEMBER: &str = "iam/orgctl-member.json";

/// Every operation of the SDK crates: its snake_case name, and its action in each service that
/// has an operation of that name.
type Operations = BTreeMap<String, Vec<(String, String)>>;

/// One AWS call in the source.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Call {
    /// `organizations:ListAccounts`.
    action: String,
    /// Where: `src/live/aws.rs:189`.
    place: String,
}

fn operations() -> &'static Operations {
    static OPERATIONS: OnceLock<Operations> = OnceLock::new();
    OPERATIONS.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let output = Command::new(cargo)
            .args(["metadata", "--format-version", "1", "--offline", "--locked"])
            .current_dir(common::root())
            .output()
            .expect("cargo metadata runs");
        assert!(
            output.status.success(),
            "cargo metadata failed: {}",
            common::describe(&output)
        );
        let metadata: Value = serde_json::from_slice(&output.stdout).expect("metadata is JSON");
        let mut operations = Operations::new();
        for (krate, prefix) in SERVICES {
            let manifests: Vec<&str> = metadata["packages"]
                .as_array()
                .expect("a package list")
                .iter()
                .filter(|package| package["name"] == krate)
                .filter_map(|package| package["manifest_path"].as_str())
                .collect();
            assert!(
                !manifests.is_empty(),
                "{krate} is not among the dependencies"
            );
            for manifest in manifests {
                let directory = Path::new(manifest)
                    .parent()
                    .expect("a manifest's folder")
                    .join("src/operation");
                let mut found = 0;
                for entry in std::fs::read_dir(&directory).expect("the SDK's operations") {
                    let path = entry.expect("a directory entry").path();
                    let (Some(stem), Some("rs")) = (
                        path.file_stem().and_then(|s| s.to_str()),
                        path.extension().and_then(|s| s.to_str()),
                    ) else {
                        continue;
                    };
                    let text = std::fs::read_to_string(&path).expect("an operation's source");
                    if let Some(name) = aws_name(&text) {
                        let actions = operations.entry(stem.to_owned()).or_default();
                        let action = (prefix.to_owned(), format!("{prefix}:{name}"));
                        if !actions.contains(&action) {
                            actions.push(action);
                        }
                        found += 1;
                    }
                }
                assert!(found > 0, "no operations in {}", directory.display());
            }
        }
        operations
    })
}

/// AWS's name of the operation an SDK operation module defines: the first argument of its
/// `Metadata::new("ListAccounts", "Organizations")`.
fn aws_name(source: &str) -> Option<String> {
    let after = &source[source.find("Metadata::new(")? + "Metadata::new(".len()..];
    let start = after.find('"')? + 1;
    let length = after[start..].find('"')?;
    Some(after[start..start + length].to_owned())
}

/// The source without comments and literals (each character of them a space, lines kept).
fn strip(source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    let mut out = String::with_capacity(source.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        let after_identifier = i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_');
        // The end (exclusive) of a comment or literal starting at `i`, if one does.
        let end = if c == '/' && next == Some('/') {
            Some(
                chars[i..]
                    .iter()
                    .position(|&c| c == '\n')
                    .map_or(chars.len(), |n| i + n),
            )
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            let mut j = i;
            while j < chars.len() {
                if chars[j] == '/' && chars.get(j + 1) == Some(&'*') {
                    depth += 1;
                    j += 2;
                } else if chars[j] == '*' && chars.get(j + 1) == Some(&'/') {
                    depth -= 1;
                    j += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    j += 1;
                }
            }
            Some(j.min(chars.len()))
        } else if !after_identifier && (c == 'r' || (c == 'b' && next == Some('r'))) {
            let start = if c == 'b' { i + 2 } else { i + 1 };
            let hashes = chars[start..].iter().take_while(|&&c| c == '#').count();
            if chars.get(start + hashes) == Some(&'"') {
                let closing: Vec<char> = std::iter::once('"')
                    .chain(std::iter::repeat_n('#', hashes))
                    .collect();
                let body = start + hashes + 1;
                Some(
                    (body..chars.len())
                        .find(|&j| chars[j..].starts_with(&closing))
                        .map_or(chars.len(), |j| j + closing.len()),
                )
            } else {
                None
            }
        } else if c == '"' {
            let mut j = i + 1;
            while j < chars.len() && chars[j] != '"' {
                j += if chars[j] == '\\' { 2 } else { 1 };
            }
            Some((j + 1).min(chars.len()))
        } else if c == '\'' && next == Some('\\') {
            Some(
                chars[i + 2..]
                    .iter()
                    .position(|&c| c == '\'')
                    .map_or(chars.len(), |n| i + 3 + n),
            )
        } else if c == '\'' && chars.get(i + 2) == Some(&'\'') {
            Some(i + 3)
        } else {
            None
        };
        match end {
            Some(end) => {
                out.extend(chars[i..end].iter().map(|&c| blank(c)));
                i = end;
            }
            None => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Identifier(String),
    Punctuation(char),
}

/// The tokens of stripped source, each with its line (1-based).
fn tokens(code: &str) -> Vec<(Token, usize)> {
    let chars: Vec<char> = code.chars().collect();
    let mut tokens = Vec::new();
    let mut line = 1;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if c.is_alphanumeric() || c == '_' {
            let length = chars[i..]
                .iter()
                .take_while(|c| c.is_alphanumeric() || **c == '_')
                .count();
            tokens.push((
                Token::Identifier(chars[i..i + length].iter().collect()),
                line,
            ));
            i += length;
        } else {
            tokens.push((Token::Punctuation(c), line));
            i += 1;
        }
    }
    tokens
}

/// The receiver of the method call whose `.` is at `dot`: `self.client()`, `client`.
fn receiver(tokens: &[(Token, usize)], dot: usize) -> String {
    let mut parts = Vec::new();
    let mut i = dot;
    loop {
        match (
            i.checked_sub(3).map(|j| &tokens[j].0),
            i.checked_sub(2).map(|j| &tokens[j].0),
            i.checked_sub(1).map(|j| &tokens[j].0),
        ) {
            (
                Some(Token::Identifier(name)),
                Some(Token::Punctuation('(')),
                Some(Token::Punctuation(')')),
            ) => {
                parts.push(format!("{name}()"));
                i -= 3;
            }
            (_, _, Some(Token::Identifier(name))) => {
                parts.push(name.clone());
                i -= 1;
            }
            _ => break,
        }
        if i > 0 && tokens[i - 1].0 == Token::Punctuation('.') {
            i -= 1;
        } else {
            break;
        }
    }
    parts.reverse();
    parts.join(".")
}

/// The AWS calls in one source file (`file` names it in errors): each zero-argument method call
/// named as an SDK operation (the fluent builders take their arguments afterwards), and each
/// `AssumeRoleProvider` built.
fn scan(file: &str, source: &str, operations: &Operations) -> Result<Vec<Call>, String> {
    let tokens = tokens(&strip(source));
    let identifier = |i: usize| match tokens.get(i) {
        Some((Token::Identifier(name), _)) => Some(name.as_str()),
        _ => None,
    };
    let punctuation =
        |i: usize, c: char| tokens.get(i).map(|t| &t.0) == Some(&Token::Punctuation(c));
    // The services the file names: `aws_sdk_iam`, or a path through an alias, `iam::Client`.
    let named: BTreeSet<&str> = SERVICES
        .iter()
        .map(|(_, prefix)| *prefix)
        .filter(|prefix| {
            (0..tokens.len()).any(|i| {
                identifier(i) == Some(&format!("aws_sdk_{prefix}"))
                    || (identifier(i) == Some(prefix) && punctuation(i + 1, ':'))
            })
        })
        .collect();
    let mut calls = Vec::new();
    for (i, (token, line)) in tokens.iter().enumerate() {
        let place = format!("{file}:{line}");
        if token == &Token::Identifier("AssumeRoleProvider".to_owned())
            && punctuation(i + 1, ':')
            && identifier(i + 3) == Some("builder")
        {
            calls.push(Call {
                action: ASSUME_ROLE.to_owned(),
                place,
            });
            continue;
        }
        if token != &Token::Punctuation('.') || !punctuation(i + 2, '(') || !punctuation(i + 3, ')')
        {
            continue;
        }
        let Some(candidates) = identifier(i + 1).and_then(|name| operations.get(name)) else {
            continue;
        };
        let receiver = receiver(&tokens, i);
        let client = CLIENTS
            .iter()
            .find(|(expression, _)| *expression == receiver)
            .map(|(_, service)| *service);
        let narrowed: Vec<&(String, String)> = if candidates.len() == 1 {
            candidates.iter().collect()
        } else {
            candidates
                .iter()
                .filter(|(service, _)| {
                    client.map_or(named.contains(service.as_str()), |c| c == service)
                })
                .collect()
        };
        match narrowed.as_slice() {
            [(_, action)] => calls.push(Call {
                action: action.clone(),
                place,
            }),
            _ => {
                return Err(format!(
                    "{place}: `{receiver}.{}()` could be any of {:?}; name its client in CLIENTS",
                    identifier(i + 1).unwrap_or_default(),
                    candidates.iter().map(|(_, a)| a).collect::<Vec<_>>()
                ));
            }
        }
    }
    Ok(calls)
}

/// The `.rs` files below `dir`, sorted, as paths relative to the crate root.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(common::root().join(&dir)).expect("a source folder") {
            let name = entry.expect("a directory entry").file_name();
            let path = dir.join(name);
            if common::root().join(&path).is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The calls of every file of `src/`, with `extra` sources (name, text) added.
fn calls_in_src(extra: &[(&str, &str)]) -> Vec<Call> {
    let mut calls = Vec::new();
    for path in sources(Path::new("src")) {
        let text = std::fs::read_to_string(common::root().join(&path)).expect("a source file");
        calls.extend(
            scan(&path.to_string_lossy(), &text, operations()).unwrap_or_else(|e| panic!("{e}")),
        );
    }
    for (name, text) in extra {
        calls.extend(scan(name, text, operations()).unwrap_or_else(|e| panic!("{e}")));
    }
    calls
}

/// Describe, List and Get: the calls that change nothing.
fn reads(action: &str) -> bool {
    let verb = action.split_once(':').map_or(action, |(_, verb)| verb);
    ["Describe", "List", "Get"]
        .iter()
        .any(|prefix| verb.starts_with(prefix))
}

/// The three policies `calls` need, by file.
fn policies(calls: &[Call]) -> BTreeMap<&'static str, Value> {
    let mut actions: BTreeSet<String> = calls.iter().map(|call| call.action.clone()).collect();
    for (called, implied) in IMPLIED {
        if actions.contains(called) {
            actions.insert(implied.to_owned());
        }
    }
    let member = |action: &&String| action.starts_with("iam:");
    let management: Vec<&String> = actions
        .iter()
        .filter(|a| !member(a) && a.as_str() != ASSUME_ROLE)
        .collect();
    let member_actions: Vec<&String> = actions.iter().filter(member).collect();
    let statement = |sid: &str, actions: Vec<&String>, resource: &str| json!({ "Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resource });
    let read = statement(
        "ReadTheOrganization",
        management.iter().copied().filter(|a| reads(a)).collect(),
        "*",
    );
    let change = statement(
        "ChangeTheOrganization",
        management.iter().copied().filter(|a| !reads(a)).collect(),
        "*",
    );
    let assume = actions.contains(ASSUME_ROLE).then(|| {
        statement(
            "AssumeTheMemberAccessRole",
            vec![&ASSUME_ROLE.to_owned()],
            &format!(
                "arn:aws:iam::*:role/{}",
                orgctl::model::DEFAULT_MEMBER_ACCESS_ROLE
            ),
        )
    });
    let document = |statements: Vec<Option<Value>>| {
        let statements: Vec<Value> = statements
            .into_iter()
            .flatten()
            .filter(|s| s["Action"].as_array().is_some_and(|a| !a.is_empty()))
            .collect();
        json!({ "Version": "2012-10-17", "Statement": statements })
    };
    BTreeMap::from([
        (PLAN, document(vec![Some(read.clone()), assume.clone()])),
        (APPLY, document(vec![Some(read), Some(change), assume])),
        (
            MEMBER,
            document(vec![
                Some(statement(
                    "ReadOrgctlIam",
                    member_actions
                        .iter()
                        .copied()
                        .filter(|a| reads(a))
                        .collect(),
                    "*",
                )),
                Some(statement(
                    "ChangeOrgctlIam",
                    member_actions
                        .iter()
                        .copied()
                        .filter(|a| !reads(a))
                        .collect(),
                    "*",
                )),
            ]),
        ),
    ])
}

/// Every action a policy document allows.
fn allowed(document: &Value) -> BTreeSet<String> {
    document["Statement"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|statement| statement["Action"].as_array().cloned().unwrap_or_default())
        .filter_map(|action| action.as_str().map(str::to_owned))
        .collect()
}

/// `Ok` when `checked_in` is `generated`; otherwise what it lacks and what it has too many.
fn compare(file: &str, checked_in: &str, generated: &Value) -> Result<(), String> {
    let text = format!(
        "{}\n",
        serde_json::to_string_pretty(generated).expect("JSON")
    );
    if checked_in == text {
        return Ok(());
    }
    let have = serde_json::from_str(checked_in).map_or_else(|_| BTreeSet::new(), |d| allowed(&d));
    let need = allowed(generated);
    let missing: Vec<&String> = need.difference(&have).collect();
    let extra: Vec<&String> = have.difference(&need).collect();
    Err(format!(
        "{file} is not the policy the code's AWS calls need\n  \
         missing (the code calls them): {missing:?}\n  \
         extra (the code never calls them): {extra:?}\n\
         regenerate it with\n    UPDATE_IAM_POLICIES=1 cargo test --test it permissions"
    ))
}

/// Compares (or, with `UPDATE_IAM_POLICIES` set, writes) the checked-in policy `file`.
fn check_checked_in(file: &str) {
    let generated = policies(&calls_in_src(&[]));
    let path = common::root().join(file);
    if std::env::var_os("UPDATE_IAM_POLICIES").is_some() {
        let text = format!(
            "{}\n",
            serde_json::to_string_pretty(&generated[file]).expect("JSON")
        );
        std::fs::write(&path, text).expect("the policy is written");
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    if let Err(message) = compare(file, &checked_in, &generated[file]) {
        panic!("{message}");
    }
}

#[test]
fn the_plan_policy_allows_every_read_the_code_makes_and_nothing_more() {
    check_checked_in(PLAN);
}

#[test]
fn the_apply_policy_allows_every_call_the_code_makes_and_nothing_more() {
    check_checked_in(APPLY);
}

#[test]
fn the_member_policy_allows_every_iam_call_the_code_makes_and_nothing_more() {
    check_checked_in(MEMBER);
}

#[test]
fn the_plan_policy_allows_no_change() {
    let text = std::fs::read_to_string(common::root().join(PLAN)).expect("the plan policy");
    let document: Value = serde_json::from_str(&text).expect("JSON");
    let changes: Vec<String> = allowed(&document)
        .into_iter()
        .filter(|action| !reads(action) && action != ASSUME_ROLE)
        .collect();
    assert!(changes.is_empty(), "{PLAN} allows changes: {changes:?}");
}

#[test]
fn the_member_access_role_is_assumed_through_sts() {
    let assumed: Vec<Call> = calls_in_src(&[])
        .into_iter()
        .filter(|call| call.action == ASSUME_ROLE)
        .collect();
    assert!(
        assumed
            .iter()
            .any(|call| call.place.starts_with("src/live/aws/iam.rs")),
        "{assumed:?}"
    );
}

#[test]
fn a_call_the_apply_policy_lacks_fails_the_check() {
    let leave = "async fn leave(&self) { self.client().leave_organization().send().await; }";
    let generated = policies(&calls_in_src(&[("src/live/aws/leave.rs", leave)]));
    let checked_in = std::fs::read_to_string(common::root().join(APPLY)).expect("the apply policy");
    let error = compare(APPLY, &checked_in, &generated[APPLY]).expect_err("a missing action");
    assert!(
        error.contains(r#"missing (the code calls them): ["organizations:LeaveOrganization"]"#),
        "{error}"
    );
}

#[test]
fn an_action_the_code_no_longer_calls_fails_the_check() {
    let calls: Vec<Call> = calls_in_src(&[])
        .into_iter()
        .filter(|call| call.action != "organizations:CloseAccount")
        .collect();
    let generated = policies(&calls);
    let checked_in = std::fs::read_to_string(common::root().join(APPLY)).expect("the apply policy");
    let error = compare(APPLY, &checked_in, &generated[APPLY]).expect_err("an extra action");
    assert!(
        error.contains(r#"extra (the code never calls them): ["organizations:CloseAccount"]"#),
        "{error}"
    );
}

#[test]
fn calls_in_comments_and_strings_are_not_calls() {
    let source = r####"
        // client.close_account().send()
        /* client.close_account() /* nested */ client.close_account() */
        let a = "client.close_account()";
        let b = r#"client.close_account() "quoted" "#;
        let c = '"'; let d = '\''; fn e<'a>(x: &'a str) {}
        client.list_roots().send();
    "####;
    let calls = scan("src/example.rs", source, operations()).expect("a scan");
    let actions: Vec<&str> = calls.iter().map(|call| call.action.as_str()).collect();
    assert_eq!(actions, ["organizations:ListRoots"]);
    assert_eq!(calls[0].place, "src/example.rs:7");
}

#[test]
fn a_call_many_services_name_takes_the_service_of_its_client() {
    let organizations = "self.client().create_policy().name(n).send();";
    let iam = "use aws_sdk_iam as iam; let client: iam::Client = x; client.create_policy().send();";
    let action = |source| {
        scan("src/example.rs", source, operations()).expect("a scan")[0]
            .action
            .clone()
    };
    assert_eq!(action(organizations), "organizations:CreatePolicy");
    assert_eq!(action(iam), "iam:CreatePolicy");
}

#[test]
fn a_call_whose_service_cannot_be_told_is_an_error() {
    let source = "fn f(other: &Other) { other.create_policy().send(); }";
    let error = scan("src/example.rs", source, operations()).expect_err("an ambiguous call");
    assert!(
        error.starts_with("src/example.rs:1: `other.create_policy()`"),
        "{error}"
    );
}
