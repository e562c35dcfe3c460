#!/usr/bin/env python3
"""Benchmark for `orgctl import` (release build).

    scripts/bench_import.py [--accounts 1000] [--ous 100] [--scps 10] [--runs 3] [--snapshot-accounts 10000]

1. Against moto: seeds the organization of scripts/bench_plan.py (--accounts accounts in --ous
   OUs, depth up to 4, three tags each, --scps SCPs), then, for each run, times `orgctl plan` of
   the matching configuration and `orgctl import` through the aws backend, counting the
   Organizations requests moto's recorder received for each. Then checks that the imported file
   plans empty (`plan --detailed-exitcode` exits 0).
2. From a snapshot: times `orgctl import --state` of a synthetic --snapshot-accounts organization
   (scripts/synthetic_org.py), with its peak memory.

Target (issue 6): an import's requests within 1.1 x a plan's.
"""

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_plan import ROOT, RecordingMoto, post, seed, write_config  # noqa: E402  (re-execs in the venv)



def counted_run(endpoint, command, env, marker="AWSOrganizationsV20161128."):
    """Runs `command` with moto's recorder on: wall seconds, requests (those whose record holds
    `marker`; every one with None), stderr."""
    post(endpoint, "/moto-api/recorder/reset-recording")
    post(endpoint, "/moto-api/recorder/start-recording")
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    _, stderr = process.communicate()
    wall = time.perf_counter() - start
    post(endpoint, "/moto-api/recorder/stop-recording")
    lines = urllib.request.urlopen(endpoint + "/moto-api/recorder/download-recording").read().decode()
    requests = sum(1 for line in lines.splitlines() if line.strip() and (marker is None or marker in line))
    if process.returncode != 0:
        sys.exit(f"{' '.join(command)} exited {process.returncode}:\n{stderr.decode()}")
    return wall, requests, stderr.decode()


def moto_benchmark(args, binary):
    with RecordingMoto() as moto:
        endpoint, client, orgctl_env = moto.endpoint, moto.client, moto.orgctl_env
        started = time.perf_counter()
        organization, _, _, children, placed, policies = seed(
            client, args.accounts, args.ous, args.scps, random.Random(11))
        management = client.describe_account(AccountId=organization["MasterAccountId"])["Account"]
        print(f"seeded moto: {args.accounts} accounts, {args.ous} OUs, {args.scps} SCPs "
              f"in {time.perf_counter() - started:.1f}s")
        with tempfile.TemporaryDirectory() as directory:
            config = write_config(directory, organization, management, children, placed, policies)
            imported = os.path.join(directory, "imported", "orgctl.yaml")
            plans, imports = [], []
            for _ in range(args.runs):
                plans.append(counted_run(endpoint, [binary, "plan", config], orgctl_env))
                imports.append(counted_run(endpoint, [binary, "import", "--out", imported, "--force",
                                                      "--business-model", "ecam",
                                                      "--customer-domain", "acme-corp.net"], orgctl_env))
            # Exits 0 only when the plan is empty (2 when it has changes): counted_run stops otherwise.
            counted_run(endpoint, [binary, "plan", imported, "--detailed-exitcode"], orgctl_env)
            size = os.path.getsize(imported)
            summary = imports[-1][2].strip().splitlines()
    plan_requests = plans[-1][1]
    import_requests = imports[-1][1]
    print(f"orgctl plan via moto:   median wall {statistics.median(w for w, _, _ in plans) * 1000:.0f} ms, "
          f"{plan_requests} requests")
    print(f"orgctl import via moto: median wall {statistics.median(w for w, _, _ in imports) * 1000:.0f} ms "
          f"over {args.runs} runs, {import_requests} requests = {import_requests / plan_requests:.3f} x the plan's "
          f"(target <= 1.1)")
    print(f"  imported {size / 1024:.0f} KiB of YAML; {[l for l in summary if l.startswith('Imported')][-1]}")
    print("  the imported file plans empty: `plan --detailed-exitcode` exited 0")


def snapshot_benchmark(args, binary):
    with tempfile.TemporaryDirectory() as directory:
        subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "synthetic_org.py"), directory,
                        "--accounts", str(args.snapshot_accounts)], check=True)
        out = os.path.join(directory, "imported", "orgctl.yaml")
        command = [binary, "import", "--state", os.path.join(directory, "live.json"), "--out", out, "--force",
                   "--business-model", "ecam"]
        walls, peak = [], 0
        for _ in range(args.runs + 1):
            start = time.perf_counter()
            process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            stderr = process.stderr.read()
            _, status, usage = os.wait4(process.pid, 0)
            walls.append(time.perf_counter() - start)
            peak = max(peak, usage.ru_maxrss)
            if os.waitstatus_to_exitcode(status) != 0:
                sys.exit(f"orgctl import --state failed:\n{stderr.decode()}")
        walls = sorted(walls[1:])  # the first run warms the page cache
        print(f"orgctl import --state, {args.snapshot_accounts} accounts: median {statistics.median(walls) * 1000:.0f} ms "
              f"(min {walls[0] * 1000:.0f}, max {walls[-1] * 1000:.0f}), peak RSS {peak / 1024:.0f} MiB, "
              f"{os.path.getsize(out) / 1024:.0f} KiB of YAML")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--ous", type=int, default=100)
    parser.add_argument("--scps", type=int, default=10)
    parser.add_argument("--snapshot-accounts", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    binary = os.path.join(ROOT, "target", "release", "orgctl")
    snapshot_benchmark(args, binary)
    moto_benchmark(args, binary)


if __name__ == "__main__":
    main()
