//! Alternate contacts written back: per party where the accounts agree, per account otherwise.
//!
//! The import reads every contact of every active account (3 GetAlternateContact requests per
//! account; member accounts only when trusted access for AWS Account Management lets the
//! management account reach them, see `plan::every_contact`).

use std::collections::{BTreeMap, HashMap};

use super::yaml::Document;
use crate::config::{ContactType, Party, Payer};
use crate::live::{LiveAccount, LiveState};
use crate::model::Contact;
use crate::model::contact::receiver;
use crate::model::ownership::{AccountKind, Ownership};

/// Where each live contact goes in the file.
///
/// A contact type goes under its party (`organization.<party>.contacts`) when every account that
/// party receives that type of (by the ownership matrix, [`receiver`]) has the same contact: the
/// file then says once what holds everywhere, and a new account gets it too. Otherwise each
/// account that has one keeps its own (`contacts` on the account), and the others stay
/// unmanaged, as they are unset: writing the most common one under the party would set it where
/// it is not set today, and the imported file would not plan empty. Only accounts the planner
/// manages count: active ones, and the management account unless the payer is shared (it is then
/// the provider's).
#[derive(Debug, Default)]
pub(super) struct Placement {
    /// Contacts written under a party.
    parties: BTreeMap<(Party, ContactType), Contact>,
    /// Contacts written on an account, by account id.
    accounts: HashMap<String, BTreeMap<ContactType, Contact>>,
}

impl Placement {
    /// Places the contacts of `live`; `declared` says which parties the file declares (a party
    /// the file lacks cannot hold contacts).
    pub(super) fn new(
        live: &LiveState,
        ownership: &Ownership,
        payer: Payer,
        declared: impl Fn(Party) -> bool,
    ) -> Self {
        let management_id = live.organization.management_account_id.as_str();
        let managed: Vec<(&LiveAccount, AccountKind)> = live
            .accounts
            .iter()
            .filter(|account| account.state.is_active())
            .filter_map(|account| {
                if account.id != management_id {
                    Some((account, AccountKind::Member))
                } else if payer == Payer::Dedicated {
                    Some((account, AccountKind::Management))
                } else {
                    None
                }
            })
            .collect();
        let mut placement = Self::default();
        for party in [Party::Provider, Party::Customer] {
            for contact_type in ContactType::ALL {
                let received: Vec<(&LiveAccount, Option<&Contact>)> = managed
                    .iter()
                    .filter(|(_, kind)| receiver(ownership, *kind, contact_type) == party)
                    .map(|(account, _)| (*account, live.contact(&account.id, contact_type)))
                    .collect();
                let first = received.first().and_then(|(_, contact)| *contact);
                let agreed = first
                    .filter(|first| received.iter().all(|(_, contact)| *contact == Some(*first)));
                match agreed {
                    Some(contact) if declared(party) => {
                        placement
                            .parties
                            .insert((party, contact_type), contact.clone());
                    }
                    _ => {
                        for (account, contact) in received {
                            if let Some(contact) = contact {
                                placement
                                    .accounts
                                    .entry(account.id.clone())
                                    .or_default()
                                    .insert(contact_type, contact.clone());
                            }
                        }
                    }
                }
            }
        }
        placement
    }

    /// The contacts written under `party`.
    pub(super) fn of_party(&self, party: Party) -> BTreeMap<ContactType, &Contact> {
        self.parties
            .iter()
            .filter(|((owner, _), _)| *owner == party)
            .map(|((_, contact_type), contact)| (*contact_type, contact))
            .collect()
    }

    /// The contacts written on the account `id`.
    pub(super) fn of_account(&self, id: &str) -> BTreeMap<ContactType, &Contact> {
        self.accounts
            .get(id)
            .map(|contacts| contacts.iter().map(|(t, c)| (*t, c)).collect())
            .unwrap_or_default()
    }
}

/// `contacts:` with each contact as a block mapping, unless there are none.
pub(super) fn write(
    document: &mut Document,
    indent: usize,
    contacts: &BTreeMap<ContactType, &Contact>,
) {
    if contacts.is_empty() {
        return;
    }
    document.open(indent, "contacts");
    for (contact_type, contact) in contacts {
        document.open(indent + 2, contact_type.name());
        for (field, value) in contact.fields() {
            document.entry(indent + 4, field, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::BusinessModel;
    use crate::live::LiveContact;

    fn contact(email: &str) -> Contact {
        Contact {
            name: "N".to_owned(),
            email: email.to_owned(),
            phone: "1".to_owned(),
            title: "T".to_owned(),
        }
    }

    fn live(contacts: &[(&str, ContactType, &str)]) -> LiveState {
        let mut state: LiveState = serde_json::from_str(
            r#"{"organization": {"id": "o-1", "management_account_id": "111111111111", "management_account_email": "p@r.example"},
            "root": {"id": "r-1"},
            "accounts": [
              {"id": "111111111111", "name": "payer", "email": "p@r.example", "parent_id": "r-1"},
              {"id": "222222222222", "name": "a", "email": "a@c.example", "parent_id": "r-1"},
              {"id": "333333333333", "name": "b", "email": "b@c.example", "parent_id": "r-1"}]}"#,
        )
        .expect("a state");
        state.contacts = contacts
            .iter()
            .map(|(id, contact_type, email)| LiveContact {
                account_id: (*id).to_owned(),
                contact_type: *contact_type,
                contact: contact(email),
            })
            .collect();
        state
    }

    #[test]
    fn agreeing_accounts_give_the_party_its_contact_and_disagreeing_ones_keep_their_own() {
        use ContactType::{Billing, Security};
        let state = live(&[
            ("111111111111", Billing, "bill@r.example"),
            ("222222222222", Billing, "bill@r.example"),
            ("333333333333", Billing, "bill@r.example"),
            ("222222222222", Security, "sec@c.example"),
            ("333333333333", Security, "other@c.example"),
        ]);
        let placement = Placement::new(
            &state,
            &Ownership::of(BusinessModel::Resold),
            Payer::Dedicated,
            |_| true,
        );
        assert_eq!(
            placement.of_party(Party::Provider),
            BTreeMap::from([(Billing, &contact("bill@r.example"))])
        );
        assert!(placement.of_party(Party::Customer).is_empty());
        assert_eq!(
            placement.of_account("333333333333"),
            BTreeMap::from([(Security, &contact("other@c.example"))])
        );
        assert!(placement.of_account("111111111111").is_empty());
    }

    #[test]
    fn a_contact_some_accounts_lack_stays_on_the_accounts_that_have_it() {
        let state = live(&[("222222222222", ContactType::Security, "sec@c.example")]);
        let placement = Placement::new(
            &state,
            &Ownership::of(BusinessModel::Resold),
            Payer::Dedicated,
            |_| true,
        );
        assert!(placement.of_party(Party::Customer).is_empty());
        assert_eq!(placement.of_account("222222222222").len(), 1);
    }
}
