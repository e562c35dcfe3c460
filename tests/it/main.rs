//! orgctl's integration tests: one binary, shared helpers in `common`.

mod common;

mod cli;
mod examples;
mod fuzz;
mod invalid;
mod schema;
