#!/usr/bin/env bash
# Runs the example GitLab pipeline of a fleet (examples/ci/fleet/gitlab-ci.yml) on this machine
# with gitlab-ci-local: the scheduled drift of examples/fleet sharded over GitLab's `parallel: 3`
# jobs, then the job that merges their summaries into one Markdown report. Jobs run in the shell
# (no container), with the orgctl built from this checkout on PATH in place of the pipeline's
# `cargo install`; everything else is the shipped file, included as it is.
#
# Installs gitlab-ci-local (npm, pinned in tests/gitlab-ci-local/package-lock.json; 4.70 is the
# last release that runs on Node.js 20) into tests/gitlab-ci-local/node_modules when it is missing.
# Prints the merged report and exits 0 when every shard ran and the report lists every
# organization of the fleet.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

for needed in node npm git rsync; do
    if ! command -v "$needed" >/dev/null; then
        echo "gitlab-ci-local needs $needed (apt-get install nodejs npm git rsync)" >&2
        exit 1
    fi
done

tool="$root/tests/gitlab-ci-local"
if [ ! -x "$tool/node_modules/.bin/gitlab-ci-local" ]; then
    echo "installing gitlab-ci-local into tests/gitlab-ci-local/node_modules" >&2
    (cd "$tool" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
fi

cargo build --quiet --locked --manifest-path "$root/Cargo.toml"
bin="${CARGO_TARGET_DIR:-$root/target}/debug"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp -R "$root/examples/fleet/." "$work/"
cp "$root/examples/ci/fleet/gitlab-ci.yml" "$work/orgctl-fleet.yml"
cat > "$work/.gitlab-ci.yml" <<'YAML'
include:
  - local: orgctl-fleet.yml
# A local run: the orgctl built from the checkout is on PATH already.
.orgctl:
  before_script:
    - orgctl --version
YAML
git -C "$work" init --quiet --initial-branch=main
git -C "$work" remote add origin https://gitlab.example/distributor/fleet.git
git -C "$work" -c user.name=orgctl -c user.email=orgctl@localhost add -A
git -C "$work" -c user.name=orgctl -c user.email=orgctl@localhost commit --quiet -m fleet

cd "$work"
# The report job exits 2 when the fleet has drifted (the example's has), and GitLab's shell
# fails the job on it, as a scheduled drift check should: that is judged below, not here.
status=0
PATH="$bin:$PATH" "$tool/node_modules/.bin/gitlab-ci-local" \
    --force-shell-executor \
    --variable CI_PIPELINE_SOURCE=schedule --ignore-predefined-vars CI_PIPELINE_SOURCE \
    || status=$?
echo
for shard in 1 2 3; do
    if [ ! -f "drift-$shard/summary.json" ]; then
        echo "shard $shard/3 wrote no summary (gitlab-ci-local exited $status)" >&2
        exit 1
    fi
done
cat report.md
for organization in $(sed -n '/^organizations:/,$s/^  \([a-z0-9-]*\):.*/\1/p' fleet.yaml); do
    if ! grep -q "^| $organization |" report.md; then
        echo "the merged report lacks $organization" >&2
        exit 1
    fi
done
echo "the pipeline drifted the fleet in 3 shards and merged one report of every organization"
