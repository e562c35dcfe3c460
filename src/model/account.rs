//! Accounts: the management account and the members, with their owners and root emails.

use std::collections::BTreeMap;

use indexmap::IndexMap;
use serde::Serialize;

use super::organization::Organization;
use super::ownership::AccountKind;
use super::{Checker, Ou, OuPath, email, limits, ou, resolve_tags};
use crate::config::{self, AccountLifecycle, Join, Party, Spanned};
use crate::rules::Rule;

/// An account, resolved.
#[derive(Debug, Clone, Serialize)]
pub struct Account {
    /// The account name.
    pub name: String,
    /// The pinned account id, if any.
    pub id: Option<String>,
    /// The root email.
    pub email: String,
    /// Where the root email came from.
    pub email_source: EmailSource,
    /// Who owns the account (holds its root user), from the ownership matrix.
    pub owner: Party,
    /// The OU it sits in.
    pub ou: OuPath,
    /// Its tags.
    pub tags: BTreeMap<String, String>,
    /// What should become of it.
    pub lifecycle: AccountLifecycle,
    /// How it joins the organization when it is not in it.
    pub join: Join,
    /// The alternate contacts the file manages in it (resolved by `contact::resolve`).
    pub contacts: super::contact::AccountContacts,
}

/// Where a root email came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EmailSource {
    /// Generated from `email_template`.
    Template,
    /// Written in the file.
    Explicit,
}

struct AccountFields<'a> {
    /// How messages name the account.
    described: String,
    name: &'a Spanned<String>,
    email: Option<&'a Spanned<String>>,
    id: Option<&'a Spanned<String>>,
    ou: Option<&'a Spanned<String>>,
    tags: &'a config::Tags,
}

fn resolve_account(
    checker: &mut Checker,
    organization: &Organization,
    ous: &IndexMap<OuPath, Ou>,
    kind: AccountKind,
    fields: AccountFields<'_>,
) -> Account {
    let name = fields.name;
    limits::check_account_name(checker, name);
    if let Some(id) = fields.id {
        limits::check_account_id(checker, id, &format!("the id of {}", fields.described));
    }
    let ou = fields
        .ou
        .and_then(|reference| ou::resolve_reference(checker, ous, reference, &fields.described))
        .unwrap_or_default();
    let owner = organization.ownership.owner(kind);
    let (email, email_source) = match fields.email {
        Some(explicit) => (explicit.value.trim().to_owned(), EmailSource::Explicit),
        None => (
            email::expand(organization, &name.value, owner).unwrap_or_default(),
            EmailSource::Template,
        ),
    };
    Account {
        name: name.value.clone(),
        id: fields.id.map(|id| id.value.clone()),
        email,
        email_source,
        owner,
        ou,
        tags: resolve_tags(checker, fields.tags, name.span, &fields.described),
        lifecycle: AccountLifecycle::Active,
        join: Join::Create,
        contacts: super::contact::AccountContacts::new(),
    }
}

pub(super) fn resolve_management(
    checker: &mut Checker,
    organization: &Organization,
    ous: &IndexMap<OuPath, Ou>,
    raw: &Spanned<config::ManagementAccount>,
) -> Account {
    resolve_account(
        checker,
        organization,
        ous,
        AccountKind::Management,
        AccountFields {
            described: format!("the management account `{}`", raw.name.value),
            name: &raw.name,
            email: raw.email.as_ref(),
            id: raw.id.as_ref(),
            ou: raw.ou.as_ref(),
            tags: &raw.tags,
        },
    )
}

pub(super) fn resolve_members(
    checker: &mut Checker,
    organization: &Organization,
    ous: &IndexMap<OuPath, Ou>,
    raw_accounts: &IndexMap<Spanned<String>, config::Account>,
    management: &config::ManagementAccount,
) -> IndexMap<String, Account> {
    let mut accounts = IndexMap::with_capacity(raw_accounts.len());
    // The entry that pinned each id first: a second entry with that id claims the same account.
    let mut pinned: BTreeMap<&str, (&Spanned<String>, &Spanned<String>)> = BTreeMap::new();
    for (name, raw) in raw_accounts {
        let mut account = resolve_account(
            checker,
            organization,
            ous,
            AccountKind::Member,
            AccountFields {
                described: format!("account `{}`", name.value),
                name,
                email: raw.email.as_ref(),
                id: raw.id.as_ref(),
                ou: raw.ou.as_ref(),
                tags: &raw.tags,
            },
        );
        account.lifecycle = raw.lifecycle.value;
        account.join = raw.join.value;
        leaves_with_its_root(checker, &account, name, raw);
        if account.join == Join::Invite && raw.id.is_none() {
            let diagnostic = checker
                .at(
                    Rule::InviteRequiresId,
                    raw.join.span,
                    format!("orgctl cannot invite `{}` without its account id", name.value),
                    "the account id is not pinned",
                )
                .help(format!(
                    "add `id: \"<12 digits>\"` to `{}`: an invitation goes to one existing account, by its id",
                    name.value
                ));
            checker.push(diagnostic);
        }
        if account.lifecycle != AccountLifecycle::Active && raw.id.is_none() {
            let verb = match account.lifecycle {
                AccountLifecycle::Close => "close",
                _ => "remove",
            };
            let diagnostic = checker
                .at(
                    Rule::LifecycleRequiresId,
                    raw.lifecycle.span,
                    format!("orgctl will not {verb} `{}` without its account id", name.value),
                    "the account id is not pinned",
                )
                .help(format!(
                    "add `id: \"<12 digits>\"` to `{}` so that nothing but that exact account is {verb}d; `aws organizations list-accounts` lists the ids",
                    name.value
                ));
            checker.push(diagnostic);
        }
        let same_id = raw
            .id
            .as_ref()
            .zip(management.id.as_ref())
            .filter(|(member, management)| member.value == management.value);
        let clash = match same_id {
            Some((member_id, management_id)) => Some(("id", member_id.span, management_id.span)),
            None => (name.value == management.name.value).then_some((
                "name",
                name.span,
                management.name.span,
            )),
        };
        if let Some((what, member_span, management_span)) = clash {
            let diagnostic = checker
                .at(
                    Rule::ManagementAsMember,
                    member_span,
                    format!("the member account `{}` has the management account's {what}", name.value),
                    "declared as a member here",
                )
                .also(management_span, format!("the management account's {what}"))
                .help("declare the management account only under `organization.management_account`; it is not a member account");
            checker.push(diagnostic);
        }
        if let Some(id) = raw.id.as_ref() {
            match pinned.get(id.value.trim()) {
                Some((first, first_id)) => {
                    let diagnostic = checker
                        .at(
                            Rule::AccountIdDuplicate,
                            id.span,
                            format!(
                                "`{}` and `{}` are both pinned to account `{}`: one account cannot be two entries",
                                first.value, name.value, id.value
                            ),
                            "pinned again here",
                        )
                        .also(first_id.span, format!("`{}` is pinned to it here", first.value))
                        .help(format!(
                            "keep one entry for account `{}`: to close or remove it, set `lifecycle` on that entry; a copied entry must get its own account's id",
                            id.value
                        ));
                    checker.push(diagnostic);
                }
                None => {
                    pinned.insert(id.value.trim(), (name, id));
                }
            }
        }
        accounts.insert(name.value.clone(), account);
    }
    accounts
}

/// An account that leaves (`lifecycle: remove`) takes its root user with it: where the provider
/// holds the member roots (`spam`), the customer gets an account it cannot sign in to as root
/// unless the root was handed over first, which the entry acknowledges with
/// `root_handed_over: true`.
fn leaves_with_its_root(
    checker: &mut Checker,
    account: &Account,
    name: &Spanned<String>,
    raw: &config::Account,
) {
    let handed_over = raw.root_handed_over.as_ref().is_some_and(|flag| flag.value);
    if account.lifecycle != AccountLifecycle::Remove
        || account.owner != Party::Provider
        || handed_over
    {
        return;
    }
    let diagnostic = checker
        .at(
            Rule::LeaveWithoutRoot,
            raw.lifecycle.span,
            format!(
                "`{}` would leave the organization with its root user still the provider's: the customer gets an account it cannot sign in to as root",
                name.value
            ),
            "leaves with the provider's root",
        )
        .help("hand the root over first (its holder changes the root email to the customer's address, and the MFA with it), then add `root_handed_over: true` to this entry");
    checker.push(diagnostic);
}

#[cfg(test)]
mod tests {
    use crate::model::{Context, resolve};

    /// The rule codes of a `model` organization whose account `acme-old` has `entry`.
    fn codes(model: &str, entry: &str) -> Vec<&'static str> {
        let text = format!(
            "organization:
  name: acme
  business_model: {model}
  provider: {{ name: Nimbus, email_domain: nimbus.example }}
  customer: {{ name: Acme, email_domain: acme.example }}
  management_account: {{ name: acme-payer, email: aws-payer@nimbus.example }}
accounts:
  acme-old: {entry}
"
        );
        let config = crate::config::load_in_memory(
            "orgctl.yaml",
            &text,
            std::path::Path::new("."),
            &std::collections::BTreeMap::new(),
        )
        .expect("the configuration loads");
        resolve(&config, &Context::now())
            .diagnostics
            .iter()
            .map(|diagnostic| diagnostic.rule.code())
            .filter(|code| !code.starts_with("orgctl::email::"))
            .collect()
    }

    #[test]
    fn an_account_leaves_with_its_root_only_once_the_provider_handed_it_over() {
        let leaving = "{ id: \"222222222222\", lifecycle: remove }";
        assert_eq!(
            codes("spam", leaving),
            ["orgctl::ownership::leave_without_root"]
        );
        assert_eq!(
            codes(
                "spam",
                "{ id: \"222222222222\", lifecycle: remove, root_handed_over: true }"
            ),
            Vec::<&str>::new()
        );
        // The customer holds its own roots under `ecam`: nothing to hand over.
        assert_eq!(codes("ecam", leaving), Vec::<&str>::new());
    }
}
