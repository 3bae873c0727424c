"""One evaluation budget per stack: runaway work ends quickly with an exact outcome (issue 12).

Each case runs the real CLI in a subprocess; the timeout is only a guard against a hang, every
test asserts the exit code, the findings and the errors (file, line, message) exactly.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import write

ECR_LINT = os.path.join(os.path.dirname(sys.executable), "ecr-lint")
GUARD = 60  # seconds: a hang fails the test instead of blocking the suite
BUDGET = "evaluation budget exceeded: "
TOO_MANY_INSTANCES = "more than 25000 resource and module instances in this stack (nested count/for_each, or modules calling themselves?)"
SHARED_TREE = "a value of more than 500000 elements once shared references are expanded"


def lint_cli(directory, *args: str) -> tuple[int, dict]:
    """ecr-lint lint DIR --format json, in a subprocess under a time guard."""
    done = subprocess.run([ECR_LINT, "lint", str(directory), "--format", "json", "--no-cache", "--jobs", "1", *args],
                          capture_output=True, text=True, timeout=GUARD, cwd=str(directory))
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, json.loads(done.stdout)


def errors(data: dict) -> set[tuple[str, int, str]]:
    return {(e["file"], e["line"], e["message"]) for e in data["errors"]}


def results(data: dict, status: str) -> set[tuple[str, str]]:
    return {(r["rule_id"], r["address"]) for r in data["results"] if r["status"] == status}


def repository(name: str, mutability: str) -> str:
    return f'resource "aws_ecr_repository" "{name}" {{\n  name                 = "{name}"\n  image_tag_mutability = {mutability}\n}}\n'


# --- item 6: regular expressions run on RE2 ----------------------------------------------------


def test_catastrophic_backtracking_patterns_end_at_once_with_terraforms_answer(tmp_path):
    # Python's re needs 2^60 steps for either; RE2 (Terraform's engine) is linear: no match.
    write(tmp_path, {"main.tf": 'locals {\n  s = "' + "a" * 60 + '!"\n}\n'
                     + repository("can_regex", 'can(regex("^(a+)+$", local.s)) ? "IMMUTABLE" : "MUTABLE"')
                     + repository("replaced", 'replace(local.s, "/^(a|aa)+$/", "x") == local.s ? "MUTABLE" : "IMMUTABLE"')
                     + repository("matched", 'can(regex("^(a+)+!$", local.s)) ? "IMMUTABLE" : "MUTABLE"')})
    code, data = lint_cli(tmp_path, "--select", "ECR003")
    assert (code, errors(data)) == (1, set())
    assert results(data, "fail") == {("ECR003", "aws_ecr_repository.can_regex"), ("ECR003", "aws_ecr_repository.replaced")}
    assert results(data, "pass") == {("ECR003", "aws_ecr_repository.matched")}


REGEX_CASES = [
    # Terraform's documented examples
    ('replace("hello world", "/w.*d/", "everybody")', "hello everybody"),
    ('regex("[a-z]+", "53453453.345345aaabbbccc23454")', "aaabbbccc"),
    ('regex("(\\\\d\\\\d\\\\d\\\\d)-(\\\\d\\\\d)-(\\\\d\\\\d)", "2019-02-01")', ["2019", "02", "01"]),
    ('regex("^(?:(?P<scheme>[^:/?#]+):)?(?://(?P<authority>[^/?#]*))?", "https://terraform.io/docs/")',
     {"scheme": "https", "authority": "terraform.io"}),
    ('regexall("[a-z]+", "1234abcd5678efgh9")', ["abcd", "efgh"]),
    # Go's rules where Python's re differs: an empty match right after a match is skipped, \w is ASCII,
    # and the replacement's $1, ${name}, $$ and "$1x" (the group named "1x": empty) are Go's
    ('replace("abxd", "/x*/", "-")', "-a-b-d-"),
    ('regexall("x*", "abxd")', ["", "", "x", ""]),
    ('regex("\\\\w+", "héllo")', "h"),
    ('replace("a-b", "/(?P<x>a)-(b)/", "$2-$${x}-$1x-$$")', "b-a--$"),
    ('replace("ab", "/(a)/", "\\\\n$1")', "\\nab"),
    ('regex("(a)|(b)", "b")', [None, "b"]),
    ('can(regex("(?P<n>a)(b)", "ab"))', False),  # named and unnamed groups mixed: Terraform's error
    ('can(regex("(a)\\\\1", "aa"))', False),      # no backreferences in RE2
]


@pytest.mark.parametrize("expression,expected", REGEX_CASES, ids=[c[0][:40] for c in REGEX_CASES])
def test_regex_functions_mean_what_they_mean_to_terraform(tmp_path, expression, expected):
    from ecr_lint.loaders.evaluation import StackLoader

    write(tmp_path, {"main.tf": f"locals {{\n  x = {expression}\n}}\n"})
    stack = StackLoader(str(tmp_path), {}, [str(tmp_path)]).load()
    assert (stack.module_values["local.x"], stack.errors) == (expected, [])


# --- item 6: linear set functions ----------------------------------------------------------------


def test_set_functions_are_linear(tmp_path):
    write(tmp_path, {"main.tf": 'locals {\n  big = range(100000)\n  ok = alltrue([\n'
                     '    length(setintersection(toset(local.big), toset(local.big))) == 100000,\n'
                     '    length(distinct(local.big)) == 100000,\n'
                     '    length(setsubtract(local.big, local.big)) == 0,\n'
                     '    length(setunion(local.big, local.big)) == 100000,\n'
                     '    length(matchkeys(local.big, local.big, local.big)) == 100000,\n'
                     '    contains(local.big, 99999),\n'
                     '    index(local.big, 99999) == 99999,\n'
                     '    !contains([1, 2], true),\n'  # true is not 1 to Terraform
                     '    contains([1.0], 1),\n'
                     '  ])\n}\n' + repository("r", 'local.ok ? "IMMUTABLE" : "MUTABLE"')})
    code, data = lint_cli(tmp_path, "--select", "ECR003")
    assert (code, errors(data), results(data, "fail")) == (0, set(), set())
    assert results(data, "pass") == {("ECR003", "aws_ecr_repository.r")}


# --- item 6 and 13: numbers ------------------------------------------------------------------------


def test_numeric_overflow_is_an_unknown_for_that_value_not_a_lost_run(tmp_path):
    write(tmp_path, {"main.tf": repository("pow_big", 'pow(7, 1000000000) > 0 ? "IMMUTABLE" : "MUTABLE"')
                     + repository("pow_5000", 'pow(10, 5000) > 0 ? "IMMUTABLE" : "MUTABLE"')
                     + repository("log", 'log(-1, 2) > 0 ? "IMMUTABLE" : "MUTABLE"')
                     + repository("literal", '1e400 > 0 ? "IMMUTABLE" : "MUTABLE"')
                     + repository("json", 'jsondecode("[1e400]")[0] > 0 ? "IMMUTABLE" : "MUTABLE"')
                     + repository("product", '(pow(2, 300) * pow(2, 300)) > 0 ? "IMMUTABLE" : "MUTABLE"')
                     + repository("fine", '18446744073709551616 % 7 == 2 && pow(2, 0.5) > 1.375 ? "IMMUTABLE" : "MUTABLE"')
                     + 'resource "aws_ecr_repository" "counted" {\n  count                = 1e400\n'
                       '  name                 = "counted"\n  image_tag_mutability = "MUTABLE"\n}\n'})
    code, data = lint_cli(tmp_path, "--select", "ECR003")
    assert (code, errors(data)) == (1, set())
    assert results(data, "unknown") == {("ECR003", f"aws_ecr_repository.{n}")
                                        for n in ("pow_big", "pow_5000", "log", "literal", "json", "product")}
    assert results(data, "pass") == {("ECR003", "aws_ecr_repository.fine")}
    # count = 1e400 is unknown: the block is checked as one instance, as for any unknown count
    assert results(data, "fail") == {("ECR003", "aws_ecr_repository.counted")}
    messages = {r["address"]: r["message"] for r in data["results"]}
    assert messages["aws_ecr_repository.log"].endswith("log(): math domain error")
    assert messages["aws_ecr_repository.pow_5000"].endswith("pow(): the result is out of range (more than 512 bits)")


# --- item 6: values built from shared references ---------------------------------------------------

DOUBLING = "".join(f"  l{i} = [local.l{i - 1}, local.l{i - 1}]\n" for i in range(1, 41))


def test_shared_references_cannot_make_a_walk_exponential(tmp_path):
    # local.l40 is evaluated in 41 steps but is a tree of 2^40 leaves
    write(tmp_path, {"main.tf": 'locals {\n  l0 = ["x", "x"]\n' + DOUBLING + "  j = jsonencode(local.l40)\n}\n"
                     + repository("fine", '"MUTABLE"')
                     + 'resource "aws_ecr_repository" "tagged" {\n  name = "t"\n  tags = local.l40\n'
                       '  image_tag_mutability = "IMMUTABLE"\n}\n'})
    code, data = lint_cli(tmp_path, "--select", "ECR003")
    assert code == 2
    assert errors(data) == {("main.tf", 43, BUDGET + SHARED_TREE)}  # the first place: local.j
    assert results(data, "fail") == {("ECR003", "aws_ecr_repository.fine")}  # the rest is still linted
    assert results(data, "pass") == {("ECR003", "aws_ecr_repository.tagged")}


def test_shared_references_in_a_resource_attribute_stop_before_the_rules_walk_them(tmp_path):
    write(tmp_path, {"main.tf": 'locals {\n  l0 = ["x", "x"]\n' + DOUBLING + "}\n"
                     + 'resource "aws_ecr_repository" "tagged" {\n  name = "t"\n  tags = local.l40\n'
                       '  image_tag_mutability = "IMMUTABLE"\n}\n'})
    code, data = lint_cli(tmp_path)
    assert (code, errors(data)) == (2, {("main.tf", 46, BUDGET + SHARED_TREE)})
    assert ("ECR003", "aws_ecr_repository.tagged") in results(data, "pass")


def test_yaml_alias_bomb_is_bounded(tmp_path):
    levels = ["a: &a [x, x, x, x, x, x, x, x, x]"] + [
        f"{b}: &{b} [" + ", ".join([f"*{a}"] * 9) + "]" for a, b in zip("abcdefgh", "bcdefghi")]
    write(tmp_path, {"main.tf": 'locals {\n  y = yamldecode("' + "\\n".join(levels) + '")\n'
                     '  small = yamldecode("a: &a [1, 2]\\nb: *a")\n}\n'
                     + repository("r", 'local.small.b == [1, 2] ? "IMMUTABLE" : "MUTABLE"')})
    code, data = lint_cli(tmp_path, "--select", "ECR003")
    assert (code, errors(data)) == (2, {("main.tf", 2, BUDGET + SHARED_TREE)})
    assert results(data, "pass") == {("ECR003", "aws_ecr_repository.r")}


# --- item 6: strings are bounded before they are built ---------------------------------------------


@pytest.mark.parametrize("expression,size", [
    ('indent(999999999, "a\\nb")', 1000000002),                 # 4.7 GB before
    ('format("%999999999d", 1)', 999999999),                   # 1 GB before
    ('can(indent(999999999, "a\\nb"))', 1000000002),           # can() does not hide a budget
    ('join(",", [for i in range(2000) : local.m])', 2000 * 10000 + 1999),
    ('replace(local.m, "x", local.m)', 100000000),
    ('replace(local.m, "/x/", local.m)', 10010000),            # stops at the 1001st match
    ('"${local.big}${local.big}"', 12000000),
])
def test_a_string_is_bounded_before_it_is_built(tmp_path, expression, size):
    write(tmp_path, {"main.tf": f'locals {{\n  m = "{"x" * 10000}"\n  big = format("%6000000s", "x")\n'
                                f'  v = {expression}\n}}\n' + repository("r", '"MUTABLE"')})
    code, data = lint_cli(tmp_path, "--select", "ECR003")
    assert code == 2
    assert errors(data) == {("main.tf", 4, f"{BUDGET}a string of {size} characters (the limit is 10000000)")}
    assert results(data, "fail") == {("ECR003", "aws_ecr_repository.r")}


def test_strings_built_by_a_stack_share_one_byte_budget(tmp_path):
    # 100,000 strings of 9 MB: 900 GB were attempted before; each is under the per-string limit
    write(tmp_path, {"main.tf": 'locals {\n  pad = format("%9000000s", "x")\n'
                     '  many = [for i in range(100000) : "${local.pad}${i}"]\n}\n' + repository("r", '"MUTABLE"')})
    code, data = lint_cli(tmp_path, "--select", "ECR003")
    assert code == 2
    assert errors(data) == {("main.tf", 3, BUDGET + "the stack builds more than 256 MiB of strings and collections")}
    assert results(data, "fail") == {("ECR003", "aws_ecr_repository.r")}


def test_nested_for_expressions_stop_at_the_step_budget(tmp_path):
    write(tmp_path, {"main.tf": "locals {\n  a = [for i in range(100000) : [for j in range(100000) : i * j]]\n}\n"
                     + repository("r", '"IMMUTABLE"')})
    code, data = lint_cli(tmp_path, "--select", "ECR003")
    assert code == 2
    assert errors(data) == {("main.tf", 2, BUDGET + "evaluation stopped after 1000000 steps (an expression that grows "
                                           "without bound?)")}
    # once the steps are spent nothing more is evaluated: the repository is unknown, not passed
    assert results(data, "unknown") == {("ECR003", "aws_ecr_repository.r")}


# --- item 6 and 7: instances across nested modules --------------------------------------------------

LEAF = 'resource "aws_ecr_repository" "r" {\n  name                 = "r"\n  image_tag_mutability = "IMMUTABLE"\n}\n'


def test_modules_calling_themselves_stop_at_the_instance_budget(tmp_path):
    write(tmp_path, {"main.tf": 'module "a" {\n  source = "./"\n}\n\nmodule "b" {\n  source = "./"\n}\n' + LEAF})
    code, data = lint_cli(tmp_path, "--select", "ECR003")
    assert code == 2
    assert errors(data) == {
        ("main.tf", 1, BUDGET + "module.a: " + TOO_MANY_INSTANCES),
        ("main.tf", 5, BUDGET + "module.b: " + TOO_MANY_INSTANCES),
        ("main.tf", 8, BUDGET + "aws_ecr_repository.r: " + TOO_MANY_INSTANCES),
        ("main.tf", 1, "module.a: modules nested deeper than 32 (a module calling itself?)"),
        ("main.tf", 5, "module.b: modules nested deeper than 32 (a module calling itself?)"),
    }
    assert results(data, "fail") == set() and len(results(data, "pass")) > 1000


def test_nested_module_counts_share_the_stack_instance_budget(tmp_path):
    write(tmp_path, {"main.tf": 'module "m" {\n  source = "./inner"\n  count  = 10000\n}\n',
                     "inner/main.tf": 'module "n" {\n  source = "./leaf"\n  count  = 10000\n}\n',
                     "inner/leaf/main.tf": LEAF})
    code, data = lint_cli(tmp_path, "--select", "ECR003")
    assert code == 2
    assert errors(data) == {(os.path.join("inner", "main.tf"), 1, BUDGET + "module.n: " + TOO_MANY_INSTANCES),
                            (os.path.join("inner", "leaf", "main.tf"), 1,
                             BUDGET + "aws_ecr_repository.r: " + TOO_MANY_INSTANCES)}
    assert results(data, "fail") == set()


@pytest.mark.parametrize("meta,message", [
    ("count = 10001", "module.repos: count = 10001 exceeds the limit of 10000"),
    ("for_each = toset([for i in range(10001) : tostring(i)])",
     "module.repos: for_each over 10001 elements exceeds the limit of 10000"),
])
def test_a_module_over_the_instance_cap_is_an_error_not_a_silent_truncation(tmp_path, meta, message):
    # the 10,001st instance is the MUTABLE one: before, "10000 passed", exit 0
    index = "count.index" if meta.startswith("count") else "tonumber(each.key)"
    write(tmp_path, {"main.tf": f'module "repos" {{\n  source     = "./repo"\n  {meta}\n'
                     f'  mutability = {index} == 10000 ? "MUTABLE" : "IMMUTABLE"\n}}\n',
                     "repo/main.tf": 'variable "mutability" {}\n'
                     'resource "aws_ecr_repository" "r" {\n  name                 = "r"\n'
                     '  image_tag_mutability = var.mutability\n}\n'})
    code, data = lint_cli(tmp_path, "--select", "ECR003")
    assert (code, errors(data)) == (2, {("main.tf", 1, message)})
    assert results(data, "pass") == set() and results(data, "fail") == set()


def test_a_module_at_the_cap_is_linted_whole(tmp_path):
    write(tmp_path, {"main.tf": 'module "repos" {\n  source     = "./repo"\n  count      = 10000\n'
                     '  mutability = count.index == 9999 ? "MUTABLE" : "IMMUTABLE"\n}\n',
                     "repo/main.tf": 'variable "mutability" {}\n'
                     'resource "aws_ecr_repository" "r" {\n  name                 = "r"\n'
                     '  image_tag_mutability = var.mutability\n}\n'})
    code, data = lint_cli(tmp_path, "--select", "ECR003")
    assert (code, errors(data)) == (1, set())
    assert results(data, "fail") == {("ECR003", "module.repos[9999].aws_ecr_repository.r")}
    assert len(results(data, "pass")) == 9999


# --- item 6: no backtracking regex on input anywhere else ---------------------------------------------


def test_blank_lines_do_not_stall_the_scan_for_module_calls(tmp_path):
    # the scan that tells root stacks from modules used ^\s*source: quadratic in blank lines (a hang)
    write(tmp_path, {"a/main.tf": "# source\n" + "\n" * 300000 + repository("a", '"MUTABLE"'),
                     "b/main.tf": repository("b", '"IMMUTABLE"')})
    code, data = lint_cli(tmp_path, "--select", "ECR003")
    assert (code, errors(data)) == (1, set())
    assert results(data, "fail") == {("ECR003", "aws_ecr_repository.a")}
    assert results(data, "pass") == {("ECR003", "aws_ecr_repository.b")}


def test_iam_wildcards_match_in_linear_time():
    # a policy's "*a*a*a*a*a*a*a*a*ax" became .*a.*a... for Python's re: hours against a long value
    code = ("from ecr_lint.policy.iam import iam_match\n"
            "print(iam_match('*a' * 40 + 'x', 'a' * 200), iam_match('*a' * 40, 'a' * 200),"
            " iam_match('ECR:*', 'ecr:PutImage'), iam_match('arn:*:X', 'arn:a:x', case_sensitive=True))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=GUARD)
    assert done.stdout.split() == ["False", "True", "True", "False"], done.stderr
