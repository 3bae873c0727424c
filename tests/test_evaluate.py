"""Terraform expression evaluation: literals, templates, operators, functions, unknowns."""

from __future__ import annotations

import pytest

from ecr_lint.hcl.evaluate import deep_plain
from ecr_lint.model import Ref, Unknown

from conftest import write
from ecr_lint.loaders.evaluation import StackLoader


def evaluate(tmp_path, expression: str, extra: str = "", variables: dict | None = None):
    write(tmp_path, {"main.tf": f"{extra}\nlocals {{\n  x = {expression}\n}}\n"})
    stack = StackLoader(str(tmp_path), variables or {}, [str(tmp_path)]).load()
    assert stack.errors == []
    return stack.module_values["local.x"]  # the root module's locals, as evaluated while loading


CASES = [
    ('"a-${"b"}-c"', "a-b-c"),
    ("1 + 2 * 3", 7),
    ("(1 + 2) * 3", 9),
    ("-5 + 2", -3),
    ("7 / 2", 3.5),
    ("7 % 3", 1),
    ('"prod" == "prod" ? "IMMUTABLE" : "MUTABLE"', "IMMUTABLE"),
    ("!true || false", False),
    ("[for s in [\"a\", \"b\"] : upper(s)]", ["A", "B"]),
    ('{for k, v in {a = 1, b = 2} : v => k}', {"1": "a", "2": "b"}),
    ('{for s in ["x", "y", "x"] : s => s...}', {"x": ["x", "x"], "y": ["y"]}),
    ('[for s in ["a", "bb"] : s if length(s) > 1]', ["bb"]),
    ('{ a = 1, a = 2 }', {"a": 2}),
    ('[{ n = 1 }, { n = 2 }][*].n', [1, 2]),
    ('{ a = [1, 2] }.a[1]', 2),
    ('merge({ a = 1 }, { b = 2 }, { a = 3 })', {"a": 3, "b": 2}),
    ('jsonencode({ b = [1, "x"], a = true })', '{"a":true,"b":[1,"x"]}'),
    ('jsondecode("{\\"k\\": [1, 2]}").k', [1, 2]),
    ('concat(["a"], ["b", "c"])', ["a", "b", "c"]),
    ('lookup({ a = 1 }, "b", 9)', 9),
    ('try(jsondecode("{"), "fallback")', "fallback"),
    ('coalesce("", "x")', "x"),
    ('format("%s-%03d", "v", 7)', "v-007"),
    ('join(",", ["a", "b"])', "a,b"),
    ('split(",", "a,b")', ["a", "b"]),
    ('lower("AbC")', "abc"),
    ('upper("abc")', "ABC"),
    ('replace("a-b-c", "-", "_")', "a_b_c"),
    ('replace("v1.2.3", "/[.]/", "_")', "v1_2_3"),
    ('tomap({ a = "1" })', {"a": "1"}),
    ('tolist(["a"])', ["a"]),
    ('toset(["b", "a", "b"])', ["a", "b"]),
    ('keys({ b = 1, a = 2 })', ["a", "b"]),
    ('values({ b = 1, a = 2 })', [2, 1]),
    ('length("abc")', 3),
    ('contains(["a"], "a")', True),
    ('flatten([["a"], ["b", ["c"]]])', ["a", "b", "c"]),
    ('distinct(["a", "a", "b"])', ["a", "b"]),
    ('"%{if true}yes%{else}no%{endif}"', "yes"),
    ('"%{for s in ["a", "b"]}${s};%{endfor}"', "a;b;"),
    ("<<-EOT\n    hello ${upper(\"x\")}\n    EOT", "hello X\n"),
    ('can(regex("^v", "v1"))', True),
]


@pytest.mark.parametrize("expression,expected", CASES, ids=[c[0][:40] for c in CASES])
def test_expression(tmp_path, expression, expected):
    assert deep_plain(evaluate(tmp_path, expression)) == expected


def test_variable_default_and_override(tmp_path):
    extra = 'variable "env" {\n  default = "dev"\n}'
    assert evaluate(tmp_path, "var.env", extra) == "dev"
    assert evaluate(tmp_path, "var.env", extra, {"env": "prod"}) == "prod"


def test_variable_without_value_is_unknown_with_reason(tmp_path):
    value = evaluate(tmp_path, "var.kms", 'variable "kms" {}')
    assert isinstance(value, Unknown)
    assert value.reason == "var.kms has no default and no value was given"


def test_reference_stays_a_reference(tmp_path):
    value = evaluate(tmp_path, "aws_kms_key.k.arn", 'resource "aws_kms_key" "k" {}')
    assert isinstance(value, Ref) and value.address == "aws_kms_key.k" and value.path == ("arn",)
    assert value.value.reason == "aws_kms_key.k.arn is known only after apply"


def test_configured_attribute_of_a_resource_is_known(tmp_path):
    value = evaluate(tmp_path, '"${aws_ecr_repository.r.name}-url"', 'resource "aws_ecr_repository" "r" {\n  name = "app"\n}')
    assert value == "app-url"


def test_unknown_inside_template_keeps_a_placeholder(tmp_path):
    value = evaluate(tmp_path, '"arn:aws:iam::${data.aws_caller_identity.c.account_id}:root"',
                     'data "aws_caller_identity" "c" {}')
    assert isinstance(value, Unknown)
    assert value.partial == "arn:aws:iam::${data.aws_caller_identity.c.account_id}:root"


def test_file_outside_the_linted_tree_is_unknown(tmp_path):
    value = evaluate(tmp_path, 'file("/etc/passwd")')
    assert isinstance(value, Unknown) and "outside the linted tree" in value.reason


def test_error_terraform_would_report_becomes_unknown_with_the_error(tmp_path):
    value = evaluate(tmp_path, 'lookup({ a = 1 }, "b")')
    assert isinstance(value, Unknown)
    assert value.reason == "local.x: lookup(): key 'b' not found and no default given"
