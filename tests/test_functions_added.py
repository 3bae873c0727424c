"""Terraform functions real stacks use that ecr-lint lacked (issue 13, item 9): csvdecode, the IP
network functions (cidrsubnets expands subnets in ../shared/corpus/realworld), sha512 and
base64sha512; each checked against terraform console, Unknown-aware and within the budget."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from ecr_lint.hcl.evaluate import Budget, BudgetExceeded, EvalError, Evaluator, Scope, deep_plain
from ecr_lint.hcl.functions import FUNCTIONS
from ecr_lint.hcl.syntax import parse_expression
from ecr_lint.loaders.evaluation import StackLoader
from ecr_lint.model import Unknown

from conftest import needs_shared, write

EXPRESSIONS = [
    'csvdecode("name,mutability\\napi,MUTABLE\\n\\nweb,\\"IMMUTABLE\\"\\n")',
    'csvdecode("a,b\\r\\n\\"x, \\"\\"y\\"\\"\\",2\\r\\n")',
    'csvdecode("only,header\\n")',
    'cidrsubnets("10.1.0.0/16", 4, 4, 8, 4)',
    'cidrsubnets("10.0.0.0/8", 8, 8, 8, 4, 4, 4, 4, 4, 4, 4, 4, 4)',
    'cidrsubnets("fd00:fd12:3456:7890::/56", 16, 16, 16, 32)',
    'cidrsubnets("10.1.2.3/24")',
    'cidrsubnet("172.16.0.0/12", 4, 2)',
    'cidrsubnet("10.1.2.0/24", 4, 15)',
    'cidrsubnet("fd00:fd12:3456:7890::/56", 16, 162)',
    'cidrsubnet("10.0.0.0/8", "8", "3")',
    'cidrhost("10.12.112.0/20", 16)',
    'cidrhost("10.12.112.0/20", 268)',
    'cidrhost("10.0.0.0/24", -1)',
    'cidrhost("fd00:fd12:3456:7890:00a2::/72", 34)',
    'cidrnetmask("172.16.0.0/12")',
    'sha512("hello world")',
    'base64sha512("hello world")',
]
ERRORS = [
    'cidrsubnets("10.0.0.0/24", 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4)',
    'cidrsubnet("10.0.0.0/30", 4, 0)',
    'cidrsubnet("10.0.0.0/24", 2, 4)',
    'cidrhost("10.0.0.0/30", 4)',
    'cidrnetmask("fd00::/64")',
    'cidrhost("not-a-cidr", 1)',
    'csvdecode("a,b\\n1\\n")',
    'csvdecode("")',
]


def evaluate(expression: str, budget: Budget | None = None):
    class Context:
        files = None

        def __init__(self):
            self.evaluator = Evaluator(FUNCTIONS, budget)

        def resolve(self, root, steps, scope):
            raise EvalError("no references here")

    context = Context()
    return context.evaluator.eval(parse_expression(expression), Scope(context))


def _terraform(expressions: list[str], tmp_path) -> list:
    """What terraform console says of each expression (an error: None)."""
    out = []
    for expression in expressions:
        done = subprocess.run(["terraform", "console"], input=f"jsonencode({expression})", capture_output=True,
                              text=True, cwd=str(tmp_path), timeout=120)
        out.append(json.loads(json.loads(done.stdout.strip().splitlines()[-1])) if done.returncode == 0 else None)
    return out


@pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not on PATH")
def test_the_added_functions_give_what_terraform_gives(tmp_path):
    expected = _terraform(EXPRESSIONS + ERRORS, tmp_path)
    assert None not in expected[:len(EXPRESSIONS)]
    assert expected[len(EXPRESSIONS):] == [None] * len(ERRORS)  # terraform rejects these
    assert [deep_plain(evaluate(e)) for e in EXPRESSIONS] == expected[:len(EXPRESSIONS)]
    for expression in ERRORS:
        with pytest.raises(EvalError):
            evaluate(expression)


def test_an_unknown_argument_gives_an_unknown_result(tmp_path):
    write(tmp_path, {"main.tf": 'variable "cidr" {}\nvariable "csv" {}\nlocals {\n'
                                '  subnets = cidrsubnets(var.cidr, 4, 4)\n  host = cidrhost("10.0.0.0/8", var.cidr)\n'
                                '  rows = csvdecode(var.csv)\n}\n'})
    stack = StackLoader(str(tmp_path), {}, [str(tmp_path)]).load()
    for name in ("subnets", "host", "rows"):
        value = stack.module_values[f"local.{name}"]
        assert isinstance(value, Unknown), name
    assert "var.csv has no default" in stack.module_values["local.rows"].reason


def test_csvdecode_is_charged_to_the_budget_before_it_builds():
    text = "a,b\\n" + "x,y\\n" * 2000
    assert len(deep_plain(evaluate(f'csvdecode("{text}")'))) == 2000
    assert evaluate(f'length("{text}")', Budget(nbytes=1000)) == len(text) - 2001  # the text alone fits ...
    with pytest.raises(BudgetExceeded):
        evaluate(f'csvdecode("{text}")', Budget(nbytes=1000))  # ... what csvdecode would build does not


REPOS_STACK = '''
locals {
  repositories = { for r in csvdecode(file("${path.module}/repositories.csv")) : r.name => r }
  subnets      = cidrsubnets("10.20.0.0/16", 4, 4)
}
resource "aws_ecr_repository" "this" {
  for_each             = local.repositories
  name                 = each.key
  image_tag_mutability = each.value.mutability
  tags                 = { Environment = "prod" }
}
resource "aws_subnet" "this" {
  for_each   = toset(local.subnets)
  vpc_id     = "vpc-1"
  cidr_block = each.value
}
'''


def test_a_stack_that_lists_its_repositories_in_a_csv_file_is_checked_one_by_one(tmp_path):
    write(tmp_path, {"main.tf": REPOS_STACK,
                     "repositories.csv": "name,mutability\napi,IMMUTABLE\nworker,MUTABLE\nbatch,MUTABLE\n"})
    done = subprocess.run([sys.executable, "-m", "ecr_lint", str(tmp_path), "--select", "ECR000,ECR003", "--format",
                           "json", "--no-cache"], capture_output=True, text=True, timeout=120)
    data = json.loads(done.stdout)
    assert done.returncode == 1 and data["errors"] == []
    assert {(r["rule_id"], r["address"], r["status"]) for r in data["results"]} == {
        ("ECR003", 'aws_ecr_repository.this["api"]', "pass"),
        ("ECR003", 'aws_ecr_repository.this["worker"]', "fail"),
        ("ECR003", 'aws_ecr_repository.this["batch"]', "fail"),
    }


@needs_shared("corpus", "realworld")
def test_the_realworld_stack_that_carves_subnets_with_cidrsubnets_gets_past_them():
    """Its subnets' for_each was unknown because of cidrsubnets(); now only because the availability
    zones are read from AWS (a data source: unknown until plan, which is the honest reason)."""
    from conftest import SHARED

    stack = os.path.join(SHARED, "corpus", "realworld", "ministryofjustice__modernisation-platform__core-shared-services")
    done = subprocess.run([sys.executable, "-m", "ecr_lint", stack, "--format", "json", "--no-cache"],
                          capture_output=True, text=True, timeout=300)
    data = json.loads(done.stdout)
    assert not [r for r in data["results"] if "cidrsubnets" in r["message"]]
    reasons = {r["address"]: r["message"] for r in data["results"] if r["rule_id"] == "ECR000"
               and r["address"].startswith('module.vpc["live_data"].aws_subnet.')}
    assert set(reasons) == {f'module.vpc["live_data"].aws_subnet.{name}'
                            for name in ("public", "private", "data", "transit-gateway")}
    assert all('for_each is unknown: module.vpc["live_data"].data.aws_availability_zones.available.names is read '
               "from AWS" in message for message in reasons.values())
