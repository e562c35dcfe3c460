//! The subcommands: each wires the pipeline stages and returns how it ended, an `Exit`, which
//! [`run`] prints once and turns into an [`ExitStatus`].

mod apply;
mod export;
mod fleet;
mod import;
mod live;
pub(crate) mod plan;
mod rules;
mod schema;
mod validate;

use std::io::IsTerminal;

use crate::cli::{Cli, Colour, Command};
use crate::diagnostic::{self, Diagnostic, RenderStyle};

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

/// How a command ended: the status orgctl exits with, and what is left to print, which [`run`]
/// prints once, in this order: the diagnostics on stderr, the report on stdout, the closing lines
/// on stderr. What a command shows while it runs (a plan, apply's progress, the warnings before
/// a plan) it prints itself, at that moment.
#[derive(Debug)]
#[must_use]
struct Exit {
    /// How orgctl exits.
    status: ExitStatus,
    /// The problems to show: why the command failed, or what a validation found.
    diagnostics: Vec<Diagnostic>,
    /// What goes on stdout after the diagnostics (validate's summary line, the JSON report of an
    /// apply that stopped), whole lines.
    report: String,
    /// What goes on stderr last (`Nothing was changed.`), whole lines.
    closing: String,
}

impl Exit {
    /// Ends with `status`, nothing left to print.
    fn with(status: ExitStatus) -> Self {
        Self {
            status,
            diagnostics: Vec::new(),
            report: String::new(),
            closing: String::new(),
        }
    }

    /// Fails (exit 1) for the reasons `diagnostics` give.
    fn failure(diagnostics: Vec<Diagnostic>) -> Self {
        Self {
            diagnostics,
            ..Self::with(ExitStatus::Failure)
        }
    }

    /// Exits with `status` instead.
    fn status(mut self, status: ExitStatus) -> Self {
        self.status = status;
        self
    }

    /// Adds `line` to the report on stdout.
    fn report(mut self, line: impl AsRef<str>) -> Self {
        self.report.push_str(line.as_ref());
        self.report.push('\n');
        self
    }

    /// Adds `line` to the closing lines on stderr.
    fn closing(mut self, line: impl AsRef<str>) -> Self {
        self.closing.push_str(line.as_ref());
        self.closing.push('\n');
        self
    }

    /// Prints what is left, in order, and gives the status to exit with.
    fn print(self, style: RenderStyle) -> ExitStatus {
        if !self.diagnostics.is_empty() {
            eprint!("{}", diagnostic::render(&self.diagnostics, style));
        }
        print!("{}", self.report);
        eprint!("{}", self.closing);
        self.status
    }
}

impl From<ExitStatus> for Exit {
    fn from(status: ExitStatus) -> Self {
        Self::with(status)
    }
}

/// Runs a parsed command line, prints how it ended, and gives the status to exit with.
pub fn run(cli: Cli) -> ExitStatus {
    let style = render_style(cli.color);
    let exit = match cli.command {
        Command::Validate(args) => validate::run(&args, style),
        Command::Plan(args) => plan::run(&args, style),
        Command::Drift(args) => plan::drift(&args, style),
        Command::Apply(args) => apply::run(&args, style),
        Command::ForceUnlock(args) => apply::force_unlock(&args),
        Command::Export(args) => export::run(&args, style),
        Command::Import(args) => import::run(&args),
        Command::Fleet(command) => fleet::run(&command, style),
        Command::Rules(args) => rules::run(&args),
        Command::Schema(args) => schema::run(&args),
        Command::Completions(args) => completions(args.shell),
        Command::Man => man(),
    };
    exit.print(style)
}

/// Prints the completion script for `shell`, generated from the command line's definition.
fn completions(shell: clap_complete::Shell) -> Exit {
    let mut command = <Cli as clap::CommandFactory>::command();
    clap_complete::generate(shell, &mut command, "orgctl", &mut std::io::stdout());
    Exit::with(ExitStatus::Success)
}

/// Prints the manual page, generated from the command line's definition.
fn man() -> Exit {
    let command = <Cli as clap::CommandFactory>::command();
    match clap_mangen::Man::new(command).render(&mut std::io::stdout()) {
        Ok(()) => Exit::with(ExitStatus::Success),
        Err(error) => Exit::with(ExitStatus::Failure)
            .closing(format!("error: cannot write the manual page: {error}")),
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
