//! The aws backend against fakecloud, the second AWS API emulator: what moto lacks (CreateAccount
//! that takes time, Account Management's PutAccountName), and the organization tests that make
//! sense on both.

use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use aws_sdk_organizations as organizations;
use organizations::types::CreateAccountState;
use orgctl::rules::Rule;
use serde_json::Value;

use crate::apply::{APPLY_ALL, apply_and_converge, export, only_manual, planned_changes, scenario};
use crate::common::fakecloud::Fakecloud;
use crate::common::moto::{Management, create_organization, runtime};
use crate::common::{self, Emulator, describe};

/// A small organization: nested OUs with tags, accounts with tags, a service control policy and
/// a tag policy. fakecloud attaches `FullAWSAccess` to the root only, not to new OUs and accounts
/// as AWS does, so the service control policy is attached to every target: none may be left
/// without one.
const SMALL: &str = r#"
organizational_units:
  Workloads:
    tags: { tier: workloads }
    children:
      Prod: {}
  Sandbox: {}
accounts:
  acme-prod: { ou: Workloads/Prod, tags: { CostCenter: "1234" } }
  acme-lab: { ou: Sandbox }
policies:
  deny-leave-org:
    type: service_control
    description: No leaving
    document: { Version: "2012-10-17", Statement: [{ Effect: Deny, Action: "organizations:LeaveOrganization", Resource: "*" }] }
    attach: [root, Workloads, Workloads/Prod, Sandbox, acme-prod, acme-lab]
  cost-center:
    type: tag
    description: CostCenter tags
    document: { tags: { CostCenter: { tag_key: { "@@assign": CostCenter } } } }
    attach: [Workloads/Prod]
"#;

/// `accounts` (each as `name: { … }`), each with an SCP of its own (see [`SMALL`]).
fn with_scp(accounts: &[String]) -> String {
    let names: Vec<&str> = accounts
        .iter()
        .filter_map(|account| account.split(':').next())
        .collect();
    format!(
        r#"accounts:
{}
policies:
  allow-all:
    type: service_control
    document: {{ Version: "2012-10-17", Statement: [{{ Effect: Allow, Action: "*", Resource: "*" }}] }}
    attach: [root, {}]
"#,
        accounts
            .iter()
            .map(|account| format!("  {account}"))
            .collect::<Vec<_>>()
            .join("\n"),
        names.join(", ")
    )
}

/// The emulator's organization, created for the default account.
fn organization(fakecloud: &Fakecloud) -> Management {
    runtime().block_on(create_organization(&fakecloud.client()))
}

/// The ids of the live accounts named `name`.
fn ids_named(fakecloud: &Fakecloud, name: &str) -> Vec<String> {
    export(fakecloud)
        .accounts
        .into_iter()
        .filter(|account| account.name == name)
        .map(|account| account.id)
        .collect()
}

/// The rule codes of a JSON plan's findings.
fn finding_rules(output: &Output) -> Vec<String> {
    let plan: Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|error| panic!("the plan is JSON ({error}): {}", describe(output)));
    plan["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|finding| finding["code"].as_str().map(str::to_owned))
        .collect()
}

/// The creation requests fakecloud reports in progress, as account names.
fn creations_in_progress(client: &organizations::Client) -> Vec<String> {
    runtime()
        .block_on(
            client
                .list_create_account_status()
                .states(CreateAccountState::InProgress)
                .send(),
        )
        .expect("ListCreateAccountStatus")
        .create_account_statuses
        .unwrap_or_default()
        .into_iter()
        .filter_map(|status| status.account_name)
        .collect()
}

#[test]
fn a_small_organization_applies_through_fakecloud_and_plans_empty() {
    let (_guard, fakecloud) = Fakecloud::lock();
    let management = organization(fakecloud);
    let directory = tempfile::tempdir().expect("a temp dir");
    let report = apply_and_converge(
        fakecloud,
        directory.path(),
        &scenario(&management, SMALL),
        "create",
    );
    assert_eq!(report["summary"]["failed"], 0, "{report:#}");
    let state = export(fakecloud);
    let prod = state
        .accounts
        .iter()
        .find(|account| account.name == "acme-prod")
        .expect("acme-prod exists");
    assert_eq!(prod.tags["CostCenter"], "1234");
    assert_eq!(ids_named(fakecloud, "acme-lab").len(), 1);
    assert!(
        state
            .policies
            .iter()
            .any(|policy| policy.name == "cost-center" && policy.targets.len() == 1),
        "{:?}",
        state.policies
    );
}

/// Applies a file that creates `name` in the background, and plans it while fakecloud reports
/// the creation in progress. Returns the plan, or `None` when the creation settled before the
/// plan could read it (fakecloud settles a creation after one to two seconds).
fn plan_while_creating(
    fakecloud: &Fakecloud,
    config: &Path,
    name: &str,
) -> (Option<Output>, Output) {
    let config = config.to_string_lossy().into_owned();
    let mut args = vec!["apply", config.as_str()];
    args.extend(APPLY_ALL);
    let mut apply = fakecloud.command(&args).spawn().expect("apply starts");
    let client = fakecloud.client();
    let started = Instant::now();
    while !creations_in_progress(&client).iter().any(|n| n == name) {
        let ended = apply.try_wait().expect("apply runs").is_some();
        if ended {
            return (None, apply.wait_with_output().expect("apply ends"));
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "apply started no creation of {name}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let plan = fakecloud.orgctl(&["plan", &config, "--format", "json"]);
    let still_creating = creations_in_progress(&client).iter().any(|n| n == name);
    let applied = apply.wait_with_output().expect("apply ends");
    (still_creating.then_some(plan), applied)
}

#[test]
fn an_account_being_created_is_planned_as_such_and_never_created_twice() {
    let (_guard, fakecloud) = Fakecloud::lock();
    let management = organization(fakecloud);
    let directory = tempfile::tempdir().expect("a temp dir");
    let config = directory.path().join("orgctl.yaml");
    // A busy machine can be slower than fakecloud's creation: try a few new accounts until a
    // plan ran entirely while one was in progress.
    let mut observed = None;
    let mut accounts = Vec::new();
    for attempt in 1..=3 {
        let name = format!("acme-new-{attempt}");
        accounts.push(format!("{name}: {{}}"));
        std::fs::write(&config, scenario(&management, &with_scp(&accounts))).expect("writable");
        let (plan, applied) = plan_while_creating(fakecloud, &config, &name);
        assert_eq!(applied.status.code(), Some(0), "{}", describe(&applied));
        if let Some(plan) = plan {
            observed = Some((name, plan));
            break;
        }
    }
    let (name, plan) = observed.expect("a plan ran while a creation was in progress");
    assert_eq!(plan.status.code(), Some(0), "{}", describe(&plan));
    assert!(
        finding_rules(&plan).contains(&Rule::AccountBeingCreated.code().to_owned()),
        "{}",
        describe(&plan)
    );
    assert!(
        !planned_changes(&plan)
            .iter()
            .any(|change| change["action"] == "create_account"),
        "{}",
        describe(&plan)
    );
    // Settled: one account of that name, and nothing left to do.
    assert_eq!(ids_named(fakecloud, &name).len(), 1);
    let config = config.to_string_lossy().into_owned();
    let again = fakecloud.orgctl(&["plan", &config, "--detailed-exitcode"]);
    assert_eq!(again.status.code(), Some(0), "{}", describe(&again));
}

/// The account name GetAccountInformation gives for `account_id`. fakecloud 0.51.0 writes the
/// creation date as epoch seconds where AWS writes an ISO 8601 string, which the SDK refuses to
/// read; the name is then read from the raw answer.
fn account_information_name(fakecloud: &Fakecloud, account_id: &str) -> Option<String> {
    let sent = runtime().block_on(
        fakecloud
            .account_client()
            .get_account_information()
            .account_id(account_id)
            .send(),
    );
    match sent {
        Ok(information) => information.account_name().map(str::to_owned),
        Err(error) => {
            let body = error
                .raw_response()
                .and_then(|response| response.body().bytes())
                .unwrap_or_else(|| panic!("GetAccountInformation: {error:?}"));
            let information: Value = serde_json::from_slice(body).expect("a JSON answer");
            information["AccountName"].as_str().map(str::to_owned)
        }
    }
}

#[test]
fn a_renamed_account_is_renamed_through_put_account_name() {
    let (_guard, fakecloud) = Fakecloud::lock();
    let management = organization(fakecloud);
    let directory = tempfile::tempdir().expect("a temp dir");
    let dir = directory.path();
    apply_and_converge(
        fakecloud,
        dir,
        &scenario(&management, &with_scp(&["acme-lab: {}".to_owned()])),
        "create",
    );
    let [id] = ids_named(fakecloud, "acme-lab")
        .try_into()
        .expect("one acme-lab");
    let renamed = with_scp(&[format!(
        "acme-experiments: {{ id: \"{id}\", email: aws+acme-lab@acme-corp.net }}"
    )]);
    let report = apply_and_converge(fakecloud, dir, &scenario(&management, &renamed), "rename");
    let actions: Vec<&Value> = report["results"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|change| &change["action"])
        .collect();
    assert!(
        actions.iter().any(|action| *action == "rename_account"),
        "{report:#}"
    );
    // Read back through the Account Management API, which PutAccountName writes.
    assert_eq!(
        account_information_name(fakecloud, &id).as_deref(),
        Some("acme-experiments")
    );
    assert_eq!(ids_named(fakecloud, "acme-experiments"), [id]);
}

/// An Organizations client that acts as `account_id`, with the access key of an IAM user there
/// that the test server makes (fakecloud's STS gives no session in an account without a role
/// that trusts the caller, and an account invited from outside has none).
fn client_as(fakecloud: &Fakecloud, account_id: &str) -> organizations::Client {
    let key: Value = serde_json::from_str(
        fakecloud
            .post(&format!("/_orgctl/credentials/{account_id}"))
            .split("\r\n\r\n")
            .nth(1)
            .expect("a body"),
    )
    .expect("a JSON body");
    let credentials = organizations::config::Credentials::new(
        key["AccessKeyId"].as_str().expect("an access key id"),
        key["SecretAccessKey"].as_str().expect("a secret"),
        None,
        None,
        "fakecloud-user",
    );
    let config = organizations::Config::builder()
        .behavior_version(organizations::config::BehaviorVersion::latest())
        .region(organizations::config::Region::new("us-east-1"))
        .endpoint_url(&fakecloud.endpoint)
        .credentials_provider(credentials)
        .build();
    organizations::Client::from_conf(config)
}

#[test]
fn an_invited_account_accepts_the_handshake_with_its_own_credentials() {
    use organizations::types::{HandshakeParty, HandshakePartyType, HandshakeState};
    const INVITED: &str = "210987654321";
    let (_guard, fakecloud) = Fakecloud::lock();
    organization(fakecloud);
    runtime().block_on(async {
        let management = fakecloud.client();
        let target = HandshakeParty::builder()
            .r#type(HandshakePartyType::Account)
            .id(INVITED)
            .build()
            .expect("a party");
        let handshake = management
            .invite_account_to_organization()
            .target(target)
            .send()
            .await
            .expect("InviteAccountToOrganization")
            .handshake
            .expect("a handshake");
        assert_eq!(handshake.state, Some(HandshakeState::Open));
        let id = handshake.id.expect("a handshake id");

        let invited = client_as(fakecloud, INVITED);
        // The management account cannot accept for the invited account.
        let refused = management.accept_handshake().handshake_id(&id).send().await;
        assert!(refused.is_err(), "{refused:?}");
        let offered = invited
            .list_handshakes_for_account()
            .send()
            .await
            .expect("ListHandshakesForAccount")
            .handshakes
            .unwrap_or_default();
        assert!(
            offered.iter().any(|h| h.id.as_deref() == Some(id.as_str())),
            "{offered:?}"
        );
        let accepted = invited
            .accept_handshake()
            .handshake_id(&id)
            .send()
            .await
            .expect("AcceptHandshake")
            .handshake
            .expect("a handshake");
        assert_eq!(accepted.state, Some(HandshakeState::Accepted));

        let members: Vec<String> = management
            .list_accounts()
            .send()
            .await
            .expect("ListAccounts")
            .accounts
            .unwrap_or_default()
            .into_iter()
            .filter_map(|account| account.id)
            .collect();
        assert!(members.iter().any(|m| m == INVITED), "{members:?}");
        let seen = management
            .list_handshakes_for_organization()
            .send()
            .await
            .expect("ListHandshakesForOrganization")
            .handshakes
            .unwrap_or_default();
        assert!(
            seen.iter().any(|h| h.id.as_deref() == Some(id.as_str())
                && h.state == Some(HandshakeState::Accepted)),
            "{seen:?}"
        );
    });
}

#[test]
fn edits_apply_through_fakecloud_and_converge() {
    let (_guard, fakecloud) = Fakecloud::lock();
    let management = organization(fakecloud);
    let directory = tempfile::tempdir().expect("a temp dir");
    let dir = directory.path();
    apply_and_converge(fakecloud, dir, &scenario(&management, SMALL), "create");
    let state = export(fakecloud);
    let sandbox = state
        .organizational_units
        .iter()
        .find(|ou| ou.name == "Sandbox")
        .map(|ou| ou.id.clone())
        .expect("Sandbox");
    let [lab] = ids_named(fakecloud, "acme-lab")
        .try_into()
        .expect("one acme-lab");
    // Rename an OU (pinned), add one and move an account into it, retag an account and an OU,
    // change a policy and move another's attachment.
    let policies = |scp_targets: &str| {
        format!(
            r#"
policies:
  deny-leave-org:
    type: service_control
    description: Members cannot leave the organization
    document: {{ Version: "2012-10-17", Statement: [{{ Sid: NoLeaving, Effect: Deny, Action: "organizations:LeaveOrganization", Resource: "*" }}] }}
    attach: [root, Workloads, Workloads/Prod, Workloads/Staging, {scp_targets}]
  cost-center:
    type: tag
    description: CostCenter tags
    document: {{ tags: {{ CostCenter: {{ tag_key: {{ "@@assign": CostCenter }} }} }} }}
    attach: [Workloads]
"#
        )
    };
    let edit = format!(
        r#"
organizational_units:
  Workloads:
    tags: {{ tier: workloads, owner: platform }}
    children:
      Prod: {{}}
      Staging: {{}}
  Experiments: {{ id: "{sandbox}" }}
accounts:
  acme-prod: {{ ou: Workloads/Staging, tags: {{ CostCenter: "5678" }} }}
  acme-lab: {{ ou: Experiments }}
{}"#,
        policies("Experiments, acme-prod, acme-lab")
    );
    apply_and_converge(fakecloud, dir, &scenario(&management, &edit), "edit");
    let state = export(fakecloud);
    assert!(
        state
            .organizational_units
            .iter()
            .any(|ou| ou.id == sandbox && ou.name == "Experiments"),
        "renamed in place"
    );
    let prod = state
        .accounts
        .iter()
        .find(|account| account.name == "acme-prod")
        .expect("acme-prod");
    assert_eq!(prod.tags["CostCenter"], "5678");

    // Remove an account from the organization, delete the OU it leaves empty.
    let retire = format!(
        r#"
organizational_units:
  Workloads:
    tags: {{ tier: workloads, owner: platform }}
    children:
      Prod: {{}}
      Staging: {{}}
  Experiments: {{ lifecycle: delete }}
accounts:
  acme-prod: {{ ou: Workloads/Staging, tags: {{ CostCenter: "5678" }} }}
  acme-lab: {{ ou: Experiments, id: "{lab}", lifecycle: remove }}
{}"#,
        policies("acme-prod")
    );
    apply_and_converge(fakecloud, dir, &scenario(&management, &retire), "retire");
    let state = export(fakecloud);
    assert!(!state.accounts.iter().any(|a| a.id == lab), "acme-lab left");
    assert!(
        !state.organizational_units.iter().any(|ou| ou.id == sandbox),
        "Experiments is deleted"
    );
}

/// Applies `config` through fakecloud with every change allowed, and checks that it succeeded.
fn apply_config(fakecloud: &Fakecloud, config: &str) {
    let mut args = vec!["apply", config];
    args.extend(APPLY_ALL);
    let applied = fakecloud.orgctl(&args);
    assert_eq!(applied.status.code(), Some(0), "{}", describe(&applied));
}

/// `(action, address)` of a JSON plan's changes.
fn actions_and_addresses(output: &Output) -> Vec<(String, String)> {
    planned_changes(output)
        .iter()
        .map(|change| {
            (
                change["action"].as_str().unwrap_or_default().to_owned(),
                change["address"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// The invited account answers the invitation open for it, with its own credentials: accepts it,
/// or declines it.
fn answer_invitation(fakecloud: &Fakecloud, account_id: &str, accept: bool) {
    runtime().block_on(async {
        let invited = client_as(fakecloud, account_id);
        let id = invited
            .list_handshakes_for_account()
            .send()
            .await
            .expect("ListHandshakesForAccount")
            .handshakes
            .unwrap_or_default()
            .into_iter()
            .find_map(|handshake| handshake.id)
            .expect("an invitation to answer");
        if accept {
            invited
                .accept_handshake()
                .handshake_id(&id)
                .send()
                .await
                .expect("AcceptHandshake");
        } else {
            invited
                .decline_handshake()
                .handshake_id(&id)
                .send()
                .await
                .expect("DeclineHandshake");
        }
    });
}

/// An account outside the organization, declared with `join: invite`, through orgctl: invited,
/// shown waiting while the invitation is open (read back from ListHandshakesForOrganization),
/// accepted as the invited account, then placed and tagged by the next apply.
#[test]
fn an_invited_account_waits_accepts_and_is_placed_through_fakecloud() {
    const INVITED: &str = "210987654399";
    let (_guard, fakecloud) = Fakecloud::lock();
    let management = organization(fakecloud);
    let directory = tempfile::tempdir().expect("a temp dir");
    let yaml = scenario(
        &management,
        &format!(
            "organizational_units:\n  Acquired: {{}}\n{}",
            with_scp(&[format!(
                "acme-acquired: {{ id: \"{INVITED}\", join: invite, ou: Acquired, tags: {{ team: data }} }}"
            )])
            .replace("attach: [root, acme-acquired]", "attach: [root, Acquired, acme-acquired]")
        ),
    );
    let config = common::write_config(directory.path(), &yaml);

    let planned = fakecloud.orgctl(&["plan", &config, "--format", "json"]);
    let changes = actions_and_addresses(&planned);
    assert!(
        changes.contains(&(
            "invite_account".to_owned(),
            "account:acme-acquired".to_owned()
        )),
        "{changes:?}"
    );
    apply_config(fakecloud, &config);

    // Waiting: the invitation is read back from AWS, and nothing is sent again.
    let waiting = fakecloud.orgctl(&["plan", &config, "--format", "json"]);
    assert!(
        finding_rules(&waiting).contains(&Rule::InvitationOpen.code().to_owned()),
        "{}",
        describe(&waiting)
    );
    assert!(
        !actions_and_addresses(&waiting)
            .iter()
            .any(|(action, _)| action == "invite_account"),
        "{}",
        describe(&waiting)
    );

    answer_invitation(fakecloud, INVITED, true);
    apply_config(fakecloud, &config);
    // Only a person's step is left: fakecloud gave the account a root email on another domain
    // than the customer's, and only its holder can change it.
    let after = fakecloud.orgctl(&["plan", &config, "--format", "json"]);
    assert!(
        only_manual(&planned_changes(&after)),
        "{}",
        describe(&after)
    );
    let state = export(fakecloud);
    let joined = state
        .accounts
        .iter()
        .find(|account| account.id == INVITED)
        .expect("the invited account is a member");
    assert_eq!(joined.tags.get("team").map(String::as_str), Some("data"));
    let acquired = state
        .organizational_units
        .iter()
        .find(|ou| ou.name == "Acquired")
        .expect("the OU");
    assert_eq!(joined.parent_id, acquired.id);
}

/// An invitation the account declines is planned again, and says so.
#[test]
fn a_declined_invitation_is_planned_again_through_fakecloud() {
    const INVITED: &str = "210987654398";
    let (_guard, fakecloud) = Fakecloud::lock();
    let management = organization(fakecloud);
    let directory = tempfile::tempdir().expect("a temp dir");
    let config = common::write_config(
        directory.path(),
        &scenario(
            &management,
            &format!("accounts:\n  acme-acquired: {{ id: \"{INVITED}\", join: invite }}\n"),
        ),
    );
    apply_config(fakecloud, &config);
    answer_invitation(fakecloud, INVITED, false);
    let planned = fakecloud.orgctl(&["plan", &config, "--format", "json"]);
    let invites: Vec<String> = planned_changes(&planned)
        .iter()
        .filter(|change| change["action"] == "invite_account")
        .filter_map(|change| change["reason"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(invites.len(), 1, "{}", describe(&planned));
    assert!(invites[0].ends_with("was DECLINED"), "{invites:?}");
}
