"""Where ecr-lint read a configuration differently from Terraform, in the lenient direction (found
by a hostile review of the lint gate, stop 18): each test is a tree Terraform would apply with a
violation, and asserts that ecr-lint fails it (or fails closed with an input error naming the file).
"""

from __future__ import annotations

import json
import os

from click.testing import CliRunner

from ecr_lint.cli import main

from conftest import write


def lint(path: str, *args: str) -> tuple[int, dict]:
    result = CliRunner().invoke(main, [path, "--no-cache", "--format", "json", *args], catch_exceptions=False)
    return result.exit_code, json.loads(result.output)


def verdicts(report: dict) -> set[tuple[str, str, str]]:
    return {(r["rule_id"], r["address"], r["status"]) for r in report["results"]}


def test_a_repeated_key_in_tf_json_is_an_error_not_the_last_one_silently(tmp_path):
    # Terraform merges the two "resource" objects: it creates r (MUTABLE) and s. json.loads kept s only.
    repository = {"name": "{n}", "image_tag_mutability": "{m}", "tags": {"Environment": "prod"}}
    text = ('{"resource": {"aws_ecr_repository": {"r": %s}},\n "resource": {"aws_ecr_repository": {"s": %s}}}\n'
            % (json.dumps(repository).replace("{n}", "r").replace("{m}", "MUTABLE"),
               json.dumps(repository).replace("{n}", "s").replace("{m}", "IMMUTABLE")))
    write(tmp_path, {"main.tf.json": text})
    code, report = lint(str(tmp_path), "--select", "ECR003")
    assert code == 2
    [error] = report["errors"]
    assert (os.path.basename(error["file"]), error["line"]) == ("main.tf.json", 2)
    assert error["message"].startswith('the key "resource" appears twice in one JSON object')
    write(tmp_path, {"main.tf.json": "{}\n", "terraform.tfvars.json": '{"a": 1,\n "a": 2}\n'})
    code, report = lint(str(tmp_path))
    assert code == 2 and [(os.path.basename(e["file"]), e["line"]) for e in report["errors"]] == \
        [("terraform.tfvars.json", 2)]


def test_a_windows_spelled_local_module_source_is_read(tmp_path):
    # Terraform takes ".\\mod" as the local directory mod (modules.json records "./mod").
    write(tmp_path, {
        "main.tf": 'provider "aws" {\n  region = "us-east-1"\n}\n\nmodule "ecr" {\n  source     = ".\\\\mod"\n'
                   '  mutability = "MUTABLE"\n}\n',
        "mod/main.tf": 'variable "mutability" {}\n\nresource "aws_ecr_repository" "r" {\n  name                 = "r"\n'
                       '  image_tag_mutability = var.mutability\n  tags                 = { Environment = "prod" }\n}\n',
    })
    code, report = lint(str(tmp_path), "--select", "ECR000,ECR003")
    assert verdicts(report) == {("ECR003", "module.ecr.aws_ecr_repository.r", "fail")}
    assert code == 1


POLICY = '''resource "aws_iam_policy" "push" {
  name = "push"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["ecr:PutImage", "ecr:BatchCheckLayerAvailability", "ecr:InitiateLayerUpload",
                  "ecr:UploadLayerPart", "ecr:CompleteLayerUpload"]
      Resource = "%s"
    }]
  })
}
'''


def test_ecr004_a_resource_pattern_that_matches_every_repository_is_a_star(tmp_path):
    for resource, status in (("arn:*", "fail"), ("arn:aws:ecr:*:*:repository/*", "fail"),
                             ("arn:aws:ecr:eu-west-1:111122223333:repository/*", "fail"),
                             ("arn:aws:ecr:eu-west-1:111122223333:repository/team-*", "pass"),
                             ("arn:aws:ecr:eu-west-1:111122223333:repository/app", "pass")):
        write(tmp_path, {"main.tf": POLICY % resource})
        code, report = lint(str(tmp_path), "--select", "ECR004")
        assert verdicts(report) == {("ECR004", "aws_iam_policy.push", status)}, resource
        assert code == (1 if status == "fail" else 0)
    write(tmp_path, {"main.tf": POLICY % "arn:aws:ecr:*:*:repository/*"})
    message = next(r["message"] for r in lint(str(tmp_path), "--select", "ECR004")[1]["results"])
    assert 'on "arn:aws:ecr:*:*:repository/*", which matches every repository' in message
