#!/usr/bin/env bash
# Makes sure tests/fakecloud/target/server/orgctl-fakecloud is built: the small fakecloud server
# (Organizations, Account Management, IAM and STS only) that the fakecloud tests run against.
# Builds it from crates.io the first time (a minute or two) and after its sources change; otherwise
# cargo finds it up to date and does nothing. It is a project of its own (AGPL, like fakecloud),
# with its own target directory: orgctl never links it.
set -euo pipefail
cd "$(dirname "$0")/../tests/fakecloud"

if [ ! -x target/server/orgctl-fakecloud ]; then
    echo "building the fakecloud test server into tests/fakecloud/target (once, a minute or two)" >&2
fi
CARGO_TARGET_DIR="$PWD/target" cargo build --profile server --locked --quiet
