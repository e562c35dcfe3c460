//! IAM inside member accounts: partner roles while their contract runs, and the end customer's
//! user (handed over in new accounts, or kept in every account), planned only where the operator
//! can reach (the model refuses the rest).
//!
//! Roles and users are addressed as `role:<account>/<name>` and `user:<account>/<name>` (an
//! undeclared account as `account_id:<id>`). Live IAM holds only what orgctl created (its path,
//! `/orgctl/`): anything else is never planned.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::json;

use super::matching::Matching;
use super::{Action, Change, Finding, RoleBefore, UserBefore};
use crate::address::Address;
use crate::config::Preset;
use crate::live::{
    ACCOUNT_IAM_TAG, HANDOVER_TAG, LiveAccount, LiveState, MANAGED_TAG, PARTNER_TAG,
};
use crate::model::ownership::AccountKind;
use crate::model::{Desired, Partner, UserMode};
use crate::rules::Rule;

/// The presets the end customer's user gets inline: MFA before anything else.
const USER_INLINE_POLICIES: [Preset; 1] = [Preset::RequireMfa];

/// What the rest of the diff knows about accounts.
pub(super) struct Accounts<'a> {
    /// Which live account each entry is, and the address of every live account id.
    pub matching: &'a Matching<'a>,
    /// Addresses of the accounts the plan closes or removes.
    pub leaving: &'a BTreeSet<Address>,
    /// Addresses of the accounts the plan creates.
    pub created: BTreeSet<Address>,
}

/// The member accounts whose IAM a plan must read: every active member account the file declares
/// (as [`Matching`] resolves entries) when the file gives partners roles or keeps the end
/// customer's user, and every account where orgctl created IAM before (tagged `orgctl:iam`), as
/// long as the operator can reach member accounts.
pub(super) fn scope(desired: &Desired, live: &LiveState, matching: &Matching) -> Vec<String> {
    let organization = &desired.organization;
    if !organization
        .ownership
        .reaches(organization.operator, AccountKind::Member)
    {
        return Vec::new();
    }
    let everywhere = !desired.partners.is_empty()
        || organization
            .end_customer_user
            .as_ref()
            .is_some_and(|user| user.mode == UserMode::Ongoing);
    // The accounts the file declares, as the planner matches them. Undeclared accounts
    // (invited, made in the console) may not have the access role.
    active_members(live)
        .filter(|account| (everywhere && matching.declares(&account.id)) || marked(account))
        .map(|account| account.id.clone())
        .collect()
}

/// The active member accounts that hold IAM orgctl created (tagged `orgctl:iam`).
pub fn marked_accounts(live: &LiveState) -> Vec<String> {
    active_members(live)
        .filter(|account| marked(account))
        .map(|account| account.id.clone())
        .collect()
}

fn active_members(live: &LiveState) -> impl Iterator<Item = &LiveAccount> {
    live.accounts.iter().filter(|account| {
        account.id != live.organization.management_account_id && account.state.is_active()
    })
}

fn marked(account: &LiveAccount) -> bool {
    account.tags.contains_key(crate::live::ACCOUNT_IAM_TAG)
}

/// The trust policy of a partner's role: the partner's account may assume it, with its external
/// id when it has one.
pub fn trust_policy(partner: &Partner) -> String {
    let mut statement = json!({
        "Effect": "Allow",
        "Principal": { "AWS": format!("arn:aws:iam::{}:root", partner.account_id) },
        "Action": "sts:AssumeRole",
    });
    let mut condition = serde_json::Map::new();
    if let Some(external_id) = &partner.external_id {
        condition.insert(
            "StringEquals".to_owned(),
            json!({ "sts:ExternalId": external_id }),
        );
    }
    // The contract's end is in the role itself: AWS refuses to assume it after `until`, even
    // before the plan that revokes it is applied.
    if let Some(end) = partner.until.and_then(|until| until.succ_opt()) {
        condition.insert(
            "DateLessThan".to_owned(),
            json!({ "aws:CurrentTime": format!("{end}T00:00:00Z") }),
        );
    }
    if !condition.is_empty() {
        statement["Condition"] = serde_json::Value::Object(condition);
    }
    json!({ "Version": "2012-10-17", "Statement": [statement] }).to_string()
}

/// A role the file asks for.
struct WantedRole<'a> {
    partner: &'a Partner,
    trust_policy: String,
    managed_policies: Vec<String>,
}

pub(super) fn diff(
    desired: &Desired,
    live: &LiveState,
    accounts: &Accounts,
) -> (Vec<Change>, Vec<Finding>) {
    let mut changes = Vec::new();
    let mut findings = Vec::new();
    let organization = &desired.organization;
    let access_role = organization.member_access_role.clone();
    let reaches = organization
        .ownership
        .reaches(organization.operator, AccountKind::Member);
    let address_of = |id: &str| accounts.matching.account_address(id);
    // Accounts the file keeps (not closing or leaving), by address: live ones and new ones.
    let staying = |address: &Address| !accounts.leaving.contains(address);
    // The active live member accounts the file declares, by address, and the IAM read in each
    // (an account without an entry holds none of orgctl's).
    let active: BTreeSet<&str> = live
        .accounts
        .iter()
        .filter(|account| account.state.is_active())
        .map(|account| account.id.as_str())
        .collect();
    let declared: BTreeMap<Address, &str> = accounts
        .matching
        .declared_accounts()
        .filter(|(_, live)| active.contains(live.id.as_str()))
        .map(|(address, live)| (address.clone(), live.id.as_str()))
        .collect();
    let iam_of: HashMap<&str, &crate::live::LiveIam> = live
        .iam
        .iter()
        .map(|iam| (iam.account_id.as_str(), iam))
        .collect();

    if let Some(user) = &organization.end_customer_user {
        let put = |account: &Address, handover: bool, before: Option<UserBefore>| Change {
            address: Address::user(account, &user.name),
            action: Action::PutUser {
                account: account.clone(),
                access_role: access_role.clone(),
                name: user.name.clone(),
                managed_policies: user.managed_policies.clone(),
                inline_policies: USER_INLINE_POLICIES.to_vec(),
                console: user.console,
                handover,
                before,
            },
            reason: if handover {
                "the end customer's hand-over user, created once with the account (`end_customer_access: iam_user`)".to_owned()
            } else {
                "the end customer's administrative access (`end_customer_access: iam_user`)"
                    .to_owned()
            },
            depends_on: Vec::new(),
        };
        for created in &accounts.created {
            changes.push(put(created, user.mode == UserMode::Handover, None));
        }
        if user.mode == UserMode::Handover {
            // A hand-over that did not finish (the account still carries its mark) is made now.
            let pending: BTreeSet<&str> = live
                .accounts
                .iter()
                .filter(|account| account.tags.contains_key(crate::live::HANDOVER_TAG))
                .map(|account| account.id.as_str())
                .collect();
            for (address, _) in declared
                .iter()
                .filter(|(address, id)| staying(address) && pending.contains(**id))
            {
                let mut change = put(address, true, None);
                change.reason = "the hand-over user of this new account was not made yet (the account is marked `orgctl:handover`)".to_owned();
                changes.push(change);
            }
        }
        if user.mode == UserMode::Ongoing && reaches {
            for (address, id) in declared.iter().filter(|(address, _)| staying(address)) {
                let users = iam_of.get(id).map_or(&[][..], |iam| iam.users.as_slice());
                let inline_missing = |live: &crate::live::LiveUser| {
                    USER_INLINE_POLICIES.iter().any(|preset| {
                        let name = crate::model::preset::name(*preset);
                        !live.inline_policies.iter().any(|p| p == name)
                    })
                };
                match users.iter().find(|live| live.name == user.name) {
                    None => changes.push(put(address, false, None)),
                    Some(live)
                        if live.managed_policies != user.managed_policies
                            || (user.console && !live.console)
                            || inline_missing(live) =>
                    {
                        changes.push(put(
                            address,
                            false,
                            Some(UserBefore {
                                managed_policies: live.managed_policies.clone(),
                                console: live.console,
                            }),
                        ));
                    }
                    Some(_) => {}
                }
                for other in users.iter().filter(|live| live.name != user.name) {
                    findings.push(Finding::finding(
                        Rule::Unmanaged,
                        Some(Address::user(address, &other.name)),
                        format!("IAM user `{}` in {address} was created by orgctl, but the file no longer declares it; orgctl does not delete users", other.name),
                        "delete it in IAM if the customer no longer needs it, or name it in `end_customer_user`",
                    ));
                }
            }
        }
    }

    if !reaches {
        return (changes, findings);
    }
    // Roles the file asks for, by (account address, role name).
    let mut wanted: BTreeMap<(Address, String), WantedRole> = BTreeMap::new();
    for partner in desired.partners.values().filter(|p| !p.expired) {
        let mut managed_policies = partner.managed_policies.clone();
        managed_policies.sort();
        managed_policies.dedup();
        for account in &partner.accounts {
            let address = Address::account(account);
            if !staying(&address) {
                continue;
            }
            wanted.insert(
                (address, partner.role_name.clone()),
                WantedRole {
                    partner,
                    trust_policy: trust_policy(partner),
                    managed_policies: managed_policies.clone(),
                },
            );
        }
    }
    let mut seen: BTreeSet<(Address, String)> = BTreeSet::new();
    for iam in &live.iam {
        let address = address_of(&iam.account_id);
        for role in &iam.roles {
            if !role.tags.contains_key(MANAGED_TAG) {
                findings.push(Finding::finding(
                    Rule::Unmanaged,
                    Some(Address::role(&address, &role.name)),
                    format!(
                        "role `{}` in {address} sits under orgctl's IAM path but lacks the `{MANAGED_TAG}` tag; orgctl leaves it alone",
                        role.name
                    ),
                    "if orgctl made it, tag it `orgctl:managed=true`; otherwise move it off the `/orgctl/` path",
                ));
                continue;
            }
            let key = (address.clone(), role.name.clone());
            let role_address = Address::role(&address, &role.name);
            match wanted.get(&key) {
                Some(want) => {
                    seen.insert(key);
                    // The same role name may pass to the next partner: then it trusts another
                    // account and carries the new partner's tag.
                    if !same_json(&role.trust_policy, &want.trust_policy)
                        || role.managed_policies != want.managed_policies
                        || role.tags.get(PARTNER_TAG) != Some(&want.partner.name)
                    {
                        changes.push(put_role(
                            &role_address,
                            &address,
                            &access_role,
                            &role.name,
                            want,
                            Some(RoleBefore {
                                trust_policy: role.trust_policy.clone(),
                                managed_policies: role.managed_policies.clone(),
                            }),
                        ));
                    }
                }
                None => {
                    let partner = role.tags.get(PARTNER_TAG).cloned();
                    let known = partner
                        .as_deref()
                        .and_then(|name| desired.partners.get(name));
                    let reason = match known {
                        // A closed account can be reopened, and a removed one is out of reach
                        // for good: the partner's access goes before the account does.
                        _ if !staying(&address) => format!(
                            "{address} closes or leaves the organization: partner `{}` loses its access first",
                            partner.as_deref().unwrap_or("(unnamed)")
                        ),
                        Some(partner) if partner.expired => format!(
                            "the contract of partner `{}` ended on {}",
                            partner.name,
                            partner.until.map_or_else(String::new, |d| d.to_string())
                        ),
                        Some(partner) => format!(
                            "partner `{}` is no longer granted this account (or its role is now `{}`)",
                            partner.name, partner.role_name
                        ),
                        None => match &partner {
                            Some(name) => format!("partner `{name}` is no longer in the file"),
                            None => "orgctl created it for a partner the file no longer names"
                                .to_owned(),
                        },
                    };
                    changes.push(Change {
                        address: role_address,
                        action: Action::DeleteRole {
                            account: address.clone(),
                            account_id: iam.account_id.clone(),
                            access_role: access_role.clone(),
                            name: role.name.clone(),
                            partner,
                        },
                        reason,
                        depends_on: Vec::new(),
                    });
                }
            }
        }
    }
    // Roles to create: in the declared accounts that lack them, and in new accounts.
    for ((account, name), want) in &wanted {
        if seen.contains(&(account.clone(), name.clone())) {
            continue;
        }
        if !(declared.contains_key(account) || accounts.created.contains(account)) {
            continue;
        }
        let role_address = Address::role(account, name);
        changes.push(put_role(
            &role_address,
            account,
            &access_role,
            name,
            want,
            None,
        ));
    }
    (changes, findings)
}

fn put_role(
    address: &Address,
    account: &Address,
    access_role: &str,
    name: &str,
    want: &WantedRole,
    before: Option<RoleBefore>,
) -> Change {
    Change {
        address: address.clone(),
        action: Action::PutRole {
            account: account.clone(),
            access_role: access_role.to_owned(),
            name: name.to_owned(),
            partner: want.partner.name.clone(),
            trust_policy: want.trust_policy.clone(),
            managed_policies: want.managed_policies.clone(),
            before,
        },
        reason: match want.partner.until {
            Some(until) => format!(
                "partner `{}` operates this account until {until}",
                want.partner.name
            ),
            None => format!("partner `{}` operates this account", want.partner.name),
        },
        depends_on: Vec::new(),
    }
}

/// The account tags that go with IAM changes, as changes of their own: an account that gets
/// orgctl's IAM is marked `orgctl:iam` (at creation, or by a tag change before its IAM is made)
/// so that later plans read it, and a hand-over account loses its `orgctl:handover` mark once
/// its user is made. `matching` names every live account.
pub(super) fn account_marks(changes: &mut Vec<Change>, live: &LiveState, matching: &Matching) {
    let live_of: HashMap<Address, &LiveAccount> = live
        .accounts
        .iter()
        .map(|account| (matching.account_address(&account.id), account))
        .collect();
    let mut with_iam: BTreeSet<Address> = BTreeSet::new();
    let mut handed_over: BTreeSet<Address> = BTreeSet::new();
    for change in changes.iter() {
        match &change.action {
            Action::PutRole { account, .. } | Action::PutUser { account, .. } => {
                with_iam.insert(account.clone());
            }
            _ => {}
        }
        if let Action::PutUser {
            account,
            handover: true,
            ..
        } = &change.action
        {
            handed_over.insert(account.clone());
        }
    }
    let mut marks = Vec::new();
    for account in &with_iam {
        let created = changes
            .iter_mut()
            .find_map(|change| match &mut change.action {
                Action::CreateAccount { tags, .. } if change.address == *account => Some(tags),
                _ => None,
            });
        if let Some(tags) = created {
            tags.insert(ACCOUNT_IAM_TAG.to_owned(), "managed".to_owned());
            continue;
        }
        let Some(live) = live_of.get(account) else {
            continue;
        };
        if !live.tags.contains_key(ACCOUNT_IAM_TAG) {
            marks.push(Change {
                address: account.clone(),
                action: Action::UpdateTags {
                    id: Some(live.id.clone()),
                    set: BTreeMap::from([(ACCOUNT_IAM_TAG.to_owned(), "managed".to_owned())]),
                    unset: Vec::new(),
                    before: live.tags.clone(),
                },
                reason: "orgctl makes IAM in this account: the mark lets later plans find it"
                    .to_owned(),
                depends_on: Vec::new(),
            });
        }
    }
    for account in &handed_over {
        let created = changes.iter().find_map(|change| match &change.action {
            Action::CreateAccount { tags, .. } if change.address == *account => Some(tags),
            _ => None,
        });
        // A new account's id comes with its creation: apply finds it by the address.
        let (id, before) = match (created, live_of.get(account)) {
            (Some(tags), _) => (None, tags.clone()),
            (None, Some(live)) => (Some(live.id.clone()), live.tags.clone()),
            (None, None) => continue,
        };
        marks.push(Change {
            address: account.clone(),
            action: Action::UpdateTags {
                id,
                set: BTreeMap::new(),
                unset: vec![HANDOVER_TAG.to_owned()],
                before,
            },
            reason: "the hand-over user is made: the account's hand-over is done".to_owned(),
            depends_on: Vec::new(),
        });
    }
    changes.extend(marks);
}

/// Whether two JSON documents say the same thing (key order and white space aside).
fn same_json(a: &str, b: &str) -> bool {
    match (
        serde_json::from_str::<serde_json::Value>(a),
        serde_json::from_str::<serde_json::Value>(b),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::snapshot::Snapshot;
    use crate::model::Context;

    fn desired(path: &str) -> Desired {
        let config = crate::config::load(std::path::Path::new(path)).expect("the example loads");
        let context = Context {
            today: chrono::NaiveDate::from_ymd_opt(2026, 6, 1).expect("a date"),
        };
        crate::model::resolve(&config, &context).desired
    }

    #[test]
    fn a_trust_policy_trusts_the_partners_account_and_asks_for_its_external_id() {
        let desired = desired("examples/spam/orgctl.yaml");
        let partner = desired.partners.values().next().expect("a partner");
        let trust: serde_json::Value = serde_json::from_str(&trust_policy(partner)).expect("JSON");
        let statement = &trust["Statement"][0];
        assert_eq!(
            statement["Principal"]["AWS"],
            "arn:aws:iam::999988887777:root"
        );
        assert_eq!(statement["Action"], "sts:AssumeRole");
        assert_eq!(
            statement["Condition"]["StringEquals"]["sts:ExternalId"],
            "initech-msp-2026"
        );
        // The contract's last day is the last day AWS lets the partner in.
        assert_eq!(
            statement["Condition"]["DateLessThan"]["aws:CurrentTime"],
            "2028-01-01T00:00:00Z"
        );
        let mut without = partner.clone();
        without.external_id = None;
        without.until = None;
        assert!(!trust_policy(&without).contains("Condition"));
    }

    #[test]
    fn iam_is_read_only_where_the_operator_reaches() {
        // Under SPAM the provider reaches every member account: all active members are read.
        let spam = desired("examples/spam/orgctl.yaml");
        let live = Snapshot::new("examples/spam/live.json")
            .load()
            .expect("loads");
        let read = scope(&spam, &live, &Matching::of(&spam, &live));
        let members = live
            .accounts
            .iter()
            .filter(|a| a.id != live.organization.management_account_id && a.state.is_active())
            .count();
        assert_eq!(read.len(), members);
        assert!(!read.contains(&live.organization.management_account_id));
        // Under ECAM the provider never reads inside the customer's accounts, even where it
        // handed a user over.
        let ecam = desired("examples/ecam/orgctl.yaml");
        let mut live = Snapshot::new("examples/ecam/live.json")
            .load()
            .expect("loads");
        for account in &mut live.accounts {
            account.tags.insert(
                crate::live::ACCOUNT_IAM_TAG.to_owned(),
                "managed".to_owned(),
            );
        }
        assert!(scope(&ecam, &live, &Matching::of(&ecam, &live)).is_empty());
    }
}
