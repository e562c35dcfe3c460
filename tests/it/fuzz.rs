//! The loader never panics, whatever it is fed (property tests; CI runs them on every build).

use std::sync::Arc;

use indexmap::IndexMap;
use orgctl::config::{self, Config};
use orgctl::model;
use proptest::prelude::*;

use crate::common;

const ECAM: &str = include_str!("../../examples/ecam/orgctl.yaml");

/// Parses and, when that succeeds, resolves: the whole offline pipeline.
fn validate_bytes(bytes: &[u8]) -> usize {
    match config::parse("fuzz.yaml", bytes) {
        Ok((source, file)) => {
            let config = Config {
                source: Arc::clone(&source),
                base_dir: common::root(),
                file,
                policy_files: IndexMap::new(),
            };
            model::resolve(&config, &common::context())
                .diagnostics
                .len()
        }
        Err(diagnostics) => {
            assert!(!diagnostics.is_empty(), "a failed parse reports why");
            // Rendering must not panic either (spans may point anywhere).
            common::render(&diagnostics).len()
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        validate_bytes(&bytes);
    }

    #[test]
    fn yaml_like_text_never_panics(text in "[a-z_:{}\\[\\], \n#\"'&*!|>0-9-]{0,600}") {
        validate_bytes(text.as_bytes());
    }

    #[test]
    fn mutated_examples_never_panic(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), 0u8..3, "[ a-z:{}\\[\\]\n\"-]{0,4}"), 1..6)
    ) {
        let mut text = ECAM.as_bytes().to_vec();
        for (index, kind, insert) in edits {
            let at = index.index(text.len() + 1);
            match kind {
                0 => { text.splice(at..at, insert.bytes()); }
                1 => { let end = (at + 3).min(text.len()); text.drain(at..end); }
                _ => { let end = (at + insert.len()).min(text.len()); text.splice(at..end, insert.bytes()); }
            }
        }
        validate_bytes(&text);
    }
}
