"""HCL and plan agree: the same (rule_id, address) findings from a stack and its real plan.

The plans in fixtures/plans come from real `terraform plan` + `terraform show -json` runs
against moto (scripts/make_plans.py regenerates them).
"""

from __future__ import annotations

import os

import pytest
import yaml

from ecr_lint.api import lint
from ecr_lint.config import Config

from conftest import REPO, failures, unknowns

PLANS = os.path.join(REPO, "fixtures", "plans")
SOURCES = {name[:-len(".plan.json")]: ("terraform/ecr/fileflow" if name == "fileflow.plan.json"
                                       else f"fixtures/{name[:-len('.plan.json')]}")
           for name in sorted(os.listdir(PLANS)) if name.endswith(".plan.json")}


def _expected(source: str) -> tuple[Config, set, set]:
    path = os.path.join(REPO, source, "expected.yaml")
    if not os.path.exists(path):
        return Config(), set(), set()
    with open(path, encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    config = Config().with_(select=frozenset(data["select"]) if "select" in data else None)
    return config, {tuple(p) for p in data.get("findings") or []}, {tuple(p) for p in data.get("unknowns") or []}


def test_every_fixture_plan_has_its_source():
    assert set(SOURCES) == {"fileflow", "seed_as_written", "default_tags_only", "vars_tfvars_for_each",
                            "local_module_count", "policies", "default_tags_aliases"}


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_hcl_and_plan_give_the_same_findings(name):
    source = os.path.join(REPO, SOURCES[name])
    config, expected, expected_unknowns = _expected(SOURCES[name])
    hcl = lint([source], config)
    from_plan = lint([os.path.join(PLANS, f"{name}.plan.json")], config.with_(source_root=source))
    assert hcl.errors == [] and from_plan.errors == []
    assert failures(hcl) == failures(from_plan) == expected
    assert unknowns(hcl) == unknowns(from_plan) == expected_unknowns
    # with its source, a plan finding points at the .tf line, like the HCL one
    assert {(r.rule_id, r.file, r.line) for r in hcl.findings} == {(r.rule_id, r.file, r.line) for r in from_plan.findings}


# Without the source, the plans of stacks whose IAM policies embed ARNs known only after apply
# hold no structure for those policies: that is the one legitimate difference (tested below).
@pytest.mark.parametrize("name", sorted(set(SOURCES) - {"fileflow", "default_tags_only"}))
def test_plan_alone_agrees_too(name):
    config, expected, expected_unknowns = _expected(SOURCES[name])
    report = lint([os.path.join(PLANS, f"{name}.plan.json")], config)
    assert failures(report) == expected
    assert unknowns(report) == expected_unknowns


def test_plan_alone_without_source_still_judges_what_terraform_resolved():
    report = lint([os.path.join(PLANS, "seed_as_written.plan.json")])
    assert failures(report) == {("ECR003", "aws_ecr_repository.fileflow"), ("ECR014", "aws_ecr_repository.fileflow")}
    assert unknowns(report) == set()
    finding = report.findings[0]
    assert finding.file.endswith("seed_as_written.plan.json") and finding.line > 1


def test_shipped_plan_without_source_differs_only_where_terraform_knows_nothing_yet():
    # Legitimate difference: the IAM policies embed the repository ARN, which is known only
    # after apply; without the .tf source, the plan holds no structure for them at all.
    report = lint([os.path.join(PLANS, "fileflow.plan.json")])
    assert failures(report) == set()
    assert unknowns(report) == {(rule, f"aws_iam_policy.ecr_{kind}") for rule in ("ECR004", "ECR012", "ECR013")
                                for kind in ("pull", "push")}


def test_real_plan_required_tags_come_from_tags_all():
    report = lint([os.path.join(PLANS, "fileflow.plan.json")], Config(select=frozenset({"ECR007"})))
    repo = next(r for r in report.results if r.address == "aws_ecr_repository.fileflow")
    assert repo.status.value == "pass"
