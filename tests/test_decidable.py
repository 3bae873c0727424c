"""Verdicts that do not depend on the unknown are decided (issue 13 item 8), one test per predicate."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from ecr_lint.cli import main

from conftest import write

REPO = 'resource "aws_ecr_repository" "app" {\n  name = %s\n%s}\n'
TAGS = ('{ Owner = "o", CostCenter = "c", Environment = "prod", Lifecycle = "l", DataClass = "d", '
        'Service = "s" }')


def _lint(directory, rules: str, files: dict[str, str], *extra: str) -> dict[tuple[str, str], tuple[str, str]]:
    write(directory, files)
    result = CliRunner().invoke(main, [str(directory), "--select", rules, "--format", "json", "--no-cache", *extra],
                                catch_exceptions=False)
    data = json.loads(result.output)
    assert data["errors"] == [], data["errors"]
    return {(r["rule_id"], r["address"]): (r["status"], r["message"]) for r in data["results"]}


# --- ECR008 ----------------------------------------------------------------------------------


def test_ecr008_unknown_name_without_any_export_fails(tmp_path):
    results = _lint(tmp_path, "ECR008", {"main.tf": 'variable "name" {}\n' + REPO % ("var.name", "")})
    assert results == {("ECR008", "aws_ecr_repository.app"): (
        "fail", "repository_url is not written to an aws_ssm_parameter (expected /shared/ecr/<name>-repository-url, "
                "whatever the repository name turns out to be)")}


EXPORT = '''
resource "aws_ssm_parameter" "url" {
  name  = "%s"
  type  = "String"
  value = aws_ecr_repository.app.repository_url
}
'''


@pytest.mark.parametrize("repository, export, verdict", [
    ("var.x", "/apps/url",  # no repository name can make /apps/url the expected parameter
     ("fail", "repository_url is exported as /apps/url, which no repository name makes /shared/ecr/<name>-repository-url")),
    ('"app"', "/apps/${var.x}",  # whatever var.x is, /apps/... is not /shared/ecr/app-repository-url
     ("fail", "repository_url is exported as /apps/${var.x}, expected /shared/ecr/app-repository-url")),
    ("var.x", "/shared/ecr/${var.x}-repository-url",  # fits for some names: undecided
     ("unknown", "the repository name is unknown: var.x has no default and no value was given")),
])
def test_ecr008_exports_judged_by_what_their_names_can_be(tmp_path, repository, export, verdict):
    results = _lint(tmp_path, "ECR008", {"main.tf": 'variable "x" {}\n' + REPO % (repository, "") + EXPORT % export})
    assert results[("ECR008", "aws_ecr_repository.app")] == verdict


# --- ECR001 / ECR009 -------------------------------------------------------------------------


def test_ecr001_unknown_encryption_type_without_a_key_fails(tmp_path):
    results = _lint(tmp_path, "ECR001,ECR009", {"main.tf": 'variable "kind" {}\n' + REPO % (
        '"app"', '  encryption_configuration {\n    encryption_type = var.kind\n  }\n')})
    assert results[("ECR001", "aws_ecr_repository.app")] == (
        "fail", "no kms_key is set, so whatever encryption_type turns out to be (var.kind has no default and no value "
                "was given), the repository is not encrypted with a customer-managed KMS key")
    assert results[("ECR009", "aws_ecr_repository.app")][0] == "pass"


SHARED_KEY = '''
variable "x" {}
data "aws_ssm_parameter" "key" {
  name = "%s"
}
resource "aws_ecr_repository" "app" {
  name = "app"
  encryption_configuration {
    encryption_type = %s
    kms_key         = data.aws_ssm_parameter.key.value
  }
}
'''


@pytest.mark.parametrize("parameter, kind, ecr009", [
    # AES256 (ECR009 does not apply) or KMS with the shared key: a pass either way
    ("/shared/kms/ecs-secrets-key-arn", "var.x", ("pass", "kms_key is read from SSM /shared/kms/ecs-secrets-key-arn")),
    ("/teams/${var.x}/kms", '"KMS"', ("fail", "kms_key is read from SSM '/teams/${var.x}/kms', which cannot be the "
                                             "shared /shared/kms/ecs-secrets-key-arn")),
])
def test_ecr009_the_key_source_decides(tmp_path, parameter, kind, ecr009):
    results = _lint(tmp_path, "ECR001,ECR009", {"main.tf": SHARED_KEY % (parameter, kind)})
    assert results[("ECR009", "aws_ecr_repository.app")] == ecr009
    # ECR001 stays undecided with an unknown type: AES256 would fail, KMS would pass
    assert results[("ECR001", "aws_ecr_repository.app")][0] == ("unknown" if kind == "var.x" else "pass")


# --- ECR006 ----------------------------------------------------------------------------------

LIFECYCLE = '''
resource "aws_ecr_lifecycle_policy" "p" {
  repository = %s
  policy = jsonencode({ rules = [
    { rulePriority = 1, selection = { tagStatus = "untagged", countType = "sinceImagePushed", countUnit = "days",
      countNumber = 7 }, action = { type = "expire" } },
    { rulePriority = 2, selection = { tagStatus = "any", countType = "imageCountMoreThan", countNumber = 50 },
      action = { type = "expire" } } ] })
}
'''


def test_ecr006_unknown_name_and_a_policy_naming_a_repository_is_unknown_not_fail(tmp_path):
    results = _lint(tmp_path, "ECR006", {"main.tf": 'variable "name" {}\n' + REPO % ("var.name", "")
                                         + LIFECYCLE % '"app"'})
    assert results[("ECR006", "aws_ecr_repository.app")] == (
        "unknown", "no lifecycle policy is known to apply: this repository's name is unknown (var.name has no "
                   "default and no value was given), and aws_ecr_lifecycle_policy.p names repository 'app', which may be it")


def test_ecr006_policy_whose_known_part_cannot_name_this_repository_fails(tmp_path):
    results = _lint(tmp_path, "ECR006", {"main.tf": 'variable "env" {}\n' + REPO % ('"app"', "")
                                         + LIFECYCLE % '"other-${var.env}"'})
    assert results[("ECR006", "aws_ecr_repository.app")] == (
        "fail", "no aws_ecr_lifecycle_policy applies to this repository: images accumulate forever")


# --- ECR014 ----------------------------------------------------------------------------------

SCAN_RULE = '''
resource "aws_cloudwatch_event_rule" "%s" {
  name          = "%s"
  event_pattern = %s
}
'''
CRITICAL = ('jsonencode({ source = ["aws.ecr"], "detail-type" = ["ECR Image Scan"], detail = { '
            '"finding-severity-counts" = { CRITICAL = [{ numeric = [">", 0] }] }%s } })')


def test_ecr014_undecided_rules_without_a_target_do_not_hold_the_verdict(tmp_path):
    results = _lint(tmp_path, "ECR014", {"main.tf": 'variable "pattern" {}\nvariable "name" {}\n'
                                         + REPO % ("var.name", "")
                                         + SCAN_RULE % ("unknown_pattern", "a", "var.pattern")
                                         + SCAN_RULE % ("by_name", "b", CRITICAL % ', "repository-name" = ["app"]')})
    assert results[("ECR014", "aws_ecr_repository.app")] == (
        "fail", "no EventBridge rule routes ECR Image Scan events with CRITICAL findings for this repository to a target")


def test_ecr014_a_target_whose_rule_is_unknown_makes_it_unknown_not_fail(tmp_path):
    results = _lint(tmp_path, "ECR014", {"main.tf": 'variable "rule" {}\n' + REPO % ('"app"', "")
                                         + SCAN_RULE % ("all", "all", CRITICAL % "") + '''
resource "aws_cloudwatch_event_target" "t" {
  rule = var.rule
  arn  = "arn:aws:sns:us-east-1:111122223333:alerts"
}
'''})
    assert results[("ECR014", "aws_ecr_repository.app")] == (
        "unknown", "aws_cloudwatch_event_rule.all matches them and may be the rule of a target: "
                   "aws_cloudwatch_event_target.t.rule is unknown: var.rule has no default and no value was given")


# --- ECR002 ----------------------------------------------------------------------------------


def test_ecr002_a_registry_rule_covering_every_repository_decides(tmp_path):
    results = _lint(tmp_path, "ECR002", {"main.tf": 'variable "name" {}\nvariable "freq" {}\n'
                                         + REPO % ("var.name", "") + '''
resource "aws_ecr_registry_scanning_configuration" "s" {
  scan_type = "BASIC"
  rule {
    scan_frequency = var.freq
    repository_filter {
      filter      = "team-*"
      filter_type = "WILDCARD"
    }
  }
  rule {
    scan_frequency = "SCAN_ON_PUSH"
    repository_filter {
      filter      = "*"
      filter_type = "WILDCARD"
    }
  }
}
'''})
    assert results[("ECR002", "aws_ecr_repository.app")] == (
        "pass", "covered by aws_ecr_registry_scanning_configuration.s (BASIC SCAN_ON_PUSH, filter '*': every repository)")


# --- ECR007 ----------------------------------------------------------------------------------


def test_ecr007_own_tags_complete_decide_when_default_tags_are_unknown(tmp_path):
    results = _lint(tmp_path, "ECR007", {"main.tf": '''
variable "default_tags" {}
provider "aws" {
  default_tags {
    tags = var.default_tags
  }
}
''' + REPO % ('"app"', f"  tags = {TAGS}\n") + 'resource "aws_sns_topic" "t" {\n  tags = { Owner = "o" }\n}\n'})
    assert results[("ECR007", "aws_ecr_repository.app")] == ("pass", "all required tags present in the resource's own tags")
    assert results[("ECR007", "aws_sns_topic.t")][0] == "unknown"


# --- ECR003 / ECR011 / ECR015 ------------------------------------------------------------------


def test_ecr003_immutable_passes_whatever_the_environment(tmp_path):
    write(tmp_path, {".ecr-lint.toml": 'unknown_environment = "unknown"\n'})
    results = _lint(tmp_path, "ECR003", {"main.tf": 'variable "environment" {}\n'
                                         + REPO % ('"app"', '  image_tag_mutability = "IMMUTABLE"\n')
                                         + REPO.replace('"app"', '"other"', 1) % ('"other"', "")})
    assert results[("ECR003", "aws_ecr_repository.app")] == (
        "pass", "IMMUTABLE, whatever the environment is (var.environment has no default and no value was given)")
    assert results[("ECR003", "aws_ecr_repository.other")] == (
        "unknown", "cannot tell whether this is production: var.environment has no default and no value was given")


def test_ecr011_unknown_force_delete_outside_production_passes(tmp_path):
    results = _lint(tmp_path, "ECR011", {"main.tf": 'variable "force" {}\n' + REPO % (
        '"app"', '  force_delete = var.force\n  tags = { Environment = "dev" }\n')})
    assert results[("ECR011", "aws_ecr_repository.app")] == (
        "pass", "not production (environment 'dev' from the Environment tag), whatever force_delete is")


def test_ecr015_unpinned_image_with_an_undecided_environment_is_unknown_not_fail(tmp_path):
    write(tmp_path, {".ecr-lint.toml": 'unknown_environment = "unknown"\n'})
    results = _lint(tmp_path, "ECR015", {"main.tf": '''
variable "environment" {}
resource "aws_ecs_task_definition" "t" {
  family = "t"
  container_definitions = jsonencode([{ name = "app", image = "111122223333.dkr.ecr.us-east-1.amazonaws.com/app:v1" }])
}
'''})
    assert results[("ECR015", "aws_ecs_task_definition.t")] == (
        "unknown", "container 'app' runs 111122223333.dkr.ecr.us-east-1.amazonaws.com/app:v1 by tag, and cannot tell "
                   "whether this is production: var.environment has no default and no value was given")


# --- ECR004 (attached AWS-managed policies) ---------------------------------------------------


@pytest.mark.parametrize("arns, verdict", [
    ('["arn:aws:iam::aws:policy/ReadOnlyAccess", var.extra]', (
        "unknown", "the attached policy is unknown: var.extra has no default and no value was given")),
    ('["arn:${data.aws_partition.current.partition}:iam::aws:policy/AmazonEC2ContainerRegistryFullAccess"]', (
        "fail", 'attaches the AWS-managed AmazonEC2ContainerRegistryFullAccess, which grants "ecr:*" on every resource')),
])
def test_ecr004_attached_policies_decided_by_what_is_known(tmp_path, arns, verdict):
    results = _lint(tmp_path, "ECR004", {"main.tf": f'''
variable "extra" {{}}
data "aws_partition" "current" {{}}
resource "aws_iam_role" "r" {{
  name                = "r"
  assume_role_policy  = "{{}}"
  managed_policy_arns = {arns}
}}
'''})
    assert results[("ECR004", "aws_iam_role.r")] == verdict


# --- ECR016 ----------------------------------------------------------------------------------


def test_ecr016_a_read_outside_shared_is_not_a_cross_stack_read_and_a_missing_prefix_fails(tmp_path):
    results = _lint(tmp_path, "ECR016", {"main.tf": '''
variable "name" {}
data "aws_ssm_parameter" "app" {
  name = "/app/${var.name}"
}
data "aws_ssm_parameter" "shared" {
  name = "/shared/payments/${var.name}"
}
data "aws_ssm_parameter" "kms" {
  name = "/shared/kms/${var.name}"
}
'''})
    assert results == {
        ("ECR016", "data.aws_ssm_parameter.shared"): (
            "fail", "no linted stack exports a parameter under /shared/payments/ (the name is "
                    "/shared/payments/${var.name}): the producer is missing (lint it together, or list the parameter in "
                    "ssm_external)"),
        ("ECR016", "data.aws_ssm_parameter.kms"): (
            "unknown", "cannot tell which parameter it reads: var.name has no default and no value was given"),
    }
