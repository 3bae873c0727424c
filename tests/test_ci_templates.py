"""The CI templates in docs/examples as they would run: the GitLab template's `script:` lines and the
GitHub workflow's `run:` steps (with the Action's steps) run for real, `terraform` against moto on
127.0.0.1, and the artifacts they produce validated against the schemas in tests/schemas/."""

from __future__ import annotations

import json
import os
import re
import shutil
import string
import subprocess

import jsonschema
import pytest
import yaml

import tfharness
from conftest import REPO
from test_action import launcher_dir, run_action_step
from test_ci_formats import GITLAB_SCHEMA, junit_cases

EXAMPLES = os.path.join(REPO, "docs", "examples")
PIN_PLACEHOLDER = "REPLACE-WITH-A-FULL-COMMIT-SHA"


def _yaml(name: str) -> dict:
    with open(os.path.join(EXAMPLES, name), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def bash(lines: list[str], cwd, env: dict[str, str]) -> subprocess.CompletedProcess:
    """Lines run one after another in one bash with errexit and pipefail, as GitLab Runner runs a
    job's `script:` (and GitHub one `run:` step)."""
    return subprocess.run([shutil.which("bash"), "--noprofile", "--norc", "-eo", "pipefail", "-c", "\n".join(lines)],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)


def project(tmp_path, stack: str, endpoint: str) -> str:
    """A checkout of a repository holding `stack` (from this repository) at the same path, its AWS
    provider pointed at moto by an override file, as a CI job sees it."""
    root = tmp_path / "project"
    shutil.copytree(os.path.join(REPO, stack), root / stack)
    (root / stack / tfharness.OVERRIDE_FILENAME).write_text(
        tfharness.override_hcl(endpoint, tfharness.provider_aliases(os.path.join(REPO, stack))))
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return str(root)


def terraform_env(tmp_path, **extra: str) -> dict[str, str]:
    """Only loopback (moto), dummy credentials, the offline provider; ecr-lint as the job installs it."""
    env = tfharness._scrubbed_env({"TF_CLI_ARGS_init": f"-plugin-dir={tfharness.plugin_dir()}", **extra})
    env["PATH"] = f"{launcher_dir(tmp_path)}:{env['PATH']}"
    return env


# --- GitLab ------------------------------------------------------------------------------------

def gitlab_variables(job: dict, project_dir: str, **overrides: str) -> dict[str, str]:
    """The template's global and job variables as GitLab expands them, plus what GitLab provides."""
    template = _yaml("gitlab-ci.yml")
    values = {"CI_PROJECT_DIR": project_dir, "PLAN_ROLE_ARN": "arn:aws:iam::123456789012:role/ecr-plan",
              "AWS_OIDC_TOKEN": "header.payload.signature"}
    for key, value in {**template["variables"], **job.get("variables", {}), **overrides}.items():
        values[key] = string.Template(str(value)).safe_substitute(values)
    return values


def run_gitlab_job(name: str, project_dir: str, tmp_path, **overrides: str) -> subprocess.CompletedProcess:
    job = _yaml("gitlab-ci.yml")[name]
    return bash(job["script"], project_dir, terraform_env(tmp_path, **gitlab_variables(job, project_dir, **overrides)))


@pytest.fixture(scope="module")
def planned(tmp_path_factory, tf_required, moto_server):
    """Real plans, made by the templates' own steps: the GitLab terraform-plan job on a failing stack,
    the GitHub workflow's `run:` steps on the clean shipped stack (two plans, not four: each costs)."""
    moto_server.reset()
    tfharness.bootstrap(moto_server.endpoint)
    tmp_path = tmp_path_factory.mktemp("gitlab")
    failing = project(tmp_path, "fixtures/seed_as_written", moto_server.endpoint)
    done = run_gitlab_job("terraform-plan", failing, tmp_path, TF_ROOT="fixtures/seed_as_written")
    assert done.returncode == 0, done.stdout + done.stderr
    with open(os.path.join(failing, ".aws-oidc-token"), encoding="utf-8") as handle:
        assert handle.read() == "header.payload.signature"  # the ID token, where the provider reads it
    assert os.path.isfile(os.path.join(failing, "fixtures/seed_as_written/plan.json"))
    return {"fixtures/seed_as_written": failing,
            "terraform/ecr/fileflow": run_workflow_steps(tmp_path_factory.mktemp("github"), moto_server.endpoint)}


def gitlab_artifacts(root: str) -> tuple[list[dict], dict]:
    """The ecr-lint job's codequality and junit reports, validated against their schemas."""
    job = _yaml("gitlab-ci.yml")["ecr-lint"]
    reports = job["artifacts"]["reports"]
    assert job["artifacts"]["when"] == "always"
    with open(os.path.join(root, reports["codequality"]), "rb") as handle:
        issues = json.loads(handle.read().decode("utf-8"))
    jsonschema.Draft202012Validator(GITLAB_SCHEMA).validate(issues)
    with open(os.path.join(root, reports["junit"]), "rb") as handle:
        cases = junit_cases(handle.read())
    return issues, cases


def test_gitlab_template_passes_a_clean_plan(planned, tmp_path):
    root = planned["terraform/ecr/fileflow"]
    done = run_gitlab_job("ecr-lint", root, tmp_path, TF_ROOT="terraform/ecr/fileflow")
    assert done.returncode == 0, done.stdout + done.stderr
    issues, cases = gitlab_artifacts(root)
    assert issues == []
    assert cases and {outcome for outcome, _ in cases.values()} == {"pass"}
    assert {key[0] for key in cases} == {"terraform/ecr/fileflow/plan.json"}


def test_gitlab_template_fails_the_job_on_findings_and_reports_them(planned, tmp_path):
    root = planned["fixtures/seed_as_written"]
    done = run_gitlab_job("ecr-lint", root, tmp_path, TF_ROOT="fixtures/seed_as_written")
    assert done.returncode == 1, done.stdout + done.stderr
    issues, cases = gitlab_artifacts(root)
    assert [(i["check_name"], i["severity"], i["location"]["path"], i["location"]["lines"]["begin"]) for i in issues] == [
        ("ECR014", "major", "fixtures/seed_as_written/main.tf", 1),
        ("ECR003", "critical", "fixtures/seed_as_written/main.tf", 3)]
    suite = "fixtures/seed_as_written/plan.json"
    assert {key[1:] for key, (outcome, _) in cases.items() if outcome != "pass"} == {
        (f"{suite}.ECR014", "aws_ecr_repository.fileflow"), (f"{suite}.ECR003", "aws_ecr_repository.fileflow")}
    # ECR_LINT_FAIL_ON=never: the same reports, and the job passes
    assert run_gitlab_job("ecr-lint", root, tmp_path, TF_ROOT="fixtures/seed_as_written",
                          ECR_LINT_FAIL_ON="never").returncode == 0
    assert gitlab_artifacts(root)[0] == issues


def test_gitlab_template_reports_an_unreadable_plan_and_fails_with_2(tmp_path):
    """No terraform needed: the plan artifact as a truncated download would leave it."""
    root = tmp_path / "project"
    shutil.copytree(os.path.join(REPO, "fixtures", "seed_as_written"), root / "stack")
    with open(os.path.join(REPO, "fixtures", "plans", "seed_as_written.plan.json"), encoding="utf-8") as handle:
        (root / "stack" / "plan.json").write_text(handle.read()[:5000])
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    done = run_gitlab_job("ecr-lint", str(root), tmp_path, TF_ROOT="stack")
    assert done.returncode == 2, done.stdout + done.stderr  # the first line went on, the gate failed
    issues, cases = gitlab_artifacts(str(root))
    truncated_at = (root / "stack" / "plan.json").read_text().count("\n") + 1   # the line where the text stops
    assert [(i["check_name"], i["location"]["path"], i["location"]["lines"]["begin"]) for i in issues] == [
        ("input-error", "stack/plan.json", truncated_at)]
    # a plan that cannot be read is no stack: its error has the suite of errors outside stacks
    assert [(key, outcome) for key, (outcome, _) in cases.items()] == [
        (("(no stack)", "(no stack).input-error", f"stack/plan.json:{truncated_at}"), "error")]


def test_gitlab_template_is_pinned_and_installs_before_its_script():
    template = _yaml("gitlab-ci.yml")
    assert template["variables"]["ECR_LINT_REF"] == PIN_PLACEHOLDER
    job = template["ecr-lint"]
    assert job["before_script"] == [
        'python -m pip install --quiet "https://github.com/ecr-lint/ecr-lint/archive/$ECR_LINT_REF.tar.gz"']
    assert job["needs"] == ["terraform-plan"] and template["terraform-plan"]["artifacts"]["paths"] == ["$TF_ROOT/plan.json"]
    assert template["terraform-plan"]["variables"] == {"AWS_ROLE_ARN": "$PLAN_ROLE_ARN",
                                                       "AWS_WEB_IDENTITY_TOKEN_FILE": "$CI_PROJECT_DIR/.aws-oidc-token"}
    assert set(template["terraform-plan"]["id_tokens"]) == {"AWS_OIDC_TOKEN"}


# --- GitHub ------------------------------------------------------------------------------------

def _workflow() -> dict:
    return _yaml("ecr-lint-plan.yml")


def test_workflow_permissions_are_what_oidc_and_sarif_upload_need():
    assert _workflow()["permissions"] == {"contents": "read", "id-token": "write", "security-events": "write",
                                          "actions": "read"}


def test_workflow_pins_the_action_and_uploads_only_a_written_sarif():
    steps = _workflow()["jobs"]["plan-gate"]["steps"]
    lint = next(s for s in steps if s.get("id") == "ecr-lint")
    owner_repo, _, ref = lint["uses"].partition("@")
    assert owner_repo == "ecr-lint/ecr-lint"
    assert ref == PIN_PLACEHOLDER or re.fullmatch("[0-9a-f]{40}", ref), "pin a full commit SHA: no tags exist"
    upload = next(s for s in steps if s.get("uses", "").startswith("github/codeql-action/upload-sarif@"))
    assert upload["if"] == "always() && steps.ecr-lint.outputs.sarif-file != ''"
    assert upload["with"]["sarif_file"] == "${{ steps.ecr-lint.outputs.sarif-file }}"


def test_no_example_names_a_tag_that_does_not_exist():
    for name in ("ecr-lint-plan.yml", "gitlab-ci.yml"):
        with open(os.path.join(EXAMPLES, name), encoding="utf-8") as handle:
            text = handle.read()
        assert not re.search(r"ecr-lint/ecr-lint@v\d|rev: v\d", text), name


def _expand(text: str, matrix: dict[str, str]) -> str:
    return re.sub(r"\$\{\{\s*matrix\.(\w+)\s*\}\}", lambda m: matrix[m.group(1)], text)


def run_workflow_steps(tmp_path, endpoint: str) -> str:
    """The workflow's `run:` steps (terraform init, plan, show) in the job's working directory,
    each in its own bash as GitHub runs them: the workspace."""
    job = _workflow()["jobs"]["plan-gate"]
    matrix = {"stack": job["strategy"]["matrix"]["stack"][0]}
    workspace = project(tmp_path, f"terraform/ecr/{matrix['stack']}", endpoint)
    workdir = os.path.join(workspace, _expand(job["defaults"]["run"]["working-directory"], matrix))
    for step in job["steps"]:
        if "run" in step:
            done = bash([step["run"]], workdir, terraform_env(tmp_path))
            assert done.returncode == 0, step["run"] + "\n" + done.stdout + done.stderr
    return workspace


def test_workflow_steps_run_for_real_then_the_actions_steps_with_its_inputs(planned, tmp_path):
    """After the workflow's own steps made the plan: the Action's SARIF and gate steps with the
    workflow's `with:`; the SARIF output is set, so the upload step's condition holds."""
    job = _workflow()["jobs"]["plan-gate"]
    stack = job["strategy"]["matrix"]["stack"][0]
    workspace = planned[f"terraform/ecr/{stack}"]
    inputs = {key: _expand(str(value), {"stack": stack}) for key, value in
              next(s for s in job["steps"] if s.get("id") == "ecr-lint")["with"].items()}
    sarif_step, outputs = run_action_step(tmp_path, "SARIF", inputs, cwd=workspace)
    assert sarif_step.returncode == 0, sarif_step.stdout + sarif_step.stderr
    assert outputs == {"sarif-file": f"ecr-lint-{stack}.sarif"}
    with open(os.path.join(workspace, outputs["sarif-file"]), encoding="utf-8") as handle:
        sarif = json.load(handle)
    assert sarif["runs"][0]["results"] == []
    assert {r["id"] for r in sarif["runs"][0]["tool"]["driver"]["rules"]} >= {"ECR001", "ECR003"}
    gate, _ = run_action_step(tmp_path, "Gate", inputs, cwd=workspace)
    assert gate.returncode == 0, gate.stdout + gate.stderr
    assert "ecr-lint: 0 failed, 0 unknown, 0 input error(s)" in gate.stdout


# --- pinning the pre-commit hook -------------------------------------------------------------------

def test_precommit_autoupdate_pins_the_hook_to_a_full_commit_sha_while_there_are_no_tags(tmp_path):
    """The README's instruction: write any rev, run `pre-commit autoupdate` (no tags: the default
    branch's commit), for real against a clone of this repository."""
    from test_precommit import PRE_COMMIT

    if not os.path.exists(PRE_COMMIT):
        pytest.skip("pre-commit is not installed (pip install -e '.[test]')")
    source = tmp_path / "ecr-lint"
    subprocess.run(["git", "clone", "-q", "--no-tags", REPO, str(source)], check=True)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=source, capture_output=True, text=True).stdout.strip()
    consumer = tmp_path / "infra"
    consumer.mkdir()
    subprocess.run(["git", "init", "-q", str(consumer)], check=True)
    (consumer / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {source}\n    rev: {PIN_PLACEHOLDER}\n    hooks:\n      - id: ecr-lint\n")
    done = subprocess.run([PRE_COMMIT, "autoupdate"], cwd=consumer, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "home")})
    assert done.returncode == 0, done.stdout + done.stderr
    config = yaml.safe_load((consumer / ".pre-commit-config.yaml").read_text())
    assert config["repos"][0]["rev"] == head and re.fullmatch("[0-9a-f]{40}", head)
