//! The files orgctl reads and writes, through the binary: saved plans, snapshots and imported
//! configurations go through one writer that follows a link to a regular file and refuses
//! devices, pipes and directories; configurations, snapshots and plans are read with a limit,
//! and a device is never read.

use std::path::Path;

use crate::common::{describe, orgctl};

/// Exit code and the last diagnostic on stderr (the examples warn about their `.example`
/// domains first), with `directory` written as `[dir]`.
fn failure(output: &std::process::Output, directory: &Path) -> String {
    let stderr =
        String::from_utf8_lossy(&output.stderr).replace(&directory.display().to_string(), "[dir]");
    let last = stderr.rfind("\norgctl::").map_or(0, |index| index + 1);
    format!("exit {:?}\n{}", output.status.code(), &stderr[last..])
}

/// Runs orgctl as [`orgctl`] does, but wide enough that no message wraps: a temporary path
/// differs in length between machines, and would wrap differently.
fn orgctl_wide(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_orgctl"))
        .args(args)
        .current_dir(crate::common::root())
        .env("NO_COLOR", "1")
        .env("COLUMNS", "400")
        .output()
        .expect("the orgctl binary runs")
}

fn plan_args(out: &str) -> [&str; 6] {
    [
        "plan",
        "examples/ecam/orgctl.yaml",
        "--state",
        "examples/ecam/live.json",
        "--out",
        out,
    ]
}

#[test]
fn a_plan_saved_to_a_device_is_refused_and_the_device_kept() {
    let output = orgctl(&plan_args("/dev/null"));
    insta::assert_snapshot!(failure(&output, Path::new("/nowhere")), @r"
    exit Some(1)
    orgctl::plan::output

      × cannot save the plan to `/dev/null`: it is a character device, not a
      │ regular file
      help: name a regular file, a new one or a link to one: orgctl replaces a
            file whole (a new file beside it, renamed into place) and never writes
            into a directory, a device or a pipe
    ");
    let metadata = std::fs::metadata("/dev/null").expect("exists");
    assert!(std::os::unix::fs::FileTypeExt::is_char_device(
        &metadata.file_type()
    ));
}

#[test]
fn a_plan_saved_through_a_link_updates_its_target() {
    let directory = tempfile::tempdir().expect("a temp dir");
    let target = directory.path().join("reviewed.json");
    std::fs::write(&target, "old").expect("writable");
    let link = directory.path().join("plan.json");
    std::os::unix::fs::symlink("reviewed.json", &link).expect("a link");
    let output = orgctl(&plan_args(link.to_str().expect("UTF-8")));
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    let saved: orgctl::plan::Plan =
        serde_json::from_slice(&std::fs::read(&target).expect("written")).expect("a plan");
    assert_eq!(saved.format, "orgctl-plan");
    let link_type = std::fs::symlink_metadata(&link)
        .expect("exists")
        .file_type();
    assert!(link_type.is_symlink());
}

#[test]
fn a_snapshot_exported_to_a_directory_is_refused() {
    let output = orgctl(&[
        "export",
        "--state",
        "examples/spam/live.json",
        "--out",
        "examples",
    ]);
    insta::assert_snapshot!(failure(&output, Path::new("/nowhere")), @r"
    exit Some(1)
    orgctl::live::snapshot

      × cannot write the snapshot `examples`: it is a directory, not a regular
      │ file
      help: name a regular file, a new one or a link to one: orgctl replaces a
            file whole (a new file beside it, renamed into place) and never writes
            into a directory, a device or a pipe
    ");
}

#[test]
fn an_import_forced_through_a_link_updates_its_target() {
    let directory = tempfile::tempdir().expect("a temp dir");
    let target = directory.path().join("real.yaml");
    std::fs::write(&target, "# mine\n").expect("writable");
    let link = directory.path().join("orgctl.yaml");
    std::os::unix::fs::symlink("real.yaml", &link).expect("a link");
    let output = orgctl(&[
        "import",
        "--state",
        "examples/direct/live.json",
        "--out",
        link.to_str().expect("UTF-8"),
        "--force",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    let written = std::fs::read_to_string(&target).expect("written");
    assert!(written.contains("organization:"), "{written}");
    let link_type = std::fs::symlink_metadata(&link)
        .expect("exists")
        .file_type();
    assert!(link_type.is_symlink());
}

#[test]
fn a_device_named_as_configuration_is_never_read() {
    let output = orgctl(&["validate", "/dev/zero"]);
    insta::assert_snapshot!(failure(&output, Path::new("/nowhere")), @r"
    exit Some(1)
    orgctl::config::read

      × cannot read `/dev/zero`: it is a character device, not a regular file
      help: pass the path of an orgctl configuration, e.g. `orgctl validate
            examples/ecam/orgctl.yaml`
    ");
}

#[test]
fn a_device_named_as_snapshot_is_never_read() {
    let output = orgctl(&["plan", "examples/ecam/orgctl.yaml", "--state", "/dev/zero"]);
    insta::assert_snapshot!(failure(&output, Path::new("/nowhere")), @r"
    exit Some(1)
    orgctl::live::snapshot

      × cannot read the snapshot `/dev/zero`: it is a character device, not a
      │ regular file
      help: pass a file written by `orgctl export`, e.g. `--state
            examples/ecam/live.json`
    ");
}

#[test]
fn a_snapshot_over_its_limit_is_refused_unread_with_the_limit() {
    let directory = tempfile::tempdir().expect("a temp dir");
    let path = directory.path().join("live.json");
    let file = std::fs::File::create(&path).expect("created");
    file.set_len(orgctl::files::SNAPSHOT.bytes + 1)
        .expect("sized");
    let output = orgctl_wide(&[
        "plan",
        "examples/ecam/orgctl.yaml",
        "--state",
        path.to_str().expect("UTF-8"),
    ]);
    insta::assert_snapshot!(failure(&output, directory.path()), @r"
    exit Some(1)
    orgctl::live::snapshot

      × cannot read the snapshot `[dir]/live.json`: it is 2,334,360,097 bytes; a snapshot may have at most 2,334,360,096 bytes (the largest organization AWS allows: 50,000 accounts and 2,000 OUs with 50 tags each, 24,000 policies)
      help: pass a file written by `orgctl export`, e.g. `--state examples/ecam/live.json`
    ");
}
