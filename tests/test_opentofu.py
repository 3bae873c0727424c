"""OpenTofu: `.tofu` and `.tofu.json` files read as OpenTofu reads them, and plans written by
`tofu show -json`. No `tofu` binary can be installed here (no registry ships one), so its plans are
made from a real Terraform plan reshaped exactly as OpenTofu's writer (internal/command/jsonplan)
shapes them: its provider addresses, and its ephemeral resources."""

from __future__ import annotations

import copy
import json
import os
import re

import yaml
from click.testing import CliRunner

from ecr_lint.changed import stacks_for
from ecr_lint.cli import main

from conftest import REPO, write

REPOSITORY = """\
    resource "aws_ecr_repository" "app" {
      name                 = "app"
      image_tag_mutability = "%s"
    }
    """


def lint_json(directory, *args: str, monkeypatch, cache: bool = False) -> tuple[int, dict]:
    monkeypatch.chdir(directory)
    extra = [] if cache else ["--no-cache"]
    result = CliRunner().invoke(main, [".", "--format", "json", *extra, *args], catch_exceptions=False)
    return result.exit_code, json.loads(result.output)


def located(report: dict) -> set[tuple[str, str, str, str, int]]:
    return {(r["rule_id"], r["address"], r["status"], r["file"], r["line"]) for r in report["results"]
            if r["status"] != "pass"}


def test_a_folder_of_only_tofu_files_is_a_stack(tmp_path, monkeypatch):
    # Before: "no .tf files found here", exit 2, nothing linted.
    key = {"resource": {"aws_kms_key": {"k": {"enable_key_rotation": False}}}}
    write(tmp_path, {"main.tofu": REPOSITORY % "MUTABLE", "more.tofu.json": json.dumps(key)})
    code, report = lint_json(tmp_path, "--select", "ECR003,ECR010", monkeypatch=monkeypatch)
    assert (code, report["errors"]) == (1, [])
    assert located(report) == {("ECR003", "aws_ecr_repository.app", "fail", "main.tofu", 3),
                               ("ECR010", "aws_kms_key.k", "fail", "more.tofu.json", 0)}
    assert report["summary"]["stacks"] == 1


def test_x_tofu_replaces_x_tf_and_the_shadowed_file_is_said(tmp_path, monkeypatch):
    # OpenTofu reads main.tofu instead of main.tf (and variables.tofu.json instead of
    # variables.tf.json); other .tf files are read too. Terraform reads no .tofu file, so what
    # main.tf declares is not checked: an input error (exit 2), never passed in silence.
    write(tmp_path, {
        "main.tf": REPOSITORY % "MUTABLE",
        "main.tofu": REPOSITORY % "IMMUTABLE",
        "variables.tf.json": json.dumps({"variable": {"mutability": {"default": "MUTABLE"}}}),
        "variables.tofu.json": json.dumps({"variable": {"mutability": {"default": "IMMUTABLE"}}}),
        "other.tf": REPOSITORY.replace('"app"', '"other"') % "${var.mutability}",
    })
    code, report = lint_json(tmp_path, "--select", "ECR000,ECR003", monkeypatch=monkeypatch)
    assert {(os.path.basename(e["file"]), e["line"]) for e in report["errors"]} == {("main.tf", 0),
                                                                                  ("variables.tf.json", 0)}
    statuses = {(r["rule_id"], r["address"]): r["status"] for r in report["results"]}
    assert statuses[("ECR003", "aws_ecr_repository.app")] == "pass"
    assert statuses[("ECR003", "aws_ecr_repository.other")] == "pass"  # var from variables.tofu.json
    message = next(e["message"] for e in report["errors"] if e["file"].endswith("main.tf"))
    assert "OpenTofu reads main.tofu in its place, but Terraform reads main.tf" in message
    assert code == 2  # fail closed: the gate does not pass until one of the two is kept


def test_tofu_override_files_are_merged(tmp_path, monkeypatch):
    override = 'resource "aws_ecr_repository" "app" {\n  image_tag_mutability = "MUTABLE"\n}\n'
    write(tmp_path, {"main.tofu": REPOSITORY % "IMMUTABLE", "main_override.tofu": override})
    code, report = lint_json(tmp_path, "--select", "ECR003", monkeypatch=monkeypatch)
    assert (code, report["errors"]) == (1, [])
    assert located(report) == {("ECR003", "aws_ecr_repository.app", "fail", "main_override.tofu", 2)}


def test_a_tofu_file_named_on_the_command_line_means_its_stack(tmp_path, monkeypatch):
    write(tmp_path, {"stack/main.tofu": REPOSITORY % "MUTABLE"})
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["stack/main.tofu", "--no-cache", "--select", "ECR003"], catch_exceptions=False)
    assert result.exit_code == 1
    assert "stack/main.tofu:3  error  ECR003  aws_ecr_repository.app" in result.output


def test_a_new_tofu_file_invalidates_the_result_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    stack = tmp_path / "stack"
    write(stack, {"main.tf": REPOSITORY % "IMMUTABLE"})
    assert lint_json(stack, "--select", "ECR003", monkeypatch=monkeypatch, cache=True)[0] == 0
    write(stack, {"extra.tofu": REPOSITORY.replace('"app"', '"extra"') % "MUTABLE"})
    code, report = lint_json(stack, "--select", "ECR003", monkeypatch=monkeypatch, cache=True)
    assert code == 2  # a .tofu file beside .tf files: see the next test
    assert located(report) == {("ECR003", "aws_ecr_repository.extra", "fail", "extra.tofu", 3)}


def test_a_tofu_file_beside_tf_files_is_an_input_error(tmp_path, monkeypatch):
    """Terraform never reads a .tofu file: an IMMUTABLE override.tofu (or a lifecycle policy only
    in a .tofu file) beside .tf files would pass ecr-lint while Terraform applies the .tf files
    alone. Which tool applies the folder is unknown: exit 2, naming the file; the rest is linted."""
    override = 'resource "aws_ecr_repository" "app" {\n  image_tag_mutability = "IMMUTABLE"\n}\n'
    write(tmp_path, {"main.tf": REPOSITORY % "MUTABLE", "main_override.tofu": override})
    code, report = lint_json(tmp_path, "--select", "ECR003", monkeypatch=monkeypatch)
    assert code == 2
    assert [(os.path.basename(e["file"]), e["line"]) for e in report["errors"]] == [("main_override.tofu", 0)]
    assert "is read by OpenTofu only: Terraform ignores every .tofu file" in report["errors"][0]["message"]


def test_changed_tofu_files_lint_their_stack(tmp_path):
    write(tmp_path, {"stacks/a/main.tofu": REPOSITORY % "MUTABLE", "stacks/a/env/prod.tfvars": 'x = 1\n',
                     "stacks/b/main.tf": REPOSITORY % "IMMUTABLE"})
    wanted, context = stacks_for([str(tmp_path / "stacks/a/main.tofu")], str(tmp_path), cache=False)
    assert wanted == [str(tmp_path / "stacks" / "a")]
    assert context == [str(tmp_path / "stacks" / "b")]


def test_the_pre_commit_hooks_pass_tofu_files():
    # the lint hook is given every changed file (a stack reads more than .tf files: test_precommit.py)
    with open(os.path.join(REPO, ".pre-commit-hooks.yaml"), encoding="utf-8") as handle:
        lint, fix = yaml.safe_load(handle)
    assert "files" not in lint and lint["always_run"] is True
    files = re.compile(fix["files"])
    assert [n for n in ("main.tofu", "x.tofu.json", "main.tf", "a.tf.json", "p.tfvars", "p.tfvars.json",
                        "notes.md", "main.tofu.bak") if files.search(n)] == \
        ["main.tofu", "x.tofu.json", "main.tf", "a.tf.json", "p.tfvars", "p.tfvars.json"]


# --- plans written by `tofu show -json` -----------------------------------------------------------

SEED = os.path.join(REPO, "fixtures", "seed_as_written")
SEED_PLAN = os.path.join(REPO, "fixtures", "plans", "seed_as_written.plan.json")
TOFU_AWS = "registry.opentofu.org/hashicorp/aws"

EPHEMERAL_CHANGE = {  # what OpenTofu writes for `ephemeral "aws_secretsmanager_secret_version" "db"`
    "address": "ephemeral.aws_secretsmanager_secret_version.db", "mode": "ephemeral",
    "type": "aws_secretsmanager_secret_version", "name": "db", "provider_name": TOFU_AWS,
    "change": {"actions": ["open"], "before": None, "after": None, "after_unknown": {},
               "before_sensitive": False, "after_sensitive": False},
}


def tofu_plan(plan: dict) -> dict:
    """A Terraform plan as OpenTofu writes it: the same format_version (1.2) and keys
    (terraform_version holds OpenTofu's version), OpenTofu's registry in every provider
    address, and its ephemeral resources in resource_changes and planned_values."""
    plan = copy.deepcopy(plan)
    plan["terraform_version"] = "1.9.1"
    text = json.dumps(plan).replace("registry.terraform.io/hashicorp/aws", TOFU_AWS)
    plan = json.loads(text)
    plan["resource_changes"].append(copy.deepcopy(EPHEMERAL_CHANGE))
    plan["planned_values"]["root_module"]["resources"].append({
        "address": EPHEMERAL_CHANGE["address"], "mode": "ephemeral", "type": EPHEMERAL_CHANGE["type"],
        "name": "db", "provider_name": TOFU_AWS, "schema_version": 0, "sensitive_values": {}})
    return plan


def lint_plan(plan: dict, path, monkeypatch) -> tuple[int, dict]:
    path.write_text(json.dumps(plan))
    monkeypatch.chdir(REPO)
    result = CliRunner().invoke(main, [str(path), "--source-root", SEED, "--no-cache", "--format", "json"],
                                catch_exceptions=False)
    return result.exit_code, json.loads(result.output)


def test_a_tofu_plan_gives_what_the_terraform_plan_gives(tmp_path, monkeypatch):
    with open(SEED_PLAN, encoding="utf-8") as handle:
        plan = json.load(handle)
    terraform_code, from_terraform = lint_plan(plan, tmp_path / "terraform.json", monkeypatch)
    code, from_tofu = lint_plan(tofu_plan(plan), tmp_path / "tofu.json", monkeypatch)
    assert from_tofu["errors"] == from_terraform["errors"] == []
    assert code == terraform_code == 1
    assert {(r["rule_id"], r["address"], r["status"], r["file"], r["line"]) for r in from_tofu["results"]} == \
        {(r["rule_id"], r["address"], r["status"], r["file"], r["line"]) for r in from_terraform["results"]}
    assert not any(r["address"].startswith("ephemeral.") for r in from_tofu["results"])


def test_an_ephemeral_resource_with_a_change_opentofu_never_writes_is_an_error(tmp_path, monkeypatch):
    with open(SEED_PLAN, encoding="utf-8") as handle:
        plan = tofu_plan(json.load(handle))
    plan["resource_changes"][-1]["change"].update(actions=["create"], after={"secret_string": "x"})
    code, report = lint_plan(plan, tmp_path / "tofu.json", monkeypatch)
    assert code == 2
    assert [e["message"] for e in report["errors"]] == [
        f"resource_changes[{len(plan['resource_changes']) - 1}] (ephemeral.aws_secretsmanager_secret_version.db) "
        "is an ephemeral resource with a change OpenTofu never writes: skipped"]
