//! The fleet file as written: the provider, its operating companies and its organizations, with
//! spans, read with the configuration's YAML machinery ([`config::parse_document`]).

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

use crate::config::{self, BusinessModel, EndCustomerAccess, Preset, Spanned};

/// The whole fleet file: one provider's organizations.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "orgctl fleet")]
pub struct FleetFile {
    /// The provider (reseller, distributor) that runs the fleet; every organization's file
    /// inherits it, and one that names another provider is an error.
    pub provider: Spanned<config::Provider>,
    /// The operating companies, keyed by name, each with the defaults its organizations inherit.
    pub companies: IndexMap<Spanned<String>, Company>,
    /// The organizations, keyed by name (the name `--only` and `--shard` use).
    pub organizations: IndexMap<Spanned<String>, Member>,
}

/// An operating company: the business model and defaults of its customer organizations.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Company {
    /// The business model every organization of the company inherits.
    pub business_model: Spanned<BusinessModel>,
    /// The business models an organization's file may declare instead. Default: only
    /// `business_model`; a file declaring another is an error.
    #[serde(default)]
    pub allowed_business_models: Vec<Spanned<BusinessModel>>,
    /// How end customers get into new member accounts, for files that do not say.
    #[serde(default)]
    pub end_customer_access: Option<Spanned<EndCustomerAccess>>,
    /// The root-email template, for files that do not set one.
    #[serde(default)]
    pub email_template: Option<Spanned<String>>,
    /// orgctl's ready-made service control policies every dedicated-payer organization of the
    /// company gets, attached to its root (a file's own policy of the same name wins).
    #[serde(default)]
    pub presets: Vec<Spanned<Preset>>,
    /// Policies every dedicated-payer organization of the company gets, keyed by name, written
    /// as in an organization's file (`file` paths from the fleet file's folder); a file's own
    /// policy of the same name wins, and each policy's type is enabled.
    #[serde(default)]
    pub policies: IndexMap<Spanned<String>, config::Policy>,
    /// The provider's alternate contacts for the company's organizations (its billing desk, its
    /// operations and security teams), in place of the fleet provider's; a file's own provider
    /// contacts win.
    #[serde(default)]
    pub contacts: config::Contacts<config::Contact>,
}

/// One organization of the fleet and how to reach its management account.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Member {
    /// The operating company it belongs to (a key of `companies`).
    pub company: Spanned<String>,
    /// Its configuration file (or a folder holding `orgctl.yaml`), from the fleet file's folder.
    pub config: Spanned<String>,
    /// A role in its management account to assume from the runner's credentials.
    #[serde(default)]
    pub role_arn: Option<Spanned<String>>,
    /// The external id the role's trust policy asks for.
    #[serde(default)]
    pub external_id: Option<Spanned<String>>,
    /// The AWS profile whose credentials reach it (with `role_arn`: the credentials the role is
    /// assumed from).
    #[serde(default)]
    pub profile: Option<Spanned<String>>,
    /// A snapshot file standing in for it (offline runs), from the fleet file's folder.
    #[serde(default)]
    pub state: Option<Spanned<String>>,
    /// The 12-digit id of the management account that must answer; default: the
    /// configuration's `management_account.id`.
    #[serde(default)]
    pub management_account_id: Option<Spanned<String>>,
}

/// Whether a YAML text is a fleet file rather than an organization's configuration: its top
/// level has `organizations:` and `companies:` and no `organization:`. Read from the keys
/// alone, so that a fleet file with errors is still recognised as one.
pub fn is_fleet(text: &str) -> bool {
    let top_level = |key: &str| {
        text.lines().any(|line| {
            line.strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with(':'))
        })
    };
    top_level("organizations") && top_level("companies") && !top_level("organization")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fleet_is_recognised_by_its_top_level_keys() {
        assert!(is_fleet("provider: {}\ncompanies: {}\norganizations: {}\n"));
        assert!(!is_fleet("organization:\n  name: acme\n"));
        // Indented keys are not top-level ones.
        assert!(!is_fleet("x:\n  companies: {}\n  organizations: {}\n"));
        assert!(!is_fleet("organizations: {}\n"));
    }
}
