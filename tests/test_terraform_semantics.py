"""Expressions where ecr-lint once computed another value than Terraform 1.11: through the real CLI,
`image_tag_mutability = <condition> ? "MUTABLE" : "IMMUTABLE"` must get ECR003's verdict from
Terraform's value of the condition (fail when true, pass when false), or unknown where ecr-lint
cannot compute it exactly; never the verdict of a near value. The conditions' values are checked
against `terraform console` too (when terraform is on PATH)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest
from click.testing import CliRunner

from ecr_lint.cli import main

# (condition, its value in Terraform 1.11, ECR003's verdict). A verdict "unknown" is for a value
# ecr-lint does not compute exactly; the others follow from Terraform's value.
CASES = [
    # 1. division by zero: +Inf in Terraform (unknown here), 0/0 an error, x % 0 is x
    ("can(1/0)", True, "unknown"),
    ("can(-1/0)", True, "unknown"),
    ("can(0/0)", False, "pass"),
    ("5 % 0 == 5", True, "fail"),
    ("-5 % 0 == -5", True, "fail"),
    ("-7 % 3 == -1", True, "fail"),
    # 2. 512-bit numbers: an inexact decimal or result is unknown; exact fractions stay exact
    ("0.1 + 0.2 == 0.3", True, "unknown"),
    ("ceil(1.0000000000000001) == 2", True, "unknown"),
    ("0.3 < 0.30000000000000001", True, "unknown"),
    ("1/3 * 3 == 1", True, "unknown"),
    ("tonumber(\"0.1\") * 3 == 0.3", True, "unknown"),
    ("jsondecode(\"0.1\") * 3 == 0.3", True, "unknown"),
    ("7/2 == 3.5", True, "fail"),
    ("0.5 + 0.25 == 0.75", True, "fail"),
    ("10 % 3.5 == 3", True, "fail"),
    ("pow(2, 60) % 7 == 0", True, "unknown"),  # pow() gives a 64-bit float in Terraform: not 1
    ("pow(2, 52) % 7 == 2", True, "fail"),
    ("pow(2, 0.5) > 1.375", True, "fail"),
    ("can(pow(10, 5000))", True, "unknown"),  # +Inf
    ("log(8, 2) == 3", True, "unknown"),
    # 3. grapheme clusters, in Unicode normal form C
    ('length("e\\u0301") == 1', True, "fail"),
    ('"e\\u0301" == "\\u00e9"', True, "fail"),
    ('"${"e"}${"\\u0301"}" == "\\u00e9"', True, "fail"),
    ('strrev("ae\\u0301b") == "b\\u00e9a"', True, "fail"),
    ('substr("ae\\u0301b", 1, 1) == "\\u00e9"', True, "fail"),
    ('length("x\\u0301") == 1', True, "unknown"),
    ('length("\\U0001F1EB\\U0001F1F7") == 1', True, "unknown"),
    ('strrev("x\\u0301y") == "yx\\u0301"', True, "unknown"),
    # 4. format's width, precision and flags
    ('format("%.2s", "MUTABLE") == "MU"', True, "fail"),
    ('format("%5.2q", "abc") == " \\"ab\\""', True, "fail"),
    ('format("[%5.1f|%-5s|%05d|%+d]", 3.25, "ab", 42, 5) == "[  3.2|ab   |00042|+5]"', True, "fail"),
    ('format("%#v", "ab") == "\\"ab\\""', True, "fail"),
    ('format("%5t", true) == "true"', True, "fail"),
    ('format("%.3v", "abcdef") == "abcdef"', True, "fail"),
    ('format("%v", {a = "<"}) == "{\\"a\\":\\"\\\\u003c\\"}"', True, "fail"),
    ('format("%q", "\\u00e9<") == "\\"\\u00e9\\\\u003c\\""', True, "fail"),
    ('can(format("%d", 1.5))', False, "pass"),
    ('format("%g", 1234567) == "1.234567e+06"', True, "unknown"),
    # 5. Go's simple case mapping
    ('upper("\\u00df") == "\\u00df"', True, "fail"),
    ('lower("\\u0130") == "i"', True, "fail"),
    ('lower("\\u0391\\u03a3") == "\\u03b1\\u03c3"', True, "fail"),
    ('upper("\\u1f80") == "\\u1f88"', True, "fail"),
    # 6. Go's query and JSON escaping
    ('urlencode(" ") == "+"', True, "fail"),
    ('urlencode("a b&c/d~") == "a+b%26c%2Fd~"', True, "fail"),
    ('jsonencode("<>&") == "\\"\\\\u003c\\\\u003e\\\\u0026\\""', True, "fail"),
    ('jsonencode("\\u2028\\u2029") == "\\"\\\\u2028\\\\u2029\\""', True, "fail"),
    ('jsonencode("\\u00e9") == "\\"\\u00e9\\""', True, "fail"),
    # 7. template strip markers
    ('"%{ if true ~} x %{~ endif }" == "x"', True, "fail"),
    ('"%{ for x in [1, 2] ~} ${x} %{~ endfor ~} z" == "12z"', True, "fail"),
    ('"%{ if false ~} a %{~ else ~} b %{~ endif ~}" == "b"', True, "fail"),
    ('"a %{ if true ~}\\u00a0\\u001c b%{ endif }" == "a \\u001c b"', True, "fail"),
    ("local.strip == \"  a\\n  bc  d\\n  e\\n\"", True, "fail"),
    ('local.flush == "ac      d\\n"', True, "fail"),
    ('local.flush_line == "a\\n      d\\n\\n"', True, "fail"),
    # 8. date, encoding and file functions
    ('formatdate("YYYY", "2020-01-01T00:00:00Z") == "2020"', True, "fail"),
    ('formatdate("EEEE, DD-MMM-YY hh:mm:ss ZZZ", "2020-03-05T07:08:09Z") == "Thursday, 05-Mar-20 07:08:09 UTC"',
     True, "fail"),
    ('formatdate("H AA Z ZZZZ", "2020-03-05T00:08:09+05:30") == "12 AM +05:30 +0530"', True, "fail"),
    ("formatdate(\"'h'h '' h\", \"2020-03-05T17:08:09Z\") == \"h17 ' 17\"", True, "fail"),
    ('can(formatdate("YYY", "2020-03-05T17:08:09Z"))', False, "pass"),
    ('can(formatdate("YYYY", "2020-02-30T17:08:09Z"))', False, "pass"),
    ('timeadd("2020-01-01T00:00:00Z", "1h30m") == "2020-01-01T01:30:00Z"', True, "fail"),
    ('timeadd("2020-01-01T00:00:00+05:00", "-90m") == "2019-12-31T22:30:00+05:00"', True, "fail"),
    ('timeadd("2020-01-01T00:00:00.5Z", "500ms") == "2020-01-01T00:00:01Z"', True, "fail"),
    ('timeadd("2020-01-01T00:00:00Z", "1.5h") == "2020-01-01T01:30:00Z"', True, "fail"),
    ('can(timeadd("2020-01-01T00:00:00Z", "1d"))', False, "pass"),
    ('textencodebase64("a\\u00e9", "UTF-16LE") == "YQDpAA=="', True, "fail"),
    ('textencodebase64("a\\u00e9\\u20ac", "windows-1252") == "YemA"', True, "fail"),
    ('can(textencodebase64("a\\u20ac", "ISO-8859-1"))', False, "pass"),
    ('can(textencodebase64("a", "UTF8"))', False, "unknown"),  # a name ecr-lint does not know
    ('filebase64sha512("data.txt") == "58IrmUxZ2c8rSOVJseJGZmNgRZMNPafBrLKZ0cO3+TH5Sq5B7dosKyB6NuEPi8uNRSI+VIePWzFufOO2vAGWKQ=="',
     True, "fail"),
    ('filesha256("data.txt") == "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"', True, "fail"),
    ('filebase64("data.txt") == "aGVsbG8K"', True, "fail"),
    ('can(filebase64sha512("missing.txt"))', False, "pass"),
]

# Heredocs with strip markers (a quoted string cannot hold them): `local.strip` and friends.
LOCALS = '''locals {
  strip = <<EOT
  a
  %{~ if true ~}
  b ${~ "c" ~}{TRAILING}
  d
  %{~ endif ~}
  e
EOT
  flush = <<-EOT
    a ${~ "c" ~}
      d
    EOT
  flush_line = <<-EOT
    a
    %{ if true ~}
      d
    %{ endif }
    EOT
}
'''.replace("{TRAILING}", "  ")  # trailing spaces, kept visible


def _stack(tmp_path, condition: str):
    stack = tmp_path / "stack"
    stack.mkdir()
    (stack / "data.txt").write_text("hello\n")
    (stack / "main.tf").write_text(LOCALS + 'resource "aws_ecr_repository" "r" {\n  name                 = "r"\n'
                                   f'  image_tag_mutability = {condition} ? "MUTABLE" : "IMMUTABLE"\n}}\n')
    return stack


@pytest.mark.parametrize("condition, terraform, verdict", CASES, ids=[c[0][:60] for c in CASES])
def test_ecr003_follows_terraform_s_value_or_is_unknown(tmp_path, condition, terraform, verdict):
    stack = _stack(tmp_path, condition)
    result = CliRunner().invoke(main, [str(stack), "--select", "ECR003", "--format", "json"])
    data = json.loads(result.output)
    assert data["errors"] == []
    assert [(r["rule_id"], r["address"], r["status"]) for r in data["results"]] == [
        ("ECR003", "aws_ecr_repository.r", verdict)]
    assert result.exit_code == (0 if verdict == "pass" else 1)  # an unknown fails closed (unknown_values = "fail")
    if verdict == "unknown":
        assert "image_tag_mutability is unknown: " in data["results"][0]["message"]
    else:
        assert verdict == ("fail" if terraform else "pass")


def test_an_unknown_verdict_says_why(tmp_path):
    stack = _stack(tmp_path, "0.1 + 0.2 == 0.3")
    data = json.loads(CliRunner().invoke(main, [str(stack), "--select", "ECR003", "--format", "json"]).output)
    assert data["results"][0]["message"] == (
        "image_tag_mutability is unknown: the number 0.1 is not exact in "
        "ecr-lint's 64-bit floats (Terraform computes with 512 bits)")


@pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not on PATH")
def test_the_conditions_have_these_values_in_terraform(tmp_path):
    (tmp_path / "data.txt").write_text("hello\n")
    (tmp_path / "main.tf").write_text(LOCALS)
    expression = "jsonencode([" + ", ".join(c[0] for c in CASES) + "])"
    done = subprocess.run(["terraform", "console"], input=expression, capture_output=True, text=True,
                          cwd=str(tmp_path), timeout=300, env={"PATH": os.environ["PATH"],
                                                               "TF_CLI_CONFIG_FILE": "/dev/null",
                                                               "HOME": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    assert json.loads(json.loads(done.stdout.strip().splitlines()[-1])) == [c[1] for c in CASES]
