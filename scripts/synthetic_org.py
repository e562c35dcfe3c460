#!/usr/bin/env python3
"""Writes a synthetic orgctl configuration for benchmarks.

    scripts/synthetic_org.py OUT_DIR [--accounts 10000] [--ous 1000] [--depth 5] [--policies 100]

OUT_DIR receives orgctl.yaml and policies/*.json. The organization is deterministic (seeded), valid
(it passes `orgctl validate` with no errors), and uses an ECAM model so every ownership rule runs.
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
    for index in range(args.accounts):
        path = "/".join(rng.choice(paths))
        out.append(f"  account-{index:05d}:")
        out.append(f"    ou: {path}")
        if index % 2 == 0:
            out.append(f"    id: \"{100000000000 + index}\"")
        out.append(
            f"    tags: {{ CostCenter: \"{rng.randrange(1000, 9999)}\", owner: team-{index % 97}, environment: "
            f"{rng.choice(['prod', 'staging', 'dev'])} }}"
        )

    out.append("")
    out.append("policies:")
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
        target = "/".join(paths[index % len(paths)])
        out.append(f"  {name}:")
        out.append(f"    type: {'service_control' if scp else 'tag'}")
        out.append(f"    file: policies/{name}.json")
        out.append(f"    attach: [{target}]")

    with open(os.path.join(args.out_dir, "orgctl.yaml"), "w") as handle:
        handle.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
