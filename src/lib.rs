//! # orgctl
//!
//! Keeps an AWS Organization in the shape its owners declared. One pipeline, IO only at its ends:
//!
//! ```text
//! YAML file ─► config (raw, spanned) ─► model (desired state, resolved, validated)
//!                                              │
//! live::Backend (AWS │ snapshot) ─► live ──────┤ (LiveState)
//!                                              ▼
//!                          plan: matching (desired ↔ live, once) ─► diff ─► order (petgraph)
//!                                              │ Plan = ordered Change { Address, Action<ByAddress> }
//!                                              ├──────────────────► render (text │ json │ markdown)
//!                                              ▼
//!                 apply: Action<ByAddress> ─try_map─► Action<ById> ─► live::Backend ─► AWS │ file
//!
//! fleet file ─► fleet (companies → each organization's config; checks across files)
//!                 └─► the pipeline above, once per organization (concurrent, sharded) ─► summary
//! ```
//!
//! - [`config`] reads bytes into spanned structs; every failure is a [`diagnostic::Diagnostic`].
//! - [`address`] names every resource (`ou:Workloads/Prod`, `account:acme-prod`,
//!   `account_id:123456789012` for an account the file does not declare): one value with one
//!   textual form, parsed and printed there only.
//! - [`model`] resolves references, derives owners from the business model and runs the rules of
//!   [`rules`]. Pure. What AWS allows of each policy type is one table,
//!   [`model::policy_type::POLICY_TYPES`].
//! - [`action`] is what a change does: one type for plans (resources named by address) and
//!   writes (named by id), with each action's kind, name, ordering phase and verbs beside it.
//! - [`live`] reads and writes the live organization through one [`live::Backend`] value (a
//!   folder per backend: `aws`, `snapshot`); its errors are typed ([`live::Error`]). Writers
//!   write exactly the actions they are given; the snapshot's emulation of AWS behaviour is
//!   `live::snapshot::emulate`.
//! - [`plan`] matches desired to live once ([`plan::matching::Matching`]); the diff and the IAM
//!   read scope both read that value. The plan's findings are [`diagnostic::Diagnostic`]s, as
//!   validation's are.
//! - [`render`] shows plans; names that come from AWS are data, shown escaped, never raw.
//! - [`apply`] executes a plan as it is, never re-deciding it; [`import`] runs the other way,
//!   from the live organization to a configuration.
//! - [`fleet`] runs the pipeline for many organizations of one provider: a fleet file's
//!   companies give each organization's configuration what it leaves out, checks across files
//!   find accounts two customers claim, and runs (sharded, concurrent) end in one summary.
//! - Each stage imports only earlier ones. [`commands`] wires the stages for each subcommand,
//!   each returning how it ended, which [`commands::run`] prints once; `main` maps the status to
//!   an exit code. [`files`] reads and writes orgctl's files on disk.

// The pipeline's stages, in order (one group each, so that they stay in this order).
pub mod config;

pub mod address;

pub mod model;

pub mod action;

pub mod live;

pub mod plan;

pub mod render;

pub mod apply;

pub mod import;

pub mod fleet;

// Shared by the stages, and the command line.
pub mod cli;
pub mod commands;
pub mod diagnostic;
pub mod files;
pub mod rules;
mod suggest;
