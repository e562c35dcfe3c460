//! The `aws` backend's writer: each [`Write`] as AWS Organizations (and Account Management)
//! calls, made to converge.
//!
//! Idempotent calls (attach, detach, move, tag, update, delete, close, remove) keep the SDK's
//! retries; the error AWS gives when the work is already done (`DuplicatePolicyAttachmentException`,
//! `PolicyNotAttachedException`, …) counts as success, so a retry after a lost response, or a
//! second apply after a crash, is harmless.
//!
//! Creations are not idempotent: a `CreateAccount` retried after its response was lost makes a
//! second account. So creations run without the SDK's retries; after a failure that may have
//! happened anyway (a dropped connection, a 5xx, a throttle) orgctl first looks for what it was
//! creating (the OU by parent and name, the policy by type and name, the account by pending
//! creation and by email) and only then tries again.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::{Duration, Instant};

use aws_config::retry::RetryConfig;
use aws_sdk_account as account;
use tokio::sync::OnceCell;

use super::{Aws, MAX_ATTEMPTS, aws, aws_error, organizations, to_aws};
use crate::config::ContactType;
use crate::diagnostic::Diagnostic;
use crate::live::lease::{LEASE_POLICY, LEASE_TAG};
use crate::live::{
    Error, Holder, Lease, LeaseAttempt, LiveContact, LiveState, OrgReader, OrgWriter, Record,
    Unlock, Write,
};
use crate::model::Contact;
use crate::model::contact::ACCOUNT_MANAGEMENT_PRINCIPAL;
use crate::rules::Rule;
use organizations::config::http::HttpResponse;
use organizations::error::{ProvideErrorMetadata, SdkError};

/// The lease policy's document: it allows everything, so it would change nothing even if someone
/// attached it (orgctl never does).
const LEASE_DOCUMENT: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"OrgctlLease","Effect":"Allow","Action":"*","Resource":"*"}]}"#;
/// Creations of the lease policy per [`OrgWriter::take_lease`]: one, and one more after taking
/// over a lease that ran out, or after a lease released while orgctl looked at it.
const LEASE_TRIES: usize = 3;
/// How long enabling a policy type may take before orgctl stops waiting.
const POLICY_TYPE_DEADLINE: Duration = Duration::from_secs(10 * 60);
/// How long an account creation may take before orgctl stops waiting (AWS takes minutes).
const CREATE_ACCOUNT_DEADLINE: Duration = Duration::from_secs(30 * 60);

/// Writes to AWS Organizations.
#[derive(Debug)]
pub struct AwsWriter {
    aws: Aws,
    account: account::Client,
    /// The organization's root, once needed.
    root_id: OnceCell<String>,
    /// Account creations in progress when this apply started (from an earlier, interrupted one).
    in_progress: OnceCell<Vec<aws::CreateAccountStatus>>,
    /// The management account's id, once needed.
    management: OnceCell<String>,
    /// The id of the lease policy this apply created, while it holds the lease.
    lease_policy: std::sync::Mutex<Option<String>>,
    /// Set when the lease was found removed while this apply ran: writes stop.
    lease_lost: std::sync::atomic::AtomicBool,
}

/// The outcome of one attempt at a creation.
enum Attempt {
    /// Created (or found): its id.
    Done(String),
    /// An account creation AWS accepted: its request id, to wait for.
    Pending(String),
    /// Failed in a way that may have created it anyway, or that passes: look, then try again.
    Uncertain(Error),
    /// Failed for good.
    Failed(Error),
}

impl AwsWriter {
    /// A writer over `aws`; it finds the organization's root when first needed
    /// ([`AwsWriter::root_id`]).
    pub fn new(aws: Aws) -> Self {
        let sdk = aws.sdk_config.clone();
        let account = account::Client::from_conf(
            account::config::Builder::from(&sdk)
                .retry_config(
                    RetryConfig::adaptive()
                        .with_max_attempts(MAX_ATTEMPTS)
                        .with_max_backoff(Duration::from_secs(5)),
                )
                .interceptor(super::CountRequests(std::sync::Arc::clone(&aws.requests)))
                .build(),
        );
        Self {
            aws,
            account,
            root_id: OnceCell::new(),
            in_progress: OnceCell::new(),
            management: OnceCell::new(),
            lease_policy: std::sync::Mutex::new(None),
            lease_lost: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// The connection it writes through.
    pub fn aws(&self) -> &Aws {
        &self.aws
    }

    /// How commands name it: `AWS`, `AWS profile <name>` or `AWS at <endpoint>`.
    pub fn describe(&self) -> String {
        self.aws.describe()
    }

    /// `orgctl: N AWS requests (retries included)`.
    pub fn request_report(&self) -> Option<String> {
        Some(self.aws.request_report())
    }

    /// The organization's root id (one request, the first time).
    pub async fn root_id(&self) -> Result<&str, Error> {
        self.root_id
            .get_or_try_init(|| async { Ok(self.aws.root().await?.id.unwrap_or_default()) })
            .await
            .map(String::as_str)
    }

    fn client(&self) -> &organizations::Client {
        &self.aws.client
    }

    /// Overrides the client's retries for one call: creations are retried by orgctl, which looks
    /// for the first attempt's result before trying again.
    fn no_retries() -> organizations::config::Builder {
        organizations::config::Builder::default().retry_config(RetryConfig::disabled())
    }

    /// Runs `attempt` until it succeeds, retrying what may have happened anyway only after
    /// `find` has not found it. Returns the id, and whether `find` ran (the resource may then have
    /// been found rather than created). `email` is the new account's, for account creations.
    async fn create<A, AF, F, FF>(
        &self,
        attempt: A,
        find: F,
        email: Option<&str>,
    ) -> Result<(String, bool), Error>
    where
        A: Fn() -> AF,
        AF: Future<Output = Attempt>,
        F: Fn() -> FF,
        FF: Future<Output = Result<Option<String>, Error>>,
    {
        let mut tries = 0;
        loop {
            tries += 1;
            let looked = tries > 1;
            match attempt().await {
                Attempt::Done(id) => return Ok((id, looked)),
                Attempt::Pending(request) => {
                    return Ok((self.await_creation(&request, email).await?, looked));
                }
                Attempt::Failed(error) => return Err(error),
                Attempt::Uncertain(error) => {
                    if tries >= MAX_ATTEMPTS {
                        return Err(error);
                    }
                    tokio::time::sleep(backoff(tries)).await;
                    if let Some(id) = find().await? {
                        return Ok((id, true));
                    }
                }
            }
        }
    }

    /// [`AwsWriter::create`] for a tagged OU or policy: one found rather than created (an earlier
    /// attempt's) is given the file's tags.
    async fn create_tagged<A, AF, F, FF>(
        &self,
        attempt: A,
        find: F,
        tags: &BTreeMap<String, String>,
    ) -> Result<String, Error>
    where
        A: Fn() -> AF,
        AF: Future<Output = Attempt>,
        F: Fn() -> FF,
        FF: Future<Output = Result<Option<String>, Error>>,
    {
        let (id, looked) = self.create(attempt, find, None).await?;
        if looked {
            self.tag(&id, tags, &[]).await?;
        }
        Ok(id)
    }

    async fn create_ou(
        &self,
        parent_id: &str,
        name: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<String, Error> {
        let attempt = || async {
            let sent = self
                .client()
                .create_organizational_unit()
                .parent_id(parent_id)
                .name(name)
                .set_tags(aws_tags(tags))
                .customize()
                .config_override(Self::no_retries())
                .send()
                .await;
            attempted(
                sent,
                |output| output.organizational_unit.and_then(|ou| ou.id),
                "DuplicateOrganizationalUnitException",
                "CreateOrganizationalUnit",
                name,
            )
        };
        self.create_tagged(attempt, || self.find_ou(parent_id, name), tags)
            .await
    }

    async fn find_ou(&self, parent_id: &str, name: &str) -> Result<Option<String>, Error> {
        let pages: Vec<_> = self
            .client()
            .list_organizational_units_for_parent()
            .parent_id(parent_id)
            .into_paginator()
            .send()
            .try_collect()
            .await
            .map_err(|error| aws_error("ListOrganizationalUnitsForParent", parent_id, &error))?;
        Ok(pages
            .into_iter()
            .flat_map(|page| page.organizational_units.unwrap_or_default())
            .find(|ou| ou.name.as_deref() == Some(name))
            .and_then(|ou| ou.id))
    }

    async fn create_policy(
        &self,
        name: &str,
        policy_type: crate::config::PolicyType,
        description: &str,
        document: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<String, Error> {
        if policy_type == crate::config::PolicyType::ServiceControl && name == LEASE_POLICY {
            return Err(Diagnostic::new(
                Rule::ChangeFailed,
                format!("the service control policy name `{LEASE_POLICY}` is orgctl's own: it records the lease that keeps two applies apart"),
            )
            .help("give the policy another name in the configuration")
            .into());
        }
        let attempt = || async {
            let sent = self
                .client()
                .create_policy()
                .name(name)
                .r#type(to_aws(policy_type))
                .description(description)
                .content(document)
                .set_tags(aws_tags(tags))
                .customize()
                .config_override(Self::no_retries())
                .send()
                .await;
            attempted(
                sent,
                |output| {
                    output
                        .policy
                        .and_then(|p| p.policy_summary)
                        .and_then(|s| s.id)
                },
                "DuplicatePolicyException",
                "CreatePolicy",
                name,
            )
        };
        self.create_tagged(attempt, || self.find_policy(policy_type, name), tags)
            .await
    }

    async fn find_policy(
        &self,
        policy_type: crate::config::PolicyType,
        name: &str,
    ) -> Result<Option<String>, Error> {
        let pages: Vec<_> = self
            .client()
            .list_policies()
            .filter(to_aws(policy_type))
            .into_paginator()
            .send()
            .try_collect()
            .await
            .map_err(|error| aws_error("ListPolicies", name, &error))?;
        Ok(pages
            .into_iter()
            .flat_map(|page| page.policies.unwrap_or_default())
            .find(|p| p.name.as_deref() == Some(name) && !p.aws_managed)
            .and_then(|p| p.id))
    }

    async fn create_account(
        &self,
        name: &str,
        email: &str,
        root_id: &str,
        parent_id: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<String, Error> {
        // A creation of this account still running from an interrupted apply: wait for it.
        let earlier = self
            .in_progress
            .get_or_try_init(|| self.creations_in_progress())
            .await?
            .iter()
            .find(|status| status.account_name.as_deref() == Some(name))
            .and_then(|status| status.id.clone());
        let (id, found) = match earlier {
            Some(request) => (self.await_creation(&request, Some(email)).await?, true),
            None => {
                let attempt = || async {
                    let sent = self
                        .client()
                        .create_account()
                        .account_name(name)
                        .email(email)
                        .set_tags(aws_tags(tags))
                        .customize()
                        .config_override(Self::no_retries())
                        .send()
                        .await;
                    match sent {
                        Ok(output) => {
                            let status = output
                                .create_account_status
                                .unwrap_or_else(|| aws::CreateAccountStatus::builder().build());
                            match (status.state(), status.account_id(), status.id()) {
                                (Some(aws::CreateAccountState::Succeeded), Some(id), _) => {
                                    Attempt::Done(id.to_owned())
                                }
                                (_, _, Some(request)) => Attempt::Pending(request.to_owned()),
                                _ => Attempt::Failed(
                                    Diagnostic::new(
                                        Rule::ChangeFailed,
                                        format!(
                                            "CreateAccount for `{name}` returned no request id"
                                        ),
                                    )
                                    .into(),
                                ),
                            }
                        }
                        Err(error) => classify("CreateAccount", name, &error),
                    }
                };
                let find = || async {
                    let pending = self
                        .creations_in_progress()
                        .await?
                        .into_iter()
                        .find(|status| status.account_name.as_deref() == Some(name))
                        .and_then(|status| status.id);
                    match pending {
                        Some(request) => self.await_creation(&request, Some(email)).await.map(Some),
                        None => self.find_account(email).await,
                    }
                };
                self.create(attempt, find, Some(email)).await?
            }
        };
        // New accounts arrive in the root; one found after an interruption may be anywhere.
        let from = if found {
            self.parent_of(&id).await?
        } else {
            root_id.to_owned()
        };
        if from != parent_id {
            self.move_account(&id, &from, parent_id).await?;
        }
        if found {
            self.tag(&id, tags, &[]).await?;
        }
        Ok(id)
    }

    async fn creations_in_progress(&self) -> Result<Vec<aws::CreateAccountStatus>, Error> {
        let pages: Vec<_> = self
            .client()
            .list_create_account_status()
            .states(aws::CreateAccountState::InProgress)
            .into_paginator()
            .send()
            .try_collect()
            .await
            .map_err(|error| aws_error("ListCreateAccountStatus", "organization", &error))?;
        Ok(pages
            .into_iter()
            .flat_map(|page| page.create_account_statuses.unwrap_or_default())
            .collect())
    }

    /// Polls a creation until AWS says how it ended, backing off to one poll per 10 s. A
    /// creation that failed because `email` is taken succeeded after all when the organization
    /// has an account with it: an earlier attempt, whose answer was lost, created it.
    async fn await_creation(&self, request: &str, email: Option<&str>) -> Result<String, Error> {
        let started = Instant::now();
        let mut wait = Duration::from_millis(500);
        loop {
            let status = self
                .client()
                .describe_create_account_status()
                .create_account_request_id(request)
                .send()
                .await
                .map_err(|error| aws_error("DescribeCreateAccountStatus", request, &error))?
                .create_account_status
                .unwrap_or_else(|| aws::CreateAccountStatus::builder().build());
            match status.state() {
                Some(aws::CreateAccountState::Succeeded) => {
                    return Ok(status.account_id().unwrap_or_default().to_owned());
                }
                Some(aws::CreateAccountState::Failed) => {
                    let reason = status.failure_reason();
                    let name = status.account_name().unwrap_or("the account");
                    if matches!(
                        reason,
                        Some(aws::CreateAccountFailureReason::EmailAlreadyExists)
                    ) && let Some(email) = email
                        && let Some(id) = self.find_account(email).await?
                    {
                        return Ok(id);
                    }
                    return Err(creation_failed(name, reason));
                }
                _ if started.elapsed() > CREATE_ACCOUNT_DEADLINE => {
                    return Err(Diagnostic::new(
                        Rule::ChangeFailed,
                        format!("the creation of an account (request {request}) is still in progress after {} minutes", CREATE_ACCOUNT_DEADLINE.as_secs() / 60),
                    )
                    .help("AWS is slow to create it; apply again later: orgctl picks up a creation in progress instead of starting another")
                    .into());
                }
                _ => {
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(Duration::from_secs(10));
                }
            }
        }
    }

    /// The id of the organization's member account with `email` (without case), if there is
    /// one. Never the management account: a member is never created with its email.
    async fn find_account(&self, email: &str) -> Result<Option<String>, Error> {
        let management = self
            .management
            .get_or_try_init(|| self.management_account_id())
            .await?;
        let pages: Vec<_> = self
            .client()
            .list_accounts()
            .into_paginator()
            .send()
            .try_collect()
            .await
            .map_err(|error| aws_error("ListAccounts", email, &error))?;
        Ok(pages
            .into_iter()
            .flat_map(|page| page.accounts.unwrap_or_default())
            .find(|account| {
                account.id.as_ref() != Some(management)
                    && account
                        .email
                        .as_deref()
                        .is_some_and(|e| e.eq_ignore_ascii_case(email))
            })
            .and_then(|account| account.id))
    }

    async fn parent_of(&self, id: &str) -> Result<String, Error> {
        self.client()
            .list_parents()
            .child_id(id)
            .send()
            .await
            .map_err(|error| aws_error("ListParents", id, &error))?
            .parents
            .unwrap_or_default()
            .into_iter()
            .find_map(|parent| parent.id)
            .ok_or_else(|| {
                Diagnostic::new(Rule::ChangeFailed, format!("account {id} has no parent")).into()
            })
    }

    async fn move_account(&self, id: &str, from: &str, to: &str) -> Result<(), Error> {
        let sent = self
            .client()
            .move_account()
            .account_id(id)
            .source_parent_id(from)
            .destination_parent_id(to)
            .send()
            .await;
        done_unless(sent, "MoveAccount", id, &["DuplicateAccountException"])
    }

    async fn tag(
        &self,
        id: &str,
        set: &BTreeMap<String, String>,
        unset: &[String],
    ) -> Result<(), Error> {
        if !unset.is_empty() {
            let sent = self
                .client()
                .untag_resource()
                .resource_id(id)
                .set_tag_keys(Some(unset.to_vec()))
                .send()
                .await;
            done_unless(sent, "UntagResource", id, &[])?;
        }
        if !set.is_empty() {
            let sent = self
                .client()
                .tag_resource()
                .resource_id(id)
                .set_tags(aws_tags(set))
                .send()
                .await;
            done_unless(sent, "TagResource", id, &[])?;
        }
        Ok(())
    }

    async fn rename_ou(&self, id: &str, name: &str) -> Result<(), Error> {
        let sent = self
            .client()
            .update_organizational_unit()
            .organizational_unit_id(id)
            .name(name)
            .send()
            .await;
        match sent {
            Err(error) if code(&error) == Some("DuplicateOrganizationalUnitException") => {
                // Renamed already (by an attempt whose answer was lost)? Then this is done.
                let live = self
                    .client()
                    .describe_organizational_unit()
                    .organizational_unit_id(id)
                    .send()
                    .await
                    .map_err(|e| aws_error("DescribeOrganizationalUnit", id, &e))?;
                if live.organizational_unit.and_then(|ou| ou.name).as_deref() == Some(name) {
                    Ok(())
                } else {
                    Err(aws_error("UpdateOrganizationalUnit", id, &error))
                }
            }
            other => done_unless(other, "UpdateOrganizationalUnit", id, &[]),
        }
    }

    async fn rename_account(&self, id: &str, name: &str) -> Result<(), Error> {
        let mut request = self.account.put_account_name().account_name(name);
        // The management account renames itself without naming its id.
        let management = self
            .management
            .get_or_try_init(|| self.management_account_id())
            .await?;
        if id != management {
            request = request.account_id(id);
        }
        request.send().await.map(|_| ()).map_err(|error| {
            let error = aws_error("PutAccountName", id, &error);
            if matches!(error.code(), Some("AccessDenied" | "AccessDeniedException")) {
                error.with_help("renaming member accounts needs trusted access for AWS Account Management (`aws organizations enable-aws-service-access --service-principal account.amazonaws.com`) and account:PutAccountName")
            } else {
                error
            }
        })
    }

    /// The contact of `contact_type` of `account_id`, if set. The management account asks for
    /// its own without naming its id (AWS refuses `AccountId` equal to the caller's account).
    async fn alternate_contact(
        &self,
        account_id: &str,
        contact_type: ContactType,
        management: &str,
    ) -> Result<Option<LiveContact>, Error> {
        let mut request = self
            .account
            .get_alternate_contact()
            .alternate_contact_type(aws_contact_type(contact_type));
        if account_id != management {
            request = request.account_id(account_id);
        }
        match request.send().await {
            Ok(output) => Ok(output.alternate_contact.map(|contact| LiveContact {
                account_id: account_id.to_owned(),
                contact_type,
                contact: Contact {
                    name: contact.name.unwrap_or_default(),
                    email: contact.email_address.unwrap_or_default(),
                    phone: contact.phone_number.unwrap_or_default(),
                    title: contact.title.unwrap_or_default(),
                },
            })),
            Err(error) if code(&error) == Some("ResourceNotFoundException") => Ok(None),
            Err(error) => Err(contact_error("GetAlternateContact", account_id, &error)),
        }
    }

    /// Sets or removes a contact of an account; removing one that is not set is done already.
    async fn write_contact(
        &self,
        account_id: &str,
        contact_type: ContactType,
        contact: Option<&Contact>,
    ) -> Result<(), Error> {
        let management = self
            .management
            .get_or_try_init(|| self.management_account_id())
            .await?;
        let member = (account_id != management).then_some(account_id);
        let aws_type = aws_contact_type(contact_type);
        match contact {
            Some(contact) => self
                .account
                .put_alternate_contact()
                .set_account_id(member.map(str::to_owned))
                .alternate_contact_type(aws_type)
                .name(&contact.name)
                .email_address(&contact.email)
                .phone_number(&contact.phone)
                .title(&contact.title)
                .send()
                .await
                .map(|_| ())
                .map_err(|error| contact_error("PutAlternateContact", account_id, &error)),
            None => match self
                .account
                .delete_alternate_contact()
                .set_account_id(member.map(str::to_owned))
                .alternate_contact_type(aws_type)
                .send()
                .await
            {
                Ok(_) => Ok(()),
                Err(error) if code(&error) == Some("ResourceNotFoundException") => Ok(()),
                Err(error) => Err(contact_error("DeleteAlternateContact", account_id, &error)),
            },
        }
    }

    async fn management_account_id(&self) -> Result<String, Error> {
        Ok(self
            .client()
            .describe_organization()
            .send()
            .await
            .map_err(|error| aws_error("DescribeOrganization", "organization", &error))?
            .organization
            .and_then(|o| o.master_account_id)
            .unwrap_or_default())
    }

    /// Waits until AWS reports `policy_type` enabled on the root: enabling is asynchronous, and
    /// policies of the type cannot be attached while it is `PENDING_ENABLE`.
    async fn await_policy_type(&self, policy_type: crate::config::PolicyType) -> Result<(), Error> {
        let wanted = to_aws(policy_type);
        let started = Instant::now();
        let mut wait = Duration::from_millis(500);
        loop {
            let root = self.aws.root().await?;
            let enabled = root.policy_types().iter().any(|summary| {
                summary.r#type() == Some(&wanted)
                    && summary.status() == Some(&aws::PolicyTypeStatus::Enabled)
            });
            if enabled {
                return Ok(());
            }
            if started.elapsed() > POLICY_TYPE_DEADLINE {
                return Err(Diagnostic::new(
                    Rule::ChangeFailed,
                    format!(
                        "{} are still not enabled on the root after {} minutes",
                        crate::model::policy_type_plural(policy_type),
                        POLICY_TYPE_DEADLINE.as_secs() / 60
                    ),
                )
                .help("AWS is slow to enable the type; apply again later")
                .into());
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(Duration::from_secs(10));
        }
    }

    /// The lease policy id this apply holds, if any.
    fn held_policy(&self) -> std::sync::MutexGuard<'_, Option<String>> {
        self.lease_policy
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Creates the lease policy recording `lease`: its id, or `None` when one exists already.
    async fn create_lease_policy(&self, lease: &Lease) -> Result<Option<String>, Error> {
        let sent = self
            .client()
            .create_policy()
            .name(LEASE_POLICY)
            .r#type(aws::PolicyType::ServiceControlPolicy)
            .description(lease.encode())
            .content(LEASE_DOCUMENT)
            .send()
            .await;
        match sent {
            Ok(output) => Ok(Some(
                output
                    .policy
                    .and_then(|p| p.policy_summary)
                    .and_then(|s| s.id)
                    .unwrap_or_default(),
            )),
            Err(error) if code(&error) == Some("DuplicatePolicyException") => Ok(None),
            Err(error) => {
                let diagnostic = aws_error("CreatePolicy", LEASE_POLICY, &error);
                Err(
                    if code(&error) == Some("PolicyTypeNotAvailableForOrganizationException") {
                        diagnostic.with_help("orgctl's lease is a service control policy (never attached), which needs the organization's `all features`; enable them in the management account")
                    } else {
                        diagnostic
                    },
                )
            }
        }
    }

    /// The lease policy as recorded: its holder.
    async fn find_lease_policy(&self) -> Result<Option<Holder>, Error> {
        let pages: Vec<_> = self
            .client()
            .list_policies()
            .filter(aws::PolicyType::ServiceControlPolicy)
            .into_paginator()
            .send()
            .try_collect()
            .await
            .map_err(|error| aws_error("ListPolicies", LEASE_POLICY, &error))?;
        Ok(pages
            .into_iter()
            .flat_map(|page| page.policies.unwrap_or_default())
            .find(|p| p.name.as_deref() == Some(LEASE_POLICY) && !p.aws_managed)
            .map(|p| {
                Holder::read(
                    Record::Policy(p.id.unwrap_or_default()),
                    p.description.as_deref().unwrap_or_default(),
                )
            }))
    }

    /// Deletes the lease policy `id`; one already gone counts as deleted.
    async fn delete_lease_policy(&self, id: &str) -> Result<(), Error> {
        let sent = self.client().delete_policy().policy_id(id).send().await;
        done_unless(sent, "DeletePolicy", id, &["PolicyNotFoundException"])
    }

    /// The lease an older orgctl recorded in the root tag [`LEASE_TAG`], if there is one.
    async fn legacy_lease(&self) -> Result<Option<Holder>, Error> {
        let root_id = self.root_id().await?;
        let pages: Vec<_> = self
            .client()
            .list_tags_for_resource()
            .resource_id(root_id)
            .into_paginator()
            .send()
            .try_collect()
            .await
            .map_err(|error| aws_error("ListTagsForResource", root_id, &error))?;
        Ok(pages
            .into_iter()
            .flat_map(|page| page.tags.unwrap_or_default())
            .find(|tag| tag.key == LEASE_TAG)
            .map(|tag| Holder::read(Record::RootTag, &tag.value)))
    }

    async fn remove_legacy_lease(&self) -> Result<(), Error> {
        let root_id = self.root_id().await?;
        self.tag(root_id, &BTreeMap::new(), &[LEASE_TAG.to_owned()])
            .await
    }

    /// Holding the lease policy `id`: honours a lease an older orgctl recorded in the root tag
    /// while it runs, and removes one that ran out (or is not a lease).
    async fn took(&self, id: String, mut replaced: Option<Holder>) -> Result<LeaseAttempt, Error> {
        if let Some(legacy) = self.legacy_lease().await? {
            if legacy.lease.as_ref().is_some_and(|lease| !lease.expired()) {
                self.delete_lease_policy(&id).await?;
                return Ok(LeaseAttempt::Held(Some(legacy)));
            }
            self.remove_legacy_lease().await?;
            replaced = replaced.or(Some(legacy));
        }
        *self.held_policy() = Some(id);
        Ok(LeaseAttempt::Taken { replaced })
    }
}

impl OrgReader for AwsWriter {
    /// One GetAlternateContact per account and type, [`super::CONCURRENCY`] at a time; AWS's
    /// `ResourceNotFoundException` is a contact that is not set.
    async fn read_contacts(
        &self,
        wanted: &[(String, ContactType)],
    ) -> Result<Option<Vec<LiveContact>>, Error> {
        use futures_util::{StreamExt, TryStreamExt};
        let management = self
            .management
            .get_or_try_init(|| self.management_account_id())
            .await?
            .clone();
        let read: Vec<Option<LiveContact>> = futures_util::stream::iter(wanted)
            .map(|(account_id, contact_type)| {
                self.alternate_contact(account_id, *contact_type, &management)
            })
            .buffer_unordered(super::CONCURRENCY)
            .try_collect()
            .await?;
        Ok(Some(read.into_iter().flatten().collect()))
    }

    async fn read_iam(
        &self,
        accounts: &[String],
        access_role: &str,
    ) -> Result<Option<Vec<crate::live::LiveIam>>, Error> {
        self.aws.read_iam(accounts, access_role).await
    }

    async fn read_invitations(
        &self,
        management: &str,
    ) -> Result<Option<Vec<crate::live::LiveInvitation>>, Error> {
        self.aws.read_invitations(management).await
    }

    async fn read(&self) -> Result<LiveState, Error> {
        let state = self.aws.read().await?;
        // The read asked DescribeOrganization already: no need to ask again when writing.
        let _ = self
            .management
            .set(state.organization.management_account_id.clone());
        Ok(state)
    }
}

impl OrgWriter for AwsWriter {
    async fn write(
        &self,
        write: &Write,
        password_file: Option<&crate::live::password::PasswordFile>,
    ) -> Result<Option<String>, Error> {
        if self.lease_lost.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(Diagnostic::new(
                Rule::LeaseHeld,
                "this apply's lease was removed while it ran (by `orgctl force-unlock`, or taken over after it ran out): it stopped, so as not to write alongside another apply",
            )
            .help("plan and apply again once no other apply runs")
            .into());
        }
        let client = self.client();
        match write {
            Write::EnablePolicyType { policy_type } => {
                let root_id = self.root_id().await?;
                let sent = client
                    .enable_policy_type()
                    .root_id(root_id)
                    .policy_type(to_aws(*policy_type))
                    .send()
                    .await;
                done_unless(
                    sent,
                    "EnablePolicyType",
                    root_id,
                    &["PolicyTypeAlreadyEnabledException"],
                )?;
                self.await_policy_type(*policy_type).await?;
            }
            // Enabling and disabling again are no-ops in AWS: a repeated write changes nothing.
            Write::EnableTrustedAccess { principal } => {
                let sent = client
                    .enable_aws_service_access()
                    .service_principal(principal)
                    .send()
                    .await;
                done_unless(sent, "EnableAWSServiceAccess", principal, &[])?;
            }
            Write::DisableTrustedAccess { principal } => {
                let sent = client
                    .disable_aws_service_access()
                    .service_principal(principal)
                    .send()
                    .await;
                done_unless(sent, "DisableAWSServiceAccess", principal, &[])?;
            }
            // An open invitation to the same account is AWS's duplicate; a canceled one is done.
            Write::InviteAccount {
                account_id,
                notes,
                tags,
            } => {
                let target = aws::HandshakeParty::builder()
                    .id(account_id)
                    .r#type(aws::HandshakePartyType::Account)
                    .build()
                    .map_err(|error| {
                        Error::Other(Diagnostic::new(
                            Rule::ChangeFailed,
                            format!("cannot invite {account_id}: {error}"),
                        ))
                    })?;
                let sent = client
                    .invite_account_to_organization()
                    .target(target)
                    .notes(notes)
                    .set_tags(aws_tags(tags))
                    .send()
                    .await;
                done_unless(
                    sent,
                    "InviteAccountToOrganization",
                    account_id,
                    &["DuplicateHandshakeException"],
                )?;
            }
            Write::CancelInvitation { id, .. } => {
                let sent = client.cancel_handshake().handshake_id(id).send().await;
                done_unless(sent, "CancelHandshake", id, &[])?;
            }
            // Registering again and deregistering again are what AWS calls already done.
            Write::RegisterDelegatedAdministrator { account, service } => {
                let sent = client
                    .register_delegated_administrator()
                    .account_id(account)
                    .service_principal(service)
                    .send()
                    .await;
                done_unless(
                    sent,
                    "RegisterDelegatedAdministrator",
                    account,
                    &["AccountAlreadyRegisteredException"],
                )?;
            }
            Write::DeregisterDelegatedAdministrator {
                account_id,
                service,
            } => {
                let sent = client
                    .deregister_delegated_administrator()
                    .account_id(account_id)
                    .service_principal(service)
                    .send()
                    .await;
                done_unless(
                    sent,
                    "DeregisterDelegatedAdministrator",
                    account_id,
                    &["AccountNotRegisteredException"],
                )?;
            }
            // Setting a contact again, or removing one that is gone, changes nothing.
            Write::PutAlternateContact {
                account,
                contact_type,
                contact,
                ..
            } => {
                self.write_contact(account, *contact_type, Some(contact))
                    .await?
            }
            Write::DeleteAlternateContact {
                account,
                contact_type,
                ..
            } => self.write_contact(account, *contact_type, None).await?,
            Write::CreateOu { parent, name, tags } => {
                return self.create_ou(parent, name, tags).await.map(Some);
            }
            Write::RenameOu { id, to, .. } => self.rename_ou(id, to).await?,
            Write::DeleteOu { id } => {
                let sent = client
                    .delete_organizational_unit()
                    .organizational_unit_id(id)
                    .send()
                    .await;
                done_unless(
                    sent,
                    "DeleteOrganizationalUnit",
                    id,
                    &["OrganizationalUnitNotFoundException"],
                )?;
            }
            Write::CreateAccount {
                name,
                email,
                parent,
                tags,
            } => {
                return self
                    .create_account(name, email, self.root_id().await?, parent, tags)
                    .await
                    .map(Some);
            }
            Write::MoveAccount { id, from, to } => {
                self.move_account(id, from, to).await?;
            }
            Write::RenameAccount { id, to, .. } => self.rename_account(id, to).await?,
            Write::ChangeEmail { id, .. } => return Err(manual(id)),
            Write::CloseAccount { id, .. } => {
                let sent = client.close_account().account_id(id).send().await;
                done_unless(sent, "CloseAccount", id, &["AccountAlreadyClosedException"])?;
            }
            Write::RemoveAccount { id, .. } => {
                let sent = client
                    .remove_account_from_organization()
                    .account_id(id)
                    .send()
                    .await;
                done_unless(
                    sent,
                    "RemoveAccountFromOrganization",
                    id,
                    &["AccountNotFoundException"],
                )?;
            }
            Write::CreatePolicy {
                name,
                policy_type,
                description,
                document,
                tags,
            } => {
                return self
                    .create_policy(name, *policy_type, description, document, tags)
                    .await
                    .map(Some);
            }
            Write::UpdatePolicy {
                id,
                description,
                document,
            } => {
                let sent = client
                    .update_policy()
                    .policy_id(id)
                    .set_description(description.as_ref().map(|update| update.to.clone()))
                    .set_content(document.as_ref().map(|update| update.to.clone()))
                    .send()
                    .await;
                done_unless(sent, "UpdatePolicy", id, &[])?;
            }
            Write::DeletePolicy { id } => {
                let sent = client.delete_policy().policy_id(id).send().await;
                done_unless(sent, "DeletePolicy", id, &["PolicyNotFoundException"])?;
            }
            Write::AttachPolicy { policy, target } => {
                let sent = client
                    .attach_policy()
                    .policy_id(policy)
                    .target_id(target)
                    .send()
                    .await;
                done_unless(
                    sent,
                    "AttachPolicy",
                    policy,
                    &["DuplicatePolicyAttachmentException"],
                )?;
            }
            Write::DetachPolicy { policy, target } => {
                let sent = client
                    .detach_policy()
                    .policy_id(policy)
                    .target_id(target)
                    .send()
                    .await;
                done_unless(
                    sent,
                    "DetachPolicy",
                    policy,
                    &["PolicyNotAttachedException"],
                )?;
            }
            Write::UpdateTags { id, set, unset, .. } => {
                let id = id.as_deref().ok_or_else(|| {
                    Error::from(Diagnostic::new(
                        Rule::ChangeFailed,
                        "a tag change names no resource id",
                    ))
                })?;
                self.tag(id, set, unset).await?;
            }
            Write::PutRole {
                account,
                access_role,
                name,
                partner,
                trust_policy,
                managed_policies,
                ..
            } => {
                self.aws
                    .put_role(
                        account,
                        access_role,
                        name,
                        partner,
                        trust_policy,
                        managed_policies,
                    )
                    .await?;
            }
            Write::DeleteRole {
                account_id,
                access_role,
                name,
                ..
            } => self.aws.delete_role(account_id, access_role, name).await?,
            Write::PutUser {
                account,
                access_role,
                name,
                managed_policies,
                inline_policies,
                console,
                ..
            } => {
                let wanted = WantedUser {
                    name,
                    managed_policies,
                    inline_policies,
                    console: *console,
                };
                self.aws
                    .put_user(account, access_role, &wanted, password_file)
                    .await?;
            }
        }
        Ok(None)
    }

    /// Creates the lease policy; AWS refuses a second one of its name, so of two applies that
    /// try at once exactly one succeeds. A lease policy that ran out is deleted by its id (so two
    /// takers cannot delete each other's new one) and created again.
    async fn take_lease(&self, lease: &Lease) -> Result<LeaseAttempt, Error> {
        let mut replaced = None;
        for _ in 0..LEASE_TRIES {
            if let Some(id) = self.create_lease_policy(lease).await? {
                return self.took(id, replaced).await;
            }
            let Some(holder) = self.find_lease_policy().await? else {
                // Released (or not listed yet) since the creation was refused: try again.
                continue;
            };
            let Record::Policy(id) = holder.record.clone() else {
                continue;
            };
            match &holder.lease {
                // This apply's own creation, whose answer was lost and retried.
                Some(held) if held.id == lease.id => return self.took(id, replaced).await,
                Some(held) if held.expired() => {
                    self.delete_lease_policy(&id).await?;
                    replaced = Some(holder);
                }
                _ => return Ok(LeaseAttempt::Held(Some(holder))),
            }
        }
        Ok(LeaseAttempt::Held(None))
    }

    /// Writes the renewed lease into this apply's lease policy, by id: once it is gone (removed
    /// by `force-unlock`, or taken over after running out) it cannot come back.
    async fn renew_lease(&self, lease: &Lease) -> Result<bool, Error> {
        let Some(id) = self.held_policy().clone() else {
            return Ok(false);
        };
        let sent = self
            .client()
            .update_policy()
            .policy_id(&id)
            .description(lease.encode())
            .send()
            .await;
        match sent {
            Ok(_) => Ok(true),
            Err(error) if code(&error) == Some("PolicyNotFoundException") => {
                self.held_policy().take();
                self.lease_lost
                    .store(true, std::sync::atomic::Ordering::SeqCst);
                Ok(false)
            }
            Err(error) => Err(aws_error("UpdatePolicy", &id, &error)),
        }
    }

    async fn release_lease(&self, _lease: &Lease) -> Result<(), Error> {
        let id = self.held_policy().clone();
        if let Some(id) = id {
            self.delete_lease_policy(&id).await?;
            self.held_policy().take();
        }
        Ok(())
    }

    async fn force_unlock(&self, id: &str) -> Result<Unlock, Error> {
        let holder = self.find_lease_policy().await?;
        if let Some(holder) = holder.as_ref().filter(|holder| holder.is_named(id))
            && let Record::Policy(policy) = &holder.record
        {
            self.delete_lease_policy(policy).await?;
            return Ok(Unlock::Removed(holder.clone()));
        }
        let legacy = self.legacy_lease().await?;
        if let Some(legacy) = legacy.as_ref().filter(|legacy| legacy.is_named(id)) {
            self.remove_legacy_lease().await?;
            return Ok(Unlock::Removed(legacy.clone()));
        }
        Ok(match holder.or(legacy) {
            Some(other) => Unlock::Other(other),
            None => Unlock::Nothing,
        })
    }

    fn requests(&self) -> Option<usize> {
        Some(self.aws.requests())
    }
}

/// AWS's name of a contact type.
fn aws_contact_type(contact_type: ContactType) -> account::types::AlternateContactType {
    match contact_type {
        ContactType::Billing => account::types::AlternateContactType::Billing,
        ContactType::Operations => account::types::AlternateContactType::Operations,
        ContactType::Security => account::types::AlternateContactType::Security,
    }
}

/// An Account Management error on a contact; access denied says what AWS needs.
fn contact_error<E, R>(operation: &str, account_id: &str, error: &SdkError<E, R>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    let error = aws_error(operation, account_id, error);
    if matches!(error.code(), Some("AccessDenied" | "AccessDeniedException")) {
        error.with_help(format!("managing member accounts' alternate contacts needs trusted access for AWS Account Management (`trusted_access: [{ACCOUNT_MANAGEMENT_PRINCIPAL}]`, or `aws organizations enable-aws-service-access --service-principal {ACCOUNT_MANAGEMENT_PRINCIPAL}`) and account:{operation}"))
    } else {
        error
    }
}

/// AWS's error code, if AWS answered with one.
pub(super) fn code<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>) -> Option<&str> {
    match error {
        SdkError::ServiceError(service) => service.err().code(),
        _ => None,
    }
}

/// Success, or an error whose code says the work is already done.
pub(super) fn done_unless<T, E, R>(
    result: Result<T, SdkError<E, R>>,
    operation: &str,
    resource: &str,
    already_done: &[&str],
) -> Result<(), Error>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    match result {
        Ok(_) => Ok(()),
        Err(error) if code(&error).is_some_and(|c| already_done.contains(&c)) => Ok(()),
        Err(error) => Err(aws_error(operation, resource, &error)),
    }
}

/// One creation attempt's outcome from AWS's answer. `duplicate`, the error for a name already
/// taken, may mean an earlier attempt that looked failed did create it: look before trying again.
fn attempted<T, E>(
    sent: Result<T, SdkError<E, HttpResponse>>,
    id: impl FnOnce(T) -> Option<String>,
    duplicate: &str,
    operation: &str,
    name: &str,
) -> Attempt
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match sent {
        Ok(output) => Attempt::Done(id(output).unwrap_or_default()),
        Err(error) if code(&error) == Some(duplicate) => {
            Attempt::Uncertain(aws_error(operation, name, &error))
        }
        Err(error) => classify(operation, name, &error),
    }
}

/// A failed creation attempt: uncertain when the request may have been carried out anyway or
/// was turned away for the moment (lost connection, timeout, 5xx, throttling, concurrent
/// modification); failed otherwise.
fn classify<E>(operation: &str, resource: &str, error: &SdkError<E, HttpResponse>) -> Attempt
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let diagnostic = aws_error(operation, resource, error);
    let uncertain = match error {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(service) => {
            service.raw().status().is_server_error()
                || matches!(
                    service.err().code(),
                    Some(
                        "TooManyRequestsException"
                            | "ThrottlingException"
                            | "ConcurrentModificationException"
                            | "ServiceException"
                    )
                )
        }
        _ => false,
    };
    if uncertain {
        Attempt::Uncertain(diagnostic)
    } else {
        Attempt::Failed(diagnostic)
    }
}

/// Jittered exponential back-off: about 0.4 s, 0.8 s, 1.6 s, … up to 5 s.
fn backoff(attempt: u32) -> Duration {
    let base = Duration::from_millis(200) * 2u32.saturating_pow(attempt.min(5));
    let jitter = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|t| t.subsec_nanos() % 250)
        .unwrap_or(0);
    (base + Duration::from_millis(u64::from(jitter))).min(Duration::from_secs(5))
}

pub(super) fn aws_tags(tags: &BTreeMap<String, String>) -> Option<Vec<aws::Tag>> {
    if tags.is_empty() {
        return None;
    }
    Some(
        tags.iter()
            .filter_map(|(key, value)| aws::Tag::builder().key(key).value(value).build().ok())
            .collect(),
    )
}

/// Why AWS could not create an account, and what to do.
/// The end customer's user as a write asks for it.
#[derive(Debug, Clone, Copy)]
pub(super) struct WantedUser<'a> {
    /// The user name.
    pub name: &'a str,
    /// The managed policy ARNs it has, and no others.
    pub managed_policies: &'a [String],
    /// orgctl's presets it has inline.
    pub inline_policies: &'a [crate::config::Preset],
    /// Whether it gets a console password.
    pub console: bool,
}

/// The error for a manual step sent to the writer: nobody but a person can make it.
fn manual(account_id: &str) -> Error {
    Error::from(Diagnostic::new(
        Rule::ChangeFailed,
        format!("{account_id}: a root email change is a step for a person"),
    ))
}

fn creation_failed(name: &str, reason: Option<&aws::CreateAccountFailureReason>) -> Error {
    use aws::CreateAccountFailureReason as Reason;
    let code = reason.map_or("UNKNOWN", Reason::as_str);
    let (message, help) = match reason {
        Some(Reason::EmailAlreadyExists) => (
            "another AWS account already has its root email",
            "choose another email in the file (or its template), or invite that account into the organization and pin its `id`",
        ),
        Some(Reason::AccountLimitExceeded) => (
            "the organization has reached its account quota",
            "ask for a higher `Default maximum number of accounts` in Service Quotas (AWS Organizations), then apply again",
        ),
        Some(Reason::InvalidEmail) => (
            "AWS refused its root email",
            "use a deliverable address of at most 64 characters",
        ),
        Some(Reason::InvalidAddress) => (
            "the management account's contact address is not valid for a new account",
            "fix the address in the management account's billing console, then apply again",
        ),
        Some(Reason::ConcurrentAccountModification) => (
            "another change to the organization was running",
            "apply again; orgctl does not start a creation twice",
        ),
        Some(Reason::InternalFailure) => ("AWS failed internally", "apply again in a few minutes"),
        Some(
            Reason::MissingPaymentInstrument
            | Reason::InvalidPaymentInstrument
            | Reason::MissingBusinessValidation
            | Reason::FailedBusinessValidation
            | Reason::UnknownBusinessValidation
            | Reason::InvalidIdentityForBusinessValidation,
        ) => (
            "the management account's payment or business validation is not complete",
            "complete it in the management account's billing console (or with AWS Support), then apply again",
        ),
        _ => (
            "AWS refused it",
            "see AWS's reason code; apply again once it is resolved",
        ),
    };
    Diagnostic::new(
        Rule::ChangeFailed,
        format!("AWS could not create account `{name}`: {message} ({code})"),
    )
    .help(help)
    .into()
}
