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
    /// Show the changes that would make the live organization match the configuration.
    Plan(PlanArgs),
    /// Report differences between the configuration and the live organization (for scheduled jobs).
    Drift(DriftArgs),
    /// Make the live organization match the configuration, or carry out a saved plan.
    Apply(ApplyArgs),
    /// Remove the lease of an apply that died without releasing it.
    ForceUnlock(ForceUnlockArgs),
    /// Write the live organization to a snapshot file.
    Export(ExportArgs),
    /// Write a configuration of the live organization that plans no changes (onboarding).
    Import(ImportArgs),
    /// Run many organizations of one provider: validate, plan, drift, apply a fleet file, and
    /// merge the summaries of sharded runs.
    #[command(subcommand)]
    Fleet(FleetCommand),
    /// List every rule orgctl checks, with its code and severity.
    Rules(RulesArgs),
    /// Print a JSON Schema of orgctl's files.
    Schema(SchemaArgs),
    /// Print a shell completion script (e.g. `orgctl completions bash > /etc/bash_completion.d/orgctl`).
    Completions(CompletionsArgs),
    /// Print the manual page, in roff (e.g. `orgctl man > orgctl.1; man ./orgctl.1`).
    Man,
}

/// `orgctl fleet …`.
#[derive(Debug, Subcommand)]
pub enum FleetCommand {
    /// Check every organization's configuration and the fleet across files, offline.
    Validate(FleetArgs),
    /// Plan every organization: a summary, and each organization's plan under `--out-dir`.
    Plan(FleetArgs),
    /// Report every organization's drift (for scheduled jobs).
    Drift(FleetArgs),
    /// Apply every organization whose plan is clean; each under its own lease.
    Apply(FleetApplyArgs),
    /// Merge the summaries that runs wrote to their `--out-dir`s (one per shard) into one.
    Report(FleetReportArgs),
}

/// What every fleet run takes.
#[derive(Debug, Clone, clap::Args)]
pub struct FleetArgs {
    /// The fleet file.
    #[arg(default_value = "fleet.yaml")]
    pub file: PathBuf,
    /// Only these organizations (names from the fleet file, comma-separated or repeated).
    #[arg(long, value_name = "NAMES", value_delimiter = ',')]
    pub only: Vec<String>,
    /// Organizations run at once. AWS throttles each organization on its own, so they are
    /// independent; the bound is this machine's.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub parallel: u16,
    /// Write `summary.json` and each organization's plan (or apply report) to this folder.
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
    /// Run only the share K of N of the organizations (1 ≤ K ≤ N), the same share on every
    /// machine; `orgctl fleet report` merges the shares' `--out-dir`s.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<crate::fleet::shard::Shard>,
    /// `text` for people, `json` for machines (`schemas/fleet.schema.json`), `markdown` for a
    /// pull-request comment.
    #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
    pub format: PlanFormat,
    /// The AWS region to call (Organizations lives in us-east-1).
    #[arg(long, env = "AWS_REGION")]
    pub region: Option<String>,
    /// Call AWS at this URL instead of the public endpoint (e.g. a VPC endpoint or an emulator).
    #[arg(long, env = "AWS_ENDPOINT_URL", value_name = "URL")]
    pub endpoint_url: Option<String>,
}

/// `orgctl fleet apply`.
#[derive(Debug, clap::Args)]
pub struct FleetApplyArgs {
    /// What every fleet run takes.
    #[command(flatten)]
    pub fleet: FleetArgs,
    /// Apply without asking (CI). Without it, apply asks for each organization on a terminal,
    /// one organization at a time, and refuses elsewhere.
    #[arg(long)]
    pub auto_approve: bool,
    /// Wait up to this many seconds for another apply's lease on an organization.
    #[arg(long, value_name = "SECONDS", default_value_t = 0)]
    pub lock_timeout: u64,
    /// Allow closing the accounts whose `lifecycle` is `close`, in every organization.
    #[arg(long)]
    pub allow_close: bool,
    /// Allow removing the accounts whose `lifecycle` is `remove`, in every organization.
    #[arg(long)]
    pub allow_remove: bool,
    /// A folder for the one-time console passwords of new IAM users: `NAME.passwords` for each
    /// organization whose apply creates one (mode 0600; lines of account id, user, password).
    /// Without it, an organization whose plan needs a password file is not applied.
    #[arg(long, value_name = "DIR")]
    pub password_dir: Option<PathBuf>,
}

/// `orgctl fleet report`.
#[derive(Debug, clap::Args)]
pub struct FleetReportArgs {
    /// The `--out-dir`s of the runs to merge (each holding a `summary.json`).
    #[arg(required = true, value_name = "DIR")]
    pub dirs: Vec<PathBuf>,
    /// `text`, `json` or `markdown`.
    #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
    pub format: PlanFormat,
}

/// `orgctl completions`.
#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// `orgctl validate`.
#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// The configuration file, or a folder holding `orgctl.yaml`.
    #[arg(default_value = "orgctl.yaml")]
    pub file: PathBuf,
    /// `text` for people, `json` for machines.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Also print the resolved model: owners, resolved root emails, OUs, policies, partners.
    #[arg(long)]
    pub explain: bool,
    /// Treat warnings as errors: exit 1 when the configuration or the plan has any (silence one
    /// for a file with `orgctl: { ignore: [CODE] }`).
    #[arg(long)]
    pub strict: bool,
}

/// Where the live organization is read from: a snapshot file, or AWS.
#[derive(Debug, Clone, clap::Args)]
pub struct LiveArgs {
    /// Read the live organization from this snapshot file (written by `orgctl export`) instead of AWS.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// The AWS profile to use (default: the standard credential chain).
    #[arg(long, env = "AWS_PROFILE")]
    pub profile: Option<String>,
    /// The AWS region to call (Organizations lives in us-east-1).
    #[arg(long, env = "AWS_REGION")]
    pub region: Option<String>,
    /// Call AWS at this URL instead of the public endpoint (e.g. a VPC endpoint or an emulator).
    #[arg(long, env = "AWS_ENDPOINT_URL", value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Assume this role (in the management account) on top of the credentials found.
    #[arg(long, value_name = "ARN")]
    pub assume_role: Option<String>,
    /// More output on stderr: `-v` prints the number of AWS requests.
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

/// `orgctl plan`.
#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    /// The configuration file, or a folder holding `orgctl.yaml`.
    #[arg(default_value = "orgctl.yaml")]
    pub file: PathBuf,
    /// Where the live organization comes from.
    #[command(flatten)]
    pub live: LiveArgs,
    /// Save the plan as JSON to this file, for `orgctl apply FILE`.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// `text` for people, `json` for machines, `markdown` for pull-request comments.
    #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
    pub format: PlanFormat,
    /// Exit 2 when there are changes, 0 when there are none, 1 on errors.
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Treat warnings as errors: exit 1 when the configuration or the plan has any (silence one
    /// for a file with `orgctl: { ignore: [CODE] }`).
    #[arg(long)]
    pub strict: bool,
}

/// `orgctl drift`.
#[derive(Debug, clap::Args)]
pub struct DriftArgs {
    /// The configuration file, or a folder holding `orgctl.yaml`.
    #[arg(default_value = "orgctl.yaml")]
    pub file: PathBuf,
    /// Where the live organization comes from.
    #[command(flatten)]
    pub live: LiveArgs,
    /// `text` (one line per difference) or `json` (the plan).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// What makes drift exit non-zero: `changes` (exit 2 when there are changes to make, as
    /// `plan --detailed-exitcode`), `warning` (also exit 2 on warnings, such as an undeclared
    /// account), `error` (exit 1 on error findings only). Error findings always exit 1.
    #[arg(long, value_enum, default_value_t = FailOn::Changes, value_name = "LEVEL")]
    pub fail_on: FailOn,
    /// Treat warnings as errors: exit 1 when the configuration or the plan has any (silence one
    /// for a file with `orgctl: { ignore: [CODE] }`).
    #[arg(long)]
    pub strict: bool,
}

/// What makes `orgctl drift` exit non-zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Changes to make (exit 2) and error findings (exit 1): the default.
    Changes,
    /// Changes and warnings (exit 2), error findings (exit 1).
    Warning,
    /// Error findings only (exit 1).
    Error,
}

/// `orgctl apply`.
#[derive(Debug, clap::Args)]
pub struct ApplyArgs {
    /// The configuration file (or a folder holding `orgctl.yaml`), or a plan saved with
    /// `orgctl plan --out FILE`.
    #[arg(default_value = "orgctl.yaml")]
    pub file: PathBuf,
    /// Where the live organization comes from (a snapshot file is rewritten in place).
    #[command(flatten)]
    pub live: LiveArgs,
    /// For a saved plan: the configuration it was made from (default: the path the plan records,
    /// from the plan's folder).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Apply without asking (CI). Without it, apply asks on a terminal and refuses elsewhere.
    #[arg(long)]
    pub auto_approve: bool,
    /// Allow closing the accounts whose `lifecycle` is `close`.
    #[arg(long)]
    pub allow_close: bool,
    /// Allow removing from the organization the accounts whose `lifecycle` is `remove`.
    #[arg(long)]
    pub allow_remove: bool,
    /// Changes in flight at once (account creations are also limited to 5, closures to 3).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub parallelism: u16,
    /// Where the one-time console passwords of new IAM users go (created with mode 0600; lines
    /// of account id, user, password). They are never printed or logged.
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
    /// Wait up to this many seconds for another apply's lease on the organization (default:
    /// refuse at once).
    #[arg(long, value_name = "SECONDS", default_value_t = 0)]
    pub lock_timeout: u64,
    /// `text` for people (progress on stderr), `json` for a machine-readable report on stdout.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// `orgctl force-unlock`.
#[derive(Debug, clap::Args)]
pub struct ForceUnlockArgs {
    /// The id of the lease to remove, as a refused apply printed it.
    pub lease_id: String,
    /// Where the live organization is.
    #[command(flatten)]
    pub live: LiveArgs,
}

/// `orgctl export`.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// Where the live organization comes from.
    #[command(flatten)]
    pub live: LiveArgs,
    /// The snapshot file to write (default: standard output).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Also read the IAM inside member accounts (partner roles, the end customer's users) and
    /// the alternate contacts that this configuration's plans read, so that plans from the
    /// snapshot see them. A folder names its `orgctl.yaml`.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// `orgctl import`.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The configuration to write (into a folder: its `orgctl.yaml`); policy documents go to a
    /// `policies/` folder beside it. `-` writes it to standard output, documents inline.
    #[arg(long, value_name = "FILE", default_value = "orgctl.yaml")]
    pub out: PathBuf,
    /// Where the live organization comes from.
    #[command(flatten)]
    pub live: LiveArgs,
    /// Who owns the management and member accounts.
    #[arg(long, value_enum, default_value_t = BusinessModelArg::Direct)]
    pub business_model: BusinessModelArg,
    /// `dedicated` (the organization is the customer's alone) or `shared`.
    #[arg(long, value_enum, default_value_t = PayerArg::Dedicated)]
    pub payer: PayerArg,
    /// The domain of the provider's root emails (default: the management account's).
    #[arg(long, value_name = "DOMAIN")]
    pub provider_domain: Option<String>,
    /// The domain of the customer's root emails (default: from the root emails of the accounts
    /// the customer owns).
    #[arg(long, value_name = "DOMAIN")]
    pub customer_domain: Option<String>,
    /// The provider's display name (default: its domain).
    #[arg(long, value_name = "NAME")]
    pub provider_name: Option<String>,
    /// The customer's display name (default: its domain).
    #[arg(long, value_name = "NAME")]
    pub customer_name: Option<String>,
    /// The organization's short name (default: the first label of the customer's domain).
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// The root-email template; emails it reproduces are left out of the file.
    #[arg(long, value_name = "TEMPLATE", default_value = crate::import::DEFAULT_EMAIL_TEMPLATE)]
    pub email_template: String,
    /// The role orgctl assumes in member accounts to read the IAM it created there (partner
    /// roles, the end customer's users), which the file then declares.
    #[arg(long, value_name = "ROLE", default_value = crate::model::DEFAULT_MEMBER_ACCESS_ROLE)]
    pub member_access_role: String,
    /// Overwrite the configuration and policy files if they exist.
    #[arg(long)]
    pub force: bool,
}

/// The business models, as the command line names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BusinessModelArg {
    /// The customer owns every account.
    Direct,
    /// The reseller owns the management account; the customer owns the members.
    Resold,
    /// End Customer Account Model.
    Ecam,
    /// Solution Provider Account Model.
    #[value(alias = "sptm")]
    Spam,
}

impl From<BusinessModelArg> for crate::config::BusinessModel {
    fn from(model: BusinessModelArg) -> Self {
        match model {
            BusinessModelArg::Direct => Self::Direct,
            BusinessModelArg::Resold => Self::Resold,
            BusinessModelArg::Ecam => Self::Ecam,
            BusinessModelArg::Spam => Self::Spam,
        }
    }
}

/// Payer types, as the command line names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PayerArg {
    /// The customer's own organization.
    Dedicated,
    /// Members of the provider's organization.
    Shared,
}

impl From<PayerArg> for crate::config::Payer {
    fn from(payer: PayerArg) -> Self {
        match payer {
            PayerArg::Dedicated => Self::Dedicated,
            PayerArg::Shared => Self::Shared,
        }
    }
}

/// Plan output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    /// For people.
    Text,
    /// For machines (`schemas/plan.schema.json`).
    Json,
    /// For pull-request comments.
    Markdown,
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
    /// A saved plan and `plan --format json` (`schemas/plan.schema.json`).
    Plan,
    /// A snapshot of the live organization (`schemas/live.schema.json`).
    Live,
    /// The report of `apply --format json` (`schemas/apply.schema.json`).
    Apply,
    /// What `plan` and `drift --format json` print when no plan was made
    /// (`schemas/plan-failure.schema.json`).
    PlanFailure,
    /// The report of `validate --format json` (`schemas/validate.schema.json`).
    Validate,
    /// The catalogue `rules --format json` prints (`schemas/rules.schema.json`).
    Rules,
    /// A fleet file (`schemas/fleet-file.schema.json`).
    FleetFile,
    /// The summary of a fleet run (`schemas/fleet.schema.json`).
    Fleet,
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
