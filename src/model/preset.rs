//! orgctl's ready-made policy documents: real JSON files in `presets/`, compiled in.

use crate::config::{PolicyType, Preset};

/// Every preset, for listings and tests.
pub const ALL: [Preset; 4] = [
    Preset::DenyLeaveOrganization,
    Preset::DenyCostExplorer,
    Preset::RequireMfa,
    Preset::DenyRootUser,
];

/// The preset's name as the configuration writes it.
pub const fn name(preset: Preset) -> &'static str {
    match preset {
        Preset::DenyLeaveOrganization => "deny-leave-organization",
        Preset::DenyCostExplorer => "deny-cost-explorer",
        Preset::RequireMfa => "require-mfa",
        Preset::DenyRootUser => "deny-root-user",
    }
}

/// The document, as written in `presets/`.
pub const fn document(preset: Preset) -> &'static str {
    match preset {
        Preset::DenyLeaveOrganization => include_str!("../../presets/deny-leave-organization.json"),
        Preset::DenyCostExplorer => include_str!("../../presets/deny-cost-explorer.json"),
        Preset::RequireMfa => include_str!("../../presets/require-mfa.json"),
        Preset::DenyRootUser => include_str!("../../presets/deny-root-user.json"),
    }
}

/// The policy type the preset is written for. Every preset is a service control policy;
/// `require-mfa` is also the identity policy orgctl attaches to the IAM users it creates.
pub const fn policy_type(_preset: Preset) -> PolicyType {
    PolicyType::ServiceControl
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn statements(preset: Preset) -> Vec<Value> {
        let document: Value = serde_json::from_str(document(preset)).expect("a preset is JSON");
        assert_eq!(document["Version"], "2012-10-17", "{}", name(preset));
        document["Statement"]
            .as_array()
            .expect("statements")
            .clone()
    }

    #[test]
    fn every_preset_is_a_deny_only_scp_within_aws_limits() {
        for preset in ALL {
            let minified = serde_json::from_str::<Value>(document(preset))
                .expect("JSON")
                .to_string();
            let (most, _) = super::super::policy_limits(policy_type(preset));
            assert!(
                minified.len() <= most,
                "{} is {} characters",
                name(preset),
                minified.len()
            );
            for statement in statements(preset) {
                // SCPs only restrict: an Allow in a preset would widen what FullAWSAccess allows.
                assert_eq!(statement["Effect"], "Deny", "{}", name(preset));
                assert_eq!(statement["Resource"], "*", "{}", name(preset));
            }
        }
    }

    #[test]
    fn deny_leave_organization_denies_exactly_leaving() {
        let statements = statements(Preset::DenyLeaveOrganization);
        assert_eq!(statements.len(), 1);
        assert_eq!(statements[0]["Action"], "organizations:LeaveOrganization");
        assert!(statements[0].get("Condition").is_none());
    }

    #[test]
    fn deny_cost_explorer_covers_cost_explorer_and_cost_reports_only() {
        let statements = statements(Preset::DenyCostExplorer);
        let actions: Vec<&str> = statements[0]["Action"]
            .as_array()
            .expect("a list")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert!(actions.contains(&"ce:*") && actions.contains(&"cur:*"));
        assert!(
            actions
                .iter()
                .all(|a| a.ends_with(":*") && !a.starts_with('*'))
        );
    }

    #[test]
    fn require_mfa_blocks_iam_users_without_mfa_but_lets_them_enrol() {
        let statements = statements(Preset::RequireMfa);
        let statement = &statements[0];
        assert_eq!(
            statement["Condition"]["BoolIfExists"],
            json!({"aws:MultiFactorAuthPresent": "false"})
        );
        // Roles (partners, CI) are not users: they are never locked out by it.
        assert_eq!(
            statement["Condition"]["StringLike"]["aws:PrincipalArn"],
            "arn:aws:iam::*:user/*"
        );
        let exempt: Vec<&str> = statement["NotAction"]
            .as_array()
            .expect("NotAction")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        for needed in [
            "iam:CreateVirtualMFADevice",
            "iam:EnableMFADevice",
            "iam:ChangePassword",
            "sts:GetSessionToken",
        ] {
            assert!(
                exempt.contains(&needed),
                "a user without MFA must still be able to {needed}"
            );
        }
        assert!(
            !exempt.iter().any(|a| a.contains('*')),
            "no wildcard escapes: {exempt:?}"
        );
    }

    #[test]
    fn deny_root_user_matches_only_root_principals() {
        let statements = statements(Preset::DenyRootUser);
        assert_eq!(statements[0]["Action"], "*");
        assert_eq!(
            statements[0]["Condition"]["StringLike"]["aws:PrincipalArn"],
            "arn:aws:iam::*:root"
        );
    }
}
