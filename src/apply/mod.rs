//! Applying plans: walks a plan's dependency graph with bounded concurrency through a live writer.
//!
//! This stage has not been built yet.
