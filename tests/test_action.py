"""The GitHub Action: its composite steps' shell scripts, run for real on a fixture."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import yaml

from conftest import REPO


def _action() -> dict:
    with open(os.path.join(REPO, "action.yml"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def test_action_is_a_composite_that_installs_from_its_own_checkout():
    action = _action()
    assert action["runs"]["using"] == "composite"
    steps = action["runs"]["steps"]
    assert any("github.action_path" in step.get("run", "") for step in steps)
    assert set(action["inputs"]) >= {"path", "source-root", "fail-on", "sarif-file", "changed-only"}


def _run_lint_step(tmp_path, path: str, fail_on: str = "error", sarif: str | None = None) -> subprocess.CompletedProcess:
    step = next(s for s in _action()["runs"]["steps"] if s.get("name") == "Lint")
    script = tmp_path / "lint.sh"
    script.write_text(step["run"])
    bindir = tmp_path / "bin"
    bindir.mkdir()
    # `ecr-lint` as the action installs it: the console script of this environment.
    launcher = bindir / "ecr-lint"
    launcher.write_text(f"#!/bin/sh\nexec {sys.executable} -m ecr_lint \"$@\"\n")
    launcher.chmod(0o755)
    env = dict(os.environ, PATH=f"{bindir}:{os.environ['PATH']}", ECR_LINT_PATH=path, ECR_LINT_SOURCE_ROOT="",
               ECR_LINT_FAIL_ON=fail_on, ECR_LINT_SARIF=sarif or str(tmp_path / "out.sarif"), ECR_LINT_CHANGED_ONLY="false")
    # GitHub runs `bash -e {0}` with pipefail for `shell: bash`.
    return subprocess.run([shutil.which("bash"), "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                          cwd=REPO, env=env, capture_output=True, text=True)


def test_lint_step_fails_the_job_on_findings_and_writes_sarif(tmp_path):
    done = _run_lint_step(tmp_path, "fixtures/seed_as_written")
    assert done.returncode == 1, done.stderr
    assert "::error file=fixtures/seed_as_written/main.tf,line=3,title=ECR003::" in done.stdout
    sarif = json.loads((tmp_path / "out.sarif").read_text())
    assert [r["ruleId"] for r in sarif["runs"][0]["results"]] == ["ECR014", "ECR003"]


def test_lint_step_passes_a_clean_stack(tmp_path):
    done = _run_lint_step(tmp_path, "terraform/ecr")
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads((tmp_path / "out.sarif").read_text())["runs"][0]["results"] == []


def test_lint_step_fail_on_never_passes(tmp_path):
    assert _run_lint_step(tmp_path, "fixtures/seed_as_written", "never").returncode == 0


def test_example_workflow_runs_plan_show_and_uploads_sarif():
    with open(os.path.join(REPO, "docs", "examples", "ecr-lint-plan.yml"), encoding="utf-8") as handle:
        text = handle.read()
    workflow = yaml.safe_load(text)
    steps = workflow["jobs"]["plan-gate"]["steps"]
    runs = " ".join(s.get("run", "") for s in steps)
    assert "terraform plan" in runs and "terraform show -json" in runs
    assert any(s.get("uses", "").startswith("github/codeql-action/upload-sarif") for s in steps)


def test_lint_step_fails_when_the_sarif_cannot_be_written(tmp_path):
    # A clean stack: without the SARIF, code scanning would see nothing, so the step must fail (3).
    done = _run_lint_step(tmp_path, "terraform/ecr", sarif="/dev/full")
    assert done.returncode == 3, done.stdout + done.stderr
    assert "ecr-lint: cannot write the report to /dev/full: No space left on device" in done.stderr


def test_lint_step_bad_input_still_writes_sarif_and_annotates(tmp_path):
    write_dir = tmp_path / "stack"
    write_dir.mkdir()
    (write_dir / "main.tf").write_text('resource "aws_kms_key" "k" {\n  enable_key_rotation = \n}\n')
    done = _run_lint_step(tmp_path, str(write_dir))
    assert done.returncode == 2, done.stdout + done.stderr
    assert "title=ecr-lint input error::" in done.stdout
    assert json.loads((tmp_path / "out.sarif").read_text())["runs"][0]["invocations"][0]["toolExecutionNotifications"]
