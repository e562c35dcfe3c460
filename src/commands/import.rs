//! `orgctl import`: read the live organization, write a configuration that plans no changes.
//!
//! Nothing is written until the configuration has been checked in memory: it must parse, and the
//! plan against the very state it came from must be empty. Ownership findings are printed, not
//! buried in the file.

use std::path::{Path, PathBuf};

use super::{Exit, ExitStatus, live};
use crate::cli::ImportArgs;
use crate::diagnostic::Diagnostic;
use crate::files;
use crate::import::{self, Imported, Options};
use crate::model::{self, Context};
use crate::plan::{self, PlanInput};
use crate::render;
use crate::rules::Rule;
use crate::{config, live::LiveState};

/// The folder beside the configuration that receives policy documents.
const POLICIES_DIR: &str = "policies";

pub(super) fn run(args: &ImportArgs) -> Exit {
    // `-` is standard output: one file, its policy documents inline. A folder gets `orgctl.yaml`.
    let to_stdout = args.out.as_os_str() == "-";
    let out = if to_stdout {
        PathBuf::from(STDOUT_NAME)
    } else {
        config::locate(&args.out)
    };
    let out = out.as_path();
    // A dangling link counts as a file: writing through it would land somewhere unexpected.
    if !to_stdout && !args.force && std::fs::symlink_metadata(out).is_ok() {
        return Exit::failure(vec![exists(&[out.to_path_buf()])]);
    }
    // The IAM orgctl created (in accounts it tagged), where this model lets the operator reach,
    // and every alternate contact (3 requests per account; see `plan::every_contact`).
    let ownership = crate::model::Ownership::of(args.business_model.into());
    let reaches = ownership.reaches(ownership.management, crate::model::AccountKind::Member);
    let select = |state: &LiveState| crate::live::Scope {
        iam: if reaches {
            crate::plan::marked_accounts(state)
        } else {
            Vec::new()
        },
        contacts: crate::plan::every_contact(state),
        // A configuration declares members; an account only invited is not one yet.
        invitations: false,
    };
    let (state, source) = match live::read_in_scope(&args.live, &args.member_access_role, select) {
        Ok(read) => read,
        Err(error) => return Exit::failure(vec![error]),
    };
    let options = Options {
        business_model: args.business_model.into(),
        payer: args.payer.into(),
        provider_domain: args.provider_domain.clone(),
        customer_domain: args.customer_domain.clone(),
        provider_name: args.provider_name.clone(),
        customer_name: args.customer_name.clone(),
        name: args.name.clone(),
        email_template: args.email_template.clone(),
        member_access_role: args.member_access_role.clone(),
        policies_dir: (!to_stdout).then(|| POLICIES_DIR.to_owned()),
        source: source.clone(),
        imported_at: chrono::Utc::now(),
    };
    let imported = match import::import(&state, &options) {
        Ok(imported) => imported,
        Err(diagnostics) => return Exit::failure(diagnostics),
    };
    let base_dir = match out.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !args.force {
        let clobbered = policy_files_in_the_way(&base_dir, &imported);
        if !clobbered.is_empty() {
            return Exit::failure(vec![exists(&clobbered)]);
        }
    }
    let checked = match check(out, &base_dir, &imported, &state) {
        Ok(checked) => checked,
        Err(diagnostics) => return Exit::failure(diagnostics),
    };
    let written = if to_stdout {
        print_configuration(&imported.yaml)
    } else {
        write(out, &base_dir, &imported, args.force)
    };
    if let Err(error) = written {
        return Exit::failure(vec![error]);
    }

    // The model's diagnostics, then the plan's findings in their own form, the notes and what
    // was written.
    let mut exit = Exit {
        diagnostics: checked.diagnostics,
        ..Exit::with(ExitStatus::Success)
    };
    for finding in &checked.findings {
        exit.closing.push_str(&render::finding_text(finding, ""));
    }
    for note in &imported.notes {
        exit = exit.closing(format!("note: {note}"));
    }
    let written = if imported.policy_files.is_empty() {
        String::new()
    } else {
        format!(
            " (policy documents in {})",
            base_dir.join(POLICIES_DIR).display()
        )
    };
    let exit = exit.closing(format!(
        "Imported {}, {} and {} from {source} into {}{written}.",
        count(imported.ous, "OU", "OUs"),
        count(imported.accounts, "member account", "member accounts"),
        count(imported.policies, "policy", "policies"),
        out.display()
    ));
    if checked.errors > 0 {
        return exit.status(ExitStatus::Failure).closing(format!(
            "{} was written as the organization is, but it has {} above: resolve {} (in AWS, or with other --business-model, --*-domain or --email-template choices) before planning.",
            out.display(),
            count(checked.errors, "error", "errors"),
            if checked.errors == 1 { "it" } else { "them" }
        ));
    }
    if to_stdout {
        exit.closing("Saved as a file, it plans no changes against this organization.")
    } else {
        exit.closing(format!(
            "`orgctl plan {}` plans no changes against this organization.",
            out.display()
        ))
    }
}

/// How the configuration is named, in messages and diagnostics, when it goes to standard output.
const STDOUT_NAME: &str = "standard output";

/// Writes the configuration to standard output (`--out -`).
fn print_configuration(yaml: &str) -> Result<(), Diagnostic> {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(yaml.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|error| {
            Diagnostic::new(
                Rule::ImportOutput,
                format!("cannot write the configuration to standard output: {error}"),
            )
            .help("run import again with `--out FILE` to write it to a file")
        })
}

/// What checking the imported configuration found.
struct Checked {
    /// The model's diagnostics (ownership, emails, limits), pointing into the new file.
    diagnostics: Vec<Diagnostic>,
    /// The plan's findings against the organization.
    findings: Vec<crate::plan::Finding>,
    /// Errors among both.
    errors: usize,
}

/// Parses, resolves and plans the configuration in memory against `state`; refuses it unless the
/// plan is empty.
fn check(
    out: &Path,
    base_dir: &Path,
    imported: &Imported,
    state: &LiveState,
) -> Result<Checked, Vec<Diagnostic>> {
    let name = out.display().to_string();
    let config = config::load_in_memory(&name, &imported.yaml, base_dir, &imported.policy_files)
        .map_err(|mut diagnostics| {
            diagnostics.push(incomplete(
                "the imported configuration does not parse".to_owned(),
            ));
            diagnostics
        })?;
    let resolved = model::resolve(&config, &Context::now());
    let input = PlanInput {
        config_digest: config.digest(),
        config_file: name,
        // Checked in memory, never saved: the backend it names does not matter.
        ..PlanInput::default()
    };
    let plan = plan::plan(&resolved.desired, state, &input);
    if !plan.is_empty() {
        let mut diagnostics = resolved.diagnostics;
        let shown: Vec<String> = plan
            .changes
            .iter()
            .take(5)
            .map(|change| change.address.to_string())
            .collect();
        diagnostics.push(incomplete(format!(
            "the imported configuration would plan {} change{} against the organization it came from ({}{})",
            plan.changes.len(),
            if plan.changes.len() == 1 { "" } else { "s" },
            shown.join(", "),
            if plan.changes.len() > shown.len() { ", ..." } else { "" }
        )));
        return Err(diagnostics);
    }
    let errors = resolved.diagnostics.iter().filter(|d| d.is_error()).count()
        + plan
            .findings
            .iter()
            .filter(|f| f.severity == crate::rules::Severity::Error)
            .count();
    Ok(Checked {
        diagnostics: resolved.diagnostics,
        findings: plan.findings,
        errors,
    })
}

fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn incomplete(message: String) -> Diagnostic {
    Diagnostic::new(Rule::ImportIncomplete, format!("{message}; nothing was written"))
        .help("errors above explain it; if there are none, this is a bug in orgctl: please report it with the output of `orgctl export`")
}

/// Policy files that exist with other contents, or that are not regular files orgctl can read.
fn policy_files_in_the_way(base_dir: &Path, imported: &Imported) -> Vec<PathBuf> {
    imported
        .policy_files
        .iter()
        .map(|(relative, text)| (base_dir.join(relative), text))
        .filter(
            |(path, text)| match files::read_regular(path, files::POLICY_FILE) {
                Ok(existing) => existing != text.as_bytes(),
                Err(error) => !error.is_not_found(),
            },
        )
        .map(|(path, _)| path)
        .collect()
}

fn exists(paths: &[PathBuf]) -> Diagnostic {
    let list: Vec<String> = paths.iter().map(|p| format!("`{}`", p.display())).collect();
    Diagnostic::new(
        Rule::ImportOutput,
        format!(
            "{} already exist{}; import does not overwrite files",
            list.join(", "),
            if paths.len() == 1 { "s" } else { "" }
        ),
    )
    .help("choose another --out, or pass --force to replace them")
}

/// Policy documents first, then the configuration, each through [`files::write`]: a
/// configuration never names a document that is not there. Without `force`, no file that
/// appeared since the checks is replaced, and documents already there with the same contents
/// are left as they are.
fn write(out: &Path, base_dir: &Path, imported: &Imported, force: bool) -> Result<(), Diagnostic> {
    let failed = |path: &Path, error: &dyn std::fmt::Display, help: Option<&'static str>| {
        Diagnostic::new(
            Rule::ImportOutput,
            format!("cannot write `{}`: {error}", path.display()),
        )
        .help(help.unwrap_or("check that the folder exists and is writable; files written before this one are complete"))
    };
    std::fs::create_dir_all(base_dir).map_err(|error| failed(base_dir, &error, None))?;
    for (relative, text) in &imported.policy_files {
        let path = base_dir.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|error| failed(parent, &error, None))?;
        }
        if files::read_regular(&path, files::POLICY_FILE)
            .is_ok_and(|existing| existing == text.as_bytes())
        {
            continue;
        }
        publish(&path, text.as_bytes(), force)
            .map_err(|error| failed(&path, &error, error.write_help()))?;
    }
    publish(out, imported.yaml.as_bytes(), force)
        .map_err(|error| failed(out, &error, error.write_help()))
}

/// Writes `bytes` to `path` through [`files::write`]. With `replace`, over what is there;
/// without, only where nothing is.
fn publish(path: &Path, bytes: &[u8], replace: bool) -> Result<(), files::Error> {
    let existing = if replace {
        files::Existing::Replace
    } else {
        files::Existing::Keep
    };
    files::write(path, bytes, existing, 0o666).map_err(|error| {
        if error.is_exists() {
            files::Error::Io(std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                "it appeared while importing; nothing replaced it (pass --force to replace it)",
            ))
        } else {
            error
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::snapshot::Snapshot;

    fn imported(state: &LiveState) -> Imported {
        let options = Options {
            business_model: crate::config::BusinessModel::Direct,
            payer: crate::config::Payer::Dedicated,
            provider_domain: None,
            customer_domain: None,
            provider_name: None,
            customer_name: None,
            name: None,
            email_template: import::DEFAULT_EMAIL_TEMPLATE.to_owned(),
            member_access_role: crate::model::DEFAULT_MEMBER_ACCESS_ROLE.to_owned(),
            policies_dir: Some(POLICIES_DIR.to_owned()),
            source: "a test".to_owned(),
            imported_at: chrono::Utc::now(),
        };
        import::import(state, &options).expect("the example imports")
    }

    #[test]
    fn ten_thousand_accounts_with_ten_tags_each_are_imported_and_written() {
        let mut state = Snapshot::new("examples/direct/live.json")
            .load()
            .expect("the example loads");
        let parent_id = state.accounts[1].parent_id.clone();
        for account in 0..10_000u64 {
            state.accounts.push(crate::live::LiveAccount {
                id: format!("{}", 300_000_000_000 + account),
                name: format!("workload-{account:05}"),
                email: format!("aws+workload-{account:05}@northwind.example"),
                state: crate::live::AccountState::Active,
                parent_id: parent_id.clone(),
                tags: (0..10)
                    .map(|tag| (format!("tag-{tag}"), format!("value-{tag}")))
                    .collect(),
            });
        }
        let imported = imported(&state);
        let directory = tempfile::tempdir().expect("a temp dir");
        let out = directory.path().join("orgctl.yaml");
        // It parses within the YAML budget and plans empty against the organization.
        if let Err(diagnostics) = check(&out, directory.path(), &imported, &state) {
            panic!("refused: {}", diagnostics[0].message);
        }
        write(&out, directory.path(), &imported, false).expect("written");
        assert_eq!(
            std::fs::read_to_string(&out).expect("written"),
            imported.yaml
        );
    }

    #[test]
    fn a_configuration_that_would_plan_changes_is_never_written() {
        let state = Snapshot::new("examples/direct/live.json")
            .load()
            .expect("the example loads");
        let out = Path::new("orgctl.yaml");
        let base = Path::new(".");
        let checked = check(out, base, &imported(&state), &state).expect("it plans empty");
        assert_eq!(checked.errors, 0);

        // Checked against a state it does not describe, the same check refuses.
        let mut moved = state.clone();
        moved.accounts[1]
            .tags
            .insert("drift".to_owned(), "yes".to_owned());
        let refused = match check(out, base, &imported(&state), &moved) {
            Ok(_) => panic!("a configuration that plans a change passed the check"),
            Err(diagnostics) => diagnostics,
        };
        let last = refused.last().expect("a diagnostic");
        assert_eq!(last.rule, Rule::ImportIncomplete);
        assert!(
            last.message.contains("would plan 1 change")
                && last.message.contains("nothing was written"),
            "{}",
            last.message
        );
    }
}
