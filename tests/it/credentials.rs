//! Credentials through the real AWS SDK, before any request: none anywhere, a profile the AWS
//! files do not define, an SSO session that expired. orgctl runs with a clean environment and a
//! home directory of the test's own, holding the `~/.aws` files the test writes.

use std::path::Path;
use std::process::{Command, Output};

use crate::common::{self, describe};

/// orgctl planning the ECAM example through AWS, with nothing of this machine's AWS set-up: a
/// clean environment and `home` as its home directory. No instance role is asked (the metadata
/// service would make each test wait for its time-out).
fn plan_at_home(home: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_orgctl"))
        .args(["plan", "examples/ecam/orgctl.yaml"])
        .args(extra)
        .current_dir(common::root())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("NO_COLOR", "1")
        .env("COLUMNS", "80")
        .output()
        .expect("the orgctl binary runs")
}

/// A home directory whose `~/.aws/config` is `config`.
fn home_with_config(config: &str) -> tempfile::TempDir {
    let home = tempfile::tempdir().expect("a temp dir");
    std::fs::create_dir_all(home.path().join(".aws")).expect("writable");
    std::fs::write(home.path().join(".aws/config"), config).expect("writable");
    home
}

/// What a failed plan said: its exit code and stderr (the configuration's warnings left out:
/// they are not about credentials).
fn failure(output: &Output) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr);
    let start = stderr
        .find("orgctl::live::aws")
        .unwrap_or_else(|| panic!("no AWS diagnostic: {}", describe(output)));
    format!("exit {:?}\n{}", output.status.code(), &stderr[start..])
}

/// Two profiles of an organization run with static keys (the keys are never used: the profile
/// asked for is not among them).
const TWO_PROFILES: &str =
    "[profile prod]\nregion = us-east-1\n\n[profile staging]\nregion = eu-west-1\n";

#[test]
fn no_credentials_anywhere_are_named_with_what_to_do() {
    let home = tempfile::tempdir().expect("a temp dir");
    let output = plan_at_home(home.path(), &[]);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    insta::assert_snapshot!(failure(&output));
}

#[test]
fn a_profile_the_aws_files_lack_is_named_before_any_request() {
    let home = home_with_config(TWO_PROFILES);
    let output = plan_at_home(home.path(), &["--profile", "prdo"]);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    insta::assert_snapshot!(failure(&output));
}

#[test]
fn a_profile_unlike_any_lists_the_ones_there_are() {
    let home = home_with_config(TWO_PROFILES);
    let output = plan_at_home(home.path(), &["--profile", "customer-42"]);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("the profiles there are `prod` and `staging`"),
        "{stderr}"
    );
}

#[test]
fn a_profile_chosen_through_aws_profile_is_checked_too() {
    let home = home_with_config(TWO_PROFILES);
    let output = Command::new(env!("CARGO_BIN_EXE_orgctl"))
        .args(["plan", "examples/ecam/orgctl.yaml"])
        .current_dir(common::root())
        .env_clear()
        .env("HOME", home.path())
        .env("AWS_PROFILE", "customer-42")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .expect("the orgctl binary runs");
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("profile `customer-42` is not in"),
        "{}",
        describe(&output)
    );
}

/// An IAM Identity Center profile whose cached token (written by `aws sso login`) has expired and
/// cannot be refreshed: the SDK fails without a request.
fn home_with_an_expired_sso_session() -> tempfile::TempDir {
    let home = home_with_config(
        "[profile customer-sso]\nsso_session = corp\nsso_account_id = 111111111111\nsso_role_name = OrgctlPlan\nregion = us-east-1\n\n[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\nsso_registration_scopes = sso:account:access\n",
    );
    let cache = home.path().join(".aws/sso/cache");
    std::fs::create_dir_all(&cache).expect("writable");
    // The SDK finds a session's token under the SHA-1 of the session's name (`corp`).
    std::fs::write(
        cache.join("ee0bfd2552fbd840c02cc48b6e823320543c450f.json"),
        r#"{"accessToken": "expired-token", "expiresAt": "2020-01-01T00:00:00Z", "region": "us-east-1", "startUrl": "https://corp.awsapps.com/start"}"#,
    )
    .expect("writable");
    home
}

#[test]
fn an_expired_sso_session_names_the_login_to_run() {
    let home = home_with_an_expired_sso_session();
    let output = plan_at_home(home.path(), &["--profile", "customer-sso"]);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    insta::assert_snapshot!(failure(&output));
}

#[test]
fn verbose_output_keeps_the_sdk_error_chain() {
    let home = home_with_an_expired_sso_session();
    let quiet = plan_at_home(home.path(), &["--profile", "customer-sso"]);
    let verbose = plan_at_home(home.path(), &["--profile", "customer-sso", "-v"]);
    let chain = "the SSO token has expired and cannot be refreshed";
    assert!(
        !String::from_utf8_lossy(&quiet.stderr).contains(chain),
        "{}",
        describe(&quiet)
    );
    let stderr = String::from_utf8_lossy(&verbose.stderr);
    assert!(
        stderr.contains("orgctl: loading AWS credentials failed; the error as the SDK gave it:")
            && stderr.contains(chain),
        "{}",
        describe(&verbose)
    );
}
