//! IAM inside member accounts, through moto (which keeps IAM per account when a role is assumed
//! into it): partner roles and the end customer's user land in the member accounts and not in the
//! management account; an expired or removed partner is revoked; IAM orgctl did not create is
//! never touched; no password reaches stdout, stderr, a plan or `-vv` output.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use aws_config::BehaviorVersion;
use aws_config::sts::AssumeRoleProvider;
use aws_sdk_iam as iam;
use aws_sdk_organizations::config::{Region, SharedCredentialsProvider};

use crate::common::describe;
use crate::common::moto::{Management, Moto, create_organization, credentials, runtime};

/// An IAM client in the management account (`None`) or, through `OrganizationAccountAccessRole`,
/// in a member account.
async fn iam_client(moto: &Moto, account: Option<&str>) -> iam::Client {
    let base = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(&moto.endpoint)
        .credentials_provider(credentials())
        .load()
        .await;
    let Some(account) = account else {
        return iam::Client::new(&base);
    };
    let provider = AssumeRoleProvider::builder(format!(
        "arn:aws:iam::{account}:role/OrganizationAccountAccessRole"
    ))
    .session_name("orgctl-tests")
    .configure(&base)
    .build()
    .await;
    let config = iam::config::Builder::from(&base)
        .credentials_provider(SharedCredentialsProvider::new(provider))
        .build();
    iam::Client::from_conf(config)
}

/// `path + name` of every role in the account.
async fn roles(client: &iam::Client) -> Vec<String> {
    let listed = client.list_roles().send().await.expect("ListRoles");
    let mut names: Vec<String> = listed
        .roles()
        .iter()
        .map(|role| format!("{}{}", role.path(), role.role_name()))
        .collect();
    names.sort();
    names
}

/// `path + name` of every user in the account.
async fn users(client: &iam::Client) -> Vec<String> {
    let listed = client.list_users().send().await.expect("ListUsers");
    let mut names: Vec<String> = listed
        .users()
        .iter()
        .map(|user| format!("{}{}", user.path(), user.user_name()))
        .collect();
    names.sort();
    names
}

fn config(management: &Management, partners: &str, customer_user: bool) -> String {
    let user = if customer_user {
        "  end_customer_access: iam_user\n  end_customer_user: { name: initech-admin }\n"
    } else {
        ""
    };
    format!(
        r#"organization:
  name: initech
  business_model: spam
  provider: {{ name: Provider, email_domain: example.com }}
  customer: {{ name: Initech, email_domain: initech-corp.net }}
  management_account: {{ name: "{}", email: "{}", id: "{}" }}
{user}organizational_units:
  Workloads: {{}}
accounts:
  initech-prod: {{ ou: Workloads }}
  initech-dev: {{ ou: Workloads }}
{partners}"#,
        management.name, management.email, management.id
    )
}

fn partner(until: &str) -> String {
    format!(
        r#"partners:
  msp:
    account_id: "999988887777"
    role_name: MspOperations
    external_id: initech-2026
    managed_policies: [arn:aws:iam::aws:policy/ReadOnlyAccess]
    ous: [Workloads]
    until: {until}
"#
    )
}

struct Run<'a> {
    moto: &'a Moto,
    config: String,
    passwords: String,
}

impl Run<'_> {
    fn write(&self, yaml: &str) {
        std::fs::write(&self.config, yaml).expect("writable");
    }

    fn apply(&self) -> std::process::Output {
        self.moto.orgctl(&[
            "apply",
            &self.config,
            "--auto-approve",
            "--password-file",
            &self.passwords,
            "-vv",
        ])
    }

    fn plan(&self, extra: &[&str]) -> std::process::Output {
        let mut args = vec!["plan", self.config.as_str(), "-vv"];
        args.extend(extra);
        self.moto.orgctl(&args)
    }

    fn account_id(&self, name: &str) -> String {
        let output = self.moto.orgctl(&["export"]);
        let state: serde_json::Value = serde_json::from_slice(&output.stdout).expect("a snapshot");
        state["accounts"]
            .as_array()
            .expect("accounts")
            .iter()
            .find(|account| account["name"] == name)
            .and_then(|account| account["id"].as_str())
            .unwrap_or_else(|| panic!("account {name}"))
            .to_owned()
    }
}

/// An organization in the IAM-ready moto, with `initech-prod` and `initech-dev` applied: the
/// partner's role in both (when `partner_until` is given) and the customer's user in both.
struct Scenario {
    _guard: std::sync::MutexGuard<'static, ()>,
    management: Management,
    directory: tempfile::TempDir,
    run: Run<'static>,
    applied: std::process::Output,
    prod: String,
    dev: String,
}

impl Scenario {
    fn applied(partner_until: Option<&str>) -> Self {
        let (guard, moto) = Moto::lock_iam();
        let management = runtime().block_on(create_organization(&moto.client()));
        let directory = tempfile::tempdir().expect("a temp dir");
        let path = |name: &str| directory.path().join(name).to_string_lossy().into_owned();
        let run = Run {
            moto,
            config: path("orgctl.yaml"),
            passwords: path("passwords"),
        };
        let partners = partner_until.map(partner).unwrap_or_default();
        run.write(&config(&management, &partners, true));
        let applied = run.apply();
        assert_eq!(applied.status.code(), Some(0), "{}", describe(&applied));
        let prod = run.account_id("initech-prod");
        let dev = run.account_id("initech-dev");
        Self {
            _guard: guard,
            management,
            directory,
            run,
            applied,
            prod,
            dev,
        }
    }

    fn moto(&self) -> &'static Moto {
        self.run.moto
    }

    /// The IAM client of a member account, through `OrganizationAccountAccessRole`.
    fn iam(&self, account: &str) -> iam::Client {
        runtime().block_on(iam_client(self.moto(), Some(account)))
    }

    /// Makes a role orgctl did not create (no path, no tag) in `account`.
    fn create_foreign_role(&self, account: &str, name: &str) {
        runtime()
            .block_on(
                self.iam(account)
                    .create_role()
                    .role_name(name)
                    .assume_role_policy_document(r#"{"Version":"2012-10-17","Statement":[]}"#)
                    .send(),
            )
            .expect("CreateRole out of band");
    }

    fn actions_and_reasons(&self) -> Vec<(String, String)> {
        let planned = self.run.plan(&["--format", "json"]);
        let plan: serde_json::Value = serde_json::from_slice(&planned.stdout).expect("a plan");
        plan["changes"]
            .as_array()
            .expect("changes")
            .iter()
            .map(|c| {
                (
                    c["action"].as_str().unwrap_or_default().to_owned(),
                    c["reason"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect()
    }

    #[track_caller]
    fn assert_converged(&self) {
        let planned = self.run.plan(&["--detailed-exitcode"]);
        assert_eq!(planned.status.code(), Some(0), "{}", describe(&planned));
    }
}

#[test]
fn partner_roles_and_customer_users_land_in_the_member_accounts() {
    let scenario = Scenario::applied(Some("2099-12-31"));
    let runtime = runtime();
    for account in [&scenario.prod, &scenario.dev] {
        let client = scenario.iam(account);
        let roles = runtime.block_on(roles(&client));
        assert!(
            roles.contains(&"/orgctl/MspOperations".to_owned()),
            "{account}: {roles:?}"
        );
        assert_eq!(runtime.block_on(users(&client)), ["/orgctl/initech-admin"]);
        let role = runtime
            .block_on(client.get_role().role_name("MspOperations").send())
            .expect("GetRole");
        let trust = percent_encoding::percent_decode_str(
            role.role()
                .and_then(|r| r.assume_role_policy_document())
                .unwrap_or_default(),
        )
        .decode_utf8_lossy()
        .into_owned();
        assert!(
            trust.contains("arn:aws:iam::999988887777:root") && trust.contains("initech-2026"),
            "{trust}"
        );
        let attached = runtime
            .block_on(
                client
                    .list_attached_role_policies()
                    .role_name("MspOperations")
                    .send(),
            )
            .expect("ListAttachedRolePolicies");
        let arns: Vec<&str> = attached
            .attached_policies()
            .iter()
            .filter_map(|p| p.policy_arn())
            .collect();
        assert_eq!(arns, ["arn:aws:iam::aws:policy/ReadOnlyAccess"]);
        let inline = runtime
            .block_on(
                client
                    .list_user_policies()
                    .user_name("initech-admin")
                    .send(),
            )
            .expect("ListUserPolicies");
        assert_eq!(inline.policy_names(), ["require-mfa"]);
        runtime
            .block_on(client.get_login_profile().user_name("initech-admin").send())
            .expect("a console login profile");
    }
    scenario.assert_converged();
}

#[test]
fn nothing_of_it_lands_in_the_management_account() {
    let scenario = Scenario::applied(Some("2099-12-31"));
    let runtime = runtime();
    let management_iam = runtime.block_on(iam_client(scenario.moto(), None));
    let management_roles = runtime.block_on(roles(&management_iam));
    assert!(
        !management_roles.iter().any(|r| r.starts_with("/orgctl/")),
        "{management_roles:?}"
    );
    assert!(runtime.block_on(users(&management_iam)).is_empty());
}

#[test]
fn one_time_passwords_go_to_the_private_password_file_and_nowhere_else() {
    let scenario = Scenario::applied(Some("2099-12-31"));
    let run = &scenario.run;
    let mode = std::fs::metadata(&run.passwords)
        .expect("written")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let passwords: Vec<String> = std::fs::read_to_string(&run.passwords)
        .expect("readable")
        .lines()
        .map(|line| line.rsplit('\t').next().expect("a password").to_owned())
        .collect();
    assert_eq!(passwords.len(), 2, "one per user");
    // What a job log would hold: the apply, plans in every form, a second apply, at -vv.
    let outputs = [
        scenario.applied.clone(),
        run.plan(&["--detailed-exitcode"]),
        run.plan(&["--format", "json"]),
        run.plan(&["--format", "markdown"]),
        run.apply(),
    ];
    for output in &outputs {
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        for password in &passwords {
            assert!(
                !text.contains(password.as_str()),
                "a password was printed:\n{text}"
            );
        }
    }
    assert!(Path::new(&run.passwords).exists());
}

#[test]
fn iam_orgctl_did_not_create_is_left_alone() {
    let scenario = Scenario::applied(Some("2099-12-31"));
    scenario.create_foreign_role(&scenario.prod, "CustomerAutomation");
    scenario.assert_converged();
}

#[test]
fn an_exported_snapshot_holds_the_iam_and_plans_empty_offline() {
    let scenario = Scenario::applied(Some("2099-12-31"));
    let run = &scenario.run;
    let snapshot = scenario.directory.path().join("live.json");
    let snapshot = snapshot.to_str().expect("a UTF-8 path");
    let exported = scenario
        .moto()
        .orgctl(&["export", "--config", &run.config, "--out", snapshot]);
    assert_eq!(exported.status.code(), Some(0), "{}", describe(&exported));
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(snapshot).expect("written")).expect("JSON");
    assert_eq!(state["iam"].as_array().map(Vec::len), Some(2), "{state}");
    // A pull-request job plans from it, without credentials, and finds nothing to do.
    let offline = scenario.moto().orgctl(&[
        "plan",
        &run.config,
        "--state",
        snapshot,
        "--detailed-exitcode",
    ]);
    assert_eq!(offline.status.code(), Some(0), "{}", describe(&offline));
}

#[test]
fn an_imported_file_declares_the_partner_and_the_user_and_revokes_nothing() {
    let scenario = Scenario::applied(Some("2099-12-31"));
    let imported = scenario.directory.path().join("imported.yaml");
    let imported = imported.to_str().expect("a UTF-8 path");
    let import = scenario.moto().orgctl(&[
        "import",
        "--out",
        imported,
        "--business-model",
        "spam",
        "--customer-domain",
        "initech-corp.net",
    ]);
    assert_eq!(import.status.code(), Some(0), "{}", describe(&import));
    let yaml = std::fs::read_to_string(imported).expect("written");
    assert!(
        yaml.contains("  msp:\n    account_id: \"999988887777\"")
            && yaml.contains("external_id: initech-2026"),
        "{yaml}"
    );
    assert!(
        yaml.contains("end_customer_user:\n    name: initech-admin"),
        "{yaml}"
    );
    let planned = scenario
        .moto()
        .orgctl(&["plan", imported, "--detailed-exitcode"]);
    assert_eq!(planned.status.code(), Some(0), "{}", describe(&planned));
}

#[test]
fn a_contract_that_ended_revokes_the_roles_and_keeps_the_users() {
    let scenario = Scenario::applied(Some("2099-12-31"));
    scenario.create_foreign_role(&scenario.prod, "CustomerAutomation");
    scenario
        .run
        .write(&config(&scenario.management, &partner("2020-01-31"), true));
    let planned = scenario.actions_and_reasons();
    assert_eq!(planned.len(), 2, "{planned:?}");
    assert!(
        planned
            .iter()
            .all(|(action, reason)| action == "delete_role"
                && reason.contains("ended on 2020-01-31")),
        "{planned:?}"
    );
    let applied = scenario.run.apply();
    assert_eq!(applied.status.code(), Some(0), "{}", describe(&applied));
    let runtime = runtime();
    for account in [&scenario.prod, &scenario.dev] {
        let client = scenario.iam(account);
        let roles = runtime.block_on(roles(&client));
        assert!(
            !roles.iter().any(|r| r.starts_with("/orgctl/")),
            "{account}: {roles:?}"
        );
        assert_eq!(
            runtime.block_on(users(&client)),
            ["/orgctl/initech-admin"],
            "users stay"
        );
    }
    let roles = runtime.block_on(roles(&scenario.iam(&scenario.prod)));
    assert!(
        roles.contains(&"/CustomerAutomation".to_owned()),
        "{roles:?}"
    );
    scenario.assert_converged();
}

#[test]
fn a_role_of_the_partners_name_made_by_someone_else_stops_the_apply_untouched() {
    let scenario = Scenario::applied(None);
    scenario.create_foreign_role(&scenario.dev, "MspOperations");
    scenario
        .run
        .write(&config(&scenario.management, &partner("2099-12-31"), true));
    let applied = scenario.run.apply();
    assert_eq!(applied.status.code(), Some(1), "{}", describe(&applied));
    assert!(
        String::from_utf8_lossy(&applied.stderr).contains("that orgctl did not create"),
        "{}",
        describe(&applied)
    );
    let runtime = runtime();
    let dev_iam = scenario.iam(&scenario.dev);
    assert!(
        runtime
            .block_on(roles(&dev_iam))
            .contains(&"/MspOperations".to_owned()),
        "untouched"
    );
    // Once its owner removes it, the partner gets its role.
    runtime
        .block_on(dev_iam.delete_role().role_name("MspOperations").send())
        .expect("DeleteRole out of band");
    let applied = scenario.run.apply();
    assert_eq!(applied.status.code(), Some(0), "{}", describe(&applied));
    scenario.assert_converged();
}

#[test]
fn a_partner_gone_from_the_file_is_revoked_through_the_accounts_marks() {
    // With the partner goes the last IAM the file asks for: the accounts' `orgctl:iam` tags
    // still lead the plan to the roles.
    let scenario = Scenario::applied(Some("2099-12-31"));
    scenario.run.write(&config(&scenario.management, "", false));
    let planned = scenario.actions_and_reasons();
    let reasons: Vec<&str> = planned
        .iter()
        .filter(|(action, _)| action == "delete_role")
        .map(|(_, reason)| reason.as_str())
        .collect();
    assert_eq!(reasons.len(), 2, "{planned:?}");
    assert!(
        reasons
            .iter()
            .all(|r| r.contains("partner `msp` is no longer in the file")),
        "{reasons:?}"
    );
    let applied = scenario.run.apply();
    assert_eq!(applied.status.code(), Some(0), "{}", describe(&applied));
    scenario.assert_converged();
}

#[test]
fn a_hand_over_that_did_not_finish_is_made_by_the_next_apply_and_never_again() {
    // Under ECAM the provider hands each new account over with a user and touches it no more.
    // An account still marked `orgctl:handover` (its user was never made: an apply that failed
    // after creating it) gets its user from the next apply.
    let directory = tempfile::tempdir().expect("a temp dir");
    let state = directory.path().join("live.json");
    let mut live: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string("examples/ecam/live.json").expect("readable"),
    )
    .expect("JSON");
    for account in live["accounts"].as_array_mut().expect("accounts") {
        if account["id"] == "444444444444" {
            account["tags"]["orgctl:handover"] = "pending".into();
        }
    }
    std::fs::write(&state, live.to_string()).expect("writable");
    let state = state.to_str().expect("UTF-8");
    let passwords = directory.path().join("passwords");
    let passwords = passwords.to_str().expect("UTF-8");
    let plan = |args: &[&str]| {
        let mut all = vec!["plan", "examples/ecam/orgctl.yaml", "--state", state];
        all.extend(args);
        crate::common::orgctl(&all)
    };
    let planned = plan(&["--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&planned.stdout).expect("a plan");
    let users: Vec<(&str, &str)> = json["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .filter(|c| c["action"] == "put_user")
        .map(|c| {
            (
                c["address"].as_str().unwrap_or(""),
                c["reason"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        users.len(),
        2,
        "the new account's and the unfinished one's: {users:?}"
    );
    assert!(
        users.iter().any(
            |(address, reason)| *address == "user:acme-prod/end-customer"
                && reason.contains("was not made yet")
        ),
        "{users:?}"
    );

    let applied = crate::common::orgctl(&[
        "apply",
        "examples/ecam/orgctl.yaml",
        "--state",
        state,
        "--auto-approve",
        "--allow-close",
        "--password-file",
        passwords,
    ]);
    assert_eq!(applied.status.code(), Some(0), "{}", describe(&applied));
    let planned = plan(&["--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&planned.stdout).expect("a plan");
    let remaining: Vec<&str> = json["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .filter_map(|c| c["action"].as_str())
        .collect();
    assert!(
        remaining.is_empty(),
        "nothing is left, and no user is made twice: {remaining:?}"
    );
    let live = std::fs::read_to_string(state).expect("readable");
    assert!(!live.contains("orgctl:handover"), "every mark is gone");
    assert_eq!(
        std::fs::read_to_string(passwords)
            .expect("written")
            .lines()
            .count(),
        2
    );
}

/// Issue 11: CreateLoginProfile made the password, its answer was lost, and the SDK's retry found
/// the profile existing. The password in the file is the one set: the apply reports it done.
#[test]
fn a_login_profile_whose_answer_was_lost_is_reported_set() {
    let (_guard, moto) = Moto::lock_iam();
    let runtime = runtime();
    let management = runtime.block_on(create_organization(&moto.client()));
    let directory = tempfile::tempdir().expect("a temp dir");
    let config = directory.path().join("orgctl.yaml");
    std::fs::write(&config, config_text(&management)).expect("writable");
    let passwords = directory.path().join("passwords");
    // Every first CreateLoginProfile is made upstream, then answered with a server error.
    let proxy = crate::common::proxy::FaultProxy::start(&moto.endpoint, 5, 1.0);
    proxy.configure(
        r#"{"faults": ["error_after"], "only": ["CreateLoginProfile"], "max_consecutive": 2}"#,
    );
    let applied = moto
        .command(&[
            "apply",
            config.to_str().expect("UTF-8"),
            "--auto-approve",
            "--password-file",
            passwords.to_str().expect("UTF-8"),
            "--format",
            "json",
        ])
        .env("AWS_ENDPOINT_URL", &proxy.endpoint)
        .output()
        .expect("orgctl runs");
    assert_eq!(applied.status.code(), Some(0), "{}", describe(&applied));
    let stats: serde_json::Value = serde_json::from_str(&proxy.stats()).expect("stats");
    assert!(
        stats["faults"]["error_after"].as_u64() >= Some(2),
        "each user's first CreateLoginProfile lost its answer: {stats}"
    );
    let report: serde_json::Value = serde_json::from_slice(&applied.stdout).expect("a report");
    let users: Vec<&str> = report["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter(|r| r["action"] == "put_user")
        .map(|r| r["status"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(users, ["done", "done"], "{report}");
    let recorded = std::fs::read_to_string(&passwords).expect("the password file");
    assert_eq!(recorded.lines().count(), 2, "one password per user");
    for name in ["initech-prod", "initech-dev"] {
        let output = moto.orgctl(&["export"]);
        let state: serde_json::Value = serde_json::from_slice(&output.stdout).expect("a snapshot");
        let id = state["accounts"]
            .as_array()
            .expect("accounts")
            .iter()
            .find(|a| a["name"] == name)
            .and_then(|a| a["id"].as_str())
            .expect("the account")
            .to_owned();
        let client = runtime.block_on(iam_client(moto, Some(&id)));
        runtime
            .block_on(client.get_login_profile().user_name("initech-admin").send())
            .unwrap_or_else(|error| panic!("{name}: the console password is set: {error:?}"));
    }
}

fn config_text(management: &Management) -> String {
    config(management, "", true)
}
