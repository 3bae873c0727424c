#!/usr/bin/env python3
"""Regenerate ecr_lint/data/taggable_types.json from the AWS provider's own schema."""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

PROVIDER = "registry.terraform.io/hashicorp/aws"
DEFAULT_PLUGIN_DIR = "/opt/tf-plugins"
REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = REPO_ROOT / "ecr_lint" / "data" / "taggable_types.json"

MINIMAL_CONFIG = """\
terraform {
  required_providers {
    aws = {
      source = "hashicorp/aws"
    }
  }
}
"""


def run_terraform(args: list[str], cwd: Path, terraform: str) -> str:
    """Run terraform non-interactively; exit with its stderr if it fails."""
    env = dict(os.environ, TF_IN_AUTOMATION="1", TF_INPUT="0", CHECKPOINT_DISABLE="1")
    proc = subprocess.run(
        [terraform, *args], cwd=cwd, env=env, capture_output=True, text=True
    )
    if proc.returncode != 0:
        sys.exit(f"terraform {' '.join(args)} failed:\n{proc.stderr or proc.stdout}")
    return proc.stdout


def provider_version(workdir: Path) -> str:
    """Read the installed version from the lock file `terraform init` wrote."""
    lock = (workdir / ".terraform.lock.hcl").read_text(encoding="utf-8")
    in_block = False
    for line in lock.splitlines():
        stripped = line.strip()
        if stripped.startswith(f'provider "{PROVIDER}"'):
            in_block = True
        elif in_block and stripped.startswith("version"):
            return stripped.split("=", 1)[1].strip().strip('"')
    sys.exit(f"no {PROVIDER} version in .terraform.lock.hcl")


def taggable(resource_schemas: dict) -> list[str]:
    """Resource types whose top-level block has an attribute named `tags`."""
    return sorted(
        name
        for name, schema in resource_schemas.items()
        if "tags" in schema.get("block", {}).get("attributes", {})
    )


def generate(plugin_dir: str, terraform: str) -> dict:
    with tempfile.TemporaryDirectory(prefix="gen-taggable-") as tmp:
        workdir = Path(tmp)
        (workdir / "main.tf").write_text(MINIMAL_CONFIG, encoding="utf-8")
        run_terraform(
            ["init", f"-plugin-dir={plugin_dir}", "-backend=false", "-input=false"],
            workdir,
            terraform,
        )
        schema = json.loads(
            run_terraform(["providers", "schema", "-json"], workdir, terraform)
        )
        version = provider_version(workdir)
    provider = schema["provider_schemas"][PROVIDER]
    return {
        "provider": PROVIDER,
        "provider_version": version,
        "generated_by": "scripts/gen_taggable_types.py",
        "resource_types": taggable(provider.get("resource_schemas", {})),
        # Data sources read tags but never set them, so no data source "takes" tags.
        "data_source_types": [],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--plugin-dir",
        default=os.environ.get("TF_PLUGIN_DIR", DEFAULT_PLUGIN_DIR),
        help="local provider mirror for `terraform init -plugin-dir` "
        "(default: $TF_PLUGIN_DIR or %(default)s)",
    )
    parser.add_argument("--terraform", default="terraform", help="terraform binary")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)

    data = generate(args.plugin_dir, args.terraform)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    print(
        f"wrote {args.output}: {len(data['resource_types'])} taggable resource types "
        f"({data['provider']} {data['provider_version']})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
