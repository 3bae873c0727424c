"""The command line: exit codes, formats, errors that name file and line."""

from __future__ import annotations

import json
import os

import pytest
from click.testing import CliRunner

from ecr_lint import catalog
from ecr_lint.cli import main

from conftest import REPO, write

SEED = os.path.join(REPO, "fixtures", "seed_as_written")
SHIPPED = os.path.join(REPO, "terraform", "ecr")


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_shipped_stack_exits_zero():
    result = run(SHIPPED)
    assert result.exit_code == 0, result.output
    assert result.output.endswith("0 findings (0 errors, 0 warnings), 24 passed, 0 suppressed, 0 input errors\n"
                                  "result: passed (exit 0)\n")


def test_seed_as_written_fails_with_exit_one_and_shows_file_line_rule_address_fix():
    result = run(SEED)
    assert result.exit_code == 1
    assert "fixtures/seed_as_written/main.tf:3  error  ECR003  aws_ecr_repository.fileflow" in result.output
    assert "    set at: fixtures/seed_as_written/variables.tf:40: default of var.image_tag_mutability\n" in result.output
    assert ("    fix: change it at fixtures/seed_as_written/variables.tf:40 (default of var.image_tag_mutability): "
            "Set `image_tag_mutability") in result.output


def test_json_output_contract():
    result = run(SEED, "--format", "json")
    data = json.loads(result.output)
    assert data["schema_version"] == "2.0"
    assert [(f["rule_id"], f["address"], f["status"], f["severity"]) for f in data["findings"]] == [
        ("ECR014", "aws_ecr_repository.fileflow", "fail", "warning"),
        ("ECR003", "aws_ecr_repository.fileflow", "fail", "error")]
    finding = data["findings"][1]
    assert finding["file"].endswith("fixtures/seed_as_written/main.tf") and finding["line"] == 3
    statuses = {(r["rule_id"], r["address"]): r["status"] for r in data["results"]}
    assert statuses[("ECR001", "aws_ecr_repository.fileflow")] == "pass"
    assert statuses[("ECR007", "aws_ssm_parameter.repository_url")] == "pass"
    assert data["errors"] == []
    assert data["summary"]["failed"] == 2


def test_fail_on_never_and_ignore_and_select():
    assert run(SEED, "--fail-on", "never").exit_code == 0
    assert run(SEED, "--ignore", "ECR003").exit_code == 0
    assert run(SEED, "--select", "ECR001,ECR002").exit_code == 0
    assert run(SEED, "--select", "ECR003").exit_code == 1
    assert run(SEED, "--ignore", "ECR003", "--fail-on", "warning").exit_code == 1  # ECR014 is a warning


def test_environment_option_overrides():
    assert run(SEED, "--environment", "dev").exit_code == 0


def test_var_and_var_file(tmp_path):
    assert run(SEED, "--var", "image_tag_mutability=IMMUTABLE").exit_code == 0
    write(tmp_path, {"dev.tfvars": 'environment = "dev"\n'})
    assert run(SEED, "--var-file", str(tmp_path / "dev.tfvars")).exit_code == 0


def test_warning_threshold(tmp_path):
    stack = write(tmp_path, {"main.tf": 'variable "k" {}\nresource "aws_kms_key" "k" {\n  enable_key_rotation = var.k\n}\n'})
    assert run(stack, "--select", "ECR010").exit_code == 1          # unknown fails closed: counted as the failure it may be (ECR010 is an error)
    relaxed = write(tmp_path / "cfg", {"ecr-lint.toml": 'unknown_values = "warning"\n'})
    config = ["--config", f"{relaxed}/ecr-lint.toml"]
    assert run(stack, "--select", "ECR010", *config).exit_code == 0  # a warning when the config says so
    assert run(stack, "--select", "ECR010", *config, "--fail-on", "warning").exit_code == 1


def test_unknown_rule_id_is_a_usage_error():
    result = CliRunner().invoke(main, [SEED, "--select", "ECR999"])
    assert result.exit_code == 2
    assert "unknown rule id(s): ECR999" in result.output


def test_missing_path_and_empty_directory_are_input_errors(tmp_path):
    result = run(str(tmp_path / "nope"))
    assert result.exit_code == 2
    assert "nope: error: no such file or directory" in result.output
    result = run(str(tmp_path))
    assert result.exit_code == 2
    assert "no .tf files found here" in result.output


def test_broken_file_is_an_error_with_file_and_line_and_the_rest_is_still_linted(tmp_path):
    write(tmp_path / "broken", {"main.tf": 'resource "aws_kms_key" "k" {\n  enable_key_rotation = true\n  description = \n}\n'})
    write(tmp_path / "good", {"main.tf": 'resource "aws_kms_key" "k" {\n  enable_key_rotation = false\n}\n'})
    result = run(str(tmp_path), "--select", "ECR010", "--format", "json")
    assert result.exit_code == 2  # an input failed, even though findings exist too
    data = json.loads(result.output)
    assert [(os.path.basename(os.path.dirname(e["file"])), e["line"]) for e in data["errors"]] == [("broken", 3)]
    assert "unexpected" in data["errors"][0]["message"]
    assert [(f["rule_id"], os.path.basename(os.path.dirname(f["file"]))) for f in data["findings"]] == [("ECR010", "good")]


def test_crashing_rule_is_reported_as_internal_error_with_exit_three(monkeypatch):
    rules = catalog.load_rules()

    def boom(resource, ctx):
        raise RuntimeError("bad predicate")

    import dataclasses
    broken = [dataclasses.replace(r, predicate=boom) if r.id == "ECR002" else r for r in rules]
    monkeypatch.setattr(catalog, "load_rules", lambda *a, **k: broken)
    result = CliRunner().invoke(main, [SEED, "--format", "json"])
    assert result.exit_code == 3
    data = json.loads(result.output)
    assert any(e["kind"] == "internal" and "rule ECR002 crashed" in e["message"] for e in data["errors"])
    assert ("ECR003", "aws_ecr_repository.fileflow") in {(f["rule_id"], f["address"]) for f in data["findings"]}


def test_rules_and_explain():
    listing = run("rules", "--").output  # (this repository holds a rules/ folder)
    assert "ECR003  immutable-tags-in-production" in listing
    explained = run("explain", "ECR003")
    assert explained.exit_code == 0 and "Fails:" in explained.output and "IMMUTABLE" in explained.output
    assert CliRunner().invoke(main, ["explain", "ECR404"]).exit_code == 2


def test_python_dash_m_and_version():
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "ecr_lint", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.startswith("ecr-lint, version ")


def test_broken_rule_file_names_file_and_field(tmp_path):
    write(tmp_path, {"ECR901.yaml": "id: ECR901\nname: Bad Name\nseverity: error\n"})
    with pytest.raises(catalog.RuleFileError) as info:
        catalog.load_rules([str(tmp_path)])
    message = str(info.value)
    assert message.startswith(str(tmp_path / "ECR901.yaml"))
    assert "is a required property" in message or "name" in message


def test_an_unexpected_failure_is_exit_three_with_one_line_not_a_traceback(monkeypatch):
    import ecr_lint.api

    def broken(*args, **kwargs):
        raise OSError("disk vanished")

    monkeypatch.setattr(ecr_lint.api, "execute", broken)
    result = CliRunner().invoke(main, [SEED])
    assert result.exit_code == 3
    assert "ecr-lint: internal error: OSError: disk vanished" in result.output
    assert "Traceback" not in result.output


def test_output_file_is_left_alone_when_the_report_cannot_be_built(tmp_path, monkeypatch):
    from ecr_lint.reporters import json as json_reporter

    def broken(report):
        raise RuntimeError("boom")

    monkeypatch.setattr(json_reporter, "as_dict", broken)
    target = tmp_path / "report.json"
    target.write_text('{"previous": "report"}')
    result = CliRunner().invoke(main, [os.path.join(REPO, "terraform", "ecr"), "--format", "json", "-o", str(target)])
    assert result.exit_code != 0
    assert target.read_text() == '{"previous": "report"}'
