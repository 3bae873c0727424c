"""The pre-commit hook, for real: `pre-commit try-repo` against a temporary git repository."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from conftest import REPO, write

PRE_COMMIT = shutil.which("pre-commit") or os.path.join(os.path.dirname(sys.executable), "pre-commit")


def _git(repo, *args):
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True,
                   env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
                        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"})


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory):
    if not os.path.exists(PRE_COMMIT):
        if os.environ.get("ECR_LINT_REQUIRE_TERRAFORM"):
            pytest.fail("pre-commit is not installed (it is a test extra)")
        pytest.skip("pre-commit is not installed (pip install -e '.[test]')")
    return str(tmp_path_factory.mktemp("pre-commit-home"))


@pytest.fixture()
def team_repo(tmp_path):
    repo = tmp_path / "infra"
    shutil.copytree(os.path.join(REPO, "terraform", "ecr", "fileflow"), repo / "terraform" / "ecr" / "fileflow")
    write(repo, {
        ".ecr-lint.toml": 'select = ["ECR001", "ECR002", "ECR003", "ECR006", "ECR008", "ECR010"]\n',
        "stacks/keys/main.tf": 'module "kms" {\n  source = "../../modules/kms"\n}\n',
        "modules/kms/main.tf": 'resource "aws_kms_key" "this" {\n  enable_key_rotation = true\n}\n',
    })
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "initial")
    return repo


def try_repo(repo, home, *files):
    env = {**os.environ, "PRE_COMMIT_HOME": home}
    return subprocess.run([PRE_COMMIT, "try-repo", REPO, "ecr-lint", "--verbose", "--files", *files],
                          cwd=repo, env=env, capture_output=True, text=True, timeout=900)


def test_failing_change_is_blocked_and_names_the_line(team_repo, pre_commit_home):
    variables = team_repo / "terraform" / "ecr" / "fileflow" / "variables.tf"
    variables.write_text(variables.read_text().replace('default     = "IMMUTABLE"', 'default     = "MUTABLE"')
                         .replace('default = "IMMUTABLE"', 'default = "MUTABLE"'))
    _git(team_repo, "add", "-A")
    done = try_repo(team_repo, pre_commit_home, "terraform/ecr/fileflow/variables.tf")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "ECR003  aws_ecr_repository.fileflow" in done.stdout
    assert "terraform/ecr/fileflow/main.tf:" in done.stdout


def test_passing_change_passes(team_repo, pre_commit_home):
    main_tf = team_repo / "terraform" / "ecr" / "fileflow" / "main.tf"
    main_tf.write_text("# reviewed\n" + main_tf.read_text())
    _git(team_repo, "add", "-A")
    done = try_repo(team_repo, pre_commit_home, "terraform/ecr/fileflow/main.tf")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "result: passed (exit 0)" in done.stdout


def test_change_in_a_module_lints_the_stack_that_calls_it(team_repo, pre_commit_home):
    module = team_repo / "modules" / "kms" / "main.tf"
    module.write_text(module.read_text().replace("true", "false"))
    _git(team_repo, "add", "-A")
    done = try_repo(team_repo, pre_commit_home, "modules/kms/main.tf")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "ECR010  module.kms.aws_kms_key.this" in done.stdout  # linted through stacks/keys


def run_hook(repo, home, *args):
    """`pre-commit run` with this repository's hook manifest as a local hook: the same
    definition (files, always_run, ...), with this environment's ecr-lint instead of a fresh
    install for every run (try-repo installs one each time: the tests above cover that)."""
    import yaml

    with open(os.path.join(REPO, ".pre-commit-hooks.yaml"), encoding="utf-8") as handle:
        hook = dict(yaml.safe_load(handle)[0])
    hook.update(language="system", entry=hook["entry"].replace(
        "ecr-lint", os.path.join(os.path.dirname(sys.executable), "ecr-lint"), 1))
    config = repo / ".git" / "hooks-config.yaml"
    config.write_text(yaml.safe_dump({"repos": [{"repo": "local", "hooks": [hook]}]}))
    env = {**os.environ, "PRE_COMMIT_HOME": home}
    return subprocess.run([PRE_COMMIT, "run", "--config", str(config), "--verbose", *args],
                          cwd=repo, env=env, capture_output=True, text=True, timeout=900)


def test_a_staged_deletion_lints_the_stack_that_held_the_file(team_repo, pre_commit_home):
    # outputs.tf holds the SSM export: deleting it must not commit with "(no files to check) Skipped"
    _git(team_repo, "rm", "-q", "terraform/ecr/fileflow/outputs.tf")
    done = run_hook(team_repo, pre_commit_home)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "ECR008  aws_ecr_repository.fileflow" in done.stdout
    _git(team_repo, "reset", "-q", "--hard")
    _git(team_repo, "mv", "terraform/ecr/fileflow/outputs.tf", "terraform/ecr/fileflow/outputs.tf.bak")
    done = run_hook(team_repo, pre_commit_home)
    assert done.returncode == 1 and "ECR008  aws_ecr_repository.fileflow" in done.stdout, done.stdout


def test_tfvars_below_a_stack_and_all_files_in_a_per_environment_layout(team_repo, pre_commit_home):
    write(team_repo, {
        "stacks/search/main.tf": 'variable "mutability" {\n  default = "IMMUTABLE"\n}\n'
                                 'resource "aws_ecr_repository" "search" {\n  name = "search"\n'
                                 '  image_tag_mutability = var.mutability\n}\n',
        "stacks/search/env/prod.tfvars": 'mutability = "IMMUTABLE"\n',
    })
    _git(team_repo, "add", "-A")
    done = run_hook(team_repo, pre_commit_home, "--files", "stacks/search/env/prod.tfvars")
    assert "no .tf files found" not in done.stdout + done.stderr
    assert "ECR002  aws_ecr_repository.search" in done.stdout  # the stack above the env/ folder was linted
    everything = run_hook(team_repo, pre_commit_home, "--all-files")
    assert "no .tf files found" not in everything.stdout + everything.stderr
    assert everything.returncode == 1 and "ECR002  aws_ecr_repository.search" in everything.stdout


def test_callers_on_one_line_and_in_tf_json_are_linted_for_a_module_change(team_repo, pre_commit_home):
    write(team_repo, {
        "modules/repo/main.tf": 'resource "aws_ecr_repository" "this" {\n  name = "x"\n'
                                '  image_tag_mutability = "IMMUTABLE"\n  image_scanning_configuration {\n'
                                '    scan_on_push = true\n  }\n}\n',
        "stacks/one/main.tf": 'module "m" { source = "../../modules/repo" }\n',
        "stacks/json/main.tf.json": '{"module": {"m": {"source": "../../modules/repo"}}}\n',
    })
    _git(team_repo, "add", "-A")
    _git(team_repo, "commit", "-qm", "callers")
    module = team_repo / "modules" / "repo" / "main.tf"
    module.write_text(module.read_text().replace('"IMMUTABLE"', '"MUTABLE"'))
    _git(team_repo, "add", "-A")
    done = run_hook(team_repo, pre_commit_home, "--files", "modules/repo/main.tf")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "2 stack(s)" in done.stdout  # stacks/one and stacks/json; the module itself is not a stack
    assert done.stdout.count("ECR003  module.m.aws_ecr_repository.this") == 2


def test_under_the_hook_producers_elsewhere_in_the_repository_are_known(team_repo, pre_commit_home):
    write(team_repo, {
        ".ecr-lint.toml": 'select = ["ECR016"]\n',
        "stacks/consumer/main.tf": 'data "aws_ssm_parameter" "url" {\n  name = "/shared/ecr/fileflow-repository-url"\n}\n',
    })
    _git(team_repo, "add", "-A")
    done = run_hook(team_repo, pre_commit_home, "--files", "stacks/consumer/main.tf")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no linted stack exports" not in done.stdout
    assert "1 stack(s)" in done.stdout  # fileflow (the producer) was read, not reported


def test_opentofu_files_are_passed_to_the_hook_and_lint_their_stack(team_repo, pre_commit_home):
    write(team_repo, {
        "stacks/tofu/main.tofu": 'resource "aws_ecr_repository" "tofu" {\n  name = "tofu"\n'
                                 '  image_tag_mutability = "IMMUTABLE"\n}\n',
        "stacks/tofu/main_override.tofu": 'resource "aws_ecr_repository" "tofu" {\n'
                                          '  image_tag_mutability = "MUTABLE"\n}\n',
    })
    _git(team_repo, "add", "-A")
    done = run_hook(team_repo, pre_commit_home, "--files", "stacks/tofu/main_override.tofu")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "stacks/tofu/main_override.tofu:2  error  ECR003  aws_ecr_repository.tofu" in done.stdout
    assert "1 stack(s)" in done.stdout


POLICY_READER = '''resource "aws_iam_policy" "extra" {
  name   = "extra"
  policy = file("${path.module}/../../policies/extra.json")
}
'''


def test_a_file_a_stack_reads_through_file_lints_that_stack(team_repo, pre_commit_home):
    """A policy JSON outside any stack, read by file(): changing it changes the stack's verdict, so
    the hook (given every changed file, no `files:` filter) lints the stack that read it. Before,
    the hook filtered the JSON out and passed."""
    write(team_repo, {"stacks/keys/extra.tf": POLICY_READER,
                      "policies/extra.json": '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", '
                                             '"Action": ["ecr:BatchGetImage"], "Resource": "*"}]}\n'})
    (team_repo / ".ecr-lint.toml").write_text('select = ["ECR004"]\n')
    _git(team_repo, "add", "-A")
    _git(team_repo, "commit", "-qm", "a policy read by file()")
    (team_repo / "policies" / "extra.json").write_text(
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["ecr:*"], "Resource": "*"}]}\n')
    _git(team_repo, "add", "-A")
    done = run_hook(team_repo, pre_commit_home)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "ECR004  aws_iam_policy.extra" in done.stdout and "stacks/keys/extra.tf:3" in done.stdout
    _git(team_repo, "reset", "-q", "--hard")
    (team_repo / "README.md").write_text("notes\n")  # a file no stack reads: nothing to lint, passes
    _git(team_repo, "add", "-A")
    done = run_hook(team_repo, pre_commit_home)
    assert done.returncode == 0, done.stdout + done.stderr
