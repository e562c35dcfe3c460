//! Plans of every example against its snapshot: text, JSON and Markdown are snapshot-tested, and
//! the plan's shape is checked against the story each snapshot tells.

use std::path::Path;

use orgctl::address::Address;
use orgctl::live::snapshot::Snapshot;
use orgctl::plan::{self, Action, Plan, PlanInput};
use orgctl::render::{self, TextStyle};

use crate::common;

const EXAMPLES: &[&str] = &["direct", "ecam", "resold", "shared-payer", "spam"];

/// The plan of `examples/<name>` against its `live.json`, as the library computes it.
pub fn example_plan(name: &str) -> Plan {
    let config = orgctl::config::load(Path::new(&format!("examples/{name}/orgctl.yaml")))
        .expect("the example loads");
    let resolved = orgctl::model::resolve(&config, &common::context());
    assert!(!resolved.has_errors(), "examples/{name} has errors");
    let live = Snapshot::new(format!("examples/{name}/live.json"))
        .load()
        .expect("the snapshot loads");
    plan::plan(
        &resolved.desired,
        &live,
        &PlanInput {
            config_digest: config.digest(),
            config_file: format!("examples/{name}/orgctl.yaml"),
            backend: plan::BackendKind::Snapshot {
                path: format!("examples/{name}/live.json"),
            },
        },
    )
}

#[test]
fn every_example_plans_in_every_format() {
    for name in EXAMPLES {
        let plan = example_plan(name);
        assert!(
            !plan.is_empty(),
            "{name}: the snapshot should differ from the file"
        );
        let source = format!("examples/{name}/live.json");
        // The pull-request comment as a job gets it, configuration warnings included.
        let config = format!("examples/{name}/orgctl.yaml");
        let markdown =
            common::orgctl(&["plan", &config, "--state", &source, "--format", "markdown"]);
        let markdown = String::from_utf8_lossy(&markdown.stdout).into_owned();
        insta::with_settings!({ snapshot_suffix => *name, prepend_module_to_snapshot => false, omit_expression => true }, {
            insta::assert_snapshot!("plan_text", render::plan_text(&plan, &source, TextStyle { colour: false }));
            insta::assert_snapshot!("plan_markdown", markdown);
            insta::assert_json_snapshot!("plan_json", plan, { ".config_digest" => "[digest]" });
        });
    }
}

#[test]
fn the_ecam_plan_tells_the_snapshots_story() {
    let plan = example_plan("ecam");
    let actions: Vec<(&str, &Address)> = plan
        .changes
        .iter()
        .map(|c| (c.action.name(), &c.address))
        .collect();
    for (action, address) in [
        ("enable_policy_type", "policy_type:tag"),
        ("create_ou", "ou:Workloads/Dev"),
        ("create_account", "account:acme-dev"),
        ("update_tags", "account:acme-prod"),
        ("update_policy", "policy:service_control/deny-root-user"),
        ("move_account", "account:acme-old-sandbox"),
        ("close_account", "account:acme-old-sandbox"),
    ] {
        let address: Address = address.parse().expect("an address");
        assert!(
            actions.contains(&(action, &address)),
            "missing {action} {address} in {actions:?}"
        );
    }
    // The undeclared console-made account is reported, not deleted.
    assert!(
        plan.findings
            .iter()
            .any(|f| f.rule.code() == "orgctl::live::undeclared_account")
    );
    assert!(
        !plan
            .changes
            .iter()
            .any(|c| c.address.to_string().contains("738201946155"))
    );
}

#[test]
fn changes_come_after_what_they_depend_on() {
    for name in EXAMPLES {
        let plan = example_plan(name);
        let planned = |address: &Address, action: &str| {
            plan.changes
                .iter()
                .any(|c| c.address == *address && c.action.name() == action)
        };
        for (index, change) in plan.changes.iter().enumerate() {
            assert!(
                change
                    .depends_on
                    .iter()
                    .all(|d| plan.changes[..index].iter().any(|c| c.address == *d)),
                "{name}: {} depends on an address no earlier change has",
                change.address
            );
            let waits_for = |address: &Address| change.depends_on.contains(address);
            match &change.action {
                Action::CreateAccount { parent, .. } | Action::CreateOu { parent, .. }
                    if planned(parent, "create_ou") =>
                {
                    assert!(
                        waits_for(parent),
                        "{name}: {} before its parent",
                        change.address
                    );
                }
                Action::AttachPolicy { policy, target } => {
                    for (address, action) in [
                        (policy, "create_policy"),
                        (target, "create_ou"),
                        (target, "create_account"),
                    ] {
                        if planned(address, action) {
                            assert!(
                                waits_for(address),
                                "{name}: {} before what it attaches",
                                change.address
                            );
                        }
                    }
                }
                _ => {}
            }
        }
    }
}

#[test]
fn a_plan_is_the_same_on_every_run() {
    for name in EXAMPLES {
        assert_eq!(example_plan(name), example_plan(name), "{name}");
    }
}

#[test]
fn a_snapshot_planned_against_itself_after_export_is_stable() {
    // Exporting normalises; reading the export back gives the same state and fingerprint.
    for name in EXAMPLES {
        let live = Snapshot::new(format!("examples/{name}/live.json"))
            .load()
            .expect("loads");
        let text = orgctl::live::snapshot::to_json(&live);
        let again = orgctl::live::snapshot::parse("export", text.as_bytes()).expect("parses");
        assert_eq!(live, again, "{name}");
        assert_eq!(live.fingerprint(), again.fingerprint(), "{name}");
    }
}

#[test]
fn an_invalid_configuration_gets_a_plan_failed_comment_not_an_empty_one() {
    let output = common::orgctl(&[
        "plan",
        "tests/fixtures/invalid/email-invalid-empty.yaml",
        "--state",
        "examples/ecam/live.json",
        "--format",
        "markdown",
    ]);
    assert_eq!(output.status.code(), Some(1));
    insta::assert_snapshot!(
        "plan_markdown_failed",
        String::from_utf8_lossy(&output.stdout)
    );
}

#[test]
fn an_invalid_configuration_gets_a_json_failure_document() {
    let output = common::orgctl(&[
        "plan",
        "tests/fixtures/invalid/email-invalid-empty.yaml",
        "--state",
        "examples/ecam/live.json",
        "--format",
        "json",
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        output.stderr.is_empty(),
        "JSON mode keeps stderr for failures to run"
    );
    let document: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("one JSON document");
    assert_eq!(document["format"], "orgctl-plan-failure");
    assert_eq!(document["diagnostics"][0]["code"], "orgctl::email::invalid");
    assert_eq!(document["diagnostics"][0]["line"], 10);
}

/// A configuration of `count` accounts, all of them new, planned against an organization that
/// holds only its management account.
fn many_new_accounts(count: usize) -> Plan {
    let mut yaml = String::from(
        "organization:\n  name: big\n  business_model: direct\n  customer: { name: Big, email_domain: big-corp.net }\n  management_account: { name: big-payer, email: payer@big-corp.net }\naccounts:\n",
    );
    for index in 0..count {
        yaml.push_str(&format!(
            "  big-{index:05}: {{ tags: {{ team: t{index} }} }}\n"
        ));
    }
    let resolved = common::resolve_yaml(&yaml);
    assert!(
        !resolved.has_errors(),
        "{}",
        common::render(&resolved.diagnostics)
    );
    let live = serde_json::json!({
        "format": "orgctl-live", "version": 1,
        "organization": { "id": "o-abcdefghij", "management_account_id": "111111111111", "management_account_email": "payer@big-corp.net" },
        "root": { "id": "r-ab12", "enabled_policy_types": [] },
        "accounts": [ { "id": "111111111111", "name": "big-payer", "email": "payer@big-corp.net", "parent_id": "r-ab12" } ]
    });
    let live = orgctl::live::snapshot::parse("live.json", live.to_string().as_bytes())
        .expect("a snapshot");
    plan::plan(&resolved.desired, &live, &PlanInput::default())
}

#[test]
fn a_two_thousand_change_comment_stays_under_githubs_limit() {
    let plan = many_new_accounts(2_000);
    assert_eq!(plan.changes.len(), 2_000);
    let markdown = render::plan_markdown(&plan, "live.json", "orgctl.yaml", &[]);
    let length = markdown.chars().count();
    assert!(length < 65_536, "{length} characters");
    assert!(
        length > 30_000,
        "as much as fits is shown: {length} characters"
    );
    let cut = markdown
        .lines()
        .find(|line| line.starts_with("# … and "))
        .expect("the cut is said");
    assert!(cut.ends_with("more changes (see the job log)"), "{cut}");
    assert!(
        markdown.contains("```\n\n</details>"),
        "the diff block is closed"
    );
    // A small plan is not cut.
    let small = render::plan_markdown(&many_new_accounts(3), "live.json", "orgctl.yaml", &[]);
    assert!(!small.contains("more changes"), "{small}");
}
