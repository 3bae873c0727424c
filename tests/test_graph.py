"""The resource graph: edges carry attribute paths; `ecr-lint graph` draws it with the rules."""

from __future__ import annotations

import json
import os

from click.testing import CliRunner

from ecr_lint.api import load_stacks
from ecr_lint.cli import main
from ecr_lint.config import Config

from conftest import REPO

SHIPPED = os.path.join(REPO, "terraform", "ecr", "fileflow")


def _stack():
    stacks, errors = load_stacks([SHIPPED], Config())
    assert errors == []
    return stacks[0]


def test_edges_carry_the_attribute_path_and_what_they_read():
    graph = _stack().graph
    edges = {(e.target, e.attribute, e.path) for e in graph.references("aws_ecr_repository.fileflow")}
    assert ("data.aws_ssm_parameter.ecs-secrets-key-arn", "encryption_configuration.kms_key", "value") in edges
    assert ("var.image_tag_mutability", "image_tag_mutability", "") in edges


def test_referrers_by_type_through_locals_and_variables():
    graph = _stack().graph
    policies = graph.referrers("aws_ecr_repository.fileflow", "aws_ecr_lifecycle_policy")
    assert [(e.source, e.attribute) for e in policies] == [("aws_ecr_lifecycle_policy.fileflow", "repository")]
    # var.environment reaches the repository through local.required_tags
    assert "aws_ecr_repository.fileflow" in {e.source for e in graph.referrers("var.environment")}


def test_no_cycles_in_the_shipped_stack():
    assert _stack().graph.cycles() == []


def test_graph_command_formats(monkeypatch):
    monkeypatch.chdir(REPO)
    mermaid = CliRunner().invoke(main, ["graph", "terraform/ecr"])
    assert mermaid.exit_code == 0
    assert mermaid.output.startswith("flowchart LR")
    assert '"repository [ECR006]"' in mermaid.output and '"value [ECR008]"' in mermaid.output
    dot = CliRunner().invoke(main, ["graph", "terraform/ecr", "--format", "dot"])
    assert dot.output.startswith("digraph ecr_lint {") and "encryption_configuration.kms_key [ECR001, ECR009]" in dot.output
    data = json.loads(CliRunner().invoke(main, ["graph", "terraform/ecr", "--format", "json"]).output)
    edges = {(e["from"], e["to"]): e["rules"] for e in data["stacks"][0]["edges"]}
    assert edges[("aws_ssm_parameter.repository_url", "aws_ecr_repository.fileflow")] == ["ECR008"]
    assert data["stacks"][0]["stack"] == "terraform/ecr/fileflow"


def test_readme_shows_the_shipped_stack_graph(monkeypatch):
    monkeypatch.chdir(REPO)
    mermaid = CliRunner().invoke(main, ["graph", "terraform/ecr"]).output
    with open(os.path.join(REPO, "README.md"), encoding="utf-8") as handle:
        assert f"```mermaid\n{mermaid}```" in handle.read()


def test_progress_only_on_a_terminal_and_never_in_machine_formats(tmp_path, monkeypatch):
    for i in range(6):
        (tmp_path / f"s{i}").mkdir()
        (tmp_path / f"s{i}" / "main.tf").write_text('resource "aws_kms_key" "k" {\n  enable_key_rotation = true\n}\n')
    import ecr_lint.cli

    quiet = CliRunner().invoke(main, [str(tmp_path), "--select", "ECR010"])
    assert "6/6 stacks" not in quiet.stderr  # stderr is not a terminal here
    monkeypatch.setattr(ecr_lint.cli, "_stderr_is_terminal", lambda: True)
    result = CliRunner().invoke(main, [str(tmp_path), "--select", "ECR010"])
    assert result.exit_code == 0
    assert "ecr-lint: 6/6 stacks" in result.stderr and "6/6" not in result.stdout
    machine = CliRunner().invoke(main, [str(tmp_path), "--select", "ECR010", "--format", "json"])
    assert machine.stderr == "" and json.loads(machine.stdout)["summary"]["stacks"] == 6


def test_stack_graph_shows_ssm_links_cycles_and_missing_producers(monkeypatch):
    monkeypatch.chdir(REPO)
    data = json.loads(CliRunner().invoke(main, ["graph", "--stacks", "fixtures/ssm_stacks", "--format", "json"]).output)
    edges = {(e["from"], e["to"]): (e["parameters"], e["cycle"]) for e in data["edges"]}
    assert edges[("fixtures/ssm_stacks/api", "fixtures/ssm_stacks/fileflow")] == (["/shared/ecr/fileflow-repository-url"], False)
    assert edges[("fixtures/ssm_stacks/orders", "fixtures/ssm_stacks/payments")] == (["/shared/payments/api-url"], True)
    assert data["missing"] == [{"stack": "fixtures/ssm_stacks/api", "parameter": "/shared/ecr/billing-repository-url"}]
    mermaid = CliRunner().invoke(main, ["graph", "--stacks", "fixtures/ssm_stacks"]).output
    assert "==>" in mermaid and "missing producer: /shared/ecr/billing-repository-url" in mermaid
    assert CliRunner().invoke(main, ["graph", "--stacks", "fixtures/ssm_stacks", "--format", "dot"]).output.startswith(
        "digraph ecr_lint_stacks {")
