//! Which live resource each desired one is: computed once, as a value every later step reads.
//!
//! [`Matching::of`] is a pure function of ([`Desired`], [`LiveState`]):
//! - the management account is the organization's own record, whatever the file pins;
//! - a declared account resolves to the live account its pinned `id` names, else to the one with
//!   its root email (without case), never by email to the management account;
//! - OUs match top-down, by parent and name, or by a pinned `id` (whatever the live name); an id
//!   pinned in the file is never matched to another entry by name;
//! - policies match by type and name, never to an AWS-managed policy.
//!
//! Every live root, OU and account id gets an [`Address`]: a declared resource's, else an
//! undeclared OU's live path and an undeclared account's id. The planner and the IAM read scope
//! both derive from this value; nothing else matches desired to live.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

use crate::address::Address;
use crate::config::PolicyType;
use crate::live::{LiveAccount, LiveOu, LivePolicy, LiveState};
use crate::model::{Account, Desired, Ou, OuPath, Policy};

/// One desired resource and what it matched.
#[derive(Debug, Clone)]
pub struct Entry<'a, D, M> {
    /// The resource as the file declares it.
    pub desired: &'a D,
    /// What it matched in the live organization.
    pub matched: M,
}

/// How a declared account resolved to a live one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By<'a> {
    /// The id pinned in the file.
    PinnedId,
    /// The root email the file gives (compared without case).
    RootEmail(&'a str),
}

impl fmt::Display for By<'_> {
    /// How findings say it: `its pinned id`, `its root email `…``.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            By::PinnedId => f.write_str("its pinned id"),
            By::RootEmail(email) => write!(f, "its root email `{email}`"),
        }
    }
}

/// What a declared member account matched.
#[derive(Debug, Clone, PartialEq)]
pub enum AccountMatch<'a> {
    /// This live account, found so.
    Live {
        /// The live account.
        live: &'a LiveAccount,
        /// How the entry resolved to it.
        by: By<'a>,
    },
    /// Pinned to an id the organization does not have.
    PinnedMissing {
        /// The pinned id.
        id: &'a str,
    },
    /// Pinned to the management account, which is declared elsewhere only.
    PinnedToManagement {
        /// The pinned id.
        id: &'a str,
    },
    /// No live account has its root email: it is yet to be created.
    Missing,
}

/// The management account.
#[derive(Debug, Clone, PartialEq)]
pub struct ManagementMatch<'a> {
    /// The live management account, as the organization records it; absent only from a snapshot
    /// that lacks it.
    pub live: Option<&'a LiveAccount>,
    /// The id the file pins, when it is not this organization's management account: the live
    /// organization is another one than the file's.
    pub pinned_elsewhere: Option<&'a str>,
}

/// One entry's claim on a live account.
#[derive(Debug, Clone)]
pub struct Claim<'a> {
    /// The entry.
    pub account: &'a Account,
    /// How it resolved to the account.
    pub by: By<'a>,
    /// The entry's address.
    pub address: Address,
}

/// A live account and the entries that resolve to it, in file order.
#[derive(Debug, Clone)]
pub struct Claimed<'a> {
    /// The live account.
    pub live: &'a LiveAccount,
    /// Each entry's claim; more than one means the file declares the account twice.
    pub claims: Vec<Claim<'a>>,
}

/// What a desired OU matched.
#[derive(Debug, Clone, PartialEq)]
pub enum OuMatch<'a> {
    /// This live OU: by its pinned id, or under the matched parent by name.
    Live(&'a LiveOu),
    /// No live OU: under its matched parent, none of its name (or its parent matched none).
    Missing,
    /// Pinned to an id the organization does not have.
    PinnedMissing {
        /// The pinned id.
        id: &'a str,
    },
    /// Pinned to a live OU under another parent than the file's (AWS cannot move OUs).
    Elsewhere {
        /// The live OU.
        live: &'a LiveOu,
        /// The address of its live parent, when the root or an OU matched before it.
        live_parent: Option<Address>,
    },
    /// Several live OUs of its name under its parent, in live order.
    Ambiguous(Vec<&'a LiveOu>),
}

/// A live OU no desired OU matched.
#[derive(Debug, Clone, PartialEq)]
pub struct UndeclaredOu<'a> {
    /// The live OU.
    pub live: &'a LiveOu,
    /// Its live path: its live name below the nearest ancestor whose address is known.
    pub path: String,
    /// Its address, at that path.
    pub address: Address,
}

/// What a declared policy matched.
#[derive(Debug, Clone, PartialEq)]
pub enum PolicyMatch<'a> {
    /// This live policy, of its type and name.
    Live(&'a LivePolicy),
    /// No live policy of its type and name.
    Missing,
    /// It has the name of this AWS-managed policy, which orgctl never changes.
    AwsManagedName(&'a LivePolicy),
    /// Several live policies of its type and name, in live order.
    Ambiguous(Vec<&'a LivePolicy>),
}

/// Desired ↔ live, matched once.
#[derive(Debug, Clone)]
pub struct Matching<'a> {
    /// The management account.
    pub management: ManagementMatch<'a>,
    /// Every desired OU, parents before children as the file declares them.
    pub organizational_units: Vec<Entry<'a, Ou, OuMatch<'a>>>,
    /// The live OUs no desired OU matched, in live order.
    pub undeclared_ous: Vec<UndeclaredOu<'a>>,
    /// Every declared member account, in file order.
    pub accounts: Vec<Entry<'a, Account, AccountMatch<'a>>>,
    /// Every declared policy, in file order.
    pub policies: Vec<Entry<'a, Policy, PolicyMatch<'a>>>,
    /// Every live account one entry or more resolve to, by id.
    claimed: BTreeMap<&'a str, Claimed<'a>>,
    /// The address of every live root, OU and account id.
    address_of_id: HashMap<&'a str, Address>,
    /// The live policies.
    live_policies: &'a [LivePolicy],
    /// The live accounts.
    live_accounts: &'a [LiveAccount],
}

impl<'a> Matching<'a> {
    /// Matches `desired` to `live`.
    pub fn of(desired: &'a Desired, live: &'a LiveState) -> Self {
        let mut address_of_id = HashMap::from([(live.root.id.as_str(), Address::Root)]);
        let organizational_units = organizational_units(desired, live, &mut address_of_id);
        let undeclared_ous = undeclared_ous(live, &mut address_of_id);
        let management_id = live.organization.management_account_id.as_str();
        let management = ManagementMatch {
            live: live.accounts.iter().find(|a| a.id == management_id),
            pinned_elsewhere: desired
                .management_account
                .id
                .as_deref()
                .filter(|id| *id != management_id),
        };
        let (accounts, claimed) = accounts(desired, live);
        if let Some(management) = management.live {
            address_of_id.insert(
                management.id.as_str(),
                Address::account(&desired.management_account.name),
            );
        }
        // An account two entries claim goes by the first one's address.
        for (id, claimed) in &claimed {
            if let Some(first) = claimed.claims.first() {
                address_of_id.insert(id, first.address.clone());
            }
        }
        for account in &live.accounts {
            address_of_id
                .entry(account.id.as_str())
                .or_insert_with(|| Address::account_id(&account.id));
        }
        Self {
            management,
            organizational_units,
            undeclared_ous,
            accounts,
            policies: policies(desired, live),
            claimed,
            address_of_id,
            live_policies: &live.policies,
            live_accounts: &live.accounts,
        }
    }

    /// The address of a live root, OU or account id.
    pub fn address(&self, id: &str) -> Option<&Address> {
        self.address_of_id.get(id)
    }

    /// The address of an account id: as matched, else as an undeclared account's.
    pub fn account_address(&self, id: &str) -> Address {
        self.address(id)
            .cloned()
            .unwrap_or_else(|| Address::account_id(id))
    }

    /// The address of every live root, OU and account.
    pub fn addresses(&self) -> impl Iterator<Item = &Address> {
        self.address_of_id.values()
    }

    /// The live OU the desired OU at `path` matched.
    pub fn ou(&self, path: &OuPath) -> Option<&'a LiveOu> {
        self.organizational_units
            .iter()
            .find(|entry| entry.desired.path == *path)
            .and_then(|entry| match entry.matched {
                OuMatch::Live(live) => Some(live),
                _ => None,
            })
    }

    /// The live accounts more than one entry resolves to, by id.
    pub fn claimed_twice(&self) -> impl Iterator<Item = &Claimed<'a>> {
        self.claimed
            .values()
            .filter(|claimed| claimed.claims.len() > 1)
    }

    /// Whether more than one entry resolves to the live account `id`.
    pub fn is_claimed_twice(&self, id: &str) -> bool {
        self.claimed
            .get(id)
            .is_some_and(|claimed| claimed.claims.len() > 1)
    }

    /// Whether an entry of the file resolves to the live account `id` (the management account
    /// is not an entry).
    pub fn declares(&self, id: &str) -> bool {
        self.claimed.contains_key(id)
    }

    /// The live accounts entries resolve to, with their addresses, by id.
    pub fn declared_accounts(&self) -> impl Iterator<Item = (&Address, &'a LiveAccount)> {
        self.claimed
            .values()
            .filter_map(|claimed| Some((self.address(&claimed.live.id)?, claimed.live)))
    }

    /// The live accounts neither the management account nor an entry, in live order.
    pub fn undeclared_accounts(&self) -> impl Iterator<Item = &'a LiveAccount> {
        let management = self.management.live.map(|live| live.id.as_str());
        let claimed = &self.claimed;
        self.live_accounts.iter().filter(move |account| {
            Some(account.id.as_str()) != management && !claimed.contains_key(account.id.as_str())
        })
    }

    /// The live policies, AWS-managed ones aside, that no declared policy matched, in live order.
    pub fn undeclared_policies(&self) -> impl Iterator<Item = &'a LivePolicy> {
        let matched: BTreeSet<&str> = self
            .policies
            .iter()
            .filter_map(|entry| match entry.matched {
                PolicyMatch::Live(live) => Some(live.id.as_str()),
                _ => None,
            })
            .collect();
        self.live_policies
            .iter()
            .filter(move |policy| !policy.aws_managed && !matched.contains(policy.id.as_str()))
    }
}

/// The parent of an OU path: the root for a top-level OU.
fn parent_path(path: &OuPath) -> OuPath {
    path.as_str()
        .rsplit_once('/')
        .map_or_else(OuPath::root, |(parent, _)| OuPath::parse(parent))
}

/// Matches the desired OUs top-down, giving each matched live OU its desired address.
fn organizational_units<'a>(
    desired: &'a Desired,
    live: &'a LiveState,
    address_of_id: &mut HashMap<&'a str, Address>,
) -> Vec<Entry<'a, Ou, OuMatch<'a>>> {
    let mut children: HashMap<&str, Vec<&LiveOu>> = HashMap::new();
    for ou in &live.organizational_units {
        children.entry(ou.parent_id.as_str()).or_default().push(ou);
    }
    let by_id: HashMap<&str, &LiveOu> = live
        .organizational_units
        .iter()
        .map(|ou| (ou.id.as_str(), ou))
        .collect();
    // OU ids pinned in the file are theirs alone: a name never matches them to another entry.
    let pinned: BTreeSet<&str> = desired
        .organizational_units
        .values()
        .filter_map(|ou| ou.id.as_deref())
        .collect();
    let mut matched: HashMap<&OuPath, &LiveOu> = HashMap::new();
    let mut entries = Vec::new();
    for ou in desired.organizational_units.values() {
        let parent = parent_path(&ou.path);
        let parent_id = if parent.is_root() {
            Some(live.root.id.as_str())
        } else {
            matched.get(&parent).map(|live| live.id.as_str())
        };
        let outcome = match ou.id.as_deref() {
            Some(id) => match by_id.get(id).copied() {
                None => OuMatch::PinnedMissing { id },
                Some(live) if Some(live.parent_id.as_str()) != parent_id => OuMatch::Elsewhere {
                    live,
                    live_parent: address_of_id.get(live.parent_id.as_str()).cloned(),
                },
                Some(live) => OuMatch::Live(live),
            },
            None => {
                let candidates: Vec<&LiveOu> = parent_id
                    .and_then(|id| children.get(id))
                    .into_iter()
                    .flatten()
                    .copied()
                    .filter(|live| live.name == ou.name && !pinned.contains(live.id.as_str()))
                    .collect();
                match candidates.as_slice() {
                    [] => OuMatch::Missing,
                    [one] => OuMatch::Live(one),
                    _ => OuMatch::Ambiguous(candidates),
                }
            }
        };
        if let OuMatch::Live(live) = outcome {
            matched.insert(&ou.path, live);
            address_of_id.insert(live.id.as_str(), Address::ou(&ou.path));
        }
        entries.push(Entry {
            desired: ou,
            matched: outcome,
        });
    }
    entries
}

/// The live OUs no desired OU matched, each addressed by its live path.
fn undeclared_ous<'a>(
    live: &'a LiveState,
    address_of_id: &mut HashMap<&'a str, Address>,
) -> Vec<UndeclaredOu<'a>> {
    let by_id: HashMap<&str, &LiveOu> = live
        .organizational_units
        .iter()
        .map(|ou| (ou.id.as_str(), ou))
        .collect();
    let unmatched: Vec<&LiveOu> = live
        .organizational_units
        .iter()
        .filter(|ou| !address_of_id.contains_key(ou.id.as_str()))
        .collect();
    let mut undeclared = Vec::new();
    for ou in unmatched {
        let path = live_path(live, &by_id, address_of_id, ou);
        let address = Address::ou(&path);
        address_of_id.insert(ou.id.as_str(), address.clone());
        undeclared.push(UndeclaredOu {
            live: ou,
            path,
            address,
        });
    }
    undeclared
}

/// The path of a live OU the file does not declare: its live name below the nearest ancestor
/// whose address is known.
fn live_path(
    live: &LiveState,
    by_id: &HashMap<&str, &LiveOu>,
    address_of_id: &HashMap<&str, Address>,
    ou: &LiveOu,
) -> String {
    let mut names = vec![ou.name.as_str()];
    let mut parent = ou.parent_id.as_str();
    // A corrupt snapshot could loop; AWS nests at most five levels.
    for _ in 0..8 {
        if parent == live.root.id {
            break;
        }
        if let Some(address) = address_of_id.get(parent) {
            // An ancestor's address is an OU's: only the root and OUs are parents.
            if let Some(path) = address.ou_path() {
                names.push(path);
            }
            break;
        }
        match by_id.get(parent) {
            Some(live) => {
                names.push(live.name.as_str());
                parent = live.parent_id.as_str();
            }
            None => break,
        }
    }
    names.reverse();
    names.join("/")
}

/// Every declared member account and what it matched.
type AccountEntries<'a> = Vec<Entry<'a, Account, AccountMatch<'a>>>;

/// Resolves every entry (pinned id, else root email), and collects the claims on each live
/// account.
fn accounts<'a>(
    desired: &'a Desired,
    live: &'a LiveState,
) -> (AccountEntries<'a>, BTreeMap<&'a str, Claimed<'a>>) {
    let by_id: HashMap<&str, &LiveAccount> =
        live.accounts.iter().map(|a| (a.id.as_str(), a)).collect();
    let management_id = live.organization.management_account_id.as_str();
    let by_email: HashMap<String, &LiveAccount> = live
        .accounts
        .iter()
        .filter(|a| a.id != management_id)
        .map(|a| (a.email.to_ascii_lowercase(), a))
        .collect();
    let mut entries = Vec::new();
    let mut claimed: BTreeMap<&str, Claimed<'a>> = BTreeMap::new();
    for account in desired.accounts.values() {
        let matched = match account.id.as_deref() {
            Some(id) if id == management_id => AccountMatch::PinnedToManagement { id },
            Some(id) => match by_id.get(id).copied() {
                Some(live) => AccountMatch::Live {
                    live,
                    by: By::PinnedId,
                },
                None => AccountMatch::PinnedMissing { id },
            },
            None => match by_email.get(&account.email.to_ascii_lowercase()).copied() {
                Some(live) => AccountMatch::Live {
                    live,
                    by: By::RootEmail(&account.email),
                },
                None => AccountMatch::Missing,
            },
        };
        if let AccountMatch::Live { live, by } = matched {
            claimed
                .entry(live.id.as_str())
                .or_insert_with(|| Claimed {
                    live,
                    claims: Vec::new(),
                })
                .claims
                .push(Claim {
                    account,
                    by,
                    address: Address::account(&account.name),
                });
        }
        entries.push(Entry {
            desired: account,
            matched,
        });
    }
    (entries, claimed)
}

/// Matches every declared policy by type and name.
fn policies<'a>(
    desired: &'a Desired,
    live: &'a LiveState,
) -> Vec<Entry<'a, Policy, PolicyMatch<'a>>> {
    let mut by_key: HashMap<(PolicyType, &str), Vec<&LivePolicy>> = HashMap::new();
    // AWS-managed policies (FullAWSAccess) are never matched: orgctl never changes them.
    for policy in live.policies.iter().filter(|p| !p.aws_managed) {
        by_key
            .entry((policy.policy_type, policy.name.as_str()))
            .or_default()
            .push(policy);
    }
    desired
        .policies
        .values()
        .map(|policy| {
            let managed = live.policies.iter().find(|p| {
                p.aws_managed && p.policy_type == policy.policy_type && p.name == policy.name
            });
            let matched = match managed {
                Some(managed) => PolicyMatch::AwsManagedName(managed),
                None => match by_key
                    .get(&(policy.policy_type, policy.name.as_str()))
                    .map(Vec::as_slice)
                {
                    None | Some([]) => PolicyMatch::Missing,
                    Some([one]) => PolicyMatch::Live(one),
                    Some(many) => PolicyMatch::Ambiguous(many.to_vec()),
                },
            };
            Entry {
                desired: policy,
                matched,
            }
        })
        .collect()
}

#[cfg(test)]
pub(super) mod tests {
    use std::collections::BTreeMap;
    use std::path::Path;

    use super::*;
    use crate::live::{AccountState, LiveOrganization, LiveRoot};

    const MANAGEMENT: &str = "111111111111";

    /// The desired state of a small ECAM organization, plus `rest` (OUs, accounts, policies).
    pub(in crate::plan) fn desired(rest: &str) -> Desired {
        let text = format!(
            r#"
organization:
  name: acme
  business_model: ecam
  payer: dedicated
  operator: provider
  provider: {{ name: Example Reseller, email_domain: reseller.example }}
  customer: {{ name: Acme Corp, email_domain: acme.example }}
  management_account:
    name: acme-payer
    email: aws-payer+acme@reseller.example
    id: "{MANAGEMENT}"
  email_template: "aws+{{account}}@{{domain}}"
  enabled_policy_types: [service_control]
{rest}
orgctl:
  ignore: [orgctl::email::example_domain]
"#
        );
        let config =
            crate::config::load_in_memory("orgctl.yaml", &text, Path::new("."), &BTreeMap::new())
                .expect("the configuration parses");
        let context = crate::model::Context {
            today: chrono::NaiveDate::from_ymd_opt(2026, 6, 1).expect("a date"),
        };
        let resolved = crate::model::resolve(&config, &context);
        assert!(!resolved.has_errors(), "{:?}", resolved.diagnostics);
        resolved.desired
    }

    /// A live organization, built up one resource at a time: the root `r-root` and the
    /// management account to start with.
    pub(in crate::plan) struct Live(pub(in crate::plan) LiveState);

    impl Live {
        pub(in crate::plan) fn new() -> Self {
            let mut live = Live(LiveState {
                organization: LiveOrganization {
                    id: "o-acme".to_owned(),
                    management_account_id: MANAGEMENT.to_owned(),
                    management_account_email: "aws-payer+acme@reseller.example".to_owned(),
                },
                root: LiveRoot {
                    id: "r-root".to_owned(),
                    enabled_policy_types: vec![PolicyType::ServiceControl],
                    tags: BTreeMap::new(),
                },
                organizational_units: Vec::new(),
                accounts: Vec::new(),
                policies: Vec::new(),
                trusted_access: Vec::new(),
                delegated_administrators: Vec::new(),
                invitations: Vec::new(),
                contacts: Vec::new(),
                account_creations: Vec::new(),
                account_closures: None,
                iam: Vec::new(),
            });
            live = live.account(MANAGEMENT, "acme-payer", "aws-payer+acme@reseller.example");
            live
        }

        pub(in crate::plan) fn ou(mut self, id: &str, name: &str, parent_id: &str) -> Self {
            self.0.organizational_units.push(LiveOu {
                id: id.to_owned(),
                name: name.to_owned(),
                parent_id: parent_id.to_owned(),
                tags: BTreeMap::new(),
            });
            self
        }

        /// An account creation AWS has started and not finished.
        pub(in crate::plan) fn creating(mut self, request_id: &str, name: &str) -> Self {
            self.0
                .account_creations
                .push(crate::live::LiveAccountCreation {
                    request_id: request_id.to_owned(),
                    name: name.to_owned(),
                });
            self
        }

        pub(in crate::plan) fn account(mut self, id: &str, name: &str, email: &str) -> Self {
            self.0.accounts.push(LiveAccount {
                id: id.to_owned(),
                name: name.to_owned(),
                email: email.to_owned(),
                state: AccountState::Active,
                parent_id: "r-root".to_owned(),
                tags: BTreeMap::new(),
            });
            self
        }

        /// Sets the state of account `id`.
        pub(in crate::plan) fn state(mut self, id: &str, state: AccountState) -> Self {
            let account = self.0.accounts.iter_mut().find(|a| a.id == id);
            account.expect("the account").state = state;
            self
        }

        pub(in crate::plan) fn policy(
            mut self,
            id: &str,
            policy_type: PolicyType,
            name: &str,
            aws_managed: bool,
        ) -> Self {
            self.0.policies.push(LivePolicy {
                id: id.to_owned(),
                name: name.to_owned(),
                policy_type,
                description: String::new(),
                aws_managed,
                document: "{}".to_owned(),
                tags: BTreeMap::new(),
                targets: Vec::new(),
            });
            self
        }
    }

    /// What the entry `name` matched.
    fn account<'m>(matching: &'m Matching, name: &str) -> &'m AccountMatch<'m> {
        &matching
            .accounts
            .iter()
            .find(|entry| entry.desired.name == name)
            .expect("the entry")
            .matched
    }

    /// The id of the live account an entry resolved to, and how.
    fn resolved(matched: &AccountMatch) -> Option<(String, String)> {
        match matched {
            AccountMatch::Live { live, by } => Some((live.id.clone(), by.to_string())),
            _ => None,
        }
    }

    const ACCOUNTS: &str = r#"
accounts:
  acme-prod:
    id: "222222222222"
  acme-dev: {}
"#;

    #[test]
    fn a_pinned_id_wins_over_the_root_email() {
        let desired = desired(ACCOUNTS);
        // Another account holds acme-prod's root email: the pinned id still decides.
        let live = Live::new()
            .account("222222222222", "prod", "someone@acme.example")
            .account("333333333333", "impostor", "aws+acme-prod@acme.example")
            .0;
        let matching = Matching::of(&desired, &live);
        assert_eq!(
            resolved(account(&matching, "acme-prod")),
            Some(("222222222222".to_owned(), "its pinned id".to_owned()))
        );
        assert_eq!(
            matching.account_address("333333333333"),
            Address::account_id("333333333333")
        );
    }

    #[test]
    fn a_root_email_matches_without_case() {
        let desired = desired(ACCOUNTS);
        let live = Live::new()
            .account("444444444444", "dev", "AWS+Acme-Dev@ACME.example")
            .0;
        let matching = Matching::of(&desired, &live);
        assert_eq!(
            resolved(account(&matching, "acme-dev")),
            Some((
                "444444444444".to_owned(),
                "its root email `aws+acme-dev@acme.example`".to_owned()
            ))
        );
        assert_eq!(
            matching.address("444444444444"),
            Some(&Address::account("acme-dev"))
        );
        assert!(matching.declares("444444444444"));
    }

    #[test]
    fn a_pinned_id_the_organization_lacks_is_pinned_missing() {
        let desired = desired(ACCOUNTS);
        let live = Live::new().0;
        let matching = Matching::of(&desired, &live);
        assert_eq!(
            account(&matching, "acme-prod"),
            &AccountMatch::PinnedMissing { id: "222222222222" }
        );
        assert_eq!(account(&matching, "acme-dev"), &AccountMatch::Missing);
    }

    #[test]
    fn the_management_account_is_never_matched_by_email_nor_as_an_entry() {
        let mut desired = desired(ACCOUNTS);
        // An entry with the management account's root email stays unmatched; one pinned to
        // its id is told apart (the model refuses both, a saved desired state might not).
        let dev = desired.accounts.get_mut("acme-dev").expect("the entry");
        dev.email = "AWS-PAYER+acme@reseller.example".to_owned();
        let prod = desired.accounts.get_mut("acme-prod").expect("the entry");
        prod.id = Some(MANAGEMENT.to_owned());
        let live = Live::new().0;
        let matching = Matching::of(&desired, &live);
        assert_eq!(account(&matching, "acme-dev"), &AccountMatch::Missing);
        assert_eq!(
            account(&matching, "acme-prod"),
            &AccountMatch::PinnedToManagement { id: MANAGEMENT }
        );
        assert!(!matching.declares(MANAGEMENT));
        assert_eq!(
            matching.management.live.map(|live| live.id.as_str()),
            Some(MANAGEMENT)
        );
        assert_eq!(matching.management.pinned_elsewhere, None);
        assert_eq!(
            matching.address(MANAGEMENT),
            Some(&Address::account("acme-payer"))
        );
        assert_eq!(matching.undeclared_accounts().count(), 0);
    }

    #[test]
    fn a_management_account_pinned_to_another_id_is_another_organization() {
        let desired = desired(ACCOUNTS);
        let mut live = Live::new().0;
        live.organization.management_account_id = "999999999999".to_owned();
        let matching = Matching::of(&desired, &live);
        assert_eq!(matching.management.pinned_elsewhere, Some(MANAGEMENT));
        assert!(matching.management.live.is_none());
    }

    #[test]
    fn two_entries_claiming_one_account_are_both_recorded() {
        let desired = desired(ACCOUNTS);
        // acme-prod is pinned to it, and acme-dev's root email is its email.
        let live = Live::new()
            .account("222222222222", "prod", "aws+acme-dev@acme.example")
            .0;
        let matching = Matching::of(&desired, &live);
        let twice: Vec<&Claimed> = matching.claimed_twice().collect();
        assert_eq!(twice.len(), 1);
        assert_eq!(twice[0].live.id, "222222222222");
        let claims: Vec<(String, String, Address)> = twice[0]
            .claims
            .iter()
            .map(|claim| {
                (
                    claim.account.name.clone(),
                    claim.by.to_string(),
                    claim.address.clone(),
                )
            })
            .collect();
        assert_eq!(
            claims,
            [
                (
                    "acme-prod".to_owned(),
                    "its pinned id".to_owned(),
                    Address::account("acme-prod")
                ),
                (
                    "acme-dev".to_owned(),
                    "its root email `aws+acme-dev@acme.example`".to_owned(),
                    Address::account("acme-dev")
                ),
            ]
        );
        assert!(matching.is_claimed_twice("222222222222"));
        // The account goes by the first entry's address.
        assert_eq!(
            matching.address("222222222222"),
            Some(&Address::account("acme-prod"))
        );
    }

    #[test]
    fn an_ou_pinned_by_id_matches_after_a_rename_and_its_old_name_matches_nothing() {
        let desired = desired(
            r#"
organizational_units:
  Apps:
    id: ou-ab12-aaaaaaaa
  Workloads: {}
"#,
        );
        let live = Live::new().ou("ou-ab12-aaaaaaaa", "Workloads", "r-root").0;
        let matching = Matching::of(&desired, &live);
        let apps = matching.ou(&OuPath::parse("Apps")).expect("a match");
        assert_eq!(apps.id, "ou-ab12-aaaaaaaa");
        assert_eq!(matching.ou(&OuPath::parse("Workloads")), None);
        assert_eq!(matching.organizational_units[1].matched, OuMatch::Missing);
        assert_eq!(
            matching.address("ou-ab12-aaaaaaaa"),
            Some(&Address::ou("Apps"))
        );
    }

    #[test]
    fn ous_match_top_down_by_parent_and_name() {
        let desired = desired(
            r#"
organizational_units:
  Workloads:
    children:
      Prod: {}
"#,
        );
        // A `Prod` elsewhere is not `Workloads/Prod`; an undeclared child is addressed by its
        // live path below its matched parent.
        let live = Live::new()
            .ou("ou-w", "Workloads", "r-root")
            .ou("ou-other-prod", "Prod", "r-root")
            .ou("ou-ab12-bbbbbbbb", "Prod", "ou-w")
            .ou("ou-sandbox", "Sandbox", "ou-w")
            .0;
        let matching = Matching::of(&desired, &live);
        let prod = matching
            .ou(&OuPath::parse("Workloads/Prod"))
            .expect("a match");
        assert_eq!(prod.id, "ou-ab12-bbbbbbbb");
        let undeclared: Vec<(&str, &str)> = matching
            .undeclared_ous
            .iter()
            .map(|ou| (ou.live.id.as_str(), ou.path.as_str()))
            .collect();
        assert_eq!(
            undeclared,
            [
                ("ou-other-prod", "Prod"),
                ("ou-sandbox", "Workloads/Sandbox")
            ]
        );
        assert_eq!(
            matching.address("ou-sandbox"),
            Some(&Address::ou("Workloads/Sandbox"))
        );
        assert_eq!(matching.address("r-root"), Some(&Address::Root));
    }

    #[test]
    fn an_ou_pinned_under_another_parent_is_elsewhere_and_two_namesakes_are_ambiguous() {
        let desired = desired(
            r#"
organizational_units:
  Security: {}
  Workloads:
    children:
      Prod:
        id: ou-ab12-bbbbbbbb
"#,
        );
        let live = Live::new()
            .ou("ou-sec-1", "Security", "r-root")
            .ou("ou-sec-2", "Security", "r-root")
            .ou("ou-w", "Workloads", "r-root")
            .ou("ou-ab12-bbbbbbbb", "Prod", "r-root")
            .0;
        let matching = Matching::of(&desired, &live);
        let outcomes: Vec<&OuMatch> = matching
            .organizational_units
            .iter()
            .map(|entry| &entry.matched)
            .collect();
        let [security, workloads, prod] = outcomes.as_slice() else {
            panic!("three OUs: {outcomes:?}");
        };
        assert!(
            matches!(security, OuMatch::Ambiguous(many) if many.len() == 2),
            "{security:?}"
        );
        assert!(matches!(workloads, OuMatch::Live(live) if live.id == "ou-w"));
        assert!(
            matches!(prod, OuMatch::Elsewhere { live, live_parent: Some(Address::Root) } if live.id == "ou-ab12-bbbbbbbb"),
            "{prod:?}"
        );
    }

    #[test]
    fn a_policy_matches_by_type_and_name_never_an_aws_managed_one() {
        let desired = desired(
            r#"
policies:
  deny-leave-org:
    type: service_control
    preset: deny-leave-organization
  FullAWSAccess:
    type: service_control
    preset: deny-root-user
"#,
        );
        let live = Live::new()
            .policy("p-tag", PolicyType::Tag, "deny-leave-org", false)
            .policy("p-scp", PolicyType::ServiceControl, "deny-leave-org", false)
            .policy(
                "p-FullAWSAccess",
                PolicyType::ServiceControl,
                "FullAWSAccess",
                true,
            )
            .policy("p-other", PolicyType::ServiceControl, "other", false)
            .0;
        let matching = Matching::of(&desired, &live);
        let outcomes: Vec<(&str, Option<&str>)> = matching
            .policies
            .iter()
            .map(|entry| {
                let id = match &entry.matched {
                    PolicyMatch::Live(live) | PolicyMatch::AwsManagedName(live) => {
                        Some(live.id.as_str())
                    }
                    _ => None,
                };
                (entry.desired.name.as_str(), id)
            })
            .collect();
        assert_eq!(
            outcomes,
            [
                ("deny-leave-org", Some("p-scp")),
                ("FullAWSAccess", Some("p-FullAWSAccess"))
            ]
        );
        assert!(matches!(
            matching.policies[1].matched,
            PolicyMatch::AwsManagedName(_)
        ));
        let undeclared: Vec<&str> = matching
            .undeclared_policies()
            .map(|policy| policy.id.as_str())
            .collect();
        assert_eq!(undeclared, ["p-tag", "p-other"]);
    }
}
