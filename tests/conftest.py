"""Shared test helpers: lint a directory of files and read findings as (rule_id, address) sets."""

from __future__ import annotations

import os
import textwrap

import pytest

from ecr_lint.api import lint
from ecr_lint.catalog import load_rules
from ecr_lint.config import Config
from ecr_lint.model import Status

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The CLI caches under XDG_CACHE_HOME: keep the tests' cache out of the user's.
import tempfile as _tempfile  # noqa: E402

os.environ["XDG_CACHE_HOME"] = _tempfile.mkdtemp(prefix="ecr-lint-test-cache-")
# Terraform's inputs from the environment (TF_VAR_*, the workspace) feed every stack linted: the
# developer's own must not change what the tests see. Tests that need them set them.
for _name in [n for n in os.environ if n.startswith("TF_VAR_") or n in ("TF_WORKSPACE", "TF_DATA_DIR")]:
    del os.environ[_name]
SHARED = os.path.normpath(os.path.join(REPO, "..", "shared"))


def needs_shared(*parts: str):
    """Skip when ../shared (corpus, schemas) is absent; under .ci/run it must be there."""
    path = os.path.join(SHARED, *parts)
    present = os.path.exists(path)
    if not present and os.environ.get("ECR_LINT_REQUIRE_SHARED"):
        raise RuntimeError(f"{path} is missing, and ECR_LINT_REQUIRE_SHARED is set (as .ci/run does)")
    return pytest.mark.skipif(not present, reason=f"{path} is not here (it lives in ../shared beside the repository)")


@pytest.fixture(scope="session")
def rules():
    return load_rules()


def write(directory, files: dict[str, str]) -> str:
    for name, text in files.items():
        path = os.path.join(str(directory), name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(textwrap.dedent(text))
    return str(directory)


def failures(report, rule_id: str | None = None) -> set[tuple[str, str]]:
    return {(r.rule_id, r.address) for r in report.results
            if r.status is Status.FAIL and (rule_id is None or r.rule_id == rule_id)}


def unknowns(report, rule_id: str | None = None) -> set[tuple[str, str]]:
    return {(r.rule_id, r.address) for r in report.results
            if r.status is Status.UNKNOWN and (rule_id is None or r.rule_id == rule_id)}


def statuses(report, rule_id: str) -> dict[str, str]:
    """address -> worst status of that rule (fail > unknown > pass)."""
    order = {"pass": 0, "unknown": 1, "fail": 2}
    out: dict[str, str] = {}
    for r in report.results:
        if r.rule_id == rule_id and order[r.status.value] >= order.get(out.get(r.address, "pass"), 0):
            out[r.address] = r.status.value
    return out


def lint_files(tmp_path, files: dict[str, str], **config) -> object:
    write(tmp_path, files)
    return lint([str(tmp_path)], Config().with_(**config))


# Real terraform and moto (tests/terraform_fixtures.py): skip with a reason where terraform is
# missing, fail instead under .ci/run (ECR_LINT_REQUIRE_TERRAFORM=1).
from terraform_fixtures import fresh_moto, kms_key_arn, moto_server, tf_required  # noqa: E402,F401
