"""Production by meaning: words of the environment value, lookalikes, tag keys in any case (issue 12 item 12,
issue 13 item 7)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from ecr_lint.cli import main
from ecr_lint.predicates.environment import is_production, read, tokens

from conftest import write

NAMES = ("prod", "production", "prd")


@pytest.mark.parametrize("text, words", [
    ("prod-eu", ["prod", "eu"]), ("eu_production", ["eu", "production"]), ("EUProd", ["eu", "prod"]),
    ("prodEU", ["prod", "eu"]), ("prd1", ["prd", "1"]), ("PROD", ["prod"]), ("  a..b  ", ["a", "b"]), ("", []),
])
def test_tokens(text, words):
    assert tokens(text) == words


@pytest.mark.parametrize("value", [
    "prod", "PROD", "Production", "prod-eu", "eu-production", "prd_1", "EUProd", "prodEU", "production-like",
    "live/prod", "prod.eu-west-1",
])
def test_production_names_are_words_of_the_value(value):
    assert is_production(read(value), NAMES) and read(value).changes == ()


@pytest.mark.parametrize("value", [
    "preprod", "nonprod", "pre-prod", "non_prod", "nonProd", "Pre-Production", "dev", "staging", "product", "prodigy",
    "reprod", "",
])
def test_other_names_are_not_production(value):
    assert not is_production(read(value), NAMES)


@pytest.mark.parametrize("value, normal, changes", [
    ("prоd", "prod", ("it has Cyrillic or Greek letters that look like Latin ones",)),          # Cyrillic о
    ("ΡRΟD", "PROD", ("it has Cyrillic or Greek letters that look like Latin ones",)),          # Greek Ρ, Ο
    ("prod ", "prod", ("it has stray spaces",)),
    ("\u00a0prod", "prod", ("it has full-width or styled characters", "it has stray spaces")),  # NBSP
    ("pro\u200bd", "prod", ("it has invisible characters",)),
    ("p\u034frod", "prod", ("it has invisible characters",)),
    ("ｐｒｏｄ", "prod", ("it has full-width or styled characters",)),
    ("𝐩𝐫𝐨𝐝", "prod", ("it has full-width or styled characters",)),
])
def test_lookalikes_and_stray_characters_read_as_production_with_a_note(value, normal, changes):
    reading = read(value)
    assert (reading.normal, reading.changes) == (normal, changes)
    assert is_production(reading, NAMES)
    assert reading.note().startswith(f"; read as {normal!r}: ")


def test_glob_patterns_match_the_whole_value():
    assert is_production(read("live-eu-1"), ("live-*",))
    assert not is_production(read("pre-live-eu"), ("live-*",))
    assert is_production(read("Live-EU"), ("live-*",))  # casefolded
    assert is_production(read("eu west live"), ("eu-west-live",))  # a plain multi-word name is a run of words


def _lint(directory, *extra: str) -> tuple[int, dict[tuple[str, str], tuple[str, str]]]:
    result = CliRunner().invoke(main, [str(directory), "--select", "ECR003,ECR011", "--format", "json", "--no-cache",
                                       *extra], catch_exceptions=False)
    data = json.loads(result.output)
    return result.exit_code, {(r["rule_id"], r["address"]): (r["status"], r["message"]) for r in data["results"]}


def _repository(name: str, tags: str) -> str:
    return (f'resource "aws_ecr_repository" "{name}" {{\n  name = "{name}"\n  image_tag_mutability = "MUTABLE"\n'
            f'  force_delete = true\n  tags = {tags}\n}}\n')


@pytest.mark.parametrize("tags, note", [
    ('{ Environment = "prоd" }', "; read as 'prod': it has Cyrillic or Greek letters that look like Latin ones"),
    ('{ Environment = "prod " }', "; read as 'prod': it has stray spaces"),
    ('{ Environment = "pro\\u200bd" }', "; read as 'prod': it has invisible characters"),
    ('{ Environment = "prod-eu" }', ""),
    ('{ environment = "eu-production" }', ""),
    ('{ ENV = "PRD_1" }', ""),
    ('{ Stage = "prod" }', ""),
])
def test_production_in_disguise_fails_ecr003_and_ecr011(tmp_path, tags, note):
    write(tmp_path, {"main.tf": _repository("app", tags)})
    code, results = _lint(tmp_path)
    assert code == 1
    status, message = results[("ECR003", "aws_ecr_repository.app")]
    assert status == "fail" and results[("ECR011", "aws_ecr_repository.app")][0] == "fail"
    assert message.endswith(f"tag{note}): tags can be overwritten")


def test_qualified_and_other_environments_pass(tmp_path):
    write(tmp_path, {"main.tf": "".join(_repository(n, f'{{ Environment = "{v}" }}') for n, v in
                                        (("a", "preprod"), ("b", "nonprod"), ("c", "pre-prod"), ("d", "dev")))})
    code, results = _lint(tmp_path)
    assert code == 0
    assert {k: s for k, (s, _) in results.items()} == {(r, f"aws_ecr_repository.{n}"): "pass"
                                                       for r in ("ECR003", "ECR011") for n in "abcd"}


@pytest.mark.parametrize("value", ["pr0d", "PR0D", "pr0duct1on", "eu-pr0d", "prod2", "eu1prod"])
def test_digits_written_for_letters_read_as_production(value):
    assert is_production(read(value), NAMES)


@pytest.mark.parametrize("value", ["pre-pr0d", "n0nprod", "t3st", "r3pr0", "d3v"])
def test_digits_for_letters_do_not_make_other_names_production(value):
    assert not is_production(read(value), NAMES)


def test_digits_for_letters_fail_ecr003_through_the_cli(tmp_path):
    # A hostile review (stop 18): Environment = "pr0d" passed ECR003.
    write(tmp_path, {"main.tf": _repository("leet", '{ Environment = "pr0d" }')})
    code, results = _lint(tmp_path)
    assert code == 1 and results[("ECR003", "aws_ecr_repository.leet")][0] == "fail"
    assert "environment 'pr0d' from the Environment tag" in results[("ECR003", "aws_ecr_repository.leet")][1]


def test_any_environment_tag_that_says_production_wins(tmp_path):
    write(tmp_path, {"main.tf": _repository("app", '{ Environment = "dev", stage = "prod" }')})
    code, results = _lint(tmp_path)
    assert code == 1 and results[("ECR003", "aws_ecr_repository.app")][0] == "fail"
    assert "environment 'prod' from the stage tag" in results[("ECR003", "aws_ecr_repository.app")][1]


@pytest.mark.parametrize("variable", ["environment", "env", "stage"])
def test_environment_variables(tmp_path, variable):
    write(tmp_path, {"main.tf": f'variable "{variable}" {{\n  default = "Production-EU"\n}}\n'
                     + _repository("app", "{}")})
    code, results = _lint(tmp_path)
    assert code == 1
    assert results[("ECR003", "aws_ecr_repository.app")] == (
        "fail", f"image_tag_mutability = \"MUTABLE\" in production (environment 'Production-EU' from var.{variable}): "
        "tags can be overwritten")


def test_tag_keys_variables_and_names_are_configurable(tmp_path):
    write(tmp_path, {"main.tf": _repository("app", '{ Tier = "x" }') + _repository("other", '{ Environment = "prod", TIER = "prod" }'),
                     ".ecr-lint.toml": 'environment_tags = ["tier"]\nenvironment_variables = ["tier"]\n'
                                       'production_environments = ["live-*"]\n'})
    code, results = _lint(tmp_path)
    assert code == 0  # only the tier tag is read, and "prod" is no longer a production name
    assert results[("ECR003", "aws_ecr_repository.app")] == ("pass", "environment 'x' from the Tier tag is not production")
    assert results[("ECR003", "aws_ecr_repository.other")][0] == "pass"
    write(tmp_path, {"main.tf": 'variable "tier" {\n  default = "live-1"\n}\n' + _repository("app", "{}")})
    code, results = _lint(tmp_path)
    assert code == 1 and "environment 'live-1' from var.tier" in results[("ECR003", "aws_ecr_repository.app")][1]


def test_environment_settings_are_validated(tmp_path):
    write(tmp_path, {"main.tf": "", ".ecr-lint.toml": 'environment_tags = []\n'})
    result = CliRunner().invoke(main, [str(tmp_path), "--no-cache"])
    assert result.exit_code == 2 and "environment_tags: [] should be non-empty" in result.output
