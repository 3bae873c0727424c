"""Nothing skipped in silence (issue 12, item 14; deferred changes from item 15): unreadable and
dot-directories, symlinked directories, plan entries Terraform never writes, deferred changes."""

from __future__ import annotations

import json
import os
import shutil
import tempfile

import pytest
from click.testing import CliRunner

from ecr_lint.cli import main

from conftest import write

MUTABLE_PROD = ('resource "aws_ecr_repository" "r" {\n  name                 = "r"\n'
                '  image_tag_mutability = "MUTABLE"\n  tags                 = { Environment = "prod" }\n}\n')
KEY_OK = 'resource "aws_kms_key" "k" {\n  enable_key_rotation = true\n}\n'


def run(*args: str) -> tuple[int, dict]:
    result = CliRunner().invoke(main, [*args, "--format", "json", "--no-cache"], catch_exceptions=False)
    return result.exit_code, json.loads(result.stdout)


def found(data: dict) -> set[tuple[str, str, str]]:
    return {(f["rule_id"], f["address"], f["status"]) for f in data["findings"]}


def errors(data: dict, base: str) -> set[tuple[str, int, str]]:
    return {(os.path.relpath(os.path.abspath(e["file"]), base), e["line"], e["message"])
            for e in data["errors"]}


def test_a_dot_directory_is_a_stack_like_any_other_but_terraform_caches_are_not(tmp_path):
    write(tmp_path, {"terraform/.payments/main.tf": MUTABLE_PROD, "terraform/ok/main.tf": KEY_OK,
                     "terraform/ok/.terraform/modules/vendored/main.tf": MUTABLE_PROD.replace('"r"', '"v"'),
                     "terraform/.git/x/main.tf": MUTABLE_PROD.replace('"r"', '"g"'),
                     "terraform/.hidden-files/.draft.tf": MUTABLE_PROD})  # Terraform ignores dot-files
    code, data = run(str(tmp_path / "terraform"), "--select", "ECR003,ECR010")
    assert code == 1 and data["errors"] == []
    assert found(data) == {("ECR003", "aws_ecr_repository.r", "fail")}
    assert {os.path.basename(os.path.dirname(f["file"])) for f in data["findings"]} == {".payments"}
    assert data["summary"]["stacks"] == 2


def _as_nobody(args: list[str]) -> tuple[int, str]:
    """The CLI as a user without the root's right to read every directory: in a forked child of
    this process (its modules already imported; run with --jobs 1, so no worker imports more)
    when running as root, else directly."""
    if os.geteuid() != 0:
        result = CliRunner().invoke(main, args, catch_exceptions=False)
        return result.exit_code, result.output
    CliRunner().invoke(main, args)  # as root: imports every module the run needs, before the fork
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover (the child)
        try:
            os.close(reader)
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            result = CliRunner().invoke(main, args)
            os.write(writer, json.dumps([result.exit_code, result.output]).encode())
        finally:
            os._exit(0)
    os.close(writer)
    with os.fdopen(reader, "rb") as handle:
        data = handle.read()
    os.waitpid(pid, 0)
    code, out = json.loads(data)
    return code, out


def test_an_unreadable_directory_is_an_input_error_and_the_rest_is_linted():
    base = tempfile.mkdtemp(prefix="ecr-lint-unreadable-")  # not under a private 0700 tmp_path
    try:
        os.chmod(base, 0o755)
        write(base, {"stacks/ok/main.tf": KEY_OK, "stacks/locked/payments/main.tf": MUTABLE_PROD})
        for directory, _, files in os.walk(base):
            os.chmod(directory, 0o755)
            for name in files:
                os.chmod(os.path.join(directory, name), 0o644)
        os.chmod(os.path.join(base, "stacks", "locked"), 0)
        code, out = _as_nobody([os.path.join(base, "stacks"), "--select", "ECR003,ECR010", "--format", "json",
                                "--no-cache", "--jobs", "1"])
        assert out.startswith("{"), out
        data = json.loads(out)
    finally:
        os.chmod(os.path.join(base, "stacks", "locked"), 0o755)
        shutil.rmtree(base)
    assert code == 2
    assert [(os.path.relpath(e["file"], base), e["message"]) for e in data["errors"]] == [
        ("stacks/locked", "cannot read this directory (Permission denied): the stacks in it are not linted")]
    assert data["summary"]["stacks"] == 1  # ok/ is still linted


def test_symlinked_directories_are_searched_where_they_are_or_reported(tmp_path):
    write(tmp_path, {"repo/stacks/real/main.tf": KEY_OK, "repo/common/pay/main.tf": MUTABLE_PROD,
                     "outside/secret/main.tf": MUTABLE_PROD.replace('"r"', '"o"')})
    os.mkdir(tmp_path / "repo" / ".git")
    stacks = tmp_path / "repo" / "stacks"
    os.symlink("../common/pay", stacks / "pay")        # elsewhere in the repository: followed
    os.symlink("real", stacks / "alias")               # inside the path: searched where it is
    os.symlink("..", stacks / "up")                    # the repository root: nothing twice
    os.symlink("../../outside/secret", stacks / "out")  # out of the repository: not read, reported
    code, data = run(str(stacks), "--select", "ECR003,ECR010")
    assert code == 2
    assert found(data) == {("ECR003", "aws_ecr_repository.r", "fail")}
    assert data["summary"]["stacks"] == 2
    # paths in JSON are relative to the repository root (tmp_path/repo)
    assert {(e["file"], e["line"], e["message"]) for e in data["errors"]} == {
        ("stacks/out", 0, "symlinked directory leads out of the paths given and their repository: not read")}


def _plan(changes: list[dict], deferred: list[dict] | None = None, **top) -> dict:
    plan = {"format_version": "1.2", "terraform_version": "1.11.4",
            "planned_values": {"root_module": {"resources": []}}, "resource_changes": changes, **top}
    if deferred is not None:
        plan["deferred_changes"] = deferred
    return plan


def _change(name: str, change: dict) -> dict:
    return {"address": f"aws_kms_key.{name}", "mode": "managed", "type": "aws_kms_key", "name": name,
            "provider_name": "registry.terraform.io/hashicorp/aws", "change": change}


NO_ROTATION = {"enable_key_rotation": False}


def test_plan_entries_terraform_never_writes_are_errors_naming_the_line(tmp_path):
    changes = [
        _change("no_actions", {"actions": [], "after": NO_ROTATION}),
        _change("empty_change", {}),
        _change("create_null_after", {"actions": ["create"], "after": None, "after_unknown": {}}),
        _change("update_no_after", {"actions": ["update"]}),
        _change("unknown_action", {"actions": ["explode"], "after": NO_ROTATION}),
        _change("delete_with_after", {"actions": ["delete"], "after": NO_ROTATION}),
        _change("list_after", {"actions": ["create"], "after": [NO_ROTATION]}),
        _change("deleted", {"actions": ["delete"], "before": NO_ROTATION, "after": None}),       # expected
        _change("forgotten", {"actions": ["forget"], "before": NO_ROTATION, "after": None}),     # expected
        _change("replaced", {"actions": ["delete", "create"], "after": NO_ROTATION, "after_unknown": {}}),
        _change("forget_replaced", {"actions": ["create", "forget"], "after": NO_ROTATION, "after_unknown": {}}),
    ]
    write(tmp_path, {"plan.json": json.dumps(_plan(changes), indent=1)})
    lines = {}
    for number, line in enumerate((tmp_path / "plan.json").read_text().splitlines(), 1):
        if line.startswith("  {"):
            lines[len(lines)] = number  # each resource_changes entry's first line
    code, data = run(str(tmp_path / "plan.json"), "--select", "ECR010")
    assert code == 2
    assert found(data) == {("ECR010", "aws_kms_key.replaced", "fail"), ("ECR010", "aws_kms_key.forget_replaced", "fail")}
    assert errors(data, tmp_path) == {
        ("plan.json", lines[0], "resource_changes[0] (aws_kms_key.no_actions) has no actions, which Terraform never "
                                "writes: skipped"),
        ("plan.json", lines[1], "resource_changes[1] (aws_kms_key.empty_change) has no actions, which Terraform "
                                "never writes: skipped"),
        ("plan.json", lines[2], 'resource_changes[2] (aws_kms_key.create_null_after) has actions ["create"] but no '
                                "after value: skipped"),
        ("plan.json", lines[3], 'resource_changes[3] (aws_kms_key.update_no_after) has actions ["update"] but no '
                                "after value: skipped"),
        ("plan.json", lines[4], 'resource_changes[4] (aws_kms_key.unknown_action) has actions ["explode"], which '
                                "Terraform never writes: skipped"),
        ("plan.json", lines[5], "resource_changes[5] (aws_kms_key.delete_with_after) is to be deleted but has an "
                                "after value, which Terraform never writes"),
        ("plan.json", lines[6], "resource_changes[6] (aws_kms_key.list_after) has an after value that is not an "
                                "object: skipped"),
    }


def test_a_change_wholly_unknown_until_apply_as_terraform_writes_it_is_an_error_not_dropped(tmp_path):
    # Terraform omits `after` when the whole object is unknown, and says so in after_unknown.
    plan = _plan([_change("later", {"actions": ["create"], "after_unknown": True}),
                  _change("k", {"actions": ["create"], "after": NO_ROTATION, "after_unknown": {}})])
    write(tmp_path, {"plan.json": json.dumps(plan)})
    code, data = run(str(tmp_path / "plan.json"), "--select", "ECR010")
    assert code == 2 and found(data) == {("ECR010", "aws_kms_key.k", "fail")}
    assert [e["message"] for e in data["errors"]] == [
        "resource_changes[0] (aws_kms_key.later) is known only after apply as a whole: skipped"]


def test_deferred_changes_are_unknowns_with_the_reason_never_dropped(tmp_path):
    deferred = [
        {"reason": "instance_count_unknown", "resource_change": {
            "address": "aws_ecr_repository.per_team[*]", "mode": "managed", "type": "aws_ecr_repository",
            "name": "per_team", "index_unknown": True,
            "change": {"actions": ["create"], "after_unknown": True}}},
        {"reason": "provider_config_unknown", "resource_change": _change(
            "elsewhere", {"actions": ["create"], "after": NO_ROTATION, "after_unknown": {}})},
        {"reason": "resource_config_unknown", "resource_change": _change("going", {"actions": ["delete"]})},
        {"reason": "absent_prereq", "resource_change": {"change": {}}},
    ]
    plan = _plan([_change("k", {"actions": ["create"], "after": {"enable_key_rotation": True}, "after_unknown": {}})],
                 deferred, complete=False)
    write(tmp_path, {"plan.json": json.dumps(plan, indent=1)})
    code, data = run(str(tmp_path / "plan.json"), "--select", "ECR000,ECR010")
    assert code == 2  # the malformed deferred entry
    assert {(f["rule_id"], f["address"], f["status"], f["message"]) for f in data["findings"]} == {
        ("ECR000", "aws_ecr_repository.per_team[*]", "unknown",
         "Terraform deferred this change (instance_count_unknown): it is not in the plan's resource changes, "
         "so no rule checked it"),
        ("ECR000", "aws_kms_key.elsewhere", "unknown",
         "Terraform deferred this change (provider_config_unknown): it is not in the plan's resource changes, "
         "so no rule checked it"),
    }
    assert [(e["message"], e["line"] > 0) for e in data["errors"]] == [
        ("deferred_changes[3] has no address: not checked", True)]


def test_a_plan_marked_errored_is_an_error(tmp_path):
    write(tmp_path, {"plan.json": json.dumps(_plan(
        [_change("k", {"actions": ["create"], "after": NO_ROTATION, "after_unknown": {}})], errored=True))})
    code, data = run(str(tmp_path / "plan.json"), "--select", "ECR010")
    assert code == 2 and found(data) == {("ECR010", "aws_kms_key.k", "fail")}
    assert [e["message"] for e in data["errors"]] == [
        "the plan is marked errored: Terraform stopped planning partway, so resources may be missing from it"]


@pytest.mark.parametrize("actions", [["no-op"], ["read"]])
def test_plan_actions_that_keep_the_object_are_checked(tmp_path, actions):
    write(tmp_path, {"plan.json": json.dumps(_plan(
        [_change("k", {"actions": actions, "before": NO_ROTATION, "after": NO_ROTATION, "after_unknown": {}})]))})
    code, data = run(str(tmp_path / "plan.json"), "--select", "ECR010")
    assert (code, data["errors"]) == (1, []) and found(data) == {("ECR010", "aws_kms_key.k", "fail")}


def test_a_malformed_deferred_change_is_reported_wherever_the_key_stands(tmp_path):
    text = ('{"format_version": "1.2", "deferred_changes": [{"reason": 7, "resource_change": '
            + json.dumps(_change("x", {"actions": ["create"]})) + '}], "resource_changes": '
            + json.dumps([_change("k", {"actions": ["create"], "after": NO_ROTATION, "after_unknown": {}})]) + "}")
    write(tmp_path, {"plan.json": text})
    code, data = run(str(tmp_path / "plan.json"), "--select", "ECR000,ECR010")
    assert code == 2 and found(data) == {("ECR010", "aws_kms_key.k", "fail")}
    assert [(e["message"], e["line"]) for e in data["errors"]] == [
        ("deferred_changes[0] has a reason that is not a string: not checked", 1)]
