//! The policy types of AWS Organizations, one row each: every name and limit orgctl knows of a
//! type lives here, and validation, reading, writing and the README derive from it. AWS changes
//! these figures; each row says where its figures come from and when they were read.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Everything orgctl knows of one policy type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PolicyTypeInfo {
    /// The type.
    pub policy_type: PolicyType,
    /// As the configuration writes it (`service_control`).
    pub config_name: &'static str,
    /// As the AWS Organizations API names it (`SERVICE_CONTROL_POLICY`).
    pub aws_name: &'static str,
    /// In a sentence, plural (`SCPs`).
    pub plural: &'static str,
    /// The largest document AWS accepts, in characters (minified).
    pub max_size: usize,
    /// The most policies of the type attached directly to one root, OU or account.
    pub max_per_target: usize,
    /// The AWS-managed policy AWS attaches to the root, every OU and every account once the type
    /// is enabled, if the type has one.
    pub full_access: Option<FullAccess>,
}

/// An AWS-managed policy that allows everything of its type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FullAccess {
    /// Its id, the same in every organization.
    pub id: &'static str,
    /// Its name.
    pub name: &'static str,
    /// Its description.
    pub description: &'static str,
}

/// Defines [`PolicyType`] and [`POLICY_TYPES`] from one list: adding a policy type is one row.
macro_rules! policy_types {
    ($(
        $(#[$doc:meta])*
        $variant:ident = $config_name:literal {
            aws_name: $aws_name:literal,
            plural: $plural:literal,
            max_size: $max_size:expr,
            max_per_target: $max_per_target:expr,
            full_access: $full_access:expr $(,)?
        },
    )+) => {
        /// An organization policy type.
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize,
            JsonSchema,
        )]
        pub enum PolicyType {
            $(
                $(#[$doc])*
                #[serde(rename = $config_name)]
                $variant,
            )+
        }

        /// Every policy type orgctl manages, one row each.
        pub const POLICY_TYPES: [PolicyTypeInfo; [$($config_name),+].len()] = [$(
            PolicyTypeInfo {
                policy_type: PolicyType::$variant,
                config_name: $config_name,
                aws_name: $aws_name,
                plural: $plural,
                max_size: $max_size,
                max_per_target: $max_per_target,
                full_access: $full_access,
            },
        )+];
    };
}

// Every policy type orgctl manages. Each row: the type as the configuration writes it, as the
// AWS Organizations API names it, and AWS's limits, with where they come from. The sources, read
// 2026-11-30 unless a row says otherwise:
// - Quotas: "Quotas and service limits for AWS Organizations",
//   https://docs.aws.amazon.com/organizations/latest/userguide/orgs_reference_limits.html
//   (the edition with SCPs at 10,240 characters): the largest document, and "Number of policies
//   that you can attach to an entity", of the eight types it lists.
// - Managing: "Managing organization policies with AWS Organizations",
//   https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies.html: its
//   table of "Maximum number you can attach to a root, OU, or account" and "Maximum size" for
//   twelve types (the edition read still had SCPs at 5 and 5,120).
// - CreatePolicy: the `Content` quotas that the AWS::Organizations::Policy reference repeats,
//   https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-organizations-policy.html
// Where no source gives a figure the row takes the commonest figure of the management-policy
// types (10,000 characters, 10 per target) and says that it is unconfirmed.
policy_types! {
    // AWS What's New, 2026-05-15: 10 SCPs per target (was 5) and 10,240 characters (was 5,120);
    // Quotas (read 2026-11-30) agrees.
    /// Service control policy (SCP).
    ServiceControl = "service_control" {
        aws_name: "SERVICE_CONTROL_POLICY",
        plural: "SCPs",
        max_size: 10_240,
        max_per_target: 10,
        full_access: Some(FullAccess {
            id: "p-FullAWSAccess",
            name: "FullAWSAccess",
            description: "Allows access to every operation",
        }),
    },
    // Quotas and Managing (read 2026-11-30): 5,120 characters; 5 per target, RCPFullAWSAccess
    // included.
    /// Resource control policy (RCP).
    ResourceControl = "resource_control" {
        aws_name: "RESOURCE_CONTROL_POLICY",
        plural: "RCPs",
        max_size: 5_120,
        max_per_target: 5,
        full_access: Some(FullAccess {
            id: "p-RCPFullAWSAccess",
            name: "RCPFullAWSAccess",
            description: "Allows access to every resource",
        }),
    },
    // Quotas and Managing (read 2026-11-30): 10,000 characters; 10 per target.
    /// Tag policy.
    Tag = "tag" {
        aws_name: "TAG_POLICY",
        plural: "tag policies",
        max_size: 10_000,
        max_per_target: 10,
        full_access: None,
    },
    // Quotas and Managing (read 2026-11-30): 10,000 characters; 10 per target.
    /// Backup policy.
    Backup = "backup" {
        aws_name: "BACKUP_POLICY",
        plural: "backup policies",
        max_size: 10_000,
        max_per_target: 10,
        full_access: None,
    },
    // Quotas and Managing (read 2026-11-30): 2,500 characters; 5 per target.
    /// AI services opt-out policy.
    AiServicesOptOut = "ai_services_opt_out" {
        aws_name: "AISERVICES_OPT_OUT_POLICY",
        plural: "AI services opt-out policies",
        max_size: 2_500,
        max_per_target: 5,
        full_access: None,
    },
    // Quotas and Managing (read 2026-11-30): 10,000 characters; 5 per target ("Chat applications
    // policy"). orgctl had 10, unconfirmed, until then.
    /// Chat applications policy.
    Chatbot = "chatbot" {
        aws_name: "CHATBOT_POLICY",
        plural: "chat applications policies",
        max_size: 10_000,
        max_per_target: 5,
        full_access: None,
    },
    // Quotas and Managing (read 2026-11-30): 10,000 characters; 10 per target ("Declarative
    // policy").
    /// Declarative policy for EC2.
    DeclarativeEc2 = "declarative_ec2" {
        aws_name: "DECLARATIVE_POLICY_EC2",
        plural: "declarative policies",
        max_size: 10_000,
        max_per_target: 10,
        full_access: None,
    },
    // Quotas, Managing ("Security Hub CSPM policy") and CreatePolicy (read 2026-11-30): 10,000
    // characters; 10 per target.
    /// Security Hub policy.
    SecurityHub = "security_hub" {
        aws_name: "SECURITYHUB_POLICY",
        plural: "Security Hub policies",
        max_size: 10_000,
        max_per_target: 10,
        full_access: None,
    },
    // Managing ("Amazon Inspector policy") and CreatePolicy (read 2026-11-30): 10,000
    // characters; 10 per target (Managing). Quotas does not list the type.
    /// Amazon Inspector policy.
    Inspector = "inspector" {
        aws_name: "INSPECTOR_POLICY",
        plural: "Amazon Inspector policies",
        max_size: 10_000,
        max_per_target: 10,
        full_access: None,
    },
    // Managing ("Amazon Bedrock policy") and CreatePolicy (read 2026-11-30): 10,000 characters;
    // 10 per target (Managing). Quotas does not list the type.
    /// Amazon Bedrock policy.
    Bedrock = "bedrock" {
        aws_name: "BEDROCK_POLICY",
        plural: "Amazon Bedrock policies",
        max_size: 10_000,
        max_per_target: 10,
        full_access: None,
    },
    // Managing ("Upgrade rollout policy") and CreatePolicy (read 2026-11-30): 10,000 characters;
    // 10 per target (Managing). Quotas does not list the type.
    /// Upgrade rollout policy.
    UpgradeRollout = "upgrade_rollout" {
        aws_name: "UPGRADE_ROLLOUT_POLICY",
        plural: "upgrade rollout policies",
        max_size: 10_000,
        max_per_target: 10,
        full_access: None,
    },
    // Managing ("S3 policy", read 2026-11-30): 10,000 characters; 10 per target. Neither Quotas
    // nor CreatePolicy lists the type.
    /// Amazon S3 policy.
    S3 = "s3" {
        aws_name: "S3_POLICY",
        plural: "Amazon S3 policies",
        max_size: 10_000,
        max_per_target: 10,
        full_access: None,
    },
    // UNCONFIRMED (2026-11-30): none of the sources gives a figure for "AWS Shield Network
    // Security Director policies" (the type's page, orgs_manage_policies_network_security_director,
    // calls it a preview); the commonest figures of the management-policy types: 10,000
    // characters, 10 per target.
    /// AWS Shield Network Security Director policy.
    NetworkSecurityDirector = "network_security_director" {
        aws_name: "NETWORK_SECURITY_DIRECTOR_POLICY",
        plural: "Network Security Director policies",
        max_size: 10_000,
        max_per_target: 10,
        full_access: None,
    },
    // UNCONFIRMED (2026-11-30): none of the sources gives a figure for GuardDuty policies (the
    // API reference links orgs_manage_policies_guardduty; no stored copy of it or of an
    // announcement was found); the commonest figures of the management-policy types: 10,000
    // characters, 10 per target.
    /// Amazon GuardDuty policy.
    GuardDuty = "guardduty" {
        aws_name: "GUARDDUTY_POLICY",
        plural: "Amazon GuardDuty policies",
        max_size: 10_000,
        max_per_target: 10,
        full_access: None,
    },
}

/// The row of `policy_type`.
pub fn info(policy_type: PolicyType) -> &'static PolicyTypeInfo {
    POLICY_TYPES
        .iter()
        .find(|row| row.policy_type == policy_type)
        // Every variant has a row: `every_type_has_one_row_named_as_the_file_writes_it`.
        .unwrap_or(&POLICY_TYPES[0])
}

/// The row of the type AWS's API names `aws_name`, if orgctl knows it.
pub fn by_aws_name(aws_name: &str) -> Option<&'static PolicyTypeInfo> {
    POLICY_TYPES.iter().find(|row| row.aws_name == aws_name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_has_one_row_named_as_the_file_writes_it() {
        for row in &POLICY_TYPES {
            let written: PolicyType =
                serde_json::from_value(serde_json::Value::from(row.config_name))
                    .expect("the configuration's name of the type");
            assert_eq!(written, row.policy_type, "{}", row.config_name);
            assert_eq!(info(row.policy_type), row, "one row per type");
            assert_eq!(by_aws_name(row.aws_name), Some(row));
        }
        assert_eq!(by_aws_name("EXAMPLE_FUTURE_POLICY"), None);
    }

    #[test]
    fn no_type_allows_a_larger_document_than_orgctl_s_files_leave_room_for() {
        for row in &POLICY_TYPES {
            assert!(
                row.max_size as u64 <= crate::files::largest::POLICY_CHARACTERS,
                "{}",
                row.config_name
            );
        }
    }

    #[test]
    fn scps_take_the_limits_of_2026_05_15() {
        let scp = info(PolicyType::ServiceControl);
        assert_eq!((scp.max_size, scp.max_per_target), (10_240, 10));
    }

    #[test]
    fn the_readme_lists_every_type_with_its_limits() {
        let readme = include_str!("../../README.md");
        for row in &POLICY_TYPES {
            let line = format!(
                "| `{}` | `{}` | {} | {} |",
                row.config_name,
                row.aws_name,
                crate::files::grouped(row.max_size as u64),
                row.max_per_target
            );
            assert!(readme.contains(&line), "README.md lacks the row\n{line}");
        }
    }
}
