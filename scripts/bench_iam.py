#!/usr/bin/env python3
"""What reading and writing IAM inside member accounts costs in AWS requests (release build).

    scripts/bench_iam.py [--accounts 100] [--ous 10]

Seeds moto (with AWS's managed IAM policies loaded) with the organization of
scripts/bench_plan.py, as a `resold` organization run by the customer, then:
1. plans it without partners (the Organizations read alone),
2. applies a partner with a read-only role in every account,
3. plans again (converged: the same read plus the IAM of every account),
and prints the requests moto received for each, per account.
"""

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_plan import ROOT, RecordingMoto, seed, write_config  # noqa: E402  (re-execs in the venv)
from bench_import import counted_run  # noqa: E402



def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=100)
    parser.add_argument("--ous", type=int, default=10)
    args = parser.parse_args()
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    binary = os.path.join(ROOT, "target", "release", "orgctl")
    with RecordingMoto(MOTO_IAM_LOAD_MANAGED_POLICIES="true") as moto:
        endpoint, client, orgctl_env = moto.endpoint, moto.client, moto.orgctl_env
        organization, _, _, children, placed, policies = seed(client, args.accounts, args.ous, 1, random.Random(7))
        management = client.describe_account(AccountId=organization["MasterAccountId"])["Account"]
        with tempfile.TemporaryDirectory() as directory:
            config = write_config(directory, organization, management, children, placed, policies)
            with open(config) as handle:
                text = handle.read()
            # The customer owns the member accounts and runs this file: it may give a partner roles.
            text = text.replace("business_model: ecam", "business_model: resold\n  operator: customer")
            names = ", ".join(name for name, _, _, _ in placed)
            with open(config, "w") as handle:
                handle.write(text)
            requests = {}
            _, requests["plan"], _ = counted_run(endpoint, [binary, "plan", config], orgctl_env, None)
            with open(config, "a") as handle:
                handle.write("partners:\n  msp:\n    account_id: \"999988887777\"\n"
                             "    role_name: MspReadOnly\n"
                             "    managed_policies: [arn:aws:iam::aws:policy/ReadOnlyAccess]\n"
                             f"    accounts: [{names}]\n")
            start = time.perf_counter()
            _, requests["apply"], _ = counted_run(endpoint, [binary, "apply", config, "--auto-approve"], orgctl_env, None)
            apply_wall = time.perf_counter() - start
            _, requests["plan with IAM"], _ = counted_run(
                endpoint, [binary, "plan", config, "--detailed-exitcode"], orgctl_env, None)
    # moto's recorder sees Organizations, STS and IAM requests alike.
    accounts = args.accounts
    extra = requests["plan with IAM"] - requests["plan"]
    print(f"{accounts} member accounts, one partner role in each")
    print(f"  plan without IAM: {requests['plan']} requests")
    print(f"  apply of {accounts} roles: {requests['apply']} requests in {apply_wall:.1f}s "
          f"(including its read: {requests['plan']}), {(requests['apply'] - requests['plan']) / accounts:.2f} per role")
    print(f"  plan with IAM (converged, exits 0): {requests['plan with IAM']} requests; "
          f"IAM read: {extra}, {extra / accounts:.2f} per account")


if __name__ == "__main__":
    main()
