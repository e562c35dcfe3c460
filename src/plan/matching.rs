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

/// Resolves every entry (pinned id, else root email), and collects the claims on each live
/// account.
#[allow(clippy::type_complexity)]
fn accounts<'a>(
    desired: &'a Desired,
    live: &'a LiveState,
) -> (
    Vec<Entry<'a, Account, AccountMatch<'a>>>,
    BTreeMap<&'a str, Claimed<'a>>,
) {
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
