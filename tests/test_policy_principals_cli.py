"""ECR005 through the CLI: a public grant is judged by the accounts its conditions name (issue 12 item 8)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from ecr_lint.cli import main

from conftest import write

EXTERNAL = "999999999999"


def _policy(resource: str, condition: str, principal: str = '"*"') -> str:
    repository = '  repository = "app"\n' if resource == "aws_ecr_repository_policy" else ""
    return f'''
resource "{resource}" "p" {{
{repository}  policy = jsonencode({{
    Version = "2012-10-17"
    Statement = [{{
      Effect    = "Allow"
      Principal = {principal}
      Action    = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
      Condition = {condition}
    }}]
  }})
}}
'''


def _lint(directory, *extra: str) -> tuple[int, dict]:
    result = CliRunner().invoke(main, [str(directory), "--select", "ECR005", "--format", "json", "--no-cache", *extra],
                                catch_exceptions=False)
    return result.exit_code, json.loads(result.output)


def _verdict(data: dict) -> tuple[str, str]:
    [result] = [r for r in data["results"] if r["rule_id"] == "ECR005"]
    return result["status"], result["message"]


@pytest.mark.parametrize("resource", ["aws_ecr_repository_policy", "aws_ecr_registry_policy"])
@pytest.mark.parametrize("condition, named", [
    (f'{{ StringEquals = {{ "aws:PrincipalAccount" = "{EXTERNAL}" }} }}', "aws:PrincipalAccount"),
    (f'{{ ArnLike = {{ "aws:PrincipalArn" = "arn:aws:iam::{EXTERNAL}:*" }} }}', "aws:PrincipalArn"),
    (f'{{ StringEquals = {{ "aws:SourceAccount" = "{EXTERNAL}" }} }}', "aws:SourceAccount"),
    (f'{{ "ForAnyValue:StringEquals" = {{ "aws:PrincipalAccount" = ["{EXTERNAL}"] }} }}',
     "aws:PrincipalAccount"),
])
def test_public_grant_narrowed_to_an_outside_account_fails_naming_it(tmp_path, resource, condition, named):
    write(tmp_path, {"main.tf": _policy(resource, condition)})
    code, data = _lint(tmp_path)
    assert code == 1
    status, message = _verdict(data)
    assert status == "fail"
    assert f"allows public principal * to account {EXTERNAL} ({named} " in message
    assert message.endswith("which is neither this account nor in allowed_accounts")
    assert {(f["rule_id"], f["address"]) for f in data["findings"]} == {("ECR005", f"{resource}.p")}


@pytest.mark.parametrize("resource", ["aws_ecr_repository_policy", "aws_ecr_registry_policy"])
def test_public_grant_narrowed_to_allowed_accounts_and_organizations_passes(tmp_path, resource):
    write(tmp_path, {
        "main.tf": 'data "aws_caller_identity" "me" {}\n' + _policy(
            resource, '{ StringEquals = { "aws:PrincipalAccount" = ["111122223333", '
                      'data.aws_caller_identity.me.account_id] } }')
        + _policy(resource, '{ "ForAnyValue:StringLike" = { "aws:PrincipalOrgPaths" = "o-abcdef1234/r-ab12/*" } }')
        .replace('"p"', '"org"'),
        ".ecr-lint.toml": 'allowed_accounts = ["111122223333"]\nallowed_organizations = ["o-abcdef1234"]\n',
    })
    code, data = _lint(tmp_path)
    assert code == 0 and data["findings"] == [] and data["errors"] == []
    assert {(r["address"], r["status"]) for r in data["results"]} == {(f"{resource}.p", "pass"), (f"{resource}.org", "pass")}


def test_an_organization_not_allowed_fails_and_one_read_from_the_stack_passes(tmp_path):
    write(tmp_path, {"main.tf": 'data "aws_organizations_organization" "this" {}\n'
                     + _policy("aws_ecr_repository_policy", '{ StringEquals = { "aws:PrincipalOrgID" = "o-zzzz999999" } }')
                     + _policy("aws_ecr_registry_policy",
                               '{ StringEquals = { "aws:PrincipalOrgID" = data.aws_organizations_organization.this.id } }')})
    code, data = _lint(tmp_path)
    assert code == 1
    assert {(r["address"], r["status"]) for r in data["results"]} == {
        ("aws_ecr_repository_policy.p", "fail"), ("aws_ecr_registry_policy.p", "pass")}
    assert data["findings"][0]["message"] == (
        'policy: Statement[0] allows public principal * to organization o-zzzz999999 (aws:PrincipalOrgID '
        '"o-zzzz999999"), which is neither this organization nor in allowed_organizations')


def test_a_condition_that_cannot_be_known_is_unknown_with_the_reason(tmp_path):
    write(tmp_path, {"main.tf": 'variable "partner" {}\n' + _policy(
        "aws_ecr_repository_policy", '{ StringEquals = { "aws:PrincipalAccount" = var.partner } }')})
    code, data = _lint(tmp_path)
    assert code == 1  # an unknown fails closed (unknown_values defaults to "fail": the rule's severity)
    assert _verdict(data) == ("unknown", 'policy: Statement[0] allows public principal * when aws:PrincipalAccount '
                                         '"${var.partner}", whose account is known only at plan time')


def test_allowed_organizations_is_validated(tmp_path):
    write(tmp_path, {"main.tf": _policy("aws_ecr_repository_policy", "{}"),
                     ".ecr-lint.toml": 'allowed_organizations = ["org-1"]\n'})
    result = CliRunner().invoke(main, [str(tmp_path), "--no-cache"])
    assert result.exit_code == 2
    assert "allowed_organizations.0: 'org-1' does not match" in result.output
