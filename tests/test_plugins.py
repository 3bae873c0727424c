"""Predicates from installed packages (issue 16 item 2): a real plugin package, built in a temporary
folder and pip-installed with ecr-lint into a fresh virtual environment, used by rule files
through the real CLI of that environment."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from conftest import REPO, write

PLUGIN = {
    "pyproject.toml": """\
        [build-system]
        requires = ["setuptools>=68"]
        build-backend = "setuptools.build_meta"

        [project]
        name = "acme-ecr-rules"
        version = "1.0.0"

        [tool.setuptools]
        packages = ["acme_ecr_rules"]

        [project.entry-points."ecr_lint.predicates"]
        owner = "acme_ecr_rules.checks:owner_and_policy"
        boom = "acme_ecr_rules.checks:boom"
        not_a_verdict = "acme_ecr_rules.checks:not_a_verdict"
        exits = "acme_ecr_rules.checks:exits"
        writes = "acme_ecr_rules.checks:writes"
        noisy = "acme_ecr_rules.checks:noisy"
        broken = "acme_ecr_rules.broken:check"
        """,
    "acme_ecr_rules/__init__.py": "",
    "acme_ecr_rules/checks.py": '''\
        """ACME's own ECR checks, through ecr-lint's predicate API."""
        from ecr_lint.plugin import Unknown, failed, passed, plain, shown, unknown


        def owner_and_policy(resource, ctx):
            """An Owner tag naming a team, and a repository policy that refers to the repository."""
            tags = plain(resource.attributes.get("tags"))
            if isinstance(tags, Unknown):
                yield unknown(f"the tags are unknown: {tags.reason}", "tags")
                return
            owner = plain((tags or {}).get("Owner"))
            if isinstance(owner, Unknown):
                yield unknown(f"the Owner tag is unknown: {owner.reason}", "tags")
            elif not isinstance(owner, str) or not owner.startswith("team-"):
                yield failed(f"the Owner tag is {shown(owner)}, not a team-... name", "tags")
            if not ctx.referrers(resource.address, "aws_ecr_repository_policy"):
                yield failed(f"no aws_ecr_repository_policy refers to {resource.address}")


        def unregistered(resource, ctx):
            return passed()


        def boom(resource, ctx):
            raise ValueError("the ACME check broke")


        def not_a_verdict(resource, ctx):
            return "looks fine to me"


        def exits(resource, ctx):
            raise SystemExit(0)


        def writes(resource, ctx):
            resource.attributes["scan_on_push"] = True   # read-only: other rules' view must not change


        def noisy(resource, ctx):
            print("debugging output")
            return passed("fine")
        ''',
    "acme_ecr_rules/broken.py": '''\
        import acme_ecr_rules_missing_dependency  # noqa: F401


        def check(resource, ctx):
            return []
        ''',
}

RULE = """\
id: {id}
name: acme-check
severity: error
title: An ACME rule from a plugin
rationale: Why.
remediation: How.
applies_to:
  resource_types: [aws_ecr_repository]
check:
  predicate: "{predicate}"
examples:
  fail: |
    resource "aws_ecr_repository" "a" {{}}
  pass: |
    resource "aws_ecr_repository" "a" {{}}
"""

STACK = """\
resource "aws_ecr_repository" "good" {
  name = "good"
  tags = { Owner = "team-payments" }
}
resource "aws_ecr_repository_policy" "good" {
  repository = aws_ecr_repository.good.name
  policy     = "{}"
}
resource "aws_ecr_repository" "bad" {
  name = "bad"
  tags = { Owner = "bob" }
}
"""


@pytest.fixture(scope="module")
def venv(tmp_path_factory):
    """A fresh virtual environment with ecr-lint (from a copy of this checkout) and the plugin."""
    root = tmp_path_factory.mktemp("plugin-venv")
    source = root / "ecr-lint"   # a copy: building in the checkout would leave build/ behind in it
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(os.path.join(REPO, name), source / name)
    ignore = shutil.ignore_patterns("__pycache__", ".hcl2_parser*")
    for name in ("ecr_lint", "rules"):
        shutil.copytree(os.path.join(REPO, name), source / name, ignore=ignore)
    write(root / "plugin", {name: textwrap.dedent(text) for name, text in PLUGIN.items()})
    subprocess.run([sys.executable, "-m", "venv", str(root / "venv")], check=True, timeout=300)
    pip = subprocess.run([str(root / "venv" / "bin" / "python"), "-m", "pip", "install", "-q", str(source),
                          str(root / "plugin")], capture_output=True, text=True, timeout=900)
    assert pip.returncode == 0, pip.stderr[-3000:]
    return root / "venv"


def ecr_lint(venv, cwd, *args: str, cache: bool = False) -> subprocess.CompletedProcess:
    env = {**os.environ, "XDG_CACHE_HOME": str(cwd / "cache")}
    env.pop("PYTHONPATH", None)
    return subprocess.run([str(venv / "bin" / "ecr-lint"), *args, *([] if cache else ["--no-cache"])],
                          capture_output=True, text=True, timeout=120, env=env, cwd=str(cwd))


def setup(tmp_path, predicate: str, rule_id: str = "ECR970") -> None:
    write(tmp_path, {f"rules/{rule_id}.yaml": RULE.format(id=rule_id, predicate=predicate), "stack/main.tf": STACK})


def findings(result: subprocess.CompletedProcess) -> set[tuple[str, str, str]]:
    return {(f["rule_id"], f["address"], f["status"]) for f in json.loads(result.stdout)["findings"]}


def test_a_registered_plugin_predicate_checks_through_the_cli(venv, tmp_path):
    setup(tmp_path, "acme_ecr_rules.checks:owner_and_policy")
    result = ecr_lint(venv, tmp_path, "stack", "--rules-dir", "rules", "--select", "ECR970", "--format", "json")
    assert result.returncode == 1, result.stderr
    assert findings(result) == {("ECR970", "aws_ecr_repository.bad", "fail")}
    report = json.loads(result.stdout)
    assert sorted(r["message"] for r in report["results"] if r["address"] == "aws_ecr_repository.bad") == [
        "no aws_ecr_repository_policy refers to aws_ecr_repository.bad", "the Owner tag is bob, not a team-... name"]
    assert [r["line"] for r in report["results"] if r["message"].startswith("the Owner tag")] == [11]
    listed = ecr_lint(venv, tmp_path, "rules", "--rules-dir", "rules", "--", cache=True)  # a rules/ folder is here
    assert "ECR970  acme-check" in listed.stdout


def test_an_edited_plugin_is_not_answered_from_the_result_cache(venv, tmp_path):
    setup(tmp_path, "acme_ecr_rules.checks:owner_and_policy")
    args = ("stack", "--rules-dir", "rules", "--select", "ECR970", "--format", "json")
    assert findings(ecr_lint(venv, tmp_path, *args, cache=True)) == {("ECR970", "aws_ecr_repository.bad", "fail")}
    [checks] = venv.glob("lib/python*/site-packages/acme_ecr_rules/checks.py")
    original = checks.read_text()
    try:
        checks.write_text(original.replace('owner.startswith("team-")', 'owner.startswith(("team-", "bob"))')
                          .replace("if not ctx.referrers(", "if False and not ctx.referrers("))
        assert findings(ecr_lint(venv, tmp_path, *args, cache=True)) == set()
    finally:
        checks.write_text(original)


def test_plugins_run_in_worker_processes(venv, tmp_path):
    setup(tmp_path, "acme_ecr_rules.checks:owner_and_policy")
    write(tmp_path, {"stack/two/main.tf": STACK})
    result = ecr_lint(venv, tmp_path, "stack", "--rules-dir", "rules", "--select", "ECR970", "--format", "json",
                      "--jobs", "2")
    assert result.returncode == 1, result.stderr
    assert {(f["address"], f["stack"]) for f in json.loads(result.stdout)["findings"]} == {
        ("aws_ecr_repository.bad", "stack"), ("aws_ecr_repository.bad", "stack/two")}


@pytest.mark.parametrize("predicate, words", [
    ("acme_ecr_rules.checks:boom", "ValueError: the ACME check broke (at "),
    ("acme_ecr_rules.checks:not_a_verdict", "PluginError: returned str 'looks fine to me', not verdicts made with ecr_lint.plugin"),
    ("acme_ecr_rules.checks:exits", "SystemExit: 0"),
    ("acme_ecr_rules.checks:writes", "TypeError: 'mappingproxy' object does not support item assignment"),
])
def test_a_crashing_plugin_is_an_internal_error_naming_rule_and_plugin_and_the_run_goes_on(venv, tmp_path,
                                                                                       predicate, words):
    setup(tmp_path, predicate)
    result = ecr_lint(venv, tmp_path, "stack", "--rules-dir", "rules", "--select", "ECR970,ECR002",
                      "--format", "json")
    assert result.returncode == 3, result.stderr
    report = json.loads(result.stdout)
    [error] = report["errors"]
    assert error["kind"] == "internal" and error["file"].endswith("rules/ECR970.yaml")
    assert error["message"].startswith(f"rule ECR970 (plugin {predicate}) crashed on aws_ecr_repository.")
    assert words in error["message"]
    # the other rules still ran, and saw the resources as they are
    assert {(f["rule_id"], f["address"]) for f in report["findings"]} == {
        ("ECR002", "aws_ecr_repository.good"), ("ECR002", "aws_ecr_repository.bad")}


def test_a_plugin_printing_does_not_corrupt_the_report(venv, tmp_path):
    setup(tmp_path, "acme_ecr_rules.checks:noisy")
    result = ecr_lint(venv, tmp_path, "stack", "--rules-dir", "rules", "--select", "ECR970", "--format", "json")
    assert result.returncode == 0
    assert {r["status"] for r in json.loads(result.stdout)["results"]} == {"pass"}
    assert "debugging output" in result.stderr


@pytest.mark.parametrize("predicate, words", [
    ("acme_ecr_rules.checks:unregistered", "'acme_ecr_rules.checks:unregistered' is not registered by any installed "
                                           "package under the 'ecr_lint.predicates' entry point group"),
    ("os:system", "'os:system' is not registered by any installed package"),
    ("acme_ecr_rules.broken:check", "plugin 'acme_ecr_rules.broken:check' from acme-ecr-rules 1.0.0 cannot be "
                                    "loaded: ModuleNotFoundError: No module named 'acme_ecr_rules_missing_dependency'"),
    ("acme ecr:check", "does not match"),
])
def test_a_missing_or_unloadable_plugin_is_a_rule_file_error(venv, tmp_path, predicate, words):
    setup(tmp_path, predicate)
    result = ecr_lint(venv, tmp_path, "stack", "--rules-dir", "rules", "--format", "json")
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"ecr-lint: {os.path.join('rules', 'ECR970.yaml')}: check.predicate: ")
    assert words in line
