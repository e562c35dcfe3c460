//! The configuration as written: raw structs with spans, read from YAML.
//!
//! Nothing here judges meaning beyond the shape of the file; [`crate::model`] resolves references
//! and runs the rules. [`load`] is the only function that touches the filesystem.

mod load;
pub mod policy_type;
mod shape;
mod spanned;

pub use load::{
    Config, FILE_NAME, PolicySource, load, load_in_memory, load_inheriting, locate, parse,
    parse_document, parse_inheriting, read_policy_file,
};
pub use policy_type::PolicyType;
pub use spanned::{Span, Spanned};

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Tags as written: key to value, in file order.
pub type Tags = IndexMap<Spanned<String>, Spanned<String>>;

/// The whole file: one AWS Organization.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "orgctl configuration")]
pub struct ConfigFile {
    /// The organization: its business model, owners and management account.
    pub organization: Organization,
    /// The OU tree below the root. Keys are OU names; references elsewhere are paths such as
    /// `Workloads/Prod`.
    #[serde(default)]
    pub organizational_units: IndexMap<Spanned<String>, OrganizationalUnit>,
    /// Member accounts, keyed by account name.
    #[serde(default)]
    pub accounts: IndexMap<Spanned<String>, Account>,
    /// Organization policies, keyed by policy name.
    #[serde(default)]
    pub policies: IndexMap<Spanned<String>, Policy>,
    /// APN partners given IAM roles in member accounts, keyed by partner name.
    #[serde(default)]
    pub partners: IndexMap<Spanned<String>, Partner>,
    /// How orgctl treats this file.
    #[serde(default)]
    pub orgctl: Settings,
}

/// How orgctl treats this file.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Warnings this file silences, by rule code (e.g. `orgctl::email::example_domain`; `orgctl
    /// rules` lists them). Only warnings can be silenced; `validate --explain` lists what is.
    #[serde(default)]
    pub ignore: Vec<Spanned<String>>,
}

/// The organization and who owns what in it.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Organization {
    /// A short name for the organization, used in emails (`{organization}`) and output.
    pub name: Spanned<String>,
    /// Who owns the management and member accounts (see the ownership matrix in the README).
    /// Required, except in a file a fleet lists: it then inherits its company's.
    #[serde(default)]
    #[schemars(with = "Spanned<BusinessModel>")]
    pub business_model: Option<Spanned<BusinessModel>>,
    /// `dedicated` (the customer's own organization) or `shared` (members of the provider's
    /// organization). Default: `dedicated`.
    #[serde(default)]
    pub payer: Spanned<Payer>,
    /// Who runs orgctl with this file. Default: the owner of the management account.
    #[serde(default)]
    pub operator: Option<Spanned<Party>>,
    /// The reseller or solution provider. Required by `resold`, `ecam` and `spam`.
    #[serde(default)]
    pub provider: Option<Spanned<Provider>>,
    /// The end customer.
    #[serde(default)]
    pub customer: Option<Spanned<Customer>>,
    /// The management (payer) account.
    pub management_account: Spanned<ManagementAccount>,
    /// Template for root emails of accounts without an explicit `email`. Placeholders:
    /// `{account}` (account name), `{domain}` (the email domain of the account's owner),
    /// `{organization}` (organization name). Default: `aws+{account}@{domain}`.
    #[serde(default = "default_email_template")]
    pub email_template: Spanned<String>,
    /// How the end customer gets into new member accounts: `iam_user` (an MFA-enforced IAM user
    /// created by the operator) or `root` (the customer resets the root password).
    #[serde(default)]
    pub end_customer_access: Option<Spanned<EndCustomerAccess>>,
    /// The end customer's IAM user, with `end_customer_access: iam_user`: created in each new
    /// member account (a hand-over, under `resold` and `ecam`), or kept in every member account
    /// (under `spam`, where the customer gets administrative IAM access and never root).
    #[serde(default)]
    pub end_customer_user: Option<Spanned<EndCustomerUser>>,
    /// The role orgctl assumes in member accounts to manage IAM there. Default:
    /// `OrganizationAccountAccessRole`, which AWS creates in every account made through
    /// Organizations.
    #[serde(default)]
    pub member_access_role: Option<Spanned<String>>,
    /// Organization policy types to enable on the root.
    #[serde(default)]
    pub enabled_policy_types: Vec<Spanned<PolicyType>>,
    /// AWS services with trusted access to the organization, by service principal
    /// (`guardduty.amazonaws.com`). Absent: orgctl leaves trusted access as it is; a list (even
    /// an empty one): exactly these services, and trusted access of any other is disabled.
    #[serde(default)]
    pub trusted_access: Option<Vec<Spanned<String>>>,
    /// Member accounts that administer an AWS service for the organization, by service principal
    /// (`guardduty.amazonaws.com: [acme-security]`; accounts by their name in the file). Absent:
    /// orgctl leaves delegated administrators as they are; a map (even an empty one): exactly
    /// these, and any other is deregistered.
    #[serde(default)]
    pub delegated_administrators: Option<IndexMap<Spanned<String>, Vec<Spanned<String>>>>,
    /// Tags on the organization root.
    #[serde(default)]
    pub tags: Tags,
    /// How to report live member accounts the file does not declare: `error`, `warning` or
    /// `ignore`. Default: `error` under `resold` (accounts may only be created through orgctl),
    /// `warning` under `ecam` and `spam`, `ignore` under `direct`.
    #[serde(default)]
    pub undeclared_accounts: Option<Spanned<Reporting>>,
}

/// How a finding is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Reporting {
    /// Fails the plan.
    Error,
    /// Shown, without failing.
    Warning,
    /// Not shown.
    Ignore,
}

fn default_email_template() -> Spanned<String> {
    Spanned::new("aws+{account}@{domain}".to_owned(), Span::default())
}

/// The four business models: who owns the management account and who owns the members.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[schemars(transform = accept_sptm_alias)]
pub enum BusinessModel {
    /// The customer owns every account and may create accounts natively.
    Direct,
    /// The reseller owns the management account; the customer owns the members.
    Resold,
    /// End Customer Account Model: the provider owns the payer for billing only; the customer owns
    /// and secures the member accounts.
    Ecam,
    /// Solution Provider Account Model (also `sptm`): the provider owns every root and gives the
    /// customer administrative IAM access.
    #[serde(alias = "sptm")]
    Spam,
}

/// Lets editors accept `sptm`, which serde reads as an alias of `spam`.
fn accept_sptm_alias(schema: &mut schemars::Schema) {
    if let Some(serde_json::Value::Array(variants)) = schema.get_mut("oneOf") {
        variants.push(serde_json::json!({
            "description": "Solution Provider Transacting Model: another name of `spam`.",
            "type": "string",
            "const": "sptm"
        }));
    }
}

/// Where the customer's accounts are paid from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Payer {
    /// One customer's organization under its own management account: OUs, SCPs and tag policies
    /// are available.
    #[default]
    Dedicated,
    /// The customer's accounts are members of the provider's organization: no OUs, no policies.
    Shared,
}

/// A party to the business model.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Party {
    /// The reseller, distributor or solution provider.
    Provider,
    /// The end customer.
    Customer,
}

/// The provider: reseller, distributor or solution provider.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Provider {
    /// Display name.
    pub name: Spanned<String>,
    /// The domain of the provider's root emails, e.g. `reseller.example`.
    pub email_domain: Spanned<String>,
    /// The provider's alternate contacts: each goes to every account whose contact of that type
    /// the provider receives (billing: under `resold`, `ecam` and `spam`; operations and
    /// security: the accounts it owns).
    #[serde(default)]
    pub contacts: Contacts<Contact>,
}

/// The end customer.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Customer {
    /// Display name.
    pub name: Spanned<String>,
    /// The domain of the customer's root emails, e.g. `acme.example`.
    pub email_domain: Spanned<String>,
    /// The customer already runs an AWS Organization of its own (it then needs a dedicated payer).
    #[serde(default)]
    pub existing_organization: Option<Spanned<bool>>,
    /// The customer's alternate contacts: each goes to every account whose contact of that type
    /// the customer receives (billing: under `direct`; operations and security: the accounts it
    /// owns).
    #[serde(default)]
    pub contacts: Contacts<Contact>,
}

/// The management (payer) account.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ManagementAccount {
    /// The account name.
    pub name: Spanned<String>,
    /// The root email; default: from `email_template` with the owner's domain.
    #[serde(default)]
    pub email: Option<Spanned<String>>,
    /// The 12-digit account id, when known.
    #[serde(default)]
    pub id: Option<Spanned<String>>,
    /// The OU path the management account sits in; default: the root.
    #[serde(default)]
    pub ou: Option<Spanned<String>>,
    /// Tags on the management account (billing only: no workload tags).
    #[serde(default)]
    pub tags: Tags,
    /// Alternate contacts of the management account, over those of its parties; `none` removes
    /// one.
    #[serde(default)]
    pub contacts: Contacts<ContactOverride>,
}

/// An organizational unit.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganizationalUnit {
    /// The OU id (`ou-...`), pinning this entry to an existing OU so that a new key renames it.
    #[serde(default)]
    pub id: Option<Spanned<String>>,
    /// Tags on the OU.
    #[serde(default)]
    pub tags: Tags,
    /// Child OUs, keyed by name.
    #[serde(default)]
    pub children: IndexMap<Spanned<String>, OrganizationalUnit>,
    /// `active` (default) or `delete`: the OU is deleted once the plan has emptied it.
    #[serde(default)]
    pub lifecycle: Spanned<OuLifecycle>,
}

/// Whether an OU should exist.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum OuLifecycle {
    /// The OU exists.
    #[default]
    Active,
    /// The OU is deleted (it must hold no account or OU after the plan).
    Delete,
}

/// A member account.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Account {
    /// The OU path the account sits in, e.g. `Workloads/Prod`; default: the root.
    #[serde(default)]
    pub ou: Option<Spanned<String>>,
    /// The root email; default: from `email_template` with the owner's domain.
    #[serde(default)]
    pub email: Option<Spanned<String>>,
    /// The 12-digit id of an existing account; without it the account is matched by email.
    #[serde(default)]
    pub id: Option<Spanned<String>>,
    /// Tags on the account.
    #[serde(default)]
    pub tags: Tags,
    /// Alternate contacts of this account, over those of its parties; `none` removes one.
    #[serde(default)]
    pub contacts: Contacts<ContactOverride>,
    /// `active` (default), `close` (close the account) or `remove` (remove it from the
    /// organization). Closing and removing also need a flag on the command line.
    #[serde(default)]
    pub lifecycle: Spanned<AccountLifecycle>,
    /// With `lifecycle: remove` where the provider holds the member roots (`spam`): the account's
    /// root user (root email and MFA) has been handed over to the customer, who then owns what
    /// leaves. Without it such a removal is an error.
    #[serde(default)]
    pub root_handed_over: Option<Spanned<bool>>,
    /// How the account joins the organization when it is not in it: `create` (default: a new
    /// account) or `invite` (an existing standalone account, by its pinned `id`, is invited and
    /// joins once it accepts).
    #[serde(default)]
    pub join: Spanned<Join>,
}

/// How an account that is not in the organization joins it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Join {
    /// A new account is created.
    #[default]
    Create,
    /// The existing account is invited (`InviteAccountToOrganization`) and joins when it accepts.
    Invite,
}

/// What should become of an account.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum AccountLifecycle {
    /// The account exists and is a member.
    #[default]
    Active,
    /// The account is closed (AWS keeps it suspended for 90 days).
    Close,
    /// The account leaves the organization and becomes standalone.
    Remove,
}

/// The three kinds of alternate contact of an AWS account.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum ContactType {
    /// Receives billing notices.
    Billing,
    /// Receives operational notices.
    Operations,
    /// Receives security notices.
    Security,
}

impl ContactType {
    /// Every type, in AWS's documentation order.
    pub const ALL: [ContactType; 3] = [Self::Billing, Self::Operations, Self::Security];

    /// As the file writes it: `billing`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Billing => "billing",
            Self::Operations => "operations",
            Self::Security => "security",
        }
    }

    /// The type written as the file writes it, if it is one.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.name() == name)
    }
}

/// Alternate contacts by type; a type not written is not managed by this entry.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "ContactsOf{T}")]
pub struct Contacts<T> {
    /// The billing contact.
    pub billing: Option<Spanned<T>>,
    /// The operations contact.
    pub operations: Option<Spanned<T>>,
    /// The security contact.
    pub security: Option<Spanned<T>>,
}

impl<T> Default for Contacts<T> {
    fn default() -> Self {
        Self {
            billing: None,
            operations: None,
            security: None,
        }
    }
}

impl<T> Contacts<T> {
    /// The entry of `contact_type`, if written.
    pub const fn get(&self, contact_type: ContactType) -> Option<&Spanned<T>> {
        match contact_type {
            ContactType::Billing => self.billing.as_ref(),
            ContactType::Operations => self.operations.as_ref(),
            ContactType::Security => self.security.as_ref(),
        }
    }

    /// The entries written, by type.
    pub fn iter(&self) -> impl Iterator<Item = (ContactType, &Spanned<T>)> {
        ContactType::ALL
            .into_iter()
            .filter_map(|contact_type| Some((contact_type, self.get(contact_type)?)))
    }
}

/// One alternate contact, as AWS's `AlternateContact` holds it.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    /// The contact's name (1 to 64 characters).
    pub name: Spanned<String>,
    /// The contact's email address (1 to 254 characters).
    pub email: Spanned<String>,
    /// The contact's phone number (1 to 25 characters: digits, spaces, `(`, `)`, `+`, `-`).
    pub phone: Spanned<String>,
    /// The contact's title (1 to 50 characters).
    pub title: Spanned<String>,
}

/// An account's own alternate contact: a contact, or `none` to remove the one its party would
/// give it.
#[derive(Debug, Clone)]
pub enum ContactOverride {
    /// This contact instead of the party's.
    Contact(Contact),
    /// No contact of this type: a live one is deleted.
    None,
}

/// The word that removes a contact.
pub const NO_CONTACT: &str = "none";

impl<'de> Deserialize<'de> for ContactOverride {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct OverrideVisitor;
        impl<'de> serde::de::Visitor<'de> for OverrideVisitor {
            type Value = ContactOverride;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(
                    f,
                    "a contact ({{ name, email, phone, title }}) or `{NO_CONTACT}`"
                )
            }
            fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<ContactOverride, E> {
                if value == NO_CONTACT {
                    Ok(ContactOverride::None)
                } else {
                    Err(E::invalid_value(serde::de::Unexpected::Str(value), &self))
                }
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<ContactOverride, A::Error> {
                Contact::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(ContactOverride::Contact)
            }
        }
        deserializer.deserialize_any(OverrideVisitor)
    }
}

impl JsonSchema for ContactOverride {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ContactOverride".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A contact, or `none`: no contact of this type in this account (a live one is deleted).",
            "anyOf": [
                generator.subschema_for::<Contact>(),
                { "type": "string", "const": NO_CONTACT }
            ]
        })
    }
}

/// The end customer's IAM user.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EndCustomerUser {
    /// The user name. Default: `end-customer`.
    #[serde(default)]
    pub name: Option<Spanned<String>>,
    /// IAM managed policy ARNs attached to the user. Default:
    /// `arn:aws:iam::aws:policy/AdministratorAccess`. The `require-mfa` preset is always attached
    /// as well.
    #[serde(default)]
    pub managed_policies: Option<Vec<Spanned<String>>>,
    /// Console sign-in: a login profile whose one-time password (reset at first sign-in) apply
    /// writes to `--password-file`. Default: `true`. Without it the user has no credentials.
    #[serde(default)]
    pub console: Option<Spanned<bool>>,
}

/// How the end customer gets into new member accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EndCustomerAccess {
    /// An MFA-enforced IAM user created by the operator right after the account.
    IamUser,
    /// The customer resets the root user's password and uses root.
    Root,
}

/// An organization policy.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// The policy type; it must be listed in `enabled_policy_types`.
    #[serde(rename = "type")]
    pub policy_type: Spanned<PolicyType>,
    /// A description shown in the AWS console.
    #[serde(default)]
    pub description: Option<Spanned<String>>,
    /// A JSON file with the document, relative to this YAML file.
    #[serde(default)]
    pub file: Option<Spanned<String>>,
    /// The document inline, as YAML or as a JSON string.
    #[serde(default)]
    #[schemars(with = "Option<serde_json::Value>")]
    pub document: Option<Spanned<serde_json::Value>>,
    /// One of orgctl's ready-made documents (`presets/` in orgctl's repository), instead of
    /// `file` or `document`.
    #[serde(default)]
    pub preset: Option<Spanned<Preset>>,
    /// Targets: `root`, OU paths and account names.
    #[serde(default)]
    pub attach: Vec<Spanned<String>>,
    /// Tags on the policy.
    #[serde(default)]
    pub tags: Tags,
    /// `active` (default) or `delete`: the policy is detached everywhere and deleted.
    #[serde(default)]
    pub lifecycle: Spanned<PolicyLifecycle>,
}

/// orgctl's ready-made policy documents, each a service control policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Preset {
    /// Member accounts cannot leave the organization (`organizations:LeaveOrganization`).
    DenyLeaveOrganization,
    /// No Cost Explorer or cost reports: customers on a shared payer or resold would see the
    /// provider's buy prices.
    DenyCostExplorer,
    /// IAM users can do nothing but set up their MFA device until they sign in with MFA.
    RequireMfa,
    /// The root user of member accounts can do nothing.
    DenyRootUser,
}

/// Whether a policy should exist.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PolicyLifecycle {
    /// The policy exists with the declared document and attachments.
    #[default]
    Active,
    /// The policy is detached from every target and deleted.
    Delete,
}

/// An APN partner (managed service provider) given an IAM role in member accounts.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Partner {
    /// The partner's own 12-digit AWS account id, trusted by the role.
    pub account_id: Spanned<String>,
    /// The IAM role created in each granted account.
    pub role_name: Spanned<String>,
    /// An external id the partner must present when assuming the role.
    #[serde(default)]
    pub external_id: Option<Spanned<String>>,
    /// IAM managed policy ARNs attached to the role.
    #[serde(default)]
    pub managed_policies: Vec<Spanned<String>>,
    /// OU paths whose accounts (recursively) get the role.
    #[serde(default)]
    pub ous: Vec<Spanned<String>>,
    /// Account names that get the role.
    #[serde(default)]
    pub accounts: Vec<Spanned<String>>,
    /// The last day of the contract (`YYYY-MM-DD`); after it the plan revokes the role.
    #[serde(default)]
    pub until: Option<Spanned<String>>,
}
