"""Variable values converted to their declared type as Terraform converts them (hcl/types.py),
through the real CLI: collections, objects, sets, list/tuple equality, optional() defaults,
nullable, and values Terraform rejects. Two stacks are checked against real `terraform console`."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from click.testing import CliRunner

from conftest import write
from ecr_lint.cli import main

REPO = '''
resource "aws_ecr_repository" "app" {
  name                 = "app"
  image_tag_mutability = local.mutability
  tags                 = { Environment = "prod" }
}
'''


def lint(path, *args: str) -> tuple[int, dict]:
    result = CliRunner().invoke(main, [str(path), "--format", "json", "--no-cache", "--select", "ECR003", *args])
    assert result.exit_code in (0, 1, 2), result.output
    return result.exit_code, json.loads(result.stdout)


def outcome(data: dict) -> set[tuple[str, str, str]]:
    return {(r["rule_id"], r["address"], r["status"]) for r in data["results"]}


def errors(data: dict) -> list[str]:
    return [f'{os.path.basename(e["file"])}:{e["line"]}: {e["message"]}' for e in data["errors"]]


FAIL = {("ECR003", "aws_ecr_repository.app", "fail")}


def stack(tmp_path, variables: str, mutability: str, tfvars: str = "") -> None:
    files = {"main.tf": variables + f"\nlocals {{\n  mutability = {mutability}\n}}\n" + REPO}
    if tfvars:
        files["terraform.tfvars"] = tfvars
    write(tmp_path, files)


def test_map_of_string_converts_numbers(tmp_path):
    stack(tmp_path, 'variable "m" {\n  type = map(string)\n}', 'var.m.a == "1" ? "MUTABLE" : "IMMUTABLE"',
          "m = { a = 1 }\n")
    code, data = lint(tmp_path)
    assert (code, outcome(data), errors(data)) == (1, FAIL, [])


def test_object_type_drops_undeclared_attributes(tmp_path):
    stack(tmp_path, 'variable "o" {\n  type = object({ a = string })\n  default = { a = "x", b = "y" }\n}',
          'length(var.o) == 1 ? "MUTABLE" : "IMMUTABLE"')
    code, data = lint(tmp_path)
    assert (code, outcome(data), errors(data)) == (1, FAIL, [])


def test_set_is_deduplicated(tmp_path):
    stack(tmp_path, 'variable "s" {\n  type = set(string)\n}', 'length(var.s) == 1 ? "MUTABLE" : "IMMUTABLE"',
          's = ["a", "a"]\n')
    code, data = lint(tmp_path)
    assert (code, outcome(data), errors(data)) == (1, FAIL, [])


def test_list_compared_with_a_tuple_is_not_guessed(tmp_path):
    """Terraform: a list(string) is never == a tuple literal (false). ecr-lint cannot always tell a
    list from a tuple, so the comparison is unknown (the repository is not passed); two lists of
    the same declared type are compared."""
    stack(tmp_path, 'variable "tiers" {\n  type = list(string)\n}\nvariable "same" {\n  type = list(string)\n}',
          'var.tiers == ["prod"] ? "IMMUTABLE" : "MUTABLE"', 'tiers = ["prod"]\nsame = ["prod"]\n')
    code, data = lint(tmp_path)
    assert outcome(data) == {("ECR003", "aws_ecr_repository.app", "unknown")}, data["results"]
    stack(tmp_path, 'variable "tiers" {\n  type = list(string)\n}\nvariable "same" {\n  type = list(string)\n}',
          'var.tiers == var.same ? "MUTABLE" : "IMMUTABLE"', 'tiers = ["prod"]\nsame = ["prod"]\n')
    code, data = lint(tmp_path)
    assert (code, outcome(data), errors(data)) == (1, FAIL, [])


def test_optional_attribute_defaults(tmp_path):
    variables = '''
variable "cfg" {
  type = object({
    mutability = optional(string, "MUTABLE")
    scanning   = optional(bool)
  })
  default = {}
}'''
    stack(tmp_path, variables, 'var.cfg.scanning == null ? var.cfg.mutability : "IMMUTABLE"')
    code, data = lint(tmp_path)
    assert (code, outcome(data), errors(data)) == (1, FAIL, [])


def test_nested_optional_defaults_in_a_map_of_objects(tmp_path):
    """terraform-aws-modules style: for_each over a map of objects whose settings are optional."""
    write(tmp_path, {"main.tf": '''
variable "repos" {
  type = map(object({
    mutability = optional(string, "MUTABLE")
    rules      = optional(list(object({ keep = optional(number, 5) })), [])
  }))
}
resource "aws_ecr_repository" "r" {
  for_each             = var.repos
  name                 = each.key
  image_tag_mutability = each.value.rules[0].keep == 5 ? each.value.mutability : "IMMUTABLE"
  tags                 = { Environment = "prod" }
}
''', "terraform.tfvars": 'repos = { a = { rules = [{}] }, b = { mutability = "IMMUTABLE", rules = [{}] } }\n'})
    code, data = lint(tmp_path)
    assert (code, outcome(data), errors(data)) == (1, {("ECR003", 'aws_ecr_repository.r["a"]', "fail"),
                                                      ("ECR003", 'aws_ecr_repository.r["b"]', "pass")}, [])


def test_tuple_list_of_objects_and_list_of_any(tmp_path):
    variables = '''
variable "t" {
  type = tuple([string, bool])
}
variable "lo" {
  type = list(object({ n = number }))
}
variable "la" {
  type = list(any)
}
variable "whatever" {
  type = any
}'''
    stack(tmp_path, variables, 'var.t[1] == true && var.lo[0].n == 2 && var.la[0] == "1" && '
                               'length(var.whatever) == 2 ? "MUTABLE" : "IMMUTABLE"',
          't = ["x", "true"]\nlo = [{ n = "2", extra = 1 }]\nla = [1, "a"]\nwhatever = [1, "a"]\n')
    code, data = lint(tmp_path)
    assert (code, outcome(data), errors(data)) == (1, FAIL, [])


def test_null_for_a_non_nullable_variable_takes_its_default(tmp_path):
    variables = '''
variable "mut" {
  type     = string
  default  = "MUTABLE"
  nullable = false
}
variable "maybe" {
  type    = string
  default = "x"
}'''
    stack(tmp_path, variables, 'var.maybe == null ? (var.mut == null ? "IMMUTABLE" : var.mut) : "IMMUTABLE"',
          "mut = null\nmaybe = null\n")
    code, data = lint(tmp_path)
    assert (code, outcome(data), errors(data)) == (1, FAIL, [])


def test_module_arguments_are_converted_and_rejected_values_are_input_errors(tmp_path):
    write(tmp_path, {"main.tf": '''
module "repo" {
  source = "./repo"
  cfg    = { keep = 1 }
}
module "bad" {
  source = "./repo"
  cfg    = { mutability = "IMMUTABLE", keep = "many" }
}
''', "repo/main.tf": '''
variable "cfg" {
  type = object({
    mutability = optional(string, "MUTABLE")
    keep       = number
  })
}
resource "aws_ecr_repository" "app" {
  name                 = "app"
  image_tag_mutability = var.cfg.mutability
  tags                 = { Environment = "prod" }
}
'''})
    code, data = lint(tmp_path)
    assert code == 2
    assert outcome(data) == {("ECR003", "module.repo.aws_ecr_repository.app", "fail"),
                             ("ECR003", "module.bad.aws_ecr_repository.app", "unknown")}
    assert errors(data) == ['main.tf:8: invalid value for input variable "cfg": the given value is not suitable for '
                            'var.cfg declared at repo/main.tf:2: attribute "keep": a number is required']


def test_tfvars_value_that_does_not_convert_names_the_file_and_line(tmp_path):
    stack(tmp_path, 'variable "n" {\n  type = list(number)\n}', 'length(var.n) > 0 ? "IMMUTABLE" : "MUTABLE"',
          '\nn = [1, "two"]\n')
    code, data = lint(tmp_path)
    assert code == 2
    assert outcome(data) == {("ECR003", "aws_ecr_repository.app", "unknown")}
    assert errors(data) == ['terraform.tfvars:2: invalid value for input variable "n": the given value is not '
                            'suitable for var.n declared at main.tf:1: element [1]: a number is required']


# --- against real terraform ---------------------------------------------------------------------------

def _terraform_value(tf: str, directory, expression: str) -> object:
    init = subprocess.run([tf, "init", "-backend=false", "-plugin-dir=/opt/tf-plugins", "-input=false"],
                          cwd=directory, capture_output=True, text=True, timeout=300)
    assert init.returncode == 0, init.stderr
    done = subprocess.run([tf, "console"], input=f"jsonencode({expression})", capture_output=True, text=True,
                          cwd=directory, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(json.loads(done.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("case", ["map_set_object", "optional_nested"])
def test_agrees_with_terraform_console(tmp_path, tf_required, case):
    if case == "map_set_object":
        variables = '''
variable "m" {
  type = map(string)
}
variable "s" {
  type = set(string)
}
variable "o" {
  type = object({ a = string })
}'''
        probe = 'var.m.a == "1" && length(var.s) == 1 && length(var.o) == 1'
        tfvars = 'm = { a = 1 }\ns = ["a", "a"]\no = { a = "x", b = "y" }\n'
    else:
        variables = '''
variable "repos" {
  type = map(object({
    mutability = optional(string, "MUTABLE")
    rules      = optional(list(object({ keep = optional(number, 5) })), [])
  }))
  default = { a = { rules = [{}] } }
}'''
        probe = 'var.repos.a.mutability == "MUTABLE" && var.repos.a.rules[0].keep == 5'
        tfvars = ""
    stack(tmp_path, variables, f'{probe} ? "MUTABLE" : "IMMUTABLE"', tfvars)
    expected = _terraform_value(tf_required, tmp_path, "local.mutability")
    assert expected == "MUTABLE"
    code, data = lint(tmp_path)
    assert (code, outcome(data), errors(data)) == (1, FAIL, [])
