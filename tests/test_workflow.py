"""Team workflow through the real CLI: config, suppressions, baseline, custom rules."""

from __future__ import annotations

import json
import os

from click.testing import CliRunner

from ecr_lint.cli import main

from conftest import REPO, write

KEY_NO_ROTATION = 'resource "aws_kms_key" "k" {\n  enable_key_rotation = false\n}\n'


def run(*args: str, cwd=None):
    runner = CliRunner()
    if cwd is not None:
        old = os.getcwd()
        os.chdir(cwd)
    try:
        return runner.invoke(main, list(args), catch_exceptions=False)
    finally:
        if cwd is not None:
            os.chdir(old)


def findings(output: str) -> set[tuple[str, str, str]]:
    data = json.loads(output)
    return {(f["rule_id"], f["address"], f["status"]) for f in data["findings"]}


def results(output: str, status: str) -> list[dict]:
    return [r for r in json.loads(output)["results"] if r["status"] == status]


# --- config ------------------------------------------------------------------------------

def test_config_file_found_walking_up_and_cli_overrides_it(tmp_path):
    write(tmp_path, {".ecr-lint.toml": 'select = ["ECR010"]\nseverity = { ECR010 = "warning" }\n',
                     "stacks/a/main.tf": KEY_NO_ROTATION})
    os.mkdir(tmp_path / ".git")  # the walk up stops at the repository root (tests/test_output_safety.py)
    result = run(str(tmp_path / "stacks"), "--format", "json")
    assert result.exit_code == 0  # ECR010 is only a warning here
    assert findings(result.output) == {("ECR010", "aws_kms_key.k", "fail")}
    assert json.loads(result.output)["findings"][0]["severity"] == "warning"
    assert run(str(tmp_path / "stacks"), "--fail-on", "warning").exit_code == 1
    assert run(str(tmp_path / "stacks"), "--select", "ECR001").exit_code == 0  # CLI beats the file


def test_pyproject_tool_table_and_explicit_config(tmp_path):
    write(tmp_path, {"pyproject.toml": '[project]\nname = "x"\n\n[tool.ecr-lint]\nignore = ["ECR010", "ECR007"]\n',
                     "main.tf": KEY_NO_ROTATION, "other.toml": 'select = ["ECR010"]\n'})
    # (an explicit --config replaces the file found by walking up)
    assert run(str(tmp_path)).exit_code == 0
    assert run(str(tmp_path), "--config", str(tmp_path / "other.toml")).exit_code == 1


def test_config_errors_name_file_key_and_expectation(tmp_path):
    write(tmp_path, {"main.tf": KEY_NO_ROTATION})
    cases = {
        'fail_on = "sometimes"\n': "fail_on: 'sometimes' is not one of ['error', 'warning', 'never']",
        'required_tags = "Owner"\n': "required_tags: 'Owner' is not of type 'array'",
        'allowed_accounts = ["12345"]\n': "allowed_accounts.0: '12345' does not match '^[0-9]{12}$'",
        'selekt = ["ECR001"]\n': "unknown setting 'selekt'",
        'select = [\n': "not valid TOML",
    }
    for text, expected in cases.items():
        write(tmp_path, {".ecr-lint.toml": text})
        result = CliRunner().invoke(main, [str(tmp_path)])
        assert result.exit_code == 2, text
        assert str(tmp_path / ".ecr-lint.toml") in result.output and expected in result.output, result.output


def test_config_settings_change_verdicts(tmp_path):
    write(tmp_path, {
        ".ecr-lint.toml": 'required_tags = ["Team"]\nproduction_environments = ["live"]\n'
                          'allowed_accounts = ["111122223333"]\nselect = ["ECR003", "ECR005", "ECR007"]\n',
        "main.tf": '''
resource "aws_ecr_repository" "r" {
  name                 = "r"
  image_tag_mutability = "MUTABLE"
  tags                 = { Team = "platform", Environment = "prod" }
}
resource "aws_ecr_repository_policy" "p" {
  repository = "r"
  policy = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = ["ecr:BatchGetImage"],
    Principal = { AWS = "arn:aws:iam::111122223333:root" } }] })
}
'''})
    result = run(str(tmp_path), "--format", "json")
    # "prod" is not production here, Team is the only required tag, the account is allowed
    assert findings(result.output) == set()
    assert result.exit_code == 0
    statuses = {(r["rule_id"], r["address"]): r["status"] for r in json.loads(result.output)["results"]}
    assert statuses[("ECR003", "aws_ecr_repository.r")] == "pass"
    assert statuses[("ECR005", "aws_ecr_repository_policy.p")] == "pass"


def test_exclude_paths(tmp_path):
    write(tmp_path, {".ecr-lint.toml": 'exclude = ["legacy/*"]\n', "legacy/old/main.tf": KEY_NO_ROTATION,
                     "new/main.tf": 'resource "aws_kms_key" "k" {\n  enable_key_rotation = true\n}\n'})
    result = run(str(tmp_path), "--format", "json", "--select", "ECR010")
    assert result.exit_code == 0
    assert json.loads(result.output)["summary"]["stacks"] == 1


# --- suppressions ---------------------------------------------------------------------------

def test_inline_suppression_with_reason_is_visible_as_suppressed(tmp_path):
    write(tmp_path, {"main.tf": '# ecr-lint:ignore ECR010 reason="imported key, SEC-7" until=2999-12-31\n' + KEY_NO_ROTATION})
    result = run(str(tmp_path), "--select", "ECR010,ECR090,ECR091,ECR092", "--format", "json")
    assert result.exit_code == 0 and findings(result.output) == set()
    suppressed = results(result.output, "suppressed")
    assert [(r["rule_id"], r["suppression"]["reason"], r["suppression"]["kind"]) for r in suppressed] == [
        ("ECR010", "imported key, SEC-7", "inSource")]
    sarif = json.loads(run(str(tmp_path), "--select", "ECR010", "--format", "sarif").output)
    assert sarif["runs"][0]["results"][0]["suppressions"] == [
        {"kind": "inSource", "status": "accepted", "justification": "imported key, SEC-7"}]


def test_missing_reason_expired_and_unused_suppressions_are_findings(tmp_path):
    write(tmp_path, {"main.tf": '''
# ecr-lint:ignore ECR010
resource "aws_kms_key" "no_reason" {
  enable_key_rotation = false
}

resource "aws_kms_key" "expired" { # ecr-lint:ignore ECR010 reason="migration" until=2020-01-01
  enable_key_rotation = false
}

// ecr-lint:ignore ECR010 reason="rotation by HSM team"
resource "aws_kms_key" "fixed_since" {
  enable_key_rotation = true
}
'''})
    result = run(str(tmp_path), "--select", "ECR010,ECR090,ECR091,ECR092", "--format", "json")
    assert findings(result.output) == {
        ("ECR090", "aws_kms_key.no_reason", "fail"),
        ("ECR010", "aws_kms_key.expired", "fail"),     # expired: it no longer suppresses
        ("ECR091", "aws_kms_key.expired", "fail"),
        ("ECR092", "aws_kms_key.fixed_since", "fail"),
    }
    lines = {(f["rule_id"], f["line"]) for f in json.loads(result.output)["findings"]}
    assert ("ECR090", 2) in lines and ("ECR091", 7) in lines and ("ECR092", 11) in lines


def test_non_suppressible_rules_cannot_be_suppressed(tmp_path):
    write(tmp_path, {".ecr-lint.toml": 'non_suppressible = ["ECR010"]\n',
                     "main.tf": '# ecr-lint:ignore ECR010 reason="please"\n' + KEY_NO_ROTATION})
    result = run(str(tmp_path), "--select", "ECR010,ECR092", "--format", "json")
    assert findings(result.output) == {("ECR010", "aws_kms_key.k", "fail"), ("ECR092", "aws_kms_key.k", "fail")}
    assert "cannot be suppressed" in json.dumps(json.loads(result.output)["findings"])


def test_checkov_tfsec_and_trivy_comments_are_honoured(tmp_path):
    write(tmp_path, {"main.tf": '''
resource "aws_ecr_repository" "a" {
  #checkov:skip=CKV_AWS_51:mirror of an upstream image, tags follow upstream
  name                 = "a"
  image_tag_mutability = "MUTABLE"
}
#tfsec:ignore:aws-ecr-enforce-immutable-repository
resource "aws_ecr_repository" "b" {
  name                 = "b"
  image_tag_mutability = "MUTABLE"
}
resource "aws_ecr_repository" "c" { #trivy:ignore:AVD-AWS-0031
  name                 = "c"
  image_tag_mutability = "MUTABLE"
}
'''})
    result = run(str(tmp_path), "--select", "ECR003,ECR090", "--environment", "prod", "--format", "json")
    assert findings(result.output) == {("ECR090", "aws_ecr_repository.b", "fail"), ("ECR090", "aws_ecr_repository.c", "fail")}
    assert {r["address"] for r in results(result.output, "suppressed")} == {
        "aws_ecr_repository.a", "aws_ecr_repository.b", "aws_ecr_repository.c"}


# --- baseline ---------------------------------------------------------------------------------

def test_baseline_fails_only_on_new_findings_and_a_moved_line_is_not_new(tmp_path):
    write(tmp_path, {"stack/main.tf": KEY_NO_ROTATION})
    baseline = str(tmp_path / "baseline.json")
    written = run("stack", "--write-baseline", baseline, "--select", "ECR010", cwd=tmp_path)
    assert written.exit_code == 0 and "wrote 1 finding(s)" in written.output
    assert run("stack", "--baseline", baseline, "--select", "ECR010", cwd=tmp_path).exit_code == 0
    write(tmp_path, {"stack/main.tf": "\n\n# moved down\n" + KEY_NO_ROTATION})
    assert run("stack", "--baseline", baseline, "--select", "ECR010", cwd=tmp_path).exit_code == 0
    write(tmp_path, {"stack/main.tf": KEY_NO_ROTATION + 'resource "aws_kms_key" "new" {}\n'})
    result = run("stack", "--baseline", baseline, "--select", "ECR010", "--format", "json", cwd=tmp_path)
    assert result.exit_code == 1
    assert findings(result.output) == {("ECR010", "aws_kms_key.new", "fail")}
    assert [r["suppression"]["kind"] for r in results(result.output, "suppressed")] == ["external"]


def test_bad_baseline_is_exit_two(tmp_path):
    write(tmp_path, {"main.tf": KEY_NO_ROTATION, "b.json": '{"nope": 1}'})
    result = CliRunner().invoke(main, [str(tmp_path), "--baseline", str(tmp_path / "b.json")])
    assert result.exit_code == 2 and "not an ecr-lint baseline" in result.output


# --- custom rules ------------------------------------------------------------------------------

CUSTOM = os.path.join(REPO, "fixtures", "custom_rules")


def test_custom_rule_end_to_end(tmp_path):
    write(tmp_path, {"main.tf": 'resource "aws_ecr_repository" "a" {\n  name = "Platform_App"\n}\n'
                                'resource "aws_ecr_repository" "b" {\n  name = "platform/app"\n}\n'})
    result = run(str(tmp_path), "--rules-dir", CUSTOM, "--select", "ECR901", "--format", "json")
    assert result.exit_code == 1
    assert findings(result.output) == {("ECR901", "aws_ecr_repository.a", "fail")}
    assert "ECR901  repository-name-convention" in run("rules", "--rules-dir", CUSTOM, "--").output
    write(tmp_path, {".ecr-lint.toml": f'rules_dirs = ["{CUSTOM}"]\nselect = ["ECR901"]\n'})
    assert run(str(tmp_path)).exit_code == 1


def test_custom_rule_errors_are_precise(tmp_path):
    write(tmp_path / "rules", {"ECR010.yaml": open(os.path.join(CUSTOM, "ECR901.yaml")).read().replace("ECR901", "ECR010")})
    result = CliRunner().invoke(main, ["rules", "--rules-dir", str(tmp_path / "rules"), "--"])
    assert result.exit_code == 2 and "ECR010 is not in ECR900-ECR999" in result.output
    write(tmp_path / "bad", {"ECR902.yaml": "id: ECR902\nname: x\nseverity: fatal\n"})
    result = CliRunner().invoke(main, ["rules", "--rules-dir", str(tmp_path / "bad"), "--"])
    assert result.exit_code == 2
    assert f"{tmp_path / 'bad' / 'ECR902.yaml'}: " in result.output and "severity" in result.output


# --- adopting ecr-lint on an existing tree: run, write a baseline, gate new findings -------------

def test_adopt_on_the_realworld_corpus_in_three_steps(tmp_path):
    from conftest import SHARED, needs_shared
    import shutil

    realworld = os.path.join(SHARED, "corpus", "realworld")
    if not os.path.isdir(realworld):
        needs_shared("corpus", "realworld")  # fails under .ci/run
        import pytest

        pytest.skip(f"{realworld} is not here")
    tree = tmp_path / "realworld"
    shutil.copytree(realworld, tree)
    # 1. run: findings (and a few unreadable inputs: module folders the copies do not hold)
    first = run("realworld", "--format", "json", cwd=tmp_path)
    assert first.exit_code == 2
    data = json.loads(first.output)
    assert data["summary"]["failed"] > 100 and data["summary"]["errors"] > 0
    # 2. write the baseline
    written = run("realworld", "--write-baseline", "ecr-lint-baseline.json", cwd=tmp_path)
    assert written.exit_code == 0, written.output
    # 3. gate: today's state passes, a new finding fails
    assert run("realworld", "--baseline", "ecr-lint-baseline.json", cwd=tmp_path).exit_code == 0
    write(tree / "new-service", {"main.tf": 'resource "aws_ecr_repository" "new" {\n  name = "new"\n}\n'})
    gated = run("realworld", "--baseline", "ecr-lint-baseline.json", "--format", "json", cwd=tmp_path)
    assert gated.exit_code == 1
    assert {f["address"] for f in json.loads(gated.output)["findings"]} == {"aws_ecr_repository.new"}


def test_suppression_on_a_module_call_covers_its_resources_and_multi_id_checkov_skips(tmp_path):
    write(tmp_path, {"main.tf": '''
module "a" {
  # ecr-lint:ignore ECR003 reason="module-level exception, OPS-9"
  source = "./modules/ecr"
}
module "b" {
  source = "./modules/ecr"
}
resource "aws_ecr_repository" "multi" {
  # checkov:skip=CKV_AWS_51,CKV_AWS_163: two ids
  name = "multi"
}
''', "modules/ecr/main.tf": 'resource "aws_ecr_repository" "this" {\n  name = "x"\n}\n'})
    result = run(str(tmp_path), "--select", "ECR002,ECR003,ECR092", "--environment", "prod", "--format", "json")
    assert findings(result.output) == {("ECR003", "module.b.aws_ecr_repository.this", "fail"),
                                       ("ECR002", "module.a.aws_ecr_repository.this", "fail"),
                                       ("ECR002", "module.b.aws_ecr_repository.this", "fail")}
    assert {(r["rule_id"], r["address"]) for r in results(result.output, "suppressed")} == {
        ("ECR003", "module.a.aws_ecr_repository.this"), ("ECR003", "aws_ecr_repository.multi"),
        ("ECR002", "aws_ecr_repository.multi")}
