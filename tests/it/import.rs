//! `orgctl import`: every imported configuration plans empty against the organization it came
//! from, on snapshots (every example, generated organizations) and through moto (deep trees,
//! hundreds of accounts); what a configuration cannot express is refused; files are not
//! overwritten without `--force`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use orgctl::config::{BusinessModel, Payer, PolicyType};
use orgctl::import::{self, DEFAULT_EMAIL_TEMPLATE, Options};
use orgctl::live::snapshot::Snapshot;
use orgctl::live::{
    AccountState, LiveAccount, LiveOrganization, LiveOu, LivePolicy, LiveRoot, LiveState,
};
use orgctl::plan::{self, PlanInput};
use proptest::prelude::*;

use crate::common::moto::{Moto, runtime, seed};
use crate::common::{self, describe, orgctl};

fn options(model: BusinessModel) -> Options {
    Options {
        business_model: model,
        payer: Payer::Dedicated,
        provider_domain: None,
        customer_domain: None,
        provider_name: None,
        customer_name: None,
        name: None,
        email_template: DEFAULT_EMAIL_TEMPLATE.to_owned(),
        member_access_role: orgctl::model::DEFAULT_MEMBER_ACCESS_ROLE.to_owned(),
        policies_dir: Some("policies".to_owned()),
        source: "a test".to_owned(),
        imported_at: chrono::Utc::now(),
    }
}

/// Imports `live` in memory, then loads, resolves and plans the result against `live`: the
/// configuration's diagnostics and the plan.
fn round_trip(live: &LiveState, options: &Options) -> (Vec<String>, plan::Plan, String) {
    let imported = import::import(live, options)
        .unwrap_or_else(|diagnostics| panic!("import refused:\n{}", common::render(&diagnostics)));
    let config = orgctl::config::load_in_memory(
        "orgctl.yaml",
        &imported.yaml,
        Path::new("."),
        &imported.policy_files,
    )
    .unwrap_or_else(|diagnostics| {
        panic!(
            "the import does not parse:\n{}\n{}",
            common::render(&diagnostics),
            imported.yaml
        )
    });
    let resolved = orgctl::model::resolve(&config, &common::context());
    let errors: Vec<String> = resolved
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| common::render(std::slice::from_ref(d)))
        .collect();
    let plan = plan::plan(
        &resolved.desired,
        live,
        &PlanInput {
            config_digest: config.digest(),
            config_file: "orgctl.yaml".to_owned(),
            ..PlanInput::default()
        },
    );
    (errors, plan, imported.yaml)
}

// ---------------------------------------------------------------------------------------------
// Generated organizations.

/// A small deterministic generator (xorshift64*), so that every organization can be rebuilt from
/// its seed.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// The shape of a generated organization.
struct Shape {
    model: BusinessModel,
    provider_domain: &'static str,
    customer_domain: &'static str,
    ous: usize,
    depth: usize,
    accounts: usize,
    scps: usize,
    tag_policies: usize,
    /// Names drawn for OUs, accounts, policies and tags (deduplicated where AWS needs it).
    names: Vec<String>,
}

fn email_safe(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

/// A tag key or value made of AWS's tag characters.
fn tag_text(raw: &str) -> String {
    let text: String = raw
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || " _.:/=+-@".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if text.to_ascii_lowercase().starts_with("aws:") {
        format!("x{text}")
    } else {
        text
    }
}

fn generate(shape: &Shape, seed: u64) -> LiveState {
    let mut rng = Rng::new(seed);
    let name = |rng: &mut Rng, index: usize| -> String {
        if shape.names.is_empty() || rng.chance(30) {
            format!("name-{index}")
        } else {
            shape.names[rng.below(shape.names.len())].clone()
        }
    };
    let ownership = orgctl::model::Ownership::of(shape.model);
    let domain = |party| match party {
        orgctl::config::Party::Provider => shape.provider_domain,
        orgctl::config::Party::Customer => shape.customer_domain,
    };
    let tags = |rng: &mut Rng| -> BTreeMap<String, String> {
        let aws_tag = rng.chance(10);
        (0..rng.below(4))
            .map(|i| {
                let key = tag_text(&name(rng, i));
                let value = if rng.chance(20) {
                    String::new()
                } else {
                    tag_text(&name(rng, i + 7))
                };
                (key, value)
            })
            .filter(|(key, _)| !key.is_empty() && key.chars().count() <= 128)
            // AWS's own tags (CloudFormation sets these) are AWS's, never the file's.
            .chain(aws_tag.then(|| ("aws:cloudformation:stack-name".to_owned(), "org".to_owned())))
            .collect()
    };

    let root_id = "r-gen1".to_owned();
    // OUs: each under the root or an earlier OU less than `depth` deep; sibling names unique.
    let mut ous: Vec<(LiveOu, usize)> = Vec::new();
    let mut sibling_names: BTreeSet<(String, String)> = BTreeSet::new();
    for index in 0..shape.ous {
        let candidates: Vec<usize> = (0..ous.len()).filter(|&i| ous[i].1 < shape.depth).collect();
        let (parent_id, depth) = if candidates.is_empty() || rng.chance(25) {
            (root_id.clone(), 1)
        } else {
            // Prefer the deepest, so that trees reach their depth.
            let pick = candidates[candidates.len() - 1 - rng.below(candidates.len().min(3))];
            (ous[pick].0.id.clone(), ous[pick].1 + 1)
        };
        let mut ou_name: String = name(&mut rng, index).replace('/', "|");
        if ou_name.is_empty() {
            ou_name = format!("ou-{index}");
        }
        if !sibling_names.insert((parent_id.clone(), ou_name.clone())) {
            ou_name = format!("{ou_name} {index}");
            sibling_names.insert((parent_id.clone(), ou_name.clone()));
        }
        ous.push((
            LiveOu {
                id: format!("ou-gen1-{index:08x}"),
                name: ou_name,
                parent_id,
                tags: tags(&mut rng),
            },
            depth,
        ));
    }
    let parents: Vec<String> = std::iter::once(root_id.clone())
        .chain(ous.iter().map(|(ou, _)| ou.id.clone()))
        .collect();

    let management_domain = domain(ownership.management);
    let management_id = "100000000000".to_owned();
    let management_email = format!("aws-payer@{management_domain}");
    let mut accounts = vec![LiveAccount {
        id: management_id.clone(),
        name: "payer".to_owned(),
        email: management_email.clone(),
        state: AccountState::Active,
        parent_id: if rng.chance(25) {
            parents[rng.below(parents.len())].clone()
        } else {
            root_id.clone()
        },
        tags: tags(&mut rng),
    }];
    let mut account_names: BTreeSet<String> = BTreeSet::from(["payer".to_owned()]);
    let member_domain = domain(ownership.members);
    for index in 0..shape.accounts {
        let mut account_name: String = name(&mut rng, index)
            .chars()
            .filter(|c| (' '..='~').contains(c))
            .take(40)
            .collect();
        if account_name.is_empty() || !account_names.insert(account_name.clone()) {
            account_name = format!("account-{index}");
            account_names.insert(account_name.clone());
        }
        let email = if email_safe(&account_name) && rng.chance(70) {
            format!("aws+{account_name}@{member_domain}")
        } else {
            format!("acct-{index}@{member_domain}")
        };
        accounts.push(LiveAccount {
            id: format!("{:012}", 200_000_000_000u64 + index as u64),
            name: account_name,
            email,
            state: if rng.chance(5) {
                [
                    AccountState::PendingActivation,
                    AccountState::Suspended,
                    AccountState::PendingClosure,
                    AccountState::Closed,
                ][rng.below(4)]
            } else {
                AccountState::Active
            },
            parent_id: parents[rng.below(parents.len())].clone(),
            tags: tags(&mut rng),
        });
    }

    let mut targets: Vec<String> = parents.clone();
    targets.extend(accounts.iter().map(|a| a.id.clone()));
    let mut enabled = Vec::new();
    let mut policies = Vec::new();
    if shape.scps > 0 {
        enabled.push(PolicyType::ServiceControl);
        policies.push(LivePolicy {
            id: "p-FullAWSAccess".to_owned(),
            name: "FullAWSAccess".to_owned(),
            policy_type: PolicyType::ServiceControl,
            description: "Allows access to every operation".to_owned(),
            aws_managed: true,
            document: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#.to_owned(),
            tags: BTreeMap::new(),
            targets: targets.clone(),
        });
    }
    if shape.tag_policies > 0 {
        enabled.push(PolicyType::Tag);
    }
    let mut policy_names: BTreeSet<String> = BTreeSet::from(["FullAWSAccess".to_owned()]);
    let kinds = std::iter::repeat_n(PolicyType::ServiceControl, shape.scps)
        .chain(std::iter::repeat_n(PolicyType::Tag, shape.tag_policies));
    for (index, policy_type) in kinds.enumerate() {
        let mut policy_name = name(&mut rng, index + 1000);
        if policy_name.is_empty() || !policy_names.insert(policy_name.clone()) {
            policy_name = format!("policy-{index}");
            policy_names.insert(policy_name.clone());
        }
        let document = match policy_type {
            PolicyType::Tag => format!(
                r#"{{"tags":{{"costcenter{index}":{{"tag_key":{{"@@assign":"CostCenter"}},"tag_value":{{"@@assign":["{index}","ops"]}}}}}}}}"#
            ),
            _ => format!(
                "{{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [{{\"Effect\": \"Deny\", \"Action\": \"service{index}:*\", \"Resource\": \"*\"}}]\n}}"
            ),
        };
        let mut attached: Vec<String> = (0..rng.below(4))
            .map(|_| targets[rng.below(targets.len())].clone())
            .collect();
        attached.sort();
        attached.dedup();
        policies.push(LivePolicy {
            id: format!("p-gen{index:05}"),
            name: policy_name,
            policy_type,
            description: if rng.chance(50) {
                name(&mut rng, index + 2000)
            } else {
                String::new()
            },
            aws_managed: false,
            document,
            tags: tags(&mut rng),
            targets: attached,
        });
    }

    let mut live = LiveState {
        organization: LiveOrganization {
            id: "o-gen1abcdef".to_owned(),
            management_account_id: management_id,
            management_account_email: management_email,
        },
        root: LiveRoot {
            id: root_id,
            enabled_policy_types: enabled,
            tags: tags(&mut rng),
        },
        organizational_units: ous.into_iter().map(|(ou, _)| ou).collect(),
        accounts,
        policies,
        trusted_access: Vec::new(),
        delegated_administrators: Vec::new(),
        invitations: Vec::new(),
        contacts: Vec::new(),
        account_creations: Vec::new(),
        account_closures: None,
        iam: Vec::new(),
    };
    live.normalise();
    live
}

const MODELS: [BusinessModel; 4] = [
    BusinessModel::Direct,
    BusinessModel::Resold,
    BusinessModel::Ecam,
    BusinessModel::Spam,
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, .. ProptestConfig::default() })]

    /// Import then plan is empty, whatever the names, tags, tree and model.
    #[test]
    fn an_imported_organization_plans_empty(
        seed in any::<u64>(),
        model in 0..4usize,
        ous in 0..14usize,
        accounts in 0..16usize,
        scps in 0..4usize,
        tag_policies in 0..3usize,
        names in proptest::collection::vec(r#"[A-Za-z0-9 _.:#'"/@+=!?*&{}\[\],|>%`~-]{1,14}|[a-z]{1,8}|root|yes|123|ou:x|[é漢字🚀 ]{1,4}"#, 0..24),
        give_domains in any::<bool>(),
    ) {
        let shape = Shape {
            model: MODELS[model],
            provider_domain: "reseller-corp.com",
            customer_domain: "acme-corp.com",
            ous,
            depth: 5,
            accounts,
            scps,
            tag_policies,
            names,
        };
        let live = generate(&shape, seed);
        let mut options = options(shape.model);
        if give_domains {
            options.provider_domain = Some(shape.provider_domain.to_owned());
            options.customer_domain = Some(shape.customer_domain.to_owned());
        }
        // Inferring the customer's domain needs a member on it.
        let customer_members = live
            .accounts
            .iter()
            .filter(|a| a.state.is_active() && a.email.ends_with("@acme-corp.com"))
            .count();
        prop_assume!(give_domains || customer_members > 0 || matches!(shape.model, BusinessModel::Direct | BusinessModel::Spam));
        // An OU or account called `root` beside a policy on the organization root cannot be
        // written unambiguously: import says so (issue 11) rather than guess.
        let named_root = live.organizational_units.iter().any(|ou| ou.parent_id == live.root.id && ou.name == "root")
            || live.accounts.iter().any(|a| a.name == "root");
        let on_root = live.policies.iter().any(|p| !p.aws_managed && p.targets.contains(&live.root.id));
        if named_root && on_root && let Err(diagnostics) = import::import(&live, &options) {
            let text = common::render(&diagnostics);
            prop_assert!(text.contains("is called `root`"), "{text}");
            return Ok(());
        }
        let (errors, plan, yaml) = round_trip(&live, &options);
        prop_assert!(errors.is_empty(), "errors:\n{}\n{yaml}", errors.join("\n"));
        let changes: Vec<String> = plan.changes.iter().map(|c| c.address.to_string()).collect();
        prop_assert!(plan.is_empty(), "changes {changes:?}\n{yaml}");
        let errors: Vec<&str> = plan.findings.iter().filter(|f| f.severity == orgctl::rules::Severity::Error).map(|f| f.message.as_str()).collect();
        prop_assert!(errors.is_empty(), "plan errors {errors:?}\n{yaml}");
    }
}

// ---------------------------------------------------------------------------------------------
// The command, on snapshots.

const EXAMPLES: &[(&str, &str)] = &[
    ("direct", "direct"),
    ("ecam", "ecam"),
    ("resold", "resold"),
    ("shared-payer", "ecam"),
    ("spam", "spam"),
];

#[test]
fn every_example_imports_to_a_configuration_that_validates_and_plans_empty() {
    for (name, model) in EXAMPLES {
        let directory = tempfile::tempdir().expect("a temp dir");
        let out = directory.path().join("orgctl.yaml");
        let out = out.to_str().expect("a UTF-8 path");
        let state = format!("examples/{name}/live.json");
        let import = orgctl(&[
            "import",
            "--state",
            &state,
            "--out",
            out,
            "--business-model",
            model,
        ]);
        let stderr = String::from_utf8_lossy(&import.stderr);
        if *name == "spam" {
            // The snapshot's `initech-dev` has its root email on the customer's domain: under
            // `spam` the provider must hold every root, and import says so.
            assert_eq!(
                import.status.code(),
                Some(1),
                "{name}: {}",
                describe(&import)
            );
            assert!(
                stderr.contains("orgctl::ownership::member_email_domain"),
                "{stderr}"
            );
            assert!(
                stderr.contains("was written as the organization is, but it has 1 error above"),
                "{stderr}"
            );
            continue;
        }
        assert_eq!(
            import.status.code(),
            Some(0),
            "{name}: {}",
            describe(&import)
        );
        assert!(stderr.contains("plans no changes"), "{stderr}");
        let validate = orgctl(&["validate", out]);
        assert_eq!(
            validate.status.code(),
            Some(0),
            "{name}: {}",
            describe(&validate)
        );
        let plan = orgctl(&["plan", out, "--state", &state, "--detailed-exitcode"]);
        assert_eq!(plan.status.code(), Some(0), "{name}: {}", describe(&plan));
    }
}

/// The header's timestamp changes with every run.
fn without_timestamp(yaml: &str) -> String {
    yaml.lines()
        .map(|line| match line.split_once(" on 20") {
            Some((before, _)) if line.starts_with("# Imported by orgctl") => {
                format!("{before} on [time]:")
            }
            _ => line.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_imported_ecam_example_reads_like_a_hand_written_file() {
    let directory = tempfile::tempdir().expect("a temp dir");
    let out = directory.path().join("acme.yaml");
    let out = out.to_str().expect("a UTF-8 path");
    let import = orgctl(&[
        "import",
        "--state",
        "examples/ecam/live.json",
        "--out",
        out,
        "--business-model",
        "ecam",
        "--provider-name",
        "Example Reseller",
        "--customer-name",
        "Acme Corp",
    ]);
    assert_eq!(import.status.code(), Some(0), "{}", describe(&import));
    let yaml = std::fs::read_to_string(out).expect("written");
    let policies: Vec<String> = common::files(
        directory.path().join("policies").to_str().expect("UTF-8"),
        ".json",
    )
    .iter()
    .map(|path| {
        path.file_name()
            .expect("a name")
            .to_string_lossy()
            .into_owned()
    })
    .collect();
    assert_eq!(policies, ["deny-leave-org.json", "deny-root-user.json"]);
    let document = std::fs::read_to_string(directory.path().join("policies/deny-root-user.json"))
        .expect("written");
    assert!(document.starts_with("{\n  \""), "pretty JSON: {document}");
    insta::assert_snapshot!("imported_ecam", without_timestamp(&yaml));
}

#[test]
fn import_to_standard_output_writes_one_file_with_its_documents_inline() {
    let directory = tempfile::tempdir().expect("a temp dir");
    let state = common::root().join("examples/ecam/live.json");
    let state = state.to_str().expect("a UTF-8 path");
    let import = crate::apply::orgctl_in(
        directory.path(),
        &[
            "import",
            "--state",
            state,
            "--out",
            "-",
            "--business-model",
            "ecam",
        ],
    );
    assert_eq!(import.status.code(), Some(0), "{}", describe(&import));
    let yaml = String::from_utf8(import.stdout.clone()).expect("UTF-8");
    assert!(yaml.contains("    document: |\n      {\n"), "{yaml}");
    assert!(!yaml.contains("file:"), "{yaml}");
    assert_eq!(
        std::fs::read_dir(directory.path())
            .expect("readable")
            .count(),
        0,
        "nothing was written beside it"
    );
    // Saved as a file, it plans nothing against the organization it came from.
    let out = directory.path().join("orgctl.yaml");
    std::fs::write(&out, &yaml).expect("writable");
    let out = out.to_str().expect("a UTF-8 path");
    let plan = orgctl(&["plan", out, "--state", state, "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "{}", describe(&plan));
}

#[test]
fn import_into_a_folder_writes_its_orgctl_yaml() {
    let directory = tempfile::tempdir().expect("a temp dir");
    let folder = directory.path().to_str().expect("a UTF-8 path");
    let import = orgctl(&[
        "import",
        "--state",
        "examples/ecam/live.json",
        "--out",
        folder,
        "--business-model",
        "ecam",
    ]);
    assert_eq!(import.status.code(), Some(0), "{}", describe(&import));
    assert!(directory.path().join("orgctl.yaml").is_file());
    assert!(
        directory
            .path()
            .join("policies/deny-leave-org.json")
            .is_file()
    );
}

#[test]
fn existing_files_are_kept_unless_forced() {
    let directory = tempfile::tempdir().expect("a temp dir");
    let out = directory.path().join("orgctl.yaml");
    let out_text = out.to_str().expect("a UTF-8 path");
    std::fs::write(&out, "# mine\n").expect("writable");
    let args = [
        "import",
        "--state",
        "examples/direct/live.json",
        "--out",
        out_text,
    ];
    let refused = orgctl(&args);
    assert_eq!(refused.status.code(), Some(1), "{}", describe(&refused));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("orgctl::import::output") && stderr.contains("--force"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&out).expect("kept"), "# mine\n");
    assert!(!directory.path().join("policies").exists());

    // A policy document in the way (with other contents) refuses too, before anything is written.
    std::fs::remove_file(&out).expect("removable");
    std::fs::create_dir(directory.path().join("policies")).expect("a folder");
    let mine = directory.path().join("policies/deny-leave-org.json");
    std::fs::write(&mine, "{}\n").expect("writable");
    let refused = orgctl(&args);
    assert_eq!(refused.status.code(), Some(1), "{}", describe(&refused));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("deny-leave-org.json"));
    assert!(!out.exists());
    assert_eq!(std::fs::read_to_string(&mine).expect("kept"), "{}\n");

    let mut forced = args.to_vec();
    forced.push("--force");
    let output = orgctl(&forced);
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    assert!(
        std::fs::read_to_string(&out)
            .expect("written")
            .contains("organization:")
    );
    assert_ne!(std::fs::read_to_string(&mine).expect("replaced"), "{}\n");
    // Importing again with identical policy documents needs --force only for the YAML.
    std::fs::remove_file(&out).expect("removable");
    let again = orgctl(&args);
    assert_eq!(again.status.code(), Some(0), "{}", describe(&again));
}

fn write_state(directory: &Path, live: &LiveState) -> String {
    let path = directory.join("live.json");
    Snapshot::new(&path).save(live).expect("saved");
    path.to_string_lossy().into_owned()
}

#[test]
fn what_a_configuration_cannot_express_is_refused_all_at_once() {
    let mut live = Snapshot::new("examples/direct/live.json")
        .load()
        .expect("loads");
    // Two sibling OUs of one name, an OU name with `/`, two accounts of one name, and a policy
    // name used by two types.
    let security = live
        .organizational_units
        .iter()
        .find(|ou| ou.name == "Security")
        .expect("Security")
        .clone();
    live.organizational_units.push(LiveOu {
        id: "ou-6c1e-twin0001".to_owned(),
        ..security.clone()
    });
    live.organizational_units.push(LiveOu {
        id: "ou-6c1e-slash001".to_owned(),
        name: "Prod/EU".to_owned(),
        ..security
    });
    let twin = live.accounts[1].clone();
    live.accounts.push(LiveAccount {
        id: "999999999001".to_owned(),
        email: "twin@northwind.example".to_owned(),
        ..twin.clone()
    });
    // An OU called `root` while `deny-leave-org` is attached to the organization root. (An
    // account in an OU the snapshot lacks is refused when the snapshot is read: see
    // `hostile::a_snapshot_that_is_not_an_organization_is_refused_untouched`.)
    let _ = twin;
    live.organizational_units.push(LiveOu {
        id: "ou-6c1e-root0001".to_owned(),
        name: "root".to_owned(),
        parent_id: live.root.id.clone(),
        tags: Default::default(),
    });
    let scp = live
        .policies
        .iter()
        .find(|p| !p.aws_managed && p.policy_type == PolicyType::ServiceControl)
        .expect("an SCP")
        .clone();
    live.policies.push(LivePolicy {
        id: "p-twin0001".to_owned(),
        policy_type: PolicyType::Tag,
        document: r#"{"tags":{}}"#.to_owned(),
        targets: Vec::new(),
        ..scp
    });
    live.normalise();
    let directory = tempfile::tempdir().expect("a temp dir");
    let state = write_state(directory.path(), &live);
    let out = directory.path().join("orgctl.yaml");
    let output = orgctl(&[
        "import",
        "--state",
        &state,
        "--out",
        out.to_str().expect("UTF-8"),
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    // Messages wrap at 80 columns: compare them as one line.
    let stderr = String::from_utf8_lossy(&output.stderr)
        .replace('│', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    for expected in [
        "are both named `Security`",
        "OU `Prod/EU` (ou-6c1e-slash001) has `/` in its name",
        "are all named `northwind-log-archive`",
        "policies p-",
        "OU ou-6c1e-root0001 is called `root`, and policy `deny-leave-org` is attached to the organization root",
    ] {
        assert!(
            stderr.contains(expected),
            "missing {expected:?} in:\n{stderr}"
        );
    }
    assert_eq!(
        stderr.matches("orgctl::import::conflict").count(),
        5,
        "{stderr}"
    );
    assert!(!out.exists());
    assert!(!directory.path().join("policies").exists());
}

#[test]
fn access_an_earlier_file_granted_is_imported_not_revoked() {
    // The direct example's partner gets its roles; then the organization is imported afresh.
    let directory = tempfile::tempdir().expect("a temp dir");
    let state = directory.path().join("live.json");
    std::fs::copy("examples/direct/live.json", &state).expect("copied");
    let state = state.to_str().expect("UTF-8");
    let applied = orgctl(&[
        "apply",
        "examples/direct/orgctl.yaml",
        "--state",
        state,
        "--auto-approve",
    ]);
    assert_eq!(applied.status.code(), Some(0), "{}", describe(&applied));
    let out = directory.path().join("imported/orgctl.yaml");
    let out = out.to_str().expect("UTF-8");
    let import = orgctl(&["import", "--state", state, "--out", out]);
    assert_eq!(import.status.code(), Some(0), "{}", describe(&import));
    let yaml = std::fs::read_to_string(out).expect("written");
    assert!(
        yaml.contains("partners:\n  contoso-msp:\n    account_id: \"777766665555\"\n    role_name: ContosoMspReadOnly\n")
            && yaml.contains("accounts: [northwind-data-prod, northwind-shop-prod, northwind-shop-staging]")
            && yaml.contains("until: \"2027-12-31\""),
        "{yaml}"
    );
    let plan = orgctl(&["plan", out, "--state", state, "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "{}", describe(&plan));
}

#[test]
fn a_closed_account_may_share_its_name_with_the_account_that_replaced_it() {
    let mut live = Snapshot::new("examples/direct/live.json")
        .load()
        .expect("loads");
    let mut closed = live.accounts[1].clone();
    closed.id = "999999999002".to_owned();
    closed.email = "old-archive@northwind.example".to_owned();
    closed.state = AccountState::Closed;
    let name = closed.name.clone();
    live.accounts.push(closed);
    live.normalise();
    let (errors, plan, yaml) = round_trip(&live, &options(BusinessModel::Direct));
    assert!(errors.is_empty(), "{errors:?}");
    assert!(plan.is_empty(), "{:?}\n{yaml}", plan.changes);
    assert!(
        yaml.contains(&format!("  \"{name}~999999999002\":\n")),
        "{yaml}"
    );
    assert!(yaml.contains(&format!("  {name}:\n")), "{yaml}");
}

#[test]
fn owners_are_inferred_from_root_emails_and_ownership_findings_are_printed() {
    let directory = tempfile::tempdir().expect("a temp dir");
    // ECAM, every member on the provider's domain: there is no customer domain to infer.
    let mut live = Snapshot::new("examples/ecam/live.json")
        .load()
        .expect("loads");
    for account in live.accounts.iter_mut().skip(1) {
        account.email = format!("aws+{}@reseller.example", account.name);
    }
    let state = write_state(directory.path(), &live);
    let out = directory.path().join("orgctl.yaml");
    let out = out.to_str().expect("UTF-8");
    let base = [
        "import",
        "--state",
        state.as_str(),
        "--out",
        out,
        "--business-model",
        "ecam",
    ];
    let output = orgctl(&base);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("orgctl::import::owners") && stderr.contains("--customer-domain"),
        "{stderr}"
    );
    assert!(!Path::new(out).exists());

    // Given the customer's domain, the file is written and the provider-held member roots are
    // reported: under ECAM the customer must own them.
    let mut args = base.to_vec();
    args.extend(["--customer-domain", "acme.example"]);
    let output = orgctl(&args);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("orgctl::ownership::member_email_domain"),
        "{stderr}"
    );
    assert!(
        Path::new(out).exists(),
        "the organization is recorded as it is"
    );

    // The customer's own organization, taken over by a reseller: its payer is on the customer's
    // domain. Declared on a shared payer, that is refused by the payer rule as well.
    let mut live = Snapshot::new("examples/ecam/live.json")
        .load()
        .expect("loads");
    live.organization.management_account_email = "aws-root@acme.example".to_owned();
    live.accounts[0].email = "aws-root@acme.example".to_owned();
    let state = write_state(directory.path(), &live);
    let output = orgctl(&[
        "import",
        "--state",
        &state,
        "--out",
        out,
        "--force",
        "--business-model",
        "ecam",
        "--provider-domain",
        "reseller.example",
        "--payer",
        "shared",
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    for code in [
        "orgctl::ownership::management_email_domain",
        "orgctl::payer::existing_organization",
    ] {
        assert!(stderr.contains(code), "missing {code} in:\n{stderr}");
    }
    let yaml = std::fs::read_to_string(out).expect("written");
    assert!(yaml.contains("existing_organization: true"), "{yaml}");
}

// ---------------------------------------------------------------------------------------------
// Through moto.

/// Seeds `live` into moto, imports it through the aws backend, and plans the result.
fn import_through_moto(
    moto: &Moto,
    live: &LiveState,
    extra: &[&str],
) -> (tempfile::TempDir, String) {
    // AWS (and moto) refuse `aws:` tags from anyone but AWS.
    let mut live = live.clone();
    let strip =
        |tags: &mut BTreeMap<String, String>| tags.retain(|key, _| !key.starts_with("aws:"));
    strip(&mut live.root.tags);
    live.organizational_units
        .iter_mut()
        .for_each(|ou| strip(&mut ou.tags));
    live.accounts
        .iter_mut()
        .for_each(|account| strip(&mut account.tags));
    live.policies
        .iter_mut()
        .for_each(|policy| strip(&mut policy.tags));
    runtime().block_on(seed(&moto.client(), &live));
    let directory = tempfile::tempdir().expect("a temp dir");
    let out = directory.path().join("orgctl.yaml");
    let out = out.to_string_lossy().into_owned();
    let mut args = vec!["import", "--out", out.as_str()];
    args.extend(extra);
    let import = moto.orgctl(&args);
    assert_eq!(import.status.code(), Some(0), "{}", describe(&import));
    let plan = moto.orgctl(&["plan", &out, "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "{}", describe(&plan));
    let validate = moto.orgctl(&["validate", &out]);
    assert_eq!(validate.status.code(), Some(0), "{}", describe(&validate));
    (directory, out)
}

#[test]
fn a_deep_organization_with_hundreds_of_accounts_imports_through_moto() {
    let (_guard, moto) = Moto::lock();
    // moto's management account is master@example.com: a direct organization on example.com.
    let shape = Shape {
        model: BusinessModel::Direct,
        provider_domain: "example.com",
        customer_domain: "example.com",
        ous: 30,
        depth: 5,
        accounts: 250,
        scps: 3,
        tag_policies: 2,
        names: [
            "Prod",
            "Dev",
            "Shared Services",
            "team:data",
            "EU/West",
            "billing #1",
        ]
        .map(String::from)
        .to_vec(),
    };
    let live = generate(&shape, 5);
    let deepest = live
        .organizational_units
        .iter()
        .map(|ou| {
            let mut depth = 1;
            let mut parent = &ou.parent_id;
            while let Some(up) = live.organizational_units.iter().find(|o| &o.id == parent) {
                depth += 1;
                parent = &up.parent_id;
            }
            depth
        })
        .max();
    assert_eq!(deepest, Some(5), "the generated tree reaches AWS's depth");
    let (_directory, out) = import_through_moto(moto, &live, &[]);
    let yaml = std::fs::read_to_string(out).expect("written");
    // Every member account is declared once, pinned by its quoted id, and so is the management
    // account (OU ids are plain scalars).
    let declared = yaml.matches("\n    id: \"").count();
    assert_eq!(declared, 251, "{yaml}");
    assert!(yaml.contains("type: tag") && yaml.contains("type: service_control"));
}

#[test]
fn an_ecam_organization_imports_through_moto_with_its_owners() {
    let (_guard, moto) = Moto::lock();
    let shape = Shape {
        model: BusinessModel::Ecam,
        provider_domain: "example.com",
        customer_domain: "acme-corp.com",
        ous: 6,
        depth: 3,
        accounts: 12,
        scps: 2,
        tag_policies: 1,
        names: Vec::new(),
    };
    let live = generate(&shape, 11);
    let (_directory, out) = import_through_moto(
        moto,
        &live,
        &[
            "--business-model",
            "ecam",
            "--provider-name",
            "Example Reseller",
        ],
    );
    let yaml = std::fs::read_to_string(out).expect("written");
    assert!(
        yaml.contains("provider: { name: Example Reseller, email_domain: example.com }")
            && yaml.contains("customer: { name: acme-corp.com, email_domain: acme-corp.com }"),
        "{yaml}"
    );
}
