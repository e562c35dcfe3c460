//! Ordering: the changes form a DAG (petgraph); the plan lists them in a topological order that
//! is the same on every run.
//!
//! Edges: policy types are enabled before policies of that type are created or attached; parents
//! are created before children; OUs and accounts before what is attached to them; policies before
//! their attachments; a target gets its new policies before losing old ones (so it never goes
//! without an SCP); detaches before the policy is deleted; accounts move out and child OUs go
//! before an OU is deleted; a service gets trusted access before a delegated administrator, and
//! loses its delegated administrators before its trusted access and before their accounts close
//! or leave. Ties are broken by phase (creates, then moves, tags, attaches,
//! detaches, closures, deletes, manual steps) and then by address. An account is marked
//! `orgctl:iam` before its IAM is made, and loses its `orgctl:handover` mark after its user is.
//! Alternate contacts are set after their account is created and after trusted access for AWS
//! Account Management is enabled.

use std::collections::{BTreeSet, HashMap};

use petgraph::graph::{DiGraph, NodeIndex};

use super::{Action, Change};
use crate::address::Address;
use crate::config::PolicyType;
use crate::live::{ACCOUNT_IAM_TAG, HANDOVER_TAG};
use crate::model::contact::ACCOUNT_MANAGEMENT_PRINCIPAL;

/// The changes in dependency order, with `depends_on` filled in (by address), and the addresses
/// caught in a dependency cycle, if any.
pub(super) fn order(
    changes: Vec<Change>,
    detach_first: &BTreeSet<(Address, PolicyType)>,
) -> (Vec<Change>, Vec<Address>) {
    let mut graph: DiGraph<usize, ()> = DiGraph::with_capacity(changes.len(), changes.len());
    let nodes: Vec<NodeIndex> = (0..changes.len())
        .map(|index| graph.add_node(index))
        .collect();
    for (before, after) in edges(&changes, detach_first) {
        graph.update_edge(nodes[before], nodes[after], ());
    }

    // Kahn's algorithm with a sorted ready set: deterministic, and a cycle leaves nodes behind.
    let key = |index: usize| {
        (
            changes[index].action.phase(),
            changes[index].address.clone(),
            index,
        )
    };
    let mut waiting: Vec<usize> = nodes
        .iter()
        .map(|node| {
            graph
                .neighbors_directed(*node, petgraph::Direction::Incoming)
                .count()
        })
        .collect();
    let mut ready: BTreeSet<(u8, Address, usize)> = (0..changes.len())
        .filter(|i| waiting[*i] == 0)
        .map(key)
        .collect();
    let mut sorted = Vec::with_capacity(changes.len());
    while let Some(next) = ready.pop_first() {
        let index = next.2;
        sorted.push(index);
        for successor in graph.neighbors_directed(nodes[index], petgraph::Direction::Outgoing) {
            let successor = graph[successor];
            waiting[successor] -= 1;
            if waiting[successor] == 0 {
                ready.insert(key(successor));
            }
        }
    }
    // Whatever Kahn's algorithm could not place is in a cycle (or waits on one). The plan keeps
    // those changes, in phase order, and reports them; a plan with a cycle cannot be applied.
    let mut cyclic = Vec::new();
    if sorted.len() < changes.len() {
        let placed: BTreeSet<usize> = sorted.iter().copied().collect();
        let mut rest: Vec<usize> = (0..changes.len()).filter(|i| !placed.contains(i)).collect();
        rest.sort_by_key(|i| key(*i));
        cyclic = rest.iter().map(|i| changes[*i].address.clone()).collect();
        sorted.extend(rest);
    }

    let position: HashMap<usize, usize> = sorted
        .iter()
        .enumerate()
        .map(|(position, index)| (*index, position))
        .collect();
    let mut placed: Vec<(usize, usize, Change)> = changes
        .into_iter()
        .enumerate()
        .map(|(index, change)| (position[&index], index, change))
        .collect();
    placed.sort_by_key(|(position, _, _)| *position);
    let addresses: Vec<Address> = placed
        .iter()
        .map(|(_, _, change)| change.address.clone())
        .collect();
    let ordered = placed
        .into_iter()
        .map(|(_, index, mut change)| {
            let mut positions: Vec<usize> = graph
                .neighbors_directed(nodes[index], petgraph::Direction::Incoming)
                .map(|node| position[&graph[node]])
                .collect();
            positions.sort_unstable();
            // By address, in plan order, each once.
            let mut seen = BTreeSet::new();
            change.depends_on = positions
                .into_iter()
                .map(|earlier| &addresses[earlier])
                .filter(|address| seen.insert(*address))
                .cloned()
                .collect();
            change
        })
        .collect();
    (ordered, cyclic)
}

/// Pairs `(before, after)` of change indices.
fn edges(
    changes: &[Change],
    detach_first: &BTreeSet<(Address, PolicyType)>,
) -> Vec<(usize, usize)> {
    let mut created: HashMap<&Address, usize> = HashMap::new();
    let mut enabled: HashMap<PolicyType, usize> = HashMap::new();
    // Trusted access for AWS Account Management, when the plan enables it.
    let mut account_management: Option<usize> = None;
    for (index, change) in changes.iter().enumerate() {
        match &change.action {
            Action::CreateOu { .. }
            | Action::CreateAccount { .. }
            | Action::CreatePolicy { .. } => {
                created.insert(&change.address, index);
            }
            Action::EnablePolicyType { policy_type } => {
                enabled.insert(*policy_type, index);
            }
            Action::EnableTrustedAccess { principal }
                if principal == ACCOUNT_MANAGEMENT_PRINCIPAL =>
            {
                account_management = Some(index);
            }
            _ => {}
        }
    }
    let creation = |address: &Address| created.get(address).copied();
    let mut edges = Vec::new();
    let mut edges_out = Vec::new();
    // Changes to one resource keep their phase order (move, then tags, then close).
    let mut by_address: HashMap<&Address, Vec<usize>> = HashMap::new();
    for (index, change) in changes.iter().enumerate() {
        by_address.entry(&change.address).or_default().push(index);
    }
    for indices in by_address.values() {
        for (a, b) in indices
            .iter()
            .flat_map(|a| indices.iter().map(move |b| (*a, *b)))
        {
            if changes[a].action.phase() < changes[b].action.phase() {
                edges.push((a, b));
            }
        }
    }
    for (index, change) in changes.iter().enumerate() {
        let mut after = |before: Option<usize>| {
            if let Some(before) = before.filter(|b| *b != index) {
                edges.push((before, index));
            }
        };
        match &change.action {
            Action::CreateOu { parent, .. } => after(creation(parent)),
            Action::CreateAccount { parent, .. } => after(creation(parent)),
            Action::MoveAccount { to, .. } => after(creation(to)),
            Action::PutRole { account, .. } | Action::PutUser { account, .. } => {
                after(creation(account));
                // The account is marked first: a later plan finds its IAM even if this fails.
                for (other, other_change) in changes.iter().enumerate() {
                    if let Action::UpdateTags { set, .. } = &other_change.action
                        && other_change.address == *account
                        && set.contains_key(ACCOUNT_IAM_TAG)
                    {
                        after(Some(other));
                    }
                }
            }
            Action::UpdateTags { unset, .. } if unset.iter().any(|key| key == HANDOVER_TAG) => {
                // The hand-over mark goes once the user is made.
                for (other, other_change) in changes.iter().enumerate() {
                    if let Action::PutUser {
                        account,
                        handover: true,
                        ..
                    } = &other_change.action
                        && *account == change.address
                    {
                        after(Some(other));
                    }
                }
            }
            Action::PutAlternateContact { account, .. }
            | Action::DeleteAlternateContact { account, .. } => {
                after(creation(account));
                after(account_management);
            }
            Action::CreatePolicy { policy_type, .. } => {
                after(enabled.get(policy_type).copied());
            }
            Action::AttachPolicy { policy, target } => {
                after(creation(policy));
                after(creation(target));
                after(policy.policy_type().and_then(|t| enabled.get(&t)).copied());
            }
            Action::DetachPolicy { policy, target } => {
                // Old and new policies of one type on one target: detach first where the target
                // keeps a policy of the type meanwhile, else attach first (see `Differ::detach_first`).
                let policy_type = policy.policy_type();
                let first =
                    policy_type.is_some_and(|t| detach_first.contains(&(target.clone(), t)));
                for (other, other_change) in changes.iter().enumerate() {
                    if let Action::AttachPolicy {
                        policy: attached,
                        target: attached_target,
                    } = &other_change.action
                        && attached_target == target
                        && policy_type.is_some()
                        && attached.policy_type() == policy_type
                    {
                        if first {
                            edges_out.push((index, other));
                        } else {
                            after(Some(other));
                        }
                    }
                }
            }
            Action::CloseAccount { .. } | Action::RemoveAccount { .. } => {
                // A partner's access and the account's delegations go before the account closes
                // or leaves.
                for (other, other_change) in changes.iter().enumerate() {
                    let held_here = match &other_change.action {
                        Action::DeleteRole { account, .. } => *account == change.address,
                        Action::DeregisterDelegatedAdministrator { .. } => {
                            other_change.address.member_account() == Some(&change.address)
                        }
                        _ => false,
                    };
                    if held_here {
                        after(Some(other));
                    }
                }
            }
            Action::RegisterDelegatedAdministrator { account, service } => {
                // The account exists and the service has trusted access first.
                after(creation(account));
                for (other, other_change) in changes.iter().enumerate() {
                    if matches!(&other_change.action,
                        Action::EnableTrustedAccess { principal } if principal == service)
                    {
                        after(Some(other));
                    }
                }
            }
            Action::DisableTrustedAccess { principal } => {
                // A service loses its delegated administrators before its trusted access.
                for (other, other_change) in changes.iter().enumerate() {
                    if matches!(&other_change.action,
                        Action::DeregisterDelegatedAdministrator { service, .. } if service == principal)
                    {
                        after(Some(other));
                    }
                }
            }
            Action::DeletePolicy { .. } => {
                for (other, other_change) in changes.iter().enumerate() {
                    if let Action::DetachPolicy { policy, .. } = &other_change.action
                        && *policy == change.address
                    {
                        after(Some(other));
                    }
                }
            }
            Action::DeleteOu { .. } => {
                for (other, other_change) in changes.iter().enumerate() {
                    let empties_it = match &other_change.action {
                        Action::MoveAccount { from, .. } => *from == change.address,
                        Action::RemoveAccount { parent, .. } => *parent == change.address,
                        Action::DeleteOu { .. } => {
                            other_change.address.parent().as_ref() == Some(&change.address)
                        }
                        _ => false,
                    };
                    if empties_it {
                        after(Some(other));
                    }
                }
            }
            _ => {}
        }
    }
    edges.extend(edges_out);
    edges
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(text: &str) -> Address {
        text.parse().expect("an address")
    }

    fn create_ou(ou: &str, parent: &str) -> Change {
        let ou = address(ou);
        Change {
            action: Action::CreateOu {
                parent: address(parent),
                name: ou.ou_path().unwrap_or_default().to_owned(),
                tags: Default::default(),
            },
            address: ou,
            reason: String::new(),
            depends_on: Vec::new(),
        }
    }

    #[test]
    fn parents_come_first_whatever_the_input_order() {
        let (ordered, cyclic) = order(
            vec![
                create_ou("ou:A/B/C", "ou:A/B"),
                create_ou("ou:A/B", "ou:A"),
                create_ou("ou:A", "root"),
            ],
            &BTreeSet::new(),
        );
        let addresses: Vec<&Address> = ordered.iter().map(|c| &c.address).collect();
        assert_eq!(
            addresses,
            [&address("ou:A"), &address("ou:A/B"), &address("ou:A/B/C")]
        );
        assert_eq!(ordered[2].depends_on, [address("ou:A/B")]);
        assert!(cyclic.is_empty());
    }

    #[test]
    fn a_cycle_is_reported_and_nothing_is_lost() {
        // Two OUs that each claim the other as parent: no order can satisfy both.
        let (ordered, cyclic) = order(
            vec![
                create_ou("ou:X", "ou:Y"),
                create_ou("ou:Y", "ou:X"),
                create_ou("ou:Z", "root"),
            ],
            &BTreeSet::new(),
        );
        assert_eq!(ordered.len(), 3);
        assert_eq!(ordered[0].address, address("ou:Z"));
        assert_eq!(cyclic, [address("ou:X"), address("ou:Y")]);
    }
}
