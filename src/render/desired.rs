//! The resolved desired state as a table, for `orgctl validate --explain`.

use std::fmt::Write;

use crate::config::{AccountLifecycle, Party};
use crate::model::ownership::{AccountKind, model_name, party_key};
use crate::model::{Account, Desired, EmailSource};

/// Organization, owners, OUs, accounts (with owner and resolved email), policies and partners.
pub fn desired_table(desired: &Desired) -> String {
    let organization = &desired.organization;
    let mut out = String::new();
    let payer = match organization.payer {
        crate::config::Payer::Dedicated => "dedicated payer",
        crate::config::Payer::Shared => "shared payer",
    };
    let _ = writeln!(
        out,
        "organization {} ({}, {payer}, run by the {})",
        organization.name,
        model_name(organization.business_model),
        party_key(organization.operator)
    );
    for kind in [AccountKind::Management, AccountKind::Member] {
        let owner = organization.ownership.owner(kind);
        let domain = organization
            .domain_of(owner)
            .unwrap_or("no domain declared");
        let _ = writeln!(
            out,
            "  {:<18} owned by the {} ({domain})",
            match kind {
                AccountKind::Management => "management account",
                AccountKind::Member => "member accounts",
            },
            party_key(owner)
        );
    }

    if !desired.ignored.is_empty() {
        let codes: Vec<&str> = desired.ignored.iter().map(|rule| rule.code()).collect();
        let _ = writeln!(out, "  silenced warnings  {}", codes.join(", "));
    }

    if !desired.organizational_units.is_empty() {
        let _ = writeln!(out, "\norganizational units");
        for ou in desired.organizational_units.values() {
            let _ = writeln!(out, "  {}{}", ou.path, tags_suffix(&ou.tags));
        }
    }

    let _ = writeln!(out, "\naccounts");
    let rows: Vec<[String; 6]> = std::iter::once(&desired.management_account)
        .chain(desired.accounts.values())
        .enumerate()
        .map(|(index, account)| account_row(account, index == 0))
        .collect();
    let header = [
        "NAME",
        "OU",
        "OWNER",
        "ROOT EMAIL",
        "EMAIL FROM",
        "LIFECYCLE",
    ]
    .map(str::to_owned);
    let widths: Vec<usize> = (0..6)
        .map(|column| {
            std::iter::once(&header)
                .chain(&rows)
                .map(|row| row[column].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in std::iter::once(&header).chain(&rows) {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        let _ = writeln!(out, "  {}", line.join("  ").trim_end());
    }
    let _ = writeln!(out, "  (* the management account)");

    if !desired.policies.is_empty() {
        let _ = writeln!(out, "\npolicies");
        for policy in desired.policies.values() {
            let targets: Vec<String> = policy.targets.iter().map(ToString::to_string).collect();
            let _ = writeln!(
                out,
                "  {} ({}) -> {}",
                policy.name,
                crate::model::policy_type_name(policy.policy_type),
                if targets.is_empty() {
                    "nothing".to_owned()
                } else {
                    targets.join(", ")
                }
            );
        }
    }
    if !desired.partners.is_empty() {
        let _ = writeln!(out, "\npartners");
        for partner in desired.partners.values() {
            let until = partner
                .until
                .map(|until| {
                    format!(
                        " until {until}{}",
                        if partner.expired {
                            " (ended: revoked)"
                        } else {
                            ""
                        }
                    )
                })
                .unwrap_or_default();
            let accounts: Vec<&str> = partner.accounts.iter().map(String::as_str).collect();
            let _ = writeln!(
                out,
                "  {} (role {} for {}){until}: {}",
                partner.name,
                partner.role_name,
                partner.account_id,
                if accounts.is_empty() {
                    "no accounts".to_owned()
                } else {
                    accounts.join(", ")
                }
            );
        }
    }
    out
}

fn account_row(account: &Account, management: bool) -> [String; 6] {
    let owner = match account.owner {
        Party::Provider => "provider",
        Party::Customer => "customer",
    };
    let lifecycle = match account.lifecycle {
        AccountLifecycle::Active => "active",
        AccountLifecycle::Close => "close",
        AccountLifecycle::Remove => "remove",
    };
    let email_from = match account.email_source {
        EmailSource::Template => "template",
        EmailSource::Explicit => "explicit",
    };
    [
        format!("{}{}", account.name, if management { "*" } else { "" }),
        account.ou.to_string(),
        owner.to_owned(),
        account.email.clone(),
        email_from.to_owned(),
        lifecycle.to_owned(),
    ]
}

fn tags_suffix(tags: &std::collections::BTreeMap<String, String>) -> String {
    if tags.is_empty() {
        return String::new();
    }
    let pairs: Vec<String> = tags
        .iter()
        .map(|(key, value)| format!("{key}={value}"))
        .collect();
    format!("  [{}]", pairs.join(", "))
}
