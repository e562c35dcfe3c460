//! Broken configurations: each fixture in `tests/fixtures/invalid/` names on its first line the
//! rule it must trigger; the rendered diagnostics are snapshot-tested.

use std::collections::BTreeSet;
use std::path::Path;

use orgctl::rules::Rule;

use crate::common;

const DIR: &str = "tests/fixtures/invalid";

/// Rules that no fixture file can trigger: they are exercised by the tests named here.
const TESTED_ELSEWHERE: &[(Rule, &str)] = &[
    (
        Rule::FleetAccountMoves,
        "fleet::a_customer_moved_to_a_dedicated_payer_plans_its_invitation_with_the_move_warning",
    ),
    (
        Rule::InvitationOpen,
        "invitation::an_invited_account_waits_joins_and_is_placed_like_any_member",
    ),
    (
        Rule::FleetCompany,
        "fleet::each_failing_organization_is_reported_and_the_others_finish",
    ),
    (
        Rule::FleetAccess,
        "src/fleet/tests.rs::the_fleet_file_checks_companies_and_how_organizations_are_reached",
    ),
    (
        Rule::FleetManagementAccount,
        "src/fleet/tests.rs::the_fleet_file_checks_companies_and_how_organizations_are_reached",
    ),
    (
        Rule::FleetProvider,
        "src/fleet/tests.rs::another_provider_is_an_error_at_the_file",
    ),
    (
        Rule::FleetBusinessModel,
        "fleet::a_file_contradicting_its_company_is_an_error_at_its_span",
    ),
    (
        Rule::FleetAccountClaimed,
        "fleet::an_account_two_customers_of_one_shared_payer_claim_fails_the_second_only",
    ),
    (
        Rule::FleetOnly,
        "fleet::only_picks_organizations_and_refuses_unknown_names",
    ),
    (
        Rule::FleetFiles,
        "fleet::a_report_of_a_folder_without_a_summary_fails",
    ),
    (
        Rule::StalePlan,
        "apply::a_saved_plan_applies_unchanged_and_is_refused_once_stale",
    ),
    (
        Rule::PlanBackend,
        "apply::a_plan_of_a_snapshot_is_not_applied_to_aws",
    ),
    (
        Rule::ApplyRefused,
        "apply::closing_and_removing_need_their_flags_and_change_nothing_without_them",
    ),
    (
        Rule::LeaseHeld,
        "lease::a_snapshot_locked_by_a_running_apply_is_refused_naming_the_holder",
    ),
    (
        Rule::ApplyInterrupted,
        "signals::ctrl_c_at_the_prompt_releases_the_snapshot_lease_and_changes_nothing",
    ),
    (
        Rule::ChangeFailed,
        "src/apply/mod.rs::a_failure_stops_new_work_and_reports_what_was_done",
    ),
    (
        Rule::ImportConflict,
        "import::what_a_configuration_cannot_express_is_refused_all_at_once",
    ),
    (
        Rule::ImportOwners,
        "import::owners_are_inferred_from_root_emails_and_ownership_findings_are_printed",
    ),
    (
        Rule::ImportOutput,
        "import::existing_files_are_kept_unless_forced",
    ),
    (
        Rule::ImportIncomplete,
        "src/commands/import.rs::a_configuration_that_would_plan_changes_is_never_written",
    ),
    (Rule::ConfigRead, "runs::validate_a_missing_file"),
    (Rule::ConfigTooLarge, "cli::deep_nesting_is_refused"),
    (
        Rule::LiveSnapshot,
        "runs::plan_against_a_snapshot_of_another_format",
    ),
    (
        Rule::LiveAws,
        "moto::an_account_in_no_organization_is_a_clear_error",
    ),
    (
        Rule::UndeclaredAccount,
        "findings::undeclared_accounts_follow_the_business_model_and_the_setting",
    ),
    (
        Rule::Unmanaged,
        "findings::an_undeclared_ou_is_reported_and_left_alone",
    ),
    (
        Rule::LiveEmailDomain,
        "findings::a_live_email_on_the_wrong_domain_is_a_finding_and_a_manual_step",
    ),
    (
        Rule::AccountNotActive,
        "findings::a_declared_account_closed_in_aws_is_a_finding",
    ),
    (
        Rule::AccountPendingActivation,
        "src/plan/diff.rs::an_account_pending_activation_is_a_warning_and_not_moved_renamed_or_tagged",
    ),
    (
        Rule::AccountBeingCreated,
        "fakecloud::an_account_being_created_is_planned_as_such_and_never_created_twice",
    ),
    (
        Rule::PinnedMissing,
        "findings::a_pinned_id_the_organization_lacks_is_an_error",
    ),
    (
        Rule::Ambiguous,
        "findings::two_live_ous_with_one_name_are_ambiguous",
    ),
    (
        Rule::AccountClaimedTwice,
        "findings::a_copied_retirement_entry_never_closes_the_account_another_entry_declares",
    ),
    (
        Rule::OuCannotMove,
        "findings::a_pinned_ou_under_another_parent_cannot_move",
    ),
    (
        Rule::OuNotEmpty,
        "findings::an_ou_that_would_keep_accounts_is_not_deleted",
    ),
    (Rule::NoScp, "findings::detaching_the_last_scp_is_an_error"),
    (
        Rule::LiveAttachmentLimit,
        "findings::more_than_ten_scps_after_the_plan_is_an_error",
    ),
    (
        Rule::CloseQuota,
        "findings::closing_beyond_the_quota_is_an_error",
    ),
    (
        Rule::WrongOrganization,
        "findings::another_organizations_management_account_is_an_error",
    ),
    (
        Rule::PlanOutput,
        "files::a_plan_saved_to_a_device_is_refused_and_the_device_kept",
    ),
    // A unit test: no configuration can make the ordering cycle.
    (
        Rule::DependencyCycle,
        "src/plan/order.rs::a_cycle_is_reported_and_nothing_is_lost",
    ),
];

/// The code on the `# expect: orgctl::...` first line of a fixture.
fn expected_code(path: &Path) -> String {
    let bytes = std::fs::read(common::root().join(path)).expect("the fixture is readable");
    let first_line = bytes.split(|b| *b == b'\n').next().unwrap_or_default();
    let first_line = String::from_utf8_lossy(first_line);
    first_line
        .strip_prefix("# expect: ")
        .unwrap_or_else(|| panic!("{} must start with `# expect: orgctl::...`", path.display()))
        .trim()
        .to_owned()
}

#[test]
fn every_fixture_triggers_its_rule_and_renders_the_same() {
    let fixtures = common::files(DIR, ".yaml");
    assert!(fixtures.len() >= 40, "only {} fixtures", fixtures.len());
    for path in fixtures {
        let expected = expected_code(&path);
        let diagnostics = common::validate(&path);
        let codes: Vec<&str> = diagnostics.iter().map(|d| d.rule.code()).collect();
        assert!(
            codes.contains(&expected.as_str()),
            "{} should report {expected}, reported {codes:?}",
            path.display()
        );
        let name = path
            .file_stem()
            .expect("a file name")
            .to_string_lossy()
            .into_owned();
        insta::with_settings!({ snapshot_suffix => name, prepend_module_to_snapshot => false, omit_expression => true }, {
            insta::assert_snapshot!("invalid", common::render(&diagnostics));
        });
    }
}

#[test]
fn every_rule_has_a_fixture_or_a_named_test() {
    let covered: BTreeSet<String> = common::files(DIR, ".yaml")
        .iter()
        .map(|path| expected_code(path))
        .collect();
    let elsewhere: BTreeSet<&str> = TESTED_ELSEWHERE
        .iter()
        .map(|(rule, _)| rule.code())
        .collect();
    let missing: Vec<&str> = Rule::ALL
        .iter()
        .map(|rule| rule.code())
        .filter(|code| !covered.contains(*code) && !elsewhere.contains(code))
        .collect();
    assert!(missing.is_empty(), "rules without a fixture: {missing:?}");
    // Every test named here exists.
    for (rule, test) in TESTED_ELSEWHERE {
        let (module, function) = test.rsplit_once("::").expect("module::function");
        let file = if module.ends_with(".rs") {
            module.to_owned()
        } else {
            format!("tests/it/{module}.rs")
        };
        let source = std::fs::read_to_string(common::root().join(file)).unwrap_or_default();
        assert!(
            source.contains(&format!("fn {function}(")),
            "{rule:?}: no test {test}"
        );
    }
}

#[test]
fn errors_carry_a_position_and_help() {
    for path in common::files(DIR, ".yaml") {
        for diagnostic in common::validate(&path) {
            let record = diagnostic.to_record();
            assert!(
                record.help.is_some(),
                "{}: {} has no help",
                path.display(),
                record.code
            );
            if diagnostic.rule != Rule::ConfigEmpty {
                assert!(
                    record.line.is_some(),
                    "{}: {} has no line",
                    path.display(),
                    record.code
                );
            }
        }
    }
}
