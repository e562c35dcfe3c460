//! The organization: business model, parties, operator, and the ownership rules that span the
//! whole file.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::ownership::{AccountKind, Ownership, model_name, party_key, party_name};
use super::{Checker, Desired, limits, resolve_tags};
use crate::config::{
    self, BusinessModel, ConfigFile, EndCustomerAccess, Party, Payer, PolicyType, Reporting, Span,
};
use crate::rules::Rule;

/// Organization-wide settings, resolved.
#[derive(Debug, Clone, Serialize)]
pub struct Organization {
    /// The organization's short name.
    pub name: String,
    /// The business model.
    pub business_model: BusinessModel,
    /// Who owns which account, from the business model.
    #[serde(skip)]
    pub ownership: Ownership,
    /// Dedicated or shared payer.
    pub payer: Payer,
    /// Who runs orgctl with this file.
    pub operator: Party,
    /// The provider, when declared.
    pub provider: Option<PartyInfo>,
    /// The customer, when declared.
    pub customer: Option<PartyInfo>,
    /// The template for root emails.
    pub email_template: String,
    /// How the end customer gets into new member accounts.
    pub end_customer_access: Option<EndCustomerAccess>,
    /// The end customer's IAM user and when orgctl manages it, if it does.
    pub end_customer_user: Option<EndCustomerUser>,
    /// The role orgctl assumes in member accounts to manage IAM there.
    pub member_access_role: String,
    /// Policy types enabled on the root.
    pub enabled_policy_types: BTreeSet<PolicyType>,
    /// Tags on the root.
    pub tags: BTreeMap<String, String>,
    /// Service principals with trusted access, when the file manages trusted access (`None`: the
    /// file does not set `trusted_access`, and live trusted access is left alone).
    pub trusted_access: Option<BTreeSet<String>>,
    /// How live member accounts the file does not declare are reported.
    pub undeclared_accounts: Reporting,
}

/// The end customer's IAM user, resolved.
#[derive(Debug, Clone, Serialize)]
pub struct EndCustomerUser {
    /// The user name.
    pub name: String,
    /// Managed policy ARNs, sorted (the `require-mfa` preset is attached inline besides).
    pub managed_policies: Vec<String>,
    /// Whether the user gets a console password (written to `--password-file` by apply).
    pub console: bool,
    /// When orgctl manages the user.
    pub mode: UserMode,
}

/// When orgctl creates and keeps the end customer's user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UserMode {
    /// Created once, right after the account, and never touched again (the customer owns the
    /// account: `resold`, `ecam`).
    Handover,
    /// Kept in every active member account (the operator owns the members: `spam`).
    Ongoing,
}

/// The default role AWS creates in accounts made through Organizations.
pub const DEFAULT_MEMBER_ACCESS_ROLE: &str = "OrganizationAccountAccessRole";
/// The default name of the end customer's IAM user.
pub const DEFAULT_END_CUSTOMER_USER: &str = "end-customer";
/// The default policy of the end customer's IAM user: administrative access.
pub const DEFAULT_END_CUSTOMER_POLICY: &str = "arn:aws:iam::aws:policy/AdministratorAccess";

/// A declared party.
#[derive(Debug, Clone, Serialize)]
pub struct PartyInfo {
    /// Display name.
    pub name: String,
    /// Root email domain, lower-case.
    pub email_domain: String,
}

impl Organization {
    /// The declared party, if any.
    pub fn party(&self, party: Party) -> Option<&PartyInfo> {
        match party {
            Party::Provider => self.provider.as_ref(),
            Party::Customer => self.customer.as_ref(),
        }
    }

    /// The email domain of a party, if declared.
    pub fn domain_of(&self, party: Party) -> Option<&str> {
        self.party(party).map(|info| info.email_domain.as_str())
    }

    /// The party whose domain `domain` is (equal, or a subdomain of it), preferring `expected`
    /// when both parties share a domain.
    pub fn party_of_domain(&self, domain: &str, expected: Party) -> Option<Party> {
        let domain = domain.to_ascii_lowercase();
        let matches = |party: Party| {
            self.domain_of(party).is_some_and(|owned| {
                domain == owned
                    || (domain.ends_with(owned)
                        && domain[..domain.len() - owned.len()].ends_with('.'))
            })
        };
        [expected, other_party(expected)]
            .into_iter()
            .find(|party| matches(*party))
    }
}

/// The business model the file declares (or its fleet's company gave it); a file with none is an
/// error at the organization's name, and resolves as `direct` so that the other rules still run.
fn business_model(checker: &mut Checker, raw: &config::Organization) -> BusinessModel {
    if let Some(model) = &raw.business_model {
        return model.value;
    }
    let diagnostic = checker
        .at(
            Rule::ConfigMissingKey,
            raw.name.span,
            "the organization declares no `business_model`",
            "this organization needs a business model",
        )
        .help("add `business_model: direct|resold|ecam|spam` under `organization`, or list this file in a fleet whose company sets one (`orgctl fleet validate`)");
    checker.push(diagnostic);
    BusinessModel::Direct
}

pub(super) fn resolve(checker: &mut Checker, raw: &config::Organization) -> Organization {
    let business_model = business_model(checker, raw);
    let ownership = Ownership::of(business_model);
    let party = |name: &config::Spanned<String>, domain: &config::Spanned<String>| PartyInfo {
        name: name.value.clone(),
        email_domain: domain.value.trim().to_ascii_lowercase(),
    };
    let provider = raw
        .provider
        .as_ref()
        .map(|provider| party(&provider.name, &provider.email_domain));
    let customer = raw
        .customer
        .as_ref()
        .map(|customer| party(&customer.name, &customer.email_domain));

    for owner in ownership.owning_parties() {
        let declared = match owner {
            Party::Provider => provider.is_some(),
            Party::Customer => customer.is_some(),
        };
        if !declared {
            let owns: Vec<&str> = [AccountKind::Management, AccountKind::Member]
                .into_iter()
                .filter(|kind| ownership.owner(*kind) == owner)
                .map(AccountKind::describe)
                .collect();
            let key = party_key(owner);
            let diagnostic = checker
                .at(
                    Rule::OwnerMissing,
                    raw.business_model.as_ref().map_or(raw.name.span, |model| model.span),
                    format!(
                        "under `{}`, {} owns {}, but the file declares no `{key}`",
                        model_name(business_model),
                        party_name(owner),
                        owns.join(" and ")
                    ),
                    format!("this model needs a `{key}`"),
                )
                .help(format!(
                    "add `{key}: {{ name: ..., email_domain: ... }}` under `organization`; its domain is used for the root emails of the accounts it owns"
                ));
            checker.push(diagnostic);
        }
    }

    let enabled_policy_types = raw.enabled_policy_types.iter().map(|t| t.value).collect();
    let tags = resolve_tags(checker, &raw.tags, raw.name.span, "the organization root");
    let trusted_access = super::trusted_access::resolve(checker, raw);
    let operator = raw
        .operator
        .as_ref()
        .map_or(ownership.management, |operator| operator.value);
    let member_access_role = match &raw.member_access_role {
        Some(role) => {
            limits::check_role_name(checker, role);
            role.value.clone()
        }
        None => DEFAULT_MEMBER_ACCESS_ROLE.to_owned(),
    };
    let end_customer_user = end_customer_user(checker, raw, ownership, operator);
    Organization {
        name: raw.name.value.clone(),
        business_model,
        ownership,
        payer: raw.payer.value,
        operator,
        provider,
        customer,
        email_template: raw.email_template.value.clone(),
        end_customer_access: raw.end_customer_access.as_ref().map(|access| access.value),
        end_customer_user,
        member_access_role,
        enabled_policy_types,
        tags,
        trusted_access,
        undeclared_accounts: raw
            .undeclared_accounts
            .as_ref()
            .map_or_else(|| default_undeclared_accounts(business_model), |r| r.value),
    }
}

/// The end customer's IAM user: declared with `end_customer_access: iam_user` where a provider
/// creates the customer's accounts. A hand-over where the customer owns the members, kept where
/// the operator owns them.
fn end_customer_user(
    checker: &mut Checker,
    raw: &config::Organization,
    ownership: Ownership,
    operator: Party,
) -> Option<EndCustomerUser> {
    let declared = raw.end_customer_user.as_ref();
    let wanted = raw
        .end_customer_access
        .as_ref()
        .is_some_and(|access| access.value == EndCustomerAccess::IamUser);
    if let (Some(user), false) = (declared, wanted) {
        let diagnostic = checker
            .at(
                Rule::EndCustomerAccessUnused,
                user.span,
                "`end_customer_user` is declared, but `end_customer_access` is not `iam_user`",
                "has no effect",
            )
            .help("write `end_customer_access: iam_user`, or remove `end_customer_user`");
        checker.push(diagnostic);
    }
    if !wanted || ownership.management == Party::Customer {
        return None;
    }
    let mode = if ownership.members == Party::Customer {
        // The customer owns the member accounts: only the provider that creates them hands them
        // over, and only then.
        if operator != Party::Provider {
            return None;
        }
        UserMode::Handover
    } else {
        // Provider-owned members: only the provider reaches them (the boundary check reports a
        // customer's file that asks for it).
        if operator != ownership.members {
            return None;
        }
        UserMode::Ongoing
    };
    let default = config::EndCustomerUser::default();
    let user = declared.map_or(&default, |user| &user.value);
    let name = match &user.name {
        Some(name) => {
            limits::check_user_name(checker, name);
            name.value.clone()
        }
        None => DEFAULT_END_CUSTOMER_USER.to_owned(),
    };
    let mut managed_policies: Vec<String> = match &user.managed_policies {
        Some(arns) => {
            for arn in arns {
                limits::check_policy_arn(checker, arn);
            }
            arns.iter().map(|arn| arn.value.clone()).collect()
        }
        None => vec![DEFAULT_END_CUSTOMER_POLICY.to_owned()],
    };
    managed_policies.sort();
    managed_policies.dedup();
    Some(EndCustomerUser {
        name,
        managed_policies,
        console: user.console.as_ref().is_none_or(|console| console.value),
        mode,
    })
}

/// Where accounts may be created natively they are no surprise; under `resold` every account
/// must come through orgctl; under `ecam` and `spam` the customer may have had accounts before.
const fn default_undeclared_accounts(model: BusinessModel) -> Reporting {
    match model {
        BusinessModel::Direct => Reporting::Ignore,
        BusinessModel::Resold => Reporting::Error,
        BusinessModel::Ecam | BusinessModel::Spam => Reporting::Warning,
    }
}

/// Tag keys that describe workloads, which have no place in the management account.
const WORKLOAD_TAG_KEYS: &[&str] = &[
    "app",
    "application",
    "environment",
    "env",
    "service",
    "stage",
    "workload",
];

/// The rules that need the whole resolved file: hand-over, operator boundary, payer type and the
/// management account's billing-only role.
pub(super) fn check_ownership(checker: &mut Checker, file: &ConfigFile, desired: &Desired) {
    let raw = &file.organization;
    let organization = &desired.organization;
    let ownership = organization.ownership;
    let model = model_name(organization.business_model);

    if let Some(access) = &raw.end_customer_access {
        let customer_owns_members = ownership.members == Party::Customer;
        if access.value == EndCustomerAccess::Root && !customer_owns_members {
            let diagnostic = checker
                .at(
                    Rule::RootHandover,
                    access.span,
                    format!(
                        "under `{model}`, {} owns the member roots; the end customer cannot be handed the root user",
                        party_name(ownership.members)
                    ),
                    "root hand-over is not possible here",
                )
                .help("write `end_customer_access: iam_user`: the customer gets administrative IAM access, never root");
            checker.push(diagnostic);
        } else if ownership.management == Party::Customer && customer_owns_members {
            let diagnostic = checker
                .at(
                    Rule::EndCustomerAccessUnused,
                    access.span,
                    format!("under `{model}`, the customer owns every account; there is nothing to hand over"),
                    "has no effect",
                )
                .help("remove `end_customer_access`; it applies where a provider creates accounts for a customer");
            checker.push(diagnostic);
        }
    }

    check_operator_declared(checker, raw, organization);
    check_operator_boundary(checker, file, desired);

    if organization.payer == Payer::Shared {
        let shared_features = [
            (
                file.organizational_units.keys().next().map(|k| k.span),
                "OUs",
            ),
            (
                file.policies.keys().next().map(|k| k.span),
                "organization policies",
            ),
            (
                raw.enabled_policy_types.first().map(|t| t.span),
                "enabled policy types",
            ),
            (raw.tags.keys().next().map(|k| k.span), "root tags"),
        ];
        let present: Vec<(Span, &str)> = shared_features
            .into_iter()
            .filter_map(|(span, what)| span.map(|span| (span, what)))
            .collect();
        if let Some(((first_span, first_what), rest)) = present.split_first() {
            let whats: Vec<&str> = present.iter().map(|(_, what)| *what).collect();
            let mut diagnostic = checker.at(
                Rule::SharedPayerFeatures,
                *first_span,
                format!(
                    "a shared payer cannot have {}: the customer's accounts are members of the provider's organization",
                    crate::suggest::and_list(&whats)
                ),
                format!("{first_what} need a dedicated payer"),
            );
            for (span, what) in rest {
                diagnostic = diagnostic.also(*span, format!("{what} need a dedicated payer"));
            }
            let also_accounts = if whats.contains(&"OUs") {
                " (and the `ou:` of each account)"
            } else {
                ""
            };
            diagnostic = diagnostic
                .also(raw.payer.span, "declared shared here")
                .help(format!(
                    "write `payer: dedicated`, or remove them{also_accounts}"
                ));
            checker.push(diagnostic);
        }
        let existing = raw
            .customer
            .as_ref()
            .and_then(|customer| customer.existing_organization.as_ref())
            .filter(|existing| existing.value);
        if let Some(existing) = existing {
            let diagnostic = checker
                .at(
                    Rule::ExistingOrganizationOnSharedPayer,
                    existing.span,
                    "a customer with an existing AWS Organization needs a dedicated payer",
                    "the customer already runs an organization",
                )
                .also(raw.payer.span, "declared shared here")
                .help("write `payer: dedicated`: an account belongs to one organization only, and a shared payer's organization is the provider's");
            checker.push(diagnostic);
        }
    }

    for key in raw.management_account.tags.keys() {
        if WORKLOAD_TAG_KEYS.contains(&key.value.to_ascii_lowercase().as_str()) {
            let diagnostic = checker
                .at(
                    Rule::ManagementWorkloadTags,
                    key.span,
                    format!("the management account carries the workload tag `{}`", key.value),
                    "a workload tag",
                )
                .help(format!("remove `{}` from the management account's tags and tag a member account instead: the management account runs billing and organization management only.", key.value));
            checker.push(diagnostic);
        }
    }
}

/// The other party.
const fn other_party(party: Party) -> Party {
    match party {
        Party::Provider => Party::Customer,
        Party::Customer => Party::Provider,
    }
}

/// The operator must be a party the file declares.
fn check_operator_declared(
    checker: &mut Checker,
    raw: &config::Organization,
    organization: &Organization,
) {
    let Some(operator) = &raw.operator else {
        return;
    };
    if organization.party(operator.value).is_some() {
        return;
    }
    let key = party_key(operator.value);
    let diagnostic = checker
        .at(
            Rule::OperatorUndeclared,
            operator.span,
            format!("the file is run by {}, but declares no `{key}`", party_name(operator.value)),
            "an undeclared party",
        )
        .help(format!(
            "declare `{key}: {{ name: ..., email_domain: ... }}` under `organization`, or write `operator: {}` if {} runs orgctl with this file",
            party_key(other_party(operator.value)),
            party_name(other_party(operator.value))
        ));
    checker.push(diagnostic);
}

/// The operator may only plan IAM changes inside accounts it owns.
fn check_operator_boundary(checker: &mut Checker, file: &ConfigFile, desired: &Desired) {
    let organization = &desired.organization;
    let ownership = organization.ownership;
    let operator = organization.operator;
    if ownership.reaches(operator, AccountKind::Member) {
        return;
    }
    let model = model_name(organization.business_model);
    let wants_user = file
        .organization
        .end_customer_access
        .as_ref()
        .filter(|access| access.value == EndCustomerAccess::IamUser);
    if let (Some(access), Party::Provider) = (wants_user, ownership.members) {
        let diagnostic = checker
            .at(
                Rule::OperatorBoundary,
                access.span,
                format!(
                    "{} runs this file, but under `{model}` the provider owns the member accounts and keeps the customer's IAM users in them",
                    party_name(operator)
                ),
                "out of the operator's reach",
            )
            .help("the provider's file declares `end_customer_access: iam_user`; remove it from this one");
        checker.push(diagnostic);
    }
    let runs = match &file.organization.operator {
        Some(_) => format!("{} runs this file", party_name(operator)),
        None => format!(
            "{} runs this file (`operator` defaults to the owner of the management account)",
            party_name(operator)
        ),
    };
    for (name, raw) in &file.partners {
        let Some(partner) = desired.partners.get(&name.value) else {
            continue;
        };
        let members: Vec<&String> = partner
            .accounts
            .iter()
            .filter(|account| **account != desired.management_account.name)
            .collect();
        let Some(first) = members.first() else {
            continue;
        };
        let span = raw
            .ous
            .first()
            .or(raw.accounts.first())
            .map_or(name.span, |reference| reference.span);
        let diagnostic = checker
            .at(
                Rule::OperatorBoundary,
                span,
                format!(
                    "{runs} but cannot reach `{first}`{}: under `{model}`, {} owns the member accounts",
                    match members.len() {
                        1 => String::new(),
                        2 => " and 1 other account".to_owned(),
                        n => format!(" and {} other accounts", n - 1),
                    },
                    party_name(ownership.members)
                ),
                "out of the operator's reach",
            )
            .help(format!(
                "{} must apply partner access from its own file (`operator: {}`); remove partner `{}` from this one",
                party_name(ownership.members),
                party_key(ownership.members),
                name.value
            ));
        checker.push(diagnostic);
    }
}
