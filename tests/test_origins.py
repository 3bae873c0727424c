"""Findings say where the judged value comes from (issue 14 item 4): the chain from the attribute to
the literal (tfvars line, variable default, local, module caller's argument, conditional branch),
one "set at" line in text, related locations in JSON and SARIF; module findings name their stack;
findings point at the smallest span; the fix names the place to change."""

from __future__ import annotations

import json
import os
import shutil

from click.testing import CliRunner

from ecr_lint.cli import main

from conftest import REPO, write

FIX = os.path.join(REPO, "fixtures", "fix")


def run(*args: str, cwd: str = REPO):
    old = os.getcwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(main, [*args])
    finally:
        os.chdir(old)


def findings(*args: str) -> list[dict]:
    result = run(*args, "--format", "json", "--no-cache")
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.output)["findings"]


def chain(finding: dict) -> list[tuple]:
    return [(o["file"], o["line"], o["what"], o.get("end", "")) for o in finding.get("origins", [])]


def test_a_tfvars_line_is_named_in_text_json_and_sarif():
    args = ("fixtures/fix/tfvars", "--var-file", "fixtures/fix/tfvars/prod.tfvars", "--select", "ECR003")
    [finding] = findings(*args)
    assert (finding["rule_id"], finding["file"], finding["line"]) == ("ECR003", "fixtures/fix/tfvars/main.tf", 3)
    assert chain(finding) == [
        ("fixtures/fix/tfvars/main.tf", 3, "aws_ecr_repository.app.image_tag_mutability", ""),
        ("fixtures/fix/tfvars/prod.tfvars", 2, "image_tag_mutability in prod.tfvars", "literal"),
    ]
    text = run(*args, "--no-cache").output
    assert "    set at: fixtures/fix/tfvars/prod.tfvars:2: image_tag_mutability in prod.tfvars\n" in text
    assert "    fix: change it at fixtures/fix/tfvars/prod.tfvars:2 (image_tag_mutability in prod.tfvars): Set " in text
    sarif = json.loads(run(*args, "--no-cache", "--format", "sarif").output)
    [result] = sarif["runs"][0]["results"]
    assert result["relatedLocations"] == [{
        "id": 1, "physicalLocation": {"artifactLocation": {"uri": "fixtures/fix/tfvars/prod.tfvars"},
                                      "region": {"startLine": 2}},
        "message": {"text": "set at: image_tag_mutability in prod.tfvars"}}]


def test_a_var_on_the_command_line_is_named_as_such():
    [finding] = findings("fixtures/fix/tfvars", "--var", "environment=prod", "--var", "image_tag_mutability=MUTABLE",
                         "--select", "ECR003")
    assert chain(finding)[-1] == ("(command line)", 0, "-var image_tag_mutability=... on the command line", "literal")


def test_a_tf_var_in_the_environment_is_named_as_such_and_fix_leaves_it_to_the_user(monkeypatch):
    monkeypatch.setenv("TF_VAR_environment", "prod")
    monkeypatch.setenv("TF_VAR_image_tag_mutability", "MUTABLE")
    [finding] = findings("fixtures/fix/tfvars", "--select", "ECR003")
    assert chain(finding)[-1] == ("(environment)", 0, "the environment variable TF_VAR_image_tag_mutability",
                                  "literal")
    assert "    set at: the environment: the environment variable TF_VAR_image_tag_mutability\n" in run(
        "fixtures/fix/tfvars", "--select", "ECR003", "--no-cache").output
    fixed = run("fix", "fixtures/fix/tfvars", "--select", "ECR003", "--no-cache")
    assert fixed.exit_code == 1 and fixed.stdout == ""
    assert ("the value is given in the environment (the environment variable TF_VAR_image_tag_mutability): "
            "change it there") in fixed.stderr


def test_a_tfvars_json_line_is_named_and_fix_leaves_the_json_to_the_user(tmp_path):
    stack = tmp_path / "s"
    shutil.copytree(os.path.join(FIX, "tfvars"), stack)
    (stack / "prod.tfvars").unlink()
    (stack / "terraform.tfvars.json").write_text('{\n  "environment": "prod",\n  "image_tag_mutability": "MUTABLE"\n}\n')
    [finding] = findings(str(stack), "--select", "ECR003")
    file, *rest = chain(finding)[-1]
    assert file.endswith("/s/terraform.tfvars.json")
    assert rest == [3, "image_tag_mutability in terraform.tfvars.json", "literal"]
    fixed = run("fix", str(stack), "--select", "ECR003", "--no-cache")
    assert fixed.exit_code == 1 and fixed.stdout == ""
    assert "a .tfvars.json file: change it there by hand" in fixed.stderr


def test_the_seed_names_the_variable_default():
    [finding] = findings("fixtures/seed_as_written", "--select", "ECR003")
    assert chain(finding)[-1] == ("fixtures/seed_as_written/variables.tf", 40, "default of var.image_tag_mutability",
                                  "literal")


def test_two_stacks_calling_one_module_are_told_apart_by_stack_and_caller_argument():
    result = findings("fixtures/fix/module_caller", "--select", "ECR003")
    seen = {(f["file"], f["line"], f["stack"], chain(f)[-1]) for f in result}
    module = "fixtures/fix/module_caller/modules/ecr/main.tf"
    assert seen == {
        (module, 16, f"fixtures/fix/module_caller/stacks/{stack}",
         (f"fixtures/fix/module_caller/stacks/{stack}/main.tf", 5,
          "argument repository_image_tag_mutability of module.ecr", "literal"))
        for stack in ("prod", "prod-eu")}
    text = run("fixtures/fix/module_caller", "--select", "ECR003", "--no-cache").output
    for stack in ("prod", "prod-eu"):
        assert (f"    stack: fixtures/fix/module_caller/stacks/{stack}\n"
                f"    set at: fixtures/fix/module_caller/stacks/{stack}/main.tf:5: argument "
                "repository_image_tag_mutability of module.ecr\n") in text
    sarif = json.loads(run("fixtures/fix/module_caller", "--select", "ECR003", "--no-cache", "--format", "sarif").output)
    messages = sorted(r["message"]["text"] for r in sarif["runs"][0]["results"])
    assert [m.rsplit(" (stack ", 1)[1] for m in messages] == ["fixtures/fix/module_caller/stacks/prod)",
                                                             "fixtures/fix/module_caller/stacks/prod-eu)"]


def test_a_module_default_and_the_branch_of_a_conditional():
    [default] = findings("fixtures/fix/shared_default", "--select", "ECR003")
    assert chain(default)[-1] == ("fixtures/fix/shared_default/modules/ecr/main.tf", 11,
                                  "default of module.ecr.var.repository_image_tag_mutability", "literal")
    [branch] = findings("fixtures/fix/ternary", "--select", "ECR003")
    assert chain(branch) == [("fixtures/fix/ternary/main.tf", 9, "aws_ecr_repository.app.image_tag_mutability "
                              "(the true branch of its conditional)", "literal")]
    text = run("fixtures/fix/ternary", "--select", "ECR003", "--no-cache").output
    assert ("    set at: fixtures/fix/ternary/main.tf:9: aws_ecr_repository.app.image_tag_mutability (the true branch "
            "of its conditional)\n") in text


def test_ecr004_points_at_the_wildcard_line_not_the_policy_attribute():
    [finding] = findings("fixtures/fix/policy_line", "--select", "ECR004")
    with open(os.path.join(FIX, "policy_line", "main.tf"), encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    assert lines[finding["line"] - 1].strip() == '"ecr:*",'
    assert finding["line"] == 19 and finding["origins"][0]["line"] == 19


def test_a_tag_missing_from_a_shared_local_is_reported_at_the_local_with_the_right_fix():
    result = findings("fixtures/fix/shared_locals", "--select", "ECR007")
    assert {f["address"] for f in result} == {
        "aws_ecr_repository.api", "aws_ecr_repository.worker", "aws_kms_key.ecr", "aws_sns_topic.alerts",
        "aws_cloudwatch_event_rule.scan", "aws_iam_policy.pull"}
    assert {chain(f)[-1] for f in result} == {("fixtures/fix/shared_locals/locals.tf", 3, "local.required_tags",
                                                "missing")}
    text = run("fixtures/fix/shared_locals", "--select", "ECR007", "--no-cache").output
    assert text.count("    fix: add Owner to local.required_tags at fixtures/fix/shared_locals/locals.tf:3\n") == 6
    assert "merge(local.required_tags" not in text  # the generic advice: what the resources already do


def test_a_policy_document_data_source_points_at_its_actions_line(tmp_path):
    write(tmp_path, {"main.tf": '''data "aws_iam_policy_document" "pull" {
  statement {
    sid = "Login"
    actions = [
      "ecr:GetAuthorizationToken",
    ]
    resources = ["*"]
  }
  statement {
    sid = "Pull"
    actions = [
      "ecr:BatchGetImage",
      "ecr:Batch*",
    ]
    resources = ["arn:aws:ecr:ap-northeast-2:111122223333:repository/app"]
  }
}

resource "aws_iam_policy" "pull" {
  name   = "pull"
  policy = data.aws_iam_policy_document.pull.json
}
'''})
    [finding] = findings(str(tmp_path), "--select", "ECR004")
    assert (finding["address"], finding["line"]) == ("data.aws_iam_policy_document.pull", 13)


def test_origins_survive_the_result_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    stack = tmp_path / "stack"
    shutil.copytree(os.path.join(FIX, "tfvars"), stack)
    args = [str(stack), "--var-file", str(stack / "prod.tfvars"), "--select", "ECR003", "--format", "json"]
    first, second = (CliRunner().invoke(main, args) for _ in range(2))
    assert first.output == second.output
    assert [o["line"] for o in json.loads(second.output)["findings"][0]["origins"]] == [3, 2]


def test_an_ignore_line_comment_above_a_block_still_covers_the_narrowed_finding(tmp_path):
    write(tmp_path, {"main.tf": '''resource "aws_ecr_repository" "app" {
  name = "app"
  # kics-scan ignore-line
  image_scanning_configuration {
    scan_on_push = false
  }
}
'''})
    result = run(str(tmp_path), "--select", "ECR002", "--no-cache", "--format", "json")
    data = json.loads(result.output)
    assert data["findings"] == []
    assert [(r["status"], r["line"]) for r in data["results"]] == [("suppressed", 5)]


def test_each_value_leads_to_the_element_of_for_each_and_its_tfvars_line(tmp_path):
    write(tmp_path, {
        "main.tf": '''variable "repositories" {
  type = map(object({ mutability = string }))
}

resource "aws_ecr_repository" "this" {
  for_each             = var.repositories
  name                 = each.key
  image_tag_mutability = each.value.mutability
}
''',
        "terraform.tfvars": '''repositories = {
  api = {
    mutability = "IMMUTABLE"
  }
  worker = {
    mutability = "MUTABLE"
  }
}
'''})
    [finding] = findings(str(tmp_path), "--select", "ECR003", "--environment", "prod")
    assert finding["address"] == 'aws_ecr_repository.this["worker"]'
    assert [(o["file"].rsplit("/", 1)[-1], o["line"], o["what"]) for o in finding["origins"]] == [
        ("main.tf", 8, 'aws_ecr_repository.this["worker"].image_tag_mutability'),
        ("main.tf", 6, "for_each of aws_ecr_repository.this"),
        ("terraform.tfvars", 6, "repositories in terraform.tfvars"),
    ]


def test_a_chain_longer_than_the_hop_limit_keeps_the_finding_without_origins(tmp_path):
    chain = "\n".join(f"  l{i} = local.l{i - 1}" for i in range(1, 100))
    write(tmp_path, {"main.tf": f'''locals {{
  l0 = "MUTABLE"
{chain}
}}

resource "aws_ecr_repository" "app" {{
  name                 = "app"
  image_tag_mutability = local.l99
}}
'''})
    [finding] = findings(str(tmp_path), "--select", "ECR003", "--environment", "prod")
    assert finding["address"] == "aws_ecr_repository.app" and "origins" not in finding


def test_a_tag_missing_from_the_provider_default_tags_is_set_at_default_tags():
    result = findings("fixtures/fix/default_tags", "--select", "ECR007")
    assert {(f["address"], f["line"]) for f in result} == {("aws_sns_topic.alerts", 1),
                                                            ("aws_cloudwatch_log_group.scans", 5)}
    assert {chain(f)[-1] for f in result} == {("fixtures/fix/default_tags/versions.tf", 17,
                                                "default_tags of provider aws", "missing")}


def test_an_unknown_finding_says_which_input_is_missing_and_points_at_kms_key():
    result = {f["rule_id"]: f for f in findings("fixtures/unknowns", "--select", "ECR001,ECR009")}
    for rule in ("ECR001", "ECR009"):
        assert (result[rule]["status"], result[rule]["line"]) == ("unknown", 16)
        assert chain(result[rule])[-1] == ("fixtures/unknowns/main.tf", 2, "var.kms_key_arn has no default and no value",
                                           "unknown")
