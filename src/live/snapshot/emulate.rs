//! What AWS Organizations does beyond the call made, as the snapshot backend emulates it: the
//! plain effects of a write on a [`LiveState`], where plans rely on them.
//!
//! - Enabling a policy type that has an AWS-managed full-access policy (`FullAWSAccess`,
//!   `RCPFullAWSAccess`: the table [`POLICY_TYPES`]) creates that policy and attaches it to the
//!   root, every OU and every account.
//! - A new OU or account gets the full-access policy of every enabled type.
//! - A closed account stays in the organization, `CLOSED`, for AWS's 90-day reinstatement window.
//! - An OU deleted or an account removed is detached from every policy.
//! - An invitation goes to an account outside the organization, stays open for 15 days, and is
//!   not sent twice while one is open; only an open one can be canceled.
//! - A delegated administrator is a member account of a service with trusted access; an account
//!   that administers a service cannot leave the organization.

use crate::config::PolicyType;
use crate::live::{
    AccountState, InvitationState, LiveDelegation, LiveInvitation, LivePolicy, LiveState,
};
use crate::model::policy_type::{POLICY_TYPES, info};

/// The document of AWS's full-access policies: everything allowed.
const FULL_ACCESS_DOCUMENT: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

/// Enables `policy_type` on the root; the type's full-access policy, if it has one, is attached
/// to the root, every OU and every account. Enabling an enabled type changes nothing.
pub fn enable_policy_type(state: &mut LiveState, policy_type: PolicyType) {
    if state.root.enabled_policy_types.contains(&policy_type) {
        return;
    }
    state.root.enabled_policy_types.push(policy_type);
    state.root.enabled_policy_types.sort();
    let everything: Vec<String> = std::iter::once(state.root.id.clone())
        .chain(state.organizational_units.iter().map(|ou| ou.id.clone()))
        .chain(state.accounts.iter().map(|account| account.id.clone()))
        .collect();
    if let Some(policy) = full_access(state, policy_type) {
        policy.targets.extend(everything);
        policy.targets.sort();
        policy.targets.dedup();
    }
}

/// A new OU or account (`id`) gets the full-access policy of every enabled type.
pub fn target_created(state: &mut LiveState, id: &str) {
    let with_full_access = POLICY_TYPES
        .iter()
        .filter(|row| row.full_access.is_some())
        .map(|row| row.policy_type);
    for policy_type in with_full_access {
        if state.root.enabled_policy_types.contains(&policy_type)
            && let Some(policy) = full_access(state, policy_type)
            && !policy.targets.iter().any(|target| target == id)
        {
            policy.targets.push(id.to_owned());
            policy.targets.sort();
        }
    }
}

/// Closes an account: AWS keeps it in the organization, `CLOSED`, for 90 days (the close
/// completes at once here; AWS passes through `PENDING_CLOSURE`).
pub fn close_account(state: &mut LiveState, id: &str) -> Result<(), String> {
    let account = state
        .accounts
        .iter_mut()
        .find(|account| account.id == id)
        .ok_or_else(|| format!("account {id} is not in the organization"))?;
    account.state = AccountState::Closed;
    Ok(())
}

/// An OU deleted or an account removed (`id`) is attached to nothing any more.
pub fn target_gone(state: &mut LiveState, id: &str) {
    for policy in &mut state.policies {
        policy.targets.retain(|target| target != id);
    }
}

/// How long AWS keeps an invitation open.
const INVITATION_DAYS: i64 = 15;

/// The id of the invitation open for `account_id`, if one is; an error for an account that is a
/// member already.
pub fn open_invitation(state: &LiveState, account_id: &str) -> Result<Option<String>, String> {
    if state
        .accounts
        .iter()
        .any(|account| account.id == account_id)
    {
        return Err(format!(
            "account {account_id} is in the organization already"
        ));
    }
    Ok(state
        .invitations
        .iter()
        .find(|invitation| invitation.account_id == account_id && invitation.state.is_open())
        .map(|invitation| invitation.id.clone()))
}

/// Records the invitation `id` of `account_id`, sent `now`: open for 15 days.
pub fn invite(
    state: &mut LiveState,
    id: &str,
    account_id: &str,
    notes: &str,
    now: chrono::DateTime<chrono::Utc>,
) {
    let expires = now + chrono::Duration::days(INVITATION_DAYS);
    state.invitations.push(LiveInvitation {
        id: id.to_owned(),
        account_id: account_id.to_owned(),
        state: InvitationState::Open,
        expires: Some(expires.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        notes: Some(notes.to_owned()),
    });
    state.invitations.sort_by(|a, b| a.id.cmp(&b.id));
}

/// Cancels the open invitation `id`.
pub fn cancel_invitation(state: &mut LiveState, id: &str) -> Result<(), String> {
    let invitation = state
        .invitations
        .iter_mut()
        .find(|invitation| invitation.id == id)
        .ok_or_else(|| format!("no invitation {id}"))?;
    if !invitation.state.is_open() {
        return Err(format!(
            "the invitation {id} is {} and cannot be canceled",
            invitation.state.aws_name()
        ));
    }
    invitation.state = InvitationState::Canceled;
    Ok(())
}

/// Registers `account_id` as delegated administrator of `service`, as AWS does: a member account
/// of the organization, a service with trusted access, not registered twice.
pub fn register_delegated_administrator(
    state: &mut LiveState,
    account_id: &str,
    service: &str,
) -> Result<(), String> {
    if account_id == state.organization.management_account_id {
        return Err("the management account cannot be a delegated administrator".to_owned());
    }
    if !state
        .accounts
        .iter()
        .any(|account| account.id == account_id)
    {
        return Err(format!("account {account_id} is not in the organization"));
    }
    if !state
        .trusted_access
        .iter()
        .any(|enabled| enabled == service)
    {
        return Err(format!("{service} has no trusted access"));
    }
    let delegation = LiveDelegation {
        service: service.to_owned(),
        account_id: account_id.to_owned(),
    };
    if state.delegated_administrators.contains(&delegation) {
        return Err(format!(
            "account {account_id} is already a delegated administrator of {service}"
        ));
    }
    state.delegated_administrators.push(delegation);
    state.delegated_administrators.sort();
    Ok(())
}

/// Whether account `id` may leave the organization: not while it administers a service.
pub fn may_leave(state: &LiveState, id: &str) -> Result<(), String> {
    match state
        .delegated_administrators
        .iter()
        .find(|delegation| delegation.account_id == id)
    {
        Some(delegation) => Err(format!(
            "account {id} is the delegated administrator of {}; deregister it first",
            delegation.service
        )),
        None => Ok(()),
    }
}

/// AWS's full-access policy of a type, created as AWS does when the type is first enabled.
fn full_access(state: &mut LiveState, policy_type: PolicyType) -> Option<&mut LivePolicy> {
    let full = info(policy_type).full_access?;
    if !state.policies.iter().any(|p| p.id == full.id) {
        state.policies.push(LivePolicy {
            id: full.id.to_owned(),
            name: full.name.to_owned(),
            policy_type,
            description: full.description.to_owned(),
            aws_managed: true,
            document: FULL_ACCESS_DOCUMENT.to_owned(),
            tags: std::collections::BTreeMap::new(),
            targets: Vec::new(),
        });
    }
    state.policies.iter_mut().find(|p| p.id == full.id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::{LiveAccount, LiveOrganization, LiveOu, LiveRoot};

    const ROOT: &str = "r-abcd";
    const OU: &str = "ou-abcd-aaaaaaaa";
    const ACCOUNT: &str = "222222222222";

    /// An organization of a root, one OU and two accounts, no policy type enabled.
    fn organization() -> LiveState {
        let account = |id: &str, name: &str, parent: &str| LiveAccount {
            id: id.to_owned(),
            name: name.to_owned(),
            email: format!("{name}@example.org"),
            state: AccountState::Active,
            parent_id: parent.to_owned(),
            tags: Default::default(),
        };
        LiveState {
            organization: LiveOrganization {
                id: "o-abcdefghij".to_owned(),
                management_account_id: "111111111111".to_owned(),
                management_account_email: "management@example.org".to_owned(),
            },
            root: LiveRoot {
                id: ROOT.to_owned(),
                enabled_policy_types: Vec::new(),
                tags: Default::default(),
            },
            trusted_access: Vec::new(),
            delegated_administrators: Vec::new(),
            invitations: Vec::new(),
            contacts: Vec::new(),
            organizational_units: vec![LiveOu {
                id: OU.to_owned(),
                name: "Apps".to_owned(),
                parent_id: ROOT.to_owned(),
                tags: Default::default(),
            }],
            accounts: vec![
                account("111111111111", "management", ROOT),
                account(ACCOUNT, "app", OU),
            ],
            policies: Vec::new(),
            account_creations: Vec::new(),
            account_closures: None,
            iam: Vec::new(),
        }
    }

    fn targets(state: &LiveState, id: &str) -> Vec<String> {
        state
            .policies
            .iter()
            .find(|policy| policy.id == id)
            .map(|policy| policy.targets.clone())
            .unwrap_or_default()
    }

    #[test]
    fn enabling_a_type_attaches_its_full_access_policy_everywhere() {
        for row in POLICY_TYPES {
            let mut state = organization();
            enable_policy_type(&mut state, row.policy_type);
            assert_eq!(state.root.enabled_policy_types, [row.policy_type]);
            match row.full_access {
                Some(full) => {
                    let policy = state.policies.iter().find(|p| p.id == full.id).unwrap();
                    assert!(policy.aws_managed && policy.name == full.name);
                    assert_eq!(
                        policy.targets,
                        ["111111111111", ACCOUNT, OU, ROOT],
                        "{}",
                        row.config_name
                    );
                }
                None => assert!(state.policies.is_empty(), "{}", row.config_name),
            }
        }
    }

    #[test]
    fn enabling_an_enabled_type_changes_nothing() {
        let mut state = organization();
        enable_policy_type(&mut state, PolicyType::ServiceControl);
        target_gone(&mut state, OU);
        let before = state.clone();
        enable_policy_type(&mut state, PolicyType::ServiceControl);
        assert_eq!(state, before);
    }

    #[test]
    fn a_new_target_gets_the_full_access_policy_of_every_enabled_type_once() {
        let mut state = organization();
        enable_policy_type(&mut state, PolicyType::ResourceControl);
        enable_policy_type(&mut state, PolicyType::Tag);
        target_created(&mut state, "ou-abcd-bbbbbbbb");
        target_created(&mut state, "ou-abcd-bbbbbbbb");
        assert!(
            targets(&state, "p-RCPFullAWSAccess")
                .iter()
                .filter(|t| *t == "ou-abcd-bbbbbbbb")
                .count()
                == 1
        );
        // SCPs are not enabled: no FullAWSAccess appears.
        assert!(targets(&state, "p-FullAWSAccess").is_empty());
    }

    #[test]
    fn a_closed_account_stays_closed() {
        let mut state = organization();
        close_account(&mut state, ACCOUNT).unwrap();
        let account = state.accounts.iter().find(|a| a.id == ACCOUNT).unwrap();
        assert_eq!(account.state, AccountState::Closed);
        assert!(close_account(&mut state, "999999999999").is_err());
    }

    #[test]
    fn a_target_gone_is_detached_from_every_policy() {
        let mut state = organization();
        enable_policy_type(&mut state, PolicyType::ServiceControl);
        enable_policy_type(&mut state, PolicyType::ResourceControl);
        target_gone(&mut state, ACCOUNT);
        assert!(
            state
                .policies
                .iter()
                .all(|p| !p.targets.iter().any(|t| t == ACCOUNT))
        );
    }

    /// A configuration enabling the type of `row`, with the OU and account of [`organization`], a
    /// new OU and a new account, and `policies` policies of the type attached to the new OU.
    fn configuration(row: &crate::model::policy_type::PolicyTypeInfo, policies: usize) -> String {
        let mut text = format!(
            r#"organization:
  name: example
  business_model: direct
  payer: dedicated
  operator: customer
  customer: {{ name: Example, email_domain: example.org }}
  management_account: {{ name: management, email: management@example.org, id: "111111111111" }}
  email_template: "{{account}}@{{domain}}"
  enabled_policy_types: [{}]
organizational_units:
  Apps: {{}}
  New: {{}}
accounts:
  app: {{ ou: Apps, id: "{ACCOUNT}", email: app@example.org }}
  fresh: {{ ou: New }}
"#,
            row.config_name
        );
        if policies > 0 {
            text.push_str("policies:\n");
        }
        for n in 0..policies {
            text.push_str(&format!(
                "  guard-{n}:\n    type: {}\n    file: guard-{n}.json\n    attach: [New]\n",
                row.config_name
            ));
        }
        text
    }

    fn plan_of(text: &str, live: &LiveState) -> crate::plan::Plan {
        let document = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:DeleteBucket","Resource":"*"}]}"#;
        let files = (0..20)
            .map(|n| (format!("guard-{n}.json"), document.to_owned()))
            .collect();
        let config =
            crate::config::load_in_memory("orgctl.yaml", text, std::path::Path::new("."), &files)
                .unwrap();
        let context = crate::model::Context {
            today: chrono::NaiveDate::from_ymd_opt(2026, 6, 1).unwrap(),
        };
        let resolved = crate::model::resolve(&config, &context);
        crate::plan::plan(&resolved.desired, live, &crate::plan::PlanInput::default())
    }

    /// Whether `plan` finds too many policies attached to the new OU.
    fn over_the_limit(plan: &crate::plan::Plan) -> bool {
        plan.findings.iter().any(|finding| {
            finding.rule == crate::rules::Rule::LiveAttachmentLimit
                && finding.address.as_ref().map(ToString::to_string).as_deref() == Some("ou:New")
        })
    }

    #[test]
    fn the_planner_agrees_with_the_emulation_for_every_full_access_policy() {
        for row in POLICY_TYPES.iter().filter(|row| row.full_access.is_some()) {
            // The file fills the new OU up to AWS's limit, counting the full-access policy
            // the emulation (as AWS) attaches: the plan finds nothing, and after it is applied
            // the same file plans nothing.
            let text = configuration(row, row.max_per_target - 1);
            let directory = tempfile::tempdir().unwrap();
            let path = directory.path().join("live.json");
            std::fs::write(&path, super::super::to_json(&organization())).unwrap();
            let writer = super::super::SnapshotWriter::new(super::super::Snapshot::new(&path));
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
                .unwrap();
            let live = runtime
                .block_on(crate::live::OrgReader::read(&writer))
                .unwrap();
            let plan = plan_of(&text, &live);
            assert!(
                !plan.has_errors(),
                "{}: {:?}",
                row.config_name,
                plan.findings
            );
            assert!(!plan.is_empty(), "{}", row.config_name);
            let report = runtime.block_on(crate::apply::execute(
                &plan,
                ROOT,
                &writer,
                crate::apply::Options::default(),
                &crate::apply::Progress::silent(),
            ));
            assert_eq!(report.outcome, crate::apply::Outcome::Applied);
            runtime
                .block_on(crate::live::OrgWriter::finish(&writer))
                .unwrap();
            let after = super::super::Snapshot::new(&path).load().unwrap();
            assert_eq!(
                targets(&after, row.full_access.unwrap().id).len(),
                6,
                "{}: the root, both OUs and the three accounts",
                row.config_name
            );
            let again = plan_of(&text, &after);
            assert!(again.is_empty(), "{}: {:?}", row.config_name, again.changes);
            assert!(!over_the_limit(&again), "{}", row.config_name);
            // One more policy is one too many, before the enable as after it.
            let text = configuration(row, row.max_per_target);
            assert!(
                over_the_limit(&plan_of(&text, &live)),
                "{}",
                row.config_name
            );
            assert!(
                over_the_limit(&plan_of(&text, &after)),
                "{}",
                row.config_name
            );
        }
    }

    #[test]
    fn a_delegated_administrator_is_a_member_of_a_trusted_service() {
        let mut state = organization();
        let service = "guardduty.amazonaws.com";
        assert_eq!(
            register_delegated_administrator(&mut state, ACCOUNT, service),
            Err(format!("{service} has no trusted access"))
        );
        state.trusted_access.push(service.to_owned());
        assert!(register_delegated_administrator(&mut state, "111111111111", service).is_err());
        assert!(register_delegated_administrator(&mut state, "333333333333", service).is_err());
        assert_eq!(
            register_delegated_administrator(&mut state, ACCOUNT, service),
            Ok(())
        );
        assert!(register_delegated_administrator(&mut state, ACCOUNT, service).is_err());
        assert_eq!(state.delegated_administrators.len(), 1);
    }

    #[test]
    fn a_delegated_administrator_cannot_leave() {
        let mut state = organization();
        assert_eq!(may_leave(&state, ACCOUNT), Ok(()));
        state.trusted_access.push("sso.amazonaws.com".to_owned());
        register_delegated_administrator(&mut state, ACCOUNT, "sso.amazonaws.com")
            .expect("registered");
        assert!(may_leave(&state, ACCOUNT).is_err());
    }

    #[test]
    fn an_invitation_is_open_for_15_days_and_only_an_open_one_is_canceled() {
        let mut state = organization();
        assert!(open_invitation(&state, ACCOUNT).is_err(), "a member");
        assert_eq!(open_invitation(&state, "333333333333"), Ok(None));
        let now = chrono::DateTime::parse_from_rfc3339("2026-11-01T10:00:00Z")
            .expect("a time")
            .to_utc();
        invite(&mut state, "h-1", "333333333333", "orgctl: join", now);
        assert_eq!(
            open_invitation(&state, "333333333333"),
            Ok(Some("h-1".to_owned()))
        );
        assert_eq!(
            state.invitations[0].expires.as_deref(),
            Some("2026-11-16T10:00:00Z")
        );
        assert_eq!(cancel_invitation(&mut state, "h-1"), Ok(()));
        assert_eq!(state.invitations[0].state, InvitationState::Canceled);
        assert!(cancel_invitation(&mut state, "h-1").is_err());
        assert_eq!(open_invitation(&state, "333333333333"), Ok(None));
    }
}
