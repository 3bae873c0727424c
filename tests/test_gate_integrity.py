"""Gate integrity (issue 11): nothing slips through a comment, a suppression, a baseline or a caller.

Each test drives the real CLI on a tree written for it, and asserts the exact set of
(rule, address, status) and the exit code.
"""

from __future__ import annotations

import json
import os
import subprocess

from click.testing import CliRunner

from ecr_lint.cli import main

from conftest import write

MUTABLE = '''resource "aws_ecr_repository" "{name}" {{
  name                 = "{name}"
  image_tag_mutability = "MUTABLE"
}}
'''


def run(*args: str, cwd=None):
    old = os.getcwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        return CliRunner().invoke(main, [*args, "--no-cache"], catch_exceptions=False)
    finally:
        os.chdir(old)


def data(result) -> dict:
    return json.loads(result.output)


def found(result, *statuses: str) -> set[tuple[str, str, str]]:
    statuses = statuses or ("fail", "unknown")
    return {(r["rule_id"], r["address"], r["status"]) for r in data(result)["results"] if r["status"] in statuses}


def git(repo, *args):
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True,
                   env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
                        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"})


# --- 1. a suppression covers every instance of its block --------------------------------------------

def test_suppression_covers_every_for_each_and_count_instance(tmp_path):
    write(tmp_path, {"main.tf": '''
resource "aws_ecr_repository" "each" {
  # ecr-lint:ignore ECR003 reason="mirrors, OPS-1"
  for_each             = toset(["a", "b", "c"])
  name                 = each.key
  image_tag_mutability = "MUTABLE"
}
# ecr-lint:ignore ECR003 reason="mirrors, OPS-2"
resource "aws_ecr_repository" "counted" {
  count                = 2
  name                 = "c${count.index}"
  image_tag_mutability = "MUTABLE"
}
'''})
    result = run(str(tmp_path), "--select", "ECR003,ECR090,ECR092", "--environment", "prod", "--format", "json")
    assert result.exit_code == 0, result.output
    assert found(result) == set()
    assert {a for _, a, _ in found(result, "suppressed")} == {
        'aws_ecr_repository.each["a"]', 'aws_ecr_repository.each["b"]', 'aws_ecr_repository.each["c"]',
        "aws_ecr_repository.counted[0]", "aws_ecr_repository.counted[1]"}


def test_key_suppresses_one_instance_only(tmp_path):
    write(tmp_path, {"main.tf": '''
resource "aws_ecr_repository" "each" {
  # ecr-lint:ignore ECR003 key="worker" reason="scratch images, OPS-3"
  for_each             = toset(["api", "worker"])
  name                 = each.key
  image_tag_mutability = "MUTABLE"
}
module "m" {
  # ecr-lint:ignore ECR003 key=1 reason="second copy is a sandbox, OPS-4"
  count  = 2
  source = "./mod"
}
''', "mod/main.tf": MUTABLE.format(name="this")})
    result = run(str(tmp_path), "--select", "ECR003", "--environment", "prod", "--format", "json")
    assert found(result) == {("ECR003", 'aws_ecr_repository.each["api"]', "fail"),
                             ("ECR003", "module.m[0].aws_ecr_repository.this", "fail")}
    assert {a for _, a, _ in found(result, "suppressed")} == {
        'aws_ecr_repository.each["worker"]', "module.m[1].aws_ecr_repository.this"}


def test_a_skip_inside_a_shared_module_covers_every_caller(tmp_path):
    files = {"modules/repo/main.tf": '''
resource "aws_ecr_repository" "this" {
  #checkov:skip=CKV_AWS_51:tags follow the upstream image
  name                 = var.name
  image_tag_mutability = "MUTABLE"
}
variable "name" {}
'''}
    for i in range(3):
        files[f"stacks/s{i}/main.tf"] = f'module "a" {{\n  source = "../../modules/repo"\n  name = "a{i}"\n}}\n' \
                                        f'module "b" {{\n  source = "../../modules/repo"\n  name = "b{i}"\n}}\n'
    write(tmp_path, files)
    result = run(".", "--select", "ECR003", "--environment", "prod", "--format", "json", cwd=tmp_path)
    assert result.exit_code == 0, result.output
    suppressed = [r for r in data(result)["results"] if r["status"] == "suppressed"]
    assert len(suppressed) == 6 and {r["stack"] for r in suppressed} == {"stacks/s0", "stacks/s1", "stacks/s2"}


# --- 2. peers' syntax, as each peer documents it ------------------------------------------------------

def test_tfsec_several_ignores_on_one_line_and_legacy_codes(tmp_path):
    # tfsec docs: "#tfsec:ignore:aws-s3-enable-bucket-encryption tfsec:ignore:aws-s3-enable-bucket-logging"
    write(tmp_path, {"main.tf": '''
#tfsec:ignore:aws-ecr-enforce-immutable-repository tfsec:ignore:aws-ecr-enable-image-scans reason="x, OPS-5"
resource "aws_ecr_repository" "long" {
  name                 = "long"
  image_tag_mutability = "MUTABLE"
}
#tfsec:ignore:AWS078 tfsec:ignore:AWS023 reason="legacy codes, OPS-6"
resource "aws_ecr_repository" "legacy" {
  name                 = "legacy"
  image_tag_mutability = "MUTABLE"
}
'''})
    result = run(str(tmp_path), "--select", "ECR002,ECR003,ECR090", "--environment", "prod", "--format", "json")
    assert result.exit_code == 0, result.output
    assert found(result, "suppressed") == {(rule, f"aws_ecr_repository.{name}", "suppressed")
                                           for rule in ("ECR002", "ECR003") for name in ("long", "legacy")}


def test_tfsec_and_trivy_exp_and_ws_qualifiers(tmp_path):
    # tfsec docs: "#tfsec:ignore:aws-s3-enable-bucket-encryption:exp:2022-01-02";
    # trivy tests: "# trivy:ignore:aws-s3-non-empty-bucket:exp:2221-01-02:ws:testworkspace";
    # trivy docs: "# trivy:ignore:aws-s3-*:ws:dev-*"
    write(tmp_path, {"main.tf": '''
#tfsec:ignore:aws-ecr-enforce-immutable-repository:exp:2022-01-02 reason="old, OPS-7"
resource "aws_ecr_repository" "expired" {
  name                 = "expired"
  image_tag_mutability = "MUTABLE"
}
# trivy:ignore:aws-ecr-enforce-immutable-repository:exp:2221-01-02:ws:testworkspace reason="ws, OPS-8"
resource "aws_ecr_repository" "ws" {
  name                 = "ws"
  image_tag_mutability = "MUTABLE"
}
# trivy:ignore:aws-ecr-*:ws:dev-* reason="every ECR check in dev workspaces, OPS-9"
resource "aws_ecr_repository" "wild" {
  name                 = "wild"
  image_tag_mutability = "MUTABLE"
}
'''})
    args = ("--select", "ECR003,ECR091", "--environment", "prod", "--format", "json")
    default = run(str(tmp_path), *args)
    assert found(default) == {("ECR003", "aws_ecr_repository.expired", "fail"),
                              ("ECR091", "aws_ecr_repository.expired", "fail"),
                              ("ECR003", "aws_ecr_repository.ws", "fail"),
                              ("ECR003", "aws_ecr_repository.wild", "fail")}
    assert {a for _, a, _ in found(run(str(tmp_path), *args, "--workspace", "testworkspace"), "suppressed")} == {
        "aws_ecr_repository.ws"}
    assert {a for _, a, _ in found(run(str(tmp_path), *args, "--workspace", "dev-eu"), "suppressed")} == {
        "aws_ecr_repository.wild"}


def test_trivy_several_ignores_aliases_and_params(tmp_path):
    # trivy docs: "#trivy:ignore:AVD-GCP-0051 trivy:ignore:AVD-GCP-0053"
    write(tmp_path, {"main.tf": '''
#trivy:ignore:AVD-AWS-0031 trivy:ignore:AVD-AWS-0030 reason="OPS-10"
resource "aws_ecr_repository" "a" {
  name                 = "a"
  image_tag_mutability = "MUTABLE"
}
#trivy:ignore:AWS-0031 reason="new-style id, OPS-11"
#trivy:ignore:enable-image-scans reason="short code, OPS-11"
resource "aws_ecr_repository" "b" {
  name                 = "b"
  image_tag_mutability = "MUTABLE"
}
#trivy:ignore:aws-ecr-enforce-immutable-repository[name=c] reason="value-scoped"
resource "aws_ecr_repository" "c" {
  name                 = "c"
  image_tag_mutability = "MUTABLE"
}
'''})
    result = run(str(tmp_path), "--select", "ECR002,ECR003,ECR092", "--environment", "prod", "--format", "json")
    assert found(result, "suppressed") == {(r, f"aws_ecr_repository.{n}", "suppressed")
                                           for r in ("ECR002", "ECR003") for n in ("a", "b")}
    # value-scoped ignores are not evaluated: the finding stays, and ECR092 says why
    assert found(result) == {("ECR002", "aws_ecr_repository.c", "fail"), ("ECR003", "aws_ecr_repository.c", "fail"),
                             ("ECR092", "aws_ecr_repository.c", "fail")}


def test_kics_ignore_line_and_ignore_block(tmp_path):
    # KICS docs: "# kics-scan ignore-block" above a resource ignores lines 1 to 6; "# kics-scan
    # ignore-line" ignores the line beneath.
    write(tmp_path, {"main.tf": '''
# kics-scan ignore-block
resource "aws_ecr_repository" "block" {
  name                 = "block"
  image_tag_mutability = "MUTABLE"
}
resource "aws_ecr_repository" "line" {
  name                 = "line"
  # kics-scan ignore-line
  image_tag_mutability = "MUTABLE"
  force_delete         = true
}
'''})
    result = run(str(tmp_path), "--select", "ECR003,ECR011", "--environment", "prod", "--format", "json")
    assert found(result, "suppressed") == {("ECR003", "aws_ecr_repository.block", "suppressed"),
                                           ("ECR003", "aws_ecr_repository.line", "suppressed")}
    assert found(result) == {("ECR011", "aws_ecr_repository.line", "fail")}  # another line: not ignored


def test_checkov_skip_counts_only_inside_the_block(tmp_path):
    write(tmp_path, {"main.tf": '''
#checkov:skip=CKV_AWS_51:above the block, where checkov does not look
resource "aws_ecr_repository" "r" {
  name                 = "r"
  image_tag_mutability = "MUTABLE"
}
'''})
    result = run(str(tmp_path), "--select", "ECR003,ECR092", "--environment", "prod", "--format", "json")
    assert found(result) == {("ECR003", "aws_ecr_repository.r", "fail"), ("ECR092", "aws_ecr_repository.r", "fail")}


# --- 3. a suppression without a reason fails the default gate ----------------------------------------

def test_suppression_without_reason_fails_the_gate_with_one_finding(tmp_path):
    write(tmp_path, {"main.tf": "# ecr-lint:ignore ECR003\n" + MUTABLE.format(name="r")})
    result = run(str(tmp_path), "--environment", "prod", "--select", "ECR003,ECR090", "--format", "json")
    assert result.exit_code == 1
    assert found(result) == {("ECR090", "aws_ecr_repository.r", "fail")}
    assert found(result, "suppressed") == {("ECR003", "aws_ecr_repository.r", "suppressed")}
    assert data(result)["findings"][0]["severity"] == "error"
    assert "add reason=" in data(result)["findings"][0]["message"]
    write(tmp_path, {".ecr-lint.toml": 'severity = { ECR090 = "warning" }\n'})
    relaxed = run(str(tmp_path), "--environment", "prod", "--select", "ECR003,ECR090", "--format", "json")
    assert relaxed.exit_code == 0 and data(relaxed)["findings"][0]["severity"] == "warning"


# --- 4, 5, 9, 13. fingerprints and the baseline -------------------------------------------------------

def _monorepo(root):
    write(root, {
        "modules/ecr/main.tf": 'variable "mutability" {}\nresource "aws_ecr_repository" "this" {\n  name = "x"\n'
                               '  image_tag_mutability = var.mutability\n}\n',
        "stacks/old/main.tf": 'module "ecr" {\n  source = "../../modules/ecr"\n  mutability = "MUTABLE"\n}\n',
    })
    git(root, "init", "-q")


def test_the_same_module_finding_in_a_new_stack_is_new(tmp_path):
    _monorepo(tmp_path)
    assert run("stacks", "--select", "ECR003", "--environment", "prod", "--write-baseline", "b.json",
               cwd=tmp_path).exit_code == 0
    write(tmp_path, {"stacks/new/main.tf": 'module "ecr" {\n  source = "../../modules/ecr"\n  mutability = "MUTABLE"\n}\n'})
    result = run("stacks", "--select", "ECR003", "--environment", "prod", "--baseline", "b.json", "--format", "json",
                 cwd=tmp_path)
    assert result.exit_code == 1
    assert {(f["address"], f["stack"]) for f in data(result)["findings"]} == {
        ("module.ecr.aws_ecr_repository.this", "stacks/new")}
    fingerprints = {r["fingerprint"] for r in data(result)["results"]}
    assert len(fingerprints) == 2  # two alerts in code scanning, not one
    sarif = json.loads(run("stacks", "--select", "ECR003", "--environment", "prod", "--format", "sarif",
                           cwd=tmp_path).output)
    assert len({r["partialFingerprints"]["ecrLint/v2"] for r in sarif["runs"][0]["results"]}) == 2


def test_fingerprints_and_baseline_do_not_depend_on_the_working_directory(tmp_path):
    _monorepo(tmp_path)
    args = ("--select", "ECR003", "--environment", "prod", "--format", "json")
    here = data(run("stacks", *args, cwd=tmp_path))
    absolute = data(run(str(tmp_path / "stacks"), *args, cwd="/"))
    inside = data(run("../old", *args, cwd=tmp_path / "stacks" / "old"))
    assert here["findings"] == absolute["findings"] == inside["findings"]
    assert here["findings"][0]["file"] == "modules/ecr/main.tf" and here["findings"][0]["stack"] == "stacks/old"
    assert run("stacks", "--select", "ECR003", "--environment", "prod", "--write-baseline", "b.json",
               cwd=tmp_path).exit_code == 0
    gated = run(str(tmp_path / "stacks"), *args, "--baseline", str(tmp_path / "b.json"), cwd="/")
    assert gated.exit_code == 0 and data(gated)["baseline"]["stale"] == []


def test_stale_baseline_entries_are_reported(tmp_path):
    _monorepo(tmp_path)
    run("stacks", "--select", "ECR003", "--environment", "prod", "--write-baseline", "b.json", cwd=tmp_path)
    write(tmp_path, {"stacks/old/main.tf": 'module "ecr" {\n  source = "../../modules/ecr"\n  mutability = "IMMUTABLE"\n}\n'})
    result = run("stacks", "--select", "ECR003", "--environment", "prod", "--baseline", "b.json", "--format", "json",
                 cwd=tmp_path)
    assert result.exit_code == 0
    summary = data(result)["baseline"]
    assert (summary["entries"], summary["matched"]) == (1, 0)
    assert [(e["rule_id"], e["address"], e["stack"]) for e in summary["stale"]] == [
        ("ECR003", "module.ecr.aws_ecr_repository.this", "stacks/old")]
    text = run("stacks", "--select", "ECR003", "--environment", "prod", "--baseline", "b.json", cwd=tmp_path).output
    assert "1 stale" in text and "ECR003  module.ecr.aws_ecr_repository.this" in text


def test_baseline_cannot_accept_non_suppressible_rules_or_use_error_entries(tmp_path):
    _monorepo(tmp_path)
    run("stacks", "--select", "ECR003", "--environment", "prod", "--write-baseline", "b.json", cwd=tmp_path)
    write(tmp_path, {".ecr-lint.toml": 'non_suppressible = ["ECR003"]\n'})
    result = run("stacks", "--select", "ECR003", "--environment", "prod", "--baseline", "b.json", "--format", "json",
                 cwd=tmp_path)
    assert result.exit_code == 1 and found(result) == {("ECR003", "module.ecr.aws_ecr_repository.this", "fail")}
    os.remove(tmp_path / ".ecr-lint.toml")
    # an entry moved under "errors" accepts no finding
    baseline = json.loads((tmp_path / "b.json").read_text())
    baseline["errors"], baseline["findings"] = baseline["findings"], []
    (tmp_path / "b.json").write_text(json.dumps(baseline))
    result = run("stacks", "--select", "ECR003", "--environment", "prod", "--baseline", "b.json", cwd=tmp_path)
    assert result.exit_code == 1


def test_a_forged_baseline_entry_is_refused_and_added_entries_are_reported(tmp_path):
    _monorepo(tmp_path)
    run("stacks", "--select", "ECR003", "--environment", "prod", "--write-baseline", "b.json", cwd=tmp_path)
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "baseline")
    baseline = json.loads((tmp_path / "b.json").read_text())
    entry = dict(baseline["findings"][0], stack="stacks/new")  # claims another stack, keeps the fingerprint
    (tmp_path / "b.json").write_text(json.dumps(dict(baseline, findings=baseline["findings"] + [entry])))
    result = run("stacks", "--baseline", "b.json", cwd=tmp_path)
    assert result.exit_code == 2 and "findings entry 2" in result.output and "fingerprint" in result.output
    # a well-formed new entry (as --write-baseline would write it) is shown as added since HEAD
    write(tmp_path, {"stacks/new/main.tf": 'module "ecr" {\n  source = "../../modules/ecr"\n  mutability = "MUTABLE"\n}\n'})
    run("stacks", "--select", "ECR003", "--environment", "prod", "--write-baseline", "b.json", cwd=tmp_path)
    result = run("stacks", "--select", "ECR003", "--environment", "prod", "--baseline", "b.json", "--format", "json",
                 cwd=tmp_path)
    assert result.exit_code == 0
    assert [(e["address"], e["stack"]) for e in data(result)["baseline"]["added"]] == [
        ("module.ecr.aws_ecr_repository.this", "stacks/new")]
    assert data(result)["baseline"]["since"] == "HEAD"
    text = run("stacks", "--select", "ECR003", "--environment", "prod", "--baseline", "b.json", cwd=tmp_path).output
    assert "1 added since HEAD" in text


# --- 6. two producers of one SSM parameter ----------------------------------------------------------

def test_two_stacks_writing_one_parameter_is_an_error_naming_both(tmp_path):
    export = '''resource "aws_ssm_parameter" "url" {
  name  = "/shared/ecr/fileflow-repository-url"
  type  = "String"
  value = "x"
}
'''
    write(tmp_path, {"a/main.tf": export, "b/main.tf": export})
    result = run(".", "--select", "ECR016", "--format", "json", cwd=tmp_path)
    assert result.exit_code == 1
    assert {(f["rule_id"], f["address"], f["stack"], f["message"]) for f in data(result)["findings"]} == {
        ("ECR016", "aws_ssm_parameter.url", "a", "/shared/ecr/fileflow-repository-url is also written by "
         "aws_ssm_parameter.url in b: the last apply wins, and consumers read whichever stack ran last (give each "
         "export its own name)"),
        ("ECR016", "aws_ssm_parameter.url", "b", "/shared/ecr/fileflow-repository-url is also written by "
         "aws_ssm_parameter.url in a: the last apply wins, and consumers read whichever stack ran last (give each "
         "export its own name)")}


# --- 7, 10, 14. module calls are read from the parsed configuration, and callers add, never remove ----

def test_a_comment_naming_a_source_does_not_hide_a_stack(tmp_path):
    write(tmp_path, {"payments/main.tf": 'provider "aws" {}\n' + MUTABLE.format(name="payments"),
                     "decoy/main.tf": 'resource "aws_kms_key" "k" {\n  enable_key_rotation = true\n}\n'
                                      '/* module "x" {\n  source = "../payments"\n} */\n'
                                      'locals {\n  doc = <<EOT\n  source = "../payments"\nEOT\n}\n'})
    result = run(str(tmp_path), "--select", "ECR003", "--environment", "prod", "--format", "json")
    assert result.exit_code == 1
    assert found(result) == {("ECR003", "aws_ecr_repository.payments", "fail")}


def test_a_new_caller_cannot_reparameterise_a_root_stack(tmp_path):
    write(tmp_path, {
        "payments/provider.tf": 'provider "aws" {\n  region = "eu-west-1"\n}\n',
        "payments/main.tf": 'variable "environment" {\n  default = "prod"\n}\n'
                            'resource "aws_ecr_repository" "r" {\n  name = "payments"\n'
                            '  image_tag_mutability = "MUTABLE"\n  tags = { Environment = var.environment }\n}\n',
        "sandbox/main.tf": 'module "x" {\n  source      = "../payments"\n  environment = "dev"\n}\n',
    })
    result = run(str(tmp_path), "--select", "ECR003", "--format", "json")
    assert result.exit_code == 1
    assert found(result) == {("ECR003", "aws_ecr_repository.r", "fail")}  # payments, linted as its own root
    assert ("ECR003", "module.x.aws_ecr_repository.r", "pass") in {
        (r["rule_id"], r["address"], r["status"]) for r in data(result)["results"]}  # and through its caller


def test_module_calls_on_one_line_and_in_tf_json_are_callers(tmp_path):
    write(tmp_path, {
        "modules/repo/main.tf": 'variable "mutability" {\n  default = "IMMUTABLE"\n}\n'
                                'resource "aws_ecr_repository" "this" {\n  name = "x"\n'
                                '  image_tag_mutability = var.mutability\n}\n',
        "one/main.tf": 'module "m" { source = "../modules/repo" }\n',
        "json/main.tf.json": json.dumps({"module": {"m": {"source": "../modules/repo", "mutability": "IMMUTABLE"}}}),
    })
    result = run(str(tmp_path), "--select", "ECR003,ECR000", "--environment", "prod", "--format", "json")
    assert result.exit_code == 0, result.output
    assert data(result)["summary"]["stacks"] == 2  # the module is linted through its callers only
    assert found(result) == set()


# --- 8, 11, 12, 15. suppressions belong to their file, stack and block; only real comments ------------

def test_a_suppression_in_one_stack_does_not_leak_into_another(tmp_path):
    module = 'resource "aws_ecr_repository" "this" {\n  name = "x"\n  image_tag_mutability = "MUTABLE"\n}\n'
    write(tmp_path, {
        "modules/ecr/main.tf": module,
        "stacks/harmless/main.tf": '# ecr-lint:ignore ECR003 reason="sandbox"\nmodule "ecr" {\n'
                                   '  source = "../../modules/ecr"\n}\n',
        "stacks/payments/main.tf": 'module "ecr" {\n  source = "../../modules/ecr"\n}\n',
    })
    result = run(str(tmp_path), "--select", "ECR003", "--environment", "prod", "--format", "json")
    assert result.exit_code == 1
    payments = [r for r in data(result)["results"] if r["stack"].endswith("payments")]
    harmless = [r for r in data(result)["results"] if r["stack"].endswith("harmless")]
    assert [r["status"] for r in payments] == ["fail"] and [r["status"] for r in harmless] == ["suppressed"]


def test_suppression_text_in_strings_and_heredocs_does_not_count(tmp_path):
    write(tmp_path, {"main.tf": '''
resource "aws_ecr_repository" "r" {
  name                 = "r"
  image_tag_mutability = "MUTABLE"
  tags = {
    Runbook = <<-EOT
      // ecr-lint:ignore ECR003 reason="see runbook"
    EOT
    Note    = "/* ecr-lint:ignore ECR003 reason=x */ #checkov:skip=CKV_AWS_51:x"
  }
}
'''})
    result = run(str(tmp_path), "--select", "ECR003,ECR092", "--environment", "prod", "--format", "json")
    assert found(result) == {("ECR003", "aws_ecr_repository.r", "fail")}


def test_a_malformed_rule_id_is_reported(tmp_path):
    write(tmp_path, {"main.tf": '# ecr-lint:ignore ECR００３ reason="fullwidth digits"\n' + MUTABLE.format(name="r")
                     + '# ecr-lint:ignore ECR999 reason="no such rule"\n' + MUTABLE.format(name="s")})
    result = run(str(tmp_path), "--select", "ECR003,ECR092", "--environment", "prod", "--format", "json")
    assert found(result) == {("ECR003", "aws_ecr_repository.r", "fail"), ("ECR092", "aws_ecr_repository.r", "fail"),
                             ("ECR003", "aws_ecr_repository.s", "fail"), ("ECR092", "aws_ecr_repository.s", "fail")}
    messages = sorted(f["message"] for f in data(result)["findings"] if f["rule_id"] == "ECR092")
    assert "'ECR００３' is not a rule id" in messages[0] and "no rule ECR999" in messages[1]


def test_kics_file_level_commands(tmp_path):
    # KICS docs: "# kics-scan ignore" must be in the file's start ("# Some comment / # This works /
    # # kics-scan ignore"); `disable=<query_id>,...` ignores the listed queries in the file;
    # `enable=` keeps only the listed ones; after any block, KICS does not read them.
    scan = "9630336b-3fed-4096-8173-b9afdfe346a7"      # unscanned_ecr_image: ECR002
    repo = 'resource "aws_ecr_repository" "%s" {\n  name                 = "%s"\n  image_tag_mutability = "MUTABLE"\n' \
           '  image_scanning_configuration {\n    scan_on_push = false\n  }\n}\n'
    write(tmp_path, {
        "ignored/main.tf": '# Some comment\n# This works\n# kics-scan ignore reason="vendored, OPS-20"\n' + repo % ("a", "a"),
        "disabled/main.tf": f'# kics-scan disable={scan} reason="OPS-21"\n' + repo % ("b", "b"),
        "enabled/main.tf": f'# kics-scan enable={scan} reason="OPS-22"\n' + repo % ("c", "c"),
        "late/main.tf": repo % ("d", "d") + '# kics-scan ignore reason="too late"\n',
    })
    result = run(".", "--select", "ECR002,ECR003,ECR092", "--environment", "prod", "--format", "json", cwd=tmp_path)
    assert found(result, "suppressed") == {
        ("ECR002", "aws_ecr_repository.a", "suppressed"), ("ECR003", "aws_ecr_repository.a", "suppressed"),
        ("ECR002", "aws_ecr_repository.b", "suppressed"),
        ("ECR003", "aws_ecr_repository.c", "suppressed")}  # enable= the scan query only: the others are ignored
    assert found(result) == {("ECR003", "aws_ecr_repository.b", "fail"), ("ECR002", "aws_ecr_repository.c", "fail"),
                             ("ECR002", "aws_ecr_repository.d", "fail"), ("ECR003", "aws_ecr_repository.d", "fail"),
                             ("ECR092", "", "fail")}
    late = [f for f in data(result)["findings"] if f["rule_id"] == "ECR092"]
    assert "only at the start of a file" in late[0]["message"] and late[0]["file"] == "late/main.tf"


def test_sarif_uris_are_percent_encoded_and_relative_to_the_repository_root(tmp_path):
    # issue 12 item 15: `stack dir/100%#frag?q=1.tf` must be a valid relative URI reference, and
    # relative to the repository root even when linted from elsewhere.
    write(tmp_path, {"stack dir/100%#frag?q=1.tf": MUTABLE.format(name="r")})
    git(tmp_path, "init", "-q")
    sarif = json.loads(run(str(tmp_path / "stack dir"), "--select", "ECR003", "--environment", "prod",
                           "--format", "sarif", cwd="/").output)
    uris = {loc["physicalLocation"]["artifactLocation"]["uri"]
            for result in sarif["runs"][0]["results"] for loc in result["locations"]}
    assert uris == {"stack%20dir/100%25%23frag%3Fq%3D1.tf"}
