//! Rendering for people and machines. Pure functions from values to text.
//!
//! Plans will be rendered here as text, JSON and Markdown; for now this holds the resolved model
//! as `orgctl validate --explain` shows it.

mod desired;

pub use desired::desired_table;
