"""Every rule's failing example fails it and its passing example passes it."""

from __future__ import annotations

import pytest

from ecr_lint.api import lint
from ecr_lint.catalog import load_rules
from ecr_lint.config import Config
from ecr_lint.model import Status

from conftest import write

RULES = load_rules(validate_builtin=True)


def _config(rule) -> Config:
    # Suppression rules judge other rules' results, so those must run too.
    return Config() if rule.builtin else Config(select=frozenset({rule.id}))


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_failing_example_fails(rule, tmp_path):
    write(tmp_path, {"main.tf": rule.examples["fail"]})
    report = lint([str(tmp_path)], _config(rule))
    assert not report.errors
    statuses = {r.status for r in report.results if r.rule_id == rule.id}
    expected = Status.UNKNOWN if rule.id == "ECR000" else Status.FAIL
    assert expected in statuses, [(r.address, r.status, r.message) for r in report.results]


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_passing_example_passes(rule, tmp_path):
    write(tmp_path, {"main.tf": rule.examples["pass"]})
    report = lint([str(tmp_path)], _config(rule))
    assert not report.errors
    assert [(r.address, r.message) for r in report.findings if r.rule_id == rule.id] == []
    if rule.id != "ECR000" and not rule.builtin:
        assert any(r.rule_id == rule.id and r.status is Status.PASS for r in report.results)


def test_builtin_rule_files_validate_against_the_schema():
    # at run time the built-in rules are trusted; this is where they are validated
    assert [r.id for r in load_rules(validate_builtin=True)] == [r.id for r in RULES]


def test_rule_ids_and_names_are_unique():
    assert len({r.id for r in RULES}) == len(RULES)
    assert len({r.name for r in RULES}) == len(RULES)
