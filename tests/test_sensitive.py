"""Sensitive values are marked, the mark survives evaluation, and no output prints them.

Item 1 of issue 12 runs real `terraform plan` (against moto on 127.0.0.1); the rest lint HCL
and plan JSON through the CLI. Each test also checks that the checks still use the values.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from ecr_lint.cli import main

from conftest import REPO, write

PARTNER = "999988887777"           # an AWS account id: masked by the mark and by the safety net
PARAMETER = "/shared/partner-zebraquux/token"  # a parameter name from a sensitive variable
WORD = "Zebraquux"                 # a plain word: only the mark can mask it (the safety net never does)


def run_cli(*args: str, cache: str | None = None, cwd: str | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if cache:
        env["XDG_CACHE_HOME"] = cache
    return subprocess.run([sys.executable, "-m", "ecr_lint", *args], capture_output=True, text=True, env=env,
                          cwd=cwd or REPO, timeout=300)


def files_text(directory: str) -> str:
    out = []
    for current, _, names in os.walk(directory):
        for name in names:
            with open(os.path.join(current, name), "rb") as handle:
                out.append(handle.read().decode("utf-8", "replace"))
    return "\n".join(out)


def verdicts(report_json: str, status: str = "fail") -> set[tuple[str, str]]:
    data = json.loads(report_json)
    return {(r["rule_id"], r["address"]) for r in data["results"] if r["status"] == status}


# --- item 1: a real plan ---------------------------------------------------------------------------

PLAN_STACK = """\
terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}

provider "aws" {
  region = "ap-northeast-2"
}

variable "partner_account" {
  type      = string
  sensitive = true
}

variable "environment" {
  type      = string
  sensitive = true
}

variable "partner_parameter" {
  type      = string
  sensitive = true
}

resource "aws_iam_role" "ci" {
  name = "ci"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "ec2.amazonaws.com" } }]
  })
}

resource "aws_ecr_repository" "app" {
  name                 = "app"
  image_tag_mutability = "MUTABLE"
  tags                 = { Environment = var.environment }
}

resource "aws_ecr_repository_policy" "app" {
  repository = aws_ecr_repository.app.name
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "pull"
      Effect    = "Allow"
      Action    = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
      Principal = { AWS = ["arn:aws:iam::${var.partner_account}:root", aws_iam_role.ci.arn] }
    }]
  })
}

data "aws_ssm_parameter" "partner" {
  name = var.partner_parameter
}
"""


@pytest.mark.terraform
def test_real_plan_sensitive_variable_is_used_but_never_printed(tf_required, fresh_moto, tmp_path):
    import tfharness

    tfharness.boto_client("ssm", fresh_moto.endpoint).put_parameter(
        Name=PARAMETER, Value="partner-token", Type="String", Overwrite=True)
    source = write(tmp_path / "src", {"main.tf": PLAN_STACK})
    with tfharness.TfWorkspace(source, fresh_moto.endpoint) as ws:
        ws.env.update(TF_VAR_partner_account=PARTNER, TF_VAR_environment="prod",
                      TF_VAR_partner_parameter=PARAMETER)
        ws.init()
        plan = ws.show_json(ws.plan())
        # What the security review saw: the policy is unknown and sensitive, the value is in `variables`.
        change = next(rc["change"] for rc in plan["resource_changes"] if rc["address"] == "aws_ecr_repository_policy.app")
        assert change["after_unknown"]["policy"] is True and change["after_sensitive"]["policy"] is True
        assert plan["variables"]["partner_account"]["value"] == PARTNER
        plan_file = str(ws.dir / "plan.json")
        with open(plan_file, "w") as handle:
            json.dump(plan, handle)
        cache = str(tmp_path / "cache")
        secrets = (PARTNER, "zebraquux", "'prod'", '"prod"')
        outputs = {}
        for fmt in ("text", "json", "sarif", "github"):
            proc = run_cli(plan_file, "--format", fmt, cache=cache)
            assert proc.returncode == 1, proc.stderr
            outputs[fmt] = proc.stdout + proc.stderr
        for fmt in ("mermaid", "dot", "json"):
            proc = run_cli("graph", "--stacks", plan_file, "--format", fmt, cache=cache)
            assert proc.returncode == 0, proc.stderr
            outputs[f"graph {fmt}"] = proc.stdout + proc.stderr
        # The source linted as HCL with the same values on the command line: its results are cached.
        hcl = run_cli(str(ws.dir), "--format", "json", "--var", f"partner_account={PARTNER}",
                      "--var", "environment=prod", "--var", f"partner_parameter={PARAMETER}", cache=cache)
        assert hcl.returncode == 1, hcl.stderr
        outputs["hcl json"] = hcl.stdout + hcl.stderr
        warm = run_cli(str(ws.dir), "--format", "json", "--var", f"partner_account={PARTNER}",
                       "--var", "environment=prod", "--var", f"partner_parameter={PARAMETER}", cache=cache)
        assert warm.stdout == hcl.stdout
        outputs["cache files"] = files_text(cache)
    for where, text in outputs.items():
        for secret in secrets:
            assert secret not in text, f"{secret} printed in {where}"
    # The finding itself is still reported: the partner account fails ECR005, prod fails ECR003.
    for report in (outputs["json"], hcl.stdout):
        assert {("ECR005", "aws_ecr_repository_policy.app"), ("ECR003", "aws_ecr_repository.app")} <= verdicts(report)
    messages = {r["rule_id"]: r["message"] for r in json.loads(outputs["json"])["findings"]}
    assert messages["ECR005"].startswith('policy: Statement[0] "(sensitive)" allows account (sensitive)')
    assert "in production (environment (sensitive) from the Environment tag)" in messages["ECR003"]
    missing = json.loads(outputs["graph json"].split("\n}\n")[0] + "\n}")["missing"]
    assert missing == [{"stack": missing[0]["stack"], "parameter": "(sensitive)"}]


# --- HCL: every sensitive source, through every kind of expression ---------------------------------

SOURCES = {
    "main.tf": f"""
        variable "secret" {{
          default   = "{WORD}"
          sensitive = true
        }}
        variable "flag" {{
          type      = bool
          default   = true
          sensitive = true
        }}
        variable "key" {{
          default   = "b"
          sensitive = true
        }}
        variable "partner" {{
          default   = "{PARTNER}"
          sensitive = true
        }}
        locals {{
          called  = sensitive("{WORD}")
          choices = {{ a = "IMMUTABLE", b = "{WORD}" }}
          listed  = [for s in [var.secret] : s]
        }}
        module "passes" {{
          source = "./mod"
          value  = var.secret
        }}
        module "declares" {{
          source = "./mod"
          value  = "{WORD}"
        }}
        resource "aws_ssm_parameter" "key_alias" {{
          name  = "/app/key"
          type  = "SecureString"
          value = "alias/aws/{WORD.lower()}"
        }}
        resource "aws_ecr_repository" "variable" {{
          name                 = "variable"
          image_tag_mutability = var.secret
        }}
        resource "aws_ecr_repository" "template" {{
          name                 = "template"
          image_tag_mutability = "MUTABLE-${{var.secret}}"
        }}
        resource "aws_ecr_repository" "function" {{
          name                 = "function"
          image_tag_mutability = upper(format("%s-x", var.secret))
        }}
        resource "aws_ecr_repository" "jsonencode" {{
          name                 = "jsonencode"
          image_tag_mutability = jsonencode({{ v = var.secret }})
        }}
        resource "aws_ecr_repository" "conditional" {{
          name                 = "conditional"
          image_tag_mutability = var.flag ? "MUTABLE" : "IMMUTABLE"
        }}
        resource "aws_ecr_repository" "for_expression" {{
          name                 = "for_expression"
          image_tag_mutability = local.listed[0]
        }}
        resource "aws_ecr_repository" "index" {{
          name                 = "index"
          image_tag_mutability = local.choices[var.key]
        }}
        resource "aws_ecr_repository" "sensitive_call" {{
          name                 = "sensitive_call"
          image_tag_mutability = local.called
        }}
        resource "aws_ecr_repository" "module_input" {{
          name                 = "module_input"
          image_tag_mutability = module.passes.out
        }}
        resource "aws_ecr_repository" "module_output" {{
          name                 = "module_output"
          image_tag_mutability = module.declares.secret_out
        }}
        resource "aws_ecr_repository" "secure_string" {{
          name                 = "secure_string"
          image_tag_mutability = "IMMUTABLE"
          encryption_configuration {{
            encryption_type = "KMS"
            kms_key         = aws_ssm_parameter.key_alias.value
          }}
        }}
        resource "aws_ecr_repository" "function_error" {{
          name                 = "function_error"
          image_tag_mutability = tonumber(var.secret)
        }}
        data "aws_iam_policy_document" "document" {{
          statement {{
            actions = ["ecr:BatchGetImage"]
            principals {{
              type        = "AWS"
              identifiers = [var.secret]
            }}
          }}
        }}
        resource "aws_ecr_repository_policy" "document" {{
          repository = aws_ecr_repository.variable.name
          policy     = data.aws_iam_policy_document.document.json
        }}
        resource "aws_ecr_repository_policy" "partner" {{
          repository = aws_ecr_repository.variable.name
          policy = jsonencode({{
            Version   = "2012-10-17"
            Statement = [{{ Effect = "Allow", Action = "ecr:BatchGetImage",
                            Principal = {{ AWS = "arn:aws:iam::${{var.partner}}:root" }} }}]
          }})
        }}
        """,
    "mod/main.tf": """
        variable "value" {}
        output "out" {
          value = var.value
        }
        output "secret_out" {
          value     = var.value
          sensitive = true
        }
        """,
}

REPOSITORIES = ("variable", "template", "function", "jsonencode", "conditional", "for_expression", "index",
                "sensitive_call", "module_input", "module_output")


def test_hcl_marks_survive_evaluation_and_every_format_masks_them(tmp_path):
    stack = write(tmp_path / "stack", SOURCES)
    cache = str(tmp_path / "cache")
    outputs = {}
    for fmt in ("text", "json", "sarif", "github"):
        proc = run_cli(stack, "--format", fmt, "--environment", "prod", cache=cache)
        assert proc.returncode == 1, proc.stderr
        outputs[fmt] = proc.stdout + proc.stderr
    for where, text in outputs.items():
        assert WORD not in text and WORD.lower() not in text and PARTNER not in text, where
    results = json.loads(outputs["json"])["results"]
    # The checks used the values: every repository fails ECR003 on what its expression gave.
    failed = verdicts(outputs["json"])
    assert {("ECR003", f"aws_ecr_repository.{name}") for name in REPOSITORIES} <= failed
    assert ("ECR003", "aws_ecr_repository.secure_string") not in failed
    assert ("ECR001", "aws_ecr_repository.secure_string") in failed  # alias/aws/...: an AWS-managed key
    assert ("ECR005", "aws_ecr_repository_policy.partner") in failed
    assert ("ECR005", "aws_ecr_repository_policy.document") in failed
    messages = {(r["rule_id"], r["address"]): r["message"] for r in results}
    for name in REPOSITORIES:
        assert messages[("ECR003", f"aws_ecr_repository.{name}")].startswith('image_tag_mutability = "(sensitive)"')
    assert messages[("ECR003", "aws_ecr_repository.function_error")] == (
        "image_tag_mutability is unknown: aws_ecr_repository.function_error.image_tag_mutability: "
        "tonumber() cannot take this sensitive argument")
    assert messages[("ECR005", "aws_ecr_repository_policy.document")] == \
        'policy: Statement[0] allows AWS principal "(sensitive)" whose account cannot be determined'
    assert messages[("ECR001", "aws_ecr_repository.secure_string")] == \
        "kms_key (sensitive) is an AWS-managed key"
    # Nothing about these values reaches the result cache on disk either.
    stack_entries = os.path.join(cache, "ecr-lint", "v1", "stack")
    assert os.path.isdir(stack_entries)
    cached = files_text(stack_entries)
    assert WORD not in cached and WORD.lower() not in cached and PARTNER not in cached
    assert run_cli(stack, "--format", "json", "--environment", "prod", cache=cache).stdout == \
        run_cli(stack, "--format", "json", "--environment", "prod", cache=cache).stdout


def test_a_sensitive_environment_is_used_but_not_printed(tmp_path):
    stack = write(tmp_path, {"main.tf": """
        variable "environment" {
          default   = "prod"
          sensitive = true
        }
        resource "aws_ecr_repository" "app" {
          name                 = "app"
          image_tag_mutability = "MUTABLE"
          force_delete         = true
        }
        """})
    result = CliRunner().invoke(main, [stack, "--format", "json", "--select", "ECR003,ECR011", "--no-cache"])
    assert result.exit_code == 1, result.output
    data = json.loads(result.output)
    assert {(f["rule_id"], f["address"]) for f in data["findings"]} == {
        ("ECR003", "aws_ecr_repository.app"), ("ECR011", "aws_ecr_repository.app")}
    for finding in data["findings"]:
        assert "environment (sensitive) from var.environment" in finding["message"]
        assert "'prod'" not in finding["message"]


def test_graph_stacks_masks_a_sensitive_parameter_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, {
        "producer/main.tf": f"""
            variable "suffix" {{
              default   = "{WORD}"
              sensitive = true
            }}
            resource "aws_ssm_parameter" "out" {{
              name  = "/shared/app/${{var.suffix}}"
              type  = "String"
              value = "x"
            }}
            """,
        "consumer/main.tf": f"""
            variable "suffix" {{
              default   = "{WORD}"
              sensitive = true
            }}
            data "aws_ssm_parameter" "in" {{
              name = "/shared/app/${{var.suffix}}"
            }}
            data "aws_ssm_parameter" "nobody" {{
              name = "/shared/none/${{var.suffix}}"
            }}
            """})
    for fmt in ("mermaid", "dot", "json"):
        result = CliRunner().invoke(main, ["graph", "--stacks", ".", "--format", fmt])
        assert result.exit_code == 0, result.output
        assert WORD not in result.output and "(sensitive)" in result.output
    model = json.loads(CliRunner().invoke(main, ["graph", "--stacks", ".", "--format", "json"]).output)
    assert model["edges"] == [{"from": "consumer", "to": "producer", "parameters": ["(sensitive)"], "cycle": False}]
    assert model["missing"] == [{"stack": "consumer", "parameter": "(sensitive)"}]
    # ECR016 still matches the reader with its producer by the real name.
    result = CliRunner().invoke(main, [".", "--format", "json", "--select", "ECR016", "--no-cache"])
    data = json.loads(result.output)
    assert {(r["address"], r["status"]) for r in data["results"]} == {
        ("data.aws_ssm_parameter.in", "pass"), ("data.aws_ssm_parameter.nobody", "fail")}
    assert WORD not in result.output


def test_for_each_over_sensitive_keys_is_an_error_and_keys_are_not_printed(tmp_path):
    stack = write(tmp_path, {"main.tf": f"""
        variable "names" {{
          default   = ["{WORD}"]
          sensitive = true
        }}
        resource "aws_ecr_repository" "r" {{
          for_each             = toset(var.names)
          name                 = each.key
          image_tag_mutability = "IMMUTABLE"
        }}
        """})
    result = CliRunner().invoke(main, [stack, "--format", "json", "--no-cache"])
    assert result.exit_code == 2
    assert WORD not in result.output
    errors = json.loads(result.output)["errors"]
    assert [(os.path.basename(e["file"]), e["line"]) for e in errors] == [("main.tf", 7)]
    assert errors[0]["message"].startswith("aws_ecr_repository.r: for_each is derived from a sensitive value")


# --- item 15: masking never hides the rule's own words -------------------------------------------

def test_a_short_sensitive_value_does_not_mask_the_rules_words(tmp_path):
    policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "ecr:BatchGetImage", "Principal": {"AWS": f"arn:aws:iam::{PARTNER}:root"}},
        {"Effect": "Maybe", "Action": "ecr:BatchGetImage", "Principal": "*"}]})
    plan = {"format_version": "1.2", "terraform_version": "1.11.4",
            "variables": {"environment": {"value": "production"}},
            "configuration": {"root_module": {"variables": {"environment": {"sensitive": True}}}},
            "resource_changes": [
                {"address": "aws_ecr_repository_policy.p", "mode": "managed", "type": "aws_ecr_repository_policy",
                 "name": "p", "change": {"actions": ["create"], "after": {"repository": "r", "policy": policy},
                                         "after_unknown": {}, "after_sensitive": {"policy": True}}},
                {"address": "aws_ecr_repository.r", "mode": "managed", "type": "aws_ecr_repository", "name": "r",
                 "change": {"actions": ["create"], "after": {"name": "r", "image_tag_mutability": "MUTABLE"},
                            "after_unknown": {}, "after_sensitive": {}}}]}
    write(tmp_path, {"plan.json": json.dumps(plan)})
    result = CliRunner().invoke(main, [str(tmp_path / "plan.json"), "--format", "json", "--select", "ECR003,ECR004"])
    assert result.exit_code == 1, result.output
    messages = {f["rule_id"]: f["message"] for f in json.loads(result.output)["findings"]}
    assert messages["ECR004"] == "policy is not a valid IAM policy: Statement[1]: Effect must be Allow or Deny, not (sensitive)"
    assert messages["ECR003"] == ('image_tag_mutability = "MUTABLE" in production (environment (sensitive) from '
                                  'var.environment): tags can be overwritten')
