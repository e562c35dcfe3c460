//! The ownership matrix: who owns the management account and who owns the members, per business
//! model. Every ownership rule is derived from here: first the owners, then the emails, access
//! and operator boundaries judged from them.

use crate::config::{BusinessModel, Party};

/// Which party holds the root user (root email and MFA) of each kind of account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ownership {
    /// Owner of the management (payer) account.
    pub management: Party,
    /// Owner of every member account.
    pub members: Party,
    /// Whether accounts may be created natively in AWS, outside orgctl.
    pub native_account_creation: bool,
}

impl Ownership {
    /// The matrix of DESIGN.md §1.
    pub const fn of(model: BusinessModel) -> Self {
        use Party::{Customer, Provider};
        match model {
            BusinessModel::Direct => Self::new(Customer, Customer, true),
            BusinessModel::Resold => Self::new(Provider, Customer, false),
            BusinessModel::Ecam => Self::new(Provider, Customer, false),
            BusinessModel::Spam => Self::new(Provider, Provider, false),
        }
    }

    const fn new(management: Party, members: Party, native_account_creation: bool) -> Self {
        Self {
            management,
            members,
            native_account_creation,
        }
    }

    /// The owner of an account of the given kind.
    pub const fn owner(&self, kind: AccountKind) -> Party {
        match kind {
            AccountKind::Management => self.management,
            AccountKind::Member => self.members,
        }
    }

    /// The parties that own at least one account, each once.
    pub fn owning_parties(&self) -> Vec<Party> {
        let mut parties = vec![self.management, self.members];
        parties.dedup();
        parties
    }

    /// Whether `party` may change IAM inside accounts of `kind`: only their owner can reach them.
    pub const fn reaches(&self, party: Party, kind: AccountKind) -> bool {
        matches!(
            (self.owner(kind), party),
            (Party::Provider, Party::Provider) | (Party::Customer, Party::Customer)
        )
    }

    /// Whether an ownership pair is possible at all: a provider-owned member under a
    /// customer-owned management account is not (the payer's owner holds the contract with AWS).
    pub const fn possible(management: Party, member: Party) -> bool {
        !matches!((management, member), (Party::Customer, Party::Provider))
    }
}

/// The two kinds of account the matrix distinguishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountKind {
    /// The management (payer) account.
    Management,
    /// A member (linked) account.
    Member,
}

impl AccountKind {
    /// `management account` or `member accounts`, for messages.
    pub const fn describe(self) -> &'static str {
        match self {
            AccountKind::Management => "the management account",
            AccountKind::Member => "member accounts",
        }
    }
}

/// `the provider` or `the customer`, for messages.
pub const fn party_name(party: Party) -> &'static str {
    match party {
        Party::Provider => "the provider",
        Party::Customer => "the customer",
    }
}

/// The YAML key that declares a party.
pub const fn party_key(party: Party) -> &'static str {
    match party {
        Party::Provider => "provider",
        Party::Customer => "customer",
    }
}

/// The business model as written in the file.
pub const fn model_name(model: BusinessModel) -> &'static str {
    match model {
        BusinessModel::Direct => "direct",
        BusinessModel::Resold => "resold",
        BusinessModel::Ecam => "ecam",
        BusinessModel::Spam => "spam",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Party::{Customer, Provider};

    #[test]
    fn the_matrix_matches_the_source_documents() {
        let rows = [
            (BusinessModel::Direct, Customer, Customer, true),
            (BusinessModel::Resold, Provider, Customer, false),
            (BusinessModel::Ecam, Provider, Customer, false),
            (BusinessModel::Spam, Provider, Provider, false),
        ];
        for (model, management, members, native) in rows {
            let ownership = Ownership::of(model);
            assert_eq!(ownership.management, management, "{model:?}");
            assert_eq!(ownership.members, members, "{model:?}");
            assert_eq!(ownership.native_account_creation, native, "{model:?}");
            assert!(Ownership::possible(management, members), "{model:?}");
        }
    }

    #[test]
    fn only_owners_reach_accounts() {
        let ecam = Ownership::of(BusinessModel::Ecam);
        assert!(!ecam.reaches(Provider, AccountKind::Member));
        assert!(ecam.reaches(Customer, AccountKind::Member));
        assert!(ecam.reaches(Provider, AccountKind::Management));
        let spam = Ownership::of(BusinessModel::Spam);
        assert!(spam.reaches(Provider, AccountKind::Member));
        assert!(!spam.reaches(Customer, AccountKind::Member));
    }

    #[test]
    fn a_provider_owned_member_under_a_customer_payer_is_impossible() {
        assert!(!Ownership::possible(Customer, Provider));
        assert!(Ownership::possible(Provider, Provider));
    }

    #[test]
    fn owning_parties_are_listed_once() {
        assert_eq!(
            Ownership::of(BusinessModel::Spam).owning_parties(),
            vec![Provider]
        );
        assert_eq!(
            Ownership::of(BusinessModel::Ecam).owning_parties(),
            vec![Provider, Customer]
        );
    }
}
