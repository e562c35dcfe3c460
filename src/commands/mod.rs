//! The subcommands: each wires the pipeline stages and returns an [`ExitStatus`].

mod apply;
mod export;
mod import;
mod live;
pub(crate) mod plan;
mod rules;
mod schema;
mod validate;

use std::io::IsTerminal;

use crate::cli::{Cli, Colour, Command};
use crate::diagnostic::RenderStyle;

pub use schema::{config_schema, schema};

/// How orgctl exits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Done; nothing wrong.
    Success = 0,
    /// An error: invalid input, a failed call.
    Failure = 1,
    /// `plan --detailed-exitcode` and `drift`: there are changes.
    Changes = 2,
    /// `apply` stopped by `SIGINT` (Ctrl-C), after releasing its lease: 128 + 2, as a shell
    /// reports a process the signal ended.
    Interrupted = 130,
    /// `apply` stopped by `SIGTERM`, after releasing its lease: 128 + 15.
    Terminated = 143,
}

impl From<crate::apply::Signal> for ExitStatus {
    fn from(signal: crate::apply::Signal) -> Self {
        match signal {
            crate::apply::Signal::Interrupt => Self::Interrupted,
            crate::apply::Signal::Terminate => Self::Terminated,
        }
    }
}

impl From<ExitStatus> for std::process::ExitCode {
    fn from(status: ExitStatus) -> Self {
        std::process::ExitCode::from(status as u8)
    }
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> ExitStatus {
    let style = render_style(cli.color);
    match cli.command {
        Command::Validate(args) => validate::run(&args, style),
        Command::Plan(args) => plan::run(&args, style),
        Command::Drift(args) => plan::drift(&args, style),
        Command::Apply(args) => apply::run(&args, style),
        Command::ForceUnlock(args) => apply::force_unlock(&args, style),
        Command::Export(args) => export::run(&args, style),
        Command::Import(args) => import::run(&args, style),
        Command::Rules(args) => rules::run(&args),
        Command::Schema(args) => schema::run(&args),
        Command::Completions(args) => completions(args.shell),
        Command::Man => man(),
    }
}

/// Prints the completion script for `shell`, generated from the command line's definition.
fn completions(shell: clap_complete::Shell) -> ExitStatus {
    let mut command = <Cli as clap::CommandFactory>::command();
    clap_complete::generate(shell, &mut command, "orgctl", &mut std::io::stdout());
    ExitStatus::Success
}

/// Prints the manual page, generated from the command line's definition.
fn man() -> ExitStatus {
    let command = <Cli as clap::CommandFactory>::command();
    match clap_mangen::Man::new(command).render(&mut std::io::stdout()) {
        Ok(()) => ExitStatus::Success,
        Err(error) => {
            eprintln!("error: cannot write the manual page: {error}");
            ExitStatus::Failure
        }
    }
}

/// How to draw diagnostics on stderr and text on stdout: `--color always|never` wins; `auto`
/// colours a stream that is a terminal, unless `NO_COLOR` is set, and any stream when
/// `CLICOLOR_FORCE` is. The width is `COLUMNS`, else the terminal's, else 100.
fn render_style(colour: Colour) -> RenderStyle {
    let set =
        |name: &str| std::env::var_os(name).is_some_and(|value| !value.is_empty() && value != "0");
    let decide = |terminal: bool| match colour {
        Colour::Always => true,
        Colour::Never => false,
        Colour::Auto if set("NO_COLOR") => false,
        Colour::Auto => set("CLICOLOR_FORCE") || terminal,
    };
    let width = std::env::var("COLUMNS")
        .ok()
        .and_then(|columns| columns.parse().ok())
        .or_else(|| {
            terminal_size::terminal_size_of(std::io::stderr())
                .map(|(terminal_size::Width(width), _)| usize::from(width))
        })
        .unwrap_or(100);
    RenderStyle {
        colour: decide(std::io::stderr().is_terminal()),
        stdout_colour: decide(std::io::stdout().is_terminal()),
        width,
    }
}
