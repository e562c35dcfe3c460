//! # orgctl
//!
//! Keeps an AWS Organization in the shape its owners declared. One pipeline, IO only at its ends:
//!
//! ```text
//! YAML file ─► config (raw, spanned) ─► model (desired state, resolved, validated)
//!                                              │
//! live AWS / snapshot file ─► live ────────────┤
//!                                              ▼
//!                              plan (pure diff + petgraph order) ─► render (text │ json │ markdown)
//!                                              │
//!                                              ▼
//!                                       apply (executor) ─► live writer ─► AWS / snapshot file
//! ```
//!
//! - [`config`] reads bytes into spanned structs; every failure is a [`diagnostic::Diagnostic`].
//! - [`model`] resolves references, derives owners from the business model and runs the rules of
//!   [`rules`]. Pure. What AWS allows of each policy type is one table,
//!   [`model::policy_type::POLICY_TYPES`].
//! - [`address`] names every resource a plan touches (`ou:Workloads/Prod`), one value with one
//!   textual form, parsed and printed there only.
//! - [`live`], [`plan`], [`render`] and [`apply`] are the later stages, each importing only
//!   earlier ones; [`import`] runs the other way, from the live organization to a configuration.
//!   Names that come from AWS are data: [`render`] shows them escaped, never raw.
//! - [`commands`] wires the stages for each subcommand, each returning how it ended, which
//!   [`commands::run`] prints once; `main` maps the status to an exit code.
//! - [`files`] reads and writes orgctl's files on disk, for every stage that does.

pub mod apply;
pub mod config;

pub mod address;

pub mod import;
pub mod live;
pub mod model;
pub mod plan;
pub mod render;

pub mod cli;
pub mod commands;
pub mod diagnostic;
pub mod files;
pub mod rules;
mod suggest;
