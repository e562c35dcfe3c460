//! What can go wrong in the live stage, as values: callers decide by variant and AWS error code,
//! never by the words of a message. Each becomes a [`Diagnostic`] where it reaches the user.

use crate::diagnostic::Diagnostic;
use crate::rules::Rule;

/// An error of a backend.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    /// AWS answered a request with an error, or could not be asked.
    #[error("{operation} on `{resource}` failed with {code}{}", colon(message))]
    Aws {
        /// The API operation (`ListRoots`).
        operation: String,
        /// The resource it was about: an id, a name, or `organization`.
        resource: String,
        /// AWS's error code (`AccessDeniedException`), or orgctl's word for a request that never
        /// got an answer (`Unreachable`, `NoCredentials`, `CredentialsFailed`, `Failed`).
        code: String,
        /// AWS's message, or the causes of a request that got no answer; may be empty.
        message: String,
        /// What to do about it.
        help: String,
    },
    /// A member account whose IAM orgctl cannot reach: the access role cannot be assumed there,
    /// or its credentials are refused.
    #[error("cannot reach IAM in account {account_id} through the role `{role}`: {cause}")]
    Unreachable {
        /// The member account.
        account_id: String,
        /// The role orgctl assumes there.
        role: String,
        /// The request that failed.
        cause: Box<Error>,
    },
    /// An IAM role or user in the way of one orgctl makes, which orgctl did not create.
    #[error(
        "account {account_id} already has an IAM {kind} `{name}` (path `{path}`) that orgctl did not create; orgctl never changes IAM it did not create"
    )]
    NotOurs {
        /// The member account.
        account_id: String,
        /// `role` or `user`.
        kind: &'static str,
        /// Its name.
        name: String,
        /// Its IAM path.
        path: String,
    },
    /// A policy type AWS reports that this orgctl does not know.
    #[error(
        "{operation} returned the policy type `{aws_name}`, which this version of orgctl does not know"
    )]
    UnknownPolicyType {
        /// The type as AWS names it (`EXAMPLE_FUTURE_POLICY`).
        aws_name: String,
        /// The operation that returned it.
        operation: String,
    },
    /// Anything else, already said as users read it: a snapshot file, the lease, a creation AWS
    /// gave up on, a refusal.
    #[error(transparent)]
    Other(Diagnostic),
}

/// `: message`, or nothing for an empty message.
fn colon(message: &str) -> String {
    if message.is_empty() {
        String::new()
    } else {
        format!(": {message}")
    }
}

impl Error {
    /// AWS's error code, when AWS answered with one (or orgctl named a request without answer).
    pub fn code(&self) -> Option<&str> {
        match self {
            Error::Aws { code, .. } => Some(code),
            Error::Unreachable { cause, .. } => cause.code(),
            _ => None,
        }
    }

    /// Whether the error says the caller's credentials were refused or could not be loaded
    /// (`AccessDenied…`, `NoCredentials`, `CredentialsFailed`).
    pub fn is_denied(&self) -> bool {
        self.code().is_some_and(|code| {
            matches!(
                code,
                "AccessDenied" | "AccessDeniedException" | "NoCredentials" | "CredentialsFailed"
            )
        })
    }
}

impl Error {
    /// The same error with another `help`: a caller that knows better what to do about it.
    #[must_use]
    pub fn with_help(self, help: impl Into<String>) -> Self {
        match self {
            Error::Aws {
                operation,
                resource,
                code,
                message,
                help: _,
            } => Error::Aws {
                operation,
                resource,
                code,
                message,
                help: help.into(),
            },
            Error::Other(diagnostic) => Error::Other(diagnostic.help(help)),
            other => Error::Other(Diagnostic::from(other).help(help)),
        }
    }
}

impl From<Diagnostic> for Error {
    fn from(diagnostic: Diagnostic) -> Self {
        Error::Other(diagnostic)
    }
}

impl From<Error> for Diagnostic {
    fn from(error: Error) -> Self {
        let message = error.to_string();
        match error {
            Error::Aws { help, .. } => Diagnostic::new(Rule::LiveAws, message).help(help),
            Error::Unreachable {
                account_id, role, ..
            } => Diagnostic::new(Rule::LiveAws, message).help(format!(
                "the role `{role}` must exist in {account_id} and trust the management account (AWS creates `OrganizationAccountAccessRole` in accounts made through Organizations); set `member_access_role` to the role you use"
            )),
            Error::NotOurs { kind, .. } => Diagnostic::new(Rule::ChangeFailed, message).help(
                format!(
                    "rename the {kind} in the file, or have the account's owner remove or rename theirs"
                ),
            ),
            Error::UnknownPolicyType { .. } => Diagnostic::new(Rule::LiveAws, message).help(
                "upgrade orgctl: a newer version knows more policy types; orgctl plans nothing over an organization it cannot read whole",
            ),
            Error::Other(diagnostic) => diagnostic,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn denied() -> Error {
        Error::Aws {
            operation: "ListRoles".to_owned(),
            resource: "222222222222".to_owned(),
            code: "AccessDenied".to_owned(),
            message: "not authorized".to_owned(),
            help: "ask for access".to_owned(),
        }
    }

    #[test]
    fn an_aws_error_names_the_operation_the_resource_and_the_code() {
        let diagnostic = Diagnostic::from(denied());
        assert_eq!(diagnostic.rule, Rule::LiveAws);
        assert_eq!(
            diagnostic.message,
            "ListRoles on `222222222222` failed with AccessDenied: not authorized"
        );
        assert_eq!(diagnostic.help.as_deref(), Some("ask for access"));
    }

    #[test]
    fn an_unreachable_account_keeps_the_code_of_its_cause() {
        let error = Error::Unreachable {
            account_id: "222222222222".to_owned(),
            role: "OrganizationAccountAccessRole".to_owned(),
            cause: Box::new(denied()),
        };
        assert!(error.is_denied());
        let diagnostic = Diagnostic::from(error);
        assert_eq!(
            diagnostic.message,
            "cannot reach IAM in account 222222222222 through the role `OrganizationAccountAccessRole`: ListRoles on `222222222222` failed with AccessDenied: not authorized"
        );
    }

    #[test]
    fn an_unknown_policy_type_says_to_upgrade() {
        let diagnostic = Diagnostic::from(Error::UnknownPolicyType {
            aws_name: "EXAMPLE_FUTURE_POLICY".to_owned(),
            operation: "ListRoots".to_owned(),
        });
        assert_eq!(
            diagnostic.message,
            "ListRoots returned the policy type `EXAMPLE_FUTURE_POLICY`, which this version of orgctl does not know"
        );
        assert!(
            diagnostic
                .help
                .is_some_and(|help| help.starts_with("upgrade orgctl"))
        );
    }
}
