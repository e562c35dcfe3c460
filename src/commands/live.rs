//! Choosing the live organization for `plan`, `drift`, `export` and `apply`: the backend the
//! command line names, opened, and the live organization read through it.

use crate::cli::LiveArgs;
use crate::diagnostic::Diagnostic;
use crate::live::{self, Backend, LiveState};
use crate::model::{DEFAULT_MEMBER_ACCESS_ROLE, Desired};
use crate::rules::Rule;

/// The live organization and how to name where it came from (`examples/ecam/live.json`, `AWS`);
/// with `desired`, also the IAM inside member accounts and the contacts its plan needs.
pub(super) fn read(
    args: &LiveArgs,
    desired: Option<&Desired>,
) -> Result<(LiveState, String), Diagnostic> {
    let access_role = desired.map_or(DEFAULT_MEMBER_ACCESS_ROLE, |desired| {
        desired.organization.member_access_role.as_str()
    });
    read_in_scope(args, access_role, |state| {
        desired.map_or_else(live::Scope::default, |desired| {
            crate::plan::read_scope(desired, state)
        })
    })
}

/// Reads the organization through `backend` (an apply's), then the IAM and contacts the plan of
/// `desired` needs (`plan::read_scope`).
pub(super) async fn read_for(
    backend: &Backend,
    desired: &Desired,
) -> Result<LiveState, Diagnostic> {
    Ok(
        live::read_in_scope(backend, &desired.organization.member_access_role, |state| {
            crate::plan::read_scope(desired, state)
        })
        .await?,
    )
}

/// The live organization with what `select` picks from it: the IAM orgctl created in member
/// accounts and alternate contacts; a snapshot holds them already.
pub(super) fn read_in_scope(
    args: &LiveArgs,
    access_role: &str,
    select: impl FnOnce(&LiveState) -> live::Scope,
) -> Result<(LiveState, String), Diagnostic> {
    let runtime = runtime()?;
    runtime.block_on(async {
        let backend = Backend::open(&options(args, false)).await?;
        let state = live::read_in_scope(&backend, access_role, select).await?;
        if args.verbose > 0
            && let Some(report) = backend.request_report()
        {
            eprintln!("{report}");
        }
        let source = reached(&backend.describe(), &state);
        Ok((state, source))
    })
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

/// The kind of backend `args` choose, as a plan records it.
pub(super) fn kind(args: &LiveArgs) -> crate::plan::BackendKind {
    crate::plan::BackendKind::of(&options(args, false))
}

/// The backend `args` choose, opened for writing, and how to name it; for AWS, this finds the
/// organization's root.
pub(super) async fn open_for_writing(args: &LiveArgs) -> Result<(Backend, String), Diagnostic> {
    let backend = Backend::open(&options(args, true)).await?;
    let source = backend.describe();
    Ok((backend, source))
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

/// The backend options the command line gives; `writes` for `apply` and `force-unlock`.
fn options(args: &LiveArgs, writes: bool) -> live::Options {
    live::Options {
        snapshot: args.state.clone(),
        aws: live::aws::Options {
            profile: args.profile.clone(),
            region: args.region.clone(),
            endpoint_url: args.endpoint_url.clone(),
            assume_role: args.assume_role.clone(),
            external_id: None,
            progress: std::io::IsTerminal::is_terminal(&std::io::stderr()),
            verbose: args.verbose,
        },
        writes,
    }
}
