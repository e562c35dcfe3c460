//! The live-aware rules: each scenario plans a small configuration against a small live state and
//! expects the rule's finding (and, where it matters, no change).

use orgctl::address::Address;
use orgctl::live::snapshot;
use orgctl::plan::{self, Plan, PlanInput};
use serde_json::{Value, json};

use crate::common;

const BASE: &str = r#"
organization:
  name: acme
  business_model: ecam
  operator: provider
  provider: { name: Nimbus, email_domain: nimbus-reseller.net }
  customer: { name: Acme, email_domain: acme-corp.net }
  management_account: { name: acme-payer, email: payer@nimbus-reseller.net }
  enabled_policy_types: [service_control]
organizational_units:
  Workloads: {}
accounts:
  acme-prod: { ou: Workloads, id: "222222222222" }
"#;

const FULL_ACCESS: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

/// A live organization matching `BASE`, FullAWSAccess attached everywhere.
fn base_live() -> Value {
    json!({
        "format": "orgctl-live",
        "version": 1,
        "organization": { "id": "o-abcdefghij", "management_account_id": "111111111111", "management_account_email": "payer@nimbus-reseller.net" },
        "root": { "id": "r-ab12", "enabled_policy_types": ["service_control"] },
        "organizational_units": [ { "id": "ou-ab12-aaaaaaaa", "name": "Workloads", "parent_id": "r-ab12" } ],
        "accounts": [
            { "id": "111111111111", "name": "acme-payer", "email": "payer@nimbus-reseller.net", "parent_id": "r-ab12" },
            { "id": "222222222222", "name": "acme-prod", "email": "aws+acme-prod@acme-corp.net", "parent_id": "ou-ab12-aaaaaaaa" }
        ],
        "policies": [ {
            "id": "p-FullAWSAccess", "name": "FullAWSAccess", "type": "service_control", "aws_managed": true,
            "document": FULL_ACCESS,
            "targets": ["r-ab12", "ou-ab12-aaaaaaaa", "111111111111", "222222222222"]
        } ]
    })
}

fn plan_of(yaml: &str, live: &Value) -> Plan {
    let resolved = common::resolve_yaml(yaml);
    assert!(
        !resolved.has_errors(),
        "{}",
        common::render(&resolved.diagnostics)
    );
    let live =
        snapshot::parse("live.json", live.to_string().as_bytes()).expect("the snapshot parses");
    plan::plan(&resolved.desired, &live, &PlanInput::default())
}

fn codes(plan: &Plan) -> Vec<&str> {
    plan.findings.iter().map(|f| f.rule.code()).collect()
}

/// Asserts that the plan reports `code`.
#[track_caller]
fn assert_finding(plan: &Plan, code: &str) {
    assert!(
        codes(plan).contains(&code),
        "expected {code} in {:?}",
        codes(plan)
    );
}

/// Asserts that the plan has no change of `action`.
fn parse_address(text: &str) -> Address {
    text.parse().expect("an address")
}

#[track_caller]
fn assert_no_action(plan: &Plan, action: &str) {
    let found: Vec<String> = plan
        .changes
        .iter()
        .filter(|c| c.action.name() == action)
        .map(|c| c.address.to_string())
        .collect();
    assert!(found.is_empty(), "unexpected {action} of {found:?}");
}

fn push(live: &mut Value, list: &str, item: Value) {
    live[list].as_array_mut().expect("a list").push(item);
}

#[test]
fn the_base_scenario_plans_nothing_and_finds_nothing() {
    let plan = plan_of(BASE, &base_live());
    assert!(plan.is_empty(), "{:?}", plan.changes);
    assert!(plan.findings.is_empty(), "{:?}", plan.findings);
}

#[test]
fn an_undeclared_ou_is_reported_and_left_alone() {
    let mut live = base_live();
    push(
        &mut live,
        "organizational_units",
        json!({ "id": "ou-ab12-bbbbbbbb", "name": "Legacy", "parent_id": "r-ab12" }),
    );
    live["policies"][0]["targets"]
        .as_array_mut()
        .expect("targets")
        .push(json!("ou-ab12-bbbbbbbb"));
    let plan = plan_of(BASE, &live);
    assert_eq!(codes(&plan), ["orgctl::live::unmanaged"]);
    assert_eq!(
        plan.findings[0].address.as_deref(),
        Some(&parse_address("ou:Legacy"))
    );
    assert!(plan.is_empty());
}

#[test]
fn undeclared_accounts_follow_the_business_model_and_the_setting() {
    let mut live = base_live();
    push(
        &mut live,
        "accounts",
        json!({ "id": "333333333333", "name": "console-made", "email": "x@acme-corp.net", "parent_id": "r-ab12" }),
    );
    live["policies"][0]["targets"]
        .as_array_mut()
        .expect("targets")
        .push(json!("333333333333"));
    let plan = plan_of(BASE, &live);
    assert_eq!(codes(&plan), ["orgctl::live::undeclared_account"]);
    assert_eq!(plan.findings[0].severity, orgctl::rules::Severity::Warning);
    let resold = BASE.replace("business_model: ecam", "business_model: resold");
    assert_eq!(
        plan_of(&resold, &live).findings[0].severity,
        orgctl::rules::Severity::Error
    );
    let ignored = BASE.replace(
        "enabled_policy_types",
        "undeclared_accounts: ignore\n  enabled_policy_types",
    );
    assert!(plan_of(&ignored, &live).findings.is_empty());
}

#[test]
fn a_live_email_on_the_wrong_domain_is_a_finding_and_a_manual_step() {
    let mut live = base_live();
    live["accounts"][1]["email"] = json!("aws+acme-prod@nimbus-reseller.net");
    let plan = plan_of(BASE, &live);
    assert_eq!(codes(&plan), ["orgctl::live::email_domain"]);
    assert!(
        plan.changes
            .iter()
            .any(|c| c.action.name() == "change_email")
    );
}

#[test]
fn a_declared_account_closed_in_aws_is_a_finding() {
    let mut live = base_live();
    live["accounts"][1]["status"] = json!("suspended");
    let plan = plan_of(BASE, &live);
    assert_eq!(codes(&plan), ["orgctl::live::account_not_active"]);
    assert!(plan.is_empty());
}

#[test]
fn a_pinned_id_the_organization_lacks_is_an_error() {
    let yaml = BASE.replace("222222222222", "999999999999");
    let plan = plan_of(&yaml, &base_live());
    assert_finding(&plan, "orgctl::live::pinned_missing");
    assert!(plan.has_errors());
    assert!(
        !plan
            .changes
            .iter()
            .any(|c| c.action.name() == "create_account")
    );
}

#[test]
fn two_live_ous_with_one_name_are_ambiguous() {
    let mut live = base_live();
    push(
        &mut live,
        "organizational_units",
        json!({ "id": "ou-ab12-cccccccc", "name": "Workloads", "parent_id": "r-ab12" }),
    );
    live["policies"][0]["targets"]
        .as_array_mut()
        .expect("targets")
        .push(json!("ou-ab12-cccccccc"));
    let plan = plan_of(BASE, &live);
    assert_finding(&plan, "orgctl::live::ambiguous");
}

#[test]
fn a_pinned_ou_under_another_parent_cannot_move() {
    let yaml = BASE
        .replace(
            "  Workloads: {}",
            "  Platform:\n    children:\n      Workloads: { id: ou-ab12-aaaaaaaa }",
        )
        .replace("ou: Workloads,", "ou: Platform/Workloads,");
    let plan = plan_of(&yaml, &base_live());
    assert_finding(&plan, "orgctl::live::ou_cannot_move");
}

#[test]
fn a_pinned_ou_with_a_new_name_is_renamed_not_recreated() {
    let yaml = BASE
        .replace("  Workloads: {}", "  Apps: { id: ou-ab12-aaaaaaaa }")
        .replace("ou: Workloads,", "ou: Apps,");
    let plan = plan_of(&yaml, &base_live());
    let actions: Vec<&str> = plan.changes.iter().map(|c| c.action.name()).collect();
    assert_eq!(actions, ["rename_ou"], "{:?}", plan.changes);
}

#[test]
fn an_ou_that_would_keep_accounts_is_not_deleted() {
    let yaml = BASE
        .replace("  Workloads: {}", "  Workloads: { lifecycle: delete }")
        .replace("ou: Workloads,", "");
    // acme-prod moves to the root: the OU empties and can go.
    let plan = plan_of(&yaml, &base_live());
    assert!(
        !codes(&plan).contains(&"orgctl::live::ou_not_empty"),
        "{:?}",
        plan.findings
    );
    let delete = plan
        .changes
        .iter()
        .position(|c| c.action.name() == "delete_ou")
        .expect("a delete");
    let moved = plan
        .changes
        .iter()
        .position(|c| c.action.name() == "move_account")
        .expect("a move");
    assert!(
        plan.changes[delete]
            .depends_on
            .contains(&plan.changes[moved].address)
    );
    // With an undeclared account left inside, it cannot.
    let mut live = base_live();
    push(
        &mut live,
        "accounts",
        json!({ "id": "333333333333", "name": "stray", "email": "s@acme-corp.net", "parent_id": "ou-ab12-aaaaaaaa" }),
    );
    let plan = plan_of(&yaml, &live);
    assert_finding(&plan, "orgctl::live::ou_not_empty");
}

#[test]
fn detaching_the_last_scp_is_an_error() {
    // A declared SCP replaces nothing, but the live FullAWSAccess is detached by hand out of band:
    let mut live = base_live();
    live["policies"][0]["targets"] = json!(["r-ab12", "111111111111", "222222222222"]);
    let plan = plan_of(BASE, &live);
    assert_eq!(codes(&plan), ["orgctl::live::no_scp"]);
    assert_eq!(
        plan.findings[0].address.as_deref(),
        Some(&parse_address("ou:Workloads"))
    );
}

#[test]
fn more_than_ten_scps_after_the_plan_is_an_error() {
    let yaml = scps_on_workloads(10);
    // Ten declared SCPs are within the offline limit, but FullAWSAccess is attached too: eleven.
    let plan = plan_of(&yaml, &base_live());
    assert_finding(&plan, "orgctl::live::attachment_limit");
}

/// Issue 13: since 2026-05-15 a target takes ten SCPs, and each may hold 10,240 characters.
#[test]
fn a_sixth_scp_and_a_6000_character_scp_are_valid_today() {
    let mut yaml = scps_on_workloads(5);
    let statements: Vec<String> = (0..80)
        .map(|index| format!("{{ Sid: S{index:03}, Effect: Deny, Action: \"ec2:DescribeInstances\", Resource: \"*\" }}"))
        .collect();
    yaml.push_str(&format!(
        "  large:\n    type: service_control\n    document: {{ Version: \"2012-10-17\", Statement: [{}] }}\n    attach: [root]\n",
        statements.join(", ")
    ));
    let resolved = common::resolve_yaml(&yaml);
    assert!(
        !resolved.has_errors(),
        "{}",
        common::render(&resolved.diagnostics)
    );
    let plan = plan_of(&yaml, &base_live());
    assert!(plan.findings.is_empty(), "{:?}", plan.findings);
    let large = plan
        .changes
        .iter()
        .find_map(|change| match &change.action {
            orgctl::plan::Action::CreatePolicy { name, document, .. } if name == "large" => {
                Some(document.chars().count())
            }
            _ => None,
        })
        .expect("the large SCP is created");
    assert!((5_121..=10_240).contains(&large), "{large} characters");
}

/// `BASE` with `count` SCPs attached to `Workloads`.
fn scps_on_workloads(count: usize) -> String {
    let mut yaml = BASE.to_owned();
    yaml.push_str("policies:\n");
    for index in 0..count {
        yaml.push_str(&format!(
            "  deny-{index}:\n    type: service_control\n    document: {{ Version: \"2012-10-17\", Statement: [] }}\n    attach: [Workloads]\n"
        ));
    }
    yaml
}

#[test]
fn closing_beyond_the_quota_is_an_error() {
    let yaml = BASE.replace(
        r#"id: "222222222222" }"#,
        r#"id: "222222222222", lifecycle: close }"#,
    );
    let mut live = base_live();
    live["account_closures"] = json!({ "per_30_days": 10, "used": 10 });
    let plan = plan_of(&yaml, &live);
    assert_eq!(codes(&plan), ["orgctl::live::close_quota"]);
    live["account_closures"] = json!({ "per_30_days": 10, "used": 9 });
    assert!(plan_of(&yaml, &live).findings.is_empty());
}

#[test]
fn swapping_scps_attaches_before_it_detaches() {
    let yaml = format!(
        "{BASE}policies:\n  baseline:\n    type: service_control\n    document: {{ Version: \"2012-10-17\", Statement: [] }}\n    attach: [Workloads]\n"
    );
    let mut live = base_live();
    push(
        &mut live,
        "policies",
        json!({
            "id": "p-aaaaaaaa", "name": "baseline", "type": "service_control",
            "document": "{\"Version\":\"2012-10-17\",\"Statement\":[]}", "targets": ["222222222222"]
        }),
    );
    let plan = plan_of(&yaml, &live);
    let attach = plan
        .changes
        .iter()
        .position(|c| c.action.name() == "attach_policy")
        .expect("attach");
    let detach = plan
        .changes
        .iter()
        .position(|c| c.action.name() == "detach_policy")
        .expect("detach");
    assert!(attach < detach);
}

#[test]
fn the_management_account_needs_no_scp() {
    // SCPs never restrict the management account: no FullAWSAccess there is no finding.
    let mut live = base_live();
    live["policies"][0]["targets"] = json!(["r-ab12", "ou-ab12-aaaaaaaa", "222222222222"]);
    assert!(plan_of(BASE, &live).findings.is_empty());
}

// Regression tests for the planner review (safety of plans against unusual live states).

fn actions(plan: &Plan) -> Vec<(String, String)> {
    plan.changes
        .iter()
        .map(|c| (c.action.name().to_owned(), c.address.to_string()))
        .collect()
}

#[test]
fn a_policy_named_like_an_aws_managed_one_touches_nothing_of_aws() {
    let yaml = format!(
        "{BASE}policies:\n  FullAWSAccess:\n    type: service_control\n    description: mine\n    document: {{ Version: \"2012-10-17\", Statement: [] }}\n    attach: [root]\n"
    );
    let plan = plan_of(&yaml, &base_live());
    assert_finding(&plan, "orgctl::live::ambiguous");
    assert!(
        plan.changes
            .iter()
            .all(|c| !c.address.to_string().contains("FullAWSAccess")),
        "{:?}",
        actions(&plan)
    );
}

#[test]
fn attachments_to_undeclared_targets_are_left_alone() {
    let yaml = format!(
        "{BASE}policies:\n  deny-leave:\n    type: service_control\n    document: {{ Version: \"2012-10-17\", Statement: [] }}\n    attach: [Workloads]\n"
    );
    let mut live = base_live();
    push(
        &mut live,
        "organizational_units",
        json!({ "id": "ou-ab12-bbbbbbbb", "name": "Sandbox", "parent_id": "r-ab12" }),
    );
    push(
        &mut live,
        "accounts",
        json!({ "id": "333333333333", "name": "console", "email": "c@acme-corp.net", "parent_id": "r-ab12" }),
    );
    live["policies"][0]["targets"] = json!([
        "r-ab12",
        "ou-ab12-aaaaaaaa",
        "ou-ab12-bbbbbbbb",
        "111111111111",
        "222222222222",
        "333333333333"
    ]);
    push(
        &mut live,
        "policies",
        json!({
            "id": "p-aaaaaaaa", "name": "deny-leave", "type": "service_control",
            "document": "{\"Version\":\"2012-10-17\",\"Statement\":[]}",
            "targets": ["ou-ab12-aaaaaaaa", "ou-ab12-bbbbbbbb", "333333333333"]
        }),
    );
    let plan = plan_of(&yaml, &live);
    assert_no_action(&plan, "detach_policy");
}

#[test]
fn a_shared_payer_plan_never_changes_the_providers_management_account_or_ous() {
    let yaml = r#"
organization:
  name: hooli
  business_model: ecam
  payer: shared
  provider: { name: Nimbus, email_domain: nimbus-reseller.net }
  customer: { name: Hooli, email_domain: acme-corp.net }
  management_account: { name: distributor-payer, email: payer@nimbus-reseller.net }
accounts:
  hooli-main: { id: "222222222222", email: "aws+acme-prod@acme-corp.net" }
"#;
    let mut live = base_live();
    live["accounts"][0]["name"] = json!("Nimbus Shared Payer");
    live["accounts"][0]["tags"] = json!({ "owner": "nimbus" });
    live["accounts"][1]["name"] = json!("hooli-main");
    let plan = plan_of(yaml, &live);
    assert!(
        plan.changes
            .iter()
            .all(|c| !c.address.to_string().contains("distributor-payer")),
        "{:?}",
        actions(&plan)
    );
    assert_no_action(&plan, "move_account");
}

#[test]
fn another_organizations_management_account_is_an_error() {
    let yaml = BASE.replace(
        "email: payer@nimbus-reseller.net }",
        "email: payer@nimbus-reseller.net, id: \"999999999999\" }",
    );
    let plan = plan_of(&yaml, &base_live());
    assert_finding(&plan, "orgctl::live::wrong_organization");
    assert!(plan.has_errors());
}

#[test]
fn a_pinned_account_is_never_matched_again_by_email() {
    let yaml = BASE.replace(
        r#"  acme-prod: { ou: Workloads, id: "222222222222" }"#,
        "  acme-prod: { ou: Workloads, id: \"222222222222\", email: new-prod@acme-corp.net }\n  acme-prod-v2: { ou: Workloads, email: aws+acme-prod@acme-corp.net }",
    );
    let plan = plan_of(&yaml, &base_live());
    assert_finding(&plan, "orgctl::live::account_claimed_twice");
    assert_no_action(&plan, "rename_account");
}

// Issue 11: two entries resolving to one live account. The file alone cannot show an id of one
// entry and the email of another meeting in one account; the live state can.

#[test]
fn a_copied_retirement_entry_never_closes_the_account_another_entry_declares() {
    // `acme-prod` is matched by its root email; the copied entry pins the same account's id.
    let yaml = BASE.replace(
        r#"  acme-prod: { ou: Workloads, id: "222222222222" }"#,
        "  acme-prod: { ou: Workloads }
  old-sandbox: { ou: Workloads, id: \"222222222222\", email: old@acme-corp.net, lifecycle: close }",
    );
    let plan = plan_of(&yaml, &base_live());
    let claims: Vec<Option<&Address>> = plan
        .findings
        .iter()
        .filter(|f| f.rule.code() == "orgctl::live::account_claimed_twice")
        .map(|f| f.address.as_deref())
        .collect();
    assert_eq!(
        claims,
        [
            Some(&parse_address("account:acme-prod")),
            Some(&parse_address("account:old-sandbox"))
        ]
    );
    let message = &plan.findings[0].message;
    assert!(
        message.contains("222222222222 `acme-prod`"),
        "the finding names the live account: {message}"
    );
    assert!(plan.changes.is_empty(), "{:?}", actions(&plan));
}

#[test]
fn a_copied_removal_entry_never_removes_or_renames_the_account() {
    let yaml = BASE.replace(
        r#"  acme-prod: { ou: Workloads, id: "222222222222" }"#,
        "  acme-prod: { ou: Workloads }
  acme-old: { id: \"222222222222\", email: old@acme-corp.net, lifecycle: remove }
  acme-renamed: { ou: Workloads, id: \"222222222222\", email: other@acme-corp.net }",
    );
    // The same id twice is caught by validation already; the plan refuses it on its own too.
    let resolved = common::resolve_yaml(&yaml);
    let codes: Vec<&str> = resolved.diagnostics.iter().map(|d| d.rule.code()).collect();
    assert!(
        codes.contains(&"orgctl::account::duplicate_id"),
        "{codes:?}"
    );
    let live = snapshot::parse("live.json", base_live().to_string().as_bytes())
        .expect("the snapshot parses");
    let plan = plan::plan(&resolved.desired, &live, &PlanInput::default());
    assert!(plan.changes.is_empty(), "{:?}", actions(&plan));
    assert_eq!(
        plan.findings
            .iter()
            .filter(|f| f.rule.code() == "orgctl::live::account_claimed_twice")
            .count(),
        3
    );
}

#[test]
fn a_close_names_the_live_account_it_closes() {
    let yaml = BASE.replace(
        r#"  acme-prod: { ou: Workloads, id: "222222222222" }"#,
        "  retired: { ou: Workloads, id: \"222222222222\", lifecycle: close }",
    );
    let plan = plan_of(&yaml, &base_live());
    let text = orgctl::render::plan_text(
        &plan,
        "live.json",
        orgctl::render::TextStyle { colour: false },
    );
    assert!(
        text.contains(r#"close 222222222222 "acme-prod""#),
        "the live id and name are shown: {text}"
    );
}

#[test]
fn a_pinned_ou_is_never_matched_again_by_name() {
    // `Workloads` is pinned under a new name; a new `Workloads` must be created, not matched to it.
    let yaml = BASE.replace(
        "  Workloads: {}",
        "  Apps: { id: ou-ab12-aaaaaaaa }\n  Workloads: {}",
    );
    let plan = plan_of(&yaml, &base_live());
    let actions = actions(&plan);
    assert!(
        actions.contains(&("rename_ou".to_owned(), "ou:Apps".to_owned())),
        "{actions:?}"
    );
    assert!(
        actions.contains(&("create_ou".to_owned(), "ou:Workloads".to_owned())),
        "{actions:?}"
    );
}

#[test]
fn enabling_scps_expects_full_aws_access_everywhere() {
    let mut live = base_live();
    live["root"]["enabled_policy_types"] = json!([]);
    live["policies"] = json!([]);
    let plan = plan_of(BASE, &live);
    assert!(
        !codes(&plan).contains(&"orgctl::live::no_scp"),
        "{:?}",
        plan.findings
    );
    assert!(
        plan.changes
            .iter()
            .any(|c| c.action.name() == "enable_policy_type")
    );
}

#[test]
fn a_target_at_the_limit_detaches_before_it_attaches() {
    // Workloads holds FullAWSAccess and four declared SCPs (five, AWS's limit); the file swaps
    // scp-3 for scp-4 there. Attaching first would make six for a moment.
    let mut yaml = format!("{BASE}policies:\n");
    let mut live = base_live();
    for index in 0..5 {
        let target = if index == 3 { "root" } else { "Workloads" };
        yaml.push_str(&format!(
            "  scp-{index}:\n    type: service_control\n    document: {{ Version: \"2012-10-17\", Statement: [] }}\n    attach: [{target}]\n"
        ));
        if index < 4 {
            push(
                &mut live,
                "policies",
                json!({
                    "id": format!("p-0000000{index}"), "name": format!("scp-{index}"), "type": "service_control",
                    "document": "{\"Version\":\"2012-10-17\",\"Statement\":[]}", "targets": ["ou-ab12-aaaaaaaa"]
                }),
            );
        }
    }
    let plan = plan_of(&yaml, &live);
    assert!(!plan.has_errors(), "{:?}", plan.findings);
    let position = |action: &str, address: &str| {
        plan.changes
            .iter()
            .position(|c| c.action.name() == action && c.address == parse_address(address))
            .expect(address)
    };
    let detach = position(
        "detach_policy",
        "attachment:service_control/scp-3->ou:Workloads",
    );
    let attach = position(
        "attach_policy",
        "attachment:service_control/scp-4->ou:Workloads",
    );
    assert!(detach < attach);
    assert!(
        plan.changes[attach]
            .depends_on
            .contains(&plan.changes[detach].address)
    );
}

#[test]
fn an_ou_is_deleted_only_after_its_accounts_leave() {
    let yaml = BASE
        .replace("  Workloads: {}", "  Workloads: { lifecycle: delete }")
        .replace(
            r#"ou: Workloads, id: "222222222222" }"#,
            r#"id: "222222222222", lifecycle: remove }"#,
        );
    let plan = plan_of(&yaml, &base_live());
    let remove = plan
        .changes
        .iter()
        .position(|c| c.action.name() == "remove_account")
        .expect("a removal");
    let delete = plan
        .changes
        .iter()
        .position(|c| c.action.name() == "delete_ou")
        .expect("a delete");
    assert!(
        plan.changes[delete]
            .depends_on
            .contains(&plan.changes[remove].address),
        "{:?}",
        plan.changes
    );
}

#[test]
fn the_file_cannot_put_accounts_into_an_ou_it_deletes() {
    let yaml = BASE.replace("  Workloads: {}", "  Workloads: { lifecycle: delete }");
    let plan = plan_of(&yaml, &base_live());
    assert_finding(&plan, "orgctl::live::ou_not_empty");
}

#[test]
fn a_rename_onto_a_siblings_name_is_refused() {
    // `Workloads` (pinned) is to become `Apps`, but an undeclared sibling is already called `Apps`.
    let yaml = BASE
        .replace("  Workloads: {}", "  Apps: { id: ou-ab12-aaaaaaaa }")
        .replace("ou: Workloads,", "ou: Apps,");
    let mut live = base_live();
    push(
        &mut live,
        "organizational_units",
        json!({ "id": "ou-ab12-bbbbbbbb", "name": "Apps", "parent_id": "r-ab12" }),
    );
    live["policies"][0]["targets"]
        .as_array_mut()
        .expect("targets")
        .push(json!("ou-ab12-bbbbbbbb"));
    let plan = plan_of(&yaml, &live);
    assert_finding(&plan, "orgctl::live::ambiguous");
    assert_no_action(&plan, "rename_ou");
}

/// Issue 12: an undeclared account was `account:<id>`, the address of a declared account named
/// with the same 12 digits.
#[test]
fn an_undeclared_account_and_a_declared_one_named_with_its_id_have_two_addresses() {
    let yaml = format!("{BASE}  \"333333333333\": {{ ou: Workloads }}\n");
    let mut live = base_live();
    live["accounts"]
        .as_array_mut()
        .expect("accounts")
        .push(json!({ "id": "333333333333", "name": "console-made", "email": "someone@acme-corp.net", "parent_id": "ou-ab12-aaaaaaaa" }));
    live["policies"][0]["targets"]
        .as_array_mut()
        .expect("targets")
        .push(json!("333333333333"));
    let plan = plan_of(&yaml, &live);
    let undeclared = plan
        .findings
        .iter()
        .find(|f| f.rule.code() == "orgctl::live::undeclared_account")
        .expect("the undeclared account is reported");
    assert_eq!(
        undeclared.address.as_deref(),
        Some(&parse_address("account_id:333333333333"))
    );
    let created: Vec<&Address> = plan
        .changes
        .iter()
        .filter(|c| c.action.name() == "create_account")
        .map(|c| &c.address)
        .collect();
    assert_eq!(created, [&parse_address("account:333333333333")]);
}
