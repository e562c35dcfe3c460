//! Rendering for people and machines. Pure functions from values to text.
//!
//! Plans as text (terraform-like, grouped, with diffs), as one line per difference for drift
//! jobs, and as Markdown for pull-request comments; JSON is the plan's own serialisation. Also
//! the resolved model as `orgctl validate --explain` shows it.

mod desired;
mod markdown;
mod plan;

pub use desired::desired_table;
pub use markdown::{COMMENT_LIMIT, cell as markdown_cell, failure_markdown, plan_markdown};
pub use plan::{
    TextStyle, document_diff, drift_lines, finding_text, plan_text, summary_line, symbol, tags_diff,
};
