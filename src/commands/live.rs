//! Choosing and reading the live organization for `plan`, `drift` and `export`.

use crate::cli::LiveArgs;
use crate::diagnostic::Diagnostic;
use crate::live::snapshot::Snapshot;
use crate::live::{LiveState, OrgReader};

/// The live organization and how to name where it came from (`examples/ecam/live.json`, `AWS`).
pub(super) fn read(args: &LiveArgs) -> Result<(LiveState, String), Diagnostic> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|error| {
            Diagnostic::new(
                crate::rules::Rule::LiveAws,
                format!("cannot start the async runtime: {error}"),
            )
            .help("this is a problem of the machine orgctl runs on (threads, file descriptors)")
        })?;
    match &args.state {
        Some(path) => {
            let snapshot = Snapshot::new(path);
            let state = runtime.block_on(snapshot.read())?;
            Ok((state, path.display().to_string()))
        }
        None => {
            let backend = runtime.block_on(crate::live::aws::Aws::connect(&aws_options(args)))?;
            let state = runtime.block_on(backend.read())?;
            if args.verbose > 0 {
                eprintln!("{}", backend.request_report());
            }
            Ok((state, backend.describe()))
        }
    }
}

fn aws_options(args: &LiveArgs) -> crate::live::aws::Options {
    crate::live::aws::Options {
        profile: args.profile.clone(),
        region: args.region.clone(),
        endpoint_url: args.endpoint_url.clone(),
        assume_role: args.assume_role.clone(),
        progress: args.verbose > 0 || std::io::IsTerminal::is_terminal(&std::io::stderr()),
    }
}
