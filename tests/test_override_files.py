"""Override files (`override.tf`, `*_override.tf`, `.tf.json` and `.tofu` forms) merged as Terraform
merges them, through the real CLI; real `terraform validate` and `terraform plan` are the reference
for what the merged configuration is (the plan is Terraform's own merge)."""

from __future__ import annotations

import json
import os

import pytest
from click.testing import CliRunner

from ecr_lint.cli import main

from conftest import write

RULES = "ECR001,ECR002,ECR003,ECR007,ECR011"
KEY_TAGS = 'Owner = "platform", CostCenter = "cc-1", Environment = "prod", Lifecycle = "permanent", ' \
           'DataClass = "internal", Service = "app"'

# One stack that exercises most merge rules at once. Override files are merged in name order:
# a_override.tf, b_override.tf, override.tf.json, z_override.tf.
STACK = {
    "main.tf": f"""\
        terraform {{
          required_providers {{
            aws = {{ source = "hashicorp/aws" }}
          }}
        }}

        provider "aws" {{
          region = "ap-northeast-2"
          default_tags {{
            tags = {{ {KEY_TAGS} }}
          }}
        }}

        variable "mutability" {{
          type    = string
          default = "IMMUTABLE"
        }}

        locals {{
          scan = true
        }}

        resource "aws_kms_key" "ecr" {{
          description         = "ecr"
          enable_key_rotation = true
        }}

        resource "aws_ecr_repository" "app" {{
          name                 = "app"
          image_tag_mutability = var.mutability
          image_scanning_configuration {{
            scan_on_push = local.scan
          }}
          encryption_configuration {{
            encryption_type = "KMS"
            kms_key         = aws_kms_key.ecr.arn
          }}
        }}

        resource "aws_ecr_repository" "web" {{
          name                 = "web"
          image_tag_mutability = "IMMUTABLE"
          image_scanning_configuration {{
            scan_on_push = true
          }}
          encryption_configuration {{
            encryption_type = "KMS"
            kms_key         = aws_kms_key.ecr.arn
          }}
        }}

        module "extra" {{
          source     = "./modules/repo"
          mutability = "IMMUTABLE"
          kms_key    = aws_kms_key.ecr.arn
        }}
        """,
    "modules/repo/main.tf": """\
        variable "mutability" {
          type = string
        }

        variable "kms_key" {
          type = string
        }

        resource "aws_ecr_repository" "this" {
          name                 = "extra"
          image_tag_mutability = var.mutability
          image_scanning_configuration {
            scan_on_push = true
          }
          encryption_configuration {
            encryption_type = "KMS"
            kms_key         = var.kms_key
          }
        }
        """,
    # A variable's default, value by value.
    "a_override.tf": """\
        variable "mutability" {
          default = "MUTABLE"
        }
        """,
    # Arguments replaced; a nested block replaces the original's blocks of its type.
    "b_override.tf": """\
        resource "aws_ecr_repository" "web" {
          force_delete = true
          image_scanning_configuration {
            scan_on_push = false
          }
        }

        locals {
          scan = true
        }
        """,
    # JSON: a nested block is an argument holding an object; a module call's input.
    "override.tf.json": json.dumps({
        "resource": {"aws_ecr_repository": {"web": {"encryption_configuration": {"encryption_type": "AES256"}}}},
        "module": {"extra": {"mutability": "MUTABLE"}},
    }, indent=2) + "\n",
    # Later files win (force_delete back to false); the provider's default_tags block is replaced.
    "z_override.tf": """\
        resource "aws_ecr_repository" "web" {
          force_delete = false
        }

        provider "aws" {
          default_tags {
            tags = { Owner = "platform", Environment = "prod" }
          }
        }
        """,
}

EXPECTED = {
    ("ECR007", "aws_kms_key.ecr", "fail"),
    ("ECR001", "aws_ecr_repository.app", "pass"), ("ECR002", "aws_ecr_repository.app", "pass"),
    ("ECR003", "aws_ecr_repository.app", "fail"), ("ECR007", "aws_ecr_repository.app", "fail"),
    ("ECR011", "aws_ecr_repository.app", "pass"),
    ("ECR001", "aws_ecr_repository.web", "fail"), ("ECR002", "aws_ecr_repository.web", "fail"),
    ("ECR003", "aws_ecr_repository.web", "pass"), ("ECR007", "aws_ecr_repository.web", "fail"),
    ("ECR011", "aws_ecr_repository.web", "pass"),
    ("ECR001", "module.extra.aws_ecr_repository.this", "pass"),
    ("ECR002", "module.extra.aws_ecr_repository.this", "pass"),
    ("ECR003", "module.extra.aws_ecr_repository.this", "fail"),
    ("ECR007", "module.extra.aws_ecr_repository.this", "fail"),
    ("ECR011", "module.extra.aws_ecr_repository.this", "pass"),
}


def lint_json(directory, *args: str, monkeypatch) -> tuple[int, dict]:
    """The CLI's JSON report, run from the stack's directory (paths in it are relative to it)."""
    monkeypatch.chdir(directory)
    result = CliRunner().invoke(main, [".", "--no-cache", "--format", "json", *args], catch_exceptions=False)
    return result.exit_code, json.loads(result.output)


def verdicts(report: dict) -> set[tuple[str, str, str]]:
    return {(r["rule_id"], r["address"], r["status"]) for r in report["results"]}


def located(report: dict, status: str = "fail") -> set[tuple[str, str, str, int]]:
    return {(r["rule_id"], r["address"], r["file"], r["line"]) for r in report["results"] if r["status"] == status}


def errors(report: dict) -> set[tuple[str, int]]:
    return {(e["file"], e["line"]) for e in report["errors"]}


def test_override_files_are_merged_in_name_order(tmp_path, monkeypatch):
    write(tmp_path, STACK)
    code, report = lint_json(tmp_path, "--select", RULES, monkeypatch=monkeypatch)
    assert report["errors"] == []
    assert code == 1
    assert verdicts(report) == EXPECTED


def test_findings_about_overridden_values_point_at_the_override(tmp_path, monkeypatch):
    write(tmp_path, STACK)
    _, report = lint_json(tmp_path, "--select", "ECR001,ECR002,ECR003", monkeypatch=monkeypatch)
    assert located(report) == {
        # the argument is written in main.tf (the variable's value comes from a_override.tf)
        ("ECR003", "aws_ecr_repository.app", "main.tf", 30),
        # scan_on_push in the image_scanning_configuration block that b_override.tf put in place of main.tf's
        ("ECR002", "aws_ecr_repository.web", "b_override.tf", 4),
        # a .tf.json file has no lines in ecr-lint's JSON reading: the file is named, line 0
        ("ECR001", "aws_ecr_repository.web", "override.tf.json", 0),
        ("ECR003", "module.extra.aws_ecr_repository.this", os.path.join("modules", "repo", "main.tf"), 11),
    }


def test_the_issue_case_main_override_sets_mutable(tmp_path, monkeypatch):
    # Before: exit 2 "declared twice ... this one is ignored", and MUTABLE never reported.
    write(tmp_path, {
        "main.tf": """\
            resource "aws_ecr_repository" "app" {
              name                 = "app"
              image_tag_mutability = "IMMUTABLE"
            }
            """,
        "main_override.tf": """\
            resource "aws_ecr_repository" "app" {
              image_tag_mutability = "MUTABLE"
            }
            """,
    })
    code, report = lint_json(tmp_path, "--select", "ECR003", monkeypatch=monkeypatch)
    assert (code, report["errors"]) == (1, [])
    assert located(report) == {("ECR003", "aws_ecr_repository.app", "main_override.tf", 2)}


BASE_REPO = """\
    resource "aws_ecr_repository" "app" {
      name                 = "app"
      image_tag_mutability = "MUTABLE"
      image_scanning_configuration {
        scan_on_push = true
      }
    }
    """


def test_a_suppression_in_the_override_block_applies(tmp_path, monkeypatch):
    write(tmp_path, {"main.tf": BASE_REPO, "main_override.tf": """\
        # ecr-lint:ignore ECR002 reason="scanned by the registry rule, OPS-7"
        resource "aws_ecr_repository" "app" {
          image_scanning_configuration {
            scan_on_push = false
          }
        }
        """})
    code, report = lint_json(tmp_path, "--select", "ECR002,ECR003,ECR090,ECR092", monkeypatch=monkeypatch)
    assert verdicts(report) == {("ECR002", "aws_ecr_repository.app", "suppressed"),
                                ("ECR003", "aws_ecr_repository.app", "fail")}
    suppressed = next(r for r in report["results"] if r["status"] == "suppressed")
    assert (suppressed["file"], suppressed["line"]) == ("main_override.tf", 4)  # scan_on_push = false
    assert suppressed["suppression"]["source"].endswith("main_override.tf:1")
    assert code == 1


def test_a_suppression_on_the_original_block_covers_the_overridden_value(tmp_path, monkeypatch):
    write(tmp_path, {"main.tf": """\
        # ecr-lint:ignore ECR003 reason="legacy mirror, OPS-12"
        resource "aws_ecr_repository" "app" {
          name                 = "app"
          image_tag_mutability = "IMMUTABLE"
        }
        """, "override.tf": 'resource "aws_ecr_repository" "app" {\n  image_tag_mutability = "MUTABLE"\n}\n'})
    code, report = lint_json(tmp_path, "--select", "ECR003,ECR092", monkeypatch=monkeypatch)
    assert verdicts(report) == {("ECR003", "aws_ecr_repository.app", "suppressed")}
    assert code == 0


def test_a_suppression_on_an_overridden_module_call_covers_its_resources(tmp_path, monkeypatch):
    write(tmp_path, {
        "main.tf": """\
            module "repo" {
              source     = "./modules/repo"
              mutability = "IMMUTABLE"
            }
            """,
        "modules/repo/main.tf": """\
            variable "mutability" {}
            resource "aws_ecr_repository" "this" {
              name                 = "repo"
              image_tag_mutability = var.mutability
            }
            """,
        "override.tf": """\
            # ecr-lint:ignore ECR003 reason="a mirror of upstream tags, OPS-9"
            module "repo" {
              mutability = "MUTABLE"
            }
            """,
    })
    code, report = lint_json(tmp_path, "--select", "ECR003,ECR092", monkeypatch=monkeypatch)
    assert verdicts(report) == {("ECR003", "module.repo.aws_ecr_repository.this", "suppressed")}
    assert code == 0


def test_dynamic_blocks_count_as_their_type(tmp_path, monkeypatch):
    # An override's `dynamic "x"` replaces the original's `x` blocks, and the other way round.
    write(tmp_path, {
        "main.tf": BASE_REPO.replace("MUTABLE", "IMMUTABLE") + """\
            resource "aws_ecr_repository" "dyn" {
              name                 = "dyn"
              image_tag_mutability = "IMMUTABLE"
              dynamic "image_scanning_configuration" {
                for_each = [true]
                content {
                  scan_on_push = image_scanning_configuration.value
                }
              }
            }
            """,
        "main_override.tf": """\
            resource "aws_ecr_repository" "app" {
              dynamic "image_scanning_configuration" {
                for_each = [false]
                content {
                  scan_on_push = image_scanning_configuration.value
                }
              }
            }

            resource "aws_ecr_repository" "dyn" {
              image_scanning_configuration {
                scan_on_push = false
              }
            }
            """,
    })
    code, report = lint_json(tmp_path, "--select", "ECR002", monkeypatch=monkeypatch)
    assert report["errors"] == []
    assert located(report) == {("ECR002", "aws_ecr_repository.app", "main_override.tf", 2),
                               ("ECR002", "aws_ecr_repository.dyn", "main_override.tf", 12)}


def test_override_files_of_a_called_module_are_merged(tmp_path, monkeypatch):
    write(tmp_path, {
        "main.tf": 'module "repo" {\n  source = "./modules/repo"\n}\n',
        "modules/repo/main.tf": BASE_REPO.replace("MUTABLE", "IMMUTABLE"),
        "modules/repo/override.tf": 'resource "aws_ecr_repository" "app" {\n  image_tag_mutability = "MUTABLE"\n}\n',
    })
    code, report = lint_json(tmp_path, "--select", "ECR003", monkeypatch=monkeypatch)
    assert (code, report["errors"]) == (1, [])
    assert located(report) == {("ECR003", "module.repo.aws_ecr_repository.app",
                                os.path.join("modules", "repo", "override.tf"), 2)}


def test_a_default_provider_may_be_overridden_where_none_is_declared(tmp_path, monkeypatch):
    # Terraform: an absent default provider configuration is an empty one, which an override sets;
    # a later override merges into it (its default_tags stay).
    write(tmp_path, {
        "main.tf": BASE_REPO.replace("MUTABLE", "IMMUTABLE"),
        "override.tf": f'provider "aws" {{\n  default_tags {{\n    tags = {{ {KEY_TAGS} }}\n  }}\n}}\n',
        "z_override.tf": 'provider "aws" {\n  region = "us-east-1"\n}\n',
    })
    code, report = lint_json(tmp_path, "--select", "ECR007", monkeypatch=monkeypatch)
    assert (code, report["errors"]) == (0, [])
    assert verdicts(report) == {("ECR007", "aws_ecr_repository.app", "pass")}


def test_the_parse_cache_keeps_override_locations(tmp_path, monkeypatch):
    write(tmp_path, {"main.tf": BASE_REPO, "main_override.tf": """\
        resource "aws_ecr_repository" "app" {
          image_scanning_configuration {
            scan_on_push = false
          }
        }
        """})
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    runs = [CliRunner().invoke(main, [".", "--format", "json", "--select", "ECR002"], catch_exceptions=False)
            for _ in range(2)]
    first, second = (located(json.loads(r.output)) for r in runs)
    assert first == second == {("ECR002", "aws_ecr_repository.app", "main_override.tf", 3)}


# --- what Terraform rejects: an error naming the override's file and line (exit 2), the rest linted ---

BAD_OVERRIDES = {
    "missing_resource": ('resource "aws_ecr_repository" "ghost" {\n  name = "ghost"\n}\n', 1,
                         'override of resource "aws_ecr_repository" "ghost", which no primary file'),
    "missing_data": ('data "aws_caller_identity" "me" {}\n', 1, 'override of data "aws_caller_identity" "me"'),
    "missing_local": ('locals {\n  nope = 1\n}\n', 2, "override of local.nope, which no primary file"),
    "missing_variable": ('variable "nope" {\n  default = 1\n}\n', 1, 'override of variable "nope"'),
    "missing_output": ('output "nope" {\n  value = 1\n}\n', 1, 'override of output "nope"'),
    "missing_module": ('module "nope" {\n  x = 1\n}\n', 1, 'override of module "nope"'),
    "missing_alias": ('provider "aws" {\n  alias  = "west"\n  region = "us-west-2"\n}\n', 1,
                      'override of provider "aws" with alias "west"'),
    "depends_on": ('resource "aws_ecr_repository" "app" {\n  depends_on = [aws_kms_key.k]\n}\n', 2,
                   "depends_on may not be overridden"),
    "output_depends_on": ('output "url" {\n  depends_on = [aws_kms_key.k]\n}\n', 2,
                          "depends_on may not be overridden"),
    "moved": ('moved {\n  from = aws_ecr_repository.old\n  to   = aws_ecr_repository.app\n}\n', 1,
              "Records of moved objects can appear only in normal files"),
    "import": ('import {\n  to = aws_ecr_repository.app\n  id = "app"\n}\n', 1,
               "Import blocks can appear only in normal files"),
    "default_not_a_number": ('variable "retention" {\n  type = number\n}\n', 1,
                             'variable "retention": its default \'thirty\' is not a valid number'),
}

BAD_BASE = {
    "main.tf": BASE_REPO + """\
        resource "aws_kms_key" "k" {
          enable_key_rotation = true
        }

        variable "retention" {
          type    = string
          default = "thirty"
        }

        output "url" {
          value = aws_ecr_repository.app.repository_url
        }
        """,
}


@pytest.mark.parametrize("case", sorted(BAD_OVERRIDES))
def test_what_terraform_rejects_is_an_error_at_the_override(tmp_path, monkeypatch, case):
    text, line, message = BAD_OVERRIDES[case]
    write(tmp_path, {**BAD_BASE, "main_override.tf": text})
    code, report = lint_json(tmp_path, "--select", "ECR003", monkeypatch=monkeypatch)
    assert code == 2
    assert [(e["file"], e["line"]) for e in report["errors"]] == [("main_override.tf", line)]
    assert message in report["errors"][0]["message"]
    # the rest is still linted: the repository's own finding is there
    assert located(report) == {("ECR003", "aws_ecr_repository.app", "main.tf", 3)}


def test_an_empty_depends_on_overrides_nothing(tmp_path, monkeypatch):
    # Terraform accepts `depends_on = []` in an override (it sets no dependency).
    write(tmp_path, {**BAD_BASE, "main_override.tf": 'resource "aws_ecr_repository" "app" {\n  depends_on = []\n}\n'})
    code, report = lint_json(tmp_path, "--select", "ECR003", monkeypatch=monkeypatch)
    assert (code, report["errors"]) == (1, [])


# --- real Terraform as the reference -------------------------------------------------------------------


def _diagnostics(validated: dict) -> set[tuple[str, int]]:
    return {(d["range"]["filename"], d["range"]["start"]["line"]) for d in validated.get("diagnostics", [])
            if d["severity"] == "error" and "range" in d}


@pytest.mark.terraform
@pytest.mark.parametrize("case", sorted(BAD_OVERRIDES))
def test_terraform_rejects_the_same_overrides_at_the_same_place(tf_required, tmp_path, monkeypatch, case):
    import tfharness as h

    text, line, _ = BAD_OVERRIDES[case]
    stack = write(tmp_path / "stack", BAD_BASE)
    with h.TfWorkspace(stack) as ws:
        ws.init()  # on the valid base (init checks the configuration too), then the override
        write(ws.dir, {"main_override.tf": text})
        proc = ws.run("validate", "-json", "-no-color", check=False)
        code, report = lint_json(ws.dir, "--select", "ECR003", monkeypatch=monkeypatch)
    validated = json.loads(proc.stdout)
    assert validated["valid"] is False
    assert _diagnostics(validated) == errors(report) == {("main_override.tf", line)}
    assert code == 2


def _planned_and_linted(tmp_path, monkeypatch, moto_server, files: dict, rules: str) -> tuple[dict, dict, dict]:
    """(Terraform's plan of the stack, ecr-lint's report on the HCL, ecr-lint's report on the plan)."""
    import tfharness as h

    stack = write(tmp_path / "stack", files)
    moto_server.reset()
    with h.TfWorkspace(stack, moto_server.endpoint) as ws:
        ws.init()
        assert ws.validate()["valid"] is True
        plan = ws.show_json(ws.plan("tfplan"))
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps(plan))
    _, from_hcl = lint_json(stack, "--select", rules, monkeypatch=monkeypatch)
    monkeypatch.chdir(stack)
    result = CliRunner().invoke(main, [str(plan_file), "--source-root", ".", "--no-cache", "--format", "json",
                                       "--select", rules], catch_exceptions=False)
    return plan, from_hcl, json.loads(result.output)


@pytest.mark.terraform
def test_the_merged_stack_is_what_terraform_plans(tf_required, moto_server, tmp_path, monkeypatch):
    """ecr-lint's verdicts on the HCL with override files equal its verdicts on Terraform's own plan
    of it (the plan is Terraform's merge), with the same file and line for every finding."""
    plan, from_hcl, from_plan = _planned_and_linted(tmp_path, monkeypatch, moto_server, STACK, RULES)
    assert from_hcl["errors"] == from_plan["errors"] == []
    assert verdicts(from_hcl) == verdicts(from_plan) == EXPECTED
    assert located(from_hcl) == located(from_plan)
    # What Terraform itself merged, read from the plan: the values the verdicts rest on.
    after = {rc["address"]: rc["change"]["after"] for rc in plan["resource_changes"]}
    assert after["aws_ecr_repository.app"]["image_tag_mutability"] == "MUTABLE"
    assert after["aws_ecr_repository.web"]["force_delete"] is False
    assert after["aws_ecr_repository.web"]["image_scanning_configuration"] == [{"scan_on_push": False}]
    assert after["aws_ecr_repository.web"]["encryption_configuration"][0]["encryption_type"] == "AES256"
    assert after["module.extra.aws_ecr_repository.this"]["image_tag_mutability"] == "MUTABLE"
    assert after["aws_ecr_repository.app"]["tags_all"] == {"Owner": "platform", "Environment": "prod"}


FULL_TAGS = {"Owner": "platform", "CostCenter": "cc-1", "Environment": "prod", "Lifecycle": "permanent",
             "DataClass": "internal", "Service": "app"}
JSON_STACK = {
    # A .tf.json base: nested blocks are arguments holding objects; two provider configurations.
    "main.tf.json": json.dumps({
        "provider": {"aws": [
            {"region": "ap-northeast-2", "default_tags": {"tags": FULL_TAGS}},
            {"alias": "west", "region": "us-west-2", "default_tags": {"tags": FULL_TAGS}},
        ]},
        "resource": {"aws_ecr_repository": {
            "json": {"name": "json", "image_tag_mutability": "IMMUTABLE",
                     "image_scanning_configuration": {"scan_on_push": True}},
            "west": {"provider": "aws.west", "name": "west", "image_tag_mutability": "IMMUTABLE",
                     "image_scanning_configuration": {"scan_on_push": True}},
        }},
    }, indent=2) + "\n",
    # An HCL override: count and a block in place of the JSON argument; the aliased provider's tags.
    "override.tf": """\
        resource "aws_ecr_repository" "json" {
          count = 2
          name  = "json-${count.index}"
          image_scanning_configuration {
            scan_on_push = false
          }
        }

        provider "aws" {
          alias = "west"
          default_tags {
            tags = { Owner = "platform", Environment = "prod" }
          }
        }
        """,
}


@pytest.mark.terraform
def test_an_hcl_override_of_a_json_stack_is_what_terraform_plans(tf_required, moto_server, tmp_path, monkeypatch):
    plan, from_hcl, from_plan = _planned_and_linted(tmp_path, monkeypatch, moto_server, JSON_STACK,
                                                    "ECR002,ECR003,ECR007")
    assert from_hcl["errors"] == from_plan["errors"] == []
    expected = {(rule, f"aws_ecr_repository.json[{i}]", status) for i in (0, 1)
                for rule, status in (("ECR002", "fail"), ("ECR003", "pass"), ("ECR007", "pass"))}
    expected |= {("ECR002", "aws_ecr_repository.west", "pass"), ("ECR003", "aws_ecr_repository.west", "pass"),
                 ("ECR007", "aws_ecr_repository.west", "fail")}
    assert verdicts(from_hcl) == verdicts(from_plan) == expected
    assert located(from_hcl) == located(from_plan)
    assert {(r["rule_id"], r["file"], r["line"]) for r in from_hcl["results"] if r["rule_id"] == "ECR002"
            and r["status"] == "fail"} == {("ECR002", "override.tf", 5)}
    after = {rc["address"]: rc["change"]["after"] for rc in plan["resource_changes"]}
    assert after["aws_ecr_repository.json[1]"]["image_scanning_configuration"] == [{"scan_on_push": False}]
    assert after["aws_ecr_repository.west"]["tags_all"] == {"Owner": "platform", "Environment": "prod"}


def test_in_plan_mode_findings_and_suppressions_follow_the_override_too(tmp_path, monkeypatch):
    """A plan's findings take their place from the source: the override's, and a suppression in the
    override block applies to the plan's resource as to the HCL one."""
    import shutil

    from conftest import REPO

    source = tmp_path / "seed"
    shutil.copytree(os.path.join(REPO, "fixtures", "seed_as_written"), source)
    write(source, {"main_override.tf": """\
        # ecr-lint:ignore ECR003 reason="a mirror, tags are upstream's, OPS-3"
        resource "aws_ecr_repository" "fileflow" {
          image_tag_mutability = var.image_tag_mutability
          image_scanning_configuration {
            scan_on_push = var.scan_on_push
          }
        }
        """})
    monkeypatch.chdir(source)
    plan = os.path.join(REPO, "fixtures", "plans", "seed_as_written.plan.json")
    result = CliRunner().invoke(main, [plan, "--source-root", ".", "--no-cache", "--format", "json",
                                       "--select", "ECR002,ECR003"], catch_exceptions=False)
    report = json.loads(result.output)
    assert report["errors"] == []
    override = os.path.relpath(source / "main_override.tf", REPO)  # plan mode: relative to the plan's repository
    assert {(r["rule_id"], r["status"], r["file"], r["line"]) for r in report["results"]} == {
        ("ECR003", "suppressed", override, 3), ("ECR002", "pass", override, 4)}
    assert result.exit_code == 0


def test_a_json_provider_s_default_tags_count(tmp_path, monkeypatch):
    # Found by the plan comparison above: in .tf.json, default_tags is an argument holding an object
    # (or a list of them), which ecr-lint did not read (every tag was reported missing).
    for form in ({"tags": FULL_TAGS}, [{"tags": FULL_TAGS}]):
        write(tmp_path, {"main.tf.json": json.dumps({
            "provider": {"aws": {"region": "ap-northeast-2", "default_tags": form}},
            "resource": {"aws_ecr_repository": {"app": {"name": "app"}}}})})
        code, report = lint_json(tmp_path, "--select", "ECR007", monkeypatch=monkeypatch)
        assert (code, report["errors"]) == (0, [])
        assert verdicts(report) == {("ECR007", "aws_ecr_repository.app", "pass")}
