//! Addresses: the one name of every resource orgctl plans, shown in plans, JSON and errors.
//!
//! An [`Address`] is a value. It is printed (its [`Display`](fmt::Display)) and parsed (its
//! [`FromStr`]) here and nowhere else, and it is serialized as that text.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::IntoDeserializer;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::config::{ContactType, PolicyType};

/// The resource an address names. Its textual forms:
///
/// | variant | text |
/// |---|---|
/// | [`Root`](Address::Root) | `root` |
/// | [`PolicyType`](Address::PolicyType) | `policy_type:service_control` |
/// | [`TrustedAccess`](Address::TrustedAccess) | `trusted_access:guardduty.amazonaws.com` |
/// | [`DelegatedAdministrator`](Address::DelegatedAdministrator) | `delegated_administrator:acme-security/guardduty.amazonaws.com` |
/// | [`Ou`](Address::Ou) | `ou:Workloads/Prod` |
/// | [`Account`](Address::Account) | `account:acme-prod` |
/// | [`AccountId`](Address::AccountId) | `account_id:123456789012` |
/// | [`Policy`](Address::Policy) | `policy:service_control/deny-leave-org` |
/// | [`Attachment`](Address::Attachment) | `attachment:service_control/deny-leave-org->ou:Workloads` |
/// | [`Role`](Address::Role) | `role:acme-prod/PartnerOperations`, `role:account_id:123456789012/PartnerOperations` |
/// | [`User`](Address::User) | `user:acme-prod/end-customer` |
/// | [`Contact`](Address::Contact) | `contact:acme-prod/security`, `contact:account_id:123456789012/billing` |
///
/// A declared account is named as the file names it, an undeclared one by its id, so the two
/// never meet. Two texts are still ambiguous, and parse as the first reading:
/// - in a role or a user, an account part `account_id:` and 12 digits is an undeclared account,
///   even if the file declares an account literally named so;
/// - in an attachment, the policy name ends at the first `->` followed by a target (`root` at the
///   end, `ou:`, `account:`, `account_id:`), even if the policy's own name holds such a `->`.
///
/// The values themselves never collide, and they order as their texts do (values with the same
/// text after that, by their parts), so that maps keyed by address keep the order of the text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Address {
    /// The organization root.
    Root,
    /// A policy type, enabled on the root.
    PolicyType(PolicyType),
    /// Trusted access for an AWS service, by its service principal (`guardduty.amazonaws.com`).
    TrustedAccess(String),
    /// An OU, by its path below the root (`Workloads/Prod`).
    Ou(String),
    /// An account the file declares, by the name the file gives it.
    Account(String),
    /// An account the file does not declare, by its id.
    AccountId(String),
    /// A policy, by type and name.
    Policy {
        /// Its type.
        policy_type: PolicyType,
        /// Its name.
        name: String,
    },
    /// A policy attached to a target. Made by [`Address::attachment`] or parsed, the policy is a
    /// [`Policy`](Address::Policy) and the target the root, an OU or an account.
    Attachment {
        /// The policy.
        policy: Box<Address>,
        /// The root, OU or account it is attached to.
        target: Box<Address>,
    },
    /// An IAM role in a member account. Made by [`Address::role`] or parsed, the account is an
    /// [`Account`](Address::Account) or an [`AccountId`](Address::AccountId).
    Role {
        /// The account.
        account: Box<Address>,
        /// The role name.
        name: String,
    },
    /// A member account registered as delegated administrator of an AWS service. Made by
    /// [`Address::delegated_administrator`] or parsed, the account is an
    /// [`Account`](Address::Account) or an [`AccountId`](Address::AccountId).
    DelegatedAdministrator {
        /// The account.
        account: Box<Address>,
        /// The service principal (`guardduty.amazonaws.com`).
        service: String,
    },
    /// An IAM user in a member account, like a role.
    User {
        /// The account.
        account: Box<Address>,
        /// The user name.
        name: String,
    },
    /// An alternate contact of an account (the management account or a member), like a role:
    /// the account, then the contact's type.
    Contact {
        /// The account.
        account: Box<Address>,
        /// The contact's type.
        contact_type: ContactType,
    },
}

/// Why a text is not an address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not an address: {reason}")]
pub struct ParseError {
    text: String,
    reason: String,
}

impl ParseError {
    fn new(text: &str, reason: impl Into<String>) -> Self {
        Self {
            text: text.to_owned(),
            reason: reason.into(),
        }
    }
}

impl Address {
    /// An OU, by its path (`Workloads/Prod`).
    pub fn ou(path: impl fmt::Display) -> Self {
        Self::Ou(path.to_string())
    }

    /// The root for the empty path, else the OU at `path`: the address of a parent.
    pub fn ou_or_root(path: &str) -> Self {
        if path.is_empty() {
            Self::Root
        } else {
            Self::Ou(path.to_owned())
        }
    }

    /// An account the file declares, by its name there.
    pub fn account(name: impl Into<String>) -> Self {
        Self::Account(name.into())
    }

    /// An account the file does not declare, by its id.
    pub fn account_id(id: impl Into<String>) -> Self {
        Self::AccountId(id.into())
    }

    /// A policy, by type and name.
    pub fn policy(policy_type: PolicyType, name: impl Into<String>) -> Self {
        Self::Policy {
            policy_type,
            name: name.into(),
        }
    }

    /// `policy` attached to `target`.
    pub fn attachment(policy: &Address, target: &Address) -> Self {
        Self::Attachment {
            policy: Box::new(policy.clone()),
            target: Box::new(target.clone()),
        }
    }

    /// The role `name` in `account`.
    pub fn role(account: &Address, name: impl Into<String>) -> Self {
        Self::Role {
            account: Box::new(account.clone()),
            name: name.into(),
        }
    }

    /// The user `name` in `account`.
    pub fn user(account: &Address, name: impl Into<String>) -> Self {
        Self::User {
            account: Box::new(account.clone()),
            name: name.into(),
        }
    }

    /// `account` as delegated administrator of the service `service`.
    pub fn delegated_administrator(account: &Address, service: impl Into<String>) -> Self {
        Self::DelegatedAdministrator {
            account: Box::new(account.clone()),
            service: service.into(),
        }
    }

    /// The alternate contact of `contact_type` of `account`.
    pub fn contact(account: &Address, contact_type: ContactType) -> Self {
        Self::Contact {
            account: Box::new(account.clone()),
            contact_type,
        }
    }

    /// The name of a declared account.
    pub fn account_name(&self) -> Option<&str> {
        match self {
            Self::Account(name) => Some(name),
            _ => None,
        }
    }

    /// Whether this is an account, declared or not.
    pub const fn is_account(&self) -> bool {
        matches!(self, Self::Account(_) | Self::AccountId(_))
    }

    /// The path of an OU.
    pub fn ou_path(&self) -> Option<&str> {
        match self {
            Self::Ou(path) => Some(path),
            _ => None,
        }
    }

    /// The parent of an OU: the OU one level up, or the root (`ou:A/B` for `ou:A/B/C`).
    pub fn parent(&self) -> Option<Address> {
        let path = self.ou_path()?;
        Some(match path.rsplit_once('/') {
            Some((parent, _)) => Self::Ou(parent.to_owned()),
            None => Self::Root,
        })
    }

    /// The policy type of a policy type, a policy or an attachment.
    pub fn policy_type(&self) -> Option<PolicyType> {
        match self {
            Self::PolicyType(policy_type) | Self::Policy { policy_type, .. } => Some(*policy_type),
            Self::Attachment { policy, .. } => policy.policy_type(),
            _ => None,
        }
    }

    /// The account of a role, a user, a delegated administrator or a contact.
    pub fn member_account(&self) -> Option<&Address> {
        match self {
            Self::Role { account, .. }
            | Self::User { account, .. }
            | Self::DelegatedAdministrator { account, .. }
            | Self::Contact { account, .. } => Some(account),
            _ => None,
        }
    }

    /// The account part of a role or user: a declared account's name, else the whole address.
    fn write_member(account: &Address, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match account {
            Self::Account(name) => f.write_str(name),
            other => write!(f, "{other}"),
        }
    }
}

/// A policy type as the configuration writes it (`service_control`), from the policy-type table.
fn type_name(policy_type: PolicyType) -> &'static str {
    crate::config::policy_type::info(policy_type).config_name
}

fn parse_type(text: &str, written: &str) -> Result<PolicyType, ParseError> {
    PolicyType::deserialize(IntoDeserializer::<serde::de::value::Error>::into_deserializer(written))
        .map_err(|_| ParseError::new(text, format!("`{written}` is not a policy type")))
}

/// An account id as AWS gives it: 12 digits.
fn is_account_id(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit())
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Root => f.write_str("root"),
            Self::PolicyType(policy_type) => write!(f, "policy_type:{}", type_name(*policy_type)),
            Self::TrustedAccess(principal) => write!(f, "trusted_access:{principal}"),
            Self::Ou(path) => write!(f, "ou:{path}"),
            Self::Account(name) => write!(f, "account:{name}"),
            Self::AccountId(id) => write!(f, "account_id:{id}"),
            Self::Policy { policy_type, name } => {
                write!(f, "policy:{}/{name}", type_name(*policy_type))
            }
            Self::Attachment { policy, target } => {
                f.write_str("attachment:")?;
                match &**policy {
                    Self::Policy { policy_type, name } => {
                        write!(f, "{}/{name}", type_name(*policy_type))?;
                    }
                    other => write!(f, "{other}")?,
                }
                write!(f, "->{target}")
            }
            Self::Role { account, name } => {
                f.write_str("role:")?;
                Self::write_member(account, f)?;
                write!(f, "/{name}")
            }
            Self::User { account, name } => {
                f.write_str("user:")?;
                Self::write_member(account, f)?;
                write!(f, "/{name}")
            }
            Self::DelegatedAdministrator { account, service } => {
                f.write_str("delegated_administrator:")?;
                Self::write_member(account, f)?;
                write!(f, "/{service}")
            }
            Self::Contact {
                account,
                contact_type,
            } => {
                f.write_str("contact:")?;
                Self::write_member(account, f)?;
                write!(f, "/{}", contact_type.name())
            }
        }
    }
}

/// A target of an attachment: the root, an OU or an account.
fn parse_target(text: &str) -> Option<Address> {
    match text.parse::<Address>() {
        Ok(target @ (Address::Root | Address::Ou(_) | Address::Account(_))) => Some(target),
        Ok(target @ Address::AccountId(_)) => Some(target),
        _ => None,
    }
}

/// The account of a role or user: `account_id:` and 12 digits, else a declared account's name.
fn parse_member(written: &str) -> Address {
    match written.strip_prefix("account_id:") {
        Some(id) if is_account_id(id) => Address::AccountId(id.to_owned()),
        _ => Address::Account(written.to_owned()),
    }
}

impl FromStr for Address {
    type Err = ParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text == "root" {
            return Ok(Self::Root);
        }
        let Some((kind, rest)) = text.split_once(':') else {
            return Err(ParseError::new(
                text,
                "write `root` or a kind and a colon (`ou:`, `account:`, `account_id:`, `policy:`, `policy_type:`, `trusted_access:`, `delegated_administrator:`, `attachment:`, `role:`, `user:`, `contact:`)",
            ));
        };
        match kind {
            "policy_type" => parse_type(text, rest).map(Self::PolicyType),
            "trusted_access" => Ok(Self::TrustedAccess(rest.to_owned())),
            "ou" => Ok(Self::Ou(rest.to_owned())),
            "account" => Ok(Self::Account(rest.to_owned())),
            "account_id" if is_account_id(rest) => Ok(Self::AccountId(rest.to_owned())),
            "account_id" => Err(ParseError::new(text, "an account id has 12 digits")),
            "policy" => {
                let Some((policy_type, name)) = rest.split_once('/') else {
                    return Err(ParseError::new(text, "write `policy:<type>/<name>`"));
                };
                Ok(Self::policy(parse_type(text, policy_type)?, name))
            }
            "attachment" => {
                let Some((policy_type, rest)) = rest.split_once('/') else {
                    return Err(ParseError::new(
                        text,
                        "write `attachment:<type>/<policy>-><target>`",
                    ));
                };
                let policy_type = parse_type(text, policy_type)?;
                rest.match_indices("->")
                    .find_map(|(at, _)| {
                        let target = parse_target(&rest[at + 2..])?;
                        Some(Self::Attachment {
                            policy: Box::new(Self::policy(policy_type, &rest[..at])),
                            target: Box::new(target),
                        })
                    })
                    .ok_or_else(|| {
                        ParseError::new(
                            text,
                            "the policy must be followed by `->` and `root`, an OU or an account",
                        )
                    })
            }
            "role" | "user" => {
                let Some((account, name)) = rest.rsplit_once('/') else {
                    return Err(ParseError::new(
                        text,
                        format!("write `{kind}:<account>/<name>`"),
                    ));
                };
                let account = Box::new(parse_member(account));
                let name = name.to_owned();
                Ok(if kind == "role" {
                    Self::Role { account, name }
                } else {
                    Self::User { account, name }
                })
            }
            "delegated_administrator" => {
                let Some((account, service)) = rest.rsplit_once('/') else {
                    return Err(ParseError::new(
                        text,
                        "write `delegated_administrator:<account>/<service principal>`",
                    ));
                };
                Ok(Self::DelegatedAdministrator {
                    account: Box::new(parse_member(account)),
                    service: service.to_owned(),
                })
            }
            "contact" => {
                let written = rest.rsplit_once('/').and_then(|(account, contact_type)| {
                    Some((account, ContactType::from_name(contact_type)?))
                });
                let Some((account, contact_type)) = written else {
                    return Err(ParseError::new(
                        text,
                        "write `contact:<account>/<billing, operations or security>`",
                    ));
                };
                Ok(Self::Contact {
                    account: Box::new(parse_member(account)),
                    contact_type,
                })
            }
            _ => Err(ParseError::new(
                text,
                format!("`{kind}` is not a kind of resource"),
            )),
        }
    }
}

/// Most pieces an address's text is made of: an attachment of a policy to an account takes 7.
const MOST_PIECES: usize = 12;

/// The text of an address as the pieces it is written from, borrowed from the address: what
/// [`Ord`] compares without building the text.
struct Pieces<'a> {
    pieces: [&'a str; MOST_PIECES],
    len: usize,
}

impl<'a> Pieces<'a> {
    /// The pieces of `address`; `None` for one nested too deep to fit (which no plan makes).
    fn of(address: &'a Address) -> Option<Self> {
        let mut pieces = Self {
            pieces: [""; MOST_PIECES],
            len: 0,
        };
        pieces.address(address).then_some(pieces)
    }

    /// Adds `piece`; false when there is no room left.
    fn push(&mut self, piece: &'a str) -> bool {
        let Some(slot) = self.pieces.get_mut(self.len) else {
            return false;
        };
        *slot = piece;
        self.len += 1;
        true
    }

    /// Adds the pieces of `address`, as [`Display`](fmt::Display) writes it.
    fn address(&mut self, address: &'a Address) -> bool {
        match address {
            Address::Root => self.push("root"),
            Address::PolicyType(policy_type) => {
                self.push("policy_type:") && self.push(type_name(*policy_type))
            }
            Address::TrustedAccess(principal) => {
                self.push("trusted_access:") && self.push(principal)
            }
            Address::Ou(path) => self.push("ou:") && self.push(path),
            Address::Account(name) => self.push("account:") && self.push(name),
            Address::AccountId(id) => self.push("account_id:") && self.push(id),
            Address::Policy { policy_type, name } => {
                self.push("policy:")
                    && self.push(type_name(*policy_type))
                    && self.push("/")
                    && self.push(name)
            }
            Address::Attachment { policy, target } => {
                self.push("attachment:")
                    && match &**policy {
                        Address::Policy { policy_type, name } => {
                            self.push(type_name(*policy_type)) && self.push("/") && self.push(name)
                        }
                        other => self.address(other),
                    }
                    && self.push("->")
                    && self.address(target)
            }
            Address::Role { account, name } => {
                self.push("role:") && self.member(account) && self.push("/") && self.push(name)
            }
            Address::User { account, name } => {
                self.push("user:") && self.member(account) && self.push("/") && self.push(name)
            }
            Address::DelegatedAdministrator { account, service } => {
                self.push("delegated_administrator:")
                    && self.member(account)
                    && self.push("/")
                    && self.push(service)
            }
            Address::Contact {
                account,
                contact_type,
            } => {
                self.push("contact:")
                    && self.member(account)
                    && self.push("/")
                    && self.push(contact_type.name())
            }
        }
    }

    /// The account part of a role, a user, a delegation or a contact (see
    /// [`Address::write_member`]).
    fn member(&mut self, account: &'a Address) -> bool {
        match account {
            Address::Account(name) => self.push(name),
            other => self.address(other),
        }
    }

    /// The text's bytes.
    fn bytes(&self) -> impl Iterator<Item = u8> + '_ {
        self.pieces[..self.len]
            .iter()
            .flat_map(|piece| piece.bytes())
    }
}

impl Ord for Address {
    fn cmp(&self, other: &Self) -> Ordering {
        // By text, compared piece by piece without building it; the rare values that print alike
        // (see the type's docs) by their parts.
        let by_text = match (Pieces::of(self), Pieces::of(other)) {
            (Some(mine), Some(theirs)) => mine.bytes().cmp(theirs.bytes()),
            _ => self.to_string().cmp(&other.to_string()),
        };
        by_text.then_with(|| {
            if self == other {
                Ordering::Equal
            } else {
                format!("{self:?}").cmp(&format!("{other:?}"))
            }
        })
    }
}

impl PartialOrd for Address {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Serialize for Address {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Address {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = Cow::<str>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for Address {
    fn schema_name() -> Cow<'static, str> {
        "Address".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "A resource: `root`, `policy_type:<type>`, `trusted_access:<service principal>`, `delegated_administrator:<account>/<service principal>`, `ou:<path>`, `account:<name in the file>`, `account_id:<id of an account the file does not declare>`, `policy:<type>/<name>`, `attachment:<type>/<policy>-><root, OU or account>`, `role:<account>/<name>`, `user:<account>/<name>` or `contact:<account>/<billing, operations or security>` (the account by its name in the file, or `account_id:<id>`)."
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(address: &Address, text: &str) {
        assert_eq!(address.to_string(), text);
        assert_eq!(text.parse::<Address>().as_ref(), Ok(address), "{text}");
    }

    #[test]
    fn every_kind_prints_and_parses_back() {
        let policy = Address::policy(PolicyType::ServiceControl, "deny-leave-org");
        let prod = Address::account("acme-prod");
        let undeclared = Address::account_id("123456789012");
        for (address, text) in [
            (Address::Root, "root"),
            (
                Address::PolicyType(PolicyType::ServiceControl),
                "policy_type:service_control",
            ),
            (
                Address::TrustedAccess("guardduty.amazonaws.com".to_owned()),
                "trusted_access:guardduty.amazonaws.com",
            ),
            (Address::ou("Workloads/Prod"), "ou:Workloads/Prod"),
            (prod.clone(), "account:acme-prod"),
            (undeclared.clone(), "account_id:123456789012"),
            (policy.clone(), "policy:service_control/deny-leave-org"),
            (
                Address::attachment(&policy, &Address::Root),
                "attachment:service_control/deny-leave-org->root",
            ),
            (
                Address::attachment(&policy, &Address::ou("Workloads")),
                "attachment:service_control/deny-leave-org->ou:Workloads",
            ),
            (
                Address::attachment(&policy, &prod),
                "attachment:service_control/deny-leave-org->account:acme-prod",
            ),
            (
                Address::attachment(&policy, &undeclared),
                "attachment:service_control/deny-leave-org->account_id:123456789012",
            ),
            (
                Address::role(&prod, "PartnerOperations"),
                "role:acme-prod/PartnerOperations",
            ),
            (
                Address::role(&undeclared, "PartnerOperations"),
                "role:account_id:123456789012/PartnerOperations",
            ),
            (
                Address::user(&prod, "end-customer"),
                "user:acme-prod/end-customer",
            ),
            (
                Address::user(&undeclared, "end-customer"),
                "user:account_id:123456789012/end-customer",
            ),
            (
                Address::delegated_administrator(&prod, "guardduty.amazonaws.com"),
                "delegated_administrator:acme-prod/guardduty.amazonaws.com",
            ),
            (
                Address::delegated_administrator(&undeclared, "sso.amazonaws.com"),
                "delegated_administrator:account_id:123456789012/sso.amazonaws.com",
            ),
            (
                Address::contact(&prod, ContactType::Security),
                "contact:acme-prod/security",
            ),
            (
                Address::contact(&undeclared, ContactType::Billing),
                "contact:account_id:123456789012/billing",
            ),
            (
                Address::contact(&Address::account("a/b"), ContactType::Operations),
                "contact:a/b/operations",
            ),
        ] {
            round_trip(&address, text);
            let pieces = Pieces::of(&address).expect("an address of a plan fits");
            assert_eq!(
                String::from_utf8(pieces.bytes().collect()).expect("UTF-8"),
                text,
                "the pieces Ord compares are the text"
            );
        }
    }

    #[test]
    fn names_with_slashes_colons_spaces_and_arrows_print_and_parse_back() {
        let odd = "a/b: c->d e";
        let account = Address::account(odd);
        let policy = Address::policy(PolicyType::Tag, "cost centre: a/b->x");
        for (address, text) in [
            (Address::ou("Work loads/A: b->c"), "ou:Work loads/A: b->c"),
            (account.clone(), "account:a/b: c->d e"),
            (Address::account("root"), "account:root"),
            (Address::account("123456789012"), "account:123456789012"),
            (
                Address::account("account_id:123456789012"),
                "account:account_id:123456789012",
            ),
            (policy.clone(), "policy:tag/cost centre: a/b->x"),
            (
                Address::attachment(&policy, &Address::ou("A->B/c d")),
                "attachment:tag/cost centre: a/b->x->ou:A->B/c d",
            ),
            (
                Address::attachment(&policy, &account),
                "attachment:tag/cost centre: a/b->x->account:a/b: c->d e",
            ),
            (
                Address::attachment(&Address::policy(PolicyType::Tag, "p->root"), &Address::Root),
                "attachment:tag/p->root->root",
            ),
            (Address::role(&account, "Ops"), "role:a/b: c->d e/Ops"),
            (Address::user(&account, "a b"), "user:a/b: c->d e/a b"),
            (
                Address::role(&Address::account("account_id:12"), "Ops"),
                "role:account_id:12/Ops",
            ),
        ] {
            round_trip(&address, text);
        }
    }

    #[test]
    fn an_undeclared_account_never_equals_a_declared_one_named_with_digits() {
        let declared = Address::account("123456789012");
        let undeclared = Address::account_id("123456789012");
        assert_ne!(declared, undeclared);
        assert_ne!(declared.to_string(), undeclared.to_string());
        // The one ambiguous text reads as the undeclared account; the values still differ.
        let named = Address::role(&Address::account("account_id:123456789012"), "Ops");
        let by_id = Address::role(&undeclared, "Ops");
        assert_eq!(named.to_string(), by_id.to_string());
        assert_ne!(named, by_id);
        assert_ne!(named.cmp(&by_id), Ordering::Equal);
        assert_eq!("role:account_id:123456789012/Ops".parse(), Ok(by_id));
    }

    #[test]
    fn addresses_order_as_their_text() {
        let mut addresses: Vec<Address> = [
            "root",
            "ou:B",
            "account_id:123456789012",
            "account:b",
            "ou:A/B",
            "policy:tag/x",
            "account:a",
            "attachment:tag/x->root",
            "role:a/R",
            "ou:A",
            "policy_type:tag",
            "user:a/U",
            "trusted_access:sso.amazonaws.com",
            "delegated_administrator:a/sso.amazonaws.com",
            "delegated_administrator:account_id:123456789012/sso.amazonaws.com",
            "role:account_id:123456789012/R",
        ]
        .iter()
        .map(|text| text.parse().expect("an address"))
        .collect();
        addresses.sort();
        let mut texts: Vec<String> = addresses.iter().map(ToString::to_string).collect();
        let printed = texts.clone();
        texts.sort();
        assert_eq!(printed, texts);
    }

    #[test]
    fn an_address_too_nested_for_its_pieces_still_orders_by_text() {
        // No plan makes an attachment of an attachment; one built anyway compares by its text.
        let mut nested = Address::account("a");
        for _ in 0..MOST_PIECES {
            nested = Address::attachment(&nested, &Address::Root);
        }
        assert!(Pieces::of(&nested).is_none());
        let other = Address::account("b");
        assert_eq!(
            nested.cmp(&other),
            nested.to_string().cmp(&other.to_string())
        );
        assert_eq!(nested.cmp(&nested.clone()), Ordering::Equal);
    }

    #[test]
    fn what_is_not_an_address_says_why() {
        for (text, error) in [
            (
                "Workloads",
                "`Workloads` is not an address: write `root` or a kind and a colon (`ou:`, `account:`, `account_id:`, `policy:`, `policy_type:`, `trusted_access:`, `delegated_administrator:`, `attachment:`, `role:`, `user:`, `contact:`)",
            ),
            (
                "group:x",
                "`group:x` is not an address: `group` is not a kind of resource",
            ),
            (
                "account_id:42",
                "`account_id:42` is not an address: an account id has 12 digits",
            ),
            (
                "policy:nope/x",
                "`policy:nope/x` is not an address: `nope` is not a policy type",
            ),
            (
                "policy:tag",
                "`policy:tag` is not an address: write `policy:<type>/<name>`",
            ),
            (
                "attachment:tag/x->nowhere",
                "`attachment:tag/x->nowhere` is not an address: the policy must be followed by `->` and `root`, an OU or an account",
            ),
            (
                "role:Ops",
                "`role:Ops` is not an address: write `role:<account>/<name>`",
            ),
            (
                "contact:acme-prod/legal",
                "`contact:acme-prod/legal` is not an address: write `contact:<account>/<billing, operations or security>`",
            ),
        ] {
            assert_eq!(
                text.parse::<Address>().map_err(|e| e.to_string()),
                Err(error.to_owned()),
            );
        }
    }

    #[test]
    fn serde_uses_the_text() {
        let address = Address::role(&Address::account_id("123456789012"), "Ops");
        let json = serde_json::to_string(&address).expect("serializes");
        assert_eq!(json, "\"role:account_id:123456789012/Ops\"");
        assert_eq!(
            serde_json::from_str::<Address>(&json).expect("deserializes"),
            address
        );
        let map: std::collections::BTreeMap<Address, u8> =
            serde_json::from_str(r#"{"ou:A": 1, "root": 2}"#).expect("a map keyed by address");
        assert_eq!(
            serde_json::to_string(&map).expect("serializes"),
            r#"{"ou:A":1,"root":2}"#
        );
        assert!(serde_json::from_str::<Address>("\"nowhere\"").is_err());
    }
}
