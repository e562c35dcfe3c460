#!/usr/bin/env python3
"""Benchmark: `orgctl validate` of a synthetic 10,000-account organization (release build).

    scripts/bench_validate.py [--runs 20] [--accounts 10000] [--ous 1000] [--policies 100]

Builds the release binary, writes the organization with scripts/synthetic_org.py into a temporary
directory, runs `orgctl validate` --runs times and prints wall time (min, median, max) and peak
resident memory. Target (issue 2): median under 150 ms, peak RSS under 100 MB.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_once(binary, config):
    start = time.perf_counter()
    process = subprocess.Popen(
        [binary, "validate", config], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"orgctl validate failed on {config}")
    return elapsed, usage.ru_maxrss  # ru_maxrss is in KiB on Linux


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--ous", type=int, default=1_000)
    parser.add_argument("--policies", type=int, default=100)
    args = parser.parse_args()

    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    binary = os.path.join(ROOT, "target", "release", "orgctl")
    with tempfile.TemporaryDirectory() as directory:
        subprocess.run(
            [
                sys.executable,
                os.path.join(ROOT, "scripts", "synthetic_org.py"),
                directory,
                "--accounts", str(args.accounts),
                "--ous", str(args.ous),
                "--policies", str(args.policies),
            ],
            check=True,
        )
        config = os.path.join(directory, "orgctl.yaml")
        size = os.path.getsize(config)
        run_once(binary, config)  # warm the page cache
        results = [run_once(binary, config) for _ in range(args.runs)]

    walls = sorted(wall * 1000 for wall, _ in results)
    peak_mib = max(rss for _, rss in results) / 1024
    print(f"orgctl validate: {args.accounts} accounts, {args.ous} OUs, {args.policies} policies ({size / 1e6:.1f} MB of YAML)")
    print(f"wall ms over {args.runs} runs: min {walls[0]:.1f}  median {statistics.median(walls):.1f}  max {walls[-1]:.1f}")
    print(f"peak RSS: {peak_mib:.1f} MiB")


if __name__ == "__main__":
    main()
