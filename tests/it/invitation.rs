//! Invitations on snapshots: an existing account declared with `join: invite` is invited, shown
//! as waiting while its invitation is open, invited again once that one ended, and placed and
//! tagged like any member once it has joined.

use std::path::Path;

use serde_json::Value;

use crate::apply::{apply_snapshot, example_copy, orgctl_in, planned_changes};
use crate::common::describe;

const ACQUIRED: &str = "555566667777";

/// The direct example with `northwind-acquired`, a standalone account, to invite into Sandbox.
fn with_account_to_invite() -> tempfile::TempDir {
    let directory = example_copy("direct");
    let config = directory.path().join("orgctl.yaml");
    let mut yaml = std::fs::read_to_string(&config).expect("readable");
    let accounts = "accounts:\n";
    assert!(yaml.contains(accounts), "the example declares accounts");
    yaml = yaml.replacen(
        accounts,
        &format!(
            "{accounts}  northwind-acquired:\n    id: \"{ACQUIRED}\"\n    join: invite\n    ou: Sandbox\n    tags: {{ cost-center: data }}\n"
        ),
        1,
    );
    std::fs::write(&config, yaml).expect("writable");
    directory
}

fn plan(dir: &Path) -> Value {
    let output = orgctl_in(dir, &["plan", "--state", "live.json", "--format", "json"]);
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|error| panic!("a JSON plan ({error}): {}", describe(&output)))
}

/// `(action, reason)` of the plan's changes to `northwind-acquired`.
fn acquired_changes(dir: &Path) -> Vec<(String, String)> {
    let output = orgctl_in(dir, &["plan", "--state", "live.json", "--format", "json"]);
    planned_changes(&output)
        .iter()
        .filter(|change| change["address"] == "account:northwind-acquired")
        .map(|change| {
            (
                change["action"].as_str().unwrap_or_default().to_owned(),
                change["reason"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// Edits the snapshot as AWS would change it.
fn edit_live(dir: &Path, edit: impl FnOnce(&mut Value)) {
    let path = dir.join("live.json");
    let mut live: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("readable")).expect("JSON");
    edit(&mut live);
    std::fs::write(&path, live.to_string()).expect("writable");
}

#[test]
fn an_invited_account_waits_joins_and_is_placed_like_any_member() {
    let directory = with_account_to_invite();
    let dir = directory.path();
    assert_eq!(
        acquired_changes(dir),
        [(
            "invite_account".to_owned(),
            "declared with `join: invite`, not in the organization".to_owned()
        )]
    );
    apply_snapshot(dir);

    // Waiting: nothing to change, and a finding that says so.
    assert_eq!(acquired_changes(dir), []);
    let waiting = plan(dir);
    let finding = waiting["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|finding| finding["code"] == "orgctl::live::invitation_open")
        .unwrap_or_else(|| panic!("a waiting finding: {waiting:#}"));
    let message = finding["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with(&format!(
            "account:northwind-acquired ({ACQUIRED}) is invited, waiting for the account to accept"
        )),
        "{message}"
    );

    // The account accepts: AWS records it at the root, and the next apply names, places and
    // tags it.
    edit_live(dir, |live| {
        live["invitations"][0]["state"] = "accepted".into();
        let root = live["root"]["id"].clone();
        live["accounts"]
            .as_array_mut()
            .expect("accounts")
            .push(serde_json::json!({
                "id": ACQUIRED,
                "name": "acquired",
                "email": "aws+northwind-acquired@northwind.example",
                "state": "active",
                "parent_id": root,
                "tags": {}
            }));
        // As with a new account, AWS attaches its full-access policies to one that joins.
        for policy in live["policies"].as_array_mut().expect("policies") {
            if policy["aws_managed"] == true {
                policy["targets"]
                    .as_array_mut()
                    .expect("targets")
                    .push(ACQUIRED.into());
            }
        }
    });
    let actions: Vec<String> = acquired_changes(dir)
        .into_iter()
        .map(|(action, _)| action)
        .collect();
    assert_eq!(actions, ["rename_account", "move_account", "update_tags"]);
    apply_snapshot(dir);
}

#[test]
fn a_declined_invitation_is_sent_again_and_an_unwanted_one_canceled() {
    let directory = with_account_to_invite();
    let dir = directory.path();
    apply_snapshot(dir);
    edit_live(dir, |live| {
        live["invitations"][0]["state"] = "declined".into()
    });
    let changes = acquired_changes(dir);
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0].0, "invite_account");
    assert!(changes[0].1.ends_with("was DECLINED"), "{changes:?}");
    apply_snapshot(dir);

    // The file lets the account go while its new invitation is open: it is canceled.
    let config = dir.join("orgctl.yaml");
    let yaml = std::fs::read_to_string(&config)
        .expect("readable")
        .replacen(
            "    join: invite\n",
            "    join: invite\n    lifecycle: remove\n",
            1,
        );
    std::fs::write(&config, yaml).expect("writable");
    assert_eq!(
        acquired_changes(dir)
            .into_iter()
            .map(|(action, _)| action)
            .collect::<Vec<_>>(),
        ["cancel_invitation"]
    );
    apply_snapshot(dir);
    assert_eq!(acquired_changes(dir), []);
}
