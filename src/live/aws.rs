//! The `aws` backend: the live organization through AWS Organizations. The only module that
//! imports `aws_sdk_*`.
//!
//! # Requests
//!
//! Reading costs, with P parents (the root and every OU), O OUs, A accounts, T enabled policy
//! types, Q customer-managed policies and M AWS-managed ones, D delegated administrators, and
//! single pages:
//!
//! ```text
//! 3                       DescribeOrganization, ListRoots, ListCreateAccountStatus (the
//!                         creations in progress)
//! + 2·P                   ListOrganizationalUnitsForParent and ListAccountsForParent per parent
//! + (1 + O + A)           ListTagsForResource for the root, each OU, each account
//! + T                     ListPolicies per enabled type
//! + 3·Q + 2·M             DescribePolicy, ListTargetsForPolicy (and ListTagsForResource) per policy
//! + 1                     ListAWSServiceAccessForOrganization (trusted access)
//! + 1 + D                 ListDelegatedAdministrators, and ListDelegatedServicesForAccount per
//!                         delegated administrator
//! ```
//!
//! and, read apart (`AwsWriter`'s `read_contacts`), one GetAlternateContact per account and
//! contact type the configuration manages (`plan::read_scope`; `import`: 3 per account),
//! plus one request per extra page (AWS returns at most 20 accounts, OUs, policies or targets a
//! page). Children are listed per parent, so no account needs a ListParents call; targets are
//! listed per policy, never per target. Requests run up to [`CONCURRENCY`] at a time; throttling
//! (`TooManyRequestsException`) and `ConcurrentModificationException` are retried with the SDK's
//! adaptive, jittered back-off. Every attempt is counted (`-v` prints the count).
//!
//! orgctl's own lease policy (`orgctl-lease`), listed with the service control policies, is left
//! out of Q and of the state it reads.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use aws_config::retry::RetryConfig;
use aws_config::sts::AssumeRoleProvider;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_organizations as organizations;
use futures_util::{StreamExt, TryStreamExt, stream};
use organizations::config::interceptors::{
    BeforeTransmitInterceptorContextRef, InterceptorContext,
};
use organizations::config::retry::{ClassifyRetry, RetryAction};
use organizations::config::{ConfigBag, Intercept, RuntimeComponents, SharedCredentialsProvider};
use organizations::error::{BoxError, ProvideErrorMetadata, SdkError};
use organizations::types as aws;

use super::{
    AccountState, Error, InvitationState, LiveAccount, LiveAccountCreation, LiveDelegation,
    LiveInvitation, LiveOrganization, LiveOu, LivePolicy, LiveRoot, LiveState, OrgReader,
};
use crate::config::PolicyType;
use crate::diagnostic::Diagnostic;
use crate::rules::Rule;

mod iam;
mod write;

pub use write::AwsWriter;

/// Sends every page of a paginated request and gathers one list field of the pages; an error
/// becomes the diagnostic of `operation` on `resource`.
macro_rules! all_pages {
    ($request:expr, $field:ident, $operation:literal, $resource:expr) => {
        $request
            .into_paginator()
            .send()
            .try_collect()
            .await
            .map_err(|error| aws_error($operation, $resource, &error))?
            .into_iter()
            .flat_map(|page| page.$field.unwrap_or_default())
            .collect::<Vec<_>>()
    };
}

/// Requests in flight at once: AWS Organizations throttles at a few requests per second per
/// account, so more only buys throttling.
pub const CONCURRENCY: usize = 8;
/// Attempts per request, the first included.
pub const MAX_ATTEMPTS: u32 = 8;

/// How to reach AWS.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// A named profile (otherwise the standard chain: environment, profile, SSO, web identity).
    pub profile: Option<String>,
    /// The region (default `us-east-1`, where Organizations lives).
    pub region: Option<String>,
    /// Another endpoint (a VPC endpoint, an emulator).
    pub endpoint_url: Option<String>,
    /// A role to assume on top of the credentials found.
    pub assume_role: Option<String>,
    /// The external id to present when assuming `assume_role`.
    pub external_id: Option<String>,
    /// Show a progress spinner on stderr.
    pub progress: bool,
    /// `-v`: AWS errors also print their whole chain of causes, as the SDK gave them.
    pub verbose: u8,
}

/// Whether AWS errors print their raw chain of causes (`-v`); set by [`Aws::connect`].
static VERBOSE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// A connection to AWS Organizations.
#[derive(Debug, Clone)]
pub struct Aws {
    client: organizations::Client,
    sdk_config: aws_config::SdkConfig,
    requests: Arc<AtomicUsize>,
    /// IAM clients acting inside member accounts, by account id.
    members: Arc<tokio::sync::Mutex<std::collections::HashMap<String, aws_sdk_iam::Client>>>,
    options: Options,
    progress: Option<indicatif::ProgressBar>,
}

impl Aws {
    /// Loads configuration and credentials, before any request to AWS Organizations: a named
    /// profile must be in the AWS config or credentials file, and credentials must load (an SSO
    /// session that expired says which `aws sso login` to run).
    pub async fn connect(options: &Options) -> Result<Self, Error> {
        VERBOSE.store(options.verbose > 0, Ordering::Relaxed);
        if let Some(profile) = &options.profile {
            check_profile(profile).await?;
        }
        let region = options
            .region
            .clone()
            .unwrap_or_else(|| "us-east-1".to_owned());
        let mut loader =
            aws_config::defaults(BehaviorVersion::latest()).region(Region::new(region));
        if let Some(profile) = &options.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(url) = &options.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        let mut sdk = loader.load().await;
        if let Some(role) = &options.assume_role {
            let mut builder = AssumeRoleProvider::builder(role)
                .session_name("orgctl")
                .configure(&sdk);
            if let Some(external_id) = &options.external_id {
                builder = builder.external_id(external_id);
            }
            let provider = builder.build().await;
            sdk = sdk
                .into_builder()
                .credentials_provider(SharedCredentialsProvider::new(provider))
                .build();
        }
        check_credentials(&sdk, options.profile.as_deref()).await?;
        let requests = Arc::new(AtomicUsize::new(0));
        let config = organizations::config::Builder::from(&sdk)
            .retry_config(
                RetryConfig::adaptive()
                    .with_max_attempts(MAX_ATTEMPTS)
                    // The default ceiling (20 s) turns two throttles into a 40-second call.
                    .with_max_backoff(std::time::Duration::from_secs(5)),
            )
            .retry_classifier(ConcurrentModificationRetry)
            .interceptor(CountRequests(Arc::clone(&requests)))
            .build();
        let progress = options.progress.then(|| {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            bar
        });
        Ok(Self {
            client: organizations::Client::from_conf(config),
            sdk_config: sdk,
            requests,
            members: Arc::default(),
            options: options.clone(),
            progress,
        })
    }

    /// How plans name this source: `AWS`, `AWS profile <name>` or `AWS at <endpoint>` (the
    /// commands add the organization it reached).
    pub fn describe(&self) -> String {
        match (&self.options.endpoint_url, &self.options.profile) {
            (Some(url), _) => format!("AWS at {url}"),
            (None, Some(profile)) => format!("AWS profile {profile}"),
            (None, None) => "AWS".to_owned(),
        }
    }

    /// HTTP requests sent so far, retries included.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::Relaxed)
    }

    /// `read the organization with N AWS requests`, for `-v`.
    pub fn request_report(&self) -> String {
        format!(
            "orgctl: {} AWS requests (retries included)",
            self.requests()
        )
    }

    /// The organizations client, for the writer half.
    pub fn client(&self) -> &organizations::Client {
        &self.client
    }

    /// The organization's root (one request).
    async fn root(&self) -> Result<aws::Root, Error> {
        self.client
            .list_roots()
            .send()
            .await
            .map_err(|error| aws_error("ListRoots", "root", &error))?
            .roots
            .unwrap_or_default()
            .into_iter()
            .next()
            .ok_or_else(|| {
                Error::from(
                    Diagnostic::new(Rule::LiveAws, "the organization has no root")
                        .help("is the organization being created or deleted?"),
                )
            })
    }

    fn tick(&self, stage: &str) {
        if let Some(bar) = &self.progress {
            bar.set_message(format!(
                "reading the organization: {stage} ({} requests)",
                self.requests()
            ));
            bar.tick();
        }
    }

    async fn tags(&self, id: &str) -> Result<BTreeMap<String, String>, Error> {
        let tags: Vec<aws::Tag> = self
            .client
            .list_tags_for_resource()
            .resource_id(id)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|error| aws_error("ListTagsForResource", id, &error))?;
        Ok(tags.into_iter().map(|tag| (tag.key, tag.value)).collect())
    }

    /// The OUs and accounts directly under `parent`.
    async fn children(&self, parent: String) -> Result<(Vec<LiveOu>, Vec<LiveAccount>), Error> {
        let ous: Vec<aws::OrganizationalUnit> = all_pages!(
            self.client
                .list_organizational_units_for_parent()
                .parent_id(&parent)
                .max_results(20),
            organizational_units,
            "ListOrganizationalUnitsForParent",
            &parent
        );
        let accounts: Vec<aws::Account> = all_pages!(
            self.client
                .list_accounts_for_parent()
                .parent_id(&parent)
                .max_results(20),
            accounts,
            "ListAccountsForParent",
            &parent
        );
        let ous = ous
            .into_iter()
            .map(|ou| LiveOu {
                id: ou.id.unwrap_or_default(),
                name: ou.name.unwrap_or_default(),
                parent_id: parent.clone(),
                tags: BTreeMap::new(),
            })
            .collect();
        let accounts = accounts
            .into_iter()
            .map(|account| LiveAccount {
                state: account_state(&account),
                id: account.id.unwrap_or_default(),
                name: account.name.unwrap_or_default(),
                email: account.email.unwrap_or_default(),
                parent_id: parent.clone(),
                tags: BTreeMap::new(),
            })
            .collect();
        Ok((ous, accounts))
    }

    /// Every delegated administrator and the services it administers: one request for the
    /// administrators, then one per administrator.
    async fn delegated_administrators(&self) -> Result<Vec<LiveDelegation>, Error> {
        self.tick("delegated administrators");
        let administrators: Vec<String> = all_pages!(
            self.client.list_delegated_administrators(),
            delegated_administrators,
            "ListDelegatedAdministrators",
            "organization"
        )
        .into_iter()
        .filter_map(|administrator| administrator.id)
        .collect();
        let per_account: Vec<Vec<LiveDelegation>> = stream::iter(administrators)
            .map(|account_id| async move {
                let services = all_pages!(
                    self.client
                        .list_delegated_services_for_account()
                        .account_id(&account_id),
                    delegated_services,
                    "ListDelegatedServicesForAccount",
                    &account_id
                );
                Ok::<_, Error>(
                    services
                        .into_iter()
                        .filter_map(|service| service.service_principal)
                        .map(|service| LiveDelegation {
                            service,
                            account_id: account_id.clone(),
                        })
                        .collect(),
                )
            })
            .buffer_unordered(CONCURRENCY)
            .try_collect()
            .await?;
        Ok(per_account.into_iter().flatten().collect())
    }

    /// The account creations AWS has started and not finished. Their accounts are in no
    /// `ListAccounts` answer yet, so a plan must know of them not to create them again.
    async fn account_creations(&self) -> Result<Vec<LiveAccountCreation>, Error> {
        self.tick("account creations");
        let statuses = all_pages!(
            self.client
                .list_create_account_status()
                .states(aws::CreateAccountState::InProgress),
            create_account_statuses,
            "ListCreateAccountStatus",
            "organization"
        );
        Ok(statuses
            .into_iter()
            .filter_map(|status| {
                Some(LiveAccountCreation {
                    request_id: status.id?,
                    name: status.account_name?,
                })
            })
            .collect())
    }

    async fn policies_of_type(&self, policy_type: PolicyType) -> Result<Vec<LivePolicy>, Error> {
        let summaries: Vec<aws::PolicySummary> = all_pages!(
            self.client
                .list_policies()
                .filter(to_aws(policy_type))
                .max_results(20),
            policies,
            "ListPolicies",
            crate::model::policy_type_name(policy_type)
        );
        stream::iter(summaries)
            // The lease is orgctl's bookkeeping, not the organization's shape.
            .filter(|summary| std::future::ready(!is_lease_policy(policy_type, summary)))
            .map(|summary| self.policy(policy_type, summary))
            .buffer_unordered(CONCURRENCY)
            .try_collect()
            .await
    }

    async fn policy(
        &self,
        policy_type: PolicyType,
        summary: aws::PolicySummary,
    ) -> Result<LivePolicy, Error> {
        let id = summary.id.clone().unwrap_or_default();
        let aws_managed = summary.aws_managed;
        let described = self
            .client
            .describe_policy()
            .policy_id(&id)
            .send()
            .await
            .map_err(|error| aws_error("DescribePolicy", &id, &error))?;
        let document = described.policy.and_then(|p| p.content).unwrap_or_default();
        let mut pages = self
            .client
            .list_targets_for_policy()
            .policy_id(&id)
            .max_results(20)
            .into_paginator()
            .send();
        let mut targets = Vec::new();
        while let Some(page) = pages
            .try_next()
            .await
            .map_err(|error| aws_error("ListTargetsForPolicy", &id, &error))?
        {
            targets.extend(
                page.targets
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|target| target.target_id),
            );
        }
        // AWS-managed policies cannot carry tags.
        let tags = if aws_managed {
            BTreeMap::new()
        } else {
            self.tags(&id).await?
        };
        self.tick("policies");
        Ok(LivePolicy {
            id,
            name: summary.name.unwrap_or_default(),
            policy_type,
            description: summary.description.unwrap_or_default(),
            aws_managed,
            document,
            tags,
            targets,
        })
    }
}

impl OrgReader for Aws {
    /// ListHandshakesForOrganization, invitations only: one request a page.
    async fn read_invitations(
        &self,
        management: &str,
    ) -> Result<Option<Vec<LiveInvitation>>, Error> {
        let filter = aws::HandshakeFilter::builder()
            .action_type(aws::ActionType::InviteAccountToOrganization)
            .build();
        let handshakes = all_pages!(
            self.client
                .list_handshakes_for_organization()
                .filter(filter),
            handshakes,
            "ListHandshakesForOrganization",
            "organization"
        );
        Ok(Some(
            handshakes
                .iter()
                .filter_map(|handshake| invitation(handshake, management))
                .collect(),
        ))
    }

    async fn read_iam(
        &self,
        accounts: &[String],
        access_role: &str,
    ) -> Result<Option<Vec<super::LiveIam>>, Error> {
        self.read_member_iam(accounts, access_role).await.map(Some)
    }

    async fn read(&self) -> Result<LiveState, Error> {
        let started = Instant::now();
        self.tick("organization");
        let organization = self
            .client
            .describe_organization()
            .send()
            .await
            .map_err(|error| aws_error("DescribeOrganization", "organization", &error))?
            .organization
            .ok_or_else(|| {
                Error::from(
                    Diagnostic::new(
                        Rule::LiveAws,
                        "DescribeOrganization returned no organization",
                    )
                    .help("use the management account's credentials (--profile, --assume-role)"),
                )
            })?;
        let root = self.root().await?;
        let root_id = root.id.clone().unwrap_or_default();
        let enabled_policy_types: Vec<PolicyType> = root
            .policy_types()
            .iter()
            // A type being enabled counts as enabled: planning to enable it again would fail.
            .filter(|summary| {
                matches!(
                    summary.status(),
                    Some(aws::PolicyTypeStatus::Enabled | aws::PolicyTypeStatus::PendingEnable)
                )
            })
            .filter_map(|summary| summary.r#type())
            .map(|policy_type| from_aws(policy_type, "ListRoots"))
            .collect::<Result<_, _>>()?;

        // Creations in progress, before the tree: one that settles in between is then read as an
        // account, never missed by both.
        let account_creations = self.account_creations().await?;

        // The tree, one level at a time, every parent of a level at once.
        let mut organizational_units = Vec::new();
        let mut accounts = Vec::new();
        let mut level = vec![root_id.clone()];
        while !level.is_empty() {
            self.tick("OUs and accounts");
            let children: Vec<(Vec<LiveOu>, Vec<LiveAccount>)> = stream::iter(level)
                .map(|parent| self.children(parent))
                .buffer_unordered(CONCURRENCY)
                .try_collect()
                .await?;
            level = Vec::new();
            for (ous, level_accounts) in children {
                level.extend(ous.iter().map(|ou| ou.id.clone()));
                organizational_units.extend(ous);
                accounts.extend(level_accounts);
            }
        }

        // Tags of the root, every OU and every account.
        let ids: Vec<String> = std::iter::once(root_id.clone())
            .chain(organizational_units.iter().map(|ou| ou.id.clone()))
            .chain(accounts.iter().map(|account| account.id.clone()))
            .collect();
        let mut tags: BTreeMap<String, BTreeMap<String, String>> = stream::iter(ids)
            .map(|id| async move {
                let tags = self.tags(&id).await?;
                self.tick("tags");
                Ok::<_, Error>((id, tags))
            })
            .buffer_unordered(CONCURRENCY)
            .try_collect()
            .await?;
        for ou in &mut organizational_units {
            ou.tags = tags.remove(&ou.id).unwrap_or_default();
        }
        for account in &mut accounts {
            account.tags = tags.remove(&account.id).unwrap_or_default();
        }

        let mut policies = Vec::new();
        for policy_type in &enabled_policy_types {
            policies.extend(self.policies_of_type(*policy_type).await?);
        }
        self.tick("trusted access");
        let trusted_access: Vec<String> = all_pages!(
            self.client.list_aws_service_access_for_organization(),
            enabled_service_principals,
            "ListAWSServiceAccessForOrganization",
            "organization"
        )
        .into_iter()
        .filter_map(|service| service.service_principal)
        .collect();
        let delegated_administrators = self.delegated_administrators().await?;
        if let Some(bar) = &self.progress {
            bar.finish_and_clear();
        }
        let mut state = LiveState {
            organization: LiveOrganization {
                id: organization.id.unwrap_or_default(),
                management_account_id: organization.master_account_id.unwrap_or_default(),
                management_account_email: organization.master_account_email.unwrap_or_default(),
            },
            root: LiveRoot {
                id: root_id.clone(),
                enabled_policy_types,
                tags: tags
                    .remove(&root_id)
                    .unwrap_or_default()
                    .into_iter()
                    // The lease is orgctl's bookkeeping, not the organization's shape.
                    .filter(|(key, _)| key != super::lease::LEASE_TAG)
                    .collect(),
            },
            organizational_units,
            accounts,
            policies,
            trusted_access,
            delegated_administrators,
            // Read on their own, when a plan needs them (`OrgReader::read_invitations`).
            invitations: Vec::new(),
            // Read apart, for the accounts and types the configuration manages.
            contacts: Vec::new(),
            account_creations,
            // The closure quota is a Service Quotas value; orgctl does not read it (yet).
            account_closures: None,
            iam: Vec::new(),
        };
        state.normalise();
        if self.progress.is_some() {
            eprintln!(
                "orgctl: read {} accounts, {} OUs and {} policies in {:.1}s with {} AWS requests",
                state.accounts.len(),
                state.organizational_units.len(),
                state.policies.len(),
                started.elapsed().as_secs_f64(),
                self.requests()
            );
        }
        Ok(state)
    }
}

/// An invitation as orgctl keeps it: the handshake's id, the invited account (its `ACCOUNT`
/// party other than the inviting management account `management`), its state, expiry and notes;
/// `None` for one sent to an email address rather than an account, which no configuration
/// declares.
fn invitation(handshake: &aws::Handshake, management: &str) -> Option<LiveInvitation> {
    let account_id = handshake
        .parties()
        .iter()
        .find(|party| {
            party.r#type() == &aws::HandshakePartyType::Account && party.id() != management
        })?
        .id()
        .to_owned();
    let state = match handshake.state()? {
        aws::HandshakeState::Requested => InvitationState::Requested,
        aws::HandshakeState::Open => InvitationState::Open,
        aws::HandshakeState::Accepted => InvitationState::Accepted,
        aws::HandshakeState::Declined => InvitationState::Declined,
        aws::HandshakeState::Canceled => InvitationState::Canceled,
        aws::HandshakeState::Expired => InvitationState::Expired,
        // A state newer than this orgctl: treated as still open, so it is never sent twice.
        _ => InvitationState::Open,
    };
    let notes = handshake
        .resources()
        .iter()
        .find(|resource| resource.r#type() == Some(&aws::HandshakeResourceType::Notes))
        .and_then(|resource| resource.value().map(str::to_owned));
    Some(LiveInvitation {
        id: handshake.id()?.to_owned(),
        account_id,
        state,
        expires: handshake.expiration_timestamp().and_then(|at| {
            at.fmt(organizations::primitives::DateTimeFormat::DateTime)
                .ok()
        }),
        notes,
    })
}

/// Whether a policy is orgctl's lease ([`super::lease::LEASE_POLICY`]).
fn is_lease_policy(policy_type: PolicyType, summary: &aws::PolicySummary) -> bool {
    policy_type == PolicyType::ServiceControl
        && !summary.aws_managed
        && summary.name.as_deref() == Some(super::lease::LEASE_POLICY)
}

/// An account's state: AWS's `State` field first, then the `Status` field AWS retired on
/// 2026-09-09 (an older endpoint or emulator may answer only that). `Status` says SUSPENDED of a
/// closed account as well as of a suspended one; orgctl keeps that as suspended, which it plans
/// nothing on either way.
fn account_state(account: &aws::Account) -> AccountState {
    let state = match account.state() {
        Some(aws::AccountState::PendingActivation) => Some(AccountState::PendingActivation),
        Some(aws::AccountState::Active) => Some(AccountState::Active),
        Some(aws::AccountState::Suspended) => Some(AccountState::Suspended),
        Some(aws::AccountState::PendingClosure) => Some(AccountState::PendingClosure),
        Some(aws::AccountState::Closed) => Some(AccountState::Closed),
        _ => None,
    };
    let status = match account.status() {
        Some(aws::AccountStatus::Active) => Some(AccountState::Active),
        Some(aws::AccountStatus::Suspended) => Some(AccountState::Suspended),
        Some(aws::AccountStatus::PendingClosure) => Some(AccountState::PendingClosure),
        _ => None,
    };
    // A state this orgctl does not know: not active, so nothing is planned on it.
    state.or(status).unwrap_or(AccountState::Suspended)
}

/// orgctl's policy type as AWS names it (the row of [`crate::model::policy_type::POLICY_TYPES`]).
pub fn to_aws(policy_type: PolicyType) -> aws::PolicyType {
    aws::PolicyType::from(crate::model::policy_type::info(policy_type).aws_name)
}

/// AWS's policy type as orgctl names it; an error for a type the table does not have, which
/// `operation` returned: a newer type than this orgctl knows.
pub fn from_aws(policy_type: &aws::PolicyType, operation: &str) -> Result<PolicyType, Error> {
    crate::model::policy_type::by_aws_name(policy_type.as_str())
        .map(|row| row.policy_type)
        .ok_or_else(|| Error::UnknownPolicyType {
            aws_name: policy_type.as_str().to_owned(),
            operation: operation.to_owned(),
        })
}

/// An AWS error as the user reads it: the operation, the resource, AWS's code, and what to do.
pub fn aws_error<E, R>(operation: &str, resource: &str, error: &SdkError<E, R>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    use aws_credential_types::provider::error::CredentialsError;
    let credentials = error_chain(error).find_map(|cause| cause.downcast_ref::<CredentialsError>());
    let (code, message) = match (error, credentials) {
        (SdkError::ServiceError(service), _) => (
            service.err().code().unwrap_or("Unknown").to_owned(),
            service.err().message().unwrap_or_default().to_owned(),
        ),
        (_, Some(CredentialsError::CredentialsNotLoaded(_))) => (
            "NoCredentials".to_owned(),
            "no AWS credentials were found (environment, shared config and credentials files, SSO, container or instance role)".to_owned(),
        ),
        (_, Some(failed)) => ("CredentialsFailed".to_owned(), causes(failed)),
        (SdkError::DispatchFailure(_) | SdkError::TimeoutError(_), None) => {
            ("Unreachable".to_owned(), causes(error))
        }
        _ => ("Failed".to_owned(), causes(error)),
    };
    if VERBOSE.load(Ordering::Relaxed) {
        eprintln!(
            "{}",
            raw_chain(&format!("{operation} on `{resource}`"), error)
        );
    }
    let unusable_credentials = matches!(error, SdkError::ConstructionFailure(_))
        || matches!(
            code.as_str(),
            "UnrecognizedClientException"
                | "InvalidClientTokenId"
                | "ExpiredToken"
                | "ExpiredTokenException"
                | "InvalidSignatureException"
                | "SignatureDoesNotMatch"
                | "IncompleteSignature"
                | "MissingAuthenticationToken"
                | "MissingAuthenticationTokenException"
        );
    let help = match code.as_str() {
        "NoCredentials" => {
            "choose credentials: set AWS_PROFILE or pass --profile NAME (for an SSO profile, run `aws sso login --profile NAME` first), or pass --state FILE to work from a snapshot"
        }
        "CredentialsFailed" => {
            "the credentials were found but could not be loaded: for an SSO profile whose session expired, run `aws sso login --profile NAME`; check the profile's settings in ~/.aws/config"
        }
        "AccessDeniedException" | "AccessDenied" => {
            "the credentials need organizations:Describe* and organizations:List* in the management account; choose them with --profile or --assume-role"
        }
        "AWSOrganizationsNotInUseException" => {
            "these credentials belong to an account that is in no organization; use the management account's"
        }
        "TooManyRequestsException" => {
            "AWS kept throttling after every retry; try again in a few minutes"
        }
        "Unreachable" => {
            "check the network and --endpoint-url; to plan without AWS, pass --state FILE (a snapshot from `orgctl export`)"
        }
        _ if unusable_credentials => {
            "no usable AWS credentials: set AWS_PROFILE, run `aws sso login`, or pass --state FILE to plan from a snapshot"
        }
        _ => "see AWS's message; `-v` shows how many requests were made",
    };
    Error::Aws {
        operation: operation.to_owned(),
        resource: resource.to_owned(),
        code,
        message,
        help: help.to_owned(),
    }
}

/// The AWS config file as messages name it: `AWS_CONFIG_FILE`, or `~/.aws/config`.
fn config_file_name() -> String {
    std::env::var("AWS_CONFIG_FILE").unwrap_or_else(|_| "~/.aws/config".to_owned())
}

/// The AWS credentials file as messages name it.
fn credentials_file_name() -> String {
    std::env::var("AWS_SHARED_CREDENTIALS_FILE").unwrap_or_else(|_| "~/.aws/credentials".to_owned())
}

/// Refuses a profile that neither the AWS config file nor the credentials file defines, naming
/// the profiles they do define. The SDK would otherwise fall back to other credentials, or fail
/// at the first request with words about a "source profile".
async fn check_profile(profile: &str) -> Result<(), Diagnostic> {
    use aws_types::os_shim_internal::{Env, Fs};
    let (config, credentials) = (config_file_name(), credentials_file_name());
    let profiles =
        // The default files: `AWS_CONFIG_FILE` and `AWS_SHARED_CREDENTIALS_FILE`, else ~/.aws.
        aws_config::profile::load(&Fs::real(), &Env::real(), &Default::default(), None)
            .await
            .map_err(|error| {
                Diagnostic::new(
                    Rule::LiveAws,
                    format!("cannot read the AWS profiles in {config} and {credentials}: {error}"),
                )
                .help(format!(
                    "correct the file, or choose credentials another way (environment variables, --assume-role); the profile `{profile}` was asked for"
                ))
            })?;
    if profiles.get_profile(profile).is_some() {
        return Ok(());
    }
    let mut known: Vec<&str> = profiles.profiles().collect();
    known.sort_unstable();
    let create = format!(
        "create it with `aws configure --profile {profile}` (`aws configure sso --profile {profile}` for IAM Identity Center)"
    );
    let help = match crate::suggest::closest(profile, known.iter().copied()) {
        Some(close) => format!("did you mean `{close}`? Otherwise {create}"),
        None if known.is_empty() => format!("there is no profile there; {create}"),
        None => format!(
            "the profiles there are {}; pass one with --profile or AWS_PROFILE, or {create}",
            crate::suggest::and_list(
                &known
                    .iter()
                    .map(|name| format!("`{name}`"))
                    .collect::<Vec<_>>()
            )
        ),
    };
    Err(Diagnostic::new(
        Rule::LiveAws,
        format!("profile `{profile}` is not in {config} (nor in {credentials})"),
    )
    .help(help))
}

/// Loads credentials once before the first request, so that a failure names the profile and
/// what to run (`aws sso login --profile X`) instead of surfacing as the first call's error.
async fn check_credentials(
    sdk: &aws_config::SdkConfig,
    profile: Option<&str>,
) -> Result<(), Diagnostic> {
    use aws_credential_types::provider::ProvideCredentials as _;
    use aws_credential_types::provider::error::CredentialsError;
    let Some(provider) = sdk.credentials_provider() else {
        return Err(no_credentials());
    };
    let Err(error) = provider.provide_credentials().await else {
        return Ok(());
    };
    if VERBOSE.load(Ordering::Relaxed) {
        eprintln!("{}", raw_chain("loading AWS credentials", &error));
    }
    let login = match profile {
        Some(profile) => format!("aws sso login --profile {profile}"),
        None => "aws sso login".to_owned(),
    };
    let named = profile.map_or_else(
        || "the default profile".to_owned(),
        |profile| format!("profile `{profile}`"),
    );
    let said = causes(&error);
    Err(match (sso_failure(&said), &error) {
        (None, CredentialsError::CredentialsNotLoaded(_)) => no_credentials(),
        (Some(SsoFailure::Expired), _) => Diagnostic::new(
            Rule::LiveAws,
            format!("SSO session expired: {named} signs in through IAM Identity Center, and its session has ended"),
        )
        .help(format!("run `{login}`, then run orgctl again")),
        (Some(SsoFailure::NoSession), _) => Diagnostic::new(
            Rule::LiveAws,
            format!("no SSO session: {named} signs in through IAM Identity Center, and nobody has signed in on this machine"),
        )
        .help(format!("run `{login}`, then run orgctl again")),
        _ => Diagnostic::new(
            Rule::LiveAws,
            format!("the AWS credentials of {named} could not be loaded: {said}"),
        )
        .help(format!(
            "check {named} in {}; `-v` shows the whole error",
            config_file_name()
        )),
    })
}

/// How loading credentials through IAM Identity Center (SSO) failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SsoFailure {
    /// The cached session ran out.
    Expired,
    /// Nobody signed in on this machine.
    NoSession,
    /// Something else about SSO.
    Other,
}

/// Whether `said`, the causes of a credentials error, is about SSO, and how. The SDK's SSO
/// errors are private types that cannot be matched, so their own words are the only sign; this
/// is the one place orgctl reads an error's text, and it never reads AWS's answers this way.
fn sso_failure(said: &str) -> Option<SsoFailure> {
    if !said.contains("SSO") {
        None
    } else if said.contains("SSO token has expired") {
        Some(SsoFailure::Expired)
    } else if said.contains("cached SSO token") {
        Some(SsoFailure::NoSession)
    } else {
        Some(SsoFailure::Other)
    }
}

/// No credentials anywhere the SDK looks.
fn no_credentials() -> Diagnostic {
    Diagnostic::new(
        Rule::LiveAws,
        "no AWS credentials were found (environment, shared config and credentials files, SSO, container or instance role)",
    )
    .help("choose credentials: set AWS_PROFILE or pass --profile NAME (for an SSO profile, run `aws sso login --profile NAME` first), or pass --state FILE to work from a snapshot")
}

/// An error's whole chain of causes, each as it says itself, then the SDK's own form of it: what
/// `-v` prints.
fn raw_chain(context: &str, error: &(dyn std::error::Error + 'static)) -> String {
    let mut out = format!("orgctl: {context} failed; the error as the SDK gave it:");
    for (depth, cause) in error_chain(error).enumerate() {
        out.push_str(&format!("\n  {depth}: {cause}"));
    }
    out.push_str(&format!("\n  {error:?}"));
    out
}

/// An error and every error beneath it.
fn error_chain<'a>(
    error: &'a (dyn std::error::Error + 'static),
) -> impl Iterator<Item = &'a (dyn std::error::Error + 'static)> {
    std::iter::successors(Some(error), |error| error.source())
}

/// What went wrong, as the chain's own words (`dispatch failure: io error: … Connection refused`),
/// each said once: never the SDK's debug dump (`-v` and the logs are for that).
fn causes(error: &(dyn std::error::Error + 'static)) -> String {
    let mut words: Vec<String> = Vec::new();
    for cause in error_chain(error) {
        let text = cause.to_string();
        if !text.is_empty() && !words.iter().any(|said| said.contains(&text)) {
            words.push(text);
        }
    }
    words.join(": ")
}

/// Counts every HTTP attempt, retries included.
#[derive(Debug)]
struct CountRequests(Arc<AtomicUsize>);

impl Intercept for CountRequests {
    fn name(&self) -> &'static str {
        "CountRequests"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _config: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

/// Retries `ConcurrentModificationException`, which the SDK does not consider transient, though
/// for Organizations it is: another change to the same resource is still settling.
#[derive(Debug)]
struct ConcurrentModificationRetry;

impl ClassifyRetry for ConcurrentModificationRetry {
    fn name(&self) -> &'static str {
        "ConcurrentModificationRetry"
    }

    fn classify_retry(&self, context: &InterceptorContext) -> RetryAction {
        const CODE: &str = "ConcurrentModificationException";
        if !matches!(context.output_or_error(), Some(Err(_))) {
            return RetryAction::NoActionIndicated;
        }
        let Some(response) = context.response() else {
            return RetryAction::NoActionIndicated;
        };
        let in_header = response
            .headers()
            .get("x-amzn-errortype")
            .is_some_and(|h| h.starts_with(CODE));
        let in_body = response.body().bytes().is_some_and(|body| {
            body.windows(CODE.len())
                .any(|window| window == CODE.as_bytes())
        });
        if in_header || in_body {
            RetryAction::server_error()
        } else {
            RetryAction::NoActionIndicated
        }
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn an_invitation_is_read_from_its_handshake() {
        let party = |id: &str, kind| {
            aws::HandshakeParty::builder()
                .id(id)
                .r#type(kind)
                .build()
                .expect("a party")
        };
        let handshake = aws::Handshake::builder()
            .id("h-1")
            .parties(party("o-acme", aws::HandshakePartyType::Organization))
            .parties(party("111111111111", aws::HandshakePartyType::Account))
            .parties(party("222222222222", aws::HandshakePartyType::Account))
            .state(aws::HandshakeState::Declined)
            .expiration_timestamp(organizations::primitives::DateTime::from_secs(
                1_795_000_000,
            ))
            .resources(
                aws::HandshakeResource::builder()
                    .r#type(aws::HandshakeResourceType::Notes)
                    .value("orgctl: invitation")
                    .build(),
            )
            .build();
        // The inviting management account may be a party too (fakecloud lists it).
        assert_eq!(
            invitation(&handshake, "111111111111"),
            Some(LiveInvitation {
                id: "h-1".to_owned(),
                account_id: "222222222222".to_owned(),
                state: InvitationState::Declined,
                expires: Some("2026-11-18T11:06:40Z".to_owned()),
                notes: Some("orgctl: invitation".to_owned()),
            })
        );
        // Sent to an email address: no account of a configuration.
        let by_email = aws::Handshake::builder()
            .id("h-2")
            .parties(party("someone@example.org", aws::HandshakePartyType::Email))
            .state(aws::HandshakeState::Open)
            .build();
        assert_eq!(invitation(&by_email, "111111111111"), None);
    }
    use super::*;
    use crate::model::policy_type::POLICY_TYPES;

    #[test]
    fn an_account_s_state_comes_from_state_then_from_the_retired_status() {
        let account = |state: Option<aws::AccountState>, status: Option<aws::AccountStatus>| {
            let mut builder = aws::Account::builder();
            if let Some(state) = state {
                builder = builder.state(state);
            }
            if let Some(status) = status {
                builder = builder.status(status);
            }
            account_state(&builder.build())
        };
        // AWS: a closed account is CLOSED, its Status SUSPENDED.
        assert_eq!(
            account(
                Some(aws::AccountState::Closed),
                Some(aws::AccountStatus::Suspended)
            ),
            AccountState::Closed
        );
        for (state, expected) in [
            (
                aws::AccountState::PendingActivation,
                AccountState::PendingActivation,
            ),
            (aws::AccountState::Active, AccountState::Active),
            (aws::AccountState::Suspended, AccountState::Suspended),
            (
                aws::AccountState::PendingClosure,
                AccountState::PendingClosure,
            ),
        ] {
            assert_eq!(account(Some(state), None), expected);
        }
        // Only Status (before State, or an emulator without it).
        assert_eq!(
            account(None, Some(aws::AccountStatus::PendingClosure)),
            AccountState::PendingClosure
        );
        assert_eq!(
            account(None, Some(aws::AccountStatus::Suspended)),
            AccountState::Suspended
        );
        // A state newer than this orgctl: Status decides, else not active.
        assert_eq!(
            account(
                Some(aws::AccountState::from("ARCHIVED")),
                Some(aws::AccountStatus::Active)
            ),
            AccountState::Active
        );
        assert_eq!(account(None, None), AccountState::Suspended);
    }

    #[test]
    fn sso_failures_are_told_apart_by_the_sdk_s_words() {
        assert_eq!(
            sso_failure("the SSO token has expired and cannot be refreshed"),
            Some(SsoFailure::Expired)
        );
        assert_eq!(
            sso_failure("failed to load the cached SSO token: failed to read `x`"),
            Some(SsoFailure::NoSession)
        );
        assert_eq!(
            sso_failure("SSO OIDC responded with a negative expiration duration"),
            Some(SsoFailure::Other)
        );
        assert_eq!(sso_failure("no credentials in the environment"), None);
    }

    #[test]
    fn every_policy_type_of_the_table_reads_back_as_itself() {
        for row in POLICY_TYPES {
            let read = from_aws(&to_aws(row.policy_type), "ListRoots");
            assert!(
                matches!(read, Ok(policy_type) if policy_type == row.policy_type),
                "{}",
                row.aws_name
            );
        }
    }

    #[test]
    fn every_policy_type_the_sdk_knows_has_a_row_of_the_table() {
        for known in aws::PolicyType::values() {
            assert!(
                from_aws(&aws::PolicyType::from(*known), "ListRoots").is_ok(),
                "the table has no row for {known}"
            );
        }
    }

    #[test]
    fn a_policy_type_the_table_lacks_is_an_error_naming_it_and_the_operation() {
        // How the error reads is `live::error`'s test; here, that reading gives that error.
        let error = from_aws(&aws::PolicyType::from("EXAMPLE_FUTURE_POLICY"), "ListRoots")
            .expect_err("an unknown type");
        assert!(matches!(
            error,
            Error::UnknownPolicyType { ref aws_name, ref operation }
                if aws_name == "EXAMPLE_FUTURE_POLICY" && operation == "ListRoots"
        ));
    }
}
