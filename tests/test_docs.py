"""docs/rules is generated from the rule files; this fails when it is stale."""

from __future__ import annotations

import os

from click.testing import CliRunner

from ecr_lint import docs
from ecr_lint.catalog import load_rules
from ecr_lint.cli import main

from conftest import REPO


def test_rule_docs_are_up_to_date():
    stale = docs.stale(load_rules(), os.path.join(REPO, "docs", "rules"))
    assert stale == [], "run `ecr-lint docs -- docs/rules` and commit the result"


def test_docs_check_command_detects_staleness(tmp_path):
    assert CliRunner().invoke(main, ["docs", "--check", "--", str(tmp_path)]).exit_code == 1
    assert CliRunner().invoke(main, ["docs", "--", str(tmp_path)]).exit_code == 0
    assert CliRunner().invoke(main, ["docs", "--check", "--", str(tmp_path)]).exit_code == 0
    text = (tmp_path / "ECR003.md").read_text()
    assert "# ECR003 immutable-tags-in-production" in text and "## Fails" in text
