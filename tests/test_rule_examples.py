"""Every rule's failing example fails it and its passing example passes it: the built-in rules and the
example team rules in docs/examples/team-rules."""

from __future__ import annotations

import json
import os

import pytest
from click.testing import CliRunner

from ecr_lint.api import lint
from ecr_lint.catalog import load_rules
from ecr_lint.cli import main
from ecr_lint.config import Config
from ecr_lint.model import Status

from conftest import REPO, write

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


# --- the example team rules (docs/examples/team-rules), through the real CLI ----------------------

TEAM_RULES_DIR = os.path.join(REPO, "docs", "examples", "team-rules")
TEAM_RULES = [r for r in load_rules([TEAM_RULES_DIR]) if r.custom]   # custom rule files are always validated


def _team_lint(rule, example: str, tmp_path) -> tuple[int, dict]:
    write(tmp_path / "stack", {"main.tf": rule.examples[example]})
    result = CliRunner().invoke(main, [str(tmp_path / "stack"), "--rules-dir", TEAM_RULES_DIR, "--select", rule.id,
                                       "--format", "json", "--no-cache"])
    return result.exit_code, json.loads(result.output)


def test_the_team_rules_are_the_five_examples():
    assert [(r.id, r.name) for r in TEAM_RULES] == [
        ("ECR960", "dr-replication"), ("ECR961", "repository-policy-exists"),
        ("ECR962", "approved-pull-through-upstreams"), ("ECR963", "kms-key-from-shared-parameter"),
        ("ECR964", "one-lifecycle-policy")]


@pytest.mark.parametrize("rule", TEAM_RULES, ids=[r.id for r in TEAM_RULES])
def test_team_rule_failing_example_fails(rule, tmp_path):
    code, report = _team_lint(rule, "fail", tmp_path)
    assert (code, report["errors"]) == (1, [])
    assert {f["status"] for f in report["findings"] if f["rule_id"] == rule.id} == {"fail"}


@pytest.mark.parametrize("rule", TEAM_RULES, ids=[r.id for r in TEAM_RULES])
def test_team_rule_passing_example_passes(rule, tmp_path):
    code, report = _team_lint(rule, "pass", tmp_path)
    assert (code, report["errors"], report["findings"]) == (0, [], [])
    assert {r["status"] for r in report["results"] if r["rule_id"] == rule.id} == {"pass"}
