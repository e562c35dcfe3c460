#!/usr/bin/env python3
"""Writes a synthetic orgctl configuration for benchmarks.

    scripts/synthetic_org.py OUT_DIR [--accounts 10000] [--ous 1000] [--depth 5] [--policies 100]

OUT_DIR receives orgctl.yaml and policies/*.json, and live.json: a snapshot of the same
organization in which 1% of the accounts carry a stale tag and 1% sit in the wrong OU, so that
`orgctl plan OUT_DIR/orgctl.yaml --state OUT_DIR/live.json` has real work to do. The organization
is deterministic (seeded), valid (it passes `orgctl validate` with no errors), and uses an ECAM
model so every ownership rule runs.
"""

import argparse
import json
import os
import random


def build_tree(rng, count, max_depth):
    """Returns OU paths (tuples of names), parents before children, at most max_depth deep."""
    paths = []
    frontier = [()]
    while len(paths) < count:
        parent = rng.choice(frontier)
        siblings = sum(1 for p in paths if p[:-1] == parent) if len(paths) < 2000 else rng.randrange(10**6)
        path = parent + (f"ou-{len(paths):04d}",)
        paths.append(path)
        if len(path) < max_depth:
            frontier.append(path)
    return paths


def yaml_tree(paths):
    """Nested dict of the OU tree."""
    root = {}
    for path in paths:
        node = root
        for name in path[:-1]:
            node = node[name].setdefault("children", {})
        node[path[-1]] = {}
    return root


def write_tree(out, tree, indent):
    for name, node in tree.items():
        children = node.get("children")
        if children:
            out.append(f"{' ' * indent}{name}:")
            out.append(f"{' ' * (indent + 2)}tags: {{ level: \"{indent // 4 + 1}\" }}")
            out.append(f"{' ' * (indent + 2)}children:")
            write_tree(out, children, indent + 4)
        else:
            out.append(f"{' ' * indent}{name}: {{}}")


def write_live(out_path, rng, paths, accounts, policies):
    """A snapshot matching the configuration, with a little drift."""
    ou_ids = {path: f"ou-syn1-{index:08x}" for index, path in enumerate(paths)}
    root = "r-syn1"
    full_access_targets = [root, "999999999999"] + list(ou_ids.values())
    live_accounts = [{
        "id": "999999999999", "name": "synthetic-payer", "email": "payer@nimbus-reseller.net",
        "status": "active", "parent_id": root, "tags": {},
    }]
    for index, (name, path, tags) in enumerate(accounts):
        tags = dict(tags)
        parent = ou_ids[path]
        if index % 100 == 1:
            tags["CostCenter"] = "0000"
        if index % 100 == 2:
            parent = ou_ids[rng.choice(paths)]
        live_accounts.append({
            "id": str(100000000000 + index), "name": name, "email": f"aws+{name}@acme-corp.net",
            "status": "active", "parent_id": parent, "tags": tags,
        })
        full_access_targets.append(str(100000000000 + index))
    live_policies = [{
        "id": "p-FullAWSAccess", "name": "FullAWSAccess", "type": "service_control",
        "description": "Allows access to every operation", "aws_managed": True,
        "document": '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}',
        "tags": {}, "targets": sorted(full_access_targets),
    }]
    for index, (name, policy_type, document, target) in enumerate(policies):
        live_policies.append({
            "id": f"p-{index:08x}", "name": name, "type": policy_type, "description": "", "aws_managed": False,
            "document": json.dumps(document, separators=(",", ":")), "tags": {}, "targets": [ou_ids[target]],
        })
    parent_of = {path: (ou_ids[path[:-1]] if len(path) > 1 else root) for path in paths}
    state = {
        "format": "orgctl-live",
        "version": 1,
        "organization": {"id": "o-synthetic1", "management_account_id": "999999999999",
                         "management_account_email": "payer@nimbus-reseller.net"},
        "root": {"id": root, "enabled_policy_types": ["service_control", "tag"], "tags": {}},
        "organizational_units": sorted(
            ({"id": ou_ids[p], "name": p[-1], "parent_id": parent_of[p], "tags": ({"level": str(len(p))} if any(q[:-1] == p for q in paths) else {})}
             for p in paths), key=lambda ou: ou["id"]),
        "accounts": sorted(live_accounts, key=lambda a: a["id"]),
        "policies": sorted(live_policies, key=lambda p: p["id"]),
    }
    with open(out_path, "w") as handle:
        json.dump(state, handle, indent=1)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out_dir")
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--ous", type=int, default=1_000)
    parser.add_argument("--depth", type=int, default=5)
    parser.add_argument("--policies", type=int, default=100)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    paths = build_tree(rng, args.ous, args.depth)
    os.makedirs(os.path.join(args.out_dir, "policies"), exist_ok=True)

    out = [
        "# Synthetic organization written by scripts/synthetic_org.py",
        "organization:",
        "  name: synthetic",
        "  business_model: ecam",
        "  provider: { name: Nimbus Reseller, email_domain: nimbus-reseller.net }",
        "  customer: { name: Acme Corp, email_domain: acme-corp.net }",
        "  management_account: { name: synthetic-payer, email: payer@nimbus-reseller.net }",
        "  end_customer_access: iam_user",
        "  enabled_policy_types: [service_control, tag]",
        "",
        "organizational_units:",
    ]
    write_tree(out, yaml_tree(paths), 2)

    out.append("")
    out.append("accounts:")
    accounts = []
    for index in range(args.accounts):
        path = rng.choice(paths)
        tags = {"CostCenter": str(rng.randrange(1000, 9999)), "owner": f"team-{index % 97}",
                "environment": rng.choice(["prod", "staging", "dev"])}
        accounts.append((f"account-{index:05d}", path, tags))
        out.append(f"  account-{index:05d}:")
        out.append(f"    ou: {'/'.join(path)}")
        if index % 2 == 0:
            out.append(f"    id: \"{100000000000 + index}\"")
        out.append(
            f"    tags: {{ CostCenter: \"{tags['CostCenter']}\", owner: {tags['owner']}, environment: {tags['environment']} }}"
        )

    out.append("")
    out.append("policies:")
    policies = []
    for index in range(args.policies):
        scp = index % 2 == 0
        name = f"policy-{index:03d}"
        if scp:
            document = {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": f"Deny{index}",
                        "Effect": "Deny",
                        "Action": [f"service{index}:Delete*", f"service{index}:Put*"],
                        "Resource": "*",
                    }
                ],
            }
        else:
            document = {"tags": {f"Key{index}": {"tag_key": {"@@assign": f"Key{index}"}}}}
        with open(os.path.join(args.out_dir, "policies", f"{name}.json"), "w") as handle:
            json.dump(document, handle, indent=2)
        policies.append((name, "service_control" if scp else "tag", document, paths[index % len(paths)]))
        target = "/".join(paths[index % len(paths)])
        out.append(f"  {name}:")
        out.append(f"    type: {'service_control' if scp else 'tag'}")
        out.append(f"    file: policies/{name}.json")
        out.append(f"    attach: [{target}]")

    with open(os.path.join(args.out_dir, "orgctl.yaml"), "w") as handle:
        handle.write("\n".join(out) + "\n")
    write_live(os.path.join(args.out_dir, "live.json"), rng, paths, accounts, policies)


if __name__ == "__main__":
    main()
