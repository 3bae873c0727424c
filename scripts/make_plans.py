#!/usr/bin/env python3
"""Regenerate the `terraform show -json` plan fixtures under fixtures/plans/.

For each stack: start a moto server on 127.0.0.1 (random port), seed moto's
random generator, bootstrap the KMS key + SSM parameter the stacks read, copy
the stack to a temp dir with a provider override pointing at moto, then
`terraform init` (offline, -plugin-dir) + `plan -out` + `show -json`.

Run-specific values are normalised so regenerating gives an identical file:
  * the moto endpoint (random port) -> http://127.0.0.1:5000
    (appears in configuration.provider_config.aws.expressions.endpoints);
  * the top-level "timestamp" -> 1970-01-01T00:00:00Z;
  * "relevant_attributes" (emitted by Terraform in a nondeterministic order) is
    sorted by (resource, attribute path);
  * the bootstrap KMS key ARN (a random UUID; moto is also seeded with 42, but
    the UUID would change with the moto version) ->
    arn:aws:kms:ap-northeast-2:123456789012:key/00000000-0000-4000-8000-000000000042
    (appears in the data.aws_ssm_parameter value and the planned
    encryption_configuration.kms_key).

Usage (from the repo root, with the dev venv):
    .venv/bin/python scripts/make_plans.py            # both stacks
    .venv/bin/python scripts/make_plans.py fileflow   # just one
    .venv/bin/python scripts/make_plans.py --check    # exit 1 if files are stale
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO))

import tfharness as h  # noqa: E402

OUT_DIR = REPO / "fixtures" / "plans"
STACKS = {
    "fileflow": REPO / "terraform" / "ecr" / "fileflow",
    "seed_as_written": REPO / "fixtures" / "seed_as_written",
    "default_tags_only": REPO / "fixtures" / "default_tags_only",
    "vars_tfvars_for_each": REPO / "fixtures" / "vars_tfvars_for_each",
    "local_module_count": REPO / "fixtures" / "local_module_count",
    "policies": REPO / "fixtures" / "policies",
    "default_tags_aliases": REPO / "fixtures" / "default_tags_aliases",
}
MOTO_SEED = 42
STABLE_TIMESTAMP = "1970-01-01T00:00:00Z"
# Placeholder written in place of the bootstrapped key's random ARN.
STABLE_KEY_ARN = f"arn:aws:kms:{h.REGION}:{h.MOTO_ACCOUNT_ID}:key/00000000-0000-4000-8000-000000000042"


def make_plan(name: str, stack: Path, moto: h.MotoServer) -> dict:
    moto.reset()
    moto.seed(MOTO_SEED)
    key_arn = h.bootstrap(moto.endpoint)
    with h.TfWorkspace(stack, moto.endpoint) as ws:
        ws.init()
        planfile = ws.plan("plan.tfplan")
        plan = ws.show_json(planfile)
    plan = h.sanitize_plan(plan, moto.endpoint)
    plan["timestamp"] = STABLE_TIMESTAMP
    if "relevant_attributes" in plan:
        plan["relevant_attributes"].sort(
            key=lambda ra: (ra.get("resource", ""), json.dumps(ra.get("attribute", []))))
    text = json.dumps(plan).replace(key_arn, STABLE_KEY_ARN)
    return json.loads(text)


def render(plan: dict) -> str:
    return json.dumps(plan, indent=1) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("stacks", nargs="*", metavar="STACK",
                    help=f"stacks to regenerate (default: all of {', '.join(STACKS)})")
    ap.add_argument("--check", action="store_true",
                    help="do not write; exit 1 if a fixture differs from a fresh plan")
    args = ap.parse_args(argv)
    unknown = [s for s in args.stacks if s not in STACKS]
    if unknown:
        ap.error(f"unknown stack(s) {unknown}; choose from {list(STACKS)}")

    reason = h.terraform_available() or h.moto_available()
    if reason:
        print(f"make_plans: cannot run: {reason}", file=sys.stderr)
        return 2

    names = args.stacks or list(STACKS)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    stale = []
    with h.MotoServer() as moto:
        for name in names:
            t0 = time.monotonic()
            text = render(make_plan(name, STACKS[name], moto))
            out = OUT_DIR / f"{name}.plan.json"
            if args.check:
                if not out.exists() or out.read_text() != text:
                    stale.append(out)
                status = "stale" if out in stale else "up to date"
            else:
                out.write_text(text)
                status = "written"
            print(f"{out.relative_to(REPO)}: {status} ({time.monotonic() - t0:.1f}s)")
    if stale:
        print("stale fixtures (run scripts/make_plans.py): "
              + ", ".join(str(p.relative_to(REPO)) for p in stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
