//! Alternate contacts of the accounts the file declares: set where the file's contact differs
//! from the live one, removed where the file says `none`, left alone where the file manages no
//! contact of that type.
//!
//! Contacts are addressed `contact:<account>/<type>` (`contact:acme-prod/security`). Reading one
//! costs a request (GetAlternateContact per account and type), so a plan reads only those the
//! file manages ([`scope`]), and of member accounts only once AWS lets the management account
//! reach them (trusted access for AWS Account Management): before that, none is set as far as
//! the plan knows, and it sets every contact the file gives.

use std::collections::BTreeSet;

use super::matching::{AccountMatch, Matching};
use super::{Action, Change, Finding};
use crate::address::Address;
use crate::config::{AccountLifecycle, ContactType, Payer};
use crate::live::{LiveAccount, LiveState};
use crate::model::contact::ACCOUNT_MANAGEMENT_PRINCIPAL;
use crate::model::{Account, Desired};
use crate::rules::Rule;

/// An account whose contacts the plan manages.
struct Managed<'a> {
    address: Address,
    desired: &'a Account,
    /// The live account; `None` for one the plan creates.
    live: Option<&'a LiveAccount>,
    /// Whether it is a member account (reached through trusted access).
    member: bool,
}

/// Whether the management account may read and change member accounts' contacts.
fn members_reachable(live: &LiveState) -> bool {
    live.trusted_access
        .iter()
        .any(|principal| principal == ACCOUNT_MANAGEMENT_PRINCIPAL)
}

/// The accounts whose contacts the plan manages: the management account (not on a shared payer,
/// where it is the provider's), and every active member the file keeps active and exactly one
/// entry claims, or that the plan creates (`created`).
fn managed<'a>(
    desired: &'a Desired,
    matching: &Matching<'a>,
    created: &BTreeSet<Address>,
) -> Vec<Managed<'a>> {
    let mut accounts = Vec::new();
    if desired.organization.payer == Payer::Dedicated
        && let Some(live) = matching.management.live
    {
        accounts.push(Managed {
            address: Address::account(&desired.management_account.name),
            desired: &desired.management_account,
            live: Some(live),
            member: false,
        });
    }
    for entry in &matching.accounts {
        let account = entry.desired;
        if account.lifecycle != AccountLifecycle::Active || account.contacts.is_empty() {
            continue;
        }
        let address = Address::account(&account.name);
        let live = match entry.matched {
            AccountMatch::Live { live, .. }
                if live.state.is_active() && !matching.is_claimed_twice(&live.id) =>
            {
                Some(live)
            }
            AccountMatch::Missing if created.contains(&address) => None,
            _ => continue,
        };
        accounts.push(Managed {
            address,
            desired: account,
            live,
            member: true,
        });
    }
    accounts
}

/// The contacts a plan must read: each type the file manages, of each account it manages them
/// in, members only when trusted access lets the management account reach them.
pub(super) fn scope(
    desired: &Desired,
    live: &LiveState,
    matching: &Matching,
) -> Vec<(String, ContactType)> {
    let reachable = members_reachable(live);
    managed(desired, matching, &BTreeSet::new())
        .into_iter()
        .filter(|account| reachable || !account.member)
        .filter_map(|account| Some((account.live?, account.desired)))
        .flat_map(|(live, desired)| {
            desired
                .contacts
                .keys()
                .map(|contact_type| (live.id.clone(), *contact_type))
        })
        .collect()
}

/// Every contact of every active account, for `orgctl import`: 3 requests per account (members
/// only when trusted access for AWS Account Management lets the management account reach them).
pub fn every_contact(live: &LiveState) -> Vec<(String, ContactType)> {
    let reachable = members_reachable(live);
    let management = live.organization.management_account_id.as_str();
    live.accounts
        .iter()
        .filter(|account| account.state.is_active() && (reachable || account.id == management))
        .flat_map(|account| ContactType::ALL.map(|contact_type| (account.id.clone(), contact_type)))
        .collect()
}

/// The contact changes, and the finding when member contacts change where AWS will refuse it.
pub(super) fn diff(
    desired: &Desired,
    live: &LiveState,
    matching: &Matching,
    created: &BTreeSet<Address>,
) -> (Vec<Change>, Vec<Finding>) {
    let mut changes = Vec::new();
    let mut first_member_change: Option<Address> = None;
    for account in managed(desired, matching, created) {
        for (contact_type, wanted) in &account.desired.contacts {
            let before = account
                .live
                .and_then(|live_account| live.contact(&live_account.id, *contact_type));
            let (action, reason) = match (wanted, before) {
                (Some(contact), Some(before)) if contact == before => continue,
                (Some(contact), before) => (
                    Action::PutAlternateContact {
                        account: account.address.clone(),
                        contact_type: *contact_type,
                        contact: contact.clone(),
                        before: before.cloned(),
                    },
                    if before.is_some() {
                        "the contact differs from the file"
                    } else {
                        "declared in the file, not set in AWS"
                    },
                ),
                (None, Some(before)) => (
                    Action::DeleteAlternateContact {
                        account: account.address.clone(),
                        contact_type: *contact_type,
                        before: before.clone(),
                    },
                    "the file says `none`",
                ),
                (None, None) => continue,
            };
            let address = Address::contact(&account.address, *contact_type);
            if account.member && first_member_change.is_none() {
                first_member_change = Some(address.clone());
            }
            changes.push(Change {
                address,
                action,
                reason: reason.to_owned(),
                depends_on: Vec::new(),
            });
        }
    }
    let mut findings = Vec::new();
    // A file that manages trusted access is checked offline (`contact::trusted_access`).
    if let Some(address) = first_member_change
        && desired.organization.trusted_access.is_none()
        && !members_reachable(live)
    {
        findings.push(Finding::finding(
            Rule::ContactTrustedAccess,
            Some(address),
            format!(
                "the plan changes member accounts' alternate contacts, but `{ACCOUNT_MANAGEMENT_PRINCIPAL}` has no trusted access in the organization: AWS refuses those changes"
            ),
            format!(
                "add `trusted_access: [{ACCOUNT_MANAGEMENT_PRINCIPAL}]` (with the services already trusted) under `organization`, or enable it with `aws organizations enable-aws-service-access --service-principal {ACCOUNT_MANAGEMENT_PRINCIPAL}`"
            ),
        ));
    }
    (changes, findings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{PlanInput, plan};

    const FILE: &str = "organization:\n  name: acme\n  business_model: resold\n  provider:\n    name: Reseller\n    email_domain: reseller.example\n    contacts:\n      billing: { name: Billing, email: billing@reseller.example, phone: \"+1 555 0100\", title: Billing }\n  customer:\n    name: Acme\n    email_domain: acme.example\n    contacts:\n      security: { name: Sec, email: sec@acme.example, phone: \"+1 555 0199\", title: CISO }\n  management_account: { name: acme-payer, id: \"111111111111\", email: payer@reseller.example }\naccounts:\n  acme-prod: { id: \"222222222222\", email: prod@acme.example }\n";

    fn desired(text: &str) -> Desired {
        let config = crate::config::load_in_memory(
            "orgctl.yaml",
            text,
            std::path::Path::new("."),
            &std::collections::BTreeMap::new(),
        )
        .expect("loads");
        crate::model::resolve(&config, &crate::model::Context::now()).desired
    }

    fn live(trusted: bool) -> LiveState {
        let text = format!(
            r#"{{"organization": {{"id": "o-1", "management_account_id": "111111111111", "management_account_email": "payer@reseller.example"}},
            "root": {{"id": "r-1"}},
            "accounts": [
              {{"id": "111111111111", "name": "acme-payer", "email": "payer@reseller.example", "parent_id": "r-1"}},
              {{"id": "222222222222", "name": "acme-prod", "email": "prod@acme.example", "parent_id": "r-1"}}],
            "trusted_access": {}}}"#,
            if trusted {
                r#"["account.amazonaws.com"]"#
            } else {
                "[]"
            }
        );
        serde_json::from_str(&text).expect("a live state")
    }

    fn contact(email: &str) -> crate::model::Contact {
        crate::model::Contact {
            name: "Sec".to_owned(),
            email: email.to_owned(),
            phone: "+1 555 0199".to_owned(),
            title: "CISO".to_owned(),
        }
    }

    fn changes(desired: &Desired, live: &LiveState) -> Vec<(String, &'static str)> {
        plan(desired, live, &PlanInput::default())
            .changes
            .iter()
            .filter(|change| matches!(change.address, Address::Contact { .. }))
            .map(|change| (change.address.to_string(), change.action.name()))
            .collect()
    }

    #[test]
    fn the_scope_is_the_managed_types_only_and_members_once_reachable() {
        let desired = desired(FILE);
        let ids = |scope: Vec<(String, ContactType)>| -> Vec<String> {
            scope
                .into_iter()
                .map(|(id, contact_type)| format!("{id}/{}", contact_type.name()))
                .collect()
        };
        // The management account: billing (the provider's) only; security is the owner's, and
        // the provider declares none.
        let scope_of = |live: &LiveState| scope(&desired, live, &Matching::of(&desired, live));
        assert_eq!(ids(scope_of(&live(false))), ["111111111111/billing"]);
        assert_eq!(
            ids(scope_of(&live(true))),
            [
                "111111111111/billing",
                "222222222222/billing",
                "222222222222/security"
            ]
        );
    }

    #[test]
    fn missing_contacts_are_set_equal_ones_left_and_different_ones_updated() {
        let desired = desired(FILE);
        let mut state = live(true);
        assert_eq!(
            changes(&desired, &state),
            [
                (
                    "contact:acme-payer/billing".to_owned(),
                    "put_alternate_contact"
                ),
                (
                    "contact:acme-prod/billing".to_owned(),
                    "put_alternate_contact"
                ),
                (
                    "contact:acme-prod/security".to_owned(),
                    "put_alternate_contact"
                ),
            ]
        );
        state.contacts.push(crate::live::LiveContact {
            account_id: "222222222222".to_owned(),
            contact_type: ContactType::Security,
            contact: contact("sec@acme.example"),
        });
        state.contacts.push(crate::live::LiveContact {
            account_id: "111111111111".to_owned(),
            contact_type: ContactType::Billing,
            contact: crate::model::Contact {
                name: "Billing".to_owned(),
                email: "old@reseller.example".to_owned(),
                phone: "+1 555 0100".to_owned(),
                title: "Billing".to_owned(),
            },
        });
        let planned = plan(&desired, &state, &PlanInput::default());
        let update = planned
            .changes
            .iter()
            .find(|change| change.address.to_string() == "contact:acme-payer/billing")
            .expect("the billing contact is updated");
        assert!(matches!(
            &update.action,
            Action::PutAlternateContact { before: Some(before), .. } if before.email == "old@reseller.example"
        ));
        assert_eq!(
            changes(&desired, &state),
            [
                (
                    "contact:acme-payer/billing".to_owned(),
                    "put_alternate_contact"
                ),
                (
                    "contact:acme-prod/billing".to_owned(),
                    "put_alternate_contact"
                ),
            ]
        );
    }

    #[test]
    fn none_removes_a_live_contact_and_unmanaged_types_are_left_alone() {
        let text = FILE.replace(
            "  acme-prod: { id: \"222222222222\", email: prod@acme.example }\n",
            "  acme-prod:\n    id: \"222222222222\"\n    email: prod@acme.example\n    contacts: { security: none, billing: none }\n",
        );
        let desired = desired(&text);
        let mut state = live(true);
        for contact_type in ContactType::ALL {
            state.contacts.push(crate::live::LiveContact {
                account_id: "222222222222".to_owned(),
                contact_type,
                contact: contact("sec@acme.example"),
            });
        }
        assert_eq!(
            changes(&desired, &state),
            [
                (
                    "contact:acme-payer/billing".to_owned(),
                    "put_alternate_contact"
                ),
                (
                    "contact:acme-prod/billing".to_owned(),
                    "delete_alternate_contact"
                ),
                (
                    "contact:acme-prod/security".to_owned(),
                    "delete_alternate_contact"
                ),
            ]
        );
    }

    #[test]
    fn member_contacts_without_trusted_access_are_a_finding() {
        let desired = desired(FILE);
        let findings = |state: &LiveState| -> Vec<&'static str> {
            plan(&desired, state, &PlanInput::default())
                .findings
                .iter()
                .map(|finding| finding.rule.code())
                .filter(|code| code.starts_with("orgctl::contact::"))
                .collect()
        };
        assert_eq!(findings(&live(false)), ["orgctl::contact::trusted_access"]);
        assert_eq!(findings(&live(true)), Vec::<&str>::new());
    }

    #[test]
    fn a_new_account_gets_its_contacts_after_it_is_created() {
        let text = format!("{FILE}  acme-dev: {{ email: dev@acme.example }}\n");
        let desired = desired(&text);
        let planned = plan(&desired, &live(true), &PlanInput::default());
        let put = planned
            .changes
            .iter()
            .find(|change| change.address.to_string() == "contact:acme-dev/security")
            .expect("the new account's security contact is set");
        assert_eq!(put.depends_on, [Address::account("acme-dev")]);
    }
}
