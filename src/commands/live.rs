//! Choosing the live organization for `plan`, `drift`, `export` and `apply`: reading it, and the
//! writer that changes it.

use crate::cli::LiveArgs;
use crate::diagnostic::Diagnostic;
use crate::live::LiveState;
use crate::live::aws::{Aws, AwsWriter, Options};
use crate::live::snapshot::{Snapshot, SnapshotWriter};
use crate::model::{DEFAULT_MEMBER_ACCESS_ROLE, Desired};
use crate::rules::Rule;

/// The live organization and how to name where it came from (`examples/ecam/live.json`, `AWS`);
/// with `desired`, also the IAM inside member accounts its plan needs.
pub(super) fn read(
    args: &LiveArgs,
    desired: Option<&Desired>,
) -> Result<(LiveState, String), Diagnostic> {
    let access_role = desired.map_or(DEFAULT_MEMBER_ACCESS_ROLE, |desired| {
        desired.organization.member_access_role.as_str()
    });
    read_with_iam(args, access_role, |state| {
        desired.map_or_else(Vec::new, |desired| crate::plan::iam_scope(desired, state))
    })
}

/// Reads the organization through `reader` (an apply's writer), then the IAM the plan of
/// `desired` needs (`plan::iam_scope`).
pub(super) async fn read_for<R: crate::live::OrgReader>(
    reader: &R,
    desired: &Desired,
) -> Result<LiveState, Diagnostic> {
    crate::live::read_with_iam(reader, &desired.organization.member_access_role, |state| {
        crate::plan::iam_scope(desired, state)
    })
    .await
}

/// The live organization with the IAM orgctl created in the member accounts `select` picks from
/// it; a snapshot holds its IAM already.
pub(super) fn read_with_iam(
    args: &LiveArgs,
    access_role: &str,
    select: impl FnOnce(&LiveState) -> Vec<String>,
) -> Result<(LiveState, String), Diagnostic> {
    if let Some(path) = &args.state {
        // A snapshot is a file read: no async runtime to start and stop.
        let state = Snapshot::new(path).load()?;
        let source = reached(&path.display().to_string(), &state);
        return Ok((state, source));
    }
    let runtime = runtime()?;
    let backend = runtime.block_on(Aws::connect(&aws_options(args)))?;
    let state = runtime.block_on(crate::live::read_with_iam(&backend, access_role, select))?;
    if args.verbose > 0 {
        eprintln!("{}", backend.request_report());
    }
    let source = reached(&backend.describe(), &state);
    Ok((state, source))
}

/// How commands name the organization they read: the backend and what it reached there, so that
/// credentials of the wrong organization show at once: `AWS at http://… (organization
/// o-abc123, management account 111111111111)`.
pub(super) fn reached(source: &str, state: &LiveState) -> String {
    format!(
        "{source} (organization {}, management account {})",
        state.organization.id, state.organization.management_account_id
    )
}

/// The backend `args` choose, as a plan records it.
pub(super) fn backend(args: &LiveArgs) -> crate::plan::Backend {
    match &args.state {
        Some(path) => crate::plan::Backend::Snapshot {
            path: path.display().to_string(),
        },
        None => crate::plan::Backend::Aws,
    }
}

/// The writer for the chosen backend.
pub(super) enum Writer {
    /// `--state FILE`.
    Snapshot(Box<SnapshotWriter>),
    /// AWS.
    Aws(Box<AwsWriter>),
}

/// The writer for `args`, and how to name it; for AWS, this finds the organization's root.
pub(super) async fn writer(args: &LiveArgs) -> Result<(Writer, String), Diagnostic> {
    if let Some(path) = &args.state {
        let writer = Box::new(SnapshotWriter::new(Snapshot::new(path)));
        return Ok((Writer::Snapshot(writer), path.display().to_string()));
    }
    let backend = Aws::connect(&aws_options(args)).await?;
    let source = backend.describe();
    Ok((
        Writer::Aws(Box::new(AwsWriter::new(backend).await?)),
        source,
    ))
}

/// A runtime for the aws backend's concurrent requests.
pub(super) fn runtime() -> Result<tokio::runtime::Runtime, Diagnostic> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|error| {
            Diagnostic::new(
                Rule::LiveAws,
                format!("cannot start the async runtime: {error}"),
            )
            .help("this is a problem of the machine orgctl runs on (threads, file descriptors)")
        })
}

fn aws_options(args: &LiveArgs) -> Options {
    Options {
        profile: args.profile.clone(),
        region: args.region.clone(),
        endpoint_url: args.endpoint_url.clone(),
        assume_role: args.assume_role.clone(),
        progress: std::io::IsTerminal::is_terminal(&std::io::stderr()),
        verbose: args.verbose,
    }
}
