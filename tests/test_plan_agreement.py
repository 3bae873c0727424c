"""HCL and plan agree: the same (rule_id, address) findings from a stack and its real plan.

The plans in fixtures/plans come from real `terraform plan` + `terraform show -json` runs
against moto (scripts/make_plans.py regenerates them).
"""

from __future__ import annotations

import os

import pytest

from ecr_lint.api import lint
from ecr_lint.config import Config

from conftest import REPO, failures, unknowns

PLANS = os.path.join(REPO, "fixtures", "plans")
PAIRS = [
    ("fileflow.plan.json", "terraform/ecr/fileflow", set()),
    ("seed_as_written.plan.json", "fixtures/seed_as_written", {("ECR003", "aws_ecr_repository.fileflow")}),
]


@pytest.mark.parametrize("plan,source,expected", PAIRS, ids=[p[0] for p in PAIRS])
def test_hcl_and_plan_give_the_same_findings(plan, source, expected):
    source = os.path.join(REPO, source)
    hcl = lint([source])
    from_plan = lint([os.path.join(PLANS, plan)], Config(source_root=source))
    assert hcl.errors == [] and from_plan.errors == []
    assert failures(hcl) == failures(from_plan) == expected
    assert unknowns(hcl) == unknowns(from_plan) == set()
    # with its source, a plan finding points at the .tf line, like the HCL one
    assert {(r.rule_id, r.file, r.line) for r in hcl.findings} == {(r.rule_id, r.file, r.line) for r in from_plan.findings}


def test_plan_alone_without_source_still_judges_what_terraform_resolved():
    report = lint([os.path.join(PLANS, "seed_as_written.plan.json")])
    assert failures(report) == {("ECR003", "aws_ecr_repository.fileflow")}
    assert unknowns(report) == set()
    finding = report.findings[0]
    assert finding.file.endswith("seed_as_written.plan.json") and finding.line > 1


def test_shipped_plan_without_source_differs_only_where_terraform_knows_nothing_yet():
    # Legitimate difference: the IAM policies embed the repository ARN, which is known only
    # after apply; without the .tf source, the plan holds no structure for them at all.
    report = lint([os.path.join(PLANS, "fileflow.plan.json")])
    assert failures(report) == set()
    assert unknowns(report) == {("ECR004", "aws_iam_policy.ecr_pull"), ("ECR004", "aws_iam_policy.ecr_push")}


def test_real_plan_required_tags_come_from_tags_all():
    report = lint([os.path.join(PLANS, "fileflow.plan.json")], Config(select=frozenset({"ECR007"})))
    repo = next(r for r in report.results if r.address == "aws_ecr_repository.fileflow")
    assert repo.status.value == "pass"
