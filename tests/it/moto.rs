//! The aws backend against moto's server: the real binary, the real SDK, a real AWS API emulator.

use std::collections::BTreeMap;
use std::path::Path;

use orgctl::live::LiveState;
use orgctl::live::snapshot::{self, Snapshot};
use serde_json::Value;

use crate::common::{self, moto::Moto};

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Replaces every moto id in `text` (as a whole word) by the snapshot id it stands for.
fn to_snapshot_ids(text: &str, ids: &BTreeMap<String, String>) -> String {
    let by_moto: BTreeMap<&str, &str> = ids
        .iter()
        .map(|(snapshot, moto)| (moto.as_str(), snapshot.as_str()))
        .collect();
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '-';
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    for c in text.chars().chain(std::iter::once('\0')) {
        if is_word(c) {
            word.push(c);
            continue;
        }
        out.push_str(by_moto.get(word.as_str()).copied().unwrap_or(&word));
        word.clear();
        if c != '\0' {
            out.push(c);
        }
    }
    out
}

/// Policy documents compared as JSON values, not as text.
fn canonical_documents(state: &mut LiveState) {
    for policy in &mut state.policies {
        if let Ok(value) = serde_json::from_str::<Value>(&policy.document) {
            policy.document = value.to_string();
        }
    }
}

/// What the aws backend should read after seeding: the snapshot, except what moto decides
/// (the organization id, the management account's name and email, AWS-managed policy texts).
fn expected_state(example: &LiveState, actual: &LiveState) -> LiveState {
    let mut expected = example.clone();
    expected.organization.id = actual.organization.id.clone();
    expected.organization.management_account_email =
        actual.organization.management_account_email.clone();
    let management = expected.organization.management_account_id.clone();
    let actual_management = actual
        .accounts
        .iter()
        .find(|a| a.id == management)
        .expect("the management account");
    for account in expected.accounts.iter_mut().filter(|a| a.id == management) {
        account.name = actual_management.name.clone();
        account.email = actual_management.email.clone();
    }
    for policy in expected.policies.iter_mut().filter(|p| p.aws_managed) {
        if let Some(actual) = actual.policies.iter().find(|a| a.id == policy.id) {
            policy.description = actual.description.clone();
            policy.document = actual.document.clone();
        }
    }
    expected.account_closures = None;
    canonical_documents(&mut expected);
    expected.normalise();
    expected
}

#[test]
fn an_account_in_no_organization_is_a_clear_error() {
    let (_guard, moto) = Moto::lock();
    let output = moto.orgctl(&["export"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let stderr = stderr(&output);
    assert!(stderr.contains("orgctl::live::aws"), "{stderr}");
    assert!(stderr.contains("DescribeOrganization"), "{stderr}");
    assert!(
        stderr.contains("AWSOrganizationsNotInUseException"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn every_example_reads_and_plans_the_same_through_aws_as_from_its_snapshot() {
    for name in ["direct", "ecam", "resold", "shared-payer", "spam"] {
        let (_guard, moto) = Moto::lock();
        let example = Snapshot::new(format!("examples/{name}/live.json"))
            .load()
            .expect("the snapshot loads");
        let ids = common::moto::runtime().block_on(common::moto::seed(&moto.client(), &example));

        // Export through the aws backend, map moto's ids back, compare with the snapshot.
        let output = moto.orgctl(&["export", "-v"]);
        assert_eq!(output.status.code(), Some(0), "{name}: {}", stderr(&output));
        assert!(
            stderr(&output).contains("AWS requests"),
            "{name}: -v reports the request count"
        );
        let exported = to_snapshot_ids(&String::from_utf8_lossy(&output.stdout), &ids);
        let mut actual =
            snapshot::parse("export", exported.as_bytes()).expect("the export is a snapshot");
        canonical_documents(&mut actual);
        let expected = expected_state(&example, &actual);
        assert_eq!(
            actual, expected,
            "{name}: the aws backend read something else than was seeded"
        );

        // Plan through the aws backend with the pinned ids moto chose, and from the snapshot.
        let directory = tempfile::tempdir().expect("a temp dir");
        copy_example(name, directory.path(), &ids);
        let config = directory.path().join("orgctl.yaml");
        let output = moto.orgctl(&["plan", &config.to_string_lossy(), "--format", "json"]);
        assert!(
            output.status.code() == Some(0) || output.status.code() == Some(1),
            "{name}: {}",
            stderr(&output)
        );
        let through_aws: Value = serde_json::from_str(&to_snapshot_ids(
            &String::from_utf8_lossy(&output.stdout),
            &ids,
        ))
        .unwrap_or_else(|error| panic!("{name}: the plan is JSON: {error}\n{}", stderr(&output)));
        let expected_plan = {
            let config = orgctl::config::load(Path::new(&format!("examples/{name}/orgctl.yaml")))
                .expect("loads");
            let desired = orgctl::model::resolve(&config, &orgctl::model::Context::now()).desired;
            serde_json::to_value(orgctl::plan::plan(&desired, &expected, &Default::default()))
                .expect("JSON")
        };
        for field in ["changes", "findings", "summary"] {
            assert_eq!(
                through_aws[field], expected_plan[field],
                "{name}: the plans' {field} differ"
            );
        }
    }
}

/// Copies `examples/<name>` into `directory`, with the pinned ids replaced by moto's.
fn copy_example(name: &str, directory: &Path, ids: &BTreeMap<String, String>) {
    let source = common::root().join("examples").join(name);
    let mut yaml = std::fs::read_to_string(source.join("orgctl.yaml")).expect("the example");
    for (snapshot_id, moto_id) in ids {
        yaml = yaml.replace(&format!("\"{snapshot_id}\""), &format!("\"{moto_id}\""));
    }
    std::fs::write(directory.join("orgctl.yaml"), yaml).expect("writable");
    if let Ok(entries) = std::fs::read_dir(source.join("policies")) {
        std::fs::create_dir_all(directory.join("policies")).expect("writable");
        for entry in entries.flatten() {
            std::fs::copy(
                entry.path(),
                directory.join("policies").join(entry.file_name()),
            )
            .expect("copied");
        }
    }
}

#[test]
fn out_of_band_changes_are_reported_as_drift() {
    use aws_sdk_organizations::types::{PolicyType, Tag};
    let (_guard, moto) = Moto::lock();
    let client = moto.client();
    let runtime = common::moto::runtime();
    let (management, root_id, ou_id, account_id, policy_id) = runtime.block_on(async {
        let management = common::moto::create_organization(&client).await;
        let root_id = client.list_roots().send().await.expect("roots").roots.unwrap_or_default()[0].id.clone().unwrap_or_default();
        let _ = client.enable_policy_type().root_id(&root_id).policy_type(PolicyType::ServiceControlPolicy).send().await;
        let ou_id = client
            .create_organizational_unit()
            .parent_id(&root_id)
            .name("Workloads")
            .send()
            .await
            .expect("OU")
            .organizational_unit
            .and_then(|o| o.id)
            .unwrap_or_default();
        let status = client
            .create_account()
            .email("aws+acme-prod@acme-corp.net")
            .account_name("acme-prod")
            .tags(Tag::builder().key("CostCenter").value("1234").build().expect("tag"))
            .send()
            .await
            .expect("account")
            .create_account_status
            .expect("status");
        let account_id = status.account_id.expect("moto creates at once");
        client.move_account().account_id(&account_id).source_parent_id(&root_id).destination_parent_id(&ou_id).send().await.expect("move");
        let policy_id = client
            .create_policy()
            .name("deny-leave-org")
            .description("No leaving")
            .content(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"organizations:LeaveOrganization","Resource":"*"}]}"#)
            .r#type(PolicyType::ServiceControlPolicy)
            .send()
            .await
            .expect("policy")
            .policy
            .and_then(|p| p.policy_summary)
            .and_then(|s| s.id)
            .unwrap_or_default();
        client.attach_policy().policy_id(&policy_id).target_id(&ou_id).send().await.expect("attach");
        (management, root_id, ou_id, account_id, policy_id)
    });

    let directory = tempfile::tempdir().expect("a temp dir");
    let domain = management
        .email
        .rsplit_once('@')
        .map(|(_, d)| d.to_owned())
        .unwrap_or_default();
    let yaml = format!(
        r#"organization:
  name: acme
  business_model: ecam
  provider: {{ name: Nimbus, email_domain: {domain} }}
  customer: {{ name: Acme, email_domain: acme-corp.net }}
  management_account: {{ name: "{}", email: "{}", id: "{}" }}
  enabled_policy_types: [service_control]
organizational_units:
  Workloads: {{}}
accounts:
  acme-prod: {{ ou: Workloads, id: "{account_id}", tags: {{ CostCenter: "1234" }} }}
policies:
  deny-leave-org:
    type: service_control
    description: No leaving
    document: {{ Version: "2012-10-17", Statement: [{{ Effect: Deny, Action: "organizations:LeaveOrganization", Resource: "*" }}] }}
    attach: [Workloads]
"#,
        management.name, management.email, management.id,
    );
    let config = directory.path().join("orgctl.yaml");
    std::fs::write(&config, yaml).expect("writable");
    let config = config.to_string_lossy().into_owned();
    let drift = |moto: &Moto| {
        let output = moto.orgctl(&["drift", &config]);
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr(&output),
        )
    };

    let (code, lines, errors) = drift(moto);
    assert_eq!(
        code,
        Some(0),
        "a converged organization has no drift:\n{lines}\n{errors}"
    );
    // The header names the organization the credentials reached, not only the file's name.
    let organization = runtime
        .block_on(client.describe_organization().send())
        .expect("DescribeOrganization")
        .organization
        .and_then(|organization| organization.id)
        .expect("an organization id");
    assert_eq!(
        lines,
        format!(
            "orgctl drift for acme (ecam), against AWS at {} (organization {organization}, management account {})\nNo drift: the organization matches the configuration.\n",
            moto.endpoint, management.id
        )
    );

    let out_of_band: [(&str, &str); 4] = [
        ("tag", "~ account:acme-prod  update_tags"),
        ("move", "-> account:acme-prod  move_account"),
        (
            "detach",
            "+ attachment:service_control/deny-leave-org->ou:Workloads  attach_policy",
        ),
        ("account", "warning account_id:"),
    ];
    for (change, expected) in out_of_band {
        runtime.block_on(async {
            match change {
                "tag" => {
                    let tag = Tag::builder()
                        .key("owner")
                        .value("someone")
                        .build()
                        .expect("tag");
                    client
                        .tag_resource()
                        .resource_id(&account_id)
                        .tags(tag)
                        .send()
                        .await
                        .expect("tag");
                }
                "move" => {
                    client
                        .move_account()
                        .account_id(&account_id)
                        .source_parent_id(&ou_id)
                        .destination_parent_id(&root_id)
                        .send()
                        .await
                        .expect("move");
                }
                "detach" => {
                    client
                        .detach_policy()
                        .policy_id(&policy_id)
                        .target_id(&ou_id)
                        .send()
                        .await
                        .expect("detach");
                }
                _ => {
                    client
                        .create_account()
                        .email("shadow-it@acme-corp.net")
                        .account_name("shadow-it")
                        .send()
                        .await
                        .expect("account");
                }
            }
        });
        let (code, lines, errors) = drift(moto);
        assert_eq!(code, Some(2), "{change}: drift exits 2\n{lines}\n{errors}");
        assert!(
            lines.lines().any(|line| line.starts_with(expected)),
            "{change}: expected `{expected}` in\n{lines}"
        );
    }
}

/// moto 5.2.5 answers both `State` and `Status`, and closes an account straight to SUSPENDED in
/// both (AWS: PENDING_CLOSURE, then State CLOSED with Status SUSPENDED). The aws backend reads
/// what moto says: a closed account is suspended there.
#[test]
fn a_closed_account_reads_as_suspended_through_moto() {
    use aws_sdk_organizations::types::{AccountState as AwsState, AccountStatus as AwsStatus};
    use orgctl::live::AccountState;
    let (_guard, moto) = Moto::lock();
    let client = moto.client();
    let runtime = common::moto::runtime();
    let (account_id, state, status) = runtime.block_on(async {
        common::moto::create_organization(&client).await;
        let account_id = client
            .create_account()
            .email("aws+old@acme-corp.net")
            .account_name("old")
            .send()
            .await
            .expect("account")
            .create_account_status
            .and_then(|status| status.account_id)
            .expect("moto creates at once");
        client
            .close_account()
            .account_id(&account_id)
            .send()
            .await
            .expect("closed");
        let account = client
            .describe_account()
            .account_id(&account_id)
            .send()
            .await
            .expect("described")
            .account
            .expect("an account");
        (
            account_id,
            account.state().cloned(),
            account.status().cloned(),
        )
    });
    assert_eq!(state, Some(AwsState::Suspended));
    assert_eq!(status, Some(AwsStatus::Suspended));
    let output = moto.orgctl(&["export"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let live = snapshot::parse("export", &output.stdout).expect("a snapshot");
    let account = live
        .accounts
        .iter()
        .find(|account| account.id == account_id)
        .expect("the closed account stays in the organization");
    assert_eq!(account.state, AccountState::Suspended);
}
