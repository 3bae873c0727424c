"""Fixture stacks: each directory's expected.yaml lists exactly the (rule_id, address) findings."""

from __future__ import annotations

import os

import pytest
import yaml

from ecr_lint.api import lint
from ecr_lint.config import Config

from conftest import REPO, failures, unknowns

FIXTURES = os.path.join(REPO, "fixtures")
CASES = sorted(d for d in os.listdir(FIXTURES) if os.path.isfile(os.path.join(FIXTURES, d, "expected.yaml")))


@pytest.mark.parametrize("name", CASES)
def test_fixture_findings_are_exact(name):
    directory = os.path.join(FIXTURES, name)
    with open(os.path.join(directory, "expected.yaml"), encoding="utf-8") as handle:
        expected = yaml.safe_load(handle)
    config = Config().with_(
        var_files=tuple(os.path.join(directory, f) for f in expected.get("var_files", [])) or None,
        environment=expected.get("environment"),
        select=frozenset(expected["select"]) if "select" in expected else None,
    )
    report = lint([directory], config)
    assert [str(e) for e in report.errors] == expected.get("errors", [])
    assert failures(report) == {tuple(p) for p in expected.get("findings") or []}
    assert unknowns(report) == {tuple(p) for p in expected.get("unknowns") or []}


def test_shipped_stack_is_clean():
    report = lint([os.path.join(REPO, "terraform", "ecr")])
    assert report.errors == []
    assert [(r.rule_id, r.address, r.message) for r in report.findings] == []
    # every checklist rule was really evaluated on the repository
    checked = {r.rule_id for r in report.results if r.address == "aws_ecr_repository.fileflow"}
    assert {"ECR001", "ECR002", "ECR003", "ECR006", "ECR007", "ECR008", "ECR009"} <= checked
