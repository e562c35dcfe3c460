//! The command line.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// Keeps an AWS Organization in the shape its owners declared.
#[derive(Debug, Parser)]
#[command(name = "orgctl", version, about, long_about = None)]
pub struct Cli {
    /// When to use colour: `auto` uses it on a terminal unless NO_COLOR is set.
    #[arg(long, global = true, value_enum, default_value_t = Colour::Auto)]
    pub color: Colour,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check a configuration offline: every rule, every problem at once.
    Validate(ValidateArgs),
    /// List every rule orgctl checks, with its code and severity.
    Rules(RulesArgs),
    /// Print a JSON Schema of orgctl's files.
    Schema(SchemaArgs),
}

/// `orgctl validate`.
#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// The configuration file.
    #[arg(default_value = "orgctl.yaml")]
    pub file: PathBuf,
    /// `text` for people, `json` for machines.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Also print the resolved model: owners, resolved root emails, OUs, policies, partners.
    #[arg(long)]
    pub explain: bool,
}

/// `orgctl rules`.
#[derive(Debug, clap::Args)]
pub struct RulesArgs {
    /// `text` for people, `json` for machines.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// `orgctl schema`.
#[derive(Debug, clap::Args)]
pub struct SchemaArgs {
    /// Which file's schema.
    #[arg(value_enum, default_value_t = SchemaKind::Config)]
    pub kind: SchemaKind,
}

/// The files orgctl publishes a schema for.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SchemaKind {
    /// The YAML configuration (`schemas/orgctl.schema.json`).
    Config,
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For people.
    Text,
    /// For machines.
    Json,
}

/// Colour choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Colour {
    /// On a terminal, unless NO_COLOR is set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}
