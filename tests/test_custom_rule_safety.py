"""Custom rules cannot reach the network or hang the run (issue 12 item 9): offline $refs, RE2, bounded YAML."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap

import pytest
from jsonschema import Draft202012Validator

from ecr_lint.ruleschema import validator
from ecr_lint.schemacheck import certainly_valid

from conftest import write

HEAD = """\
id: ECR950
name: custom-check
severity: error
title: A team rule
rationale: Why.
remediation: How.
applies_to:
  resource_types: [aws_ecr_repository]
examples:
  fail: |
    resource "aws_ecr_repository" "a" {}
  pass: |
    resource "aws_ecr_repository" "a" {}
check:
  message: the name breaks the convention
"""
LONG_NAME = "a" * 50_000 + "!"


def _run(tmp_path, check_schema: str, name: str = LONG_NAME, body: str = "") -> subprocess.CompletedProcess:
    """The real CLI in a subprocess, with a generous guard against a hang."""
    write(tmp_path, {"rules/ECR950.yaml": HEAD + textwrap.indent(check_schema, "  "),
                     "stack/main.tf": f'resource "aws_ecr_repository" "app" {{\n  name = "{name}"\n{body}}}\n'})
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    return subprocess.run([sys.executable, "-m", "ecr_lint", "stack", "--rules-dir", "rules", "--select", "ECR950",
                           "--format", "json", "--no-cache"],
                          capture_output=True, text=True, timeout=60, env=env, cwd=str(tmp_path))


def _error(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 2, result.stderr + result.stdout
    [line] = result.stderr.strip().splitlines()
    return line


def test_a_remote_ref_is_a_rule_file_error_and_nothing_is_requested(tmp_path):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)  # accepts connections into the backlog and never answers
    server.setblocking(False)
    port = server.getsockname()[1]
    try:
        result = _run(tmp_path, f"""\
schema:
  properties:
    name:
      $ref: "http://127.0.0.1:{port}/x.json"
""")
        with pytest.raises(BlockingIOError):
            server.accept()  # nobody connected
    finally:
        server.close()
    assert _error(result) == (
        f"ecr-lint: rules/ECR950.yaml: check.schema.properties.name.$ref: 'http://127.0.0.1:{port}/x.json' leaves "
        "the rule file; only references into this schema (\"#/$defs/name\") are allowed, and nothing is ever fetched")


@pytest.mark.parametrize("schema, field, message", [
    ("schema:\n  $ref: other.json#/x\n", "check.schema.$ref",
     "'other.json#/x' leaves the rule file; only references into this schema (\"#/$defs/name\") are allowed, and "
     "nothing is ever fetched"),
    ("schema:\n  $ref: '#/$defs/missing'\n", "check.schema.$ref", "'#/$defs/missing' points at nothing in this schema"),
    ("schema:\n  $ref: '#name'\n", "check.schema.$ref", "'#name' is not a JSON pointer into this schema (\"#/$defs/name\")"),
    ("schema:\n  $defs:\n    a:\n      $id: http://127.0.0.1/a.json\n", "check.schema.$defs.a.$id",
     "not allowed in a rule schema: it is one self-contained document (use $defs and $ref: \"#/$defs/...\")"),
    ("schema:\n  properties:\n    name:\n      $dynamicRef: '#meta'\n", "check.schema.properties.name.$dynamicRef",
     "not allowed in a rule schema: it is one self-contained document (use $defs and $ref: \"#/$defs/...\")"),
    ("schema:\n  $schema: http://json-schema.org/draft-04/schema#\n", "check.schema.$schema",
     "'http://json-schema.org/draft-04/schema#': rule schemas are JSON Schema 2020-12"),
    ("schema:\n  anyOf: [{type: string}, {$ref: '#'}]\n", "check.schema.anyOf.1",
     "refers back to itself without descending into the value (validation would never end)"),
    ("schema:\n  properties:\n    name:\n      pattern: '(?=a)b'\n", "check.schema.properties.name.pattern",
     "RE2 cannot compile '(?=a)b': invalid perl operator: (?= (rule regexes run in linear time: no lookaround, no "
     "backreferences)"),
    ("schema:\n  patternProperties:\n    '(a)\\1': {}\n", "check.schema.patternProperties.(a)\\1",
     "RE2 cannot compile '(a)\\\\1': invalid escape sequence: \\1 (rule regexes run in linear time: no lookaround, "
     "no backreferences)"),
    ("schema:\n  patternProperties: {'^x': {}}\n  unevaluatedProperties: false\n",
     "check.schema.unevaluatedProperties",
     "not allowed together with patternProperties (rule regexes run on RE2); use additionalProperties"),
])
def test_rule_schemas_that_could_fetch_or_loop_are_rule_file_errors_at_load_time(tmp_path, schema, field, message):
    assert _error(_run(tmp_path, schema, name="app")) == f"ecr-lint: rules/ECR950.yaml: {field}: {message}"


@pytest.mark.parametrize("schema, body", [
    ('schema:\n  properties:\n    name:\n      pattern: "^(a+)+$"\n', ""),
    ('schema:\n  properties:\n    tags:\n      propertyNames:\n        pattern: "^(a|aa)+$"\n',
     f'  tags = {{ "{LONG_NAME}" = "x" }}\n'),
    ('schema:\n  properties:\n    tags:\n      patternProperties:\n        "^(a+)+$": {type: integer}\n'
     '      additionalProperties: {type: integer}\n', f'  tags = {{ "{LONG_NAME}" = "x" }}\n'),
])
def test_catastrophic_regexes_run_in_linear_time(tmp_path, schema, body):
    result = _run(tmp_path, schema, name="app" if body else LONG_NAME, body=body)
    data = json.loads(result.stdout)
    assert result.returncode == 1, result.stderr
    assert [(f["rule_id"], f["address"], f["status"]) for f in data["findings"]] == [
        ("ECR950", "aws_ecr_repository.app", "fail")]


def test_yaml_alias_bomb_is_a_rule_file_error(tmp_path):
    levels = ["a: &a {allOf: [" + ", ".join(["{type: object}"] * 9) + "]}"]
    for prev, name in zip("abcdefg", "bcdefgh"):
        levels.append(f"{name}: &{name} {{allOf: [" + ", ".join([f"*{prev}"] * 9) + "]}")
    schema = "schema:\n  $defs:\n" + "".join(f"    {line}\n" for line in levels) + "  allOf: [" + ", ".join(["*h"] * 9) + "]\n"
    assert _error(_run(tmp_path, schema)) == (
        "ecr-lint: rules/ECR950.yaml: check.schema.$defs.d.allOf: expands to more than 10000 values (YAML aliases are "
        "copied wherever they are used); use $defs and $ref instead")


def test_a_yaml_alias_inside_itself_is_a_rule_file_error(tmp_path):
    assert _error(_run(tmp_path, "schema: &s\n  not: *s\n")) == (
        "ecr-lint: rules/ECR950.yaml: check.schema.not: a YAML alias refers to a value that contains it")


def test_small_aliases_and_local_refs_still_work(tmp_path):
    result = _run(tmp_path, """\
schema:
  $defs:
    lower: &lower {type: string, pattern: "^[a-z0-9-]+$"}
  properties:
    name: {$ref: "#/$defs/lower"}
    description: *lower
""", name="Upper_Case")
    data = json.loads(result.stdout)
    assert result.returncode == 1 and [f["address"] for f in data["findings"]] == ["aws_ecr_repository.app"]
    assert "does not match '^[a-z0-9-]+$'" in data["findings"][0]["message"]


@pytest.mark.parametrize("pattern, text", [(r"^\d+$", "١٢٣"), (r"^\w+$", "é"), (r"^\d+$", "123"), ("^(a+)+$", "a" * 40)])
def test_fast_path_and_validator_agree_on_re2_semantics(pattern, text):
    schema = {"type": "string", "pattern": pattern}
    valid = not list(validator(schema).iter_errors(text))
    assert certainly_valid(schema, text) is valid
    assert valid is text.isascii()  # RE2's \d and \w are ASCII, as in ECMA-262; Python's re would differ
    assert Draft202012Validator(schema).is_valid(text) or not text.isascii()
