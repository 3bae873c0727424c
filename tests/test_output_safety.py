"""Output from hostile input (issue 12, items 10 and 13): nothing from the linted tree starts a
line, carries a control character or forms a CI command; every failure is one line and an exit
code of ecr-lint's table, never a traceback. Through the real CLI: a subprocess where a terminal,
a pipe or /dev/full matters."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys

import pytest
from click.testing import CliRunner

from ecr_lint.cli import main

from conftest import REPO, write

HOSTILE = ("MUTABLE\n::add-mask::x\n::stop-commands::tok\n##[error]boom ##vso[task.complete]x "
           "\x1b]0;TITLE\x07 \x1b]52;c;ZXZpbA==\x07 \x1b[31mred \x9b2J \u202egnp.exe \u2028::error::sep")
SEED = os.path.join(REPO, "fixtures", "seed_as_written")


def _repository(hostile: str = HOSTILE) -> str:
    escaped = json.dumps(hostile)  # an HCL string literal with the same escapes
    return ('resource "aws_ecr_repository" "r" {\n  name = "r"\n'
            f"  image_tag_mutability = {escaped}\n"
            '  tags = { Environment = "prod" }\n}\n')


def run_cli(*args: str, cwd: str | None = None, **kwargs) -> subprocess.CompletedProcess:
    """The real command, as a process (`python -m ecr_lint`, so it is the code under test)."""
    if "stdout" not in kwargs:
        kwargs["capture_output"] = True
    return subprocess.run([sys.executable, "-m", "ecr_lint", *args, "--no-cache"], cwd=cwd or REPO,
                          timeout=120, **kwargs)


# Every line ecr-lint writes starts with its own text (GitHub honours `::cmd::` after leading spaces).
TEXT_LINE = re.compile(r"^(- |    why: |    fix: |suppressed: |config: |relaxed: |\d+ suppressed finding\(s\) |"
                       r"explain: |\d+ stack\(s\), |result: |$)")
GITHUB_LINE = re.compile(r"^(::(error|warning) file=|ecr-lint: |$)")


def _assert_inert(text: str, own_line: re.Pattern) -> None:
    for line in text.split("\n"):
        assert own_line.match(line), f"a line not started by ecr-lint: {line!r}"
    assert "##[" not in text and "##vso[" not in text
    assert not re.search("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]", text), \
        "a control, bidi or separator character reached the output"


@pytest.mark.parametrize("fmt, own_line", [("text", TEXT_LINE), ("github", GITHUB_LINE)])
def test_values_and_file_names_cannot_start_a_line_or_carry_control_characters(tmp_path, fmt, own_line):
    forged = "nl\n::error file=x,line=1::forged"
    write(tmp_path, {"a/main.tf": _repository(), f"{forged}/main.tf": _repository("MUTABLE")})
    done = run_cli(str(tmp_path), "--select", "ECR003", "--format", fmt, cwd=str(tmp_path))
    assert done.returncode == 1, done.stderr
    out = done.stdout.decode("utf-8")
    _assert_inert(out, own_line)
    assert done.stderr == b""
    # Both findings are there, the value and the name shown escaped.
    assert "\\n::add-mask::x\\n::stop-commands::tok\\n#\\x23[error]boom #\\x23vso[task.complete]x \\x1b]0;TITLE\\x07" in out
    assert "\\u202egnp.exe \\u2028::error::sep" in out and "\\x9b2J" in out
    finding = "ECR003  aws_ecr_repository.r" if fmt == "text" else "title=ECR003::aws_ecr_repository.r"
    assert out.count(finding) == 2 and "nl\\n" in out


def test_a_config_error_naming_a_forged_directory_is_one_escaped_line_on_stderr(tmp_path):
    forged = tmp_path / "nl\n::error file=x::forged"
    write(forged, {".ecr-lint.toml": "select = [\n", "main.tf": _repository("MUTABLE")})
    done = run_cli(str(forged), "--format", "github")
    assert done.returncode == 2
    err = done.stderr.decode()
    assert err.count("\n") == 1 and err.startswith("ecr-lint: ") and "nl\\n::error file=x::forged/.ecr-lint.toml" in err


def test_on_a_terminal_only_ecr_lints_own_colour_codes_reach_it(tmp_path):
    write(tmp_path, {"main.tf": _repository()})
    controller, terminal = pty.openpty()
    try:
        done = subprocess.run([sys.executable, "-m", "ecr_lint", str(tmp_path), "--select", "ECR003", "--no-cache"],
                              stdout=terminal, stderr=subprocess.PIPE, timeout=120)
        os.close(terminal)
        chunks = []
        while True:
            try:
                data = os.read(controller, 65536)
            except OSError:  # the terminal is closed once everything was read
                break
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(controller)
    shown = b"".join(chunks).decode().replace("\r\n", "\n")
    assert done.returncode == 1
    escapes = set(re.findall("\x1b[^a-zA-Z]*[a-zA-Z]?", shown))
    assert escapes and escapes <= {"\x1b[1m", "\x1b[0m", "\x1b[31m"}, escapes  # ecr-lint's bold and red, nothing else
    assert "\x1b]" not in shown and "\x07" not in shown and "\x9b" not in shown


def test_the_output_file_is_escaped_the_same_way(tmp_path):
    write(tmp_path, {"stack/main.tf": _repository()})
    target = tmp_path / "report.txt"
    done = run_cli(str(tmp_path / "stack"), "--select", "ECR003", "--output", str(target))
    assert done.returncode == 1 and done.stdout == b""
    _assert_inert(target.read_text(encoding="utf-8"), TEXT_LINE)


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


@pytest.mark.parametrize("fmt", ["json", "sarif"])
def test_json_and_sarif_carry_no_lone_surrogate_and_no_ci_command(tmp_path, fmt):
    write(tmp_path, {"main.tf.json": '{"resource": {"aws_ecr_repository": {"r": {"name": "r", '
                                     '"image_tag_mutability": "MUTABLE\\ud800 ##[error]x \\ud83d\\ude00", '
                                     '"tags": {"Environment": "prod"}}}}}'})
    done = run_cli(str(tmp_path), "--select", "ECR003", "--format", fmt)
    assert done.returncode == 1, done.stderr
    text = done.stdout.decode("ascii")
    assert "##[" not in text and "\\ud800" not in text.replace("\\\\ud800", "")
    data = json.loads(text)
    for string in _strings(data):
        string.encode("utf-8")  # strict: a lone surrogate raises here
    messages = [m for m in _strings(data) if 'image_tag_mutability = "MUTABLE' in m]
    assert messages and all("MUTABLE\\ud800 ##[error]x \U0001F600" in m for m in messages)


@pytest.mark.parametrize("fmt", ["text", "github"])
def test_a_lone_surrogate_in_tf_json_is_shown_escaped_not_a_crash(tmp_path, fmt):
    write(tmp_path, {"main.tf.json": '{"resource": {"aws_ecr_repository": {"r": {"name": "r", '
                                     '"image_tag_mutability": "MUTABLE\\ud800", "tags": {"Environment": "prod"}}}}}'})
    done = run_cli(str(tmp_path), "--select", "ECR003", "--format", fmt)
    assert (done.returncode, done.stderr) == (1, b"")
    assert 'MUTABLE\\ud800"' in done.stdout.decode("utf-8")


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github"])
def test_a_file_name_that_is_not_utf8_is_linted_and_shown_escaped(tmp_path, fmt):
    os.makedirs(tmp_path / "stack")
    with open(os.path.join(os.fsencode(tmp_path / "stack"), b"x\xff.tf"), "w") as handle:
        handle.write(_repository("MUTABLE"))
    target = tmp_path / "out"
    done = run_cli(str(tmp_path / "stack"), "--select", "ECR003", "--format", fmt, "--output", str(target))
    assert (done.returncode, done.stderr, done.stdout) == (1, b"", b"")
    out = target.read_text(encoding="utf-8")
    if fmt in ("json", "sarif"):
        strings = list(_strings(json.loads(out)))
        for string in strings:
            string.encode("utf-8")
        out = "\n".join(strings)
    # shown escaped; in SARIF's artifact URIs, percent-encoded (its bytes)
    assert ("x\\xff.tf" in out or (fmt == "sarif" and "x%FF.tf" in out)) and "ECR003" in out


# --- write failures, pipes, closed streams: one line, exit 3 (or 141 for a reader gone) -----------

@pytest.mark.parametrize("where, reason", [("/dev/full", "No space left on device"),
                                           ("{tmp}/missing/report.json", "No such file or directory")])
def test_an_output_that_cannot_be_written_is_exit_three_with_one_line(tmp_path, where, reason):
    where = where.format(tmp=tmp_path)
    done = run_cli(SEED, "--format", "json", "--output", where)
    assert done.returncode == 3
    assert done.stderr.decode() == f"ecr-lint: cannot write the report to {where}: {reason}\n"


def test_a_baseline_that_cannot_be_written_is_exit_three_with_one_line():
    done = run_cli(SEED, "--write-baseline", "/dev/full")
    assert done.returncode == 3
    assert done.stderr.decode() == "ecr-lint: cannot write the baseline /dev/full: No space left on device\n"


def test_standard_output_full_or_closed_is_exit_three_with_one_line():
    with open("/dev/full", "w") as full:
        done = run_cli(os.path.join(REPO, "terraform", "ecr"), stdout=full, stderr=subprocess.PIPE)
    assert done.returncode == 3
    assert done.stderr.decode() == "ecr-lint: cannot write the report to standard output: No space left on device\n"
    done = run_cli(os.path.join(REPO, "terraform", "ecr"), stdout=None, stderr=subprocess.PIPE,
                    preexec_fn=lambda: os.close(1))
    assert done.returncode == 3
    assert done.stderr.decode() == "ecr-lint: cannot write the report to standard output: standard output is closed\n"


@pytest.mark.parametrize("args", [["terraform/ecr", "--format", "json"], ["fixtures/seed_as_written"], ["rules", "--"]])
def test_a_reader_that_went_away_is_a_quiet_141_not_findings(args):
    reader, writer = os.pipe()
    os.close(reader)  # `| head -1` that has already exited
    try:
        done = subprocess.run([sys.executable, "-m", "ecr_lint", *args], cwd=REPO, stdout=writer,
                              stderr=subprocess.PIPE, timeout=120)
    finally:
        os.close(writer)
    assert (done.returncode, done.stderr) == (141, b"")


# --- main() itself: nothing escapes as a traceback or as exit 1 -------------------------------------

@pytest.mark.parametrize("args", [["lint", SEED], [SEED, "--format", "sarif"], ["rules", "--"], ["explain", "ECR003"],
                                  ["graph", SEED], ["docs", "--check", "--", "docs/rules"]])
@pytest.mark.parametrize("error", [RuntimeError("boom\n::error::x"), KeyError("k"), RecursionError(), MemoryError()])
def test_any_unexpected_error_in_any_subcommand_is_one_line_and_exit_three(monkeypatch, args, error):
    import ecr_lint.catalog

    def broken(*_, **__):
        raise error

    monkeypatch.setattr(ecr_lint.catalog, "load_rules", broken)
    monkeypatch.chdir(REPO)
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 3
    lines = result.output.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"ecr-lint: internal error: {type(error).__name__}")
    assert "Traceback" not in result.output and "\n::" not in result.output


def test_an_interrupt_is_130_and_a_usage_error_is_one_line_exit_two(monkeypatch):
    import ecr_lint.api

    def interrupted(*_, **__):
        raise KeyboardInterrupt

    monkeypatch.setattr(ecr_lint.api, "execute", interrupted)
    result = CliRunner().invoke(main, [SEED], catch_exceptions=False)
    assert (result.exit_code, result.output) == (130, "ecr-lint: interrupted\n")
    done = run_cli(SEED, "--format", "nope\n::error::x")
    assert done.returncode == 2
    err = done.stderr.decode()
    assert err.count("\n") == 1 and err.startswith("ecr-lint: ") and "'nope\\n::error::x' is not one of" in err


@pytest.mark.parametrize("fmt", ["mermaid", "dot", "json"])
def test_the_graph_is_inert_too(tmp_path, fmt):
    # a resource label and an SSM parameter name carrying a newline and a CI command
    (tmp_path / "main.tf").write_text(
        'resource "aws_ecr_repository" "r" {\n  name = "r"\n}\n'
        'resource "aws_ssm_parameter" "p" {\n  name  = "/shared/x\\n::error::forged"\n  type  = "String"\n'
        '  value = aws_ecr_repository.r.repository_url\n}\n'
        'data "aws_ssm_parameter" "q" {\n  name = "/shared/y\\n##[error]forged"\n}\n')
    for args in (["graph", str(tmp_path), "--format", fmt], ["graph", "--stacks", str(tmp_path), "--format", fmt]):
        done = subprocess.run([sys.executable, "-m", "ecr_lint", *args], capture_output=True, timeout=120)
        out = done.stdout.decode()
        assert done.returncode == 0, done.stderr
        assert not any(line.lstrip().startswith("::") for line in out.splitlines())
        assert "##[" not in out
