//! Choosing and reading the live organization for `plan`, `drift` and `export`.

use crate::cli::LiveArgs;
use crate::diagnostic::Diagnostic;
use crate::live::LiveState;
use crate::live::OrgReader;
use crate::live::aws::{Aws, Options};
use crate::live::snapshot::Snapshot;
use crate::rules::Rule;

/// The live organization and how to name where it came from (`examples/ecam/live.json`, `AWS`).
pub(super) fn read(args: &LiveArgs) -> Result<(LiveState, String), Diagnostic> {
    if let Some(path) = &args.state {
        // A snapshot is a file read: no async runtime to start and stop.
        let state = Snapshot::new(path).load()?;
        return Ok((state, path.display().to_string()));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|error| {
            Diagnostic::new(
                Rule::LiveAws,
                format!("cannot start the async runtime: {error}"),
            )
            .help("this is a problem of the machine orgctl runs on (threads, file descriptors)")
        })?;
    let backend = runtime.block_on(Aws::connect(&aws_options(args)))?;
    let state = runtime.block_on(backend.read())?;
    if args.verbose > 0 {
        eprintln!("{}", backend.request_report());
    }
    Ok((state, backend.describe()))
}

fn aws_options(args: &LiveArgs) -> Options {
    Options {
        profile: args.profile.clone(),
        region: args.region.clone(),
        endpoint_url: args.endpoint_url.clone(),
        assume_role: args.assume_role.clone(),
        progress: std::io::IsTerminal::is_terminal(&std::io::stderr()),
    }
}
