"""What feeds a stack, as Terraform sets it (issue 13, items 4-6), through the real CLI: TF_VAR_
environment variables and their precedence, values parsed by the variable's type (checked against
real terraform), --no-env, var files per stack, undeclared values, the workspace an environment
is derived from, and the inputs each stack used in the JSON and SARIF reports."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from conftest import write

SECRET = "s3cr3tTOKEN-4711-never-shown"


def cli(*args: str, env: dict | None = None, cache: str | None = None, cwd: str | None = None,
        fmt: str = "json") -> tuple[int, object, str]:
    """ecr-lint in a subprocess with these extra environment variables: exit code, report, stderr."""
    environ = {**os.environ, **(env or {})}
    if cache:
        environ["XDG_CACHE_HOME"] = cache
    extra = [] if cache else ["--no-cache"]
    done = subprocess.run([sys.executable, "-m", "ecr_lint", *args, "--format", fmt, *extra], capture_output=True,
                          text=True, env=environ, cwd=cwd, timeout=120)
    assert done.returncode in (0, 1, 2), done.stderr
    return done.returncode, json.loads(done.stdout) if fmt in ("json", "sarif", "gitlab") else done.stdout, done.stderr


def status(data: dict, rule: str = "ECR003") -> dict[str, str]:
    """address -> status of `rule`."""
    return {r["address"]: r["status"] for r in data["results"] if r["rule_id"] == rule}


def stack_of(data: dict, stack: str) -> dict:
    return next(entry for entry in data["inputs"] if entry["stack"] == stack)


ENV_STACK = '''
variable "environment" {
  type    = string
  default = "dev"
}
resource "aws_ecr_repository" "app" {
  name                 = "app"
  image_tag_mutability = "MUTABLE"
  tags                 = { Environment = var.environment }
}
'''


# --- item 5: TF_VAR_ ------------------------------------------------------------------------------------

def test_tf_var_sets_a_variable_and_no_env_turns_it_off(tmp_path):
    write(tmp_path, {"main.tf": ENV_STACK})
    code, data, _ = cli(str(tmp_path), "--select", "ECR003", env={"TF_VAR_environment": "prod"})
    assert (code, status(data)) == (1, {"aws_ecr_repository.app": "fail"})
    assert "environment 'prod' from the Environment tag" in data["findings"][0]["message"]
    code, data, _ = cli(str(tmp_path), "--select", "ECR003", "--no-env", env={"TF_VAR_environment": "prod"})
    assert (code, status(data)) == (0, {"aws_ecr_repository.app": "pass"})
    assert [entry["sources"] for entry in data["inputs"]] == [[]]


def test_precedence_defaults_env_tfvars_auto_var_files_var(tmp_path):
    """Each layer overrides the one below it: the verdict flips with every layer taken away."""
    write(tmp_path, {"stack/main.tf": ENV_STACK,
                     "stack/terraform.tfvars": 'environment = "dev"\n',
                     "stack/a.auto.tfvars": 'environment = "prod"\n',
                     "stack/b.auto.tfvars.json": '{"environment": "staging"}',
                     "one.tfvars": 'environment = "prod"\n', "two.tfvars": 'environment = "qa"\n'})
    stack = str(tmp_path / "stack")
    env = {"TF_VAR_environment": "production"}
    layers = [  # (what is given, the verdict)
        (["--var-file", str(tmp_path / "one.tfvars"), "--var-file", str(tmp_path / "two.tfvars"),
          "--var", "environment=prd"], "fail"),                                       # --var wins
        (["--var-file", str(tmp_path / "one.tfvars"), "--var-file", str(tmp_path / "two.tfvars")], "pass"),  # qa
        (["--var-file", str(tmp_path / "one.tfvars")], "fail"),                       # the first var file: prod
        ([], "pass"),                                                                  # b.auto after a.auto: staging
    ]
    for args, verdict in layers:
        assert status(cli(stack, "--select", "ECR003", *args, env=env)[1]) == {"aws_ecr_repository.app": verdict}, args
    os.remove(tmp_path / "stack" / "b.auto.tfvars.json")
    assert status(cli(stack, "--select", "ECR003", env=env)[1]) == {"aws_ecr_repository.app": "fail"}  # a.auto: prod
    os.remove(tmp_path / "stack" / "a.auto.tfvars")
    assert status(cli(stack, "--select", "ECR003", env=env)[1]) == {"aws_ecr_repository.app": "pass"}  # tfvars: dev
    os.remove(tmp_path / "stack" / "terraform.tfvars")
    assert status(cli(stack, "--select", "ECR003", env=env)[1]) == {"aws_ecr_repository.app": "fail"}  # TF_VAR_
    assert status(cli(stack, "--select", "ECR003")[1]) == {"aws_ecr_repository.app": "pass"}  # the default: dev


PARSE_STACK = '''
variable "s" {
  type = string
}
variable "untyped" {}
variable "n" {
  type = number
}
variable "b" {
  type = bool
}
variable "l" {
  type = list(string)
}
variable "m" {
  type = map(string)
}
variable "a" {
  type = any
}
'''
PARSE_VALUES = {"s": '"quoted"', "untyped": "[1, 2]", "n": "12", "b": "1",
                "l": '["x", "y"]', "m": '{ k = "v" }', "a": "{ x = [1, true] }"}


def _terraform_console(directory: str, env: dict, args: list[str] = ()) -> object:
    """What terraform itself makes of the values (terraform console, no provider needed)."""
    expression = "jsonencode({" + ", ".join(f"{n} = var.{n}" for n in PARSE_VALUES) + "})"
    done = subprocess.run(["terraform", "console", *args], input=expression, capture_output=True, text=True,
                          cwd=directory, env={**os.environ, **env}, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(json.loads(done.stdout.strip().splitlines()[-1]))


def _ecr_lint_values(directory: str, env: dict, var_args: dict) -> object:
    from ecr_lint.config import Config
    from ecr_lint.hcl.evaluate import deep_plain
    from ecr_lint.runner import Work, load_hcl

    old = dict(os.environ)
    os.environ.update(env)
    try:
        stack, inputs, _ = load_hcl(Work("hcl", directory, (directory,)), Config(variables=var_args), None, {})
    finally:
        os.environ.clear()
        os.environ.update(old)
    assert inputs.problems == []
    return {name: deep_plain(stack.variables[name]) for name in PARSE_VALUES}


@pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not on PATH")
def test_tf_var_and_var_values_are_parsed_as_terraform_parses_them(tmp_path):
    """The raw text for a primitive type or none (`"quoted"` keeps its quotes, `[1, 2]` stays a
    string), an HCL expression for the rest; the same for --var. Checked against terraform."""
    write(tmp_path, {"main.tf": PARSE_STACK})
    env = {f"TF_VAR_{name}": value for name, value in PARSE_VALUES.items()}
    expected = _terraform_console(str(tmp_path), env)
    assert expected["s"] == '"quoted"' and expected["untyped"] == "[1, 2]" and expected["b"] is True
    assert _ecr_lint_values(str(tmp_path), env, {}) == expected
    args = [f"-var={name}={value}" for name, value in PARSE_VALUES.items()]
    assert _terraform_console(str(tmp_path), {}, args) == expected
    assert _ecr_lint_values(str(tmp_path), {}, dict(PARSE_VALUES)) == expected


SENSITIVE_STACK = '''
variable "partner" {
  type      = string
  sensitive = true
}
variable "rotation" {
  type      = number
  sensitive = true
}
variable "labels" {
  type      = map(string)
  sensitive = true
}
resource "aws_ecr_repository" "app" {
  name                 = "app"
  image_tag_mutability = "IMMUTABLE"
  tags                 = merge(var.labels, { Environment = var.rotation })
}
resource "aws_ecr_repository_policy" "app" {
  repository = aws_ecr_repository.app.name
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "ecr:*", Principal = { AWS = var.partner } }]
  })
}
'''


def test_a_tf_var_for_a_sensitive_variable_is_used_and_never_printed(tmp_path):
    """Marked sensitive (the variable says so): the checks use it (ECR004/ECR005 fail on it), no
    format prints it, not even where it is not a valid value for its type."""
    write(tmp_path, {"main.tf": SENSITIVE_STACK})
    env = {"TF_VAR_partner": f"arn:aws:iam::999988887777:role/{SECRET}", "TF_VAR_rotation": SECRET,
           "TF_VAR_labels": f'{{ Owner = "{SECRET}" ', "TF_VAR_unused": SECRET}
    for fmt in ("text", "json", "sarif", "github", "junit", "gitlab"):
        code, out, err = cli(str(tmp_path), env=env, fmt=fmt)
        text = out if isinstance(out, str) else json.dumps(out)
        assert code == 2, fmt
        assert SECRET not in text + err and "999988887777" not in text + err, fmt
    code, data, _ = cli(str(tmp_path), env=env)
    assert {(r["rule_id"], r["status"]) for r in data["results"] if r["address"] == "aws_ecr_repository_policy.app"
            and r["rule_id"] in ("ECR004", "ECR005")} == {("ECR004", "fail"), ("ECR005", "fail")}
    assert {(e["file"].rsplit("/", 1)[-1], e["line"], e["message"]) for e in data["errors"]} == {
        ("main.tf", 6, 'TF_VAR_rotation: not a valid value for variable "rotation" (a number is required; '
                       "the value is not shown: it may be secret)"),
        ("main.tf", 10, 'TF_VAR_labels: not a valid value for variable "labels": a variable of a complex type takes '
                        'an HCL expression, such as ["a"] or { key = "value" } (the value is not shown: it may be '
                        "secret)"),
    }


def test_the_result_cache_sees_tf_var_values_and_never_keeps_them(tmp_path):
    """A changed TF_VAR_ value is a cache miss; the values are only hashed into the cache's keys (a
    value that no message prints is nowhere in the cache)."""
    write(tmp_path, {"stack/main.tf": ENV_STACK + 'variable "token" {}\n'})
    cache = str(tmp_path / "cache")
    stack = str(tmp_path / "stack")
    for value, verdict in (("dev", "pass"), ("prod", "fail"), ("prod", "fail"), ("dev", "pass"), ("prod", "fail")):
        env = {"TF_VAR_environment": value, "TF_VAR_token": SECRET}
        assert status(cli(stack, "--select", "ECR003", env=env, cache=cache)[1]) == \
            {"aws_ecr_repository.app": verdict}, value
    assert status(cli(stack, "--select", "ECR003", "--no-env", env={"TF_VAR_environment": "prod"},
                      cache=cache)[1]) == {"aws_ecr_repository.app": "pass"}
    stored = b"".join(open(os.path.join(d, f), "rb").read() for d, _, files in os.walk(cache) for f in files)
    assert b"aws_ecr_repository.app" in stored and SECRET.encode() not in stored


def test_json_and_sarif_list_every_input_a_stack_used_by_name(tmp_path):
    write(tmp_path, {"stack/main.tf": ENV_STACK + 'variable "owner" {\n  default = "x"\n}\n'
                                     'variable "team" {\n  default = "x"\n}\n',
                     "stack/terraform.tfvars": 'owner = "a"\n',
                     "stack/x.auto.tfvars.json": '{"team": "b"}',
                     "stack/env/prod.tfvars": 'environment = "prod"\nteam = "c"\n',
                     "shared.tfvars": 'owner = "d"\n',
                     ".ecr-lint.toml": 'var_files = ["env/prod.tfvars"]\n'})
    write(tmp_path, {"stack/.terraform/environment": "prod\n"})
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)  # the config is found from the repository root
    code, data, _ = cli("stack", "--select", "ECR003", "--var-file", "shared.tfvars", "--var", f"owner={SECRET}",
                        env={"TF_VAR_team": SECRET, "TF_VAR_not_declared": SECRET}, cwd=str(tmp_path))
    assert code == 1 and SECRET not in json.dumps(data)
    expected = {
        "stack": "stack",
        "workspace": {"name": "prod", "from": ".terraform/environment"},
        "sources": [
            {"kind": "environment", "name": "TF_VAR_team", "variables": ["team"]},
            {"kind": "file", "file": "stack/terraform.tfvars", "via": "auto", "variables": ["owner"]},
            {"kind": "file", "file": "stack/x.auto.tfvars.json", "via": "auto", "variables": ["team"]},
            {"kind": "file", "file": "stack/env/prod.tfvars", "via": ".ecr-lint.toml", "variables": ["environment", "team"]},
            {"kind": "file", "file": "shared.tfvars", "via": "--var-file", "variables": ["owner"]},
            {"kind": "command line", "name": "--var owner", "variables": ["owner"]},
        ],
    }
    assert data["inputs"] == [expected]
    _, sarif, _ = cli("stack", "--select", "ECR003", "--var-file", "shared.tfvars", "--var", f"owner={SECRET}",
                      env={"TF_VAR_team": SECRET}, cwd=str(tmp_path), fmt="sarif")
    assert sarif["runs"][0]["properties"]["inputs"] == [expected]


# --- item 6: var files per stack, undeclared values ---------------------------------------------------------

MONOREPO = {
    "stacks/search/main.tf": ENV_STACK.replace('"app"', '"search"').replace(".app", ".search"),
    "stacks/search/env/prod.tfvars": 'environment = "prod"\n',
    "stacks/billing/main.tf": ENV_STACK.replace('"app"', '"billing"').replace(".app", ".billing"),
    "stacks/billing/env/dev.tfvars": 'environment = "dev"\n',
}


def test_a_var_file_inside_a_stack_applies_to_that_stack_only(tmp_path):
    write(tmp_path, MONOREPO)
    code, data, _ = cli(".", "--select", "ECR003", "--var-file", "stacks/search/env/prod.tfvars", cwd=str(tmp_path))
    assert (code, status(data), data["warnings"]) == (
        1, {"aws_ecr_repository.search": "fail", "aws_ecr_repository.billing": "pass"}, [])
    assert stack_of(data, "stacks/billing")["sources"] == []


def test_a_var_file_outside_every_stack_applies_to_all(tmp_path):
    write(tmp_path, {**MONOREPO, "env/prod.tfvars": 'environment = "prod"\n'})
    code, data, _ = cli(".", "--select", "ECR003", "--var-file", "env/prod.tfvars", cwd=str(tmp_path))
    assert (code, status(data)) == (1, {"aws_ecr_repository.search": "fail", "aws_ecr_repository.billing": "fail"})


def test_config_var_files_are_each_stacks_own(tmp_path):
    write(tmp_path, {**MONOREPO, ".ecr-lint.toml": 'var_files = ["env/prod.tfvars"]\n'})
    code, data, _ = cli(".", "--select", "ECR003", cwd=str(tmp_path))
    assert (code, status(data), data["warnings"], data["errors"]) == (
        1, {"aws_ecr_repository.search": "fail", "aws_ecr_repository.billing": "pass"}, [], [])
    # No stack has it: a warning naming the config file, which does not fail the run by itself.
    write(tmp_path, {".ecr-lint.toml": 'var_files = ["env/staging.tfvars"]\n'})
    code, data, _ = cli(".", "--select", "ECR003", cwd=str(tmp_path))
    assert (code, status(data), data["errors"]) == (
        0, {"aws_ecr_repository.search": "pass", "aws_ecr_repository.billing": "pass"}, [])
    assert data["warnings"] == [{"file": ".ecr-lint.toml", "line": 0, "message": "var_files: env/staging.tfvars is in "
                                 "no linted stack's directory, nor beside the config file: not read"}]


def test_a_value_for_an_undeclared_variable_is_a_warning_naming_file_and_line(tmp_path):
    write(tmp_path, {"stack/main.tf": ENV_STACK, "stack/terraform.tfvars": 'environment = "dev"\n\nenviromnent = "prod"\n',
                     "extra.tfvars.json": '{\n  "environment": "dev",\n  "regoin": "eu-west-1"\n}\n'})
    code, data, _ = cli("stack", "--select", "ECR003", "--var-file", "extra.tfvars.json", cwd=str(tmp_path))
    assert (code, status(data), data["errors"]) == (0, {"aws_ecr_repository.app": "pass"}, [])
    declares = "the stack stack declares no variable of that name, so the value is ignored (Terraform warns too)"
    assert {(w["file"].rsplit("/", 1)[-1], w["line"], w["message"]) for w in data["warnings"]} == {
        ("terraform.tfvars", 3, f'value for undeclared variable "enviromnent": {declares}'),
        ("extra.tfvars.json", 3, f'value for undeclared variable "regoin": {declares}'),
    }
    assert data["summary"]["warnings"] == 2 and data["summary"]["errors"] == 0
    # Shown in every format, failing none.
    stack = str(tmp_path / "stack")
    code, text, _ = cli(stack, "--select", "ECR003", fmt="text")
    assert code == 0 and "terraform.tfvars:3: warning: value for undeclared variable \"enviromnent\"" in text
    code, sarif, _ = cli(stack, "--select", "ECR003", fmt="sarif")
    notes = sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert code == 0 and [(n["level"], n["locations"][0]["physicalLocation"]["region"]["startLine"]) for n in notes] \
        == [("warning", 3)]
    code, github, _ = cli(stack, "--select", "ECR003", fmt="github")
    assert code == 0 and "::warning file=" in github and ",line=3,title=ecr-lint input warning::" in github
    code, junit, _ = cli(stack, "--select", "ECR003", fmt="junit")
    assert code == 0 and 'errors="0"' in junit and "<skipped message=\"warning: value for undeclared" in junit
    code, gitlab, _ = cli(stack, "--select", "ECR003", fmt="gitlab")
    assert code == 0 and [(i["check_name"], i["severity"]) for i in gitlab] == [("input-warning", "minor")]
    # A warning never hides an error: with a broken file beside it, the run still fails with 2.
    write(tmp_path, {"stack/broken.auto.tfvars": "environment = \n"})
    assert cli(stack, "--select", "ECR003")[0] == 2


def test_a_var_for_an_undeclared_variable_is_an_error_as_in_terraform(tmp_path):
    write(tmp_path, {"main.tf": ENV_STACK})
    code, data, _ = cli(str(tmp_path), "--select", "ECR003", "--var", "enviroment=prod")
    assert code == 2 and status(data) == {"aws_ecr_repository.app": "pass"}
    assert [(e["line"], e["message"]) for e in data["errors"]] == [
        (0, '--var enviroment=...: this stack declares no variable named "enviroment" (Terraform stops here; to '
            "force the environment of every stack, use --environment)")]
    # TF_VAR_ for an undeclared variable: ignored in silence, as Terraform does.
    code, data, _ = cli(str(tmp_path), "--select", "ECR003", env={"TF_VAR_enviroment": "prod"})
    assert (code, data["errors"], data["warnings"]) == (0, [], [])


# --- item 4: an environment derived from the workspace -------------------------------------------------------

WORKSPACE_STACK = '''
locals {
  stage = terraform.workspace
}
provider "aws" {
  default_tags {
    tags = { env = local.stage }
  }
}
resource "aws_ecr_repository" "tagged" {
  provider             = aws.plain
  name                 = "tagged"
  image_tag_mutability = "MUTABLE"
  tags                 = { Environment = "${terraform.workspace}" }
}
resource "aws_ecr_repository" "by_default_tags" {
  name                 = "by-default-tags"
  image_tag_mutability = "MUTABLE"
}
module "service" {
  source      = "./service"
  providers   = { aws = aws.plain }
  environment = upper(local.stage)
}
provider "aws" {
  alias = "plain"
}
resource "aws_ecr_repository" "literal" {
  provider             = aws.plain
  name                 = "literal"
  image_tag_mutability = "MUTABLE"
  tags                 = { Environment = "dev" }
}
'''
SERVICE = '''
variable "environment" {}
resource "aws_ecr_repository" "this" {
  name                 = "service"
  image_tag_mutability = "MUTABLE"
}
'''
DERIVED = ("aws_ecr_repository.tagged", "aws_ecr_repository.by_default_tags", "module.service.aws_ecr_repository.this")


def test_an_environment_from_the_workspace_is_not_assumed_to_be_default(tmp_path):
    """Tagged with the workspace (directly, through a local and default_tags, through a module's
    variable): with no workspace given, the environment is unknown, treated as production by default,
    and the message says why; with the workspace known, the verdict is exact."""
    write(tmp_path, {"stack/main.tf": WORKSPACE_STACK, "stack/service/main.tf": SERVICE})
    stack = str(tmp_path / "stack")
    code, data, _ = cli(stack, "--select", "ECR003")
    assert (code, status(data)) == (1, {**{a: "fail" for a in DERIVED}, "aws_ecr_repository.literal": "pass"})
    messages = {f["address"]: f["message"] for f in data["findings"]}
    why = ("depends on terraform.workspace, and no workspace was given: Terraform's 'default' would be a guess "
           "(give it with --workspace or TF_WORKSPACE, or run `terraform workspace select`)")
    assert messages["aws_ecr_repository.tagged"] == (
        'image_tag_mutability = "MUTABLE" in production (unknown environment treated as production '
        f"(the Environment tag {why})): tags can be overwritten")
    assert f"var.environment {why}" in messages["module.service.aws_ecr_repository.this"]
    assert data["inputs"][0]["workspace"] == {"name": "default", "from": "default"}
    # With unknown_environment = "unknown", an unknown verdict instead of a failure: never a pass.
    write(tmp_path, {"stack/.ecr-lint.toml": 'unknown_environment = "unknown"\n'})
    code, data, _ = cli(stack, "--select", "ECR003", cwd=stack)
    assert status(data) == {**{a: "unknown" for a in DERIVED}, "aws_ecr_repository.literal": "pass"}
    os.remove(tmp_path / "stack" / ".ecr-lint.toml")
    for how, env, verdict in ((["--workspace", "prod"], {}, "fail"), (["--workspace", "dev"], {}, "pass"),
                              (["--workspace", "default"], {}, "pass"),
                              ([], {"TF_WORKSPACE": "prod"}, "fail"), ([], {"TF_WORKSPACE": "default"}, "pass")):
        code, data, _ = cli(stack, "--select", "ECR003", *how, env=env)
        assert status(data) == {**{a: verdict for a in DERIVED}, "aws_ecr_repository.literal": "pass"}, (how, env)
    write(tmp_path, {"stack/.terraform/environment": "staging\n"})
    code, data, _ = cli(stack, "--select", "ECR003")
    assert (code, status(data)) == (0, {**{a: "pass" for a in DERIVED}, "aws_ecr_repository.literal": "pass"})
    assert data["inputs"][0]["workspace"] == {"name": "staging", "from": ".terraform/environment"}


def test_the_result_cache_tells_a_given_default_workspace_from_an_assumed_one(tmp_path):
    write(tmp_path, {"stack/main.tf": WORKSPACE_STACK, "stack/service/main.tf": SERVICE})
    cache = str(tmp_path / "cache")
    stack = str(tmp_path / "stack")
    for env, verdict in (({}, "fail"), ({"TF_WORKSPACE": "default"}, "pass"), ({}, "fail")):
        assert status(cli(stack, "--select", "ECR003", env=env, cache=cache)[1])["aws_ecr_repository.tagged"] == \
            verdict, env
