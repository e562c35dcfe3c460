//! The desired state: the configuration with its references resolved, emails generated from the
//! owners, and every offline rule run.
//!
//! Pure: no IO. [`resolve`] takes a loaded [`Config`] and gives the [`Desired`] state together with
//! every [`Diagnostic`] found, so that one run shows every problem.

mod account;
pub mod contact;
mod delegation;
mod email;
pub mod limits;
mod organization;
mod ou;
pub mod ownership;
mod partner;
mod policy;
mod trusted_access;
/// What AWS allows of each policy type: one table, in the configuration's vocabulary.
pub use crate::config::policy_type;
pub mod preset;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

use chrono::NaiveDate;
use indexmap::IndexMap;
use serde::Serialize;

pub use account::{Account, EmailSource};
pub use contact::{AccountContacts, Contact};
pub use delegation::Delegations;
pub use email::expand_template;
pub use organization::{
    DEFAULT_MEMBER_ACCESS_ROLE, EndCustomerUser, Organization, PartyInfo, UserMode,
};
pub use ou::Ou;
pub use ownership::{AccountKind, Ownership};
pub use partner::Partner;
pub use policy::{
    Policy, Target, policy_limits, type_name as policy_type_name, type_plural as policy_type_plural,
};

use crate::config::{Config, Span, Spanned, Tags};
use crate::diagnostic::{Diagnostic, SourceFile};
use crate::rules::{Rule, Severity};

/// What the run knows besides the file: the date (partner contracts end on a date).
#[derive(Debug, Clone, Copy)]
pub struct Context {
    /// Today, in UTC.
    pub today: NaiveDate,
}

impl Context {
    /// The context of a run now.
    pub fn now() -> Self {
        Self {
            today: chrono::Utc::now().date_naive(),
        }
    }
}

/// The organization as the file declares it, resolved.
#[derive(Debug, Clone, Serialize)]
pub struct Desired {
    /// Organization-wide settings and owners.
    pub organization: Organization,
    /// The management (payer) account.
    pub management_account: Account,
    /// OUs by path, parents before children.
    pub organizational_units: IndexMap<OuPath, Ou>,
    /// Member accounts by name, in file order.
    pub accounts: IndexMap<String, Account>,
    /// Policies by name, in file order.
    pub policies: IndexMap<String, Policy>,
    /// Partners by name, in file order.
    pub partners: IndexMap<String, Partner>,
    /// Delegated administrators, when the file manages them (`None`: the file does not set
    /// `delegated_administrators`, and live ones are left alone).
    pub delegated_administrators: Option<Delegations>,
    /// The warnings the file silences (`orgctl: { ignore: [...] }`), applied to validation and to
    /// plan findings alike.
    pub ignored: BTreeSet<Rule>,
}

/// The result of resolving a configuration.
#[derive(Debug)]
pub struct Resolved {
    /// As much of the desired state as could be resolved.
    pub desired: Desired,
    /// Every problem found, sorted by position.
    pub diagnostics: Vec<Diagnostic>,
}

impl Resolved {
    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// The path of an OU below the root, e.g. `Workloads/Prod`; the empty path is the root.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct OuPath(String);

impl OuPath {
    /// The root.
    pub fn root() -> Self {
        Self(String::new())
    }

    /// A path as written in the file (`Workloads/Prod`; surrounding slashes are ignored).
    pub fn parse(written: &str) -> Self {
        Self(written.trim_matches('/').to_owned())
    }

    /// The path of a child OU.
    pub fn child(&self, name: &str) -> Self {
        if self.0.is_empty() {
            Self(name.to_owned())
        } else {
            Self(format!("{}/{name}", self.0))
        }
    }

    /// Whether this is the root.
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// The path as text (`""` for the root).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Levels below the root (the root is 0).
    pub fn depth(&self) -> usize {
        if self.0.is_empty() {
            0
        } else {
            self.0.split('/').count()
        }
    }

    /// Whether `self` is `other` or lies below it.
    pub fn is_within(&self, other: &OuPath) -> bool {
        other.is_root()
            || self.0 == other.0
            || (self.0.starts_with(&other.0) && self.0.as_bytes().get(other.0.len()) == Some(&b'/'))
    }
}

impl fmt::Display for OuPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("root")
        } else {
            f.write_str(&self.0)
        }
    }
}

/// Resolves a loaded configuration and runs every offline rule.
pub fn resolve(config: &Config, context: &Context) -> Resolved {
    let mut checker = Checker::new(&config.source);
    let file = &config.file;

    let organization = organization::resolve(&mut checker, &file.organization);
    let organizational_units = ou::resolve(&mut checker, &organization, &file.organizational_units);
    let mut management_account = account::resolve_management(
        &mut checker,
        &organization,
        &organizational_units,
        &file.organization.management_account,
    );
    let mut accounts = account::resolve_members(
        &mut checker,
        &organization,
        &organizational_units,
        &file.accounts,
        &file.organization.management_account,
    );
    contact::resolve(
        &mut checker,
        &organization,
        file,
        &mut management_account,
        &mut accounts,
    );
    email::check_all(
        &mut checker,
        &organization,
        &management_account,
        &accounts,
        file,
    );
    let policies = policy::resolve(
        &mut checker,
        &organization,
        &organizational_units,
        &accounts,
        &management_account,
        file,
        &config.policy_files,
    );
    let partners = partner::resolve(
        &mut checker,
        context,
        &organizational_units,
        &management_account,
        &accounts,
        file,
    );
    let delegated_administrators = delegation::resolve(
        &mut checker,
        &file.organization,
        &organization,
        &management_account,
        &accounts,
    );
    let ignored = ignored_rules(&mut checker, &file.orgctl.ignore);
    let desired = Desired {
        organization,
        management_account,
        organizational_units,
        accounts,
        policies,
        partners,
        delegated_administrators,
        ignored,
    };
    organization::check_ownership(&mut checker, file, &desired);

    let mut diagnostics = checker.diagnostics;
    diagnostics
        .retain(|diagnostic| diagnostic.is_error() || !desired.ignored.contains(&diagnostic.rule));
    crate::diagnostic::sort(&mut diagnostics);
    Resolved {
        desired,
        diagnostics,
    }
}

/// Collects diagnostics that point into the configuration.
pub(crate) struct Checker {
    source: Arc<SourceFile>,
    diagnostics: Vec<Diagnostic>,
}

impl Checker {
    fn new(source: &Arc<SourceFile>) -> Self {
        Self {
            source: Arc::clone(source),
            diagnostics: Vec::new(),
        }
    }

    /// A diagnostic of `rule` pointing at `span` of the configuration.
    fn at(
        &self,
        rule: Rule,
        span: Span,
        message: impl Into<String>,
        label: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic::new(rule, message).at(&self.source, span, label)
    }

    /// The span of the first `needle` inside `span` of the configuration (all of `span` if absent):
    /// narrows a label from a whole value to the part that is wrong.
    fn sub_span(&self, span: Span, needle: &str) -> Span {
        self.source
            .text()
            .get(span.offset..span.offset + span.len)
            .and_then(|value| value.find(needle))
            .map_or(span, |index| Span::new(span.offset + index, needle.len()))
    }

    fn push(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }
}

/// The rules `orgctl: { ignore: [...] }` names: warnings only, each a code of the catalogue.
fn ignored_rules(checker: &mut Checker, codes: &[Spanned<String>]) -> BTreeSet<Rule> {
    let mut ignored = BTreeSet::new();
    for code in codes {
        let written = code.value.trim();
        let full = if written.starts_with("orgctl::") {
            written.to_owned()
        } else {
            format!("orgctl::{written}")
        };
        match Rule::ALL.iter().find(|rule| rule.code() == full) {
            Some(rule) if rule.severity() == Severity::Warning => {
                ignored.insert(*rule);
            }
            Some(rule) => {
                let diagnostic = checker
                    .at(
                        Rule::ConfigInvalidValue,
                        code.span,
                        format!(
                            "`{}` is an error, and errors cannot be silenced",
                            rule.code()
                        ),
                        "an error rule",
                    )
                    .help("fix what it reports; only warnings can be listed under `orgctl.ignore`");
                checker.push(diagnostic);
            }
            None => {
                let codes = Rule::ALL.iter().map(|rule| rule.code());
                let help = match crate::suggest::closest(&full, codes) {
                    Some(candidate) => {
                        format!("did you mean `{candidate}`? `orgctl rules` lists every code")
                    }
                    None => "`orgctl rules` lists every code".to_owned(),
                };
                let diagnostic = checker
                    .at(
                        Rule::ConfigInvalidValue,
                        code.span,
                        format!("`{written}` is not a rule of orgctl"),
                        "unknown rule",
                    )
                    .help(help);
                checker.push(diagnostic);
            }
        }
    }
    ignored
}

/// Tags as a sorted map, after checking AWS's tag limits; `owner` names the tagged resource.
fn resolve_tags(
    checker: &mut Checker,
    tags: &Tags,
    owner_span: Span,
    owner: &str,
) -> BTreeMap<String, String> {
    limits::check_tags(checker, tags, owner_span, owner);
    tags.iter()
        .map(|(key, value)| (key.value.clone(), value.value.clone()))
        .collect()
}

/// Warns about names listed twice in one reference list.
fn check_duplicate_references(checker: &mut Checker, list: &[Spanned<String>], what: &str) {
    let mut seen: std::collections::HashMap<&str, Span> = std::collections::HashMap::new();
    for item in list {
        if let Some(first) = seen.insert(item.value.as_str(), item.span) {
            let diagnostic = checker
                .at(
                    Rule::DuplicateReference,
                    item.span,
                    format!("`{}` is listed twice in {what}", item.value),
                    "listed again here",
                )
                .also(first, "first listed here")
                .help("remove one of the two entries");
            checker.push(diagnostic);
        }
    }
}
