//! Actions: the one type for what a change does, in a plan and in a write.
//!
//! A plan names the resources an action refers to by address ([`ByAddress`]); the writer gets
//! the same action with those resources named by id ([`ById`]), made by [`Action::try_map`].
//! Everything that depends only on the kind of action sits here beside its variant: its
//! [`Kind`], its JSON [`name`](Action::name), its ordering [`phase`](Action::phase) and its
//! [`verbs`](Action::verbs). Adding an action means its variant and those arms, one arm in each
//! writer, the planner that makes it and the details the text plan shows.

use std::collections::BTreeMap;
use std::fmt::Debug;

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::config::{ContactType, PolicyType, Preset};
use crate::model::Contact;

/// How an action refers to other resources.
pub trait Naming {
    /// A reference to a resource: an address in a plan, an id in a write.
    type Ref: Debug + Clone + PartialEq + Eq + Serialize + DeserializeOwned + JsonSchema;
}

/// Resources named by address (`root`, `ou:Workloads/Prod`, `account:acme-prod`): in plans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByAddress;

impl Naming for ByAddress {
    type Ref = crate::address::Address;
}

/// Resources named by id (`r-…`, `ou-…`, the account id, `p-…`): in writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ById;

impl Naming for ById {
    type Ref = String;
}

/// What a change does. Parents and targets are references (`N::Ref`); ids are given for
/// resources that exist.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "action", rename_all = "snake_case", bound = "")]
#[schemars(bound = "")]
pub enum Action<N: Naming> {
    /// Enable a policy type on the root.
    EnablePolicyType {
        /// The type.
        policy_type: PolicyType,
    },
    /// Enable trusted access for an AWS service.
    EnableTrustedAccess {
        /// The service principal (`guardduty.amazonaws.com`).
        principal: String,
    },
    /// Disable trusted access for an AWS service.
    DisableTrustedAccess {
        /// The service principal.
        principal: String,
    },
    /// Register a member account as delegated administrator of an AWS service.
    RegisterDelegatedAdministrator {
        /// The account's address.
        account: N::Ref,
        /// The service principal.
        service: String,
    },
    /// Deregister a delegated administrator of an AWS service.
    DeregisterDelegatedAdministrator {
        /// The account id.
        account_id: String,
        /// The service principal.
        service: String,
    },
    /// Invite an existing account to join the organization.
    InviteAccount {
        /// The account id.
        account_id: String,
        /// The note the invitation carries (it begins with orgctl's mark).
        notes: String,
        /// Tags the account gets when it joins.
        tags: BTreeMap<String, String>,
    },
    /// Cancel an open invitation.
    CancelInvitation {
        /// The handshake id.
        id: String,
        /// The invited account's id.
        account_id: String,
    },
    /// Create an OU.
    CreateOu {
        /// The parent's address.
        parent: N::Ref,
        /// The new OU's name.
        name: String,
        /// Tags set at creation.
        tags: BTreeMap<String, String>,
    },
    /// Rename an OU (its `id` is pinned in the file).
    RenameOu {
        /// The OU id.
        id: String,
        /// The live name.
        from: String,
        /// The new name.
        to: String,
    },
    /// Delete an empty OU.
    DeleteOu {
        /// The OU id.
        id: String,
    },
    /// Create an account, straight into its OU, tagged.
    CreateAccount {
        /// The account name.
        name: String,
        /// The root email.
        email: String,
        /// The parent's address.
        parent: N::Ref,
        /// Tags set at creation.
        tags: BTreeMap<String, String>,
    },
    /// Move an account to another parent.
    MoveAccount {
        /// The account id.
        id: String,
        /// The live parent's address.
        from: N::Ref,
        /// The new parent's address.
        to: N::Ref,
    },
    /// Rename an account (Account Management `PutAccountName`).
    RenameAccount {
        /// The account id.
        id: String,
        /// The live name.
        from: String,
        /// The new name.
        to: String,
    },
    /// Change a root email: AWS offers no API to the management account for this, so it is a
    /// manual step for the account's owner.
    ChangeEmail {
        /// The account id.
        id: String,
        /// The live email.
        from: String,
        /// The desired email.
        to: String,
    },
    /// Close an account (`lifecycle: close`; apply needs `--allow-close`).
    CloseAccount {
        /// The account id.
        id: String,
        /// The account's live name: what is closed, whatever the file calls it.
        name: String,
    },
    /// Remove an account from the organization (`lifecycle: remove`; apply needs `--allow-remove`).
    RemoveAccount {
        /// The account id.
        id: String,
        /// The account's live name: what leaves, whatever the file calls it.
        name: String,
        /// The address of the OU (or root) it leaves.
        parent: N::Ref,
    },
    /// Create a policy.
    CreatePolicy {
        /// The policy name.
        name: String,
        /// Its type.
        policy_type: PolicyType,
        /// Its description.
        description: String,
        /// The document, minified.
        document: String,
        /// Tags set at creation.
        tags: BTreeMap<String, String>,
    },
    /// Update a policy's document or description.
    UpdatePolicy {
        /// The policy id.
        id: String,
        /// The new description, when it changes.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        description: Option<Update>,
        /// The new document, when it changes.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        document: Option<Update>,
    },
    /// Delete a policy (`lifecycle: delete`), after detaching it everywhere.
    DeletePolicy {
        /// The policy id.
        id: String,
    },
    /// Attach a policy to a target.
    AttachPolicy {
        /// The policy's address.
        policy: N::Ref,
        /// The target's address.
        target: N::Ref,
    },
    /// Detach a policy from a target.
    DetachPolicy {
        /// The policy's address.
        policy: N::Ref,
        /// The target's address.
        target: N::Ref,
    },
    /// Create or correct a partner's IAM role in a member account.
    PutRole {
        /// The account's address.
        account: N::Ref,
        /// The role orgctl assumes in the account.
        access_role: String,
        /// The role name.
        name: String,
        /// The partner it is for.
        partner: String,
        /// The trust policy (the partner's account, and its external id).
        trust_policy: String,
        /// The managed policy ARNs it gets, sorted.
        managed_policies: Vec<String>,
        /// The role as it is, when it exists.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        before: Option<RoleBefore>,
    },
    /// Revoke a partner's access: delete the role orgctl created for it.
    DeleteRole {
        /// The account's address.
        account: N::Ref,
        /// The account id.
        account_id: String,
        /// The role orgctl assumes in the account.
        access_role: String,
        /// The role name.
        name: String,
        /// The partner it was for, as its tag says.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        partner: Option<String>,
    },
    /// Create or correct the end customer's IAM user in a member account. No password is in the
    /// plan: apply writes a new console password to `--password-file` only.
    PutUser {
        /// The account's address.
        account: N::Ref,
        /// The role orgctl assumes in the account.
        access_role: String,
        /// The user name.
        name: String,
        /// The managed policy ARNs it gets, sorted.
        managed_policies: Vec<String>,
        /// orgctl's presets it gets as inline policies, each under its name (`require-mfa`).
        inline_policies: Vec<Preset>,
        /// Whether it gets a console password.
        console: bool,
        /// A hand-over: created with a new account and never touched again.
        handover: bool,
        /// The user as it is, when it exists.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        before: Option<UserBefore>,
    },
    /// Set an alternate contact of an account (the management account, or a member through
    /// trusted access for AWS Account Management).
    PutAlternateContact {
        /// The account's address.
        account: N::Ref,
        /// The contact's type.
        contact_type: ContactType,
        /// The contact.
        contact: Contact,
        /// The live contact, when the account has one of this type.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        before: Option<Contact>,
    },
    /// Remove an alternate contact of an account (`none` in the file).
    DeleteAlternateContact {
        /// The account's address.
        account: N::Ref,
        /// The contact's type.
        contact_type: ContactType,
        /// The live contact.
        before: Contact,
    },
    /// Set and remove tags on an existing resource, or on one an earlier change creates.
    UpdateTags {
        /// The resource id; absent for a resource an earlier change of the plan creates (apply
        /// then takes the id that change returned for this change's address).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        /// Tags to add or change.
        set: BTreeMap<String, String>,
        /// Tag keys to remove.
        unset: Vec<String>,
        /// The live tags.
        before: BTreeMap<String, String>,
    },
}

/// A role as it is, before a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RoleBefore {
    /// Its trust policy.
    pub trust_policy: String,
    /// Its managed policies.
    pub managed_policies: Vec<String>,
}

/// A user as it is, before a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct UserBefore {
    /// Its managed policies.
    pub managed_policies: Vec<String>,
    /// Whether it has a console password.
    pub console: bool,
}

/// A value before and after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Update {
    /// Live.
    pub from: String,
    /// Desired.
    pub to: String,
}

/// The kinds of change, for the summary and the symbols of the text plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// `+`
    Create,
    /// `~`
    Update,
    /// `->`
    Move,
    /// `+` on an attachment.
    Attach,
    /// `-` on an attachment.
    Detach,
    /// `-` on an account that closes.
    Close,
    /// `-` on an account that leaves.
    Remove,
    /// `-`
    Delete,
    /// `!`: a step for a person.
    Manual,
}

impl<N: Naming> Action<N> {
    /// The kind of change.
    pub const fn kind(&self) -> Kind {
        match self {
            Action::EnablePolicyType { .. }
            | Action::EnableTrustedAccess { .. }
            | Action::RegisterDelegatedAdministrator { .. }
            | Action::InviteAccount { .. }
            | Action::CreateOu { .. }
            | Action::CreateAccount { .. }
            | Action::CreatePolicy { .. }
            | Action::PutRole { before: None, .. }
            | Action::PutUser { before: None, .. }
            | Action::PutAlternateContact { before: None, .. } => Kind::Create,
            Action::PutRole {
                before: Some(_), ..
            }
            | Action::PutUser {
                before: Some(_), ..
            }
            | Action::PutAlternateContact {
                before: Some(_), ..
            } => Kind::Update,
            Action::DeleteRole { .. } | Action::DeleteAlternateContact { .. } => Kind::Delete,
            Action::RenameOu { .. }
            | Action::RenameAccount { .. }
            | Action::UpdatePolicy { .. }
            | Action::UpdateTags { .. } => Kind::Update,
            Action::MoveAccount { .. } => Kind::Move,
            Action::AttachPolicy { .. } => Kind::Attach,
            Action::DetachPolicy { .. } => Kind::Detach,
            Action::CloseAccount { .. } => Kind::Close,
            Action::RemoveAccount { .. } => Kind::Remove,
            Action::DeleteOu { .. }
            | Action::DeletePolicy { .. }
            | Action::DisableTrustedAccess { .. }
            | Action::DeregisterDelegatedAdministrator { .. }
            | Action::CancelInvitation { .. } => Kind::Delete,
            Action::ChangeEmail { .. } => Kind::Manual,
        }
    }

    /// The action's name as in JSON (`create_ou`).
    pub const fn name(&self) -> &'static str {
        match self {
            Action::EnablePolicyType { .. } => "enable_policy_type",
            Action::EnableTrustedAccess { .. } => "enable_trusted_access",
            Action::DisableTrustedAccess { .. } => "disable_trusted_access",
            Action::RegisterDelegatedAdministrator { .. } => "register_delegated_administrator",
            Action::InviteAccount { .. } => "invite_account",
            Action::CancelInvitation { .. } => "cancel_invitation",
            Action::DeregisterDelegatedAdministrator { .. } => "deregister_delegated_administrator",
            Action::CreateOu { .. } => "create_ou",
            Action::RenameOu { .. } => "rename_ou",
            Action::DeleteOu { .. } => "delete_ou",
            Action::CreateAccount { .. } => "create_account",
            Action::MoveAccount { .. } => "move_account",
            Action::RenameAccount { .. } => "rename_account",
            Action::ChangeEmail { .. } => "change_email",
            Action::CloseAccount { .. } => "close_account",
            Action::RemoveAccount { .. } => "remove_account",
            Action::CreatePolicy { .. } => "create_policy",
            Action::UpdatePolicy { .. } => "update_policy",
            Action::DeletePolicy { .. } => "delete_policy",
            Action::AttachPolicy { .. } => "attach_policy",
            Action::DetachPolicy { .. } => "detach_policy",
            Action::UpdateTags { .. } => "update_tags",
            Action::PutRole { .. } => "put_role",
            Action::DeleteRole { .. } => "delete_role",
            Action::PutUser { .. } => "put_user",
            Action::PutAlternateContact { .. } => "put_alternate_contact",
            Action::DeleteAlternateContact { .. } => "delete_alternate_contact",
        }
    }

    /// The order of kinds of action when nothing else decides: policy types and trusted access,
    /// OUs, policies, accounts, moves and renames, tags, attachments, IAM, delegations and
    /// contacts set, detaches, revocations, deregistrations and contacts removed, closures,
    /// policy deletions, OU deletions, trusted access disabled, manual steps.
    pub const fn phase(&self) -> u8 {
        match self {
            Action::EnablePolicyType { .. } | Action::EnableTrustedAccess { .. } => 0,
            Action::CreateOu { .. } | Action::RenameOu { .. } => 1,
            Action::CreatePolicy { .. } | Action::UpdatePolicy { .. } => 2,
            Action::CreateAccount { .. } | Action::InviteAccount { .. } => 3,
            Action::MoveAccount { .. } | Action::RenameAccount { .. } => 4,
            Action::UpdateTags { .. } => 5,
            Action::AttachPolicy { .. }
            | Action::PutRole { .. }
            | Action::PutUser { .. }
            | Action::RegisterDelegatedAdministrator { .. }
            | Action::PutAlternateContact { .. } => 6,
            Action::DetachPolicy { .. }
            | Action::DeleteRole { .. }
            | Action::DeregisterDelegatedAdministrator { .. }
            | Action::CancelInvitation { .. }
            | Action::DeleteAlternateContact { .. } => 7,
            Action::CloseAccount { .. } | Action::RemoveAccount { .. } => 8,
            Action::DeletePolicy { .. } => 9,
            Action::DeleteOu { .. } => 10,
            Action::DisableTrustedAccess { .. } => 11,
            Action::ChangeEmail { .. } => 12,
        }
    }

    /// What the action is doing and has done: `("creating", "created")`.
    pub const fn verbs(&self) -> (&'static str, &'static str) {
        match self {
            Action::EnablePolicyType { .. } | Action::EnableTrustedAccess { .. } => {
                ("enabling", "enabled")
            }
            Action::DisableTrustedAccess { .. } => ("disabling", "disabled"),
            Action::RegisterDelegatedAdministrator { .. } => ("registering", "registered"),
            Action::InviteAccount { .. } => ("inviting", "invited"),
            Action::CancelInvitation { .. } => ("canceling", "canceled"),
            Action::DeregisterDelegatedAdministrator { .. } => ("deregistering", "deregistered"),
            Action::CreateOu { .. }
            | Action::CreateAccount { .. }
            | Action::CreatePolicy { .. } => ("creating", "created"),
            Action::RenameOu { .. } | Action::RenameAccount { .. } => ("renaming", "renamed"),
            Action::DeleteOu { .. } | Action::DeletePolicy { .. } => ("deleting", "deleted"),
            Action::MoveAccount { .. } => ("moving", "moved"),
            Action::CloseAccount { .. } => ("closing", "closed"),
            Action::RemoveAccount { .. } => ("removing", "removed"),
            Action::UpdatePolicy { .. } => ("updating", "updated"),
            Action::AttachPolicy { .. } => ("attaching", "attached"),
            Action::DetachPolicy { .. } => ("detaching", "detached"),
            Action::UpdateTags { .. } => ("tagging", "tagged"),
            Action::PutRole { before: None, .. } | Action::PutUser { before: None, .. } => {
                ("creating", "created")
            }
            Action::PutRole { .. } | Action::PutUser { .. } => ("updating", "updated"),
            Action::DeleteRole { .. } => ("revoking", "revoked"),
            Action::PutAlternateContact { before: None, .. } => ("setting", "set"),
            Action::PutAlternateContact { .. } => ("updating", "updated"),
            Action::DeleteAlternateContact { .. } => ("removing", "removed"),
            Action::ChangeEmail { .. } => ("waiting for a person", "left to a person"),
        }
    }

    /// The same action with every reference turned by `resolve` (addresses into ids, for a
    /// write); the first reference it cannot turn is the error.
    pub fn try_map<M: Naming, E>(
        &self,
        mut resolve: impl FnMut(&N::Ref) -> Result<M::Ref, E>,
    ) -> Result<Action<M>, E> {
        Ok(match self {
            Action::EnablePolicyType { policy_type } => Action::EnablePolicyType {
                policy_type: *policy_type,
            },
            Action::EnableTrustedAccess { principal } => Action::EnableTrustedAccess {
                principal: principal.clone(),
            },
            Action::DisableTrustedAccess { principal } => Action::DisableTrustedAccess {
                principal: principal.clone(),
            },
            Action::RegisterDelegatedAdministrator { account, service } => {
                Action::RegisterDelegatedAdministrator {
                    account: resolve(account)?,
                    service: service.clone(),
                }
            }
            Action::DeregisterDelegatedAdministrator {
                account_id,
                service,
            } => Action::DeregisterDelegatedAdministrator {
                account_id: account_id.clone(),
                service: service.clone(),
            },
            Action::InviteAccount {
                account_id,
                notes,
                tags,
            } => Action::InviteAccount {
                account_id: account_id.clone(),
                notes: notes.clone(),
                tags: tags.clone(),
            },
            Action::CancelInvitation { id, account_id } => Action::CancelInvitation {
                id: id.clone(),
                account_id: account_id.clone(),
            },
            Action::CreateOu { parent, name, tags } => Action::CreateOu {
                parent: resolve(parent)?,
                name: name.clone(),
                tags: tags.clone(),
            },
            Action::RenameOu { id, from, to } => Action::RenameOu {
                id: id.clone(),
                from: from.clone(),
                to: to.clone(),
            },
            Action::DeleteOu { id } => Action::DeleteOu { id: id.clone() },
            Action::CreateAccount {
                name,
                email,
                parent,
                tags,
            } => Action::CreateAccount {
                name: name.clone(),
                email: email.clone(),
                parent: resolve(parent)?,
                tags: tags.clone(),
            },
            Action::MoveAccount { id, from, to } => Action::MoveAccount {
                id: id.clone(),
                from: resolve(from)?,
                to: resolve(to)?,
            },
            Action::RenameAccount { id, from, to } => Action::RenameAccount {
                id: id.clone(),
                from: from.clone(),
                to: to.clone(),
            },
            Action::ChangeEmail { id, from, to } => Action::ChangeEmail {
                id: id.clone(),
                from: from.clone(),
                to: to.clone(),
            },
            Action::CloseAccount { id, name } => Action::CloseAccount {
                id: id.clone(),
                name: name.clone(),
            },
            Action::RemoveAccount { id, name, parent } => Action::RemoveAccount {
                id: id.clone(),
                name: name.clone(),
                parent: resolve(parent)?,
            },
            Action::CreatePolicy {
                name,
                policy_type,
                description,
                document,
                tags,
            } => Action::CreatePolicy {
                name: name.clone(),
                policy_type: *policy_type,
                description: description.clone(),
                document: document.clone(),
                tags: tags.clone(),
            },
            Action::UpdatePolicy {
                id,
                description,
                document,
            } => Action::UpdatePolicy {
                id: id.clone(),
                description: description.clone(),
                document: document.clone(),
            },
            Action::DeletePolicy { id } => Action::DeletePolicy { id: id.clone() },
            Action::AttachPolicy { policy, target } => Action::AttachPolicy {
                policy: resolve(policy)?,
                target: resolve(target)?,
            },
            Action::DetachPolicy { policy, target } => Action::DetachPolicy {
                policy: resolve(policy)?,
                target: resolve(target)?,
            },
            Action::PutRole {
                account,
                access_role,
                name,
                partner,
                trust_policy,
                managed_policies,
                before,
            } => Action::PutRole {
                account: resolve(account)?,
                access_role: access_role.clone(),
                name: name.clone(),
                partner: partner.clone(),
                trust_policy: trust_policy.clone(),
                managed_policies: managed_policies.clone(),
                before: before.clone(),
            },
            Action::DeleteRole {
                account,
                account_id,
                access_role,
                name,
                partner,
            } => Action::DeleteRole {
                account: resolve(account)?,
                account_id: account_id.clone(),
                access_role: access_role.clone(),
                name: name.clone(),
                partner: partner.clone(),
            },
            Action::PutUser {
                account,
                access_role,
                name,
                managed_policies,
                inline_policies,
                console,
                handover,
                before,
            } => Action::PutUser {
                account: resolve(account)?,
                access_role: access_role.clone(),
                name: name.clone(),
                managed_policies: managed_policies.clone(),
                inline_policies: inline_policies.clone(),
                console: *console,
                handover: *handover,
                before: before.clone(),
            },
            Action::PutAlternateContact {
                account,
                contact_type,
                contact,
                before,
            } => Action::PutAlternateContact {
                account: resolve(account)?,
                contact_type: *contact_type,
                contact: contact.clone(),
                before: before.clone(),
            },
            Action::DeleteAlternateContact {
                account,
                contact_type,
                before,
            } => Action::DeleteAlternateContact {
                account: resolve(account)?,
                contact_type: *contact_type,
                before: before.clone(),
            },
            Action::UpdateTags {
                id,
                set,
                unset,
                before,
            } => Action::UpdateTags {
                id: id.clone(),
                set: set.clone(),
                unset: unset.clone(),
                before: before.clone(),
            },
        })
    }
}
