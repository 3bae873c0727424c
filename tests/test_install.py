"""The README's install order, for real, in a fresh virtual environment: `pip install .`, a run,
then `pip install -e '.[test]'`, a run, then `pip uninstall`. ecr-lint never writes into its own
installation, so nothing is left behind to shadow the editable install or outlive the uninstall."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from conftest import REPO

LEFT_OUT = {".venv", ".git", "build", "bench", "__pycache__", ".pytest_cache", ".hypothesis", ".terraform"}


def _ignore(directory: str, names: list[str]) -> set[str]:
    return {n for n in names if n in LEFT_OUT or n.endswith(".egg-info") or n.startswith(".hcl2_parser")}


def _run(args: list[str], cwd, env=None) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def _files(directory: str) -> set[str]:
    return {os.path.relpath(os.path.join(d, f), directory) for d, _, files in os.walk(directory) for f in files}


def _lint_both(ecr_lint: str, clone, env) -> None:
    """The README's first command and the seed stack: exact exit codes, no traceback."""
    clean = _run([ecr_lint, "terraform/ecr"], clone, env)
    assert (clean.returncode, clean.stderr) == (0, ""), clean.stdout + clean.stderr
    failing = _run([ecr_lint, "fixtures/seed_as_written"], clone, env)
    assert failing.returncode == 1, failing.stdout + failing.stderr
    assert "fixtures/seed_as_written/main.tf:3  error  ECR003  aws_ecr_repository.fileflow" in failing.stdout
    assert failing.stderr == ""


def test_install_run_editable_install_run_uninstall_leaves_nothing(tmp_path):
    clone = tmp_path / "ecr-lint"  # a fresh clone: the repository's files, none of its build products
    shutil.copytree(REPO, clone, ignore=_ignore)
    venv = tmp_path / "venv"
    made = _run([sys.executable, "-m", "venv", str(venv)], tmp_path)
    assert made.returncode == 0, made.stderr
    pip, python, ecr_lint = (str(venv / "bin" / name) for name in ("pip", "python", "ecr-lint"))
    pip_env = {k: v for k, v in os.environ.items() if k != "XDG_CACHE_HOME"}  # pip's own cache as usual
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"))  # ecr-lint's: a fresh one
    site = _run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], tmp_path).stdout.strip()

    installed = _run([pip, "install", "-q", "."], clone, pip_env)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    package = os.path.join(site, "ecr_lint")
    before = _files(package)
    _lint_both(ecr_lint, clone, env)
    assert _files(package) == before  # nothing written into the installation...
    parser_entries = os.path.join(tmp_path, "cache", "ecr-lint", "v1", "parser")
    assert len(_files(parser_entries)) == 1  # ...the built parser went to the user cache

    editable = _run([pip, "install", "-q", "-e", ".[test]"], clone, pip_env)
    assert editable.returncode == 0, editable.stdout + editable.stderr
    assert not os.path.exists(package)  # the regular install was removed whole: nothing shadows the checkout
    where = _run([python, "-c", "import ecr_lint; print(ecr_lint.__file__)"], tmp_path)
    assert where.stdout.strip() == str(clone / "ecr_lint" / "__init__.py"), where.stdout + where.stderr
    _lint_both(ecr_lint, clone, env)

    removed = _run([pip, "uninstall", "-y", "ecr-lint"], clone, pip_env)
    assert removed.returncode == 0, removed.stdout + removed.stderr
    assert [n for n in os.listdir(site) if "ecr_lint" in n.lower() or "ecr-lint" in n.lower()] == []
