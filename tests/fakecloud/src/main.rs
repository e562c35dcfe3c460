//! A small AWS emulator for orgctl's integration tests: fakecloud's Organizations,
//! Account Management, IAM and STS services, and nothing else, on one loopback port.
//!
//! Usage: `orgctl-fakecloud PORT`. It serves the AWS API on `127.0.0.1:PORT`, and two routes
//! of its own:
//! - `POST /_orgctl/reset` forgets every organization, account and IAM entity, so that one
//!   server serves many tests one after another;
//! - `POST /_orgctl/credentials/ACCOUNT_ID` answers an access key of an IAM user in that
//!   account (made the first time), `{"AccessKeyId": …, "SecretAccessKey": …}`: requests
//!   signed with it act as that account, e.g. to accept an invitation to an organization.
//!
//! Requests whose credentials fakecloud does not know act as the default account
//! `123456789012`; credentials that fakecloud issued (an IAM access key, an STS session)
//! act as their own account.
//!
//! Two pieces of wiring are this server's own, where fakecloud 0.51.0 differs from AWS in a
//! way orgctl's tests cannot work around. fakecloud's Account Management service keeps the
//! names `PutAccountName` sets apart from Organizations, whereas in AWS the new name is the
//! account's name everywhere: [`Renames`] copies a successful rename into the organization
//! holding the account, so `ListAccounts` shows it as AWS does. And fakecloud answers operations that have no output (`MoveAccount`, `AttachPolicy`, …) with the JSON
//! `null`, which the AWS SDK for Rust refuses ("expected object"); [`null_as_empty_object`]
//! answers `{}` instead, as AWS does.

use std::net::SocketAddr;
use std::sync::Arc;

use async_trait::async_trait;
use axum::body::Body;
use axum::extract::Path;
use axum::http::Response;
use axum::routing::post;
use axum::{Extension, Router};
use fakecloud_account::{AccountService, SharedAccountState};
use fakecloud_core::dispatch::{self, DispatchConfig};
use fakecloud_core::multi_account::MultiAccountState;
use fakecloud_core::registry::ServiceRegistry;
use fakecloud_core::service::{AwsRequest, AwsResponse, AwsService, AwsServiceError};
use fakecloud_iam::iam_service::IamService;
use fakecloud_iam::sts_service::StsService;
use fakecloud_iam::SharedIamState;
use fakecloud_organizations::resolver::{
    OrganizationsMembershipResolver, OrganizationsScpResolver,
};
use fakecloud_organizations::{
    OrganizationsRegistry, OrganizationsService, SharedOrganizationsState,
};

/// The account a request acts as when its credentials are unknown to the emulator.
const DEFAULT_ACCOUNT_ID: &str = "123456789012";
/// The region the services answer in.
const REGION: &str = "us-east-1";

/// The state of every service this emulator runs, shared with the reset route.
#[derive(Clone)]
struct States {
    organizations: SharedOrganizationsState,
    account: SharedAccountState,
    iam: SharedIamState,
}

impl States {
    /// Empty state for every service; `endpoint` is the URL the server answers on.
    fn new(endpoint: &str) -> Self {
        Self {
            organizations: Arc::new(parking_lot::RwLock::new(OrganizationsRegistry::default())),
            account: Arc::new(parking_lot::RwLock::new(MultiAccountState::new(
                DEFAULT_ACCOUNT_ID,
                REGION,
                endpoint,
            ))),
            iam: Arc::new(parking_lot::RwLock::new(MultiAccountState::new(
                DEFAULT_ACCOUNT_ID,
                REGION,
                endpoint,
            ))),
        }
    }

    /// An access key of the IAM user `orgctl-tests` in `account_id`, made if missing: the
    /// account exists from then on, and requests signed with the key act as it.
    fn credentials(&self, account_id: &str) -> fakecloud_iam::IamAccessKey {
        const USER: &str = "orgctl-tests";
        let mut accounts = self.iam.write();
        let state = accounts.get_or_create(account_id);
        state
            .users
            .entry(USER.to_owned())
            .or_insert_with(|| fakecloud_iam::IamUser {
                user_name: USER.to_owned(),
                user_id: format!("AIDAORGCTL{account_id}"),
                arn: format!("arn:aws:iam::{account_id}:user/{USER}"),
                path: "/".to_owned(),
                created_at: chrono::Utc::now(),
                tags: Vec::new(),
                permissions_boundary: None,
            });
        state.access_keys.entry(USER.to_owned()).or_insert_with(|| {
            vec![fakecloud_iam::IamAccessKey {
                access_key_id: format!("AKIAORGCTL{account_id}"),
                secret_access_key: format!("orgctl-tests-{account_id}"),
                user_name: USER.to_owned(),
                status: "Active".to_owned(),
                created_at: chrono::Utc::now(),
            }]
        })[0]
            .clone()
    }

    /// Forgets every organization, account setting and IAM entity.
    fn reset(&self) {
        self.organizations.write().clear();
        self.account.write().reset();
        self.iam.write().reset();
    }
}

/// fakecloud's Account Management service, with renames copied into Organizations.
struct Renames {
    account: AccountService,
    organizations: SharedOrganizationsState,
}

impl Renames {
    /// After a successful `PutAccountName`: the account it renamed (the caller's own when the
    /// request names none) takes the new name in the organization that holds it.
    fn copy_to_organizations(&self, body: &[u8], caller: &str) {
        let Ok(body) = serde_json::from_slice::<serde_json::Value>(body) else {
            return;
        };
        let Some(name) = body["AccountName"].as_str() else {
            return;
        };
        let account_id = body["AccountId"].as_str().unwrap_or(caller);
        let mut organizations = self.organizations.write();
        if let Some(account) = organizations
            .org_of_account_mut(account_id)
            .and_then(|organization| organization.accounts.get_mut(account_id))
        {
            account.name = name.to_owned();
        }
    }
}

#[async_trait]
impl AwsService for Renames {
    fn service_name(&self) -> &str {
        self.account.service_name()
    }

    async fn handle(&self, request: AwsRequest) -> Result<AwsResponse, AwsServiceError> {
        let renames = request.path_segments.last().map(String::as_str) == Some("putAccountName");
        let body = renames.then(|| request.body.clone());
        let account_id = request.account_id.clone();
        let response = self.account.handle(request).await?;
        if let Some(body) = body {
            self.copy_to_organizations(&body, &account_id);
        }
        Ok(response)
    }

    fn supported_actions(&self) -> &[&str] {
        self.account.supported_actions()
    }
}

/// Registers Organizations, Account Management, IAM and STS over the shared state.
fn services(states: &States) -> ServiceRegistry {
    let mut registry = ServiceRegistry::new();
    let iam = IamService::new(states.iam.clone());
    let sts = StsService::new(states.iam.clone())
        .with_snapshot_lock(iam.snapshot_lock())
        .with_org_membership(OrganizationsMembershipResolver::shared(
            states.organizations.clone(),
        ));
    registry.register(Arc::new(iam));
    registry.register(Arc::new(sts));
    registry.register(Arc::new(OrganizationsService::new(
        states.organizations.clone(),
    )));
    registry.register(Arc::new(Renames {
        account: AccountService::new(states.account.clone()),
        organizations: states.organizations.clone(),
    }));
    registry
}

/// Answers `{}` where fakecloud answers the JSON `null` (an operation without output).
async fn null_as_empty_object(response: Response<Body>) -> Response<Body> {
    let (mut parts, body) = response.into_parts();
    // The server counts the new body's length.
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    let body = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) if bytes.as_ref() == b"null" => Body::from("{}"),
        Ok(bytes) => Body::from(bytes),
        Err(error) => Body::from(format!("fakecloud's answer could not be read: {error}")),
    };
    Response::from_parts(parts, body)
}

/// How requests are dispatched: credentials resolve through IAM, no signature
/// verification, no IAM enforcement.
fn dispatch_config(states: &States) -> DispatchConfig {
    let mut config = DispatchConfig::new(REGION, DEFAULT_ACCOUNT_ID);
    config.credential_resolver =
        Some(fakecloud_iam::credential_resolver::IamCredentialResolver::shared(states.iam.clone()));
    config.scp_resolver = Some(OrganizationsScpResolver::shared(
        states.organizations.clone(),
    ));
    config
}

/// The loopback port from the command line.
fn port_from_arguments() -> Result<u16, String> {
    let mut arguments = std::env::args().skip(1);
    match (arguments.next(), arguments.next()) {
        (Some(port), None) => port
            .parse()
            .map_err(|_| format!("`{port}` is not a port number")),
        _ => Err("usage: orgctl-fakecloud PORT".to_string()),
    }
}

#[tokio::main]
async fn main() {
    let port = match port_from_arguments() {
        Ok(port) => port,
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(2);
        }
    };
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    let listener = match tokio::net::TcpListener::bind(address).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("cannot listen on {address}: {error}");
            std::process::exit(1);
        }
    };
    let states = States::new(&format!("http://{address}"));
    let registry = Arc::new(services(&states));
    let config = Arc::new(dispatch_config(&states));
    let app = Router::new()
        .route(
            "/_orgctl/reset",
            post({
                let states = states.clone();
                move || async move {
                    states.reset();
                    "reset"
                }
            }),
        )
        .route(
            "/_orgctl/credentials/{account_id}",
            post({
                let states = states.clone();
                move |Path(account_id): Path<String>| async move {
                    let key = states.credentials(&account_id);
                    axum::Json(serde_json::json!({
                        "AccessKeyId": key.access_key_id,
                        "SecretAccessKey": key.secret_access_key,
                    }))
                }
            }),
        )
        .fallback(dispatch::dispatch)
        .layer(axum::middleware::map_response(null_as_empty_object))
        .layer(Extension(registry))
        .layer(Extension(config));
    let served = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await;
    if let Err(error) = served {
        eprintln!("server stopped: {error}");
        std::process::exit(1);
    }
}
