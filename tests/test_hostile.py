"""Hostile and broken input: a clear error naming the file, nothing lost, nothing run or fetched."""

from __future__ import annotations

import json
import os
import socket
import subprocess

import pytest
from click.testing import CliRunner

from ecr_lint.api import exit_code, lint
from ecr_lint.cli import main
from ecr_lint.config import Config

from conftest import REPO, SHARED, failures, write

GOOD = 'resource "aws_kms_key" "k" {\n  enable_key_rotation = false\n}\n'


def _errors(report) -> dict[str, str]:
    return {os.path.relpath(e.file, e.file.split("/cases/")[0] + "/cases") if "/cases/" in e.file else e.file: e.message
            for e in report.errors}


def test_every_broken_file_is_an_error_entry_and_the_rest_is_still_linted(tmp_path):
    cases = tmp_path / "cases"
    write(cases, {
        "good/main.tf": GOOD,
        "latin1/main.tf": "",
        "binary/main.tf": "",
        "empty/main.tf": "",
        "halfwritten/main.tf": 'resource "aws_ecr_repository" "r" {\n  name = "x"\n',
        "tf011/main.tf": 'variable "list" {\n  type    = "list"\n  default = ["a"]\n}\nresource "aws_kms_key" "k" {\n  count = "${length(var.list)}"\n}\n',
        "nested/main.tf": "locals {\n  x = " + "[" * 400 + "]" * 400 + "\n}\n",
        "dirname/ok.tf": "",
    })
    (cases / "latin1" / "main.tf").write_bytes('# caf\xe9\nresource "aws_kms_key" "k" {}\n'.encode("latin-1"))
    (cases / "binary" / "main.tf").write_bytes(b"\x7fELF\x02\x01\x01\x00\x00\x00")
    (cases / "dirname" / "x.tf").mkdir()
    os.symlink("b.tf", cases / "dirname" / "a.tf")
    os.symlink("a.tf", cases / "dirname" / "b.tf")
    report = lint([str(cases)], Config(select=frozenset({"ECR010"})))
    errors = _errors(report)
    assert errors["latin1/main.tf"] == "not UTF-8 text (byte 5, line 1)"
    assert errors["binary/main.tf"] == "binary file (contains NUL bytes), not Terraform"
    assert errors["halfwritten/main.tf"].startswith("unexpected end of file")
    assert errors["nested/main.tf"] == "expression nested deeper than 200 levels"
    assert errors["dirname/x.tf"] == "is a directory, not a file"
    assert "cannot read" in errors["dirname/a.tf"] and "cannot read" in errors["dirname/b.tf"]
    assert "empty/main.tf" not in errors and "tf011/main.tf" not in errors
    assert failures(report) == {("ECR010", "aws_kms_key.k"), ("ECR010", "aws_kms_key.k[0]")}
    assert exit_code(report, "error") == 2  # an input failed, even though findings exist too
    data = json.loads(CliRunner().invoke(main, [str(cases), "--select", "ECR010", "--format", "json"]).output)
    assert data["findings"] and len(data["errors"]) == len(report.errors)
    assert all(e["file"] and e["message"] for e in data["errors"])


def test_file_size_limit_is_configurable(tmp_path):
    write(tmp_path, {"main.tf": GOOD + "# " + "x" * 5000 + "\n", ".ecr-lint.toml": "max_file_bytes = 2048\n"})
    result = CliRunner().invoke(main, [str(tmp_path), "--format", "json"])
    assert result.exit_code == 2
    assert "larger than the 2048-byte limit" in json.loads(result.output)["errors"][0]["message"]


def test_symlinks_and_paths_out_of_the_tree_are_not_read(tmp_path):
    outside = tmp_path / "outside"
    write(outside, {"secret.tf": 'resource "aws_kms_key" "stolen" {}\n', "data.json": '{"a": 1}'})
    stack = tmp_path / "stack"
    write(stack, {"main.tf": 'locals {\n  x = file("../outside/data.json")\n}\n' + GOOD,
                  "escape/main.tf": 'module "m" {\n  source = "../../outside"\n}\n'})
    os.symlink(outside / "secret.tf", stack / "link.tf")
    report = lint([str(stack)], Config(select=frozenset({"ECR010", "ECR000"})))
    assert ("ECR010", "aws_kms_key.stolen") not in failures(report)
    assert any(e.file.endswith("link.tf") and "outside the linted tree" in e.message for e in report.errors)
    assert {(r.rule_id, r.address) for r in report.findings if r.rule_id == "ECR000"} == {("ECR000", "module.m")}
    from ecr_lint.loaders.evaluation import StackLoader
    from ecr_lint.loaders.module import reading_roots

    loaded = StackLoader(str(stack), {}, reading_roots([str(stack)])).load()
    assert "outside the linted tree" in loaded.module_values["local.x"].reason


def test_expansion_and_evaluation_are_bounded(tmp_path):
    doubling = ['s1 = "' + "x" * 100 + '"'] + [
        f's{i} = "' + "".join(f"${{local.s{i - 1}}}" for _ in range(10)) + '"' for i in range(2, 8)]
    write(tmp_path, {
        "count/main.tf": 'resource "aws_kms_key" "many" {\n  count               = 1000000\n  enable_key_rotation = true\n}\n',
        "nested_for/main.tf": "locals {\n  a = [for i in range(100000) : [for j in range(100000) : i * j]]\n}\n",
        "doubling/main.tf": "locals {\n  " + "\n  ".join(doubling) + "\n}\n"
                            'resource "aws_kms_key" "k" {\n  description         = local.s7\n  enable_key_rotation = true\n}\n',
    })
    report = lint([str(tmp_path)], Config(select=frozenset({"ECR010"})))
    messages = {os.path.basename(os.path.dirname(e.file) if e.file.endswith(".tf") else e.file): e.message
                for e in report.errors}
    assert messages["count"] == "aws_kms_key.many: count = 1000000 exceeds the limit of 10000"
    assert messages["nested_for"].startswith("evaluation budget exceeded: evaluation stopped after 1000000 steps")
    assert messages["doubling"] == ("evaluation budget exceeded: a string of 100000000 characters "
                                    "(the limit is 10000000)")
    from ecr_lint.loaders.evaluation import StackLoader

    loaded = StackLoader(str(tmp_path / "doubling"), {}, [str(tmp_path)]).load()
    assert loaded.module_values["local.s7"].reason == ("local.s7: a string of 100000000 characters "
                                                       "(the limit is 10000000)")


def test_nothing_is_executed_and_no_connection_is_opened(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError(f"ecr-lint tried to run or connect: {args[:2]}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(subprocess, "Popen", refuse)
    monkeypatch.setattr(os, "system", refuse)
    monkeypatch.setattr(os, "execv", refuse)
    targets = [os.path.join(REPO, "fixtures"), os.path.join(REPO, "terraform")]
    targets += [os.path.join(REPO, "fixtures", "plans", f) for f in os.listdir(os.path.join(REPO, "fixtures", "plans"))
                if f.endswith(".json")]
    if os.path.isdir(os.path.join(SHARED, "corpus")):
        targets.append(os.path.join(SHARED, "corpus"))
    report = lint(targets)
    assert [e for e in report.errors if e.kind == "internal"] == []
    assert len(report.stacks) > 20


@pytest.mark.parametrize("text,expected", [
    ('{"format_version": "1.2", "resource_changes": "nope"}', None),
    ('{"format_version": "1.2", "resource_changes": [{"address": 3, "change": []}]}', None),
    ('{"format_version": "1.2", "planned_values": {"root_module": {"resources": [{"address": "a.b", "values": "x"}]}}}', None),
    ('{"format_version": "1.2", "planned_values": {"root_module": {"child_modules": "x"}}}', None),
    ('{"format_version": "1.2", "resource_changes": [{"address": "aws_kms_key.k", "type": "aws_kms_key",'
     ' "change": {"actions": ["create"], "after": {"enable_key_rotation": false}, "after_unknown": "yes",'
     ' "after_sensitive": 7}}]}', None),
    ("[" * 100000 + "]" * 100000, "JSON nested too deeply"),
])
def test_plans_of_the_wrong_shape_are_errors_or_tolerated(tmp_path, text, expected):
    write(tmp_path, {"plan.json": text})
    report = lint([str(tmp_path / "plan.json")])
    assert [e for e in report.errors if e.kind == "internal"] == []
    if expected:
        assert [e.message for e in report.errors] == [expected]
    else:
        assert all(e.file.endswith("plan.json") for e in report.errors)
