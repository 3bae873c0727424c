"""The GitHub Action: its composite steps' shell scripts, run for real as the runner runs them."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys

import yaml

from conftest import REPO, write


def _action() -> dict:
    with open(os.path.join(REPO, "action.yml"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def _step(name: str) -> dict:
    return next(s for s in _action()["runs"]["steps"] if s.get("name") == name)


def launcher_dir(tmp_path) -> str:
    """A bin directory with `ecr-lint` as the action installs it: the console script of this environment."""
    bindir = tmp_path / "bin"
    bindir.mkdir(exist_ok=True)
    launcher = bindir / "ecr-lint"
    launcher.write_text(f"#!/bin/sh\nexec {sys.executable} -m ecr_lint \"$@\"\n")
    launcher.chmod(0o755)
    return str(bindir)


def run_action_step(tmp_path, name: str, inputs: dict[str, str], cwd: str = REPO, action_path: str = REPO,
                    env: dict[str, str] | None = None) -> tuple[subprocess.CompletedProcess, dict[str, str]]:
    """Run one composite step's `run:` as the runner does (`bash --noprofile --norc -eo pipefail {0}`),
    its `env:` filled from `inputs` (and the action's defaults): (the process, the outputs it set)."""
    action, step = _action(), _step(name)
    values = {key: str(spec.get("default", "")) for key, spec in action["inputs"].items()} | inputs
    step_env = {key: re.sub(r"\$\{\{\s*inputs\.([\w-]+)\s*\}\}", lambda m: values[m.group(1)], value)
                for key, value in step.get("env", {}).items()}
    assert "${{" not in json.dumps(step_env) and "${{" not in step["run"], "a step's script reads inputs via env only"
    script = tmp_path / f"{step.get('id', 'step')}.sh"
    script.write_text(step["run"])
    outputs = tmp_path / "github_output"
    outputs.write_text("")
    full_env = {**os.environ, "PATH": f"{launcher_dir(tmp_path)}:{os.environ['PATH']}", "GITHUB_OUTPUT": str(outputs),
                "GITHUB_ACTION_PATH": action_path, "RUNNER_OS": "Linux", **step_env, **(env or {})}
    done = subprocess.run([shutil.which("bash"), "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                          cwd=cwd, env=full_env, capture_output=True, text=True)
    return done, dict(line.split("=", 1) for line in outputs.read_text().splitlines())


def run_lint(tmp_path, path: str, fail_on: str = "error", cwd: str = REPO, **inputs: str):
    """The SARIF step, then the gate (as the runner would: the gate runs only when SARIF succeeded)."""
    sarif = str(tmp_path / "out.sarif")
    values = {"path": path, "fail-on": fail_on, "sarif-file": sarif, **inputs}
    sarif_step, outputs = run_action_step(tmp_path, "SARIF", values, cwd=cwd)
    gate = run_action_step(tmp_path, "Gate", values, cwd=cwd)[0] if sarif_step.returncode == 0 else None
    return sarif_step, outputs, gate


def test_action_is_a_composite_that_installs_from_its_own_checkout_and_caches_pip():
    action = _action()
    assert action["runs"]["using"] == "composite"
    steps = action["runs"]["steps"]
    assert set(action["inputs"]) >= {"path", "source-root", "fail-on", "sarif-file", "changed-only"}
    assert _step("Install ecr-lint from this action's checkout")["run"] == 'python -m pip install --quiet "$GITHUB_ACTION_PATH"'
    # the pip cache: actions/cache keyed and located by the step that hashes the action's pyproject.toml
    cache = next(s for s in steps if s.get("uses", "").startswith("actions/cache@"))
    assert cache["with"] == {"path": "${{ steps.pip-cache.outputs.dir }}", "key": "${{ steps.pip-cache.outputs.key }}"}
    assert [s.get("id") or s.get("name") or s["uses"].split("@")[0] for s in steps] == [
        "actions/setup-python", "pip-cache", "actions/cache", "Install ecr-lint from this action's checkout",
        "sarif", "Gate"]
    # setup-python's own cache needs a dependency file inside the workspace: not used (see action.yml)
    assert "cache" not in steps[0]["with"]
    assert action["outputs"]["sarif-file"]["value"] == "${{ steps.sarif.outputs.sarif-file }}"


def test_pip_cache_key_is_the_hash_of_the_actions_pyproject(tmp_path):
    done, outputs = run_action_step(tmp_path, "Locate the pip cache", {})
    assert done.returncode == 0, done.stderr
    pip_dir = subprocess.run([sys.executable, "-m", "pip", "cache", "dir"], capture_output=True, text=True).stdout.strip()
    with open(os.path.join(REPO, "pyproject.toml"), "rb") as handle:
        digest = hashlib.sha256(handle.read()).hexdigest()[:16]
    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert outputs == {"dir": pip_dir, "key": f"ecr-lint-pip-Linux-py{version}-{digest}"}
    # another pyproject.toml (new dependencies): another key
    other = tmp_path / "other-action"
    write(other, {"pyproject.toml": open(os.path.join(REPO, "pyproject.toml")).read() + "\n# changed\n"})
    assert run_action_step(tmp_path, "Locate the pip cache", {}, action_path=str(other))[1]["key"] != outputs["key"]


def test_findings_fail_the_gate_and_the_sarif_is_written_and_output(tmp_path):
    sarif_step, outputs, gate = run_lint(tmp_path, "fixtures/seed_as_written")
    assert sarif_step.returncode == 0, sarif_step.stderr
    assert outputs == {"sarif-file": str(tmp_path / "out.sarif")}
    sarif = json.loads((tmp_path / "out.sarif").read_text())
    assert [r["ruleId"] for r in sarif["runs"][0]["results"]] == ["ECR014", "ECR003"]
    assert gate.returncode == 1, gate.stderr
    assert "::error file=fixtures/seed_as_written/main.tf,line=3,title=ECR003::" in gate.stdout


def test_a_clean_stack_passes(tmp_path):
    sarif_step, outputs, gate = run_lint(tmp_path, "terraform/ecr")
    assert (sarif_step.returncode, gate.returncode) == (0, 0), gate.stdout + gate.stderr
    assert json.loads((tmp_path / "out.sarif").read_text())["runs"][0]["results"] == []
    assert outputs == {"sarif-file": str(tmp_path / "out.sarif")}


def test_fail_on_never_passes(tmp_path):
    assert run_lint(tmp_path, "fixtures/seed_as_written", "never")[2].returncode == 0


def test_an_unreadable_input_still_uploads_its_sarif_and_fails_the_gate_with_2(tmp_path):
    write(tmp_path / "stack", {"main.tf": 'resource "aws_kms_key" "k" {\n  enable_key_rotation =\n'})
    sarif_step, outputs, gate = run_lint(tmp_path, str(tmp_path / "stack"))
    assert sarif_step.returncode == 0 and outputs == {"sarif-file": str(tmp_path / "out.sarif")}
    notes = json.loads((tmp_path / "out.sarif").read_text())["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert [n["locations"][0]["physicalLocation"]["region"]["startLine"] for n in notes] == [2]
    assert gate.returncode == 2


def test_no_sarif_means_no_output_and_a_failed_step(tmp_path):
    # a report that cannot be written (here: into a directory that does not exist)
    done, outputs = run_action_step(tmp_path, "SARIF", {"path": "fixtures/seed_as_written",
                                                        "sarif-file": str(tmp_path / "missing" / "out.sarif")})
    assert done.returncode == 3 and outputs == {}
    assert "::error title=ecr-lint::ecr-lint wrote no SARIF report" in done.stdout


def test_a_stale_sarif_from_an_earlier_run_is_not_reported_as_written(tmp_path):
    stale = tmp_path / "out.sarif"
    stale.write_text('{"stale": true}')
    done, outputs = run_action_step(tmp_path, "SARIF", {"path": str(tmp_path / "nothing-here"),
                                                        "sarif-file": str(stale)},
                                    env={"PATH": f"{tmp_path / 'empty-bin'}:/usr/bin:/bin"})
    assert done.returncode != 0 and outputs == {} and not stale.exists()  # no ecr-lint on PATH at all

