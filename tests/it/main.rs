//! orgctl's integration tests: one binary, shared helpers in `common`.

#[macro_use]
mod common;

mod apply;
mod apply_output;
mod ci;
mod cli;
mod credentials;
mod delegation;
mod examples;
mod fakecloud;
mod files;
mod findings;
mod fleet;
mod fuzz;
mod hostile;
mod iam;
mod import;
mod invalid;
mod invitation;
mod json;
mod lease;
mod moto;
mod permissions;
mod plan;
mod runs;
mod schema;
mod signals;
