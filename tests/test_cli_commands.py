"""An unambiguous command line: a path is always linted, never taken for a command; `--` reaches a
command a path shadows; docs writes only where it is told; `ecr-lint --help` shows the lint
options; lint and graph take the same input options; every option says what it does."""

from __future__ import annotations

import json
import os

import click
import pytest
from click.testing import CliRunner

from ecr_lint.cli import _INPUT_OPTIONS, main

from conftest import write

SEED = '''
resource "aws_ecr_repository" "fileflow" {
  name                 = "fileflow"
  image_tag_mutability = "MUTABLE"
  tags                 = { Environment = "prod" }
}
'''
COMMANDS = ("lint", "graph", "rules", "explain", "docs", "fix")


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False, prog_name="ecr-lint")


def _ecr003(output: str) -> set[tuple[str, str, str]]:
    return {(f["rule_id"], f["address"], f["file"]) for f in json.loads(output)["findings"] if f["rule_id"] == "ECR003"}


@pytest.mark.parametrize("name", COMMANDS)
def test_a_folder_named_like_a_command_is_linted_not_run(tmp_path, monkeypatch, name):
    write(tmp_path / name, {"main.tf": SEED})
    monkeypatch.chdir(tmp_path)
    result = invoke(name, "--format", "json")
    assert result.exit_code == 1, result.output
    assert _ecr003(result.stdout) == {("ECR003", "aws_ecr_repository.fileflow", f"{name}/main.tf")}
    assert result.stderr == (f"ecr-lint: {name} is linted as the path ./{name}, which exists here; "
                             f"for the command, add `--`: ecr-lint {name} -- ...\n")
    assert sorted(os.listdir(tmp_path)) == [name] and os.listdir(tmp_path / name) == ["main.tf"]  # nothing written
    # ./docs, docs/ or any other spelling of the path: linted, and nothing said
    quiet = invoke(f"./{name}", "--format", "json")
    assert (quiet.exit_code, quiet.stderr, _ecr003(quiet.stdout)) == (1, "", _ecr003(result.stdout))


def test_a_file_named_like_a_command_is_linted_too(tmp_path, monkeypatch):
    write(tmp_path, {"rules": "not a plan\n"})
    monkeypatch.chdir(tmp_path)
    result = invoke("rules")
    assert result.exit_code == 2
    assert "- rules:1: error: not valid JSON" in result.stdout and "ECR003  immutable-tags-in-production" not in result.stdout


def test_double_dash_or_help_reaches_the_command_a_path_shadows(tmp_path, monkeypatch):
    write(tmp_path / "docs", {"main.tf": SEED})
    write(tmp_path / "rules", {"main.tf": SEED})
    monkeypatch.chdir(tmp_path)
    table = invoke("rules", "--")
    assert table.exit_code == 0 and "ECR003  immutable-tags-in-production" in table.stdout and table.stderr == ""
    written = invoke("docs", "--", "out")
    assert written.exit_code == 0 and (tmp_path / "out" / "ECR003.md").is_file()
    assert os.listdir(tmp_path / "docs") == ["main.tf"]
    assert invoke("docs", "--check", "--", "out").exit_code == 0
    shown = invoke("docs", "--help")
    assert shown.exit_code == 0 and shown.stdout.startswith("Usage: ecr-lint docs [OPTIONS] DIRECTORY")


def test_without_a_shadowing_path_a_command_is_a_command(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    table = invoke("rules")
    assert table.exit_code == 0 and "ECR003  immutable-tags-in-production" in table.stdout and table.stderr == ""
    assert invoke("explain", "ECR003").stdout.startswith("ECR003 immutable-tags-in-production")


def test_docs_writes_only_into_a_directory_it_is_given(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("docs")
    assert result.exit_code == 2
    assert result.stderr.startswith("ecr-lint: Missing argument 'DIRECTORY'")
    assert os.listdir(tmp_path) == []
    assert invoke("docs", "--check").exit_code == 2 and os.listdir(tmp_path) == []


def test_top_level_help_shows_the_lint_options_and_the_commands():
    text = invoke("--help").stdout
    lint = main.commands["lint"]
    for param in lint.params:
        if isinstance(param, click.Option):
            for opt in param.opts:
                assert f"{opt} " in text or f"{opt}," in text or text.count(opt), opt
    for name in COMMANDS:
        assert f"\n  {name} " in text, name
    assert text.startswith("Usage: ecr-lint [OPTIONS] PATH...\n   or: ecr-lint COMMAND [ARGS]...")
    assert "add `--` for the" in text  # how a shadowed command is reached


def _commands(command: click.Command, path: str = "ecr-lint"):
    yield path, command
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            yield from _commands(sub, f"{path} {name}")


def test_every_option_of_every_command_has_help_text():
    missing = []
    for path, command in _commands(main):
        ctx = click.Context(command, info_name=path)
        for param in command.get_params(ctx):
            if isinstance(param, click.Option) and not (param.help or "").strip():
                missing.append(f"{path} {param.opts[0]}")
    assert missing == []
    assert len(list(_commands(main))) == 1 + len(COMMANDS)


def test_lint_and_graph_take_the_same_input_options():
    def options(command: click.Command) -> set[str]:
        return {opt for p in command.params if isinstance(p, click.Option) for opt in p.opts}

    shared = {"--var", "--var-file", "--environment", "--workspace", "--no-cache", "-o", "--output", "--config",
              "--no-env"}
    assert {opt for decorate in _INPUT_OPTIONS for opt in decorate(lambda: None).__click_params__[0].opts} == shared
    assert shared <= options(main.commands["lint"]) and shared <= options(main.commands["graph"])


COUNTED = '''
variable "n" {
  default = 1
}
resource "aws_ecr_repository" "r" {
  count = var.n + (terraform.workspace == "blue" ? 1 : 0)
  name  = "r-${count.index}"
}
'''


@pytest.mark.parametrize("command", ["lint", "graph"])
def test_the_input_options_work_for_lint_and_graph(tmp_path, monkeypatch, command):
    stack = tmp_path / "stack"
    write(stack, {"main.tf": COUNTED})
    write(tmp_path, {"two.tfvars": "n = 2\n", "lint.toml": 'ignore = ["ECR014"]\n'})
    cache = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    monkeypatch.chdir(tmp_path)
    fmt = ["--format", "json"]

    def addresses(*args: str) -> set[str]:
        out = tmp_path / "out.json"
        if out.exists():
            out.unlink()
        result = invoke(command, "stack", *fmt, "--no-cache", "--environment", "dev", "--config", "lint.toml",
                        "-o", str(out), *args)
        assert result.exit_code in (0, 1) and result.stdout == "", result.output
        data = json.loads(out.read_text())
        if command == "graph":
            return set(data["stacks"][0]["nodes"])
        return {r["address"] for r in data["results"] if r["rule_id"] == "ECR002"}

    assert addresses() == {"aws_ecr_repository.r[0]"}
    assert addresses("--var-file", "two.tfvars") == {"aws_ecr_repository.r[0]", "aws_ecr_repository.r[1]"}
    assert addresses("--var-file", "two.tfvars", "--var", "n=3") == {f"aws_ecr_repository.r[{i}]" for i in range(3)}
    assert addresses("--workspace", "blue") == {"aws_ecr_repository.r[0]", "aws_ecr_repository.r[1]"}
    assert not cache.exists()  # --no-cache: the cache was neither read nor written
    assert invoke(command, "stack", *fmt).exit_code in (0, 1)
    assert os.listdir(cache / "ecr-lint" / "v1" / "ast")  # and without it, parsed files are cached
