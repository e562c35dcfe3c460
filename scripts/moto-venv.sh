#!/usr/bin/env bash
# Makes sure .venv holds moto's server (the AWS API emulator the aws-backend tests run against).
# Installs it from PyPI into a local virtual environment when it is missing; does nothing otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."

MOTO_VERSION=5.2.5
venv=.venv
if "$venv/bin/python" -c "import moto, sys; sys.exit(moto.__version__ != '$MOTO_VERSION')" 2>/dev/null \
    && [ -x "$venv/bin/moto_server" ]; then
    exit 0
fi
echo "installing moto[server]==$MOTO_VERSION into $venv" >&2
python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"
"$venv/bin/moto_server" --help >/dev/null
