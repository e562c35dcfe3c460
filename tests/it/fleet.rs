//! Fleets on snapshot files: the example fleet validates, plans, applies and plans empty;
//! one organization's failure is its row only; shards merge into the unsharded run; the CI
//! recipes run commands that exist.

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

use crate::common::snapshot::run;
use crate::common::{self, describe};

const FLEET: &str = "examples/fleet/fleet.yaml";

/// A copy of the example fleet in a temporary folder (apply rewrites its snapshots), and the
/// path of its fleet file.
fn copy_of_example() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    copy_dir(&common::root().join("examples/fleet"), dir.path());
    let fleet = dir.path().join("fleet.yaml");
    (dir, fleet)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("a folder");
    for entry in std::fs::read_dir(from).expect("a folder") {
        let entry = entry.expect("an entry");
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copied");
        }
    }
}

/// Runs orgctl with `args` (paths as given) and parses its stdout as a fleet summary.
fn summary(args: &[&str]) -> (Output, Value) {
    let output = common::orgctl(args);
    let value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|error| panic!("{error}: {}", describe(&output)));
    (output, value)
}

/// `organization → result` of a summary.
fn results(summary: &Value) -> Vec<(String, String)> {
    summary["organizations"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|row| {
            (
                row["organization"].as_str().unwrap_or_default().to_owned(),
                row["result"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// The rows of a summary without what differs from run to run (durations).
fn rows_without_times(summary: &Value) -> Vec<Value> {
    summary["organizations"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|row| {
            let mut row = row.clone();
            row["duration_ms"] = Value::Null;
            row
        })
        .collect()
}

fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(name, result)| ((*name).to_owned(), (*result).to_owned()))
        .collect()
}

#[test]
fn the_example_fleet_plans_offline_as_a_table() {
    cli_snapshot!(run(&["fleet", "plan", FLEET]));
}

#[test]
fn the_markdown_summary_folds_each_plan_under_the_table() {
    let output = common::orgctl(&[
        "fleet", "plan", FLEET, "--only", "hooli", "--format", "markdown",
    ]);
    assert_eq!(output.status.code(), Some(2), "{}", describe(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let table = stdout
        .find("| hooli | distributor-de | ecam |")
        .expect("the row");
    let plan = stdout
        .find("<details><summary>hooli</summary>\n\n<!-- orgctl-plan organization=\"hooli\"")
        .expect("the folded plan");
    assert!(table < plan, "{stdout}");
}

#[test]
fn validate_recognises_a_fleet_file() {
    let output = cli_snapshot!(run(&["validate", FLEET]));
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
}

#[test]
fn the_fleet_summary_matches_its_schema() {
    let (output, value) = summary(&["fleet", "plan", FLEET, "--format", "json"]);
    assert_eq!(output.status.code(), Some(2), "{}", describe(&output));
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(common::root().join("schemas/fleet.schema.json")).expect("schema"),
    )
    .expect("JSON");
    let validator = jsonschema::validator_for(&schema).expect("a valid schema");
    let errors: Vec<String> = validator
        .iter_errors(&value)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
}

#[test]
fn the_example_fleet_file_matches_its_schema() {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(common::root().join("schemas/fleet-file.schema.json"))
            .expect("schema"),
    )
    .expect("JSON");
    let text = std::fs::read_to_string(common::root().join(FLEET)).expect("the fleet");
    let fleet: Value = serde_saphyr::from_str(&text).expect("YAML");
    let validator = jsonschema::validator_for(&schema).expect("a valid schema");
    assert!(validator.is_valid(&fleet));
}

#[test]
fn a_fleet_applies_and_then_plans_empty_with_a_report_per_organization() {
    let (dir, fleet) = copy_of_example();
    let fleet = fleet.to_string_lossy().into_owned();
    let out = dir.path().join("out");
    let out = out.to_string_lossy().into_owned();
    let (output, applied) = summary(&[
        "fleet",
        "apply",
        &fleet,
        "--auto-approve",
        "--format",
        "json",
        "--out-dir",
        &out,
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    assert_eq!(
        results(&applied),
        owned(&[
            ("globex", "applied"),
            ("hooli", "applied"),
            ("initech", "applied"),
            ("pied-piper", "applied")
        ])
    );
    for name in ["globex", "hooli", "initech", "pied-piper"] {
        assert!(
            dir.path().join(format!("out/{name}.apply.json")).is_file(),
            "{name}"
        );
    }
    let (output, planned) = summary(&["fleet", "plan", &fleet, "--format", "json"]);
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    assert!(
        results(&planned)
            .iter()
            .all(|(_, result)| result == "no_changes")
    );
}

#[test]
fn drift_after_an_out_of_band_change_names_only_that_organization() {
    let (_dir, fleet) = copy_of_example();
    let fleet_path = fleet.to_string_lossy().into_owned();
    let output = common::orgctl(&["fleet", "apply", &fleet_path, "--auto-approve"]);
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    // Someone tags Globex's production account by hand.
    let snapshot = fleet
        .parent()
        .expect("a folder")
        .join("customers/globex/live.json");
    let mut live: Value =
        serde_json::from_str(&std::fs::read_to_string(&snapshot).expect("the snapshot"))
            .expect("JSON");
    for account in live["accounts"].as_array_mut().expect("accounts") {
        if account["name"] == "globex-prod" {
            account["tags"]["owner"] = Value::from("someone");
        }
    }
    std::fs::write(
        &snapshot,
        serde_json::to_string_pretty(&live).expect("JSON"),
    )
    .expect("written");
    let (output, drift) = summary(&["fleet", "drift", &fleet_path, "--format", "json"]);
    assert_eq!(output.status.code(), Some(2), "{}", describe(&output));
    assert_eq!(
        results(&drift),
        owned(&[
            ("globex", "changes"),
            ("hooli", "no_changes"),
            ("initech", "no_changes"),
            ("pied-piper", "no_changes")
        ])
    );
}

/// The example fleet with three more organizations that fail each in its own way: one whose
/// snapshot does not exist (it cannot be reached), one whose snapshot is another organization's
/// (the wrong management account answers), one whose company the fleet does not have.
fn fleet_with_failures(dir: &Path) -> String {
    let fleet = dir.join("fleet.yaml");
    let mut text = std::fs::read_to_string(&fleet).expect("the fleet");
    text.push_str(
        "  unreachable:
    company: distributor-de
    config: customers/initech
    state: customers/nowhere/live.json
  wrong-organization:
    company: distributor-de
    config: customers/initech
    state: customers/globex/live.json
  no-company:
    company: distributor-fr
    config: customers/globex
    state: customers/globex/live.json
",
    );
    std::fs::write(&fleet, text).expect("written");
    fleet.to_string_lossy().into_owned()
}

#[test]
fn each_failing_organization_is_reported_and_the_others_finish() {
    let (dir, _) = copy_of_example();
    let fleet = fleet_with_failures(dir.path());
    let (output, planned) = summary(&["fleet", "plan", &fleet, "--format", "json"]);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    assert_eq!(
        results(&planned),
        owned(&[
            ("globex", "changes"),
            ("hooli", "changes"),
            ("initech", "changes"),
            ("no-company", "failed"),
            ("pied-piper", "changes"),
            ("unreachable", "failed"),
            ("wrong-organization", "failed"),
        ])
    );
    let codes = |name: &str| -> Vec<String> {
        planned["organizations"]
            .as_array()
            .expect("rows")
            .iter()
            .filter(|row| row["organization"] == name)
            .flat_map(|row| row["diagnostics"].as_array().cloned().unwrap_or_default())
            .filter(|record| record["severity"] == "error")
            .map(|record| record["code"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    assert_eq!(codes("no-company"), ["orgctl::fleet::company"]);
    assert_eq!(codes("unreachable"), ["orgctl::live::snapshot"]);
    assert_eq!(
        codes("wrong-organization"),
        ["orgctl::live::wrong_organization"]
    );
}

#[test]
fn an_apply_skips_failing_organizations_and_applies_the_others() {
    let (dir, _) = copy_of_example();
    let fleet = fleet_with_failures(dir.path());
    let (output, applied) = summary(&[
        "fleet",
        "apply",
        &fleet,
        "--auto-approve",
        "--format",
        "json",
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    assert_eq!(
        results(&applied),
        owned(&[
            ("globex", "applied"),
            ("hooli", "applied"),
            ("initech", "applied"),
            ("no-company", "failed"),
            ("pied-piper", "applied"),
            ("unreachable", "failed"),
            ("wrong-organization", "failed"),
        ])
    );
}

#[test]
fn an_account_two_customers_of_one_shared_payer_claim_fails_the_second_only() {
    let (dir, fleet) = copy_of_example();
    let pied_piper = dir.path().join("customers/pied-piper/orgctl.yaml");
    let text = std::fs::read_to_string(&pied_piper).expect("the file");
    std::fs::write(&pied_piper, text.replace("330000000002", "330000000001")).expect("written");
    let fleet = fleet.to_string_lossy().into_owned();
    let output = cli_snapshot!(run(&["fleet", "validate", &fleet]));
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
}

#[test]
fn a_file_contradicting_its_company_is_an_error_at_its_span() {
    let (dir, fleet) = copy_of_example();
    let initech = dir.path().join("customers/initech/orgctl.yaml");
    let text = std::fs::read_to_string(&initech).expect("the file");
    std::fs::write(
        &initech,
        text.replace(
            "  name: initech\n",
            "  name: initech\n  business_model: spam\n",
        ),
    )
    .expect("written");
    let fleet = fleet.to_string_lossy().into_owned();
    let output = cli_snapshot!(run(&["fleet", "validate", &fleet]));
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
}

#[test]
fn only_picks_organizations_and_refuses_unknown_names() {
    let (output, planned) = summary(&[
        "fleet",
        "plan",
        FLEET,
        "--only",
        "hooli,globex",
        "--format",
        "json",
    ]);
    assert_eq!(output.status.code(), Some(2), "{}", describe(&output));
    assert_eq!(
        results(&planned),
        owned(&[("globex", "changes"), ("hooli", "changes")])
    );
    cli_snapshot!(run(&["fleet", "plan", FLEET, "--only", "hooli,globx"]));
}

#[test]
fn the_union_of_the_shards_is_the_unsharded_run() {
    let (dir, _) = copy_of_example();
    let fleet = fleet_with_failures(dir.path());
    let (_, whole) = summary(&["fleet", "drift", &fleet, "--format", "json"]);
    let mut folders = Vec::new();
    let mut seen = Vec::new();
    for shard in ["1/3", "2/3", "3/3"] {
        let folder = dir.path().join(format!("shard-{}", &shard[..1]));
        let folder_name = folder.to_string_lossy().into_owned();
        let (_, part) = summary(&[
            "fleet",
            "drift",
            &fleet,
            "--shard",
            shard,
            "--format",
            "json",
            "--out-dir",
            &folder_name,
        ]);
        seen.extend(results(&part).into_iter().map(|(name, _)| name));
        folders.push(folder_name);
    }
    // Every organization in exactly one shard.
    seen.sort();
    let all: Vec<String> = results(&whole).into_iter().map(|(name, _)| name).collect();
    assert_eq!(seen, all);
    let mut args = vec!["fleet", "report"];
    args.extend(folders.iter().map(String::as_str));
    args.extend(["--format", "json"]);
    let (output, merged) = summary(&args);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    assert_eq!(rows_without_times(&merged), rows_without_times(&whole));
    assert_eq!(merged["shards"].as_array().map(Vec::len), Some(3));
}

#[test]
fn adding_an_organization_moves_none_of_the_others_between_shards() {
    let (dir, fleet) = copy_of_example();
    let fleet = fleet.to_string_lossy().into_owned();
    let shards = |fleet: &str| -> Vec<(String, String)> {
        let mut placed = Vec::new();
        for shard in ["1/3", "2/3", "3/3"] {
            let (_, part) = summary(&[
                "fleet", "validate", fleet, "--shard", shard, "--format", "json",
            ]);
            placed.extend(
                results(&part)
                    .into_iter()
                    .map(|(name, _)| (name, shard.to_owned())),
            );
        }
        placed.sort();
        placed
    };
    let before = shards(&fleet);
    let more = fleet_with_failures(dir.path());
    let after = shards(&more);
    for placed in &before {
        assert!(after.contains(placed), "{placed:?} moved: {after:?}");
    }
    assert_eq!(after.len(), before.len() + 3);
}

#[test]
fn without_auto_approve_each_organization_is_asked_for_on_a_terminal() {
    let (dir, _) = copy_of_example();
    let command = crate::signals::orgctl_command(
        dir.path(),
        &["fleet", "apply", "fleet.yaml", "--only", "globex,hooli"],
    );
    let mut terminal = crate::common::terminal::Terminal::start(&command);
    // One organization at a time, in the fleet file's order.
    terminal.wait_for("organization `globex`? Only `yes` applies: ");
    terminal.type_keys(b"yes\n");
    terminal.wait_for("organization `hooli`? Only `yes` applies: ");
    terminal.type_keys(b"no\n");
    let (code, screen) = terminal.finish();
    // Hooli's changes are still to make: exit 2.
    assert_eq!(code, Some(2), "{screen}");
    let row = |name: &str| {
        screen
            .lines()
            .find(|line| line.starts_with(&format!("{name} ")))
            .unwrap_or_default()
            .to_owned()
    };
    assert!(row("globex").contains(" applied "), "{screen}");
    assert!(row("hooli").contains(" skipped "), "{screen}");
}

#[test]
fn without_auto_approve_and_without_a_terminal_a_fleet_apply_is_refused() {
    let (_dir, fleet) = copy_of_example();
    let output = run(&["fleet", "apply", &fleet.to_string_lossy()]).output();
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("orgctl::apply::refused"),
        "{}",
        describe(&output)
    );
}

#[test]
fn a_report_of_a_folder_without_a_summary_fails() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let output = common::orgctl(&["fleet", "report", &dir.path().to_string_lossy()]);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("orgctl::fleet::files"),
        "{}",
        describe(&output)
    );
}

/// The fleet recipes for CI: actionlint finds nothing in the GitHub workflow, and every `orgctl
/// fleet` command line of the three recipes runs on the example fleet and exits as a run with
/// changes does (2), its variables given values.
mod recipes {
    use super::*;

    const GITHUB: &str = "examples/ci/fleet/github.yml";
    const GITLAB: &str = "examples/ci/fleet/gitlab-ci.yml";
    const KUBERNETES: &str = "examples/ci/fleet/kubernetes-job.yaml";

    #[test]
    fn actionlint_finds_nothing_in_the_fleet_workflow() {
        let output = crate::ci::actionlint(&common::root().join(GITHUB));
        assert!(
            output.status.code() == Some(0)
                && String::from_utf8_lossy(&output.stdout).ends_with("0 finding(s) in 1 file(s)\n"),
            "{}",
            describe(&output)
        );
    }

    /// Every shell line of `recipe` that runs `orgctl fleet …` (a GitLab script's list item
    /// too), its words with variables given values (`$SHARD`-like ones 1, totals 3, the fleet
    /// the example, output folders under `out`), up to the first redirection, pipe or `||`.
    fn command_lines(recipe: &str, out: &Path) -> Vec<Vec<String>> {
        let text = std::fs::read_to_string(common::root().join(recipe)).expect("the recipe");
        text.lines()
            .map(|line| line.trim().trim_start_matches("- "))
            .filter(|line| line.starts_with("orgctl fleet "))
            .map(|line| {
                line.split_whitespace()
                    .skip(1)
                    .take_while(|word| !word.starts_with('>') && !word.starts_with('|'))
                    .map(|word| substitute(word.trim_matches('"'), out))
                    .collect()
            })
            .collect()
    }

    /// One shell word with the recipes' variables replaced.
    fn substitute(word: &str, out: &Path) -> String {
        let out = out.to_string_lossy();
        // The Kubernetes image holds the fleet at /fleet.
        let word = if word == "/fleet/fleet.yaml" {
            FLEET
        } else {
            word
        };
        word.replace("$@", "")
            .replace("$ORGCTL_FLEET", FLEET)
            .replace("$SHARD/3", "1/3")
            .replace("$shard/$SHARDS", "1/3")
            .replace("$CI_NODE_INDEX/$CI_NODE_TOTAL", "1/3")
            .replace("drift-$SHARD", &format!("{out}/drift-1"))
            .replace("drift-$CI_NODE_INDEX", &format!("{out}/drift-1"))
            .replace("/out/shard-$shard", &format!("{out}/drift-1"))
            .replace("orgctl-fleet-drift-*", &format!("{out}/drift-1"))
            .replace("drift-*", &format!("{out}/drift-1"))
            .replace("plans", &format!("{out}/plans"))
    }

    fn runs_every_command_of(recipe: &str) {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let lines = command_lines(recipe, dir.path());
        assert!(!lines.is_empty(), "{recipe} runs no `orgctl fleet` command");
        // Drift comes before the report that merges it, in every recipe.
        for words in lines {
            let args: Vec<&str> = words
                .iter()
                .map(String::as_str)
                .filter(|word| !word.is_empty())
                .collect();
            let output = common::orgctl(&args);
            assert_eq!(
                output.status.code(),
                Some(2),
                "{args:?}: {}",
                describe(&output)
            );
        }
    }

    #[test]
    fn the_github_workflow_runs_fleet_commands_that_exist() {
        runs_every_command_of(GITHUB);
    }

    #[test]
    fn the_gitlab_pipeline_runs_fleet_commands_that_exist() {
        runs_every_command_of(GITLAB);
    }

    #[test]
    fn the_kubernetes_job_runs_a_fleet_command_that_exists() {
        runs_every_command_of(KUBERNETES);
    }

    #[test]
    fn the_kubernetes_report_merges_the_shards() {
        let text = std::fs::read_to_string(common::root().join(KUBERNETES)).expect("the recipe");
        assert!(text.contains("args: [fleet, report, /out/shard-1, /out/shard-2, /out/shard-3]"));
        assert!(
            text.contains("completions: 3") && text.contains("value: \"3\" # equal to completions")
        );
    }
}

/// A fleet of seven organizations in one moto server, each reached by assuming a role in its
/// management account: three dedicated payers and two customers of one shared payer across two
/// companies, one whose role cannot be assumed, one whose role leads to another organization.
mod through_moto {
    use aws_sdk_organizations as organizations;

    use super::*;
    use crate::common::moto::{Management, Moto, client_at, create_organization, runtime};
    use crate::common::proxy::FaultProxy;

    /// The account ids of the fleet's management accounts.
    const ALPHA: &str = "400000000001";
    const BETA: &str = "400000000002";
    const GAMMA: &str = "400000000003";
    const SHARED: &str = "400000000009";
    const LOCKED: &str = "400000000004";
    const ELSEWHERE: &str = "400000000005";

    /// One seeded organization: a client acting in its management account (through a proxy
    /// that tells moto which account), and its management account.
    struct Seeded {
        _proxy: FaultProxy,
        client: organizations::Client,
        management: Management,
    }

    fn seed(moto: &Moto, account: &str, members: &[(&str, &str)]) -> Seeded {
        let proxy = FaultProxy::start(&moto.endpoint, 0, 0.0);
        proxy.configure(&format!(
            r#"{{"headers": {{"x-moto-account-id": "{account}"}}}}"#
        ));
        let client = client_at(&proxy.endpoint);
        let management = runtime().block_on(async {
            let management = create_organization(&client).await;
            for (name, email) in members {
                client
                    .create_account()
                    .account_name(*name)
                    .email(*email)
                    .send()
                    .await
                    .expect("CreateAccount");
            }
            management
        });
        assert_eq!(management.id, account);
        Seeded {
            _proxy: proxy,
            client,
            management,
        }
    }

    fn role(account: &str) -> String {
        format!("arn:aws:iam::{account}:role/orgctl")
    }

    /// A dedicated payer's file: one OU, its accounts in it, tagged.
    fn dedicated(name: &str, management: &Management, model: Option<&str>) -> String {
        let model = model
            .map(|model| format!("  business_model: {model}\n"))
            .unwrap_or_default();
        format!(
            r#"organization:
  name: {name}
{model}  customer: {{ name: {name}, email_domain: {name}.example }}
  management_account: {{ name: "{}", email: "{}", id: "{}" }}
organizational_units:
  Workloads: {{}}
accounts:
  {name}-prod: {{ ou: Workloads, tags: {{ environment: production }} }}
orgctl:
  ignore: [orgctl::email::example_domain]
"#,
            management.name, management.email, management.id
        )
    }

    /// A shared-payer customer's file: its account, tagged.
    fn shared(name: &str, management: &Management) -> String {
        format!(
            r#"organization:
  name: {name}
  payer: shared
  customer: {{ name: {name}, email_domain: {name}.example }}
  management_account: {{ name: "{}", email: "{}", id: "{}" }}
accounts:
  {name}-main: {{ tags: {{ customer: {name} }} }}
orgctl:
  ignore: [orgctl::email::example_domain]
"#,
            management.name, management.email, management.id
        )
    }

    #[test]
    fn a_fleet_plans_applies_and_drifts_through_assumed_roles_and_isolates_its_failures() {
        let (_guard, moto) = Moto::lock();
        // Under ECAM the customer owns the members; under SPAM the provider does.
        let alpha = seed(
            moto,
            ALPHA,
            &[("alpha-prod", "aws+alpha-prod@alpha.example")],
        );
        let domain = alpha
            .management
            .email
            .rsplit_once('@')
            .map(|(_, d)| d.to_owned())
            .unwrap_or_default();
        let beta = seed(
            moto,
            BETA,
            &[("beta-prod", &format!("aws+beta-prod@{domain}"))],
        );
        // Gamma's file chooses `resold`, which its company allows: the customer owns its members.
        let gamma = seed(
            moto,
            GAMMA,
            &[("gamma-prod", "aws+gamma-prod@gamma.example")],
        );
        let payer = seed(
            moto,
            SHARED,
            &[
                ("delta-main", "aws+delta-main@delta.example"),
                ("epsilon-main", "aws+epsilon-main@epsilon.example"),
            ],
        );
        let dir = tempfile::tempdir().expect("a temporary folder");
        let write = |name: &str, text: String| {
            std::fs::create_dir_all(dir.path().join(name)).expect("a folder");
            std::fs::write(dir.path().join(name).join("orgctl.yaml"), text).expect("written");
        };
        write("alpha", dedicated("alpha", &alpha.management, None));
        write("beta", dedicated("beta", &beta.management, None));
        write(
            "gamma",
            dedicated("gamma", &gamma.management, Some("resold")),
        );
        write("delta", shared("delta", &payer.management));
        write("epsilon", shared("epsilon", &payer.management));
        // The same file shape, for management accounts the roles do not reach.
        let like = |management: &Management, id: &str| Management {
            id: id.to_owned(),
            name: management.name.clone(),
            email: management.email.clone(),
        };
        let locked = like(&alpha.management, LOCKED);
        write("locked", dedicated("locked", &locked, None));
        let elsewhere = like(&beta.management, ELSEWHERE);
        write("elsewhere", dedicated("elsewhere", &elsewhere, None));
        let fleet = dir.path().join("fleet.yaml");
        std::fs::write(
            &fleet,
            format!(
                r#"provider: {{ name: Nimbus, email_domain: {domain} }}
companies:
  nimbus-de: {{ business_model: ecam, presets: [deny-leave-organization] }}
  nimbus-uk: {{ business_model: spam, allowed_business_models: [resold] }}
organizations:
  alpha: {{ company: nimbus-de, config: alpha, role_arn: "{}" }}
  beta: {{ company: nimbus-uk, config: beta, role_arn: "{}", external_id: beta-contract-7 }}
  gamma: {{ company: nimbus-uk, config: gamma, role_arn: "{}" }}
  delta: {{ company: nimbus-de, config: delta, role_arn: "{}" }}
  epsilon: {{ company: nimbus-de, config: epsilon, role_arn: "{}" }}
  locked: {{ company: nimbus-de, config: locked, role_arn: "{}" }}
  elsewhere: {{ company: nimbus-uk, config: elsewhere, role_arn: "{}" }}
"#,
                role(ALPHA),
                role(BETA),
                role(GAMMA),
                role(SHARED),
                role(SHARED),
                role(LOCKED),
                // The wrong role: it leads into beta's organization.
                role(BETA),
            ),
        )
        .expect("written");
        // One proxy in front of moto for the whole fleet: the runner's credentials may not
        // assume the locked organization's role.
        let sts = FaultProxy::start(&moto.endpoint, 0, 0.0);
        sts.configure(&format!(r#"{{"deny_roles": ["{}"]}}"#, role(LOCKED)));
        let fleet = fleet.to_string_lossy().into_owned();
        let orgctl = |args: &[&str]| -> (Output, Value) {
            let output = moto
                .command(args)
                .env("AWS_ENDPOINT_URL", &sts.endpoint)
                .output()
                .expect("orgctl runs");
            let value = serde_json::from_slice(&output.stdout)
                .unwrap_or_else(|error| panic!("{error}: {}", describe(&output)));
            (output, value)
        };
        let good = "alpha,beta,gamma,delta,epsilon";

        let (output, planned) = orgctl(&[
            "fleet",
            "plan",
            &fleet,
            "--format",
            "json",
            "--parallel",
            "3",
        ]);
        assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
        assert_eq!(
            results(&planned),
            owned(&[
                ("alpha", "changes"),
                ("beta", "changes"),
                ("delta", "changes"),
                ("elsewhere", "failed"),
                ("epsilon", "changes"),
                ("gamma", "changes"),
                ("locked", "failed"),
            ]),
            "{}",
            describe(&output)
        );
        let row = |summary: &Value, name: &str| -> Value {
            summary["organizations"]
                .as_array()
                .and_then(|rows| rows.iter().find(|row| row["organization"] == name).cloned())
                .expect("a row")
        };
        let messages = |row: &Value| row["diagnostics"].to_string();
        assert!(
            messages(&row(&planned, "locked")).contains("AssumeRole"),
            "{}",
            messages(&row(&planned, "locked"))
        );
        assert!(
            messages(&row(&planned, "elsewhere")).contains("orgctl::live::wrong_organization"),
            "{}",
            messages(&row(&planned, "elsewhere"))
        );
        assert!(
            row(&planned, "alpha")["requests"]
                .as_u64()
                .is_some_and(|requests| requests > 0)
        );
        assert_eq!(row(&planned, "gamma")["business_model"], "resold");
        assert_eq!(row(&planned, "beta")["business_model"], "spam");
        // Each shared-payer customer's plan tags its own account only.
        assert_eq!(row(&planned, "delta")["changes"]["update"], 1);
        assert_eq!(row(&planned, "epsilon")["changes"]["update"], 1);

        let (output, applied) = orgctl(&[
            "fleet",
            "apply",
            &fleet,
            "--auto-approve",
            "--format",
            "json",
        ]);
        assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
        assert_eq!(
            results(&applied),
            owned(&[
                ("alpha", "applied"),
                ("beta", "applied"),
                ("delta", "applied"),
                ("elsewhere", "failed"),
                ("epsilon", "applied"),
                ("gamma", "applied"),
                ("locked", "failed"),
            ]),
            "{}",
            describe(&output)
        );
        // Beta's organization was applied once, by beta: the wrong role changed nothing there.
        let (output, planned) =
            orgctl(&["fleet", "plan", &fleet, "--only", good, "--format", "json"]);
        assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
        assert!(
            results(&planned)
                .iter()
                .all(|(_, result)| result == "no_changes"),
            "{}",
            describe(&output)
        );

        // Someone tags gamma's account by hand.
        runtime().block_on(async {
            let accounts = gamma
                .client
                .list_accounts()
                .send()
                .await
                .expect("ListAccounts")
                .accounts
                .unwrap_or_default();
            let id = accounts
                .iter()
                .find(|account| account.name.as_deref() == Some("gamma-prod"))
                .and_then(|account| account.id.clone())
                .expect("gamma-prod");
            gamma
                .client
                .tag_resource()
                .resource_id(id)
                .tags(
                    organizations::types::Tag::builder()
                        .key("owner")
                        .value("someone")
                        .build()
                        .expect("a tag"),
                )
                .send()
                .await
                .expect("TagResource");
        });
        let (output, drift) =
            orgctl(&["fleet", "drift", &fleet, "--only", good, "--format", "json"]);
        assert_eq!(output.status.code(), Some(2), "{}", describe(&output));
        assert_eq!(
            results(&drift),
            owned(&[
                ("alpha", "no_changes"),
                ("beta", "no_changes"),
                ("delta", "no_changes"),
                ("epsilon", "no_changes"),
                ("gamma", "changes"),
            ])
        );
        drop((alpha, beta, payer));
    }
}

/// Hooli grows out of the shared payer: its file now describes a dedicated payer of its own,
/// which invites Hooli's account. The shared payer still holds it (Pied Piper's run reads that
/// organization), so the fleet warns that accepting moves it between organizations.
#[test]
fn a_customer_moved_to_a_dedicated_payer_plans_its_invitation_with_the_move_warning() {
    let (dir, fleet) = copy_of_example();
    let root = dir.path();
    let text = std::fs::read_to_string(&fleet).expect("the fleet file");
    let moved = text.replacen(
        "  hooli:\n    company: distributor-de\n    config: customers/hooli\n    state: shared-payer.json\n",
        "  hooli:\n    company: distributor-de\n    config: customers/hooli\n    state: customers/hooli/live.json\n",
        1,
    );
    assert_ne!(moved, text, "the example lists hooli on the shared payer");
    std::fs::write(&fleet, moved).expect("written");
    std::fs::write(
        root.join("customers/hooli/orgctl.yaml"),
        "organization:
  name: hooli
  customer: { name: Hooli, email_domain: hooli.example }
  management_account:
    name: hooli-payer
    email: aws-payer+hooli@distributor.example
    id: \"340000000000\"
accounts:
  hooli-main:
    id: \"330000000001\"
    email: aws@hooli.example
    join: invite
    tags: { customer: hooli }
orgctl:
  ignore: [orgctl::email::example_domain]
",
    )
    .expect("written");
    std::fs::write(
        root.join("customers/hooli/live.json"),
        serde_json::json!({
            "format": "orgctl-live",
            "version": 1,
            "organization": {
                "id": "o-hooli0001",
                "management_account_id": "340000000000",
                "management_account_email": "aws-payer+hooli@distributor.example"
            },
            "root": { "id": "r-ho01", "enabled_policy_types": ["service_control"], "tags": {} },
            "accounts": [{
                "id": "340000000000",
                "name": "hooli-payer",
                "email": "aws-payer+hooli@distributor.example",
                "state": "active",
                "parent_id": "r-ho01",
                "tags": {}
            }],
            "policies": [{
                "id": "p-FullAWSAccess",
                "name": "FullAWSAccess",
                "type": "service_control",
                "description": "Allows access to every operation",
                "aws_managed": true,
                "document": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}]}",
                "tags": {},
                "targets": ["r-ho01", "340000000000"]
            }]
        })
        .to_string(),
    )
    .expect("written");
    let fleet_path = fleet.to_string_lossy().into_owned();
    let (output, plan) = summary(&["fleet", "plan", &fleet_path, "--format", "json"]);
    assert_eq!(output.status.code(), Some(2), "{}", describe(&output));
    let hooli = plan["organizations"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|row| row["organization"] == "hooli")
        .expect("hooli's row");
    let moves: Vec<&str> = hooli["diagnostics"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|record| record["code"] == "orgctl::fleet::account_moves")
        .filter_map(|record| record["message"].as_str())
        .collect();
    assert_eq!(moves.len(), 1, "{hooli:#}");
    assert!(
        moves[0].starts_with("account:hooli-main (330000000001) is a member of `pied-piper` (o-"),
        "{}",
        moves[0]
    );
    // The text summary spells the move out: no organization's own plan holds it.
    let text = common::orgctl(&["fleet", "plan", &fleet_path]);
    let shown = String::from_utf8_lossy(&text.stdout);
    assert!(
        shown.contains("hooli: warning[orgctl::fleet::account_moves] account:hooli-main"),
        "{shown}"
    );
    // Nobody else is warned: the move is Hooli's.
    for row in plan["organizations"].as_array().expect("rows") {
        if row["organization"] != "hooli" {
            assert!(
                !row["diagnostics"].to_string().contains("account_moves"),
                "{row:#}"
            );
        }
    }
}

/// A new account under ECAM with `end_customer_access: iam_user` gets a hand-over user with a
/// console password: the fleet applies it only with `--password-dir`, which then holds that
/// organization's passwords, and nothing for the others.
#[test]
fn a_new_hand_over_user_needs_a_password_folder_and_gets_its_own_file() {
    let (dir, fleet) = copy_of_example();
    let config = dir.path().join("customers/initech/orgctl.yaml");
    let text = std::fs::read_to_string(&config).expect("initech's file");
    let more = text.replacen(
        "accounts:\n",
        "accounts:\n  initech-data: { ou: Workloads }\n",
        1,
    );
    assert_ne!(more, text, "initech declares accounts");
    std::fs::write(&config, more).expect("written");
    let fleet = fleet.to_string_lossy().into_owned();
    let apply = |extra: &[&str]| {
        let mut args = vec![
            "fleet",
            "apply",
            fleet.as_str(),
            "--auto-approve",
            "--format",
            "json",
        ];
        args.extend(extra);
        summary(&args)
    };

    let (output, refused) = apply(&[]);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let initech = refused["organizations"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|row| row["organization"] == "initech")
        .expect("initech's row");
    assert_eq!(initech["result"], "failed", "{initech:#}");
    assert!(
        initech["diagnostics"]
            .to_string()
            .contains("--password-dir"),
        "{initech:#}"
    );

    let passwords = tempfile::tempdir().expect("a folder");
    let folder = passwords.path().to_string_lossy().into_owned();
    let (output, applied) = apply(&["--password-dir", &folder]);
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    assert!(
        results(&applied).contains(&("initech".to_owned(), "applied".to_owned())),
        "{applied:#}"
    );
    let written: Vec<String> = std::fs::read_dir(passwords.path())
        .expect("the folder")
        .map(|entry| {
            entry
                .expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(written, ["initech.passwords"]);
    let lines = std::fs::read_to_string(passwords.path().join("initech.passwords"))
        .expect("initech's passwords");
    assert_eq!(lines.lines().count(), 1, "one new user: {}", lines.len());
}
