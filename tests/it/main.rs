//! orgctl's integration tests: one binary, shared helpers in `common`.

mod common;

mod apply;
mod cli;
mod examples;
mod files;
mod findings;
mod fuzz;
mod iam;
mod import;
mod invalid;
mod moto;
mod plan;
mod schema;
