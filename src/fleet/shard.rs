//! Sharding a fleet across CI workers: `--shard K/N` picks the organizations whose
//! highest-random-weight (rendezvous) shard is K. Each organization's shard depends on its name
//! and N only, through a fixed hash (SHA-256, not std's per-process randomized one): every
//! worker agrees without talking to the others, and adding an organization moves none of the
//! others.

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

/// One share of N: `K/N`, 1 ≤ K ≤ N.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
pub struct Shard {
    /// Which share, from 1.
    pub index: u32,
    /// How many shares.
    pub total: u32,
}

impl Shard {
    /// Whether the organization `name` falls in this shard.
    pub fn holds(&self, name: &str) -> bool {
        shard_of(name, self.total) == self.index
    }
}

/// The shard (1..=`total`) of the organization `name`: the one with the highest weight.
pub fn shard_of(name: &str, total: u32) -> u32 {
    (1..=total.max(1))
        .max_by_key(|index| (weight(name, *index), std::cmp::Reverse(*index)))
        .unwrap_or(1)
}

/// The weight of `name` in the shard `index`: the first 8 bytes of SHA-256 of both.
fn weight(name: &str, index: u32) -> u64 {
    let mut hasher = Sha256::new();
    hasher.update(index.to_be_bytes());
    hasher.update(name.as_bytes());
    let digest = hasher.finalize();
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(bytes)
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.total)
    }
}

impl FromStr for Shard {
    type Err = String;

    /// `K/N` with 1 ≤ K ≤ N; CI systems number from 1 (GitLab's `CI_NODE_INDEX`) or from 0
    /// (Kubernetes' `JOB_COMPLETION_INDEX`, which the recipes add 1 to).
    fn from_str(text: &str) -> Result<Self, String> {
        let invalid = || format!("`{text}` is not a shard: write K/N with 1 ≤ K ≤ N, e.g. 2/3");
        let (index, total) = text.split_once('/').ok_or_else(invalid)?;
        let index: u32 = index.trim().parse().map_err(|_| invalid())?;
        let total: u32 = total.trim().parse().map_err(|_| invalid())?;
        if index == 0 || total == 0 || index > total {
            return Err(invalid());
        }
        Ok(Shard { index, total })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(count: usize) -> Vec<String> {
        (0..count)
            .map(|index| format!("customer-{index}"))
            .collect()
    }

    #[test]
    fn every_organization_is_in_exactly_one_shard() {
        for total in 1..=7 {
            for name in names(200) {
                let holders = (1..=total)
                    .filter(|index| {
                        Shard {
                            index: *index,
                            total,
                        }
                        .holds(&name)
                    })
                    .count();
                assert_eq!(holders, 1, "{name} in {total} shards");
            }
        }
    }

    #[test]
    fn shards_are_balanced() {
        let total = 4;
        let mut counts = [0usize; 4];
        for name in names(1000) {
            counts[shard_of(&name, total) as usize - 1] += 1;
        }
        for count in counts {
            assert!((180..=320).contains(&count), "{counts:?}");
        }
    }

    #[test]
    fn the_shard_of_a_name_is_fixed() {
        // A fixed hash: every worker, every run, every platform agrees.
        let shards: Vec<u32> = ["acme", "globex", "initech", "umbrella"]
            .iter()
            .map(|name| shard_of(name, 3))
            .collect();
        assert_eq!(shards, [3, 2, 3, 1]);
    }

    #[test]
    fn adding_a_shard_moves_only_a_share_of_the_organizations() {
        // Rendezvous hashing: from N to N+1 shards, an organization moves only to the new one.
        let all = names(600);
        let moved: Vec<&String> = all
            .iter()
            .filter(|name| shard_of(name, 3) != shard_of(name, 4))
            .collect();
        assert!(moved.iter().all(|name| shard_of(name, 4) == 4));
        assert!(
            moved.len() < all.len() / 3,
            "{} of {} moved",
            moved.len(),
            all.len()
        );
    }

    #[test]
    fn shards_parse_and_print() {
        assert_eq!("2/3".parse::<Shard>(), Ok(Shard { index: 2, total: 3 }));
        assert_eq!(Shard { index: 2, total: 3 }.to_string(), "2/3");
        for bad in ["0/3", "4/3", "3", "a/b", "1/0", ""] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }
}
