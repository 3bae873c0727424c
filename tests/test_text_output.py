"""Text output a newcomer understands: suppressed findings with their reasons (or how many, and how
to see them), one pointer to `ecr-lint explain`, and a summary by severity whose verdict is the
exit code."""

from __future__ import annotations

import os

from click.testing import CliRunner

from ecr_lint.cli import main

from conftest import write

REPOSITORIES = '''
# ecr-lint:ignore ECR003 reason="legacy mirror, ticket OPS-12\x1b[31m"
resource "aws_ecr_repository" "mirror" {
  name                 = "mirror"
  image_tag_mutability = "MUTABLE"
  tags                 = { Environment = "prod" }
}

resource "aws_ecr_repository" "app" {
  name                 = "app"
  image_tag_mutability = "MUTABLE"
  tags                 = { Environment = "prod" }
}
'''


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def _tail(output: str, n: int) -> list[str]:
    return output.splitlines()[-n:]


def test_suppressed_findings_are_counted_and_listed_with_their_reason_on_request(tmp_path, monkeypatch):
    write(tmp_path / "stack", {"main.tf": REPOSITORIES})
    monkeypatch.chdir(tmp_path)
    plain = invoke("stack", "--select", "ECR003")
    assert plain.exit_code == 1
    assert _tail(plain.stdout, 4) == [
        "1 suppressed finding(s) not shown: --show-suppressed lists them with their reasons",
        "explain: `ecr-lint explain ECR003` (or any rule id above) says why the rule matters and how to fix it, "
        "with examples",
        "1 stack(s), 1 rule(s): 1 finding (1 error, 0 warnings), 0 passed, 1 suppressed, 0 input errors",
        "result: failed: 1 error at or above --fail-on error (exit 1)"]
    shown = invoke("stack", "--select", "ECR003", "--show-suppressed")
    assert shown.exit_code == 1
    listed = [line for line in shown.stdout.splitlines() if line.startswith("suppressed:")]
    assert listed == ["suppressed: stack/main.tf:5  ECR003  aws_ecr_repository.mirror: legacy mirror, ticket "
                      "OPS-12\\x1b[31m"]
    assert "not shown" not in shown.stdout
    # every line starts with ecr-lint's own text, and no escape from the input reaches the terminal
    assert "\x1b" not in shown.stdout
    starts = ("- ", "    why: ", "    fix: ", "suppressed: ", "config: ", "relaxed: ", "explain: ", "1 stack(s)", "result: ")
    assert all(line == "" or line.startswith(starts) for line in shown.stdout.splitlines())


def test_a_long_reason_is_one_short_line(tmp_path, monkeypatch):
    reason = "because " * 40
    write(tmp_path / "stack", {"main.tf": REPOSITORIES.replace("legacy mirror, ticket OPS-12\x1b[31m", reason)})
    monkeypatch.chdir(tmp_path)
    shown = invoke("stack", "--select", "ECR003", "--show-suppressed")
    [line] = [line for line in shown.stdout.splitlines() if line.startswith("suppressed:")]
    assert line == "suppressed: stack/main.tf:5  ECR003  aws_ecr_repository.mirror: " + reason.strip()[:97] + "..."


def test_a_warning_below_fail_on_passes_and_the_summary_says_so(tmp_path, monkeypatch):
    """The issue: "1 failed" with exit code 0, because that failure was a warning."""
    seed = os.path.join(os.path.dirname(__file__), "..", "fixtures", "seed_as_written")
    result = invoke(seed, "--ignore", "ECR003")
    assert result.exit_code == 0
    assert _tail(result.stdout, 3) == [
        "explain: `ecr-lint explain ECR014` (or any rule id above) says why the rule matters and how to fix it, "
        "with examples",
        "1 stack(s), 19 rule(s): 1 finding (0 errors, 1 warning), 12 passed, 0 suppressed, 0 input errors",
        "result: passed: nothing at or above --fail-on error (exit 0)"]
    failing = invoke(seed, "--ignore", "ECR003", "--fail-on", "warning")
    assert failing.exit_code == 1
    assert _tail(failing.stdout, 1) == ["result: failed: 1 warning at or above --fail-on warning (exit 1)"]
    never = invoke(seed, "--fail-on", "never")
    assert (never.exit_code, _tail(never.stdout, 1)) == (0, ["result: passed: --fail-on never (exit 0)"])


def test_the_verdict_is_the_exit_code_for_input_errors_and_clean_runs(tmp_path, monkeypatch):
    write(tmp_path / "clean", {"main.tf": 'locals {\n  a = 1\n}\n'})
    write(tmp_path / "broken", {"main.tf": 'resource "aws_ecr_repository" "r" {\n'})
    monkeypatch.chdir(tmp_path)
    clean = invoke("clean")
    assert (clean.exit_code, _tail(clean.stdout, 2)) == (0, [
        "1 stack(s), 20 rule(s): 0 findings (0 errors, 0 warnings), 0 passed, 0 suppressed, 0 input errors",
        "result: passed (exit 0)"])
    assert "explain:" not in clean.stdout  # nothing to explain
    broken = invoke("clean", "broken")
    assert broken.exit_code == 2
    assert _tail(broken.stdout, 1) == ["result: failed: 1 input error (the rest was linted) (exit 2)"]
