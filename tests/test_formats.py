"""Output formats against golden files; SARIF against the SARIF 2.1.0 JSON Schema."""

from __future__ import annotations

import json
import os

import jsonschema
import pytest
from click.testing import CliRunner

from ecr_lint.cli import main

from conftest import REPO, SHARED, needs_shared

GOLDEN = os.path.join(REPO, "tests", "golden")
SARIF_SCHEMA = os.path.join(SHARED, "schemas", "sarif-schema-2.1.0.json")
CASES = ["fixtures/seed_as_written", "fixtures/unknowns"]


def _output(monkeypatch, path: str, fmt: str) -> str:
    monkeypatch.chdir(REPO)
    result = CliRunner().invoke(main, [path, "--format", fmt])
    assert result.exit_code in (0, 1), result.output
    return result.output


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github"])
@pytest.mark.parametrize("path", CASES)
def test_matches_golden_file(monkeypatch, path, fmt):
    name = f"{os.path.basename(path)}.{fmt}"
    output = _output(monkeypatch, path, fmt)
    if os.environ.get("ECR_LINT_UPDATE_GOLDEN"):
        with open(os.path.join(GOLDEN, name), "w", encoding="utf-8") as handle:
            handle.write(output)
    with open(os.path.join(GOLDEN, name), encoding="utf-8") as handle:
        assert output == handle.read(), f"regenerate with ECR_LINT_UPDATE_GOLDEN=1 if the change is intended ({name})"


@needs_shared("schemas", "sarif-schema-2.1.0.json")
@pytest.mark.parametrize("path", CASES + ["terraform/ecr"])
def test_sarif_validates_against_the_schema(monkeypatch, path):
    data = json.loads(_output(monkeypatch, path, "sarif"))
    with open(SARIF_SCHEMA, encoding="utf-8") as handle:
        jsonschema.Draft7Validator(json.load(handle)).validate(data)
    run = data["runs"][0]
    assert {r["id"] for r in run["tool"]["driver"]["rules"]} >= {"ECR001", "ECR003", "ECR010"}
    for result in run["results"]:
        location = result["locations"][0]["physicalLocation"]
        assert not location["artifactLocation"]["uri"].startswith("/")
        assert location["region"]["startLine"] >= 1
        assert len(result["partialFingerprints"]["ecrLint/v2"]) == 32


def test_output_option_writes_the_file(tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)
    target = tmp_path / "report.sarif"
    result = CliRunner().invoke(main, ["fixtures/seed_as_written", "--format", "sarif", "--output", str(target)])
    assert result.exit_code == 1 and result.output == ""
    assert [r["ruleId"] for r in json.loads(target.read_text())["runs"][0]["results"]] == ["ECR014", "ECR003"]


def test_github_annotations_escape_and_point_at_lines(monkeypatch):
    lines = _output(monkeypatch, "fixtures/seed_as_written", "github").splitlines()
    assert lines[0].startswith("::warning file=fixtures/seed_as_written/main.tf,line=1,title=ECR014::")
    assert lines[1].startswith("::error file=fixtures/seed_as_written/main.tf,line=3,title=ECR003::aws_ecr_repository.fileflow: ")
