//! Listing the changes between desired resources and the live ones they matched.
//!
//! Which live resource each desired one is comes from the [`Matching`], computed once before:
//! this module acts on it (creates what matched nothing, changes what matched, reports what it
//! implies). Live resources the file does not declare are reported, never deleted by omission.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::convert::Infallible;

use super::matching::{AccountMatch, Matching, OuMatch, PolicyMatch};
use super::{Action, Change, Finding, Touched as TouchedResource, Update};
use crate::action::ByAddress;
use crate::address::Address;
use crate::config::{
    AccountLifecycle, Join, OuLifecycle, Party, Payer, PolicyLifecycle, PolicyType, Reporting,
};
use crate::live::{
    AccountState, INVITATION_NOTE, LiveAccount, LiveAccountCreation, LiveInvitation, LiveOu,
    LivePolicy, LiveState, fingerprint,
};
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

pub(super) fn diff(desired: &Desired, live: &LiveState, matching: &Matching) -> Diff {
    let mut differ = Differ::new(desired, live, matching);
    differ.policy_types();
    differ.trusted_access();
    differ.root_tags();
    differ.organizational_units();
    differ.accounts();
    differ.delegated_administrators();
    differ.iam();
    differ.contacts();
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
    /// Which live resource each desired one is.
    matching: &'a Matching<'a>,
    changes: Vec<Change>,
    findings: Vec<Finding>,
    /// The live resource behind each address the plan may touch; fingerprinted at the end, for
    /// the addresses the changes refer to only.
    touched: HashMap<Address, Touched<'a>>,
    /// Live OUs by parent id.
    children: HashMap<&'a str, Vec<&'a LiveOu>>,
    /// Addresses of the live OUs and accounts that the plan deletes, closes or removes.
    leaving: BTreeSet<Address>,
    /// Addresses of the targets the file declares: the root, matched OUs and accounts.
    managed_targets: BTreeSet<Address>,
    /// Addresses of the declared accounts that are not members yet and that no change of this
    /// plan makes: those whose creation AWS has started and not finished, and those invited.
    /// Nothing is attached or delegated to them until they are.
    not_members_yet: BTreeSet<Address>,
}

impl<'a> Differ<'a> {
    fn new(desired: &'a Desired, live: &'a LiveState, matching: &'a Matching<'a>) -> Self {
        let mut children: HashMap<&str, Vec<&LiveOu>> = HashMap::new();
        for ou in &live.organizational_units {
            children.entry(ou.parent_id.as_str()).or_default().push(ou);
        }
        Self {
            desired,
            live,
            matching,
            changes: Vec::new(),
            findings: Vec::new(),
            touched: HashMap::new(),
            children,
            leaving: BTreeSet::new(),
            managed_targets: BTreeSet::from([Address::Root]),
            not_members_yet: BTreeSet::new(),
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
                id: Some(id.to_owned()),
                set,
                unset,
                before: before.clone(),
            },
            "the tags differ from the file",
        );
    }

    /// Trusted access, when the file manages it: enable what it lists and live lacks, disable
    /// what live has and it does not list.
    fn trusted_access(&mut self) {
        let Some(desired) = &self.desired.organization.trusted_access else {
            return;
        };
        let live: BTreeSet<&String> = self.live.trusted_access.iter().collect();
        for principal in desired {
            if !live.contains(principal) {
                self.change(
                    &Address::TrustedAccess(principal.clone()),
                    Action::EnableTrustedAccess {
                        principal: principal.clone(),
                    },
                    "listed in `trusted_access`",
                );
            }
        }
        for principal in live {
            if !desired.contains(principal) {
                self.change(
                    &Address::TrustedAccess(principal.clone()),
                    Action::DisableTrustedAccess {
                        principal: principal.clone(),
                    },
                    "not listed in `trusted_access`",
                );
            }
        }
    }

    /// Delegated administrators, when the file manages them: register what it lists and live
    /// lacks, deregister what live has and it does not list. When it does not manage them, an
    /// account that leaves while it administers a service is a finding (AWS refuses it).
    fn delegated_administrators(&mut self) {
        // Each live delegation by its account's address and service, to its account id.
        let live: BTreeMap<(Address, &str), &str> = self
            .live
            .delegated_administrators
            .iter()
            .map(|delegation| {
                let account = self.matching.account_address(&delegation.account_id);
                (
                    (account, delegation.service.as_str()),
                    delegation.account_id.as_str(),
                )
            })
            .collect();
        let Some(desired) = &self.desired.delegated_administrators else {
            self.leaving_administrators(&live);
            return;
        };
        let declared: HashMap<&Address, &LiveAccount> = self.matching.declared_accounts().collect();
        for (service, names) in desired {
            for name in names {
                let account = Address::account(name);
                if live.contains_key(&(account.clone(), service.as_str())) {
                    continue;
                }
                let address = Address::delegated_administrator(&account, service);
                if self.not_members_yet.contains(&account) {
                    continue;
                }
                if let Some(live_account) = declared.get(&account)
                    && !live_account.state.is_active()
                {
                    self.finding(
                        Rule::DelegatedAdministratorInactive,
                        Some(address),
                        format!(
                            "{account} cannot administer {service}: it is {} in AWS",
                            live_account.state.aws_name()
                        ),
                        "delegate the service to an active member account",
                    );
                    continue;
                }
                if self.desired.organization.trusted_access.is_none()
                    && !self.live.trusted_access.contains(service)
                {
                    self.finding(
                        Rule::DelegatedAdministratorTrustedAccess,
                        Some(address),
                        format!(
                            "{service} has no trusted access, which AWS requires before {account} can administer it"
                        ),
                        format!("list `{service}` under `trusted_access`, or enable it in the service's console"),
                    );
                    continue;
                }
                self.change(
                    &address,
                    Action::RegisterDelegatedAdministrator {
                        account,
                        service: service.clone(),
                    },
                    "listed in `delegated_administrators`",
                );
            }
        }
        for ((account, service), account_id) in &live {
            let listed = account.account_name().is_some_and(|name| {
                desired
                    .get(*service)
                    .is_some_and(|names| names.contains(name))
            });
            if !listed {
                self.change(
                    &Address::delegated_administrator(account, *service),
                    Action::DeregisterDelegatedAdministrator {
                        account_id: (*account_id).to_owned(),
                        service: (*service).to_owned(),
                    },
                    "not listed in `delegated_administrators`",
                );
            }
        }
    }

    /// Accounts the plan removes from the organization while they administer a service, which
    /// AWS refuses, when the file leaves delegated administrators unmanaged.
    fn leaving_administrators(&mut self, live: &BTreeMap<(Address, &str), &str>) {
        let removed: Vec<Address> = self
            .changes
            .iter()
            .filter(|change| matches!(change.action, Action::RemoveAccount { .. }))
            .map(|change| change.address.clone())
            .collect();
        for (account, service) in live.keys() {
            if removed.contains(account) {
                self.finding(
                    Rule::DelegatedAdministratorInactive,
                    Some(Address::delegated_administrator(account, *service)),
                    format!(
                        "{account} leaves the organization but administers {service}, and AWS refuses to remove a delegated administrator"
                    ),
                    "declare `delegated_administrators` without it (orgctl then deregisters it first), or deregister it in the service's console",
                );
            }
        }
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
        let matching = self.matching;
        for entry in &matching.organizational_units {
            let ou = entry.desired;
            let address = Address::ou(&ou.path);
            let parent = ou
                .path
                .as_str()
                .rsplit_once('/')
                .map_or_else(OuPath::root, |(p, _)| OuPath::parse(p));
            let matched = match &entry.matched {
                OuMatch::PinnedMissing { id } => {
                    self.finding(
                        Rule::PinnedMissing,
                        Some(address.clone()),
                        format!(
                            "OU `{}` is pinned to `{id}`, which the organization does not have",
                            ou.path
                        ),
                        "remove the `id` to create the OU, or correct it",
                    );
                    continue;
                }
                OuMatch::Elsewhere { live, live_parent } => {
                    self.finding(
                        Rule::OuCannotMove,
                        Some(address.clone()),
                        format!(
                            "OU `{}` sits under {}, but the file places it under {}; AWS cannot move OUs",
                            live.id,
                            live_parent.as_ref().map_or_else(|| "another parent".to_owned(), ToString::to_string),
                            parent_address(&parent)
                        ),
                        "declare the OU where it is, or create a new OU there, move the accounts, and delete the old one",
                    );
                    continue;
                }
                OuMatch::Ambiguous(many) => {
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
                OuMatch::Missing => None,
                OuMatch::Live(live) => Some(*live),
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
        // The live OUs the file does not declare, addressed by their live path.
        for undeclared in &matching.undeclared_ous {
            let (live, path, address) = (undeclared.live, &undeclared.path, &undeclared.address);
            self.touch(address, Touched::Ou(live));
            if self.shared_payer() {
                continue;
            }
            self.finding(
                Rule::Unmanaged,
                Some(address.clone()),
                format!(
                    "OU `{path}` ({}) is not declared in the file; orgctl leaves it alone",
                    live.id
                ),
                "declare it under `organizational_units` to manage it, or delete it in AWS",
            );
        }
    }

    /// The live parent address of an OU-or-root id.
    fn parent_of(&self, parent_id: &str) -> Address {
        self.matching
            .address(parent_id)
            .cloned()
            .unwrap_or_else(|| Address::ou(parent_id))
    }

    fn accounts(&mut self) {
        let desired = self.desired;
        let matching = self.matching;
        let management_id = self.live.organization.management_account_id.as_str();

        // The management account: always matched by the organization's own record.
        let management_address = Address::account(&desired.management_account.name);
        if let Some(pinned) = matching.management.pinned_elsewhere {
            self.finding(
                Rule::WrongOrganization,
                Some(management_address.clone()),
                format!(
                    "the file's management account is `{pinned}`, but this organization's is `{management_id}`: these are other credentials' organization"
                ),
                "choose the management account's credentials (--profile, --assume-role) or snapshot, or correct the pinned id",
            );
        }
        if let Some(management) = matching.management.live {
            self.managed_targets.insert(management_address.clone());
            self.touch(&management_address, Touched::Account(management));
            // On a shared payer the management account is the provider's, shared with others.
            if !self.shared_payer() {
                self.existing_account(&management_address, &desired.management_account, management);
            }
        }
        // What the matching implies of entries that resolve to no live account.
        for entry in &matching.accounts {
            let account = entry.desired;
            match entry.matched {
                AccountMatch::PinnedToManagement { id } => {
                    self.finding(
                        Rule::Ambiguous,
                        Some(Address::account(&account.name)),
                        format!("account `{}` is pinned to `{id}`, the management account", account.name),
                        "declare the management account under `organization.management_account` only",
                    );
                }
                AccountMatch::PinnedMissing { id } if account.join == Join::Invite => {
                    self.invitation(account, id);
                }
                AccountMatch::PinnedMissing { id }
                    if account.lifecycle == AccountLifecycle::Active =>
                {
                    self.finding(
                        Rule::PinnedMissing,
                        Some(Address::account(&account.name)),
                        format!("account `{}` is pinned to `{id}`, which is not in the organization", account.name),
                        "correct the id, or remove it to create a new account (an id cannot be chosen)",
                    );
                }
                _ => {}
            }
        }
        // Act only on the live accounts exactly one entry claims: two entries resolving to one
        // account (a copied retirement entry) must never close, remove, rename or move what the
        // other declares. By live id, so that findings come out the same every run.
        for claimed in matching.claimed_twice() {
            let live = claimed.live;
            let entries = claimed
                .claims
                .iter()
                .map(|claim| format!("`{}` (by {})", claim.account.name, claim.by))
                .collect::<Vec<_>>()
                .join(" and ");
            for claim in &claimed.claims {
                self.managed_targets.insert(claim.address.clone());
                self.finding(
                    Rule::AccountClaimedTwice,
                    Some(claim.address.clone()),
                    format!(
                        "{entries} resolve to one live account, {} `{}`: orgctl changes neither",
                        live.id, live.name
                    ),
                    "keep one entry for that account (to close or remove it, set `lifecycle` on that entry), and give the other its own id or root email",
                );
            }
        }

        for entry in &matching.accounts {
            let account = entry.desired;
            let address = Address::account(&account.name);
            let live_account = match entry.matched {
                AccountMatch::Live { live, .. } if matching.is_claimed_twice(&live.id) => continue,
                AccountMatch::Live { live, .. } => live,
                AccountMatch::Missing => {
                    if account.lifecycle == AccountLifecycle::Active
                        && let Some(creation) = self.creation_in_progress(&account.name)
                    {
                        self.being_created(&address, &account.name, &creation.request_id);
                    } else if account.lifecycle == AccountLifecycle::Active {
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
                }
                AccountMatch::PinnedMissing { .. } | AccountMatch::PinnedToManagement { .. } => {
                    continue;
                }
            };
            self.managed_targets.insert(address.clone());
            self.touch(&address, Touched::Account(live_account));
            match account.lifecycle {
                AccountLifecycle::Close => {
                    self.leaving.insert(address.clone());
                    // Closing or closed already (and suspended, which the retired `Status`
                    // field also said of closed accounts): nothing to do.
                    let state = live_account.state;
                    if state.is_active() || state == AccountState::PendingActivation {
                        // A closed account stays in its OU for AWS's 90 days: put it where the
                        // file says (an account that is not active yet is not moved).
                        let to = parent_address(&account.ou);
                        let from = self.parent_of(&live_account.parent_id);
                        if from != to && state.is_active() {
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
                            if state.is_active() {
                                "the file says `lifecycle: close`".to_owned()
                            } else {
                                format!(
                                    "the file says `lifecycle: close` (it is {} in AWS)",
                                    state.aws_name()
                                )
                            },
                        );
                    }
                }
                AccountLifecycle::Remove if !live_account.state.is_active() => {
                    self.cannot_leave(&address, live_account);
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
                AccountLifecycle::Active if !live_account.state.is_active() => {
                    self.not_active(&address, account, live_account);
                }
                AccountLifecycle::Active => self.existing_account(&address, account, live_account),
            }
        }

        self.undeclared_accounts();
    }

    /// An account the file invites that is not in the organization (its pinned `id`): invited,
    /// unless an invitation is open already (then it waits for the account to accept); an
    /// open invitation of an account the file closes or removes is canceled.
    fn invitation(&mut self, account: &Account, id: &str) {
        let address = Address::account(&account.name);
        self.not_members_yet.insert(address.clone());
        let mut sent: Vec<&LiveInvitation> = self
            .live
            .invitations
            .iter()
            .filter(|invitation| invitation.account_id == id)
            .collect();
        sent.sort_by(|a, b| a.expires.cmp(&b.expires));
        let open = sent.iter().find(|invitation| invitation.state.is_open());
        match (account.lifecycle, open) {
            (AccountLifecycle::Active, Some(open)) => self.finding(
                Rule::InvitationOpen,
                Some(address),
                format!(
                    "{} ({id}) is invited, waiting for the account to accept (invitation {}, open until {})",
                    Address::account(&account.name),
                    open.id,
                    open.expires.as_deref().unwrap_or("AWS expires it")
                ),
                "its holder accepts the invitation (console: AWS Organizations, Invitations); the next apply then places and tags it",
            ),
            (AccountLifecycle::Active, None) => {
                let reason = match sent.last() {
                    Some(last) => format!(
                        "declared with `join: invite`, not in the organization; the last invitation ({}) was {}",
                        last.id,
                        last.state.aws_name()
                    ),
                    None => "declared with `join: invite`, not in the organization".to_owned(),
                };
                self.change(
                    &address,
                    Action::InviteAccount {
                        account_id: id.to_owned(),
                        notes: format!(
                            "{INVITATION_NOTE} invitation to join the organization {} as {}",
                            self.desired.organization.name, account.name
                        ),
                        tags: account.tags.clone(),
                    },
                    reason,
                );
            }
            (_, Some(open)) => self.change(
                &address,
                Action::CancelInvitation {
                    id: open.id.clone(),
                    account_id: id.to_owned(),
                },
                "the file no longer wants it to join (`lifecycle` is not `active`)",
            ),
            (_, None) => {}
        }
    }

    /// An account the file removes that is not active in AWS: only an active member can leave
    /// (a closed one is removed by AWS when its 90 days end). A finding, and no change.
    fn cannot_leave(&mut self, address: &Address, live: &LiveAccount) {
        let state = live.state;
        let help = if state.is_closing_or_closed() || state == AccountState::Suspended {
            "nothing to do: AWS removes a closed account from the organization when its 90 days end; write `lifecycle: close` to record it"
        } else {
            "its holder completes the sign-up first; the next plan after it is ACTIVE removes it"
        };
        self.finding(
            Rule::AccountNotActive,
            Some(address.clone()),
            format!(
                "{address} ({}) is {} in AWS and cannot leave the organization: orgctl does not remove it",
                live.id,
                state.aws_name()
            ),
            help,
        );
    }

    /// A declared account that is not active in AWS: a finding that names its state, and no
    /// change (it is never created again, moved, renamed or tagged).
    /// The creation in progress of an account named `name`, if AWS has one.
    fn creation_in_progress(&self, name: &str) -> Option<&'a LiveAccountCreation> {
        let live = self.live;
        live.account_creations
            .iter()
            .find(|creation| creation.name == name)
    }

    /// A declared account that AWS is creating: reported, never created again.
    fn being_created(&mut self, address: &Address, name: &str, request_id: &str) {
        self.not_members_yet.insert(address.clone());
        self.finding(
            Rule::AccountBeingCreated,
            Some(address.clone()),
            format!(
                "account `{name}` is being created in AWS (request {request_id}): orgctl does not create it again, and attaches or delegates nothing to it until it exists"
            ),
            "wait until AWS has created it (an earlier apply may still be waiting for it); the next plan makes the remaining changes",
        );
    }

    fn not_active(&mut self, address: &Address, account: &Account, live: &LiveAccount) {
        let state = live.state.aws_name();
        let (rule, message, help) = match live.state {
            AccountState::PendingActivation => (
                Rule::AccountPendingActivation,
                format!(
                    "account `{}` ({}) is {state} in AWS: its sign-up is not complete, so orgctl neither moves, renames nor tags it yet",
                    account.name, live.id
                ),
                "its holder completes the sign-up (phone verification, payment information); the next plan after it is ACTIVE makes the changes",
            ),
            AccountState::Suspended => (
                Rule::AccountNotActive,
                format!(
                    "account `{}` ({}) is {state} in AWS: AWS restricted it, or it was closed; orgctl changes nothing in it",
                    account.name, live.id
                ),
                "AWS Support can say why it is suspended; if it was closed, write `lifecycle: close` to record it",
            ),
            AccountState::PendingClosure | AccountState::Closed | AccountState::Active => (
                Rule::AccountNotActive,
                format!(
                    "account `{}` ({}) is {state} in AWS: it is {}, but the file declares it active; orgctl neither creates it again, moves, renames nor tags it",
                    account.name,
                    live.id,
                    if live.state == AccountState::PendingClosure {
                        "closing"
                    } else {
                        "closed"
                    },
                ),
                "write `lifecycle: close` to record it, or reopen it through AWS Support within 90 days of closing",
            ),
        };
        self.finding(rule, Some(address.clone()), message, help);
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
        let matching = self.matching;
        // Every live account gets an address, reported or not: policies may be attached to it,
        // and roles orgctl made may be deleted from it.
        for live in matching.undeclared_accounts() {
            self.touch(&matching.account_address(&live.id), Touched::Account(live));
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
        for live in matching
            .undeclared_accounts()
            .filter(|a| a.state.is_active() || a.state == AccountState::PendingActivation)
        {
            let address = matching.account_address(&live.id);
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
                matching: self.matching,
                leaving: &self.leaving,
                created,
            },
        );
        self.changes.extend(changes);
        super::iam::account_marks(&mut self.changes, self.live, self.matching);
        self.findings.extend(findings);
    }

    /// Alternate contacts of the declared accounts (`plan::contact`).
    fn contacts(&mut self) {
        let created = self
            .changes
            .iter()
            .filter(|change| matches!(change.action, Action::CreateAccount { .. }))
            .map(|change| change.address.clone())
            .collect();
        let (changes, findings) =
            super::contact::diff(self.desired, self.live, self.matching, &created);
        self.changes.extend(changes);
        self.findings.extend(findings);
    }

    fn policies(&mut self) {
        let matching = self.matching;
        for entry in &matching.policies {
            let policy = entry.desired;
            let address = Address::policy(policy.policy_type, &policy.name);
            let live = match &entry.matched {
                PolicyMatch::AwsManagedName(managed) => {
                    self.finding(
                        Rule::Ambiguous,
                        Some(address),
                        format!("policy `{}` has the name of the AWS-managed policy {}", policy.name, managed.id),
                        "rename the policy in the file: AWS-managed policies cannot be created, changed or deleted",
                    );
                    continue;
                }
                PolicyMatch::Ambiguous(many) => {
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
                PolicyMatch::Missing => None,
                PolicyMatch::Live(live) => Some(*live),
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
        let unmanaged: Vec<&LivePolicy> = matching
            .undeclared_policies()
            .filter(|_| !self.shared_payer())
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

    /// Attaches `policy` to `target`, unless the target is an account that is not a member yet
    /// (AWS is still creating it, or it is invited; the first plan after it joins attaches it).
    fn attach(&mut self, policy: &Address, target: &Address) {
        if self.not_members_yet.contains(target) {
            return;
        }
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
                    .matching
                    .address(child.id.as_str())
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
        for address in self.matching.addresses() {
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
        // AWS's full-access policies (FullAWSAccess, RCPFullAWSAccess): one exists while its type
        // is enabled, and enabling the type attaches it to the root, every OU and every account.
        let enabling: BTreeSet<PolicyType> = self
            .changes
            .iter()
            .filter_map(|c| match c.action {
                Action::EnablePolicyType { policy_type } => Some(policy_type),
                _ => None,
            })
            .collect();
        let full_access: Vec<(PolicyType, Address)> = crate::model::policy_type::POLICY_TYPES
            .iter()
            .filter_map(|row| {
                let full = row.full_access?;
                let address = self
                    .live
                    .policies
                    .iter()
                    .find(|p| p.aws_managed && p.policy_type == row.policy_type)
                    .map(|p| Address::policy(p.policy_type, &p.name))
                    .or_else(|| {
                        enabling
                            .contains(&row.policy_type)
                            .then(|| Address::policy(row.policy_type, full.name))
                    })?;
                Some((row.policy_type, address))
            })
            .collect();
        for (policy_type, address) in &full_access {
            if enabling.contains(policy_type) {
                for target in &targets {
                    attached
                        .entry((target.clone(), *policy_type))
                        .or_default()
                        .insert(address.clone());
                }
            }
        }
        for change in &self.changes {
            match &change.action {
                Action::CreateOu { .. } | Action::CreateAccount { .. } => {
                    targets.insert(change.address.clone());
                    // AWS attaches the full-access policy of every enabled type to every new OU
                    // and account.
                    for (policy_type, address) in &full_access {
                        attached
                            .entry((change.address.clone(), *policy_type))
                            .or_default()
                            .insert(address.clone());
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
            .matching
            .address(self.live.organization.management_account_id.as_str())
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
        // Every address a change is at or refers to, as the action's own mapping visits them.
        let mut referred: BTreeSet<Address> = BTreeSet::new();
        for change in &self.changes {
            referred.insert(change.address.clone());
            let _ = change.action.try_map::<ByAddress, Infallible>(|reference| {
                referred.insert(reference.clone());
                Ok(reference.clone())
            });
        }
        referred
            .into_iter()
            .filter_map(|address| {
                let (id, fingerprint) = match self.touched.get(&address)? {
                    Touched::Root(root) => (&root.id, fingerprint(root)),
                    Touched::Ou(ou) => (&ou.id, fingerprint(ou)),
                    Touched::Account(account) => (&account.id, fingerprint(account)),
                    Touched::Policy(policy) => (&policy.id, fingerprint(policy)),
                };
                let id = id.clone();
                Some((address, TouchedResource { id, fingerprint }))
            })
            .collect()
    }

    /// The closes the plan makes against AWS's quota: the one the backend read, else the rule
    /// AWS documents ([`documented_closure_quota`]), of which orgctl cannot know the closures
    /// already made in the period.
    fn closure_quota(&mut self) {
        let closes = self
            .changes
            .iter()
            .filter(|c| matches!(c.action, Action::CloseAccount { .. }))
            .count();
        if let Some(quota) = self.live.account_closures {
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
            return;
        }
        let management = self.live.organization.management_account_id.as_str();
        let members = self
            .live
            .accounts
            .iter()
            .filter(|a| a.id != management && a.state.is_active())
            .count();
        let most = documented_closure_quota(members);
        if closes > most {
            self.finding(
                Rule::CloseQuota,
                None,
                format!(
                    "the plan closes {closes} accounts, but AWS allows at most {most} closures per rolling 30 days: 10% of the member accounts ({members} active), at least 10 and at most 1000, closures already made in the period included"
                ),
                "close fewer accounts now (set the others back to `lifecycle: active`) and the rest after the period",
            );
        }
    }
}

/// How many member accounts AWS lets an organization close per rolling 30 days when no API says:
/// "10% of member accounts, between 10 and 1000, within a rolling 30 day period" (Organizations
/// API reference, `CloseAccount`, as of 2026-11).
pub(crate) fn documented_closure_quota(members: usize) -> usize {
    (members / 10).clamp(10, 1000)
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

#[cfg(test)]
mod tests {
    use crate::address::Address;
    use crate::live::{
        AccountState, ClosureQuota, InvitationState, LiveDelegation, LiveInvitation,
    };
    use crate::plan::matching::tests::{Live, desired};
    use crate::plan::{Plan, PlanInput, plan};
    use crate::rules::Rule;

    const PROD: &str = "222222222222";

    /// `acme-prod` as the file declares it: in `Workloads/Prod`, tagged, `lifecycle` as given.
    fn file(lifecycle: &str) -> String {
        format!(
            r#"
organizational_units:
  Workloads:
    children:
      Prod: {{}}
accounts:
  acme-prod:
    id: "{PROD}"
    ou: Workloads/Prod
    tags: {{ CostCenter: "1234" }}
    lifecycle: {lifecycle}
"#
        )
    }

    /// The organization with `acme-prod` under another name, at the root, untagged, in `state`.
    fn live(state: AccountState) -> Live {
        Live::new()
            .ou("ou-work", "Workloads", "r-root")
            .ou("ou-prod", "Prod", "ou-work")
            .account(PROD, "prod-old-name", "aws+acme-prod@acme.example")
            .state(PROD, state)
    }

    fn plan_of(lifecycle: &str, live: Live) -> Plan {
        plan(&desired(&file(lifecycle)), &live.0, &PlanInput::default())
    }

    /// The names of the changes to `acme-prod`, in order.
    fn changes_to_prod(plan: &Plan) -> Vec<&'static str> {
        let address = Address::account("acme-prod");
        plan.changes
            .iter()
            .filter(|change| change.address == address)
            .map(|change| change.action.name())
            .collect()
    }

    /// The messages of the findings of `rule`.
    fn findings(plan: &Plan, rule: Rule) -> Vec<&str> {
        plan.findings
            .iter()
            .filter(|finding| finding.rule == rule)
            .map(|finding| finding.message.as_str())
            .collect()
    }

    /// The changes to trusted access, as `(action, principal)`, in plan order.
    fn trusted_access_changes(trusted_access: &str, live: &[&str]) -> Vec<(&'static str, String)> {
        let mut state = Live::new();
        state.0.trusted_access = live.iter().map(|p| (*p).to_owned()).collect();
        plan(&desired(trusted_access), &state.0, &PlanInput::default())
            .changes
            .iter()
            .filter_map(|change| match &change.address {
                Address::TrustedAccess(principal) => {
                    Some((change.action.name(), principal.clone()))
                }
                _ => None,
            })
            .collect()
    }

    #[test]
    fn trusted_access_the_file_lists_is_enabled_and_the_rest_disabled() {
        assert_eq!(
            trusted_access_changes(
                "  trusted_access: [guardduty.amazonaws.com, sso.amazonaws.com]",
                &["config.amazonaws.com", "sso.amazonaws.com"],
            ),
            [
                (
                    "enable_trusted_access",
                    "guardduty.amazonaws.com".to_owned()
                ),
                ("disable_trusted_access", "config.amazonaws.com".to_owned()),
            ]
        );
    }

    #[test]
    fn an_empty_list_disables_every_trusted_access() {
        assert_eq!(
            trusted_access_changes("  trusted_access: []", &["sso.amazonaws.com"]),
            [("disable_trusted_access", "sso.amazonaws.com".to_owned())]
        );
    }

    #[test]
    fn without_the_key_trusted_access_is_left_alone() {
        assert_eq!(
            trusted_access_changes("", &["sso.amazonaws.com"]),
            Vec::<(&str, String)>::new()
        );
    }

    #[test]
    fn trusted_access_as_live_has_it_plans_nothing() {
        assert_eq!(
            trusted_access_changes(
                "  trusted_access: [sso.amazonaws.com]",
                &["sso.amazonaws.com"]
            ),
            Vec::<(&str, String)>::new()
        );
    }

    /// A file with the accounts `acme-security` (live as 222222222222) and `acme-new` (not live
    /// yet), and `organization` keys appended.
    fn delegation_plan(organization: &str, live: Live) -> Plan {
        let text = format!(
            "{organization}\naccounts:\n  acme-security: {{ id: \"222222222222\" }}\n  acme-new: {{}}\n"
        );
        plan(&desired(&text), &live.0, &PlanInput::default())
    }

    fn security_live() -> Live {
        Live::new().account(
            "222222222222",
            "acme-security",
            "aws+acme-security@acme.example",
        )
    }

    fn delegated(live: Live, service: &str, account_id: &str) -> Live {
        let mut live = live;
        live.0.delegated_administrators.push(LiveDelegation {
            service: service.to_owned(),
            account_id: account_id.to_owned(),
        });
        live
    }

    /// `(action, address, depends on)` of every change to trusted access or delegations.
    fn delegation_changes(plan: &Plan) -> Vec<(&'static str, String, Vec<String>)> {
        plan.changes
            .iter()
            .filter(|change| {
                matches!(
                    change.address,
                    Address::DelegatedAdministrator { .. } | Address::TrustedAccess(_)
                ) || matches!(change.action, crate::plan::Action::CloseAccount { .. })
            })
            .map(|change| {
                (
                    change.action.name(),
                    change.address.to_string(),
                    change.depends_on.iter().map(ToString::to_string).collect(),
                )
            })
            .collect()
    }

    #[test]
    fn delegations_follow_trusted_access_and_the_accounts_they_name() {
        let plan = delegation_plan(
            "  trusted_access: [guardduty.amazonaws.com]\n  delegated_administrators:\n    guardduty.amazonaws.com: [acme-security, acme-new]",
            security_live(),
        );
        assert_eq!(
            delegation_changes(&plan),
            [
                (
                    "enable_trusted_access",
                    "trusted_access:guardduty.amazonaws.com".to_owned(),
                    vec![]
                ),
                (
                    "register_delegated_administrator",
                    "delegated_administrator:acme-new/guardduty.amazonaws.com".to_owned(),
                    vec![
                        "trusted_access:guardduty.amazonaws.com".to_owned(),
                        "account:acme-new".to_owned()
                    ]
                ),
                (
                    "register_delegated_administrator",
                    "delegated_administrator:acme-security/guardduty.amazonaws.com".to_owned(),
                    vec!["trusted_access:guardduty.amazonaws.com".to_owned()]
                ),
            ]
        );
    }

    #[test]
    fn a_delegation_as_live_has_it_plans_nothing_and_others_are_deregistered_first() {
        let live = delegated(
            delegated(security_live(), "guardduty.amazonaws.com", "222222222222"),
            "config.amazonaws.com",
            "222222222222",
        );
        let mut live = live;
        live.0.trusted_access = vec![
            "config.amazonaws.com".to_owned(),
            "guardduty.amazonaws.com".to_owned(),
        ];
        let plan = delegation_plan(
            "  trusted_access: [guardduty.amazonaws.com]\n  delegated_administrators:\n    guardduty.amazonaws.com: [acme-security]",
            live,
        );
        assert_eq!(
            delegation_changes(&plan),
            [
                (
                    "deregister_delegated_administrator",
                    "delegated_administrator:acme-security/config.amazonaws.com".to_owned(),
                    vec![]
                ),
                (
                    "disable_trusted_access",
                    "trusted_access:config.amazonaws.com".to_owned(),
                    vec!["delegated_administrator:acme-security/config.amazonaws.com".to_owned()]
                ),
            ]
        );
    }

    #[test]
    fn an_undeclared_administrator_goes_by_its_id_and_before_a_closure() {
        let live = delegated(
            security_live().account("333333333333", "old", "aws+old@acme.example"),
            "sso.amazonaws.com",
            "333333333333",
        );
        let planned = delegation_plan("  delegated_administrators: {}", live);
        assert_eq!(
            delegation_changes(&planned),
            [(
                "deregister_delegated_administrator",
                "delegated_administrator:account_id:333333333333/sso.amazonaws.com".to_owned(),
                vec![]
            )]
        );
        // Closing a delegated administrator deregisters it first.
        let live = delegated(security_live(), "sso.amazonaws.com", "222222222222");
        let text = "  delegated_administrators: {}\naccounts:\n  acme-security: { id: \"222222222222\", lifecycle: close }\n";
        let plan = plan(&desired(text), &live.0, &PlanInput::default());
        assert_eq!(
            delegation_changes(&plan),
            [
                (
                    "deregister_delegated_administrator",
                    "delegated_administrator:acme-security/sso.amazonaws.com".to_owned(),
                    vec![]
                ),
                (
                    "close_account",
                    "account:acme-security".to_owned(),
                    vec!["delegated_administrator:acme-security/sso.amazonaws.com".to_owned()]
                ),
            ]
        );
    }

    #[test]
    fn without_the_key_delegations_are_left_alone() {
        let live = delegated(security_live(), "sso.amazonaws.com", "222222222222");
        let plan = delegation_plan("", live);
        assert_eq!(delegation_changes(&plan), []);
    }

    #[test]
    fn unmanaged_trusted_access_is_checked_against_the_live_organization() {
        let organization =
            "  delegated_administrators:\n    guardduty.amazonaws.com: [acme-security]";
        let plan = delegation_plan(organization, security_live());
        assert_eq!(delegation_changes(&plan), []);
        assert_eq!(
            findings(&plan, Rule::DelegatedAdministratorTrustedAccess),
            [
                "guardduty.amazonaws.com has no trusted access, which AWS requires before account:acme-security can administer it"
            ]
        );
        let mut live = security_live();
        live.0.trusted_access = vec!["guardduty.amazonaws.com".to_owned()];
        let plan = delegation_plan(organization, live);
        assert_eq!(
            delegation_changes(&plan)
                .iter()
                .map(|(name, _, _)| *name)
                .collect::<Vec<_>>(),
            ["register_delegated_administrator"]
        );
    }

    #[test]
    fn a_suspended_account_cannot_administer() {
        let mut live = security_live().state("222222222222", AccountState::Suspended);
        live.0.trusted_access = vec!["guardduty.amazonaws.com".to_owned()];
        let plan = delegation_plan(
            "  delegated_administrators:\n    guardduty.amazonaws.com: [acme-security]",
            live,
        );
        assert_eq!(delegation_changes(&plan), []);
        assert_eq!(
            findings(&plan, Rule::DelegatedAdministratorInactive),
            [
                "account:acme-security cannot administer guardduty.amazonaws.com: it is SUSPENDED in AWS"
            ]
        );
    }

    #[test]
    fn removing_an_unmanaged_administrator_is_a_finding() {
        let live = delegated(security_live(), "sso.amazonaws.com", "222222222222");
        let text = "accounts:\n  acme-security: { id: \"222222222222\", lifecycle: remove }\n";
        let plan = plan(&desired(text), &live.0, &PlanInput::default());
        assert_eq!(
            findings(&plan, Rule::DelegatedAdministratorInactive),
            [
                "account:acme-security leaves the organization but administers sso.amazonaws.com, and AWS refuses to remove a delegated administrator"
            ]
        );
    }

    /// A plan of the account `acme-joiner` (222222222222) declared with `join: invite` and
    /// `lifecycle`, with the given invitations live.
    fn invitation_plan(lifecycle: &str, invitations: &[(&str, InvitationState)]) -> Plan {
        let text = format!(
            "accounts:\n  acme-joiner: {{ id: \"222222222222\", join: invite, lifecycle: {lifecycle}, tags: {{ team: data }} }}\n"
        );
        let mut live = Live::new();
        live.0.invitations = invitations
            .iter()
            .enumerate()
            .map(|(n, (id, state))| LiveInvitation {
                id: (*id).to_owned(),
                account_id: "222222222222".to_owned(),
                state: *state,
                expires: Some(format!("2026-11-{:02}T00:00:00Z", 10 + n)),
                notes: None,
            })
            .collect();
        plan(&desired(&text), &live.0, &PlanInput::default())
    }

    #[test]
    fn invitations_are_read_only_while_the_file_invites_an_outsider() {
        let invite = "accounts:\n  acme-joiner: { id: \"222222222222\", join: invite }\n";
        let outside = Live::new();
        let member = Live::new().account("222222222222", "joiner", "aws+acme-joiner@acme.example");
        assert!(crate::plan::read_scope(&desired(invite), &outside.0).invitations);
        assert!(!crate::plan::read_scope(&desired(invite), &member.0).invitations);
        assert!(!crate::plan::read_scope(&desired(""), &outside.0).invitations);
    }

    #[test]
    fn an_account_to_invite_is_invited_with_its_tags() {
        let plan = invitation_plan("active", &[]);
        let [change] = plan.changes.as_slice() else {
            panic!("one change: {:?}", plan.changes);
        };
        assert_eq!(change.address, Address::account("acme-joiner"));
        assert_eq!(
            change.action,
            crate::plan::Action::InviteAccount {
                account_id: "222222222222".to_owned(),
                notes: "orgctl: invitation to join the organization acme as acme-joiner".to_owned(),
                tags: std::collections::BTreeMap::from([("team".to_owned(), "data".to_owned())]),
            }
        );
        assert!(findings(&plan, Rule::PinnedMissing).is_empty());
    }

    #[test]
    fn an_open_invitation_waits_and_an_ended_one_is_sent_again() {
        let plan = invitation_plan("active", &[("h-1", InvitationState::Open)]);
        assert!(plan.changes.is_empty(), "{:?}", plan.changes);
        assert_eq!(
            findings(&plan, Rule::InvitationOpen),
            [
                "account:acme-joiner (222222222222) is invited, waiting for the account to accept (invitation h-1, open until 2026-11-10T00:00:00Z)"
            ]
        );
        for ended in [
            InvitationState::Declined,
            InvitationState::Expired,
            InvitationState::Canceled,
        ] {
            let plan = invitation_plan("active", &[("h-1", ended)]);
            assert_eq!(
                plan.changes
                    .iter()
                    .map(|change| (change.action.name(), change.reason.as_str()))
                    .collect::<Vec<_>>(),
                [(
                    "invite_account",
                    format!(
                        "declared with `join: invite`, not in the organization; the last invitation (h-1) was {}",
                        ended.aws_name()
                    )
                    .as_str()
                )]
            );
        }
    }

    #[test]
    fn an_invited_account_the_file_lets_go_has_its_invitation_canceled() {
        let plan = invitation_plan(
            "remove",
            &[
                ("h-0", InvitationState::Declined),
                ("h-1", InvitationState::Open),
            ],
        );
        assert_eq!(
            plan.changes
                .iter()
                .map(|change| &change.action)
                .collect::<Vec<_>>(),
            [&crate::plan::Action::CancelInvitation {
                id: "h-1".to_owned(),
                account_id: "222222222222".to_owned(),
            }]
        );
        assert!(invitation_plan("remove", &[]).changes.is_empty());
    }

    #[test]
    fn an_invited_account_that_joined_is_placed_like_any_member() {
        let text = "organizational_units:\n  Data: { id: ou-root-data0000 }\naccounts:\n  acme-joiner: { id: \"222222222222\", join: invite, ou: Data }\n";
        let live = Live::new()
            .ou("ou-root-data0000", "Data", "r-root")
            .account("222222222222", "joiner", "aws+acme-joiner@acme.example");
        let plan = plan(&desired(text), &live.0, &PlanInput::default());
        assert!(
            plan.changes
                .iter()
                .all(|change| change.action.name() != "invite_account"),
            "{:?}",
            plan.changes
        );
        assert!(
            plan.changes
                .iter()
                .any(|change| change.action.name() == "move_account"),
            "{:?}",
            plan.changes
        );
    }

    #[test]
    fn only_an_active_account_is_removed() {
        let text = "accounts:\n  acme-old: { id: \"222222222222\", lifecycle: remove }\n";
        for state in [
            AccountState::PendingActivation,
            AccountState::Suspended,
            AccountState::PendingClosure,
            AccountState::Closed,
        ] {
            let live = Live::new()
                .account("222222222222", "acme-old", "aws+acme-old@acme.example")
                .state("222222222222", state);
            let plan = plan(&desired(text), &live.0, &PlanInput::default());
            assert!(plan.changes.is_empty(), "{state:?}: {:?}", plan.changes);
            assert_eq!(
                findings(&plan, Rule::AccountNotActive),
                [format!(
                    "account:acme-old (222222222222) is {} in AWS and cannot leave the organization: orgctl does not remove it",
                    state.aws_name()
                )],
            );
        }
        let live = Live::new().account("222222222222", "acme-old", "aws+acme-old@acme.example");
        let plan = plan(&desired(text), &live.0, &PlanInput::default());
        assert_eq!(
            plan.changes
                .iter()
                .map(|change| change.action.name())
                .collect::<Vec<_>>(),
            ["remove_account"]
        );
    }

    #[test]
    fn an_active_account_is_renamed_moved_and_tagged() {
        let plan = plan_of("active", live(AccountState::Active));
        assert_eq!(
            changes_to_prod(&plan),
            ["rename_account", "move_account", "update_tags"]
        );
        assert!(findings(&plan, Rule::AccountNotActive).is_empty());
    }

    #[test]
    fn a_closing_account_declared_active_is_a_finding_and_nothing_else() {
        let plan = plan_of("active", live(AccountState::PendingClosure));
        assert_eq!(changes_to_prod(&plan), Vec::<&str>::new());
        let messages = findings(&plan, Rule::AccountNotActive);
        assert_eq!(messages.len(), 1, "{:?}", plan.findings);
        assert!(
            messages[0].contains("is PENDING_CLOSURE in AWS: it is closing"),
            "{}",
            messages[0]
        );
    }

    #[test]
    fn a_closed_account_declared_active_is_a_finding_and_never_created_again() {
        let plan = plan_of("active", live(AccountState::Closed));
        assert_eq!(changes_to_prod(&plan), Vec::<&str>::new());
        let messages = findings(&plan, Rule::AccountNotActive);
        assert_eq!(messages.len(), 1, "{:?}", plan.findings);
        assert!(
            messages[0].contains("is CLOSED in AWS: it is closed"),
            "{}",
            messages[0]
        );
    }

    #[test]
    fn a_suspended_account_declared_active_is_a_finding_and_nothing_else() {
        let plan = plan_of("active", live(AccountState::Suspended));
        assert_eq!(changes_to_prod(&plan), Vec::<&str>::new());
        let messages = findings(&plan, Rule::AccountNotActive);
        assert!(
            messages[0].contains("is SUSPENDED in AWS"),
            "{}",
            messages[0]
        );
    }

    #[test]
    fn an_account_pending_activation_is_a_warning_and_not_moved_renamed_or_tagged() {
        let plan = plan_of("active", live(AccountState::PendingActivation));
        assert_eq!(changes_to_prod(&plan), Vec::<&str>::new());
        let messages = findings(&plan, Rule::AccountPendingActivation);
        assert_eq!(messages.len(), 1, "{:?}", plan.findings);
        assert!(
            messages[0].contains("is PENDING_ACTIVATION in AWS"),
            "{}",
            messages[0]
        );
        assert!(findings(&plan, Rule::AccountNotActive).is_empty());
    }

    #[test]
    fn closing_an_active_account_moves_it_where_the_file_says_then_closes_it() {
        let plan = plan_of("close", live(AccountState::Active));
        assert_eq!(changes_to_prod(&plan), ["move_account", "close_account"]);
    }

    #[test]
    fn closing_an_account_pending_activation_closes_it_without_moving_it() {
        let plan = plan_of("close", live(AccountState::PendingActivation));
        assert_eq!(changes_to_prod(&plan), ["close_account"]);
    }

    #[test]
    fn closing_an_account_closing_closed_or_suspended_plans_nothing() {
        for state in [
            AccountState::PendingClosure,
            AccountState::Closed,
            AccountState::Suspended,
        ] {
            let plan = plan_of("close", live(state));
            assert_eq!(changes_to_prod(&plan), Vec::<&str>::new(), "{state:?}");
            assert!(
                findings(&plan, Rule::AccountNotActive).is_empty(),
                "{state:?}"
            );
        }
    }

    /// `count` declared accounts to close, and that many live active ones, plus `others` live
    /// active members the file does not declare.
    fn closes(count: usize, others: usize) -> (String, Live) {
        let mut yaml = String::from("accounts:\n");
        let mut live = Live::new();
        for index in 0..count {
            let id = format!("{:012}", 300_000_000_000u64 + index as u64);
            yaml.push_str(&format!(
                "  old-{index}: {{ id: \"{id}\", lifecycle: close }}\n"
            ));
            live = live.account(
                &id,
                &format!("old-{index}"),
                &format!("aws+old-{index}@acme.example"),
            );
        }
        for index in 0..others {
            let id = format!("{:012}", 400_000_000_000u64 + index as u64);
            live = live.account(
                &id,
                &format!("other-{index}"),
                &format!("aws+other-{index}@acme.example"),
            );
        }
        (yaml, live)
    }

    #[test]
    fn without_a_quota_read_the_documented_rule_allows_ten_closes_in_a_small_organization() {
        let (yaml, live) = closes(10, 0);
        let plan = crate::plan::plan(&desired(&yaml), &live.0, &PlanInput::default());
        assert!(findings(&plan, Rule::CloseQuota).is_empty());
        let (yaml, live) = closes(11, 0);
        let plan = crate::plan::plan(&desired(&yaml), &live.0, &PlanInput::default());
        assert_eq!(
            findings(&plan, Rule::CloseQuota),
            [
                "the plan closes 11 accounts, but AWS allows at most 10 closures per rolling 30 days: 10% of the member accounts (11 active), at least 10 and at most 1000, closures already made in the period included"
            ]
        );
    }

    #[test]
    fn without_a_quota_read_the_documented_rule_is_a_tenth_of_the_active_members() {
        // 20 to close among 200 active members: a tenth is 20.
        let (yaml, live) = closes(20, 180);
        let plan = crate::plan::plan(&desired(&yaml), &live.0, &PlanInput::default());
        assert!(findings(&plan, Rule::CloseQuota).is_empty());
        let (yaml, live) = closes(21, 180);
        let plan = crate::plan::plan(&desired(&yaml), &live.0, &PlanInput::default());
        assert_eq!(findings(&plan, Rule::CloseQuota).len(), 1);
    }

    #[test]
    fn a_quota_read_from_the_backend_wins_over_the_documented_rule() {
        let (yaml, mut live) = closes(3, 0);
        live.0.account_closures = Some(ClosureQuota {
            per_30_days: 10,
            used: 8,
        });
        let plan = crate::plan::plan(&desired(&yaml), &live.0, &PlanInput::default());
        assert_eq!(
            findings(&plan, Rule::CloseQuota),
            [
                "the plan closes 3 accounts, but only 2 more closures are allowed in this 30-day period (8 of 10 used)"
            ]
        );
    }

    /// `acme-new` (not live yet), under an SCP attached to it and delegated GuardDuty, planned
    /// over `live`.
    fn new_account_plan(live: Live) -> Plan {
        let text = r#"
  trusted_access: [guardduty.amazonaws.com]
  delegated_administrators:
    guardduty.amazonaws.com: [acme-new]
accounts:
  acme-new: {}
policies:
  deny-leave:
    type: service_control
    document: { Version: "2012-10-17", Statement: [{ Effect: Deny, Action: "organizations:LeaveOrganization", Resource: "*" }] }
    attach: [root, acme-new]
"#;
        plan(&desired(text), &live.0, &PlanInput::default())
    }

    /// Every change that names `acme-new`, as `action address`.
    fn changes_naming_new(plan: &Plan) -> Vec<String> {
        plan.changes
            .iter()
            .map(|change| format!("{} {}", change.action.name(), change.address))
            .filter(|change| change.contains("acme-new"))
            .collect()
    }

    #[test]
    fn a_missing_account_is_created_attached_and_delegated() {
        let plan = new_account_plan(Live::new());
        assert_eq!(
            changes_naming_new(&plan),
            [
                "create_account account:acme-new",
                "attach_policy attachment:service_control/deny-leave->account:acme-new",
                "register_delegated_administrator delegated_administrator:acme-new/guardduty.amazonaws.com",
            ]
        );
        assert!(findings(&plan, Rule::AccountBeingCreated).is_empty());
    }

    #[test]
    fn an_account_being_created_is_a_warning_and_never_created_again() {
        let plan = new_account_plan(Live::new().creating("car-1234", "acme-new"));
        assert_eq!(changes_naming_new(&plan), Vec::<String>::new());
        assert_eq!(
            findings(&plan, Rule::AccountBeingCreated),
            [
                "account `acme-new` is being created in AWS (request car-1234): orgctl does not create it again, and attaches or delegates nothing to it until it exists"
            ]
        );
        assert!(!plan.has_errors(), "{:?}", plan.findings);
        // The rest of the plan goes on: the policy is still created and attached to the root.
        let policy = Address::policy(crate::config::PolicyType::ServiceControl, "deny-leave");
        let to_root = Address::attachment(&policy, &Address::Root);
        assert!(
            plan.changes.iter().any(|change| change.address == to_root),
            "{:?}",
            plan.changes
        );
    }

    #[test]
    fn a_creation_of_another_name_does_not_hold_an_account_back() {
        let plan = new_account_plan(Live::new().creating("car-1234", "acme-other"));
        assert_eq!(
            changes_naming_new(&plan).first().map(String::as_str),
            Some("create_account account:acme-new")
        );
        assert!(findings(&plan, Rule::AccountBeingCreated).is_empty());
    }

    #[test]
    fn an_account_that_exists_is_matched_even_while_a_creation_of_its_name_runs() {
        let live = Live::new()
            .account("222222222222", "acme-new", "aws+acme-new@acme.example")
            .creating("car-1234", "acme-new");
        let plan = new_account_plan(live);
        assert!(
            !changes_naming_new(&plan)
                .iter()
                .any(|change| change.starts_with("create_account")),
            "{:?}",
            plan.changes
        );
        assert!(findings(&plan, Rule::AccountBeingCreated).is_empty());
    }

    #[test]
    fn the_documented_quota_is_a_tenth_between_10_and_1000() {
        assert_eq!(super::documented_closure_quota(0), 10);
        assert_eq!(super::documented_closure_quota(150), 15);
        assert_eq!(super::documented_closure_quota(20_000), 1000);
    }
}
