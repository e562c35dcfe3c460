#!/usr/bin/env python3
"""Benchmark for `orgctl apply` (release build) against moto.

    scripts/bench_apply.py [--binary target/release/orgctl] [--accounts 100] [--ous 20] [--runs 3]

Each run resets moto, creates an empty organization with boto3, and writes a configuration that
declares --ous new OUs (one parent `Workloads` with --ous - 1 children `Team00`, `Team01`, ...),
--accounts new accounts spread round-robin over those OUs (the children first, then `Workloads`;
two tags each) and one SCP attached to `Workloads` (so the plan also enables SCPs on the root,
creates the policy and attaches it). It then times `orgctl apply --auto-approve --format json`
through the aws backend and reports:

- wall time (the lease's one-second settle included) and orgctl's user+sys CPU;
- requests: those moto's request recorder received (Organizations requests, as in
  scripts/bench_plan.py), orgctl's own count (`requests` in the report), and requests per created
  resource and per account creation (CreateAccount, DescribeCreateAccountStatus, MoveAccount, ...);
- concurrency, from the report's `started_ms` / `duration_ms`: the most `create_account` changes
  in flight at once, and the most changes of any kind.

After each apply, `orgctl plan --detailed-exitcode` must exit 0 (converged), or the run fails.

Target (issue: apply of a plan creating 100 accounts in 20 new OUs against moto): the executor
keeps AWS busy, 5 account creations in flight (AWS's limit per organization) rather than serial.
moto completes CreateAccount at once (state SUCCEEDED, no polling), so the overlap it shows is of
CreateAccount + MoveAccount round trips; against AWS each creation takes minutes and the overlap
is what makes 100 of them take ~20 creation times rather than 100.
"""

import argparse
import collections
import json
import os
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

ORGANIZATIONS_TARGET = "AWSOrganizationsV20161128."
# The requests an account creation can make (src/live/aws/write.rs, `create_account`): the
# creation, polling it, picking up an interrupted one, finding it after an uncertain failure,
# and moving it from the root into its OU. Tags go with CreateAccount.
ACCOUNT_CREATION_ACTIONS = ("CreateAccount", "DescribeCreateAccountStatus", "ListCreateAccountStatus",
                            "ListAccounts", "ListParents", "MoveAccount")
CREATE_ACCOUNTS_IN_FLIGHT = 5  # src/apply/mod.rs


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def post(endpoint, path):
    urllib.request.urlopen(urllib.request.Request(endpoint + path, method="POST")).read()


def start_moto(recording):
    """moto's server on a free port, with the request recorder on (and paused until started)."""
    subprocess.run([os.path.join(ROOT, "scripts", "moto-venv.sh")], check=True)
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    env = dict(os.environ, MOTO_ENABLE_RECORDING="True", MOTO_RECORDER_FILEPATH=recording)
    server = subprocess.Popen([os.path.join(ROOT, ".venv", "bin", "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    for _ in range(300):
        if server.poll() is not None:
            raise SystemExit(f"moto_server exited with status {server.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    else:
        server.kill()
        raise SystemExit("moto_server did not start listening within 30 s")
    # The recorder records from the start when MOTO_ENABLE_RECORDING is set; record only orgctl.
    post(endpoint, "/moto-api/recorder/stop-recording")
    return server, endpoint


def seed(endpoint):
    """Resets moto and creates an empty organization; returns its management account."""
    post(endpoint, "/moto-api/reset")
    client = boto3.client("organizations", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    client.create_organization(FeatureSet="ALL")
    organization = client.describe_organization()["Organization"]
    account = client.describe_account(AccountId=organization["MasterAccountId"])["Account"]
    return {"Id": organization["MasterAccountId"], "Email": organization["MasterAccountEmail"],
            "Name": account["Name"]}


def write_config(directory, management, accounts, ous):
    """Writes orgctl.yaml; returns its path and the OU paths, in the order accounts go to them."""
    domain = management["Email"].rsplit("@", 1)[1]
    lines = [
        "organization:",
        "  name: bench",
        "  business_model: ecam",
        f"  provider: {{ name: Nimbus, email_domain: {domain} }}",
        "  customer: { name: Acme, email_domain: acme-corp.net }",
        f"  management_account: {{ name: \"{management['Name']}\", email: \"{management['Email']}\", "
        f"id: \"{management['Id']}\" }}",
        "  email_template: \"aws+{account}@{domain}\"",
        "  enabled_policy_types: [service_control]",
        "organizational_units:",
    ]
    teams = [f"Team{index:02d}" for index in range(ous - 1)]
    if teams:
        lines += ["  Workloads:", "    children:"]
        lines += [f"      {team}: {{}}" for team in teams]
    else:
        lines.append("  Workloads: {}")
    ou_paths = [f"Workloads/{team}" for team in teams] + ["Workloads"]
    lines.append("accounts:")
    width = max(3, len(str(accounts - 1)))
    for index in range(accounts):
        name = f"acct-{index:0{width}d}"
        assert len(name) <= 50, name  # AWS's limit on account names
        slot = index % len(ou_paths)
        lines.append(f"  {name}: {{ ou: {ou_paths[slot]}, tags: {{ team: \"t{slot}\", env: prod }} }}")
    lines += [
        "policies:",
        "  deny-leave-org:",
        "    type: service_control",
        "    description: No leaving",
        "    document: { Version: \"2012-10-17\", Statement: [{ Effect: Deny, "
        "Action: \"organizations:LeaveOrganization\", Resource: \"*\" }] }",
        "    attach: [Workloads]",
    ]
    path = os.path.join(directory, "orgctl.yaml")
    with open(path, "w") as handle:
        handle.write("\n".join(lines) + "\n")
    return path


def orgctl_env(endpoint):
    """The environment orgctl runs in: moto, dummy credentials, nothing from the user's AWS setup."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_REGION="us-east-1",
               AWS_ENDPOINT_URL=endpoint, AWS_CONFIG_FILE="/nonexistent", AWS_SHARED_CREDENTIALS_FILE="/nonexistent",
               AWS_EC2_METADATA_DISABLED="true", NO_COLOR="1")
    return env


def recorded_actions(text):
    """Counts of the recorded requests by action: `Organizations.CreateAccount`, ... (other services
    by the service in the signature and their method and path)."""
    counts = collections.Counter()
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            counts["(unparsable recorder line)"] += 1
            continue
        headers = {k.lower(): v for k, v in (entry.get("headers") or {}).items()}
        target = headers.get("x-amz-target", "")
        if target.startswith(ORGANIZATIONS_TARGET):
            counts["Organizations." + target.removeprefix(ORGANIZATIONS_TARGET)] += 1
            continue
        service = "?"
        scope = headers.get("authorization", "").partition("Credential=")[2].split(",")[0].split("/")
        if len(scope) >= 4:
            service = scope[3]
        action = target or f"{entry.get('method', '?')} {entry.get('url', '?').split('?')[0]}"
        counts[f"{service}.{action}"] += 1
    return counts


def max_in_flight(results):
    """The most of `results` in flight at once, each over [started_ms, started_ms + duration_ms).
    A change that took under a millisecond counts as in flight at its start instant."""
    spans = [(r["started_ms"], r["started_ms"] + (r.get("duration_ms") or 0))
             for r in results if r.get("started_ms") is not None]
    most = 0
    for start, _ in spans:  # the most overlap is at some change's start
        most = max(most, sum(1 for s, e in spans if s <= start and (start < e or (s == e == start))))
    return most


def run_child(command, env):
    """Runs `command`; returns (exit code, stdout, stderr, wall seconds, user+sys CPU seconds)."""
    with tempfile.TemporaryFile() as errors:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors, env=env)
        stdout = process.stdout.read()
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)  # so Popen does not wait again
        process.stdout.close()
        errors.seek(0)
        stderr = errors.read().decode(errors="replace")
    return process.returncode, stdout.decode(errors="replace"), stderr, wall, usage.ru_utime + usage.ru_stime


def run_once(args, binary, endpoint, number):
    management = seed(endpoint)
    env = orgctl_env(endpoint)
    with tempfile.TemporaryDirectory() as directory:
        config = write_config(directory, management, args.accounts, args.ous)
        post(endpoint, "/moto-api/recorder/reset-recording")
        post(endpoint, "/moto-api/recorder/start-recording")
        try:
            code, stdout, stderr, wall, cpu = run_child(
                [binary, "apply", config, "--auto-approve", "--format", "json"], env)
        finally:
            post(endpoint, "/moto-api/recorder/stop-recording")
        recording = urllib.request.urlopen(endpoint + "/moto-api/recorder/download-recording").read().decode()
        actions = recorded_actions(recording)
        try:
            report = json.loads(stdout)
        except ValueError:
            report = None
        if code != 0 or report is None or report.get("outcome") != "applied":
            summary = report.get("summary") if report else None
            failed = [f"  {r['address']} ({r['action']}): {r.get('error')}"
                      for r in (report or {}).get("results", []) if r.get("status") == "failed"]
            sys.exit(f"run {number}: orgctl apply exited {code}, outcome "
                     f"{report.get('outcome') if report else '(no JSON report)'}, summary {summary}\n"
                     + "".join(line + "\n" for line in failed[:10])
                     + f"stderr:\n{stderr}\nstdout:\n{stdout[:2000]}")
        # Converged: a fresh plan has nothing to do.
        plan_code, plan_out, plan_err, _, _ = run_child([binary, "plan", config, "--detailed-exitcode"], env)
        if plan_code != 0:
            sys.exit(f"run {number}: NOT CONVERGED: `orgctl plan --detailed-exitcode` exited {plan_code} "
                     f"after the apply:\n{plan_out}{plan_err}")
    results = report["results"]
    by_action = collections.Counter(r["action"] for r in results)
    created = sum(n for action, n in by_action.items() if action.startswith("create_"))
    creations = [r for r in results if r["action"] == "create_account"]
    organizations = sum(n for action, n in actions.items() if action.startswith("Organizations."))
    account_requests = sum(actions.get(f"Organizations.{a}", 0) for a in ACCOUNT_CREATION_ACTIONS)
    return {
        "wall": wall,
        "cpu": cpu,
        "report_ms": report.get("duration_ms"),
        "moto_requests": organizations,
        "all_recorded": sum(actions.values()),
        "orgctl_requests": report.get("requests"),
        "changes": len(results),
        "summary": report["summary"],
        "by_action": by_action,
        "created": created,
        "accounts_created": len(creations),
        "account_requests": account_requests,
        "creations_in_flight": max_in_flight(creations),
        "changes_in_flight": max_in_flight(results),
        "actions": actions,
    }


def check_binary(binary):
    if not os.path.isfile(binary) or not os.access(binary, os.X_OK):
        print(f"{binary} not found: build it first with `cargo build --release` (or pass --binary PATH)",
              file=sys.stderr)
        sys.exit(2)
    probe = subprocess.run([binary, "apply", "--help"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if probe.returncode != 0:
        print(f"{binary} has no `apply` command (built before it existed?): rebuild it with "
              "`cargo build --release`", file=sys.stderr)
        sys.exit(2)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=os.path.join(ROOT, "target", "release", "orgctl"),
                        help="the orgctl to benchmark (default: target/release/orgctl)")
    parser.add_argument("--accounts", type=int, default=100)
    parser.add_argument("--ous", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if args.accounts < 1 or args.ous < 1 or args.runs < 1:
        parser.error("--accounts, --ous and --runs must be at least 1")
    binary = os.path.abspath(args.binary)
    check_binary(binary)

    fd, recording = tempfile.mkstemp(suffix=".jsonl", prefix="bench-apply-")
    os.close(fd)
    server = None
    runs = []
    try:
        server, endpoint = start_moto(recording)
        print(f"orgctl apply via moto: {args.accounts} new accounts in {args.ous} new OUs, 1 SCP; "
              f"{args.runs} runs of {binary}")
        for number in range(1, args.runs + 1):
            run = run_once(args, binary, endpoint, number)
            runs.append(run)
            per_created = run["moto_requests"] / run["created"] if run["created"] else float("nan")
            per_account = (run["account_requests"] / run["accounts_created"]
                           if run["accounts_created"] else float("nan"))
            print(f"run {number}: wall {run['wall'] * 1000:.0f} ms (orgctl's report: {run['report_ms']} ms), "
                  f"{run['changes']} changes, {run['summary']}")
            print(f"  requests: moto received {run['moto_requests']} Organizations requests "
                  f"({run['all_recorded']} recorded in all), orgctl counted {run['orgctl_requests']}; "
                  f"{per_created:.2f} per created resource ({run['created']}), "
                  f"{per_account:.2f} per account creation")
            print(f"  in flight: at most {run['creations_in_flight']} account creations "
                  f"(target {CREATE_ACCOUNTS_IN_FLIGHT}), {run['changes_in_flight']} changes; "
                  f"orgctl CPU (user+sys) {run['cpu'] * 1000:.0f} ms; converged (plan exits 0)")
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        os.unlink(recording)

    walls = [run["wall"] for run in runs]
    print(f"median wall {statistics.median(walls) * 1000:.0f} ms over {len(runs)} runs "
          f"(min {min(walls) * 1000:.0f}, max {max(walls) * 1000:.0f}); "
          f"median orgctl CPU {statistics.median(run['cpu'] for run in runs) * 1000:.0f} ms")
    creations = min(run["creations_in_flight"] for run in runs)
    expected = min(CREATE_ACCOUNTS_IN_FLIGHT, args.accounts)
    verdict = "met" if creations >= expected else "NOT MET"
    print(f"target {expected} account creations in flight: {verdict} (fewest over the runs: {creations})")
    last = runs[-1]
    print("changes of the last run by action: "
          + ", ".join(f"{action} {n}" for action, n in sorted(last["by_action"].items())))
    print("requests moto received in the last run, by action:")
    width = max(len(action) for action in last["actions"]) if last["actions"] else 0
    for action, count in sorted(last["actions"].items(), key=lambda item: (-item[1], item[0])):
        marker = "  (account creation)" if action.removeprefix("Organizations.") in ACCOUNT_CREATION_ACTIONS else ""
        print(f"  {action:<{width}}  {count:>5}{marker}")
    print(f"  {'total':<{width}}  {sum(last['actions'].values()):>5}")


if __name__ == "__main__":
    main()
