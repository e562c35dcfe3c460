//! `orgctl export`: the live organization as a snapshot file.

use super::{Exit, ExitStatus, live};
use crate::cli::ExportArgs;
use crate::diagnostic::RenderStyle;
use crate::live::snapshot::{self, Snapshot};

pub(super) fn run(args: &ExportArgs, style: RenderStyle) -> Exit {
    let desired = match &args.config {
        Some(config) => match super::plan::load_desired(&crate::config::locate(config), style) {
            Ok(desired) => Some(desired),
            Err(exit) => return exit,
        },
        None => None,
    };
    let (state, source) = match live::read(&args.live, desired.as_ref()) {
        Ok(read) => read,
        Err(error) => return Exit::failure(vec![error]),
    };
    match &args.out {
        None => print!("{}", snapshot::to_json(&state)),
        Some(out) => {
            if let Err(error) = Snapshot::new(out).save(&state) {
                return Exit::failure(vec![error]);
            }
            eprintln!(
                "Exported {} accounts, {} OUs and {} policies{} from {source} to {}.",
                state.accounts.len(),
                state.organizational_units.len(),
                state.policies.len(),
                if state.iam.is_empty() {
                    String::new()
                } else {
                    format!(", and the IAM of {} member accounts", state.iam.len())
                },
                out.display()
            );
        }
    }
    Exit::with(ExitStatus::Success)
}
