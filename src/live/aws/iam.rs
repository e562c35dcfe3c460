//! IAM inside member accounts: orgctl assumes a role there (`member_access_role`, default
//! `OrganizationAccountAccessRole`) through STS, then speaks IAM with those credentials.
//!
//! orgctl only ever lists, changes and deletes roles and users under its own path (`/orgctl/`),
//! and checks the path again before changing one: IAM it did not create is never touched.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::sts::AssumeRoleProvider;
use aws_sdk_iam as iam;
use futures_util::{StreamExt, TryStreamExt, stream};
use iam::config::SharedCredentialsProvider;

use super::write::{WantedUser, code, done_unless};
use super::{Aws, CountRequests, MAX_ATTEMPTS, aws_error};
use crate::diagnostic::Diagnostic;
use crate::live::{
    Error, IAM_PATH, LiveIam, LiveRole, LiveUser, MANAGED_TAG, PARTNER_TAG, password,
};
use crate::model::preset;
use crate::rules::Rule;

/// Member accounts read at once.
const CONCURRENCY: usize = 4;
/// How long a write waits for a new account's access role to become assumable.
const REACH_DEADLINE: Duration = Duration::from_secs(180);

impl Aws {
    /// An IAM client acting in `account_id` through `access_role`, made once per account.
    async fn member(&self, account_id: &str, access_role: &str) -> iam::Client {
        if let Some(client) = self.members.lock().await.get(account_id) {
            return client.clone();
        }
        let arn = format!("arn:aws:iam::{account_id}:role/{access_role}");
        let provider = AssumeRoleProvider::builder(arn)
            .session_name("orgctl")
            .configure(&self.sdk_config)
            .build()
            .await;
        // The provider's one AssumeRole call goes through its own STS client: count it here.
        self.requests
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let config = iam::config::Builder::from(&self.sdk_config)
            .credentials_provider(SharedCredentialsProvider::new(provider))
            .retry_config(
                RetryConfig::adaptive()
                    .with_max_attempts(MAX_ATTEMPTS)
                    .with_max_backoff(Duration::from_secs(5)),
            )
            .interceptor(CountRequests(Arc::clone(&self.requests)))
            .build();
        let client = iam::Client::from_conf(config);
        self.members
            .lock()
            .await
            .insert(account_id.to_owned(), client.clone());
        client
    }

    /// The IAM orgctl created in each of `accounts` (one entry per account, empty when it
    /// created nothing there).
    pub async fn read_member_iam(
        &self,
        accounts: &[String],
        access_role: &str,
    ) -> Result<Vec<LiveIam>, Error> {
        stream::iter(accounts)
            .map(|account_id| self.read_account_iam(account_id, access_role))
            .buffer_unordered(CONCURRENCY)
            .try_collect()
            .await
    }

    async fn read_account_iam(
        &self,
        account_id: &str,
        access_role: &str,
    ) -> Result<LiveIam, Error> {
        let client = self.member(account_id, access_role).await;
        let reach = |error: Error| unreachable_account(error, account_id, access_role);
        let roles: Vec<iam::types::Role> = client
            .list_roles()
            .path_prefix(IAM_PATH)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|error| reach(aws_error("ListRoles", account_id, &error)))?;
        let mut live_roles = Vec::with_capacity(roles.len());
        // The prefix also lists paths below orgctl's (`/orgctl/x/`): those are not orgctl's.
        for role in roles.into_iter().filter(|role| role.path() == IAM_PATH) {
            let name = role.role_name().to_owned();
            let trust_policy = decode(role.assume_role_policy_document().unwrap_or_default());
            live_roles.push(LiveRole {
                managed_policies: Principal::Role(&name).attached(&client).await?,
                tags: role_tags(&client, &name).await?,
                name,
                trust_policy,
            });
        }
        let users: Vec<iam::types::User> = client
            .list_users()
            .path_prefix(IAM_PATH)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|error| reach(aws_error("ListUsers", account_id, &error)))?;
        let mut live_users = Vec::with_capacity(users.len());
        for user in users.into_iter().filter(|user| user.path() == IAM_PATH) {
            let name = user.user_name().to_owned();
            live_users.push(read_user(&client, name).await?);
        }
        Ok(LiveIam {
            account_id: account_id.to_owned(),
            roles: live_roles,
            users: live_users,
        })
    }

    /// Makes the role exactly what is asked, creating it if needed.
    pub(super) async fn put_role(
        &self,
        account_id: &str,
        access_role: &str,
        name: &str,
        partner: &str,
        trust_policy: &str,
        managed_policies: &[String],
    ) -> Result<(), Error> {
        let client = self.member(account_id, access_role).await;
        let role = Principal::Role(name);
        let resource = format!("{account_id}/{name}");
        if role
            .patiently_ours(&client, account_id, access_role)
            .await?
        {
            let sent = client
                .update_assume_role_policy()
                .role_name(name)
                .policy_document(trust_policy)
                .send()
                .await;
            done_unless(sent, "UpdateAssumeRolePolicy", &resource, &[])?;
            let sent = client
                .tag_role()
                .role_name(name)
                .set_tags(Some(iam_tags(&[
                    (MANAGED_TAG, "true"),
                    (PARTNER_TAG, partner),
                ])))
                .send()
                .await;
            done_unless(sent, "TagRole", &resource, &[])?;
        } else {
            let sent = client
                .create_role()
                .path(IAM_PATH)
                .role_name(name)
                .assume_role_policy_document(trust_policy)
                .description(format!("orgctl: access of partner {partner}"))
                .set_tags(Some(iam_tags(&[
                    (MANAGED_TAG, "true"),
                    (PARTNER_TAG, partner),
                ])))
                .send()
                .await;
            if !created(sent, "CreateRole", &resource)? {
                // Someone made one of that name since: it must be ours to go on.
                role.ours(&client, account_id, access_role).await?;
            } else {
                // A new role has no policies yet: attach, without listing first.
                return role.attach_all(&client, managed_policies, &resource).await;
            }
        }
        role.sync_policies(&client, managed_policies, &resource)
            .await
    }

    /// Deletes a role orgctl created: its policies first, as IAM requires.
    pub(super) async fn delete_role(
        &self,
        account_id: &str,
        access_role: &str,
        name: &str,
    ) -> Result<(), Error> {
        let client = self.member(account_id, access_role).await;
        let role = Principal::Role(name);
        let resource = format!("{account_id}/{name}");
        if !role.ours(&client, account_id, access_role).await? {
            return Ok(());
        }
        role.sync_policies(&client, &[], &resource).await?;
        let inline = client
            .list_role_policies()
            .role_name(name)
            .send()
            .await
            .map_err(|error| aws_error("ListRolePolicies", &resource, &error))?;
        for policy in inline.policy_names() {
            let sent = client
                .delete_role_policy()
                .role_name(name)
                .policy_name(policy)
                .send()
                .await;
            done_unless(sent, "DeleteRolePolicy", &resource, &["NoSuchEntity"])?;
        }
        let sent = client.delete_role().role_name(name).send().await;
        done_unless(sent, "DeleteRole", &resource, &["NoSuchEntity"])
    }

    /// Makes the end customer's user exactly what is asked, creating it if needed: its managed
    /// policies, the presets `inline_policies` inline, and a console password if asked. A new
    /// console password goes to `password_file` before IAM gets it, and nowhere else.
    pub(super) async fn put_user(
        &self,
        account_id: &str,
        access_role: &str,
        wanted: &WantedUser<'_>,
        password_file: Option<&password::PasswordFile>,
    ) -> Result<(), Error> {
        let WantedUser {
            name,
            managed_policies,
            inline_policies,
            console,
        } = *wanted;
        let client = self.member(account_id, access_role).await;
        let user = Principal::User(name);
        let resource = format!("{account_id}/{name}");
        if !user
            .patiently_ours(&client, account_id, access_role)
            .await?
        {
            let sent = client
                .create_user()
                .path(IAM_PATH)
                .user_name(name)
                .set_tags(Some(iam_tags(&[(MANAGED_TAG, "true")])))
                .send()
                .await;
            if !created(sent, "CreateUser", &resource)? {
                user.ours(&client, account_id, access_role).await?;
            }
        }
        // Inline policies (MFA) before anything else: the user is never administrator without.
        for preset in inline_policies {
            let sent = client
                .put_user_policy()
                .user_name(name)
                .policy_name(preset::name(*preset))
                .policy_document(preset::document(*preset))
                .send()
                .await;
            done_unless(sent, "PutUserPolicy", &resource, &[])?;
        }
        user.sync_policies(&client, managed_policies, &resource)
            .await?;
        // Any login profile created after this moment is this apply's own (the lease keeps other
        // applies out): a retry that finds one means the first attempt's answer was lost.
        let asked_at = chrono::Utc::now();
        if console && !has_login_profile(&client, name).await? {
            let file = password_file.ok_or_else(|| {
                Diagnostic::new(
                    Rule::ChangeFailed,
                    format!("{resource}: a console user needs a one-time password, and there is no --password-file"),
                )
                .help("run apply with --password-file FILE (written with mode 0600), or set `console: false`")
            })?;
            let password = file.record(account_id, name)?;
            let sent = client
                .create_login_profile()
                .user_name(name)
                .password(password)
                .password_reset_required(true)
                .send()
                .await;
            match sent {
                Ok(_) => {}
                Err(error) if code(&error) == Some("EntityAlreadyExists") => {
                    login_profile_set_by_this_apply(
                        &client,
                        name,
                        &resource,
                        file.path(),
                        asked_at,
                    )
                    .await?;
                }
                Err(error) => {
                    let mut diagnostic =
                        Diagnostic::from(aws_error("CreateLoginProfile", &resource, &error));
                    diagnostic.message.push_str(&format!(
                        "; the last line for {name} in `{}` was not set as its password",
                        file.path().display()
                    ));
                    return Err(diagnostic.into());
                }
            }
        }
        Ok(())
    }
}

/// A role or a user: the two kinds of IAM identity orgctl makes.
#[derive(Debug, Clone, Copy)]
enum Principal<'a> {
    Role(&'a str),
    User(&'a str),
}

impl Principal<'_> {
    const fn kind(self) -> &'static str {
        match self {
            Principal::Role(_) => "role",
            Principal::User(_) => "user",
        }
    }

    /// Whether it exists; an error when it exists but orgctl did not make it (not under
    /// orgctl's path, or without its tag).
    async fn ours(
        self,
        client: &iam::Client,
        account_id: &str,
        access_role: &str,
    ) -> Result<bool, Error> {
        let (name, found) = match self {
            Principal::Role(name) => (
                name,
                client
                    .get_role()
                    .role_name(name)
                    .send()
                    .await
                    .map(|out| out.role.map(|r| (r.path, r.tags.unwrap_or_default())))
                    .map_err(|error| {
                        (
                            code(&error) == Some("NoSuchEntity"),
                            aws_error("GetRole", name, &error),
                        )
                    }),
            ),
            Principal::User(name) => (
                name,
                client
                    .get_user()
                    .user_name(name)
                    .send()
                    .await
                    .map(|out| out.user.map(|u| (u.path, u.tags.unwrap_or_default())))
                    .map_err(|error| {
                        (
                            code(&error) == Some("NoSuchEntity"),
                            aws_error("GetUser", name, &error),
                        )
                    }),
            ),
        };
        match found {
            Ok(Some((path, tags))) => {
                let tagged = tags.iter().any(|tag| tag.key() == MANAGED_TAG);
                if path == IAM_PATH && tagged {
                    Ok(true)
                } else {
                    Err(Error::NotOurs {
                        account_id: account_id.to_owned(),
                        kind: self.kind(),
                        name: name.to_owned(),
                        path,
                    })
                }
            }
            Ok(None) | Err((true, _)) => Ok(false),
            Err((false, error)) => Err(unreachable_account(error, account_id, access_role)),
        }
    }

    /// [`Principal::ours`], waiting up to [`REACH_DEADLINE`] for an account whose access role
    /// cannot be assumed yet: AWS takes a while to make it assumable in an account it has just
    /// created.
    async fn patiently_ours(
        self,
        client: &iam::Client,
        account_id: &str,
        access_role: &str,
    ) -> Result<bool, Error> {
        let started = std::time::Instant::now();
        let mut wait = Duration::from_secs(2);
        loop {
            match self.ours(client, account_id, access_role).await {
                Err(Error::Unreachable { .. }) if started.elapsed() + wait < REACH_DEADLINE => {
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(Duration::from_secs(20));
                }
                other => return other,
            }
        }
    }

    /// Its attached managed policy ARNs, sorted.
    async fn attached(self, client: &iam::Client) -> Result<Vec<String>, Error> {
        let listed = match self {
            Principal::Role(name) => client
                .list_attached_role_policies()
                .role_name(name)
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .map_err(|error| aws_error("ListAttachedRolePolicies", name, &error)),
            Principal::User(name) => client
                .list_attached_user_policies()
                .user_name(name)
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .map_err(|error| aws_error("ListAttachedUserPolicies", name, &error)),
        }?;
        let mut arns: Vec<String> = listed.into_iter().filter_map(|p| p.policy_arn).collect();
        arns.sort();
        Ok(arns)
    }

    /// Attaches what `wanted` has and it lacks; detaches what it has beyond `wanted`.
    /// Attaches every one of `arns` (to a role or user that has none).
    async fn attach_all(
        self,
        client: &iam::Client,
        arns: &[String],
        resource: &str,
    ) -> Result<(), Error> {
        for arn in arns {
            self.attach(client, arn, resource).await?;
        }
        Ok(())
    }

    async fn attach(self, client: &iam::Client, arn: &str, resource: &str) -> Result<(), Error> {
        match self {
            Principal::Role(name) => {
                let sent = client
                    .attach_role_policy()
                    .role_name(name)
                    .policy_arn(arn)
                    .send()
                    .await;
                done_unless(sent, "AttachRolePolicy", resource, &[])
            }
            Principal::User(name) => {
                let sent = client
                    .attach_user_policy()
                    .user_name(name)
                    .policy_arn(arn)
                    .send()
                    .await;
                done_unless(sent, "AttachUserPolicy", resource, &[])
            }
        }
    }

    async fn sync_policies(
        self,
        client: &iam::Client,
        wanted: &[String],
        resource: &str,
    ) -> Result<(), Error> {
        let attached: BTreeSet<String> = self.attached(client).await?.into_iter().collect();
        let wanted: BTreeSet<String> = wanted.iter().cloned().collect();
        for arn in wanted.difference(&attached) {
            self.attach(client, arn, resource).await?;
        }
        for arn in attached.difference(&wanted) {
            match self {
                Principal::Role(name) => {
                    let sent = client
                        .detach_role_policy()
                        .role_name(name)
                        .policy_arn(arn)
                        .send()
                        .await;
                    done_unless(sent, "DetachRolePolicy", resource, &["NoSuchEntity"])?;
                }
                Principal::User(name) => {
                    let sent = client
                        .detach_user_policy()
                        .user_name(name)
                        .policy_arn(arn)
                        .send()
                        .await;
                    done_unless(sent, "DetachUserPolicy", resource, &["NoSuchEntity"])?;
                }
            }
        }
        Ok(())
    }
}

/// A creation's result: someone else's entity of that name (`EntityAlreadyExists`) is checked by
/// the caller, which asks again whose it is.
fn created<T, E, R>(
    result: Result<T, iam::error::SdkError<E, R>>,
    operation: &str,
    resource: &str,
) -> Result<bool, Error>
where
    E: iam::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    match result {
        Ok(_) => Ok(true),
        Err(error) if code(&error) == Some("EntityAlreadyExists") => Ok(false),
        Err(error) => Err(aws_error(operation, resource, &error)),
    }
}

async fn read_user(client: &iam::Client, name: String) -> Result<LiveUser, Error> {
    let inline = client
        .list_user_policies()
        .user_name(&name)
        .send()
        .await
        .map_err(|error| aws_error("ListUserPolicies", &name, &error))?;
    let mut inline_policies = inline.policy_names().to_vec();
    inline_policies.sort();
    let tags = client
        .list_user_tags()
        .user_name(&name)
        .send()
        .await
        .map_err(|error| aws_error("ListUserTags", &name, &error))?;
    Ok(LiveUser {
        managed_policies: Principal::User(&name).attached(client).await?,
        inline_policies,
        console: has_login_profile(client, &name).await?,
        tags: tags
            .tags()
            .iter()
            .map(|tag| (tag.key().to_owned(), tag.value().to_owned()))
            .collect(),
        name,
    })
}

async fn role_tags(client: &iam::Client, name: &str) -> Result<BTreeMap<String, String>, Error> {
    let tags = client
        .list_role_tags()
        .role_name(name)
        .send()
        .await
        .map_err(|error| aws_error("ListRoleTags", name, &error))?;
    Ok(tags
        .tags()
        .iter()
        .map(|tag| (tag.key().to_owned(), tag.value().to_owned()))
        .collect())
}

/// After CreateLoginProfile answered that the user already has a console password: `Ok` when
/// that password was created after `asked_at` (this apply's first attempt, whose answer was lost:
/// the password file's last line for the user is the password); otherwise an error saying that
/// someone else set it and the recorded line is not the password.
async fn login_profile_set_by_this_apply(
    client: &iam::Client,
    name: &str,
    resource: &str,
    path: &std::path::Path,
    asked_at: chrono::DateTime<chrono::Utc>,
) -> Result<(), Error> {
    let profile = client
        .get_login_profile()
        .user_name(name)
        .send()
        .await
        .map_err(|error| aws_error("GetLoginProfile", resource, &error))?;
    let created = profile.login_profile().map(|p| p.create_date().secs());
    // AWS's clock and this machine's may differ by a little.
    let since = asked_at.timestamp() - CLOCK_SKEW.as_secs() as i64;
    if created.is_some_and(|created| created >= since) {
        return Ok(());
    }
    let when = created
        .and_then(|secs| chrono::DateTime::from_timestamp(secs, 0))
        .map_or_else(|| "an unknown time".to_owned(), |time| time.to_rfc3339());
    Err(Diagnostic::new(
        Rule::ChangeFailed,
        format!(
            "{resource}: the user already had a console password, set at {when} by someone other than this apply; the last line for {name} in `{}` is not its password",
            path.display()
        ),
    )
    .help("whoever set it hands it over, or an administrator resets it in the account's IAM console")
    .into())
}

/// How far AWS's clock may be from this machine's when comparing its timestamps with ours.
const CLOCK_SKEW: std::time::Duration = std::time::Duration::from_secs(300);

async fn has_login_profile(client: &iam::Client, name: &str) -> Result<bool, Error> {
    match client.get_login_profile().user_name(name).send().await {
        Ok(_) => Ok(true),
        Err(error) if code(&error) == Some("NoSuchEntity") => Ok(false),
        Err(error) => Err(aws_error("GetLoginProfile", name, &error)),
    }
}

/// IAM returns policy documents URL-encoded.
fn decode(document: &str) -> String {
    percent_encoding::percent_decode_str(document)
        .decode_utf8_lossy()
        .into_owned()
}

fn iam_tags(tags: &[(&str, &str)]) -> Vec<iam::types::Tag> {
    tags.iter()
        .filter_map(|(key, value)| {
            iam::types::Tag::builder()
                .key(*key)
                .value(*value)
                .build()
                .ok()
        })
        .collect()
}

/// `error` as that of an account orgctl cannot reach, when the credentials of its access role
/// were refused or could not be loaded.
fn unreachable_account(error: Error, account_id: &str, access_role: &str) -> Error {
    if error.is_denied() {
        return Error::Unreachable {
            account_id: account_id.to_owned(),
            role: access_role.to_owned(),
            cause: Box::new(error),
        };
    }
    error
}
