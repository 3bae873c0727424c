"""Relational team rules (issue 16 item 1): related resources along edges or by value, three-valued,
through the real CLI; rule-file errors name the file and the field."""

from __future__ import annotations

import json
import os
import textwrap

import pytest
from click.testing import CliRunner

from ecr_lint.cli import main

from conftest import REPO, write
from test_custom_rule_safety import HEAD as SAFETY_HEAD

HEAD = SAFETY_HEAD.replace("the name breaks the convention", "the team's condition does not hold")

POLICY_BY_NAME = """
condition:
  exists:
    type: aws_ecr_repository_policy
    match:
      - {related: repository, this: name}
"""


def lint(tmp_path, check: str, tf: str, *extra: str) -> tuple[int, dict[str, tuple[str, str]], dict]:
    """Exit code, address -> (status, message) of ECR950, and the whole JSON report."""
    write(tmp_path, {"rules/ECR950.yaml": HEAD + textwrap.indent(textwrap.dedent(check), "  "),
                     "stack/main.tf": tf})
    result = CliRunner().invoke(main, [str(tmp_path / "stack"), "--rules-dir", str(tmp_path / "rules"),
                                       "--select", "ECR950", "--format", "json", "--no-cache", *extra])
    report = json.loads(result.output)
    return result.exit_code, {r["address"]: (r["status"], r["message"]) for r in report["results"]
                              if r["rule_id"] == "ECR950"}, report


def statuses(results: dict) -> dict[str, str]:
    return {address: status for address, (status, _) in results.items()}


def rule_error(tmp_path, check: str) -> str:
    """The one line a bad rule file gives (exit 2)."""
    write(tmp_path, {"rules/ECR950.yaml": HEAD + textwrap.indent(textwrap.dedent(check), "  ")})
    result = CliRunner().invoke(main, ["rules", "--rules-dir", str(tmp_path / "rules"), "--"])
    assert result.exit_code == 2, result.output
    [line] = result.output.strip().splitlines()
    return line


# --- matched by reference or by value -----------------------------------------------------------------

def test_a_policy_matches_by_reference_or_by_name_and_an_unknown_name_is_unknown(tmp_path):
    code, results, _ = lint(tmp_path, POLICY_BY_NAME, """
        variable "unset" {}
        resource "aws_ecr_repository" "by_ref" { name = "by-ref" }
        resource "aws_ecr_repository_policy" "by_ref" {
          repository = aws_ecr_repository.by_ref.name
          policy     = "{}"
        }
        resource "aws_ecr_repository" "by_name" { name = "by-name" }
        resource "aws_ecr_repository_policy" "by_name" {
          repository = "by-name"
          policy     = "{}"
        }
        resource "aws_ecr_repository" "maybe" { name = "maybe" }
        resource "aws_ecr_repository_policy" "maybe" {
          repository = var.unset
          policy     = "{}"
        }
        """)
    assert code == 1  # an unknown fails closed (unknown_values defaults to "fail": the rule's severity)
    assert statuses(results) == {"aws_ecr_repository.by_ref": "pass", "aws_ecr_repository.by_name": "pass",
                                 "aws_ecr_repository.maybe": "unknown"}
    assert results["aws_ecr_repository.maybe"][1] == (
        "the team's condition does not hold: cannot tell: aws_ecr_repository_policy.maybe.repository is unknown: "
        "var.unset has no default and no value was given")


def test_a_reference_matches_whatever_the_name_and_no_candidate_at_all_fails_whatever_the_unknowns(tmp_path):
    code, results, _ = lint(tmp_path, POLICY_BY_NAME, """
        variable "name" {}
        resource "aws_ecr_repository" "a" { name = var.name }
        resource "aws_ecr_repository_policy" "a" {
          repository = aws_ecr_repository.a.name
          policy     = "{}"
        }
        """)
    assert statuses(results) == {"aws_ecr_repository.a": "pass"}
    code, results, _ = lint(tmp_path, POLICY_BY_NAME, """
        variable "name" {}
        resource "aws_ecr_repository" "a" { name = var.name }
        """)
    assert code == 1
    assert results == {"aws_ecr_repository.a": (
        "fail", "the team's condition does not hold (there is no aws_ecr_repository_policy in the stack)")}


def test_an_unknown_name_is_unknown_unless_the_known_parts_rule_it_out(tmp_path):
    code, results, _ = lint(tmp_path, POLICY_BY_NAME, """
        variable "suffix" {}
        resource "aws_ecr_repository" "a" { name = "team-${var.suffix}" }
        resource "aws_ecr_repository" "b" { name = "other-${var.suffix}" }
        resource "aws_ecr_repository_policy" "p" {
          repository = "team-api"
          policy     = "{}"
        }
        """)
    assert code == 1
    assert statuses(results) == {"aws_ecr_repository.a": "unknown", "aws_ecr_repository.b": "fail"}


# --- along edges, in both directions ------------------------------------------------------------------

LIFECYCLE_REFERS = """
condition:
  exists:
    type: aws_ecr_lifecycle_policy
    refers_to_this: repository
"""


def test_refers_to_this_follows_the_graph_through_locals_and_only_that_attribute(tmp_path):
    code, results, _ = lint(tmp_path, LIFECYCLE_REFERS, """
        variable "unset" {}
        locals { repo = aws_ecr_repository.a }
        resource "aws_ecr_repository" "a" { name = "a" }
        resource "aws_ecr_lifecycle_policy" "a" {
          repository = local.repo.name
          policy     = "{}"
        }
        resource "aws_ecr_repository" "b" { name = "b" }
        resource "aws_ecr_lifecycle_policy" "b" {
          repository = "b"
          policy     = jsonencode({ about = aws_ecr_repository.b.arn })
        }
        resource "aws_ecr_repository" "c" { name = "c" }
        resource "aws_ecr_lifecycle_policy" "c" {
          repository = var.unset
          policy     = "{}"
        }
        """)
    # b: referred to through `policy`, not `repository`; c: the unknown repository could be any of them
    assert statuses(results) == {"aws_ecr_repository.a": "pass", "aws_ecr_repository.b": "unknown",
                                 "aws_ecr_repository.c": "unknown"}
    assert "aws_ecr_lifecycle_policy.c.repository is unknown: var.unset" in results["aws_ecr_repository.b"][1]


def test_referred_to_by_this_with_a_condition_on_the_related_data_source(tmp_path):
    check = """
        condition:
          exists:
            type: data.aws_ssm_parameter
            referred_to_by_this: encryption_configuration.kms_key
            where:
              required: [name]
              properties: {name: {pattern: "^/shared/kms/"}}
        """
    code, results, _ = lint(tmp_path, check, """
        variable "param" {}
        data "aws_ssm_parameter" "shared" { name = "/shared/kms/key" }
        data "aws_ssm_parameter" "own" { name = "/team/kms/key" }
        data "aws_ssm_parameter" "unset" { name = var.param }
        resource "aws_ecr_repository" "shared" {
          name = "shared"
          encryption_configuration {
            encryption_type = "KMS"
            kms_key         = data.aws_ssm_parameter.shared.value
          }
        }
        resource "aws_ecr_repository" "own" {
          name = "own"
          encryption_configuration {
            encryption_type = "KMS"
            kms_key         = data.aws_ssm_parameter.own.value
          }
        }
        resource "aws_ecr_repository" "unset" {
          name = "unset"
          encryption_configuration {
            encryption_type = "KMS"
            kms_key         = data.aws_ssm_parameter.unset.value
          }
        }
        resource "aws_ecr_repository" "literal" {
          name = "literal"
          encryption_configuration {
            encryption_type = "KMS"
            kms_key         = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
          }
        }
        """)
    assert statuses(results) == {"aws_ecr_repository.shared": "pass", "aws_ecr_repository.own": "fail",
                                 "aws_ecr_repository.unset": "unknown", "aws_ecr_repository.literal": "fail"}
    assert results["aws_ecr_repository.unset"][1].endswith(
        "cannot tell: data.aws_ssm_parameter.unset.name: var.param has no default and no value was given")
    assert results["aws_ecr_repository.own"][1] == (
        "the team's condition does not hold (no data.aws_ssm_parameter that it refers to through "
        "encryption_configuration.kms_key and that has the attributes the rule asks for "
        "(data.aws_ssm_parameter.own.name: '/team/kms/key' does not match '^/shared/kms/'))")


# --- all_of / any_of / not, count, when ---------------------------------------------------------------

def test_kleene_logic_decides_what_is_decidable(tmp_path):
    check = """
        condition:
          any_of:
            - attributes: {properties: {image_tag_mutability: {const: IMMUTABLE}}, required: [image_tag_mutability]}
            - all_of:
                - not: {attributes: {required: [force_delete]}}
                - not_exists: {type: aws_ecr_pull_through_cache_rule}
        """
    code, results, _ = lint(tmp_path, check, """
        variable "unset" {}
        resource "aws_ecr_repository" "immutable" {
          name                 = "immutable"
          image_tag_mutability = "IMMUTABLE"
          force_delete         = var.unset
        }
        resource "aws_ecr_repository" "unknown_mutability_no_force" {
          name                 = "a"
          image_tag_mutability = var.unset
        }
        resource "aws_ecr_repository" "unknown_both" {
          name                 = "b"
          image_tag_mutability = var.unset
          force_delete         = var.unset
        }
        resource "aws_ecr_repository" "mutable_force" {
          name         = "c"
          force_delete = var.unset
        }
        """)
    assert statuses(results) == {"aws_ecr_repository.immutable": "pass",
                                 "aws_ecr_repository.unknown_mutability_no_force": "pass",
                                 "aws_ecr_repository.unknown_both": "unknown",  # it may be IMMUTABLE
                                 "aws_ecr_repository.mutable_force": "fail"}  # force_delete is set, whatever its value


def test_not_of_an_unknown_attribute_is_unknown_not_a_pass(tmp_path):
    check = """
        condition:
          not: {attributes: {properties: {image_tag_mutability: {const: MUTABLE}}}}
        """
    code, results, _ = lint(tmp_path, check, """
        variable "unset" {}
        resource "aws_ecr_repository" "a" {
          name                 = "a"
          image_tag_mutability = var.unset
        }
        """)
    assert statuses(results) == {"aws_ecr_repository.a": "unknown"}


def test_count_bounds_with_unknown_candidates(tmp_path):
    check = """
        condition:
          count:
            type: aws_ecr_lifecycle_policy
            match: [{related: repository, this: name}]
            max: 1
        """
    code, results, _ = lint(tmp_path, check, """
        variable "unset" {}
        resource "aws_ecr_repository" "two" { name = "two" }
        resource "aws_ecr_lifecycle_policy" "two_a" {
          repository = "two"
          policy     = "{}"
        }
        resource "aws_ecr_lifecycle_policy" "two_b" {
          repository = aws_ecr_repository.two.name
          policy     = "{}"
        }
        resource "aws_ecr_repository" "one" { name = "one" }
        resource "aws_ecr_lifecycle_policy" "one" {
          repository = "one"
          policy     = "{}"
        }
        resource "aws_ecr_lifecycle_policy" "unset" {
          repository = var.unset
          policy     = "{}"
        }
        """)
    # two: at least 2 whatever the unknown is; one: 1 or 2, cannot tell
    assert statuses(results) == {"aws_ecr_repository.two": "fail", "aws_ecr_repository.one": "unknown"}
    assert "aws_ecr_lifecycle_policy.two_a, aws_ecr_lifecycle_policy.two_b" in results["aws_ecr_repository.two"][1]


def test_when_restricts_the_rule_and_an_unknown_environment_follows_the_config(tmp_path):
    check = """
        when: {production: true}
        condition:
          exists: {type: aws_ecr_replication_configuration}
        """
    tf = """
        variable "environment" {}
        resource "aws_ecr_repository" "prod" {
          name = "prod"
          tags = { Environment = "prod" }
        }
        resource "aws_ecr_repository" "dev" {
          name = "dev"
          tags = { Environment = "dev" }
        }
        resource "aws_ecr_repository" "unset" {
          name = "unset"
          tags = { Environment = var.environment }
        }
        """
    code, results, _ = lint(tmp_path, check, tf)
    assert code == 1
    assert statuses(results) == {"aws_ecr_repository.prod": "fail", "aws_ecr_repository.dev": "pass",
                                 "aws_ecr_repository.unset": "fail"}  # an unknown environment is production
    write(tmp_path, {"stack/.ecr-lint.toml": 'unknown_environment = "unknown"\n'})
    code, results, _ = lint(tmp_path, check, tf)
    assert statuses(results) == {"aws_ecr_repository.prod": "fail", "aws_ecr_repository.dev": "pass",
                                 "aws_ecr_repository.unset": "unknown"}


def test_each_block_correlates_the_filter_and_the_destination_of_one_rule(tmp_path):
    check = """
        condition:
          exists:
            type: aws_ecr_replication_configuration
            each: replication_configuration.rule
            match: [{related: repository_filter.filter, this: name, op: starts_with, or_absent: true}]
            where:
              properties: {destination: {contains: {properties: {region: {const: eu-west-1}}, required: [region]}}}
              required: [destination]
        """
    code, results, _ = lint(tmp_path, check, """
        resource "aws_ecr_repository" "pay" { name = "pay-api" }
        resource "aws_ecr_repository" "search" { name = "search-api" }
        resource "aws_ecr_replication_configuration" "r" {
          replication_configuration {
            rule {
              destination {
                region      = "eu-west-1"
                registry_id = "111122223333"
              }
              repository_filter {
                filter      = "pay-"
                filter_type = "PREFIX_MATCH"
              }
            }
            rule {
              destination {
                region      = "us-east-1"
                registry_id = "111122223333"
              }
            }
          }
        }
        """)
    # search-api is replicated (the unfiltered rule) but not to eu-west-1
    assert statuses(results) == {"aws_ecr_repository.pay": "pass", "aws_ecr_repository.search": "fail"}


def test_a_sensitive_value_is_never_shown_in_a_relational_message(tmp_path):
    check = """
        condition:
          exists:
            type: aws_ecr_repository_policy
            refers_to_this: repository
            where: {properties: {policy: {enum: ["{}"]}}}
        """
    code, results, report = lint(tmp_path, check, """
        variable "secret_policy" {
          default   = "TOPSECRET-policy-text"
          sensitive = true
        }
        resource "aws_ecr_repository" "a" { name = "a" }
        resource "aws_ecr_repository_policy" "a" {
          repository = aws_ecr_repository.a.name
          policy     = var.secret_policy
        }
        """)
    assert statuses(results) == {"aws_ecr_repository.a": "fail"}
    assert "TOPSECRET" not in json.dumps(report)
    assert results["aws_ecr_repository.a"][1].endswith("(aws_ecr_repository_policy.a.policy: (sensitive) is not one of ['{}']))")


# --- schema rules are three-valued too -------------------------------------------------------------

def test_a_schema_rule_does_not_pass_an_unknown_value_through_if_or_not(tmp_path):
    """ECR010's `if` passed a key whose customer_master_key_spec is unknown (it could be
    SYMMETRIC_DEFAULT, without rotation); a custom rule's `not` passed an unknown value."""
    write(tmp_path, {"main.tf": 'variable "spec" {}\nresource "aws_kms_key" "k" {\n  customer_master_key_spec = var.spec\n}\n'})
    result = CliRunner().invoke(main, [str(tmp_path), "--select", "ECR010", "--format", "json", "--no-cache"])
    assert {(f["rule_id"], f["address"], f["status"]) for f in json.loads(result.output)["findings"]} == {
        ("ECR010", "aws_kms_key.k", "unknown")}
    check = """
        schema:
          not: {properties: {name: {pattern: "^legacy-"}}, required: [name]}
        """
    code, results, _ = lint(tmp_path / "custom", check, """
        variable "name" {}
        resource "aws_ecr_repository" "unset" { name = var.name }
        resource "aws_ecr_repository" "legacy" { name = "legacy-app" }
        resource "aws_ecr_repository" "fine" { name = "app" }
        """)
    assert statuses(results) == {"aws_ecr_repository.unset": "unknown", "aws_ecr_repository.legacy": "fail",
                                 "aws_ecr_repository.fine": "pass"}


# --- rule-file errors: file and field ---------------------------------------------------------------

@pytest.mark.parametrize("check, field, words", [
    ("condition:\n  exists: {type: aws_ecr_repository_policy, refers_to: repository}\n",
     "check.condition.exists", "'refers_to' was unexpected"),
    ("condition:\n  exists:\n    type: aws_ecr_repository_policy\n    match: [{related: repository, this: name, op: eq}]\n",
     "check.condition.exists.match.0.op", "'eq' is not one of"),
    ("condition:\n  all_of:\n    - exists: {type: aws_x, where: {properties: {name: {pattern: '(?=a)'}}}}\n",
     "check.condition.all_of.0.exists.where.properties.name.pattern", "RE2 cannot compile"),
    ("condition:\n  not:\n    attributes: {$ref: 'https://example.com/s.json'}\n",
     "check.condition.not.attributes.$ref", "leaves the rule file"),
    ("condition:\n  count: {type: aws_x, min: 2, max: 1}\n", "check.condition.count.max", "less than min 2"),
    ("condition:\n  count: {type: aws_x}\n", "check.condition.count", "is not valid under any of the given schemas"),
    ("condition:\n  exists: {type: aws_x}\n  attributes: {}\n", "check.condition", "has too many properties"),
    ("when: {production: yes-please}\ncondition:\n  exists: {type: aws_x}\n", "check.when.production",
     "is not of type 'boolean'"),
    ("when: {production: true}\nschema: {}\n", "check", "'condition' is a dependency of 'when'"),
])
def test_relational_rule_errors_name_the_file_and_the_field(tmp_path, check, field, words):
    line = rule_error(tmp_path, check)
    assert line.startswith(f"ecr-lint: {tmp_path / 'rules' / 'ECR950.yaml'}: {field}: "), line
    assert words in line


def test_a_condition_checks_resources_not_whole_stacks(tmp_path):
    write(tmp_path, {"rules/ECR950.yaml": HEAD.replace("  resource_types: [aws_ecr_repository]", "  stack: true")
                     + "  condition: {exists: {type: aws_x}}\n"})
    result = CliRunner().invoke(main, ["rules", "--rules-dir", str(tmp_path / "rules"), "--"])
    assert result.exit_code == 2
    assert result.output == (f"ecr-lint: {tmp_path / 'rules' / 'ECR950.yaml'}: applies_to: a condition checks "
                             "resources (resource_types, data_types, taggable), not whole stacks\n")


# --- rules, explain, docs, graph show team rules like built-in ones ----------------------------------

TEAM = os.path.join(REPO, "docs", "examples", "team-rules")


def test_rules_explain_docs_and_graph_show_team_rules(tmp_path):
    listed = CliRunner().invoke(main, ["rules", "--rules-dir", TEAM, "--"]).output
    assert "ECR961  repository-policy-exists         error    Every repository has a repository policy" in listed
    explained = CliRunner().invoke(main, ["explain", "ECR963", "--rules-dir", TEAM, "--"]).output
    assert explained.startswith("ECR963 kms-key-from-shared-parameter (error)\n") and "Fails:\n" in explained
    # `docs` takes custom rules from the config's rules_dirs
    write(tmp_path, {".ecr-lint.toml": f'rules_dirs = ["{TEAM}"]\n'})
    os.mkdir(tmp_path / ".git")
    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        assert CliRunner().invoke(main, ["docs", "--", "out"]).exit_code == 0
    finally:
        os.chdir(old)
    page = (tmp_path / "out" / "ECR960.md").read_text()
    assert page.startswith("<!-- generated by `ecr-lint docs -- docs/rules` from team-rules/ECR960.yaml")
    assert "# ECR960 dr-replication" in page and "## Fails" in page
    assert "| [ECR964](ECR964.md) | one-lifecycle-policy | error |" in (tmp_path / "out" / "README.md").read_text()
    # the edges a relational rule looks along are labelled in the graph
    write(tmp_path, {"stack/main.tf": """
        data "aws_ssm_parameter" "key" { name = "/shared/kms/k" }
        resource "aws_ecr_repository" "a" {
          name = "a"
          encryption_configuration {
            encryption_type = "KMS"
            kms_key         = data.aws_ssm_parameter.key.value
          }
        }
        """})
    write(tmp_path, {".ecr-lint.toml": f'rules_dirs = ["{TEAM}"]\nselect = ["ECR963"]\n'})
    graph = json.loads(CliRunner().invoke(main, ["graph", str(tmp_path / "stack"), "--format", "json"]).output)
    [edge] = graph["stacks"][0]["edges"]
    assert (edge["attribute"], "ECR963" in edge["rules"]) == ("encryption_configuration.kms_key", True)


def test_team_rules_agree_on_the_shipped_stack_and_its_plan():
    def verdicts(path: str) -> set[tuple[str, str, str]]:
        result = CliRunner().invoke(main, [path, "--rules-dir", TEAM, "--format", "json", "--no-cache",
                                           "--select", "ECR960,ECR961,ECR962,ECR963,ECR964"])
        return {(r["rule_id"], r["address"], r["status"]) for r in json.loads(result.output)["results"]}

    expected = {("ECR960", "aws_ecr_repository.fileflow", "fail"), ("ECR961", "aws_ecr_repository.fileflow", "pass"),
                ("ECR963", "aws_ecr_repository.fileflow", "pass"), ("ECR964", "aws_ecr_repository.fileflow", "pass")}
    assert verdicts(os.path.join(REPO, "terraform", "ecr", "fileflow")) == expected
    assert verdicts(os.path.join(REPO, "fixtures", "plans", "fileflow.plan.json")) == expected


def test_relations_are_looked_up_not_tried_pairwise(tmp_path, monkeypatch):
    """N repositories and N policies: each repository evaluates the few candidates the per-stack
    indexes give it (by value, by reference, along edges), not all N (N x N on a large stack)."""
    from ecr_lint import relations
    from ecr_lint.api import lint as api_lint
    from ecr_lint.catalog import load_rules
    from ecr_lint.config import Config

    n = 300
    blocks = []
    for i in range(n):
        blocks.append(f'resource "aws_ecr_repository" "r{i}" {{\n  name = "repo-{i}"\n}}\n')
        if i % 100:
            blocks.append(f'resource "aws_ecr_repository_policy" "p{i}" {{\n  repository = "repo-{i}"\n'
                          '  policy = "{}"\n}\n')
            blocks.append(f'resource "aws_ecr_lifecycle_policy" "l{i}" {{\n  repository = aws_ecr_repository.r{i}.name\n'
                          '  policy = "{}"\n}\n')
    write(tmp_path / "stack", {"main.tf": "".join(blocks)})
    calls = []
    relates = relations._relates
    monkeypatch.setattr(relations, "_relates", lambda *args: calls.append(1) or relates(*args))
    write(tmp_path, {"rules/ECR950.yaml": HEAD + textwrap.indent(LIFECYCLE_REFERS, "  ")})
    rules = load_rules([TEAM, str(tmp_path / "rules")])
    report = api_lint([str(tmp_path / "stack")], Config(select=frozenset({"ECR961", "ECR964", "ECR950"})), rules=rules)
    failed = {(r.rule_id, r.address) for r in report.results if r.status.value == "fail"}
    assert failed == {(rule, f"aws_ecr_repository.r{i}") for rule in ("ECR961", "ECR964", "ECR950") for i in (0, 100, 200)}
    assert len(report.results) == 3 * n
    assert len(calls) <= 3 * n   # at most one candidate each here; pairwise would be 3 x 300 x 297
