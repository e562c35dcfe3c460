#!/usr/bin/env python3
"""Benchmarks for `orgctl plan` (release build).

    scripts/bench_plan.py [--accounts 1000] [--ous 100] [--scps 10] [--snapshot-accounts 10000]

1. Against moto: seeds an organization of --accounts accounts in --ous OUs (depth up to 4, three
   tags each) and --scps SCPs, writes the matching configuration, and times `orgctl plan` through
   the aws backend. moto's request recorder counts the Organizations requests it received; the
   script prints them against the minimum of the formula in src/live/aws.rs, and orgctl's own CPU
   time per request (client overhead).
2. From a snapshot: times `orgctl plan --state` of a synthetic --snapshot-accounts organization
   (scripts/synthetic_org.py).

Targets (issue 3): requests <= 1.1 x the formula's minimum; client CPU well under 1 ms a request;
the 10,000-account snapshot plan under 300 ms.
"""

import argparse
import json
import math
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV_PYTHON = os.path.join(ROOT, ".venv", "bin", "python")

try:
    import boto3
except ImportError:  # boto3 comes with moto in the project's venv
    subprocess.run([os.path.join(ROOT, "scripts", "moto-venv.sh")], check=True)
    os.execv(VENV_PYTHON, [VENV_PYTHON, *sys.argv])


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def post(endpoint, path):
    urllib.request.urlopen(urllib.request.Request(endpoint + path, method="POST")).read()


def seed(client, accounts, ous, scps, rng):
    organization = client.create_organization(FeatureSet="ALL")["Organization"]
    root_id = client.list_roots()["Roots"][0]["Id"]
    client.enable_policy_type(RootId=root_id, PolicyType="SERVICE_CONTROL_POLICY")
    paths = {(): root_id}
    children = {(): []}
    frontier = [()]
    for index in range(ous):
        parent = rng.choice(frontier)
        name = f"ou-{index:03d}"
        ou_id = client.create_organizational_unit(ParentId=paths[parent], Name=name)["OrganizationalUnit"]["Id"]
        path = parent + (name,)
        paths[path] = ou_id
        children[parent].append(path)
        children[path] = []
        if len(path) < 4:
            frontier.append(path)
    ou_paths = [p for p in paths if p]
    placed = []
    for index in range(accounts):
        name = f"acct-{index:04d}"
        tags = [
            {"Key": "CostCenter", "Value": str(1000 + index % 50)},
            {"Key": "owner", "Value": f"team-{index % 13}"},
            {"Key": "environment", "Value": rng.choice(["prod", "staging", "dev"])},
        ]
        status = client.create_account(Email=f"aws+{name}@acme-corp.net", AccountName=name, Tags=tags)
        account_id = status["CreateAccountStatus"]["AccountId"]
        path = rng.choice(ou_paths)
        client.move_account(AccountId=account_id, SourceParentId=root_id, DestinationParentId=paths[path])
        placed.append((name, account_id, path, {t["Key"]: t["Value"] for t in tags}))
    policies = []
    for index in range(scps):
        document = {"Version": "2012-10-17", "Statement": [
            {"Sid": f"Deny{index}", "Effect": "Deny", "Action": f"service{index}:Delete*", "Resource": "*"}]}
        policy_id = client.create_policy(
            Name=f"scp-{index:02d}", Description="", Content=json.dumps(document), Type="SERVICE_CONTROL_POLICY"
        )["Policy"]["PolicySummary"]["Id"]
        target = ou_paths[index % len(ou_paths)]
        client.attach_policy(PolicyId=policy_id, TargetId=paths[target])
        policies.append((f"scp-{index:02d}", document, target))
    return organization, root_id, paths, children, placed, policies


def write_config(directory, organization, management, children, placed, policies):
    lines = [
        "organization:",
        "  name: bench",
        "  business_model: ecam",
        "  provider: { name: Nimbus, email_domain: example.com }",
        "  customer: { name: Acme, email_domain: acme-corp.net }",
        f"  management_account: {{ name: \"{management['Name']}\", email: \"{management['Email']}\", "
        f"id: \"{management['Id']}\" }}",
        "  enabled_policy_types: [service_control]",
        "organizational_units:",
    ]

    def tree(parent, indent):
        for path in children[parent]:
            if children[path]:
                lines.append(f"{' ' * indent}{path[-1]}:")
                lines.append(f"{' ' * (indent + 2)}children:")
                tree(path, indent + 4)
            else:
                lines.append(f"{' ' * indent}{path[-1]}: {{}}")

    tree((), 2)
    lines.append("accounts:")
    for name, account_id, path, tags in placed:
        tag_text = ", ".join(f"{k}: \"{v}\"" for k, v in tags.items())
        lines.append(f"  {name}: {{ ou: {'/'.join(path)}, id: \"{account_id}\", tags: {{ {tag_text} }} }}")
    lines.append("policies:")
    os.makedirs(os.path.join(directory, "policies"), exist_ok=True)
    for name, document, target in policies:
        with open(os.path.join(directory, "policies", f"{name}.json"), "w") as handle:
            json.dump(document, handle)
        lines += [f"  {name}:", "    type: service_control", f"    file: policies/{name}.json",
                  f"    attach: [{'/'.join(target)}]"]
    path = os.path.join(directory, "orgctl.yaml")
    with open(path, "w") as handle:
        handle.write("\n".join(lines) + "\n")
    return path


def minimum_requests(children, placed, scps):
    """The formula of src/live/aws.rs, with pages of 20."""
    accounts_per_parent = {}
    for _, _, path, _ in placed:
        accounts_per_parent[path] = accounts_per_parent.get(path, 0) + 1
    accounts_per_parent[()] = accounts_per_parent.get((), 0) + 1  # the management account
    parents = list(children)
    listing = sum(max(1, math.ceil(len(children[p]) / 20)) + max(1, math.ceil(accounts_per_parent.get(p, 0) / 20))
                  for p in parents)
    ous = len(parents) - 1
    accounts = len(placed) + 1
    tags = 1 + ous + accounts
    policy_types = 1
    list_policies = max(1, math.ceil((scps + 1) / 20))
    per_policy = 3 * scps + 2 * 1  # customer SCPs: describe, targets, tags; FullAWSAccess: describe, targets
    services = 2  # ListAWSServiceAccessForOrganization, ListDelegatedAdministrators (none delegated)
    return 2 + listing + tags + list_policies * policy_types + per_policy + services


class RecordingMoto:
    """A moto server on a free loopback port, recording the requests it receives; `with` stops it."""

    def __init__(self, **env):
        subprocess.run([os.path.join(ROOT, "scripts", "moto-venv.sh")], check=True)
        port = free_port()
        self.endpoint = f"http://127.0.0.1:{port}"
        self.recording = tempfile.NamedTemporaryFile(suffix=".jsonl", delete=False).name
        env = dict(os.environ, MOTO_ENABLE_RECORDING="True", MOTO_RECORDER_FILEPATH=self.recording, **env)
        self.server = subprocess.Popen(
            [os.path.join(ROOT, ".venv", "bin", "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        self.client = boto3.client("organizations", endpoint_url=self.endpoint, region_name="us-east-1",
                                   aws_access_key_id="testing", aws_secret_access_key="testing")
        self.orgctl_env = dict(os.environ, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
                               AWS_REGION="us-east-1", AWS_ENDPOINT_URL=self.endpoint, NO_COLOR="1")

    def __enter__(self):
        return self

    def __exit__(self, *_):
        self.server.terminate()
        self.server.wait()
        os.unlink(self.recording)


def moto_benchmark(args, binary):
    with RecordingMoto() as moto:
        endpoint, client = moto.endpoint, moto.client
        started = time.perf_counter()
        organization, root_id, paths, children, placed, policies = seed(
            client, args.accounts, args.ous, args.scps, random.Random(11))
        management = client.describe_account(AccountId=organization["MasterAccountId"])["Account"]
        print(f"seeded moto: {args.accounts} accounts, {args.ous} OUs, {args.scps} SCPs "
              f"in {time.perf_counter() - started:.1f}s")
        with tempfile.TemporaryDirectory() as directory:
            config = write_config(directory, organization, management, children, placed, policies)
            orgctl_env = moto.orgctl_env
            walls, cpus, counted = [], [], None
            for _ in range(args.runs):
                post(endpoint, "/moto-api/recorder/reset-recording")
                post(endpoint, "/moto-api/recorder/start-recording")
                start = time.perf_counter()
                process = subprocess.Popen([binary, "plan", config, "-v"], stdout=subprocess.PIPE,
                                           stderr=subprocess.PIPE, env=orgctl_env)
                stdout = process.stdout.read()
                stderr = process.stderr.read()
                _, status, usage = os.wait4(process.pid, 0)
                walls.append(time.perf_counter() - start)
                cpus.append(usage.ru_utime + usage.ru_stime)
                post(endpoint, "/moto-api/recorder/stop-recording")
                lines = urllib.request.urlopen(endpoint + "/moto-api/recorder/download-recording").read().decode()
                counted = sum(1 for line in lines.splitlines() if "AWSOrganizationsV20161128." in line)
                if os.waitstatus_to_exitcode(status) != 0:
                    sys.exit(f"orgctl plan failed:\n{stderr.decode()}")
            summary = stdout.decode().strip().splitlines()[-1]
            client_line = [l for l in stderr.decode().splitlines() if "AWS requests" in l][-1]
    minimum = minimum_requests(children, placed, args.scps)
    wall = statistics.median(walls)
    cpu = statistics.median(cpus)
    print(f"orgctl plan via moto: median wall {wall * 1000:.0f} ms over {args.runs} runs; {summary}")
    print(f"  requests moto received: {counted}; formula minimum: {minimum}; ratio {counted / minimum:.3f}")
    print(f"  orgctl says: {client_line.removeprefix('orgctl: ')}")
    print(f"  orgctl CPU (user+sys): {cpu * 1000:.0f} ms = {cpu * 1000 / counted:.3f} ms per request")


def snapshot_benchmark(args, binary):
    with tempfile.TemporaryDirectory() as directory:
        subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "synthetic_org.py"), directory,
                        "--accounts", str(args.snapshot_accounts)], check=True)
        command = [binary, "plan", os.path.join(directory, "orgctl.yaml"), "--state",
                   os.path.join(directory, "live.json")]
        walls, peak = [], 0
        for _ in range(args.runs + 1):
            start = time.perf_counter()
            process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            stdout = process.stdout.read()
            _, status, usage = os.wait4(process.pid, 0)
            walls.append(time.perf_counter() - start)
            peak = max(peak, usage.ru_maxrss)
            if os.waitstatus_to_exitcode(status) != 0:
                sys.exit("orgctl plan --state failed")
        walls = sorted(walls[1:])  # the first run warms the page cache
        summary = stdout.decode().strip().splitlines()[-1]
        print(f"orgctl plan --state, {args.snapshot_accounts} accounts: median {statistics.median(walls) * 1000:.0f} ms "
              f"(min {walls[0] * 1000:.0f}, max {walls[-1] * 1000:.0f}), peak RSS {peak / 1024:.0f} MiB; {summary}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--ous", type=int, default=100)
    parser.add_argument("--scps", type=int, default=10)
    parser.add_argument("--snapshot-accounts", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    binary = os.path.join(ROOT, "target", "release", "orgctl")
    snapshot_benchmark(args, binary)
    moto_benchmark(args, binary)


if __name__ == "__main__":
    main()
