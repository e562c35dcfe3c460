//! A moto server (AWS API emulator) on a loopback port, shared by the tests of this binary.
//!
//! It is started once, from `.venv/bin/moto_server` (scripts/moto-venv.sh installs it; the
//! `ORGCTL_MOTO_SERVER` variable points elsewhere), under a shell that kills it when this test
//! process exits (the shell waits on a pipe only we hold). Tests take [`Moto::lock`], which resets
//! the emulator, so each starts from an empty AWS.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use aws_sdk_organizations as organizations;
use organizations::config::{BehaviorVersion, Credentials, Region};
use organizations::types::{OrganizationFeatureSet, Tag, TargetType};
use orgctl::live::{LiveState, aws::to_aws};

use super::{Emulator, root};

pub struct Moto {
    pub endpoint: String,
    _guard: Mutex<Child>,
}

static SERVER: OnceLock<Moto> = OnceLock::new();
static LOCK: Mutex<()> = Mutex::new(());
static IAM_SERVER: OnceLock<Moto> = OnceLock::new();
static IAM_LOCK: Mutex<()> = Mutex::new(());

impl Moto {
    /// The shared server, reset, held for the caller's test.
    pub fn lock() -> (MutexGuard<'static, ()>, &'static Moto) {
        let guard = LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let moto = SERVER.get_or_init(|| start(&[]));
        moto.post("/moto-api/reset");
        (guard, moto)
    }

    /// A second server that knows AWS's managed IAM policies (`arn:aws:iam::aws:policy/...`),
    /// for the tests that attach them. Loading them makes every CreateAccount slower, so the other
    /// tests use [`Moto::lock`].
    pub fn lock_iam() -> (MutexGuard<'static, ()>, &'static Moto) {
        let guard = IAM_LOCK
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let moto = IAM_SERVER.get_or_init(|| start(&[("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")]));
        moto.post("/moto-api/reset");
        (guard, moto)
    }

    /// A minimal HTTP POST (moto's control API needs no client library).
    fn post(&self, path: &str) -> String {
        let address = self.endpoint.trim_start_matches("http://");
        let mut stream = TcpStream::connect(address).expect("moto answers");
        write!(stream, "POST {path} HTTP/1.1\r\nHost: {address}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            .expect("moto takes the request");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("moto responds");
        assert!(
            response.starts_with("HTTP/1.1 200") || response.starts_with("HTTP/1.0 200"),
            "{path}: {response}"
        );
        response
    }

    /// An Organizations client for seeding and out-of-band changes, with dummy credentials.
    pub fn client(&self) -> organizations::Client {
        client_at(&self.endpoint)
    }

    /// An Account Management client, for out-of-band changes to alternate contacts, with dummy
    /// credentials (it acts as the management account).
    pub fn account_client(&self) -> aws_sdk_account::Client {
        let config = aws_sdk_account::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(&self.endpoint)
            .credentials_provider(credentials())
            .build();
        aws_sdk_account::Client::from_conf(config)
    }

    /// Runs the orgctl binary against this server through the aws backend.
    pub fn orgctl(&self, args: &[&str]) -> std::process::Output {
        self.command(args).output().expect("the orgctl binary runs")
    }

    /// The orgctl command against this server, not yet started, with standard streams captured.
    pub fn command(&self, args: &[&str]) -> Command {
        orgctl_command(&self.endpoint, args)
    }
}

impl Emulator for Moto {
    fn endpoint(&self) -> &str {
        &self.endpoint
    }
}

/// The orgctl binary against the AWS API at `endpoint` (an emulator, or a proxy in front of
/// one) through the aws backend, not yet started: dummy credentials, no profile files, no colour,
/// standard streams captured.
pub fn orgctl_command(endpoint: &str, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_orgctl"));
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .current_dir(root())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("NO_COLOR", "1")
        .env("COLUMNS", "80")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_CONFIG_FILE", "/nonexistent/orgctl-tests/config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/orgctl-tests/credentials",
        )
        .env("AWS_EC2_METADATA_DISABLED", "true");
    command
}

/// An Organizations client of `endpoint` (moto, or a proxy in front of it), with dummy
/// credentials.
pub fn client_at(endpoint: &str) -> organizations::Client {
    let config = organizations::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(credentials())
        .build();
    organizations::Client::from_conf(config)
}

/// The dummy credentials moto accepts.
pub fn credentials() -> Credentials {
    Credentials::new("testing", "testing", None, None, "orgctl-tests")
}

fn start(env: &[(&str, &str)]) -> Moto {
    let binary = std::env::var_os("ORGCTL_MOTO_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join(".venv/bin/moto_server"));
    assert!(
        binary.is_file(),
        "moto_server not found at {}: run scripts/moto-venv.sh (scripts/test.sh does)",
        binary.display()
    );
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free loopback port")
        .port();
    let script = format!(
        "'{}' -H 127.0.0.1 -p {port} >/dev/null 2>&1 & server=$!; cat >/dev/null; kill $server",
        binary.display()
    );
    let child = Command::new("sh")
        .args(["-c", &script])
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("sh starts moto_server");
    let endpoint = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "moto_server did not start on port {port}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Moto {
        endpoint,
        _guard: Mutex::new(child),
    }
}

/// A runtime for the async SDK inside a sync test.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

fn tags(tags: &BTreeMap<String, String>) -> Vec<Tag> {
    tags.iter()
        .map(|(key, value)| Tag::builder().key(key).value(value).build().expect("a tag"))
        .collect()
}

/// Creates in moto the organization a snapshot describes (moto chooses the ids, and owns the
/// management account's name and email). Returns the ids: snapshot id to moto id.
pub async fn seed(client: &organizations::Client, live: &LiveState) -> BTreeMap<String, String> {
    let mut ids = BTreeMap::new();
    let organization = client
        .create_organization()
        .feature_set(OrganizationFeatureSet::All)
        .send()
        .await
        .expect("CreateOrganization")
        .organization
        .expect("an organization");
    ids.insert(
        live.organization.id.clone(),
        organization.id.unwrap_or_default(),
    );
    let management_id = organization.master_account_id.unwrap_or_default();
    ids.insert(
        live.organization.management_account_id.clone(),
        management_id.clone(),
    );
    let root = client
        .list_roots()
        .send()
        .await
        .expect("ListRoots")
        .roots
        .unwrap_or_default()
        .remove(0);
    let root_id = root.id.clone().unwrap_or_default();
    ids.insert(live.root.id.clone(), root_id.clone());
    for policy_type in &live.root.enabled_policy_types {
        // moto may enable some types with the organization; enabling twice is refused, which is fine.
        let _ = client
            .enable_policy_type()
            .root_id(&root_id)
            .policy_type(to_aws(*policy_type))
            .send()
            .await;
    }
    for principal in &live.trusted_access {
        client
            .enable_aws_service_access()
            .service_principal(principal)
            .send()
            .await
            .expect("EnableAWSServiceAccess");
    }
    if !live.root.tags.is_empty() {
        client
            .tag_resource()
            .resource_id(&root_id)
            .set_tags(Some(tags(&live.root.tags)))
            .send()
            .await
            .expect("TagResource root");
    }

    // OUs, parents first.
    let mut pending: Vec<_> = live.organizational_units.iter().collect();
    while !pending.is_empty() {
        let before = pending.len();
        let mut later = Vec::new();
        for ou in pending {
            let Some(parent) = ids.get(&ou.parent_id).cloned() else {
                later.push(ou);
                continue;
            };
            let created = client
                .create_organizational_unit()
                .parent_id(parent)
                .name(&ou.name)
                .set_tags((!ou.tags.is_empty()).then(|| tags(&ou.tags)))
                .send()
                .await
                .expect("CreateOrganizationalUnit");
            ids.insert(
                ou.id.clone(),
                created
                    .organizational_unit
                    .and_then(|o| o.id)
                    .unwrap_or_default(),
            );
        }
        assert!(
            later.len() < before,
            "OUs whose parents are missing: {later:?}"
        );
        pending = later;
    }

    for account in &live.accounts {
        if account.id == live.organization.management_account_id {
            if account.parent_id != live.root.id {
                client
                    .move_account()
                    .account_id(&management_id)
                    .source_parent_id(&root_id)
                    .destination_parent_id(&ids[&account.parent_id])
                    .send()
                    .await
                    .expect("MoveAccount management");
            }
            if !account.tags.is_empty() {
                client
                    .tag_resource()
                    .resource_id(&management_id)
                    .set_tags(Some(tags(&account.tags)))
                    .send()
                    .await
                    .expect("TagResource");
            }
            continue;
        }
        let status = client
            .create_account()
            .email(&account.email)
            .account_name(&account.name)
            .set_tags((!account.tags.is_empty()).then(|| tags(&account.tags)))
            .send()
            .await
            .expect("CreateAccount")
            .create_account_status
            .expect("a status");
        let id = match status.account_id {
            Some(id) => id,
            None => client
                .describe_create_account_status()
                .create_account_request_id(status.id.unwrap_or_default())
                .send()
                .await
                .expect("DescribeCreateAccountStatus")
                .create_account_status
                .and_then(|s| s.account_id)
                .expect("an account id"),
        };
        if account.parent_id != live.root.id {
            client
                .move_account()
                .account_id(&id)
                .source_parent_id(&root_id)
                .destination_parent_id(&ids[&account.parent_id])
                .send()
                .await
                .expect("MoveAccount");
        }
        ids.insert(account.id.clone(), id);
    }

    // Policies: AWS-managed ones exist already (their attachments are compared as they are).
    let existing = client
        .list_policies()
        .filter(organizations::types::PolicyType::ServiceControlPolicy)
        .send()
        .await;
    let existing: Vec<_> = existing
        .map(|o| o.policies.unwrap_or_default())
        .unwrap_or_default();
    for policy in &live.policies {
        let id = if policy.aws_managed {
            existing
                .iter()
                .find(|p| p.name.as_deref() == Some(policy.name.as_str()))
                .and_then(|p| p.id.clone())
                .expect("moto has the AWS-managed policy")
        } else {
            client
                .create_policy()
                .name(&policy.name)
                .description(&policy.description)
                .content(&policy.document)
                .r#type(to_aws(policy.policy_type))
                .set_tags((!policy.tags.is_empty()).then(|| tags(&policy.tags)))
                .send()
                .await
                .expect("CreatePolicy")
                .policy
                .and_then(|p| p.policy_summary)
                .and_then(|s| s.id)
                .expect("a policy id")
        };
        ids.insert(policy.id.clone(), id.clone());
        let attached: Vec<String> = client
            .list_targets_for_policy()
            .policy_id(&id)
            .send()
            .await
            .map(|o| {
                o.targets
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|t| t.target_id)
                    .collect()
            })
            .unwrap_or_default();
        for target in &policy.targets {
            let target = &ids[target];
            if !attached.contains(target) {
                client
                    .attach_policy()
                    .policy_id(&id)
                    .target_id(target)
                    .send()
                    .await
                    .expect("AttachPolicy");
            }
        }
        // moto attaches AWS-managed policies to new targets by itself; detach where the snapshot has none.
        let wanted: Vec<&String> = policy.targets.iter().map(|t| &ids[t]).collect();
        let now: Vec<_> = client
            .list_targets_for_policy()
            .policy_id(&id)
            .send()
            .await
            .map(|o| o.targets.unwrap_or_default())
            .unwrap_or_default();
        for target in now {
            let target_id = target.target_id.clone().unwrap_or_default();
            if !wanted.contains(&&target_id) && target.r#type != Some(TargetType::Root) {
                client
                    .detach_policy()
                    .policy_id(&id)
                    .target_id(&target_id)
                    .send()
                    .await
                    .expect("DetachPolicy");
            }
        }
    }
    ids
}

/// The management account of moto's organization (moto chooses its name and email).
pub struct Management {
    pub id: String,
    pub name: String,
    pub email: String,
}

/// Creates moto's organization (all features) and describes its management account.
pub async fn create_organization(client: &organizations::Client) -> Management {
    let organization = client
        .create_organization()
        .feature_set(OrganizationFeatureSet::All)
        .send()
        .await
        .expect("CreateOrganization")
        .organization
        .expect("an organization");
    let account = client
        .describe_account()
        .account_id(organization.master_account_id.unwrap_or_default())
        .send()
        .await
        .expect("DescribeAccount")
        .account
        .expect("the management account");
    Management {
        id: account.id.unwrap_or_default(),
        name: account.name.unwrap_or_default(),
        email: account.email.unwrap_or_default(),
    }
}
