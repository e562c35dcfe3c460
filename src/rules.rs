//! The rule catalogue: every check orgctl makes, with its stable code and default severity.
//!
//! Codes are part of orgctl's interface (CI bots match on them); never rename one.
//! `orgctl rules` prints this table.

use serde::Serialize;

/// How bad a finding is.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Fails the command (exit 1).
    Error,
    /// Reported; the command still succeeds.
    Warning,
}

impl Severity {
    /// `error` or `warning`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

macro_rules! catalogue {
    ($( $(#[doc = $doc:literal])+ $variant:ident => $code:literal, $severity:ident; )*) => {
        /// A rule of the catalogue.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Rule {
            $( $(#[doc = $doc])+ $variant, )*
        }

        impl Rule {
            /// Every rule, in catalogue order.
            pub const ALL: &'static [Rule] = &[$(Rule::$variant),*];

            /// The stable code, e.g. `orgctl::ownership::member_email_domain`.
            pub const fn code(self) -> &'static str {
                match self { $(Rule::$variant => concat!("orgctl::", $code),)* }
            }

            /// The rule whose stable code is `code`, if the catalogue has one.
            pub fn from_code(code: &str) -> Option<Rule> {
                Rule::ALL.iter().copied().find(|rule| rule.code() == code)
            }

            /// The default severity.
            pub const fn severity(self) -> Severity {
                match self { $(Rule::$variant => Severity::$severity,)* }
            }

            /// One line saying what the rule checks.
            pub fn summary(self) -> &'static str {
                match self { $(Rule::$variant => concat!($($doc),+).trim(),)* }
            }
        }
    };
}

/// A rule is written as its code.
impl Serialize for Rule {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

catalogue! {
    // Reading the configuration.
    /// The configuration file or a file it names cannot be read.
    ConfigRead => "config::read", Error;
    /// The configuration is not UTF-8 text.
    ConfigEncoding => "config::encoding", Error;
    /// The configuration file is empty.
    ConfigEmpty => "config::empty", Error;
    /// The YAML is malformed.
    ConfigSyntax => "config::syntax", Error;
    /// A key that orgctl does not know.
    ConfigUnknownKey => "config::unknown_key", Error;
    /// A required key is missing.
    ConfigMissingKey => "config::missing_key", Error;
    /// A key appears twice in one mapping.
    ConfigDuplicateKey => "config::duplicate_key", Error;
    /// A value of the wrong type or outside its allowed set.
    ConfigInvalidValue => "config::invalid_value", Error;
    /// The file is larger or more deeply nested than a configuration can be.
    ConfigTooLarge => "config::too_large", Error;

    // References between parts of the file.
    /// A reference to an OU path that the file does not declare.
    UnknownOu => "reference::unknown_ou", Error;
    /// A reference to an account name that the file does not declare.
    UnknownAccount => "reference::unknown_account", Error;
    /// The same target is named twice in one list.
    DuplicateReference => "reference::duplicate", Warning;

    // Ownership and business model.
    /// A provider-owned member account under a customer-owned management account.
    ImpossibleOwnership => "ownership::impossible", Error;
    /// The management account's root email is not on its owner's domain.
    ManagementEmailDomain => "ownership::management_email_domain", Error;
    /// A member account's root email is not on its owner's domain.
    MemberEmailDomain => "ownership::member_email_domain", Error;
    /// The business model makes a party own accounts, but the file does not declare that party.
    OwnerMissing => "ownership::owner_missing", Error;
    /// The operator is a party the file does not declare.
    OperatorUndeclared => "ownership::operator_undeclared", Error;
    /// Root-user hand-over to the end customer where the customer does not own the member roots.
    RootHandover => "ownership::root_handover", Error;
    /// `end_customer_access` set where the business model gives it no meaning.
    EndCustomerAccessUnused => "ownership::end_customer_access_unused", Warning;
    /// Access inside member accounts that the operator does not own and cannot reach.
    OperatorBoundary => "ownership::operator_boundary", Error;
    /// OUs or organization policies on a shared payer.
    SharedPayerFeatures => "payer::shared_features", Error;
    /// A customer with an existing organization placed on a shared payer.
    ExistingOrganizationOnSharedPayer => "payer::existing_organization", Error;
    /// Workload access (partner roles) granted into the management account.
    ManagementWorkloadAccess => "management::workload_access", Error;
    /// Workload tags on the management account, which runs billing only.
    ManagementWorkloadTags => "management::workload_tags", Warning;
    /// The management account declared again as a member account.
    ManagementAsMember => "management::declared_as_member", Error;
    /// Two account entries pinned to the same account id: one live account claimed twice.
    AccountIdDuplicate => "account::duplicate_id", Error;

    // Emails.
    /// A root email that AWS would reject.
    EmailInvalid => "email::invalid", Error;
    /// Two accounts with the same root email (compared case-insensitively).
    EmailDuplicate => "email::duplicate", Error;
    /// A reserved example domain, where no mail is ever delivered.
    EmailExampleDomain => "email::example_domain", Warning;
    /// An email template without `{account}`, or with an unknown placeholder.
    EmailTemplate => "email::template", Error;

    // AWS limits.
    /// A name outside AWS's length or character limits.
    NameInvalid => "limits::name", Error;
    /// An OU nested deeper than five levels below the root.
    OuDepth => "limits::ou_depth", Error;
    /// More than 50 tags on one resource.
    TagCount => "limits::tag_count", Error;
    /// A tag key outside AWS's limits.
    TagKey => "limits::tag_key", Error;
    /// A tag value outside AWS's limits.
    TagValue => "limits::tag_value", Error;
    /// An account id that is not 12 digits.
    AccountId => "limits::account_id", Error;
    /// An IAM role name outside `[\w+=,.@-]{1,64}`.
    RoleName => "limits::role_name", Error;

    // Policies.
    /// A policy file that cannot be read.
    PolicyFile => "policy::file", Error;
    /// A policy document that is not JSON.
    PolicyNotJson => "policy::not_json", Error;
    /// A policy with both or neither of `file` and `document`.
    PolicySource => "policy::source", Error;
    /// A policy document over its type's size limit.
    PolicySize => "policy::size", Error;
    /// A policy whose type is not in `enabled_policy_types`.
    PolicyTypeNotEnabled => "policy::type_not_enabled", Error;
    /// More policies of one type attached to a target than AWS allows.
    PolicyAttachmentLimit => "policy::attachment_limit", Error;

    // Trusted access for AWS services.
    /// A trusted-access entry that is not an AWS service principal (`<service>.amazonaws.com`).
    TrustedAccessPrincipal => "trusted_access::principal", Error;
    /// The same service principal listed twice under `trusted_access`.
    TrustedAccessDuplicate => "trusted_access::duplicate", Warning;
    /// Organization-wide trusted access set on a shared payer, where the organization is the
    /// provider's.
    TrustedAccessSharedPayer => "payer::shared_trusted_access", Error;

    // Delegated administrators of AWS services.
    /// A `delegated_administrators` key that is not an AWS service principal.
    DelegatedAdministratorPrincipal => "delegated_administrator::principal", Error;
    /// The management account named as a delegated administrator: AWS allows members only.
    DelegatedAdministratorManagement => "delegated_administrator::management", Error;
    /// A delegated administrator that is not an active member: the file closes or removes it, or
    /// it is suspended or closed in AWS.
    DelegatedAdministratorInactive => "delegated_administrator::inactive", Error;
    /// A service delegated without trusted access, which AWS requires first.
    DelegatedAdministratorTrustedAccess => "delegated_administrator::trusted_access", Error;
    /// Delegated administrators set on a shared payer, where the organization is the provider's.
    DelegatedAdministratorSharedPayer => "payer::shared_delegated_administrator", Error;
    /// Under `ecam`, the provider delegating a service's administration to an account the
    /// customer owns: the customer's decision.
    EcamDelegation => "ownership::ecam_delegation", Warning;

    // Alternate contacts.
    /// An alternate contact whose email is not on the domain of the party that receives it.
    ContactEmailDomain => "contact::email_domain", Error;
    /// Under `ecam`, a provider that sets the security contact of customer-owned member accounts.
    ContactEcamSecurity => "contact::ecam_security", Warning;
    /// Member accounts' contacts managed without trusted access for AWS Account Management
    /// (`account.amazonaws.com`).
    ContactTrustedAccess => "contact::trusted_access", Error;
    /// A party's contact of a type the business model gives that party in no account.
    ContactUnused => "contact::unused", Warning;
    /// An alternate contact's name, email, phone or title outside AWS's limits.
    ContactField => "limits::contact", Error;
    /// The management account's own contacts set on a shared payer, where it is the provider's.
    ContactSharedPayer => "payer::shared_contacts", Error;

    // Partners and lifecycle.
    /// A partner's `until` date that is not a calendar date.
    PartnerUntil => "partner::until", Error;
    /// A partner whose `until` date has passed: the plan revokes its access.
    PartnerExpired => "partner::expired", Warning;
    /// A partner granted no OU and no account.
    PartnerNoTargets => "partner::no_targets", Warning;
    /// A managed policy that is not an IAM policy ARN.
    PartnerPolicyArn => "partner::policy_arn", Error;
    /// An account to invite (`join: invite`) whose `id` is not pinned.
    InviteRequiresId => "account::invite_requires_id", Error;
    /// An invited account whose root email is on the domain of a party the business model does
    /// not let own it: its root is handed over before it joins.
    InvitedRoot => "ownership::invited_root", Error;
    /// An account that leaves the organization while the provider still holds its root (`spam`):
    /// the customer would get an account it cannot sign in to as root.
    LeaveWithoutRoot => "ownership::leave_without_root", Error;
    /// Closing or removing an account whose `id` is not pinned.
    LifecycleRequiresId => "lifecycle::requires_id", Error;

    // The live organization.
    /// A snapshot file that cannot be read or is not an orgctl snapshot.
    LiveSnapshot => "live::snapshot", Error;
    /// A call to AWS that failed.
    LiveAws => "live::aws", Error;
    /// A live member account the file does not declare (severity set by `undeclared_accounts`).
    UndeclaredAccount => "live::undeclared_account", Warning;
    /// A live OU or policy the file does not declare: left alone, never deleted by omission.
    Unmanaged => "live::unmanaged", Warning;
    /// A live root email on a domain other than its owner's.
    LiveEmailDomain => "live::email_domain", Warning;
    /// A declared account that is suspended, closing or closed in AWS.
    AccountNotActive => "live::account_not_active", Warning;
    /// A declared account whose sign-up is not complete in AWS: not moved, renamed or tagged yet.
    AccountPendingActivation => "live::account_pending_activation", Warning;
    /// An account the file invites whose invitation is open: waiting for its holder to accept.
    InvitationOpen => "live::invitation_open", Warning;
    /// A declared account whose creation AWS has started and not finished: not created again, and
    /// nothing attached to it or delegated to it until it exists.
    AccountBeingCreated => "live::account_being_created", Warning;
    /// An `id` pinned in the file that the live organization does not have.
    PinnedMissing => "live::pinned_missing", Error;
    /// The live organization's management account is not the one the file pins: the wrong
    /// credentials or snapshot.
    WrongOrganization => "live::wrong_organization", Error;
    /// Two live resources that one declaration matches.
    Ambiguous => "live::ambiguous", Error;
    /// One live account that two entries of the file resolve to (by id, by email, or one of
    /// each): orgctl changes neither.
    AccountClaimedTwice => "live::account_claimed_twice", Error;
    /// A pinned OU that sits under another parent: AWS cannot move OUs.
    OuCannotMove => "live::ou_cannot_move", Error;
    /// An OU to delete that still holds accounts or OUs after the plan.
    OuNotEmpty => "live::ou_not_empty", Error;
    /// A target left with no SCP after the plan (AWS denies everything there).
    NoScp => "live::no_scp", Error;
    /// More policies of one type on a target after the plan than AWS allows.
    LiveAttachmentLimit => "live::attachment_limit", Error;
    /// More account closures than the 30-day quota allows.
    CloseQuota => "live::close_quota", Error;
    /// Changes that depend on each other in a cycle (a plan that cannot be ordered).
    DependencyCycle => "plan::cycle", Error;
    /// A plan that `plan --out` cannot save: a directory, a device or a pipe in the way, or a
    /// folder that cannot be written.
    PlanOutput => "plan::output", Error;

    // Applying plans.
    /// A saved plan whose live resources or configuration changed since it was made.
    StalePlan => "apply::stale", Error;
    /// A saved plan applied to another kind of backend than it was made from: a snapshot's plan
    /// to AWS, or a plan of AWS to a snapshot.
    PlanBackend => "apply::backend", Error;
    /// A plan apply will not start: errors in it, closes or removals not allowed on the command
    /// line, the management account, no confirmation.
    ApplyRefused => "apply::refused", Error;
    /// The organization is leased to another apply.
    LeaseHeld => "apply::lease", Error;
    /// A change that failed while applying.
    ChangeFailed => "apply::failed", Error;
    /// An apply stopped by `SIGINT` or `SIGTERM`: no change started after the signal, those in
    /// flight ended, and the lease was released.
    ApplyInterrupted => "apply::interrupted", Error;

    // Fleets: one provider, many organizations.
    /// A fleet organization whose company the fleet does not declare.
    FleetCompany => "fleet::company", Error;
    /// A fleet organization with no way, or two ways, to reach its management account, or an
    /// external id without a role.
    FleetAccess => "fleet::access", Error;
    /// A management account id in the fleet that is not 12 digits, or that the organization's
    /// configuration pins otherwise.
    FleetManagementAccount => "fleet::management_account", Error;
    /// An organization's file that names another provider than its fleet's.
    FleetProvider => "fleet::provider", Error;
    /// An organization's file that declares a business model its company does not allow.
    FleetBusinessModel => "fleet::business_model", Error;
    /// An account (by id or root email) that two customers on one shared payer claim.
    FleetAccountClaimed => "fleet::account_claimed", Error;
    /// An organization of the fleet invites an account that another organization of the fleet
    /// holds: accepting moves it between organizations, and what the other one gave it ends.
    FleetAccountMoves => "fleet::account_moves", Warning;
    /// `--only` naming an organization the fleet does not have.
    FleetOnly => "fleet::only", Error;
    /// A fleet output that cannot be written (`--out-dir`) or a summary that cannot be read
    /// (`orgctl fleet report`).
    FleetFiles => "fleet::files", Error;

    // Importing organizations.
    /// Something in the organization a configuration cannot express: two sibling OUs or two
    /// accounts or policies of one name, an OU name with `/`.
    ImportConflict => "import::conflict", Error;
    /// An owner's email domain that neither the command line nor the root emails tell.
    ImportOwners => "import::owners", Error;
    /// An output file that exists (without `--force`) or cannot be written.
    ImportOutput => "import::output", Error;
    /// An imported configuration that would not plan empty (a bug in orgctl: nothing is written).
    ImportIncomplete => "import::incomplete", Error;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn codes_are_unique_and_namespaced() {
        let codes: BTreeSet<_> = Rule::ALL.iter().map(|rule| rule.code()).collect();
        assert_eq!(codes.len(), Rule::ALL.len());
        for code in codes {
            assert!(code.starts_with("orgctl::"), "{code}");
            assert_eq!(code.matches("::").count(), 2, "{code}");
        }
    }

    #[test]
    fn every_rule_has_a_summary() {
        for rule in Rule::ALL {
            assert!(rule.summary().len() > 10, "{rule:?}");
        }
    }
}
