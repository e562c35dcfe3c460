//! Import: the live organization written as a configuration that plans no changes against it.
//!
//! Pure: [`import`] takes a [`LiveState`] and gives the YAML text and the policy documents;
//! `orgctl import` checks the result with the model and the planner before writing anything.
//! What a configuration cannot express (two sibling OUs of one name, two accounts of one name, an
//! OU name with `/`) is refused with every case listed, never written half-right.

mod access;
mod contact;
mod yaml;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};

use self::yaml::{Document, scalar};
use crate::address::Address;
use crate::config::{BusinessModel, Party, Payer, PolicyType};
use crate::diagnostic::Diagnostic;
use crate::live::{AccountState, LiveAccount, LiveOu, LivePolicy, LiveState};
use crate::model::limits::is_reserved_tag;
use crate::model::ownership::{AccountKind, Ownership, model_name, party_key, party_name};
use crate::model::{expand_template, policy_type_name};
use crate::rules::Rule;

/// The email template an import writes unless told otherwise (the configuration's default).
pub const DEFAULT_EMAIL_TEMPLATE: &str = "aws+{account}@{domain}";

/// What the user says about the organization that the organization cannot say about itself.
#[derive(Debug, Clone)]
pub struct Options {
    /// The business model.
    pub business_model: BusinessModel,
    /// Dedicated or shared payer.
    pub payer: Payer,
    /// The provider's root-email domain; default: the management account's.
    pub provider_domain: Option<String>,
    /// The customer's root-email domain; default: inferred from the root emails.
    pub customer_domain: Option<String>,
    /// The provider's display name; default: its domain.
    pub provider_name: Option<String>,
    /// The customer's display name; default: its domain.
    pub customer_name: Option<String>,
    /// The organization's short name; default: the first label of the owners' domain.
    pub name: Option<String>,
    /// The root-email template; emails it reproduces are left out of the file.
    pub email_template: String,
    /// The role orgctl assumes in member accounts (read IAM with, and written to the file).
    pub member_access_role: String,
    /// The folder, relative to the YAML file, that receives the policy documents; `None` writes
    /// each document inline (`document:`), for a configuration that is one file (`--out -`).
    pub policies_dir: Option<String>,
    /// Where the organization was read from, for the header comment.
    pub source: String,
    /// When it was read, for the header comment.
    pub imported_at: DateTime<Utc>,
}

/// An imported configuration, not yet written.
#[derive(Debug, Clone)]
pub struct Imported {
    /// The YAML text.
    pub yaml: String,
    /// Policy documents: path relative to the YAML file, and pretty JSON text.
    pub policy_files: BTreeMap<String, String>,
    /// What the import inferred or left out, for the user to review.
    pub notes: Vec<String>,
    /// OUs written.
    pub ous: usize,
    /// Member accounts written.
    pub accounts: usize,
    /// Policies written.
    pub policies: usize,
}

/// Writes `live` as a configuration, or lists everything in it that a configuration cannot
/// express.
pub fn import(live: &LiveState, options: &Options) -> Result<Imported, Vec<Diagnostic>> {
    // Every problem at once: the tree, the owners and the names.
    let (tree, mut problems) = Tree::new(live);
    let owners = Owners::infer(live, options).map_err(|mut owners| {
        problems.append(&mut owners);
    });
    let mut notes: Vec<String> = Vec::new();

    let management_id = live.organization.management_account_id.as_str();
    let management = live.accounts.iter().find(|a| a.id == management_id);
    let mut members: Vec<&LiveAccount> = live
        .accounts
        .iter()
        .filter(|a| a.id != management_id)
        .collect();
    members.sort_by(|a, b| {
        (tree.order_of(&a.parent_id), &a.name).cmp(&(tree.order_of(&b.parent_id), &b.name))
    });
    let enabled: BTreeSet<PolicyType> = live.root.enabled_policy_types.iter().copied().collect();
    let mut policies: Vec<&LivePolicy> = live
        .policies
        .iter()
        .filter(|p| !p.aws_managed)
        .filter(|p| {
            let kept = enabled.contains(&p.policy_type);
            if !kept {
                notes.push(format!(
                    "policy `{}` ({}) is a `{}` policy, a type the organization does not enable; it was left out",
                    p.name,
                    p.id,
                    policy_type_name(p.policy_type)
                ));
            }
            kept
        })
        .collect();
    policies.sort_by(|a, b| (a.policy_type, &a.name).cmp(&(b.policy_type, &b.name)));
    let keys = account_keys(management, &members, &mut notes, &mut problems);
    let ownership = Ownership::of(options.business_model);
    let access = if ownership.reaches(ownership.management, AccountKind::Member) {
        let active = members
            .iter()
            .filter(|account| account.state.is_active())
            .count();
        access::rebuild(live, &keys, active, &mut notes).unwrap_or_else(|mut found| {
            problems.append(&mut found);
            access::Access::default()
        })
    } else {
        access::Access::default()
    };
    problems.extend(conflicts(&tree, &policies));
    problems.extend(root_named_conflict(
        live, &tree, &policies, management, &keys,
    ));
    let owners = match owners {
        Ok(owners) if problems.is_empty() => owners,
        _ => return Err(problems),
    };
    notes.splice(0..0, owners.notes.iter().cloned());

    let contacts = contact::Placement::new(live, &ownership, options.payer, |party| {
        owners.domain_of(party).is_some()
    });
    let mut document = Document::default();
    organization(
        &mut document,
        live,
        options,
        &owners,
        &tree,
        access.user.as_ref(),
        &contacts,
    );
    if options.payer == Payer::Dedicated {
        delegated_administrators(&mut document, live, &keys, &mut notes);
    }
    tags(&mut document, 2, &live.root.tags);
    if !tree.children_of(&live.root.id).is_empty() {
        document.blank();
        document.open(0, "organizational_units");
        tree.write(&mut document, &live.root.id, 2);
    }
    if !members.is_empty() {
        document.blank();
        document.open(0, "accounts");
        for account in &members {
            let key = keys.get(&account.id).unwrap_or(&account.name);
            member(&mut document, account, key, options, &owners, &tree);
            contact::write(&mut document, 4, &contacts.of_account(&account.id));
        }
    }
    let targets = Targets::new(live, &tree, management, &members, &keys);
    let mut policy_files = BTreeMap::new();
    if !policies.is_empty() {
        document.blank();
        document.open(0, "policies");
        let mut taken: BTreeSet<String> = BTreeSet::new();
        for policy in &policies {
            let mut attach = Vec::with_capacity(policy.targets.len());
            for target in &policy.targets {
                match targets.reference(target) {
                    Some(reference) => attach.push(reference),
                    None => notes.push(format!(
                        "policy `{}` is attached to `{target}`, which is not in the organization; that attachment was left out",
                        policy.name
                    )),
                }
            }
            attach.sort_by_key(|(order, _)| *order);
            let attach: Vec<String> = attach.into_iter().map(|(_, text)| text).collect();
            document.open(2, &policy.name);
            document.entry(4, "type", policy_type_name(policy.policy_type));
            if !policy.description.is_empty() {
                document.entry(4, "description", &policy.description);
            }
            match &options.policies_dir {
                Some(folder) => {
                    let path = policy_path(folder, &policy.name, &mut taken);
                    document.entry(4, "file", &path);
                    policy_files.insert(path, pretty(&policy.document));
                }
                None => document.literal(4, "document", &pretty(&policy.document)),
            }
            if !attach.is_empty() {
                document.list(4, "attach", &attach);
            }
            tags(&mut document, 4, &policy.tags);
        }
    }
    access::write_partners(&mut document, &access.partners);
    let mut yaml = Document::default();
    header(&mut yaml, live, options, &notes, &members, &policies);
    let mut yaml = yaml.finish();
    yaml.push_str(&document.finish());
    Ok(Imported {
        yaml,
        policy_files,
        notes,
        ous: live.organizational_units.len(),
        accounts: members.len(),
        policies: policies.len(),
    })
}

/// The OU tree: each OU's path, children sorted by name, and a tree order for listing accounts.
struct Tree<'a> {
    root_id: &'a str,
    children: HashMap<&'a str, Vec<&'a LiveOu>>,
    paths: HashMap<&'a str, String>,
    order: HashMap<&'a str, usize>,
}

impl<'a> Tree<'a> {
    /// The tree, and what the state holds that no tree can place (an inconsistent snapshot).
    fn new(live: &'a LiveState) -> (Self, Vec<Diagnostic>) {
        let mut children: HashMap<&str, Vec<&LiveOu>> = HashMap::new();
        for ou in &live.organizational_units {
            children.entry(ou.parent_id.as_str()).or_default().push(ou);
        }
        for siblings in children.values_mut() {
            siblings.sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
        }
        let mut tree = Tree {
            root_id: live.root.id.as_str(),
            children,
            paths: HashMap::new(),
            order: HashMap::new(),
        };
        tree.order.insert(tree.root_id, 0);
        let mut stack: Vec<(&str, String)> = vec![(tree.root_id, String::new())];
        while let Some((id, path)) = stack.pop() {
            let children: Vec<&LiveOu> = tree.children_of(id).to_vec();
            for child in children.into_iter().rev() {
                let child_path = if path.is_empty() {
                    child.name.clone()
                } else {
                    format!("{path}/{}", child.name)
                };
                stack.push((child.id.as_str(), child_path.clone()));
                tree.paths.insert(child.id.as_str(), child_path);
            }
            let next = tree.order.len();
            tree.order.entry(id).or_insert(next);
        }
        let lost: Vec<String> = live
            .organizational_units
            .iter()
            .filter(|ou| !tree.paths.contains_key(ou.id.as_str()))
            .map(|ou| format!("OU `{}` ({})", ou.name, ou.id))
            .chain(
                live.accounts
                    .iter()
                    .filter(|account| tree.path_of(&account.parent_id).is_none())
                    .map(|account| format!("account `{}` ({})", account.name, account.id)),
            )
            .collect();
        let mut problems = Vec::new();
        if !lost.is_empty() {
            problems.push(
                Diagnostic::new(
                    Rule::ImportConflict,
                    format!(
                        "these sit in a parent that is not in the organization: {}",
                        lost.join(", ")
                    ),
                )
                .help("the snapshot is inconsistent: export it again with `orgctl export`"),
            );
        }
        (tree, problems)
    }

    fn children_of(&self, id: &str) -> &[&'a LiveOu] {
        self.children.get(id).map_or(&[], Vec::as_slice)
    }

    /// The path of the root or an OU (`""` for the root).
    fn path_of(&self, id: &str) -> Option<&str> {
        if id == self.root_id {
            Some("")
        } else {
            self.paths.get(id).map(String::as_str)
        }
    }

    fn order_of(&self, id: &str) -> usize {
        self.order.get(id).copied().unwrap_or(usize::MAX)
    }

    fn write(&self, document: &mut Document, parent: &str, indent: usize) {
        for ou in self.children_of(parent) {
            document.open(indent, &ou.name);
            document.entry(indent + 2, "id", &ou.id);
            tags(document, indent + 2, &ou.tags);
            if !self.children_of(&ou.id).is_empty() {
                document.open(indent + 2, "children");
                self.write(document, &ou.id, indent + 4);
            }
        }
    }
}

/// The longest account name AWS allows, and so the longest key for one.
const ACCOUNT_NAME_MOST: usize = 50;

/// The key of each member account in `accounts:`, by id: its name. A closed account whose name
/// another account now has (closing and recreating is common) gets `name~id`: plans match closed
/// accounts by id and never rename them. Two open accounts of one name are a conflict.
fn account_keys(
    management: Option<&LiveAccount>,
    members: &[&LiveAccount],
    notes: &mut Vec<String>,
    problems: &mut Vec<Diagnostic>,
) -> HashMap<String, String> {
    let mut by_name: BTreeMap<&str, Vec<&LiveAccount>> = BTreeMap::new();
    for account in management.into_iter().chain(members.iter().copied()) {
        by_name.entry(&account.name).or_default().push(account);
    }
    let mut keys: HashMap<String, String> = members
        .iter()
        .map(|account| (account.id.clone(), account.name.clone()))
        .collect();
    for (name, accounts) in by_name.iter().filter(|(_, accounts)| accounts.len() > 1) {
        let open: Vec<&str> = accounts
            .iter()
            .filter(|a| !closes(a.state))
            .map(|a| a.id.as_str())
            .collect();
        if open.len() > 1 {
            problems.push(
                Diagnostic::new(
                    Rule::ImportConflict,
                    format!(
                        "accounts {} are all named `{name}`; a configuration names accounts by name",
                        open.join(", ")
                    ),
                )
                .help("rename all but one in AWS (Account Management's PutAccountName, or the console), then import again"),
            );
            continue;
        }
        let mut first = true;
        for account in accounts.iter().filter(|a| closes(a.state)) {
            // One closed account may keep the name when no open one has it.
            if open.is_empty() && std::mem::take(&mut first) {
                continue;
            }
            let suffix = format!("~{}", account.id);
            let stem: String = name
                .chars()
                .take(ACCOUNT_NAME_MOST - suffix.len())
                .collect();
            let key = format!("{stem}{suffix}");
            notes.push(format!(
                "the closed account {} is named `{name}` like another account; it is declared as `{key}`",
                account.id
            ));
            keys.insert(account.id.clone(), key);
        }
    }
    keys
}

/// A policy attached to the organization root is written `attach: [root]`, which a configuration
/// refuses as ambiguous while an OU or account of it is also called `root`.
fn root_named_conflict(
    live: &LiveState,
    tree: &Tree,
    policies: &[&LivePolicy],
    management: Option<&LiveAccount>,
    keys: &HashMap<String, String>,
) -> Option<Diagnostic> {
    let on_root: Vec<&str> = policies
        .iter()
        .filter(|policy| policy.targets.contains(&live.root.id))
        .map(|policy| policy.name.as_str())
        .collect();
    let named_root = tree
        .paths
        .iter()
        .find(|(_, path)| path.as_str() == "root")
        .map(|(id, _)| format!("OU {id}"))
        .or_else(|| {
            management
                .filter(|m| m.name == "root")
                .map(|m| format!("account {}", m.id))
        })
        .or_else(|| {
            keys.iter()
                .find(|(_, key)| key.as_str() == "root")
                .map(|(id, _)| format!("account {id}"))
        })?;
    let first = on_root.first()?;
    Some(
        Diagnostic::new(
            Rule::ImportConflict,
            format!(
                "{named_root} is called `root`, and policy `{first}` is attached to the organization root: a configuration cannot tell the two apart"
            ),
        )
        .help("rename the OU or account in AWS, then import again"),
    )
}

/// Everything a configuration keys by name must be unique by name; OU names may not hold `/`.
fn conflicts(tree: &Tree, policies: &[&LivePolicy]) -> Vec<Diagnostic> {
    let mut problems = Vec::new();
    let mut parents: Vec<&&str> = tree.children.keys().collect();
    parents.sort();
    for parent in parents {
        let siblings = tree.children_of(parent);
        for ou in siblings.iter().filter(|ou| ou.name.contains('/')) {
            problems.push(
                Diagnostic::new(
                    Rule::ImportConflict,
                    format!(
                        "OU `{}` ({}) has `/` in its name, which orgctl uses between the names of an OU path",
                        ou.name, ou.id
                    ),
                )
                .help("rename the OU in AWS (the console, or `aws organizations update-organizational-unit`), then import again"),
            );
        }
        for pair in siblings
            .windows(2)
            .filter(|pair| pair[0].name == pair[1].name)
        {
            let place = match tree.path_of(parent) {
                Some("") | None => "the root".to_owned(),
                Some(path) => format!("`{path}`"),
            };
            problems.push(
                Diagnostic::new(
                    Rule::ImportConflict,
                    format!(
                        "OUs {} and {} under {place} are both named `{}`; a configuration names OUs by path",
                        pair[0].id, pair[1].id, pair[0].name
                    ),
                )
                .help("rename one of them in AWS, or move its accounts out and delete it, then import again"),
            );
        }
    }
    let mut by_name: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for policy in policies {
        by_name.entry(&policy.name).or_default().push(format!(
            "{} ({})",
            policy.id,
            policy_type_name(policy.policy_type)
        ));
    }
    for (name, ids) in by_name.iter().filter(|(_, ids)| ids.len() > 1) {
        problems.push(
            Diagnostic::new(
                Rule::ImportConflict,
                format!(
                    "policies {} are all named `{name}`; a configuration names policies by name",
                    ids.join(", ")
                ),
            )
            .help("rename all but one in AWS (`aws organizations update-policy --name`), then import again"),
        );
    }
    problems
}

/// The parties and their domains: given on the command line, or read from the root emails.
#[derive(Debug, Clone)]
struct Owners {
    ownership: Ownership,
    provider: Option<(String, String)>,
    customer: Option<(String, String)>,
    /// The customer runs this organization today (its domain holds the management root).
    existing_organization: bool,
    name: String,
    notes: Vec<String>,
}

impl Owners {
    fn infer(live: &LiveState, options: &Options) -> Result<Self, Vec<Diagnostic>> {
        let model = options.business_model;
        let ownership = Ownership::of(model);
        let management_domain = domain_of(&live.organization.management_account_email);
        let mut notes = Vec::new();
        let given = |domain: &Option<String>| {
            domain
                .as_deref()
                .map(|d| d.trim().to_ascii_lowercase())
                .filter(|d| !d.is_empty())
        };
        let mut provider = given(&options.provider_domain);
        let mut customer = given(&options.customer_domain);
        let owns = |party: Party| ownership.owning_parties().contains(&party);
        if provider.is_none() && owns(Party::Provider) {
            notes.push(format!(
                "the provider's email domain `{management_domain}` is the management account's (pass --provider-domain to choose another)"
            ));
            provider = Some(management_domain.clone());
        }
        if customer.is_none() && owns(Party::Customer) {
            if ownership.management == Party::Customer {
                notes.push(format!(
                    "the customer's email domain `{management_domain}` is the management account's (pass --customer-domain to choose another)"
                ));
                customer = Some(management_domain.clone());
            } else {
                customer = Some(Self::customer_from_members(
                    live,
                    provider.as_deref(),
                    model,
                    &mut notes,
                )?);
            }
        }
        let existing_organization = ownership.management == Party::Provider
            && customer
                .as_deref()
                .is_some_and(|customer| within(&management_domain, customer));
        if existing_organization {
            notes.push(format!(
                "the management account's root email is on the customer's domain: the customer runs this organization today, recorded as `existing_organization: true`; under `{}` {} must own the payer",
                model_name(model),
                party_name(ownership.management)
            ));
        }
        let name = options.name.clone().unwrap_or_else(|| {
            let domain = customer
                .as_deref()
                .or(provider.as_deref())
                .unwrap_or_default();
            match domain.split('.').next().filter(|label| !label.is_empty()) {
                Some(label) => label.to_owned(),
                None => live.organization.id.clone(),
            }
        });
        let with_name = |domain: Option<String>, name: &Option<String>| {
            domain.map(|domain| (name.clone().unwrap_or_else(|| domain.clone()), domain))
        };
        Ok(Owners {
            ownership,
            provider: with_name(provider, &options.provider_name),
            customer: with_name(customer, &options.customer_name),
            existing_organization,
            name,
            notes,
        })
    }

    /// The most common member root-email domain that is not the provider's.
    fn customer_from_members(
        live: &LiveState,
        provider: Option<&str>,
        model: BusinessModel,
        notes: &mut Vec<String>,
    ) -> Result<String, Vec<Diagnostic>> {
        let management_id = live.organization.management_account_id.as_str();
        let members: Vec<&LiveAccount> = live
            .accounts
            .iter()
            .filter(|a| a.id != management_id && a.state.is_active())
            .collect();
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for account in &members {
            let domain = domain_of(&account.email);
            if !provider.is_some_and(|provider| within(&domain, provider)) {
                *counts.entry(domain).or_default() += 1;
            }
        }
        let Some((domain, count)) = counts
            .into_iter()
            .max_by(|(a, m), (b, n)| m.cmp(n).then_with(|| b.cmp(a)))
        else {
            return Err(vec![
                Diagnostic::new(
                    Rule::ImportOwners,
                    format!(
                        "cannot tell the customer's email domain: under `{}` the customer owns the member accounts, but no member's root email is on a domain other than the provider's",
                        model_name(model)
                    ),
                )
                .help(format!(
                    "pass --customer-domain DOMAIN (the domain of the customer's root emails); the {} is declared either way",
                    party_key(Party::Customer)
                )),
            ]);
        };
        notes.push(format!(
            "the customer's email domain `{domain}` is the one {count} of {} active member accounts have (pass --customer-domain to choose another)",
            members.len()
        ));
        Ok(domain)
    }

    fn domain_of(&self, party: Party) -> Option<&str> {
        match party {
            Party::Provider => self.provider.as_ref(),
            Party::Customer => self.customer.as_ref(),
        }
        .map(|(_, domain)| domain.as_str())
    }

    /// The email the template gives an account of `kind`, if its owner's domain is known.
    fn template_email(
        &self,
        options: &Options,
        account: &str,
        kind: AccountKind,
    ) -> Option<String> {
        let domain = self.domain_of(self.ownership.owner(kind))?;
        Some(expand_template(
            &options.email_template,
            account,
            domain,
            &self.name,
        ))
    }
}

fn domain_of(email: &str) -> String {
    email
        .rsplit_once('@')
        .map_or("", |(_, domain)| domain)
        .to_ascii_lowercase()
}

/// Whether `domain` is `owned` or a subdomain of it.
fn within(domain: &str, owned: &str) -> bool {
    domain == owned
        || domain
            .strip_suffix(owned)
            .is_some_and(|rest| rest.ends_with('.'))
}

fn header(
    document: &mut Document,
    live: &LiveState,
    options: &Options,
    notes: &[String],
    members: &[&LiveAccount],
    policies: &[&LivePolicy],
) {
    let mut text = format!(
        "Imported by orgctl {} from {} on {}:\norganization {}, management account {}; {} OUs, {} member accounts, {} policies.\n",
        env!("CARGO_PKG_VERSION"),
        options.source,
        options.imported_at.format("%Y-%m-%d %H:%M UTC"),
        live.organization.id,
        live.organization.management_account_id,
        live.organizational_units.len(),
        members.len(),
        policies.len(),
    );
    text.push_str(
        "`orgctl plan` against that organization plans no changes. Accounts and OUs are pinned by id;\nroot emails the template reproduces are left out.\n",
    );
    if !notes.is_empty() {
        text.push_str(&format!(
            "Review before committing (business model `{}`):\n",
            model_name(options.business_model)
        ));
    }
    for note in notes {
        let options = textwrap::Options::new(96)
            .subsequent_indent("  ")
            .break_words(false)
            .word_splitter(textwrap::WordSplitter::NoHyphenation);
        for line in textwrap::wrap(&format!("- {note}"), options) {
            text.push_str(&line);
            text.push('\n');
        }
    }
    document.comment(0, &text);
    document.blank();
}

/// The `organization` block up to its trusted access; delegated administrators and the root's tags
/// follow it.
fn organization(
    document: &mut Document,
    live: &LiveState,
    options: &Options,
    owners: &Owners,
    tree: &Tree,
    user: Option<&access::User>,
    contacts: &contact::Placement,
) {
    let management_id = &live.organization.management_account_id;
    let management = live.accounts.iter().find(|a| &a.id == management_id);
    document.open(0, "organization");
    document.entry(2, "name", &owners.name);
    document.raw(2, "business_model", model_name(options.business_model));
    document.raw(
        2,
        "payer",
        match options.payer {
            Payer::Dedicated => "dedicated",
            Payer::Shared => "shared",
        },
    );
    for (party, declared) in [
        (Party::Provider, &owners.provider),
        (Party::Customer, &owners.customer),
    ] {
        let Some((name, domain)) = declared else {
            continue;
        };
        let existing = party == Party::Customer && owners.existing_organization;
        let party_contacts = contacts.of_party(party);
        if party_contacts.is_empty() {
            let existing = if existing {
                ", existing_organization: true"
            } else {
                ""
            };
            document.raw(
                2,
                party_key(party),
                &format!(
                    "{{ name: {}, email_domain: {}{existing} }}",
                    scalar(name),
                    scalar(domain)
                ),
            );
        } else {
            document.open(2, party_key(party));
            document.entry(4, "name", name);
            document.entry(4, "email_domain", domain);
            if existing {
                document.raw(4, "existing_organization", "true");
            }
            contact::write(document, 4, &party_contacts);
        }
    }
    document.open(2, "management_account");
    let (name, email, parent, account_tags) = match management {
        Some(account) => (
            account.name.as_str(),
            account.email.as_str(),
            account.parent_id.as_str(),
            Some(&account.tags),
        ),
        None => (
            management_id.as_str(),
            live.organization.management_account_email.as_str(),
            live.root.id.as_str(),
            None,
        ),
    };
    document.entry(4, "name", name);
    document.entry(4, "id", management_id);
    if owners
        .template_email(options, name, AccountKind::Management)
        .as_deref()
        != Some(email)
    {
        document.entry(4, "email", email);
    }
    if let Some(path) = tree.path_of(parent).filter(|path| !path.is_empty()) {
        document.entry(4, "ou", path);
    }
    if let Some(account_tags) = account_tags {
        tags(document, 4, account_tags);
    }
    contact::write(document, 4, &contacts.of_account(management_id));
    document.entry(2, "email_template", &options.email_template);
    if let Some(user) = user {
        access::write_user(document, user);
    }
    if options.member_access_role != crate::model::DEFAULT_MEMBER_ACCESS_ROLE {
        document.entry(2, "member_access_role", &options.member_access_role);
    }
    let types: Vec<String> = live
        .root
        .enabled_policy_types
        .iter()
        .map(|t| policy_type_name(*t).to_owned())
        .collect();
    if !types.is_empty() {
        document.list(2, "enabled_policy_types", &types);
    }
    // On a shared payer the organization is the provider's: its trusted access and delegated
    // administrators stay unmanaged.
    if options.payer == Payer::Dedicated && !live.trusted_access.is_empty() {
        document.list(2, "trusted_access", &live.trusted_access);
    }
}

/// `delegated_administrators`, by service, each account by its key: active member accounts only
/// (an account that is closing cannot administer; the plan deregisters it).
fn delegated_administrators(
    document: &mut Document,
    live: &LiveState,
    keys: &HashMap<String, String>,
    notes: &mut Vec<String>,
) {
    if live.delegated_administrators.is_empty() {
        return;
    }
    let mut by_service: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for delegation in &live.delegated_administrators {
        let account = live
            .accounts
            .iter()
            .find(|account| account.id == delegation.account_id);
        match (account, keys.get(&delegation.account_id)) {
            (Some(account), Some(key)) if account.state.is_active() => {
                by_service
                    .entry(&delegation.service)
                    .or_default()
                    .push(key.clone());
            }
            _ => notes.push(format!(
                "account {} administers {} but is not an active member; it was left out, and the plan deregisters it",
                delegation.account_id, delegation.service
            )),
        }
    }
    if by_service.is_empty() {
        document.raw(2, "delegated_administrators", "{}");
        return;
    }
    document.open(2, "delegated_administrators");
    for (service, mut accounts) in by_service {
        accounts.sort();
        document.list(4, service, &accounts);
    }
}

fn member(
    document: &mut Document,
    account: &LiveAccount,
    key: &str,
    options: &Options,
    owners: &Owners,
    tree: &Tree,
) {
    if let Some(comment) = state_comment(account.state) {
        document.comment(2, comment);
    }
    document.open(2, key);
    document.entry(4, "id", &account.id);
    if let Some(path) = tree
        .path_of(&account.parent_id)
        .filter(|path| !path.is_empty())
    {
        document.entry(4, "ou", path);
    }
    if owners
        .template_email(options, &account.name, AccountKind::Member)
        .as_deref()
        != Some(account.email.as_str())
    {
        document.entry(4, "email", &account.email);
    }
    tags(document, 4, &account.tags);
    if closes(account.state) {
        document.raw(4, "lifecycle", "close");
    }
}

/// Whether an imported account is written `lifecycle: close`: closing, closed, or suspended (the
/// retired `Status` field, and moto, say SUSPENDED of a closed account). An account whose
/// sign-up is not complete stays active: it becomes usable without orgctl.
fn closes(state: AccountState) -> bool {
    !matches!(
        state,
        AccountState::Active | AccountState::PendingActivation
    )
}

/// What the file says above an account that is not active, naming its state as AWS does.
fn state_comment(state: AccountState) -> Option<&'static str> {
    match state {
        AccountState::Active => None,
        AccountState::PendingActivation => Some(
            "PENDING_ACTIVATION in AWS: its sign-up is not complete; orgctl changes nothing in it until it is ACTIVE.",
        ),
        AccountState::Suspended => Some(
            "SUSPENDED in AWS: closed, or suspended by AWS. If AWS reinstates it, delete `lifecycle: close`.",
        ),
        AccountState::PendingClosure => Some("PENDING_CLOSURE in AWS: it is closing."),
        AccountState::Closed => Some(
            "CLOSED in AWS: AWS Support can reopen it within 90 days of closing; AWS removes it after.",
        ),
    }
}

/// `tags: {...}` unless there are none; tags in AWS's `aws:` namespace are AWS's, not the file's.
fn tags(document: &mut Document, indent: usize, tags: &BTreeMap<String, String>) {
    let own: BTreeMap<String, String> = tags
        .iter()
        .filter(|(key, _)| !is_reserved_tag(key))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    if !own.is_empty() {
        document.map(indent, "tags", &own);
    }
}

/// How `attach` names each target id, with an order: the root, OUs in tree order, then accounts.
struct Targets {
    by_id: HashMap<String, (usize, String)>,
}

impl Targets {
    fn new(
        live: &LiveState,
        tree: &Tree,
        management: Option<&LiveAccount>,
        members: &[&LiveAccount],
        keys: &HashMap<String, String>,
    ) -> Self {
        // How the file names each account: the management account by its name, members by key.
        let accounts: Vec<(&str, &str)> = management
            .map(|m| (m.id.as_str(), m.name.as_str()))
            .into_iter()
            .chain(members.iter().map(|a| {
                (
                    a.id.as_str(),
                    keys.get(&a.id).map_or(a.name.as_str(), String::as_str),
                )
            }))
            .collect();
        let account_names: BTreeSet<&str> = accounts.iter().map(|(_, name)| *name).collect();
        let ou_paths: BTreeSet<&str> = tree.paths.values().map(String::as_str).collect();
        // A bare reference is read as `root`, an OU path or an account name: prefix the ones
        // that could be read as something else (the root, an OU or an account written as such).
        let reserved = |text: &str| {
            matches!(
                text.parse::<Address>(),
                Ok(Address::Root | Address::Ou(_) | Address::Account(_))
            )
        };
        let mut by_id = HashMap::new();
        by_id.insert(live.root.id.clone(), (0, Address::Root.to_string()));
        for (id, path) in &tree.paths {
            let text = if account_names.contains(path.as_str()) || reserved(path) {
                Address::ou(path).to_string()
            } else {
                path.clone()
            };
            by_id.insert((*id).to_owned(), (tree.order_of(id), text));
        }
        let mut names = accounts;
        names.sort_by(|a, b| a.1.cmp(b.1));
        for (index, (id, name)) in names.into_iter().enumerate() {
            // A name with `/` could be read as an OU path (whose slashes at the ends are trimmed).
            let text = if ou_paths.contains(name) || reserved(name) || name.contains('/') {
                Address::account(name).to_string()
            } else {
                name.to_owned()
            };
            by_id.insert(id.to_owned(), (tree.order.len() + index, text));
        }
        Targets { by_id }
    }

    fn reference(&self, id: &str) -> Option<(usize, String)> {
        self.by_id.get(id).cloned()
    }
}

/// `policies/<name>.json`, with the name made safe for any filesystem and unique ignoring case.
fn policy_path(dir: &str, name: &str, taken: &mut BTreeSet<String>) -> String {
    let mut stem: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    stem = stem.trim_matches(['-', '.']).to_owned();
    if stem.is_empty() {
        stem = "policy".to_owned();
    }
    stem.truncate(100);
    let mut candidate = stem.clone();
    let mut counter = 2;
    while !taken.insert(candidate.to_ascii_lowercase()) {
        candidate = format!("{stem}-{counter}");
        counter += 1;
    }
    format!("{}/{candidate}.json", dir.trim_end_matches('/'))
}

/// A policy document as pretty JSON (key order kept); as it is when it is not JSON.
fn pretty(document: &str) -> String {
    let mut text = serde_json::from_str::<serde_json::Value>(document)
        .ok()
        .and_then(|value| serde_json::to_string_pretty(&value).ok())
        .unwrap_or_else(|| document.to_owned());
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_paths_are_safe_and_unique() {
        let mut taken = BTreeSet::new();
        let mut path = |name: &str| policy_path("policies", name, &mut taken);
        assert_eq!(path("deny-leave-org"), "policies/deny-leave-org.json");
        // Unique ignoring case: macOS and Windows file systems do not tell them apart.
        assert_eq!(path("Deny Leave/Org"), "policies/Deny-Leave-Org-2.json");
        assert_eq!(path("DENY-LEAVE-ORG"), "policies/DENY-LEAVE-ORG-3.json");
        assert_eq!(path("../.."), "policies/policy.json");
        assert_eq!(path("é"), "policies/policy-2.json");
    }

    #[test]
    fn subdomains_belong_to_their_domain() {
        assert!(within("acme.example", "acme.example"));
        assert!(within("mail.acme.example", "acme.example"));
        assert!(!within("notacme.example", "acme.example"));
    }
}
