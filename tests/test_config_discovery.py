"""Config discovery (issue 12, item 11): the walk stops at the repository root and never reads a
config from a directory anyone may write to; nested configs extend the root config and may only
tighten it; every report names the config files used and what they relaxed."""

from __future__ import annotations

import json
import os

from click.testing import CliRunner

from ecr_lint.cli import main

from conftest import write

MUTABLE_PROD = ('resource "aws_ecr_repository" "r" {\n  name                 = "r"\n'
                '  image_tag_mutability = "MUTABLE"\n  tags                 = { Environment = "prod" }\n}\n')
KEY_NO_ROTATION = 'resource "aws_kms_key" "k" {\n  enable_key_rotation = false\n}\n'


def run(*args: str, cwd=None):
    old = os.getcwd()
    os.chdir(cwd or old)
    try:
        return CliRunner().invoke(main, [*args, "--no-cache"], catch_exceptions=False)
    finally:
        os.chdir(old)


def findings(result) -> set[tuple[str, str, str]]:
    data = json.loads(result.stdout)
    return {(f["rule_id"], f["address"], f["status"]) for f in data["findings"]}


def test_a_config_above_the_repository_is_not_used(tmp_path):
    write(tmp_path, {".ecr-lint.toml": 'ignore = ["ECR003"]\n', "repo/stack/main.tf": MUTABLE_PROD})
    os.mkdir(tmp_path / "repo" / ".git")
    result = run(str(tmp_path / "repo" / "stack"), "--select", "ECR003", "--format", "json")
    assert result.exit_code == 1 and findings(result) == {("ECR003", "aws_ecr_repository.r", "fail")}
    assert json.loads(result.stdout)["config"]["files"] == []


def test_outside_a_repository_only_the_linted_directory_is_read(tmp_path):
    write(tmp_path, {".ecr-lint.toml": 'ignore = ["ECR003"]\n', "checkout/stack/main.tf": MUTABLE_PROD})
    result = run(str(tmp_path / "checkout" / "stack"), "--select", "ECR003", "--format", "json",
                 cwd=str(tmp_path / "checkout"))
    assert result.exit_code == 1 and findings(result) == {("ECR003", "aws_ecr_repository.r", "fail")}
    write(tmp_path, {"checkout/stack/.ecr-lint.toml": 'ignore = ["ECR003"]\n'})
    result = run(str(tmp_path / "checkout" / "stack"), "--select", "ECR003,ECR001", "--format", "json")
    assert findings(result) == {("ECR001", "aws_ecr_repository.r", "fail")}  # its own file is its config


def test_a_shared_directory_anyone_may_write_to_is_neither_a_repository_nor_a_config(tmp_path):
    shared = tmp_path / "tmp"  # like /tmp on a shared runner: another user planted both
    write(shared, {".ecr-lint.toml": 'ignore = ["ECR003"]\n', "checkout/stack/main.tf": MUTABLE_PROD})
    os.mkdir(shared / ".git")
    os.chmod(shared, 0o1777)
    try:
        result = run(str(shared / "checkout" / "stack"), "--select", "ECR003", "--format", "json")
        assert result.exit_code == 1 and findings(result) == {("ECR003", "aws_ecr_repository.r", "fail")}
        # Linting the shared directory itself: its config is found, not read, and the report says so.
        result = run(str(shared), "--select", "ECR003", "--format", "json")
        text = run(str(shared), "--select", "ECR003", cwd=str(shared)).stdout
    finally:
        os.chmod(shared, 0o755)
    assert result.exit_code == 2 and findings(result) == {("ECR003", "aws_ecr_repository.r", "fail")}
    assert [(os.path.realpath(e["file"]), e["message"]) for e in json.loads(result.stdout)["errors"]] == [
        (os.path.realpath(shared / ".ecr-lint.toml"), "config file not read: anyone may write to its directory "
         f"(it could be anyone's); pass --config {shared / '.ecr-lint.toml'} to use it")]
    skipped = json.loads(result.stdout)["config"]["skipped"]
    assert [(os.path.realpath(s["file"]), s["reason"]) for s in skipped] == [
        (os.path.realpath(shared / ".ecr-lint.toml"), "not read: anyone may write to its directory")]
    assert "config: .ecr-lint.toml not read: anyone may write to its directory" in text


def _team_repo(tmp_path, nested: str) -> str:
    write(tmp_path, {
        ".ecr-lint.toml": 'non_suppressible = ["ECR003"]\nfail_on = "error"\n',
        "terraform/fileflow/.ecr-lint.toml": nested,
        "terraform/fileflow/main.tf": '# ecr-lint:ignore ECR003 reason="PR says so"\n' + MUTABLE_PROD,
    })
    os.mkdir(tmp_path / ".git")
    return str(tmp_path / "terraform" / "fileflow")


def test_a_nested_config_cannot_relax_the_root_config_and_each_attempt_is_an_error_naming_file_and_line(tmp_path):
    stack = _team_repo(tmp_path, 'non_suppressible = []\nignore = ["ECR003"]\nfail_on = "never"\n'
                                 'severity = { ECR003 = "info" }\nenvironment = "dev"\nexclude = ["**/fileflow"]\n'
                                 'unknown_values = "pass"\nallowed_accounts = ["999999999999"]\n')
    result = run(stack, "--select", "ECR003,ECR092", "--format", "json")
    data = json.loads(result.stdout)
    assert result.exit_code == 2  # input errors, and the finding is still there
    assert findings(result) == {("ECR003", "aws_ecr_repository.r", "fail"), ("ECR092", "aws_ecr_repository.r", "fail")}
    nested = "terraform/fileflow/.ecr-lint.toml"  # paths in JSON are relative to the repository root
    assert {(e["file"] == nested, e["line"], e["message"].split(": ", 1)[1])
            for e in data["errors"]} == {
        (True, 2, "ignore adds ECR003; not applied (set it in the root config)"),
        (True, 3, "fail_on = 'never' is looser than 'error'; not applied (set it in the root config)"),
        (True, 4, "severity ECR003 = 'info' is lower than 'error'; not applied (set it in the root config)"),
        (True, 5, "environment is set only by the root config; not applied (set it in the root config)"),
        (True, 6, "exclude adds **/fileflow; not applied (set it in the root config)"),
        (True, 7, "unknown_values = 'pass' is looser than 'fail'; not applied (set it in the root config)"),
        (True, 8, "allowed_accounts adds 999999999999; not applied (set it in the root config)"),
    }
    assert all(e["message"].startswith(f"a nested config may only tighten the root config {tmp_path / '.ecr-lint.toml'}")
               for e in data["errors"])
    # The root's non_suppressible still holds: the inline suppression does not apply (ECR092 says so).
    statuses = {(r["rule_id"], r["status"]) for r in data["results"]}
    assert ("ECR003", "fail") in statuses and ("ECR092", "fail") in statuses


def test_a_nested_config_extends_and_tightens(tmp_path):
    stack = _team_repo(tmp_path, 'fail_on = "warning"\nrequired_tags = ["Team"]\nseverity = { ECR014 = "error" }\n'
                                 'non_suppressible = ["ECR007"]\n')
    result = run(stack, "--select", "ECR003,ECR007,ECR014", "--format", "json")
    data = json.loads(result.stdout)
    assert result.exit_code == 1 and data["errors"] == []
    messages = {f["rule_id"]: (f["severity"], f["message"]) for f in data["findings"]}
    assert "Team" in messages["ECR007"][1] and "Owner" in messages["ECR007"][1]  # the root's tags and the nested one
    assert messages["ECR014"][0] == "error" and messages["ECR003"][0] == "error"
    assert data["config"]["files"] == [".ecr-lint.toml", "terraform/fileflow/.ecr-lint.toml"]


def test_every_report_names_the_config_files_and_what_they_relaxed(tmp_path):
    write(tmp_path, {
        ".ecr-lint.toml": 'ignore = ["ECR009"]\nseverity = { ECR003 = "info" }\nenvironment = "dev"\n'
                          'exclude = ["**/legacy"]\nunknown_values = "pass"\nfail_on = "never"\n'
                          'required_tags = ["Owner"]\n',
        "stack/main.tf": KEY_NO_ROTATION,
    })
    os.mkdir(tmp_path / ".git")
    expected = {
        ("ignore", "ignore = ECR009"),
        ("severity", "severity ECR003 = info (rule default error)"),
        ("environment", "environment = 'dev'"),
        ("exclude", "exclude = **/legacy"),
        ("unknown_values", "unknown_values = pass (default fail)"),
        ("fail_on", "fail_on = never (default error)"),
        ("required_tags", "required_tags leaves out CostCenter, Environment, Lifecycle, DataClass, Service"),
    }
    result = run(str(tmp_path / "stack"), "--format", "json")
    config = json.loads(result.stdout)["config"]
    assert config["files"] == [".ecr-lint.toml"]  # relative to the repository root, whatever the working directory
    assert {(r["setting"], r["detail"]) for r in config["relaxed"]} == expected
    assert {r["source"] for r in config["relaxed"]} == {".ecr-lint.toml"}
    sarif = json.loads(run(str(tmp_path / "stack"), "--format", "sarif").stdout)
    assert {(r["setting"], r["detail"]) for r in sarif["runs"][0]["properties"]["config"]["relaxed"]} == expected
    text = run("stack", cwd=str(tmp_path)).stdout
    assert "\nconfig: .ecr-lint.toml\n" in text
    assert {line.split(" (from ")[0] for line in text.splitlines() if line.startswith("relaxed: ")} == \
        {f"relaxed: {detail}" for _, detail in expected}
    # The command line's relaxations are named too.
    cli = json.loads(run(str(tmp_path / "stack"), "--format", "json", "--select", "ECR010").stdout)["config"]
    assert {"setting": "select", "value": ["ECR010"], "detail": "select = ECR010 (19 other rule(s) not run)",
            "source": "command line"} in cli["relaxed"]


def test_an_explicit_config_file_is_used_as_it_is_and_alone(tmp_path):
    write(tmp_path, {".ecr-lint.toml": 'ignore = ["ECR010"]\n', "ci.toml": 'fail_on = "never"\n',
                     "stack/.ecr-lint.toml": 'fail_on = "warning"\n', "stack/main.tf": KEY_NO_ROTATION})
    os.mkdir(tmp_path / ".git")
    result = run(str(tmp_path / "stack"), "--config", str(tmp_path / "ci.toml"), "--format", "json", "--select", "ECR010")
    data = json.loads(result.stdout)
    # Neither the root's ignore nor the nested fail_on: only ci.toml, whose fail_on = never is trusted.
    assert result.exit_code == 0 and findings(result) == {("ECR010", "aws_kms_key.k", "fail")} and data["errors"] == []
    assert data["config"]["files"] == ["ci.toml"]
    assert ("fail_on", "ci.toml") in {(r["setting"], r["source"]) for r in data["config"]["relaxed"]}


def test_every_setting_says_how_a_nested_config_may_change_it():
    from ecr_lint.config import _schema

    kinds = {"union", "subset", "at-most", "raise", "root"}
    for key, spec in _schema()["properties"].items():
        kind = spec.get("x-nested")
        assert (isinstance(kind, str) and kind in kinds) or \
            (isinstance(kind, dict) and set(kind["order"]) == set(spec["enum"])), key
