//! Fleets: one provider, many organizations. A fleet file ([`file::FleetFile`]) lists the
//! provider's operating companies and its organizations; each organization's configuration
//! inherits its company's defaults and the provider ([`inherit`]), the fleet checks what no one
//! file can see ([`cross_check`]: an account two customers of one shared payer claim), and runs
//! pick their organizations by name and by shard ([`shard`]) and end in one summary
//! ([`summary`]).
//!
//! Reading files is [`load`]'s; the rest is pure. Running organizations (reading AWS, applying)
//! is the command's (`commands::fleet`).

pub mod file;
pub mod shard;
pub mod summary;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use file::{Company, FleetFile, Member, is_fleet};

use crate::config::{self, BusinessModel, Config, Payer, PolicyType, Span, Spanned};
use crate::diagnostic::{Diagnostic, SourceFile};
use crate::files;
use crate::model::Desired;
use crate::rules::Rule;

/// A fleet file, read: its text (for diagnostics), its contents and its folder (which the
/// organizations' paths start from).
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The YAML text.
    pub source: Arc<SourceFile>,
    /// The parsed file.
    pub file: FleetFile,
    /// The folder the file is in.
    pub folder: PathBuf,
    /// The documents of the companies' policies that name a `file`, by company and policy name.
    pub policy_files: BTreeMap<(String, String), config::PolicySource>,
}

/// Reads and parses the fleet file at `path`.
pub fn load(path: &Path) -> Result<Loaded, Vec<Diagnostic>> {
    let display = path.display().to_string();
    let bytes = files::read(path, files::CONFIG).map_err(|error| {
        vec![
            Diagnostic::new(Rule::ConfigRead, format!("cannot read `{display}`: {error}"))
                .help("pass the path of a fleet file, e.g. `orgctl fleet validate examples/fleet/fleet.yaml`"),
        ]
    })?;
    let (source, file) = config::parse_document::<FleetFile>(&display, &bytes, "provider")?;
    let folder = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let policy_files = file
        .companies
        .iter()
        .flat_map(|(company, defaults)| {
            defaults.policies.iter().filter_map(|(name, policy)| {
                let relative = policy.file.as_ref()?;
                Some((
                    (company.value.clone(), name.value.clone()),
                    config::read_policy_file(&folder, &relative.value),
                ))
            })
        })
        .collect();
    Ok(Loaded {
        source,
        file,
        folder,
        policy_files,
    })
}

/// How to reach one organization's management account.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reach {
    /// A snapshot file standing in for the organization.
    pub snapshot: Option<PathBuf>,
    /// The profile whose credentials reach it (or the role is assumed from).
    pub profile: Option<String>,
    /// The role to assume in its management account.
    pub role_arn: Option<String>,
    /// The external id the role asks for.
    pub external_id: Option<String>,
}

impl Reach {
    /// What identifies the organization this reaches, when no management account id is
    /// declared: organizations reached the same way are one organization.
    fn identity(&self) -> String {
        match (&self.snapshot, &self.role_arn, &self.profile) {
            (Some(path), _, _) => format!("snapshot {}", path.display()),
            (None, Some(role), _) => format!("role {role}"),
            (None, None, Some(profile)) => format!("profile {profile}"),
            (None, None, None) => "default credentials".to_owned(),
        }
    }
}

/// One organization of the fleet, as the fleet file declares it.
#[derive(Debug, Clone)]
pub struct Organization {
    /// Its name in the fleet file.
    pub name: String,
    /// Its operating company.
    pub company: String,
    /// Its configuration file.
    pub config: PathBuf,
    /// How to reach its management account.
    pub reach: Reach,
    /// The management account id the fleet file pins, if it does.
    pub management_account_id: Option<String>,
    /// The span of its entry's name in the fleet file.
    pub span: Span,
    /// The problems of its entry in the fleet file (an unknown company, no way to reach it).
    pub problems: Vec<Diagnostic>,
}

/// The fleet file's organizations, each with the problems of its entry: a company that does not
/// exist, no way (or two ways) to be reached, a management account id that is not 12 digits.
/// Every problem at once, each with its organization, so that one organization's problems stop
/// only that organization.
pub fn organizations(loaded: &Loaded) -> Vec<Organization> {
    let file = &loaded.file;
    let mut organizations = Vec::new();
    for (name, member) in &file.organizations {
        let mut diagnostics = Vec::new();
        if !file.companies.contains_key(member.company.value.as_str()) {
            let known: Vec<&str> = file
                .companies
                .keys()
                .map(|key| key.value.as_str())
                .collect();
            diagnostics.push(
                Diagnostic::new(
                    Rule::FleetCompany,
                    format!(
                        "organization `{}` belongs to `{}`, which is not a company of the fleet",
                        name.value, member.company.value
                    ),
                )
                .at(&loaded.source, member.company.span, "no such company")
                .help(format!(
                    "write one of the companies the fleet declares: {}",
                    crate::suggest::list(&known)
                )),
            );
        }
        diagnostics.extend(check_reach(loaded, name, member));
        organizations.push(Organization {
            name: name.value.clone(),
            company: member.company.value.clone(),
            config: config::locate(&loaded.folder.join(&member.config.value)),
            reach: Reach {
                snapshot: member
                    .state
                    .as_ref()
                    .map(|state| loaded.folder.join(&state.value)),
                profile: member.profile.as_ref().map(|profile| profile.value.clone()),
                role_arn: member.role_arn.as_ref().map(|role| role.value.clone()),
                external_id: member.external_id.as_ref().map(|id| id.value.clone()),
            },
            management_account_id: member
                .management_account_id
                .as_ref()
                .map(|id| id.value.clone()),
            span: name.span,
            problems: diagnostics,
        });
    }
    organizations
}

/// The problems of how one organization is reached: exactly one of a snapshot and AWS
/// credentials (a role, a profile, or both), an external id only with a role, a management
/// account id of 12 digits.
fn check_reach(loaded: &Loaded, name: &Spanned<String>, member: &Member) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    let aws = member.role_arn.is_some() || member.profile.is_some();
    let problem = match (&member.state, aws) {
        (Some(_), true) => Some((
            "has both a snapshot (`state`) and AWS credentials (`role_arn`, `profile`)",
            "keep `state` for offline runs, or `role_arn`/`profile` to reach AWS, not both",
        )),
        (None, false) => Some((
            "has no way to reach its management account",
            "add `role_arn` (a role to assume from the runner's credentials), `profile`, or `state` (a snapshot file)",
        )),
        _ => None,
    };
    if let Some((message, help)) = problem {
        diagnostics.push(
            Diagnostic::new(
                Rule::FleetAccess,
                format!("organization `{}` {message}", name.value),
            )
            .at(&loaded.source, name.span, "here")
            .help(help),
        );
    }
    if let (Some(external_id), None) = (&member.external_id, &member.role_arn) {
        diagnostics.push(
            Diagnostic::new(
                Rule::FleetAccess,
                format!("organization `{}` has an `external_id` but no `role_arn`", name.value),
            )
            .at(&loaded.source, external_id.span, "an external id is presented when assuming a role")
            .help("add the `role_arn` whose trust policy asks for this external id, or remove `external_id`"),
        );
    }
    if let Some(id) = &member.management_account_id
        && !(id.value.len() == 12 && id.value.bytes().all(|byte| byte.is_ascii_digit()))
    {
        diagnostics.push(
            Diagnostic::new(
                Rule::FleetManagementAccount,
                format!("`{}` is not an account id", id.value),
            )
            .at(&loaded.source, id.span, "not 12 digits")
            .help("write the management account's 12-digit id, quoted: `management_account_id: \"111111111111\"`"),
        );
    }
    diagnostics
}

/// `file:line:column` of `span` in the fleet file, for messages about another file.
fn place(loaded: &Loaded, span: Span) -> String {
    let (line, column) = loaded.source.line_column(span.offset);
    format!("{}:{line}:{column}", loaded.source.name())
}

/// Gives `config` what it inherits from the fleet: the provider, and its company's business
/// model, end-customer access, email template and presets, where the file leaves them out. A
/// file that contradicts the fleet (another provider, a business model the company does not
/// allow) is an error at the file's span, naming where the fleet says otherwise. A
/// configuration of a company the fleet does not have inherits only the provider.
pub fn inherit(
    config: &mut Config,
    loaded: &Loaded,
    organization: &Organization,
) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    let source = Arc::clone(&config.source);
    let raw = &mut config.file.organization;
    // What the file did not write points at its organization's name.
    let here = raw.name.span;
    let provider = &loaded.file.provider;
    if let Some(own) = &raw.provider {
        let same = own.name.value == provider.name.value
            && own
                .email_domain
                .value
                .eq_ignore_ascii_case(&provider.email_domain.value);
        if !same {
            diagnostics.push(
                Diagnostic::new(
                    Rule::FleetProvider,
                    format!(
                        "the file names the provider `{}` ({}), but its fleet is `{}`'s ({})",
                        own.name.value,
                        own.email_domain.value,
                        provider.name.value,
                        provider.email_domain.value
                    ),
                )
                .at(&source, own.span, "another provider")
                .also_in(&loaded.source, provider.span, "the fleet's provider")
                .help(format!(
                    "remove `provider:` to inherit the fleet's (declared at {}), or list this file in that provider's fleet",
                    place(loaded, provider.span)
                )),
            );
        }
    }
    let inherited_provider = raw.provider.is_none();
    if inherited_provider {
        raw.provider = Some(respanned_provider(provider, here));
    }
    let Some(company) = loaded.file.companies.get(organization.company.as_str()) else {
        return diagnostics;
    };
    if let Some(provider) = raw.provider.as_mut() {
        company_contacts(
            &mut provider.value.contacts,
            &company.contacts,
            here,
            inherited_provider,
        );
    }
    match &raw.business_model {
        Some(own) => {
            let allowed = allowed_models(company);
            if !allowed.contains(&own.value) {
                let names: Vec<&str> = allowed
                    .iter()
                    .map(|model| crate::model::ownership::model_name(*model))
                    .collect();
                diagnostics.push(
                    Diagnostic::new(
                        Rule::FleetBusinessModel,
                        format!(
                            "`{}` is not a business model the company `{}` allows",
                            crate::model::ownership::model_name(own.value),
                            organization.company
                        ),
                    )
                    .at(&source, own.span, "not allowed by the company")
                    .also_in(
                        &loaded.source,
                        company.business_model.span,
                        format!("the business model of `{}`", organization.company),
                    )
                    .help(format!(
                        "write {} (the company's, at {}), or remove `business_model:` to inherit it",
                        crate::suggest::list(&names),
                        place(loaded, company.business_model.span)
                    )),
                );
            }
        }
        None => raw.business_model = Some(Spanned::new(company.business_model.value, here)),
    }
    if raw.end_customer_access.is_none()
        && let Some(access) = &company.end_customer_access
    {
        raw.end_customer_access = Some(Spanned::new(access.value, here));
    }
    // The default template has no span: the file did not write one.
    if raw.email_template.span == Span::default()
        && let Some(template) = &company.email_template
    {
        raw.email_template = Spanned::new(template.value.clone(), here);
    }
    if raw.payer.value == Payer::Dedicated {
        add_presets(config, company, here);
        add_policies(config, loaded, &organization.company, company, here);
    }
    diagnostics
}

/// Adds the company's policies the file does not have (by name), spans moved to `span`, with
/// their documents; enables each one's type.
fn add_policies(config: &mut Config, loaded: &Loaded, name: &str, company: &Company, span: Span) {
    for (policy_name, policy) in &company.policies {
        if config
            .file
            .policies
            .contains_key(policy_name.value.as_str())
        {
            continue;
        }
        let mut policy = policy.clone();
        policy.policy_type.span = span;
        for target in &mut policy.attach {
            target.span = span;
        }
        enable(
            &mut config.file.organization.enabled_policy_types,
            policy.policy_type.value,
            span,
        );
        let key = (name.to_owned(), policy_name.value.clone());
        if let Some(source) = loaded.policy_files.get(&key) {
            config
                .policy_files
                .insert(policy_name.value.clone(), source.clone());
        }
        config
            .file
            .policies
            .insert(Spanned::new(policy_name.value.clone(), span), policy);
    }
}

/// Enables `kind` on the root, if the file does not.
fn enable(types: &mut Vec<Spanned<PolicyType>>, kind: PolicyType, span: Span) {
    if !types.iter().any(|enabled| enabled.value == kind) {
        types.push(Spanned::new(kind, span));
    }
}

/// The business models a company allows its organizations: its own and those it lists.
fn allowed_models(company: &Company) -> Vec<BusinessModel> {
    let mut allowed = vec![company.business_model.value];
    for model in &company.allowed_business_models {
        if !allowed.contains(&model.value) {
            allowed.push(model.value);
        }
    }
    allowed
}

/// The fleet's provider, every span moved to `span` (in the organization's file).
fn respanned_provider(
    provider: &Spanned<config::Provider>,
    span: Span,
) -> Spanned<config::Provider> {
    Spanned::new(
        config::Provider {
            name: Spanned::new(provider.name.value.clone(), span),
            email_domain: Spanned::new(provider.email_domain.value.clone(), span),
            contacts: config::Contacts {
                billing: respanned_contact(provider.contacts.billing.as_ref(), span),
                operations: respanned_contact(provider.contacts.operations.as_ref(), span),
                security: respanned_contact(provider.contacts.security.as_ref(), span),
            },
        },
        span,
    )
}

/// The company's contacts into the provider's `contacts` of an organization: in place of the
/// fleet provider's when the provider was inherited, else only where the file's own provider
/// has none of that type.
fn company_contacts(
    contacts: &mut config::Contacts<config::Contact>,
    company: &config::Contacts<config::Contact>,
    span: Span,
    inherited: bool,
) {
    for (slot, from_company) in [
        (&mut contacts.billing, &company.billing),
        (&mut contacts.operations, &company.operations),
        (&mut contacts.security, &company.security),
    ] {
        if from_company.is_some() && (inherited || slot.is_none()) {
            *slot = respanned_contact(from_company.as_ref(), span);
        }
    }
}

/// One of the fleet provider's alternate contacts, every span moved to `span`.
fn respanned_contact(
    contact: Option<&Spanned<config::Contact>>,
    span: Span,
) -> Option<Spanned<config::Contact>> {
    let contact = contact?;
    let field = |value: &Spanned<String>| Spanned::new(value.value.clone(), span);
    Some(Spanned::new(
        config::Contact {
            name: field(&contact.name),
            email: field(&contact.email),
            phone: field(&contact.phone),
            title: field(&contact.title),
        },
        span,
    ))
}

/// Adds the company's presets as service control policies attached to the root, each under
/// the preset's name, unless the file has a policy of that name; enables service control
/// policies when a preset is added.
fn add_presets(config: &mut Config, company: &Company, span: Span) {
    let file = &mut config.file;
    let mut added = false;
    for preset in &company.presets {
        let name = crate::model::preset::name(preset.value);
        if file.policies.contains_key(name) {
            continue;
        }
        file.policies.insert(
            Spanned::new(name.to_owned(), span),
            config::Policy {
                policy_type: Spanned::new(PolicyType::ServiceControl, span),
                description: None,
                file: None,
                document: None,
                preset: Some(Spanned::new(preset.value, span)),
                attach: vec![Spanned::new("root".to_owned(), span)],
                tags: config::Tags::default(),
                lifecycle: Spanned::default(),
            },
        );
        added = true;
    }
    if added {
        enable(
            &mut file.organization.enabled_policy_types,
            PolicyType::ServiceControl,
            span,
        );
    }
}

/// The root emails and ids of the member accounts of the other customers on the shared payer
/// `resolved` is on: what its plan must leave alone. Empty for a dedicated payer.
pub fn claimed_by_others(resolved: &Resolved<'_>, all: &[Resolved<'_>]) -> Vec<String> {
    if resolved.desired.organization.payer != Payer::Shared {
        return Vec::new();
    }
    let payer = payer_identity(resolved);
    all.iter()
        .filter(|other| {
            other.organization.name != resolved.organization.name
                && other.desired.organization.payer == Payer::Shared
                && payer_identity(other) == payer
        })
        .flat_map(|other| other.desired.accounts.values())
        .flat_map(|account| {
            account
                .id
                .iter()
                .cloned()
                .chain([account.email.to_ascii_lowercase()])
        })
        .collect()
}

/// One organization's resolved configuration, for the checks across files.
#[derive(Debug, Clone, Copy)]
pub struct Resolved<'a> {
    /// The organization in the fleet.
    pub organization: &'a Organization,
    /// Its configuration, as read (for spans).
    pub config: &'a Config,
    /// Its desired state.
    pub desired: &'a Desired,
}

/// What identifies the organization `resolved` lives in: the management account id the fleet
/// or the file pins, else how it is reached.
pub fn payer_identity(resolved: &Resolved<'_>) -> String {
    resolved
        .organization
        .management_account_id
        .clone()
        .or_else(|| resolved.desired.management_account.id.clone())
        .map_or_else(
            || resolved.organization.reach.identity(),
            |id| format!("account {id}"),
        )
}

/// The checks across files: on one shared payer (organizations with `payer: shared` that are
/// one organization), an account (by id, or by root email) that two customers' files claim is an
/// error at the second file's account, naming both files. Each error comes with the name of the
/// organization it is reported for (the second).
pub fn cross_check(resolved: &[Resolved<'_>]) -> Vec<(String, Diagnostic)> {
    let mut payers: BTreeMap<String, Vec<&Resolved<'_>>> = BTreeMap::new();
    for member in resolved {
        if member.desired.organization.payer == Payer::Shared {
            payers
                .entry(payer_identity(member))
                .or_default()
                .push(member);
        }
    }
    let mut diagnostics = Vec::new();
    for customers in payers.values() {
        // Who claimed each id and email first: (customer, account name).
        let mut claimed: BTreeMap<String, (&Resolved<'_>, &str)> = BTreeMap::new();
        for customer in customers {
            for account in customer.desired.accounts.values() {
                let keys = account
                    .id
                    .iter()
                    .map(|id| format!("id {id}"))
                    .chain(std::iter::once(format!(
                        "email {}",
                        account.email.to_ascii_lowercase()
                    )));
                for key in keys {
                    match claimed.get(&key) {
                        Some((first, first_account))
                            if first.organization.name != customer.organization.name =>
                        {
                            diagnostics.push((
                                customer.organization.name.clone(),
                                claimed_twice(customer, &account.name, &key, first, first_account),
                            ));
                        }
                        Some(_) => {}
                        None => {
                            claimed.insert(key, (customer, &account.name));
                        }
                    }
                }
            }
        }
    }
    diagnostics
}

/// The error of an account `customer` claims that `first` claimed already.
fn claimed_twice(
    customer: &Resolved<'_>,
    account: &str,
    key: &str,
    first: &Resolved<'_>,
    first_account: &str,
) -> Diagnostic {
    let span = customer
        .config
        .file
        .accounts
        .get_key_value(account)
        .map_or(Span::default(), |(name, _)| name.span);
    Diagnostic::new(
        Rule::FleetAccountClaimed,
        format!(
            "account `{account}` ({key}) of `{}` is also claimed by `{}` as `{first_account}` in `{}`: both are on one shared payer",
            customer.config.source.name(),
            first.organization.name,
            first.config.source.name(),
        ),
    )
    .at(&customer.config.source, span, "claimed by another customer too")
    .help("an account belongs to one customer: remove it from one of the two files (or give it its own id and root email)")
}

/// What one organization's plan says about accounts crossing organizations: the accounts it
/// invites (address and id), and its organization's id and members.
#[derive(Debug, Clone, Default)]
pub struct Crossing {
    /// The fleet's name of the organization.
    pub name: String,
    /// The AWS organization it read (`o-…`).
    pub organization_id: String,
    /// The accounts its plan invites, by address and id.
    pub invited: Vec<(crate::address::Address, String)>,
    /// The ids of the accounts in its organization.
    pub members: Vec<String>,
}

/// The moves between organizations that the fleet's plans make: an account one organization
/// invites while another organization of the fleet holds it. AWS moves such an account directly
/// when it accepts (since 2025-11, within one region group); the warning, for the inviting
/// organization, says what the other organization's membership gave it that ends.
pub fn moves(crossings: &[Crossing]) -> Vec<(String, Diagnostic)> {
    let mut found = Vec::new();
    for inviting in crossings {
        for (address, id) in &inviting.invited {
            let holders = crossings.iter().filter(|other| {
                other.organization_id != inviting.organization_id && other.members.contains(id)
            });
            // Several customers' rows read one shared payer: name it once.
            let mut named: Vec<(&str, &str)> = holders
                .map(|holder| (holder.organization_id.as_str(), holder.name.as_str()))
                .collect();
            named.sort_unstable();
            named.dedup_by(|a, b| a.0 == b.0);
            for (organization_id, holder) in named {
                let diagnostic = Diagnostic::finding(
                    Rule::FleetAccountMoves,
                    Some(address.clone()),
                    format!(
                        "{address} ({id}) is a member of `{holder}` ({organization_id}), an organization of this fleet: when it accepts, AWS moves it here directly, and there that organization's policies stop applying and its delegated administrations, IAM Identity Center assignments and organization-wide shares end"
                    ),
                    format!(
                        "deregister it as delegated administrator in `{holder}` first, and agree the move with whoever runs that organization; orgctl changes nothing in `{holder}` for it"
                    ),
                );
                found.push((inviting.name.clone(), diagnostic));
            }
        }
    }
    found
}

#[cfg(test)]
mod tests;
