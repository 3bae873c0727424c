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
    assert "0 failed" in done.stdout


def test_change_in_a_module_lints_the_stack_that_calls_it(team_repo, pre_commit_home):
    module = team_repo / "modules" / "kms" / "main.tf"
    module.write_text(module.read_text().replace("true", "false"))
    _git(team_repo, "add", "-A")
    done = try_repo(team_repo, pre_commit_home, "modules/kms/main.tf")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "ECR010  module.kms.aws_kms_key.this" in done.stdout  # linted through stacks/keys
