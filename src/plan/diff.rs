//! Matching desired resources to live ones and listing the changes between them.
//!
//! OUs are matched top-down by parent and name (or by a pinned `id`), accounts by pinned `id` or
//! else by root email (without case), policies by type and name. Live resources the file does not
//! declare are reported, never deleted by omission.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::{Action, Change, Finding, Touched as TouchedResource, Update};
use crate::address::Address;
use crate::config::{
    AccountLifecycle, OuLifecycle, Party, Payer, PolicyLifecycle, PolicyType, Reporting,
};
use crate::live::{AccountStatus, LiveAccount, LiveOu, LivePolicy, LiveState, fingerprint};
use crate::model::limits::is_reserved_tag;
use crate::model::{Account, Desired, OuPath, Target, policy_limits};
use crate::rules::{Rule, Severity};

/// Changes (not yet ordered), findings, and the live resources the changes touch.
pub(super) struct Diff {
    pub changes: Vec<Change>,
    pub findings: Vec<Finding>,
    pub touched: BTreeMap<Address, TouchedResource>,
    /// `(target address, policy type)` whose detaches run before its attaches.
    pub detach_first: BTreeSet<(Address, PolicyType)>,
}

/// The address of a root-or-OU parent.
fn parent_address(path: &OuPath) -> Address {
    Address::ou_or_root(path.as_str())
}

pub(super) fn diff(desired: &Desired, live: &LiveState) -> Diff {
    let mut differ = Differ::new(desired, live);
    differ.policy_types();
    differ.root_tags();
    differ.organizational_units();
    differ.accounts();
    differ.iam();
    differ.policies();
    differ.deleted_ous_left_empty();
    differ.emptied_ous();
    differ.attachment_limits();
    differ.closure_quota();
    let touched = differ.touched_by_changes();
    let detach_first = differ.detach_first();
    Diff {
        changes: differ.changes,
        findings: differ.findings,
        touched,
        detach_first,
    }
}

/// A file's account entry that resolves to a live account: how, and the entry's address.
struct Claim<'a> {
    account: &'a Account,
    how: String,
    address: Address,
}

/// A live resource a change may depend on.
enum Touched<'a> {
    Root(&'a crate::live::LiveRoot),
    Ou(&'a LiveOu),
    Account(&'a LiveAccount),
    Policy(&'a LivePolicy),
}

struct Differ<'a> {
    desired: &'a Desired,
    live: &'a LiveState,
    changes: Vec<Change>,
    findings: Vec<Finding>,
    /// The live resource behind each address the plan may touch; fingerprinted at the end, for
    /// the addresses the changes refer to only.
    touched: HashMap<Address, Touched<'a>>,
    /// Live OUs by parent id.
    children: HashMap<&'a str, Vec<&'a LiveOu>>,
    ou_by_id: HashMap<&'a str, &'a LiveOu>,
    /// The live OU each desired OU matched.
    ou_matches: HashMap<OuPath, &'a LiveOu>,
    /// The address of every live root, OU and account id.
    address_of_id: HashMap<&'a str, Address>,
    /// Live accounts matched by the file, by id.
    matched_accounts: BTreeSet<&'a str>,
    /// Addresses of the live OUs and accounts that the plan deletes, closes or removes.
    leaving: BTreeSet<Address>,
    /// Addresses of the targets the file declares: the root, matched OUs and accounts.
    managed_targets: BTreeSet<Address>,
}

impl<'a> Differ<'a> {
    fn new(desired: &'a Desired, live: &'a LiveState) -> Self {
        let mut children: HashMap<&str, Vec<&LiveOu>> = HashMap::new();
        for ou in &live.organizational_units {
            children.entry(ou.parent_id.as_str()).or_default().push(ou);
        }
        let mut address_of_id = HashMap::new();
        address_of_id.insert(live.root.id.as_str(), Address::Root);
        Self {
            desired,
            live,
            changes: Vec::new(),
            findings: Vec::new(),
            touched: HashMap::new(),
            children,
            ou_by_id: live
                .organizational_units
                .iter()
                .map(|ou| (ou.id.as_str(), ou))
                .collect(),
            ou_matches: HashMap::new(),
            address_of_id,
            matched_accounts: BTreeSet::new(),
            leaving: BTreeSet::new(),
            managed_targets: BTreeSet::from([Address::Root]),
        }
    }

    fn change(&mut self, address: &Address, action: Action, reason: impl Into<String>) {
        self.changes.push(Change {
            address: address.clone(),
            action,
            reason: reason.into(),
            depends_on: Vec::new(),
        });
    }

    fn finding(
        &mut self,
        rule: Rule,
        address: Option<Address>,
        message: impl Into<String>,
        help: impl Into<String>,
    ) {
        self.findings
            .push(Finding::finding(rule, address, message, help));
    }

    fn touch(&mut self, address: &Address, live: Touched<'a>) {
        self.touched.insert(address.clone(), live);
    }

    /// Tag changes of an existing resource, if its tags differ.
    fn tags(
        &mut self,
        address: &Address,
        id: &str,
        before: &BTreeMap<String, String>,
        after: &BTreeMap<String, String>,
    ) {
        if before == after {
            return;
        }
        let set: BTreeMap<String, String> = after
            .iter()
            .filter(|(key, value)| before.get(*key) != Some(*value))
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect();
        // Tags in AWS's own `aws:` namespace are not the file's: nobody but AWS can remove them.
        let unset: Vec<String> = before
            .keys()
            .filter(|key| !after.contains_key(*key) && !is_reserved_tag(key))
            .cloned()
            .collect();
        if set.is_empty() && unset.is_empty() {
            return;
        }
        self.change(
            address,
            Action::UpdateTags {
                id: id.to_owned(),
                set,
                unset,
                before: before.clone(),
            },
            "the tags differ from the file",
        );
    }

    fn policy_types(&mut self) {
        let live: BTreeSet<PolicyType> = self
            .live
            .root
            .enabled_policy_types
            .iter()
            .copied()
            .collect();
        for policy_type in &self.desired.organization.enabled_policy_types {
            if !live.contains(policy_type) {
                self.change(
                    &Address::PolicyType(*policy_type),
                    Action::EnablePolicyType {
                        policy_type: *policy_type,
                    },
                    "listed in `enabled_policy_types`",
                );
            }
        }
    }

    /// On a shared payer the organization is the provider's: its root, other OUs, policies and
    /// the other customers' accounts are none of this file's business.
    fn shared_payer(&self) -> bool {
        self.desired.organization.payer == Payer::Shared
    }

    fn root_tags(&mut self) {
        self.touch(&Address::Root, Touched::Root(&self.live.root));
        if self.shared_payer() {
            return;
        }
        let root = &self.live.root;
        if root.tags != self.desired.organization.tags {
            self.tags(
                &Address::Root,
                &root.id,
                &root.tags,
                &self.desired.organization.tags,
            );
        }
    }

    fn organizational_units(&mut self) {
        let desired = self.desired;
        // OU ids pinned in the file are theirs alone: a name never matches them to another entry.
        let pinned_ous: BTreeSet<&str> = desired
            .organizational_units
            .values()
            .filter_map(|ou| ou.id.as_deref())
            .collect();
        for ou in desired.organizational_units.values() {
            let address = Address::ou(&ou.path);
            let parent = ou
                .path
                .as_str()
                .rsplit_once('/')
                .map_or_else(OuPath::root, |(p, _)| OuPath::parse(p));
            let parent_id = if parent.is_root() {
                Some(self.live.root.id.as_str())
            } else {
                self.ou_matches.get(&parent).map(|live| live.id.as_str())
            };
            let matched = match &ou.id {
                Some(id) => {
                    match self.ou_by_id.get(id.as_str()).copied() {
                        None => {
                            self.finding(
                            Rule::PinnedMissing,
                            Some(address.clone()),
                            format!("OU `{}` is pinned to `{id}`, which the organization does not have", ou.path),
                            "remove the `id` to create the OU, or correct it",
                        );
                            continue;
                        }
                        Some(live) if Some(live.parent_id.as_str()) != parent_id => {
                            self.finding(
                            Rule::OuCannotMove,
                            Some(address.clone()),
                            format!(
                                "OU `{id}` sits under {}, but the file places it under {}; AWS cannot move OUs",
                                self.address_of_id.get(live.parent_id.as_str()).map_or_else(|| "another parent".to_owned(), ToString::to_string),
                                parent_address(&parent)
                            ),
                            "declare the OU where it is, or create a new OU there, move the accounts, and delete the old one",
                        );
                            continue;
                        }
                        Some(live) => Some(live),
                    }
                }
                None => {
                    let candidates: Vec<&LiveOu> = parent_id
                        .and_then(|id| self.children.get(id))
                        .into_iter()
                        .flatten()
                        .copied()
                        .filter(|live| {
                            live.name == ou.name && !pinned_ous.contains(live.id.as_str())
                        })
                        .collect();
                    match candidates.as_slice() {
                        [] => None,
                        [one] => Some(*one),
                        many => {
                            let ids: Vec<&str> = many.iter().map(|live| live.id.as_str()).collect();
                            self.finding(
                                Rule::Ambiguous,
                                Some(address.clone()),
                                format!(
                                    "{} live OUs are named `{}` under the same parent: {}",
                                    many.len(),
                                    ou.path,
                                    ids.join(", ")
                                ),
                                "pin the one you mean with `id:`, and rename or delete the other",
                            );
                            continue;
                        }
                    }
                }
            };
            match (matched, ou.lifecycle) {
                (None, OuLifecycle::Active) => self.change(
                    &address,
                    Action::CreateOu {
                        parent: parent_address(&parent),
                        name: ou.name.clone(),
                        tags: ou.tags.clone(),
                    },
                    "declared in the file, missing in the organization",
                ),
                (None, OuLifecycle::Delete) => {}
                (Some(live), lifecycle) => {
                    self.ou_matches.insert(ou.path.clone(), live);
                    self.address_of_id.insert(live.id.as_str(), address.clone());
                    self.managed_targets.insert(address.clone());
                    self.touch(&address, Touched::Ou(live));
                    if lifecycle == OuLifecycle::Delete {
                        self.leaving.insert(address.clone());
                        self.change(
                            &address,
                            Action::DeleteOu {
                                id: live.id.clone(),
                            },
                            "the file says `lifecycle: delete`",
                        );
                        continue;
                    }
                    let taken = self
                        .children
                        .get(live.parent_id.as_str())
                        .into_iter()
                        .flatten()
                        .find(|sibling| sibling.id != live.id && sibling.name == ou.name);
                    if let (true, Some(sibling)) = (live.name != ou.name, taken) {
                        self.finding(
                            Rule::Ambiguous,
                            Some(address.clone()),
                            format!(
                                "OU `{}` cannot be renamed to `{}`: its sibling {} already has that name",
                                live.name, ou.name, sibling.id
                            ),
                            "rename or delete the other OU first (in AWS, or in a plan of its own), then apply this rename",
                        );
                    } else if live.name != ou.name {
                        self.change(
                            &address,
                            Action::RenameOu {
                                id: live.id.clone(),
                                from: live.name.clone(),
                                to: ou.name.clone(),
                            },
                            "its pinned id carries a new name in the file",
                        );
                    }
                    self.tags(&address, &live.id, &live.tags, &ou.tags);
                }
            }
        }
        // Addresses of the live OUs the file does not declare, by their live path.
        let unmatched: Vec<&LiveOu> = self
            .live
            .organizational_units
            .iter()
            .filter(|live| !self.address_of_id.contains_key(live.id.as_str()))
            .collect();
        for live in unmatched {
            let path = self.live_path(live);
            let address = Address::ou(&path);
            self.address_of_id.insert(live.id.as_str(), address.clone());
            self.touch(&address, Touched::Ou(live));
            if self.shared_payer() {
                continue;
            }
            self.finding(
                Rule::Unmanaged,
                Some(address),
                format!(
                    "OU `{path}` ({}) is not declared in the file; orgctl leaves it alone",
                    live.id
                ),
                "declare it under `organizational_units` to manage it, or delete it in AWS",
            );
        }
    }

    /// The path of a live OU the file does not declare: its live name below the nearest
    /// ancestor whose address is known.
    fn live_path(&self, ou: &LiveOu) -> String {
        let mut names = vec![ou.name.as_str()];
        let mut parent = ou.parent_id.as_str();
        // A corrupt snapshot could loop; AWS nests at most five levels.
        for _ in 0..8 {
            if parent == self.live.root.id {
                break;
            }
            if let Some(address) = self.address_of_id.get(parent) {
                // An ancestor's address is an OU's: only the root and OUs are parents.
                if let Some(path) = address.ou_path() {
                    names.push(path);
                }
                break;
            }
            match self.ou_by_id.get(parent) {
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

    /// The live parent address of an OU-or-root id.
    fn parent_of(&self, parent_id: &str) -> Address {
        self.address_of_id
            .get(parent_id)
            .cloned()
            .unwrap_or_else(|| Address::ou(parent_id))
    }

    fn accounts(&mut self) {
        let desired = self.desired;
        let live = self.live;
        let by_id: HashMap<&str, &LiveAccount> =
            live.accounts.iter().map(|a| (a.id.as_str(), a)).collect();
        let management_id = live.organization.management_account_id.as_str();
        let by_email: HashMap<String, &LiveAccount> = live
            .accounts
            .iter()
            .filter(|a| a.id != management_id)
            .map(|a| (a.email.to_ascii_lowercase(), a))
            .collect();

        // The management account: always matched by the organization's own record.
        let management_address = Address::account(&desired.management_account.name);
        if let Some(pinned) = desired
            .management_account
            .id
            .as_deref()
            .filter(|id| *id != management_id)
        {
            self.finding(
                Rule::WrongOrganization,
                Some(management_address.clone()),
                format!(
                    "the file's management account is `{pinned}`, but this organization's is `{management_id}`: these are other credentials' organization"
                ),
                "choose the management account's credentials (--profile, --assume-role) or snapshot, or correct the pinned id",
            );
        }
        if let Some(management) = by_id.get(management_id).copied() {
            self.address_of_id
                .insert(management.id.as_str(), management_address.clone());
            self.matched_accounts.insert(management.id.as_str());
            self.managed_targets.insert(management_address.clone());
            self.touch(&management_address, Touched::Account(management));
            // On a shared payer the management account is the provider's, shared with others.
            if !self.shared_payer() {
                self.existing_account(&management_address, &desired.management_account, management);
            }
        }
        // Match every entry first (pinned id, else root email), then act only on the live
        // accounts exactly one entry claims: two entries resolving to one account (a copied
        // retirement entry) must never close, remove, rename or move what the other declares.
        let mut matches: Vec<(&Account, Address, Option<&LiveAccount>)> = Vec::new();
        // By live id, in id order so that findings come out the same every run: the live
        // account and the entries that resolve to it, each with how and its address.
        let mut claims: BTreeMap<&str, (&LiveAccount, Vec<Claim<'_>>)> = BTreeMap::new();
        for account in desired.accounts.values() {
            let address = Address::account(&account.name);
            let matched = match &account.id {
                Some(id) if id == management_id => {
                    self.finding(
                        Rule::Ambiguous,
                        Some(address.clone()),
                        format!("account `{}` is pinned to `{id}`, the management account", account.name),
                        "declare the management account under `organization.management_account` only",
                    );
                    continue;
                }
                Some(id) => match by_id.get(id.as_str()).copied() {
                    Some(live) => Some((live, "its pinned id".to_owned())),
                    None => {
                        if account.lifecycle == AccountLifecycle::Active {
                            self.finding(
                                Rule::PinnedMissing,
                                Some(address.clone()),
                                format!("account `{}` is pinned to `{id}`, which is not in the organization", account.name),
                                "correct the id, or remove it to create a new account (an id cannot be chosen)",
                            );
                        }
                        continue;
                    }
                },
                None => by_email
                    .get(&account.email.to_ascii_lowercase())
                    .map(|live| (*live, format!("its root email `{}`", account.email))),
            };
            let matched = matched.map(|(live, how)| {
                claims
                    .entry(live.id.as_str())
                    .or_insert_with(|| (live, Vec::new()))
                    .1
                    .push(Claim {
                        account,
                        how,
                        address: address.clone(),
                    });
                live
            });
            matches.push((account, address, matched));
        }
        for (live, claimants) in claims.values() {
            if claimants.len() < 2 {
                continue;
            }
            let entries = claimants
                .iter()
                .map(|claim| format!("`{}` (by {})", claim.account.name, claim.how))
                .collect::<Vec<_>>()
                .join(" and ");
            for Claim { address, .. } in claimants {
                self.managed_targets.insert(address.clone());
                self.finding(
                    Rule::AccountClaimedTwice,
                    Some(address.clone()),
                    format!(
                        "{entries} resolve to one live account, {} `{}`: orgctl changes neither",
                        live.id, live.name
                    ),
                    "keep one entry for that account (to close or remove it, set `lifecycle` on that entry), and give the other its own id or root email",
                );
            }
            self.address_of_id
                .entry(live.id.as_str())
                .or_insert_with(|| claimants[0].address.clone());
            self.matched_accounts.insert(live.id.as_str());
        }

        let claimed_twice = |live: &LiveAccount| {
            claims
                .get(live.id.as_str())
                .is_some_and(|(_, claimants)| claimants.len() > 1)
        };
        for (account, address, matched) in matches {
            if matched.is_some_and(claimed_twice) {
                continue;
            }
            let Some(live_account) = matched else {
                if account.lifecycle == AccountLifecycle::Active {
                    self.change(
                        &address,
                        Action::CreateAccount {
                            name: account.name.clone(),
                            email: account.email.clone(),
                            parent: parent_address(&account.ou),
                            tags: self.creation_tags(account),
                        },
                        "declared in the file, missing in the organization",
                    );
                }
                continue;
            };
            self.address_of_id
                .insert(live_account.id.as_str(), address.clone());
            self.matched_accounts.insert(live_account.id.as_str());
            self.managed_targets.insert(address.clone());
            self.touch(&address, Touched::Account(live_account));
            match account.lifecycle {
                AccountLifecycle::Close => {
                    self.leaving.insert(address.clone());
                    if live_account.status == AccountStatus::Active {
                        // A closed account stays in its OU for AWS's 90 days: put it where the file says.
                        let to = parent_address(&account.ou);
                        let from = self.parent_of(&live_account.parent_id);
                        if from != to {
                            self.change(
                                &address,
                                Action::MoveAccount {
                                    id: live_account.id.clone(),
                                    from,
                                    to,
                                },
                                "the file places it elsewhere before it closes",
                            );
                        }
                        self.change(
                            &address,
                            Action::CloseAccount {
                                id: live_account.id.clone(),
                                name: live_account.name.clone(),
                            },
                            "the file says `lifecycle: close`",
                        );
                    }
                }
                AccountLifecycle::Remove => {
                    self.leaving.insert(address.clone());
                    self.change(
                        &address,
                        Action::RemoveAccount {
                            id: live_account.id.clone(),
                            name: live_account.name.clone(),
                            parent: self.parent_of(&live_account.parent_id),
                        },
                        "the file says `lifecycle: remove`",
                    );
                }
                AccountLifecycle::Active if live_account.status != AccountStatus::Active => {
                    self.finding(
                        Rule::AccountNotActive,
                        Some(address.clone()),
                        format!("account `{}` ({}) is closed or closing in AWS", account.name, live_account.id),
                        "write `lifecycle: close` to record it, or reopen it through AWS Support within 90 days",
                    );
                }
                AccountLifecycle::Active => self.existing_account(&address, account, live_account),
            }
        }

        self.undeclared_accounts();
    }

    /// A new account's tags: the file's, and the pending hand-over mark when the end customer
    /// gets a user in it (removed once the user exists; a hand-over that failed is planned again).
    fn creation_tags(&self, account: &Account) -> BTreeMap<String, String> {
        let mut tags = account.tags.clone();
        let handover = self
            .desired
            .organization
            .end_customer_user
            .as_ref()
            .is_some_and(|user| user.mode == crate::model::UserMode::Handover);
        if handover {
            tags.insert(crate::live::HANDOVER_TAG.to_owned(), "pending".to_owned());
        }
        tags
    }

    /// Changes to an account that exists and stays: name, email, parent, tags.
    fn existing_account(&mut self, address: &Address, account: &Account, live: &LiveAccount) {
        if live.name != account.name {
            self.change(
                address,
                Action::RenameAccount {
                    id: live.id.clone(),
                    from: live.name.clone(),
                    to: account.name.clone(),
                },
                "the file gives it another name",
            );
        }
        if !account.email.is_empty() && !live.email.eq_ignore_ascii_case(&account.email) {
            self.change(
                address,
                Action::ChangeEmail {
                    id: live.id.clone(),
                    from: live.email.clone(),
                    to: account.email.clone(),
                },
                "the root email differs from the file; only the root user can change it",
            );
        }
        let to = parent_address(&account.ou);
        let from = self.parent_of(&live.parent_id);
        // On a shared payer the provider's OUs are not the file's to arrange.
        if from != to && !self.shared_payer() {
            self.change(
                address,
                Action::MoveAccount {
                    id: live.id.clone(),
                    from,
                    to,
                },
                "the file places it elsewhere",
            );
        }
        self.tags(address, &live.id, &live.tags, &account.tags);
        self.live_email_owner(address, account, live);
    }

    /// Whoever holds the root email owns the account: the live email must be on the owner's domain.
    fn live_email_owner(&mut self, address: &Address, account: &Account, live: &LiveAccount) {
        let organization = &self.desired.organization;
        let Some(domain) = organization.domain_of(account.owner) else {
            return;
        };
        let live_domain = live.email.rsplit_once('@').map_or("", |(_, d)| d);
        if organization.party_of_domain(live_domain, account.owner) == Some(account.owner) {
            return;
        }
        let holder = match organization.party_of_domain(live_domain, account.owner) {
            Some(Party::Provider) => "the provider holds its root user",
            Some(Party::Customer) => "the customer holds its root user",
            None => "neither party's domain",
        };
        self.finding(
            Rule::LiveEmailDomain,
            Some(address.clone()),
            format!(
                "the live root email of `{}` is `{}` ({holder}), but the {} owns the account",
                account.name,
                live.email,
                match account.owner {
                    Party::Provider => "provider",
                    Party::Customer => "customer",
                }
            ),
            format!(
                "whoever holds the root user signs in as root and changes the email to an address on `{domain}`; until then {}",
                match account.owner {
                    Party::Provider => "the provider does not own the account it pays for",
                    Party::Customer => "the customer does not own its account",
                }
            ),
        );
    }

    fn undeclared_accounts(&mut self) {
        let unmatched: Vec<&LiveAccount> = self
            .live
            .accounts
            .iter()
            .filter(|a| !self.matched_accounts.contains(a.id.as_str()))
            .collect();
        // Every live account gets an address, reported or not: policies may be attached to it.
        for live in &unmatched {
            self.address_of_id
                .insert(live.id.as_str(), Address::account_id(&live.id));
        }
        let reporting = if self.shared_payer() {
            Reporting::Ignore
        } else {
            self.desired.organization.undeclared_accounts
        };
        let severity = match reporting {
            Reporting::Ignore => return,
            Reporting::Warning => Severity::Warning,
            Reporting::Error => Severity::Error,
        };
        let model = crate::model::ownership::model_name(self.desired.organization.business_model);
        for live in unmatched
            .into_iter()
            .filter(|a| a.status == AccountStatus::Active)
        {
            let address = Address::account_id(&live.id);
            let mut finding = Finding::finding(
                Rule::UndeclaredAccount,
                Some(address),
                format!(
                    "account `{}` ({}, {}) is in the organization but not in the file: under `{model}` it was created outside orgctl",
                    live.name, live.id, live.email
                ),
                format!(
                    "declare it under `accounts` with `id: \"{}\"` to manage it, or remove it from the organization",
                    live.id
                ),
            );
            finding.severity = severity;
            self.findings.push(finding);
        }
    }

    /// Roles and users inside member accounts (`plan::iam`).
    fn iam(&mut self) {
        let created = self
            .changes
            .iter()
            .filter(|change| matches!(change.action, Action::CreateAccount { .. }))
            .map(|change| change.address.clone())
            .collect();
        let (changes, findings) = super::iam::diff(
            self.desired,
            self.live,
            &super::iam::Accounts {
                address_of_id: &self.address_of_id,
                leaving: &self.leaving,
                created,
            },
        );
        self.changes.extend(changes);
        self.findings.extend(findings);
    }

    fn policies(&mut self) {
        let desired = self.desired;
        let mut by_key: HashMap<(PolicyType, &str), Vec<&LivePolicy>> = HashMap::new();
        // AWS-managed policies (FullAWSAccess) are never matched: orgctl never changes them.
        for policy in self.live.policies.iter().filter(|p| !p.aws_managed) {
            by_key
                .entry((policy.policy_type, policy.name.as_str()))
                .or_default()
                .push(policy);
        }
        let mut matched: BTreeSet<&str> = BTreeSet::new();
        for policy in desired.policies.values() {
            let address = Address::policy(policy.policy_type, &policy.name);
            if let Some(managed) = self.live.policies.iter().find(|p| {
                p.aws_managed && p.policy_type == policy.policy_type && p.name == policy.name
            }) {
                self.finding(
                    Rule::Ambiguous,
                    Some(address),
                    format!("policy `{}` has the name of the AWS-managed policy {}", policy.name, managed.id),
                    "rename the policy in the file: AWS-managed policies cannot be created, changed or deleted",
                );
                continue;
            }
            let live = match by_key
                .get(&(policy.policy_type, policy.name.as_str()))
                .map(Vec::as_slice)
            {
                None | Some([]) => None,
                Some([one]) => Some(*one),
                Some(many) => {
                    let ids: Vec<&str> = many.iter().map(|p| p.id.as_str()).collect();
                    self.finding(
                        Rule::Ambiguous,
                        Some(address),
                        format!(
                            "{} live policies are named `{}`: {}",
                            many.len(),
                            policy.name,
                            ids.join(", ")
                        ),
                        "rename or delete all but one of them in AWS",
                    );
                    continue;
                }
            };
            let desired_targets: BTreeSet<Address> =
                policy.targets.iter().map(Target::address).collect();
            let Some(live) = live else {
                if policy.lifecycle == PolicyLifecycle::Active {
                    self.change(
                        &address,
                        Action::CreatePolicy {
                            name: policy.name.clone(),
                            policy_type: policy.policy_type,
                            description: policy.description.clone(),
                            document: policy.document.clone(),
                            tags: policy.tags.clone(),
                        },
                        "declared in the file, missing in the organization",
                    );
                    for target in &desired_targets {
                        self.attach(&address, target);
                    }
                }
                continue;
            };
            matched.insert(live.id.as_str());
            self.touch(&address, Touched::Policy(live));
            let live_targets: BTreeSet<Address> =
                live.targets.iter().map(|id| self.parent_of(id)).collect();
            if policy.lifecycle == PolicyLifecycle::Delete {
                for target in &live_targets {
                    self.detach(&address, target, "the policy is deleted");
                }
                self.change(
                    &address,
                    Action::DeletePolicy {
                        id: live.id.clone(),
                    },
                    "the file says `lifecycle: delete`",
                );
                continue;
            }
            let document = (!same_document(&live.document, &policy.document)).then(|| Update {
                from: live.document.clone(),
                to: policy.document.clone(),
            });
            let description = (live.description != policy.description).then(|| Update {
                from: live.description.clone(),
                to: policy.description.clone(),
            });
            if document.is_some() || description.is_some() {
                self.change(
                    &address,
                    Action::UpdatePolicy {
                        id: live.id.clone(),
                        description,
                        document,
                    },
                    "the document or description differs from the file",
                );
            }
            self.tags(&address, &live.id, &live.tags, &policy.tags);
            for target in desired_targets.difference(&live_targets) {
                if !self.is_leaving(target) {
                    self.attach(&address, target);
                }
            }
            // Only targets the file can name are managed: attachments to undeclared OUs and
            // accounts stay as they are.
            for target in live_targets.difference(&desired_targets) {
                if !self.is_leaving(target) && self.managed_targets.contains(target) {
                    self.detach(&address, target, "the file does not attach it here");
                }
            }
        }
        let unmanaged: Vec<&LivePolicy> = self
            .live
            .policies
            .iter()
            .filter(|p| !p.aws_managed && !matched.contains(p.id.as_str()) && !self.shared_payer())
            .collect();
        for live in unmanaged {
            self.finding(
                Rule::Unmanaged,
                Some(Address::policy(live.policy_type, &live.name)),
                format!("policy `{}` ({}) is not declared in the file; orgctl leaves it and its attachments alone", live.name, live.id),
                "declare it under `policies` to manage it",
            );
        }
    }

    fn attach(&mut self, policy: &Address, target: &Address) {
        self.change(
            &Address::attachment(policy, target),
            Action::AttachPolicy {
                policy: policy.clone(),
                target: target.clone(),
            },
            "the file attaches it here",
        );
    }

    fn detach(&mut self, policy: &Address, target: &Address, reason: &str) {
        self.change(
            &Address::attachment(policy, target),
            Action::DetachPolicy {
                policy: policy.clone(),
                target: target.clone(),
            },
            reason,
        );
    }

    /// Whether the target at `address` is deleted, closed or removed by this plan.
    fn is_leaving(&self, address: &Address) -> bool {
        self.leaving.contains(address)
    }

    /// An OU the file deletes cannot be where the file puts accounts or creates OUs.
    fn deleted_ous_left_empty(&mut self) {
        let desired = self.desired;
        for ou in desired
            .organizational_units
            .values()
            .filter(|ou| ou.lifecycle == OuLifecycle::Delete)
        {
            let mut placed: Vec<String> = desired
                .accounts
                .values()
                .filter(|a| a.lifecycle != AccountLifecycle::Remove && a.ou.is_within(&ou.path))
                .map(|a| format!("account `{}`", a.name))
                .collect();
            placed.extend(
                desired
                    .organizational_units
                    .values()
                    .filter(|child| {
                        child.path != ou.path
                            && child.path.is_within(&ou.path)
                            && child.lifecycle == OuLifecycle::Active
                    })
                    .map(|child| format!("OU `{}`", child.path)),
            );
            if !placed.is_empty() {
                self.finding(
                    Rule::OuNotEmpty,
                    Some(Address::ou(&ou.path)),
                    format!(
                        "OU `{}` is marked `lifecycle: delete`, but the file puts {} in it",
                        ou.path,
                        placed.join(", ")
                    ),
                    "place those accounts and OUs elsewhere in the file, or keep the OU",
                );
            }
        }
    }

    /// An OU can only be deleted once nothing is left in it.
    fn emptied_ous(&mut self) {
        let deleted: Vec<(String, Address)> = self
            .changes
            .iter()
            .filter_map(|c| match &c.action {
                Action::DeleteOu { id } => Some((id.clone(), c.address.clone())),
                _ => None,
            })
            .collect();
        for (id, address) in deleted {
            let mut remaining: Vec<String> = Vec::new();
            for account in self.live.accounts.iter().filter(|a| a.parent_id == id) {
                let moved_or_removed = self.changes.iter().any(|c| match &c.action {
                    Action::MoveAccount { id: moved, .. }
                    | Action::RemoveAccount { id: moved, .. } => *moved == account.id,
                    _ => false,
                });
                if !moved_or_removed {
                    remaining.push(format!("account `{}`", account.name));
                }
            }
            for child in self.children.get(id.as_str()).into_iter().flatten() {
                if !self
                    .address_of_id
                    .get(child.id.as_str())
                    .is_some_and(|address| self.is_leaving(address))
                {
                    remaining.push(format!("OU `{}`", child.name));
                }
            }
            if !remaining.is_empty() {
                self.finding(
                    Rule::OuNotEmpty,
                    Some(address.clone()),
                    format!("{address} cannot be deleted: it would still hold {}", remaining.join(", ")),
                    "move the accounts to another OU in the file (closed accounts stay in their OU until AWS removes them), and delete child OUs too",
                );
            }
        }
    }

    /// After the plan: at least one SCP on every target, and no more policies of a type than AWS allows.
    fn attachment_limits(&mut self) {
        let scp_enabled = self
            .live
            .root
            .enabled_policy_types
            .contains(&PolicyType::ServiceControl)
            || self
                .desired
                .organization
                .enabled_policy_types
                .contains(&PolicyType::ServiceControl);
        // Attachments per (target address, type), starting from the live ones.
        let mut attached: BTreeMap<(Address, PolicyType), BTreeSet<Address>> = BTreeMap::new();
        let mut targets: BTreeSet<Address> = BTreeSet::new();
        targets.insert(Address::Root);
        for address in self.address_of_id.values() {
            if !self.is_leaving(address) {
                targets.insert(address.clone());
            }
        }
        for policy in &self.live.policies {
            let address = Address::policy(policy.policy_type, &policy.name);
            for target in &policy.targets {
                attached
                    .entry((self.parent_of(target), policy.policy_type))
                    .or_default()
                    .insert(address.clone());
            }
        }
        // AWS's FullAWSAccess: it exists while SCPs are enabled, and enabling SCPs attaches it to
        // the root, every OU and every account.
        let enables_scps = self.changes.iter().any(|c| {
            matches!(
                c.action,
                Action::EnablePolicyType {
                    policy_type: PolicyType::ServiceControl
                }
            )
        });
        let full_access: Option<Address> = self
            .live
            .policies
            .iter()
            .find(|p| p.aws_managed && p.policy_type == PolicyType::ServiceControl)
            .map(|p| Address::policy(p.policy_type, &p.name))
            .or_else(|| {
                enables_scps.then(|| Address::policy(PolicyType::ServiceControl, "FullAWSAccess"))
            });
        if enables_scps && let Some(full_access) = &full_access {
            for target in &targets {
                attached
                    .entry((target.clone(), PolicyType::ServiceControl))
                    .or_default()
                    .insert(full_access.clone());
            }
        }
        for change in &self.changes {
            match &change.action {
                Action::CreateOu { .. } | Action::CreateAccount { .. } => {
                    targets.insert(change.address.clone());
                    // AWS attaches FullAWSAccess to every new OU and account while SCPs are enabled.
                    if let Some(full_access) = &full_access {
                        attached
                            .entry((change.address.clone(), PolicyType::ServiceControl))
                            .or_default()
                            .insert(full_access.clone());
                    }
                }
                Action::AttachPolicy { policy, target }
                | Action::DetachPolicy { policy, target } => {
                    let Some(policy_type) = policy.policy_type() else {
                        continue;
                    };
                    let set = attached.entry((target.clone(), policy_type)).or_default();
                    if matches!(change.action, Action::AttachPolicy { .. }) {
                        set.insert(policy.clone());
                    } else {
                        set.remove(policy);
                    }
                }
                _ => {}
            }
        }
        // SCPs never restrict the management account, so it needs none.
        let management = self
            .address_of_id
            .get(self.live.organization.management_account_id.as_str())
            .cloned();
        for target in targets.iter().filter(|t| Some(*t) != management.as_ref()) {
            if scp_enabled
                && attached
                    .get(&(target.clone(), PolicyType::ServiceControl))
                    .is_none_or(BTreeSet::is_empty)
            {
                self.finding(
                    Rule::NoScp,
                    Some(target.clone()),
                    format!(
                        "{target} would be left with no SCP: AWS then denies every action there"
                    ),
                    "attach at least one SCP to it (AWS's `FullAWSAccess` allows everything)",
                );
            }
        }
        for ((target, policy_type), policies) in &attached {
            let (_, most) = policy_limits(*policy_type);
            if policies.len() > most && targets.contains(target) {
                self.finding(
                    Rule::LiveAttachmentLimit,
                    Some(target.clone()),
                    format!(
                        "{target} would have {} {} attached after the plan (live ones included); AWS allows at most {most}",
                        policies.len(),
                        crate::model::policy_type_plural(*policy_type)
                    ),
                    "detach some in the file, or merge policies into fewer documents",
                );
            }
        }
    }

    /// The `(target, policy type)` pairs whose detaches must run before their attaches: where the
    /// live policies left after the detaches still cover the target, detaching first keeps the
    /// target under AWS's limit throughout; elsewhere attaching first keeps it from going bare.
    fn detach_first(&self) -> BTreeSet<(Address, PolicyType)> {
        let mut live: HashMap<(Address, PolicyType), usize> = HashMap::new();
        for policy in &self.live.policies {
            for target in &policy.targets {
                *live
                    .entry((self.parent_of(target), policy.policy_type))
                    .or_default() += 1;
            }
        }
        let mut detached: HashMap<(Address, PolicyType), usize> = HashMap::new();
        for change in &self.changes {
            if let Action::DetachPolicy { policy, target } = &change.action
                && let Some(policy_type) = policy.policy_type()
            {
                *detached.entry((target.clone(), policy_type)).or_default() += 1;
            }
        }
        detached
            .into_iter()
            .filter(|(key, count)| live.get(key).copied().unwrap_or(0) > *count)
            .map(|(key, _)| key)
            .collect()
    }

    /// Fingerprints the live resources the changes act on or refer to.
    fn touched_by_changes(&self) -> BTreeMap<Address, TouchedResource> {
        let mut referred: BTreeSet<&Address> = BTreeSet::new();
        for change in &self.changes {
            referred.insert(&change.address);
            match &change.action {
                Action::AttachPolicy { policy, target }
                | Action::DetachPolicy { policy, target } => {
                    referred.insert(policy);
                    referred.insert(target);
                }
                Action::MoveAccount { from, to, .. } => {
                    referred.insert(from);
                    referred.insert(to);
                }
                Action::CreateOu { parent, .. } | Action::CreateAccount { parent, .. } => {
                    referred.insert(parent);
                }
                Action::PutRole { account, .. }
                | Action::PutUser { account, .. }
                | Action::DeleteRole { account, .. } => {
                    referred.insert(account);
                }
                _ => {}
            }
        }
        referred
            .into_iter()
            .filter_map(|address| {
                let (id, fingerprint) = match self.touched.get(address)? {
                    Touched::Root(root) => (&root.id, fingerprint(root)),
                    Touched::Ou(ou) => (&ou.id, fingerprint(ou)),
                    Touched::Account(account) => (&account.id, fingerprint(account)),
                    Touched::Policy(policy) => (&policy.id, fingerprint(policy)),
                };
                let id = id.clone();
                Some((address.clone(), TouchedResource { id, fingerprint }))
            })
            .collect()
    }

    fn closure_quota(&mut self) {
        let closes = self
            .changes
            .iter()
            .filter(|c| matches!(c.action, Action::CloseAccount { .. }))
            .count();
        let Some(quota) = self.live.account_closures else {
            return;
        };
        let left = quota.per_30_days.saturating_sub(quota.used) as usize;
        if closes > left {
            self.finding(
                Rule::CloseQuota,
                None,
                format!(
                    "the plan closes {closes} accounts, but only {left} more closures are allowed in this 30-day period ({} of {} used)",
                    quota.used, quota.per_30_days
                ),
                "close fewer accounts now (set the others back to `lifecycle: active`) and the rest after the period",
            );
        }
    }
}

/// Whether two policy documents say the same thing (as JSON values; key order and white space
/// do not count).
fn same_document(live: &str, desired: &str) -> bool {
    match (
        serde_json::from_str::<serde_json::Value>(live),
        serde_json::from_str::<serde_json::Value>(desired),
    ) {
        (Ok(live), Ok(desired)) => live == desired,
        _ => live == desired,
    }
}
