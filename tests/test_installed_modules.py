"""Modules installed by a real `terraform init` (issue 13 item 1): read through
`.terraform/modules/modules.json`, evaluated like local modules with the caller's inputs, findings
at the installed files' lines; missing or stale installs are unknown with the remedy.

Sources are local git repositories (`git::file://...?ref=v1`), which real `terraform init` installs
offline; the registry module terraform-aws-modules/ecr/aws comes from ../shared/corpus/registry.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest
from click.testing import CliRunner

from ecr_lint.cli import main
from ecr_lint.loaders.installed import version_allows

from conftest import SHARED, needs_shared, write

REGISTRY = os.path.join(SHARED, "corpus", "registry", "terraform-aws-modules__terraform-aws-ecr")
REPO_MODULE = '''variable "name" {}
variable "mutability" {
  default = "IMMUTABLE"
}
resource "aws_ecr_repository" "this" {
  name                 = var.name
  image_tag_mutability = var.mutability
}
'''


def git_module(root, files: dict[str, str] | str, tag: str = "v1") -> str:
    """A git repository holding a module, tagged; returns its file:// URL."""
    if isinstance(files, str):
        shutil.copytree(files, root)
    else:
        write(root, files)
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "module"], ["tag", tag]):
        subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, env=env)
    return f"file://{root}"


def init(stack) -> None:
    import tfharness

    done = subprocess.run(["terraform", "init", "-input=false", "-no-color", "-backend=false",
                           f"-plugin-dir={tfharness.plugin_dir()}"], cwd=stack, capture_output=True, text=True,
                          env=tfharness._scrubbed_env(), timeout=300)
    assert done.returncode == 0, done.stderr + done.stdout


def lint_json(path, *args: str) -> dict:
    result = CliRunner().invoke(main, [str(path), "--no-cache", "--format", "json", *args])
    assert result.exit_code in (0, 1, 2), result.output
    return json.loads(result.output)


def verdicts(data: dict, *rules: str) -> set[tuple[str, str, str]]:
    return {(r["rule_id"], r["address"], r["status"]) for r in data["results"] if not rules or r["rule_id"] in rules}


def test_git_module_before_init_after_init_and_stale(tmp_path, tf_required):
    url = git_module(tmp_path / "repo", {"main.tf": REPO_MODULE})
    stack = tmp_path / "stack"
    call = f'module "ecr" {{\n  source     = "git::{url}?ref=v1"\n  name       = "x"\n  mutability = "MUTABLE"\n}}\n'
    write(stack, {"main.tf": call})
    before = lint_json(stack, "--select", "ECR000,ECR003", "--environment", "prod")
    assert verdicts(before) == {("ECR000", "module.ecr", "unknown")}
    message = before["findings"][0]["message"]
    assert "not installed" in message and "terraform init" in message and "lint the plan JSON" in message
    init(stack)
    after = lint_json(stack, "--select", "ECR000,ECR003", "--environment", "prod")
    assert verdicts(after) == {("ECR003", "module.ecr.aws_ecr_repository.this", "fail")}
    assert (after["findings"][0]["file"].endswith(".terraform/modules/ecr/main.tf"), after["findings"][0]["line"]) == \
        (True, 7)
    (stack / "main.tf").write_text(call.replace("ref=v1", "ref=v2"))
    stale = lint_json(stack, "--select", "ECR000,ECR003", "--environment", "prod")
    assert verdicts(stale) == {("ECR000", "module.ecr", "unknown")}
    assert "stale" in stale["findings"][0]["message"] and "terraform init" in stale["findings"][0]["message"]


def test_nested_installed_modules_and_module_for_each(tmp_path, tf_required):
    inner = git_module(tmp_path / "inner", {"main.tf": REPO_MODULE})
    outer = git_module(tmp_path / "outer", {"main.tf": f'''variable "names" {{}}
module "inner" {{
  source     = "git::{inner}?ref=v1"
  for_each   = toset(var.names)
  name       = each.key
  mutability = each.key == "scratch" ? "MUTABLE" : "IMMUTABLE"
}}
'''})
    stack = tmp_path / "stack"
    write(stack, {"main.tf": f'module "outer" {{\n  source = "git::{outer}?ref=v1"\n  names  = ["api", "scratch"]\n}}\n'})
    init(stack)
    manifest = json.loads((stack / ".terraform" / "modules" / "modules.json").read_text())
    assert "outer.inner" in {m["Key"] for m in manifest["Modules"]}
    data = lint_json(stack, "--select", "ECR000,ECR003", "--environment", "prod")
    assert verdicts(data) == {
        ("ECR003", 'module.outer.module.inner["api"].aws_ecr_repository.this', "pass"),
        ("ECR003", 'module.outer.module.inner["scratch"].aws_ecr_repository.this', "fail")}


def test_a_broken_manifest_is_unknown_with_the_remedy(tmp_path):
    write(tmp_path, {"main.tf": 'module "ecr" {\n  source  = "terraform-aws-modules/ecr/aws"\n  version = "~> 2.0"\n}\n',
                     ".terraform/modules/modules.json": "{not json"})
    data = lint_json(tmp_path, "--select", "ECR000")
    assert verdicts(data) == {("ECR000", "module.ecr", "unknown")}
    assert "cannot be read" in data["findings"][0]["message"] and "terraform init" in data["findings"][0]["message"]


def test_version_constraints():
    assert version_allows("~> 2.0", "2.4.0") and not version_allows("~> 2.0", "3.0.0")
    assert version_allows("~> 1.7.0", "1.7.1") and not version_allows("~> 1.7.0", "1.8.0")
    assert version_allows(">= 1.2, < 3", "2.4.0") and not version_allows(">= 1.2, != 2.4.0", "2.4.0")
    assert version_allows("2.4.0", "2.4.0") and not version_allows("2.4.0", "2.4.1")
    assert not version_allows(">= 1.0", "2.0.0-beta1") and not version_allows("garbage", "1.0.0")


# --- the real terraform-aws-modules/ecr/aws -----------------------------------------------------------

def _registry_stack(tmp_path, version: str, body: str):
    url = git_module(tmp_path / f"ecr-{version}", os.path.join(REGISTRY, version))
    stack = tmp_path / "stack"
    write(stack, {"main.tf": body.replace("SOURCE", f"git::{url}?ref=v1")})
    return stack


LIFECYCLE = '''jsonencode({ rules = [
    { rulePriority = 1, description = "untagged", selection = { tagStatus = "untagged", countType = "sinceImagePushed", countUnit = "days", countNumber = 7 }, action = { type = "expire" } },
    { rulePriority = 2, description = "keep 30", selection = { tagStatus = "tagged", tagPrefixList = ["v"], countType = "imageCountMoreThan", countNumber = 30 }, action = { type = "expire" } },
  ] })'''


@needs_shared("corpus", "registry")
@pytest.mark.parametrize("version", ["v1.7.1", "v2.4.0"])
def test_registry_module_the_ways_real_users_call_it(tmp_path, version, tf_required):
    stack = _registry_stack(tmp_path, version, f'''
module "defaults" {{
  source          = "SOURCE"
  repository_name = "defaults"
  repository_lifecycle_policy = {LIFECYCLE}
}}
module "kms" {{
  source                          = "SOURCE"
  repository_name                 = "kms"
  repository_encryption_type      = "KMS"
  repository_kms_key              = "arn:aws:kms:ap-northeast-2:111122223333:key/0f3b5b4e-1234-4d2a-9b1c-2c4d5e6f7a8b"
  repository_image_tag_mutability = "MUTABLE"
  create_lifecycle_policy         = false
}}
module "each" {{
  source          = "SOURCE"
  for_each        = {{ api = "IMMUTABLE", scratch = "MUTABLE" }}
  repository_name = each.key
  repository_image_tag_mutability = each.value
  repository_image_scan_on_push   = each.key == "api"
  repository_lifecycle_policy     = {LIFECYCLE}
}}
''')
    init(stack)
    data = lint_json(stack, "--select", "ECR000,ECR001,ECR002,ECR003,ECR006", "--environment", "prod")
    repo = "aws_ecr_repository.this[0]"
    # By hand from the module's main.tf/variables.tf: encryption_type null -> AES256 (ECR001 fails);
    # scan on push and IMMUTABLE are the defaults; the lifecycle policy is the one given.
    assert verdicts(data) == {
        ("ECR001", f"module.defaults.{repo}", "fail"), ("ECR002", f"module.defaults.{repo}", "pass"),
        ("ECR003", f"module.defaults.{repo}", "pass"), ("ECR006", f"module.defaults.{repo}", "pass"),
        ("ECR001", f"module.kms.{repo}", "pass"), ("ECR002", f"module.kms.{repo}", "pass"),
        ("ECR003", f"module.kms.{repo}", "fail"), ("ECR006", f"module.kms.{repo}", "fail"),
        ("ECR001", f'module.each["api"].{repo}', "fail"), ("ECR002", f'module.each["api"].{repo}', "pass"),
        ("ECR003", f'module.each["api"].{repo}', "pass"), ("ECR006", f'module.each["api"].{repo}', "pass"),
        ("ECR001", f'module.each["scratch"].{repo}', "fail"), ("ECR002", f'module.each["scratch"].{repo}', "fail"),
        ("ECR003", f'module.each["scratch"].{repo}', "fail"), ("ECR006", f'module.each["scratch"].{repo}', "pass"),
    }
    lines = {(f["rule_id"], f["address"]): (f["file"].split(".terraform/modules/")[-1], f["line"])
             for f in data["findings"]}
    assert lines[("ECR003", f"module.kms.{repo}")][0] == "kms/main.tf"


@needs_shared("corpus", "registry")
def test_registry_source_with_a_manifest_as_init_writes_it(tmp_path):
    # v3.2.0 needs a newer AWS provider than the offline one: lay it out as init would.
    shutil.copytree(os.path.join(REGISTRY, "v3.2.0"), tmp_path / ".terraform" / "modules" / "ecr")
    write(tmp_path, {
        "main.tf": 'module "ecr" {\n  source  = "terraform-aws-modules/ecr/aws"\n  version = "~> 3.0"\n'
                   '  repository_name = "app"\n  repository_image_tag_mutability = "MUTABLE"\n'
                   '  create_lifecycle_policy = false\n}\n',
        ".terraform/modules/modules.json": json.dumps({"Modules": [
            {"Key": "", "Source": "", "Dir": "."},
            {"Key": "ecr", "Source": "registry.terraform.io/terraform-aws-modules/ecr/aws", "Version": "3.2.0",
             "Dir": ".terraform/modules/ecr"}]}),
    })
    data = lint_json(tmp_path, "--select", "ECR000,ECR003", "--environment", "prod")
    assert verdicts(data) == {("ECR003", "module.ecr.aws_ecr_repository.this[0]", "fail")}
    (tmp_path / "main.tf").write_text((tmp_path / "main.tf").read_text().replace("~> 3.0", "~> 2.0"))
    stale = lint_json(tmp_path, "--select", "ECR000,ECR003", "--environment", "prod")
    assert verdicts(stale) == {("ECR000", "module.ecr", "unknown")}
    assert "does not satisfy" in stale["findings"][0]["message"]


@needs_shared("corpus", "registry")
def test_registry_module_gives_the_same_findings_in_hcl_and_in_its_plan(tmp_path, moto_server, tf_required):
    import tfharness

    stack = _registry_stack(tmp_path, "v2.4.0", f'''
provider "aws" {{
  region = "ap-northeast-2"
}}
module "app" {{
  source                          = "SOURCE"
  repository_name                 = "app"
  repository_image_tag_mutability = "MUTABLE"
  repository_lifecycle_policy     = {LIFECYCLE}
}}
''')
    rules = ("--select", "ECR000,ECR001,ECR002,ECR003,ECR005,ECR006", "--environment", "prod")
    with tfharness.TfWorkspace(stack, moto_server.endpoint) as ws:
        ws.init()
        plan = ws.dir / "plan.json"
        plan.write_text(json.dumps(ws.show_json(ws.plan())))
        hcl = lint_json(ws.dir, *rules)
        planned = lint_json(plan, "--source-root", str(ws.dir), *rules)
    assert verdicts(hcl) == verdicts(planned)
    assert ("ECR003", "module.app.aws_ecr_repository.this[0]", "fail") in verdicts(planned)
    assert {(f["rule_id"], f["address"], f["file"].split("/.terraform/")[-1], f["line"]) for f in planned["findings"]} \
        == {(f["rule_id"], f["address"], f["file"].split("/.terraform/")[-1], f["line"]) for f in hcl["findings"]}
    assert all(f["file"].endswith(".terraform/modules/app/main.tf") for f in planned["findings"])
