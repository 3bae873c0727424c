"""Plan JSON (`terraform show -json`): the same rules on what Terraform resolved."""

from __future__ import annotations

import json
import os

import pytest

from click.testing import CliRunner

from ecr_lint.api import lint
from ecr_lint.cli import main
from ecr_lint.config import Config
from ecr_lint.loaders import jsonstream
from ecr_lint.loaders.plan import load_plan

from conftest import SHARED, failures, needs_shared, statuses, write

PLANS = os.path.join(SHARED, "corpus", "plans")
needs_corpus = needs_shared("corpus", "plans")


def plan_path(folder: str, *rest: str) -> str:
    return os.path.join(PLANS, folder, *rest)


@needs_corpus
def test_repository_that_exists_only_in_resource_changes_is_checked():
    path = plan_path("bridgecrewio__checkov__tests-terraform-parser-resources-plan_tags",
                     "tests/terraform/parser/resources/plan_tags/tfplan.json")
    report = lint([path], Config(select=frozenset({"ECR001", "ECR002", "ECR003"})))
    assert report.errors == []
    assert failures(report) == {("ECR001", "aws_ecr_repository.repository"), ("ECR002", "aws_ecr_repository.repository")}
    # TerraGoat's var.environment is "corp": not production, so MUTABLE passes ECR003.
    assert statuses(report, "ECR003") == {"aws_ecr_repository.repository": "pass"}


@needs_corpus
def test_for_each_duplicate_key_resolved_to_the_last_value_by_terraform():
    path = plan_path("terraform-compliance__cli__tests-functional-actions_for_each_and_modules",
                     "tests/functional/actions_for_each_and_modules/plan.out.json")
    report = lint([path], Config(select=frozenset({"ECR002", "ECR003"})))
    assert statuses(report, "ECR002") == {
        'module.ecr_repository["repository_1"].aws_ecr_repository.ecr_repository': "fail",
        'module.ecr_repository["repository_2"].aws_ecr_repository.ecr_repository': "pass",
    }
    assert set(statuses(report, "ECR003").values()) == {"pass"}


@needs_corpus
def test_hcl_source_with_the_same_duplicate_key_agrees_with_the_plan():
    folder = plan_path("terraform-compliance__cli__tests-functional-actions_for_each_and_modules",
                       "tests/functional/actions_for_each_and_modules")
    hcl = lint([folder], Config(select=frozenset({"ECR002"})))
    plan = lint([os.path.join(folder, "plan.out.json")], Config(select=frozenset({"ECR002"})))
    assert failures(hcl) == failures(plan) == {
        ("ECR002", 'module.ecr_repository["repository_1"].aws_ecr_repository.ecr_repository')}


@needs_corpus
def test_plan_without_configuration_section_loads():
    path = plan_path("bridgecrewio__checkov__tests-terraform-runner-tf_plan_skip_check_regex",
                     "tests/terraform/runner/tf_plan_skip_check_regex/resource/tfplan1.json")
    report = lint([path], Config(select=frozenset({"ECR001"})))
    assert report.errors == []
    assert failures(report) == {("ECR001", "aws_ecr_repository.repository")}


@needs_corpus
def test_every_corpus_plan_loads_without_errors():
    paths = [os.path.join(d, f) for d, _, files in os.walk(PLANS) for f in files
             if f.endswith(".json") and f != "policy.json"]
    assert len(paths) == 9
    report = lint(paths)
    assert [str(e) for e in report.errors] == []
    assert len(report.stacks) == 9


def test_plan_errors_are_clear_and_exit_two(tmp_path):
    write(tmp_path, {
        "truncated.json": '{"format_version": "1.2", "planned_values": {',
        "notplan.json": '{"hello": "world"}',
        "future.json": '{"format_version": "2.0", "planned_values": {}}',
        "state.json": '{"format_version": "1.0", "values": {}}',
        "binary.json": "\x00\x01",
    })
    names = ["truncated", "notplan", "future", "state", "binary"]
    result = CliRunner().invoke(main, [str(tmp_path / f"{n}.json") for n in names] + ["--format", "json"])
    assert result.exit_code == 2
    errors = {os.path.basename(e["file"]): e["message"] for e in json.loads(result.output)["errors"]}
    assert errors["truncated.json"] == "truncated JSON"
    assert errors["notplan.json"].startswith("not a Terraform plan")
    assert errors["future.json"] == "unsupported plan format_version '2.0' (ecr-lint reads 0.x and 1.x)"
    assert "state, not of a plan" in errors["state.json"]
    assert errors["binary.json"].startswith("not valid JSON")


def _plan(resources: list[dict], changes: list[dict] | None = None) -> dict:
    return {"format_version": "1.2", "terraform_version": "1.11.4",
            "planned_values": {"root_module": {"resources": resources}},
            "resource_changes": changes or []}


def test_sensitive_values_are_never_printed(tmp_path):
    secret = "arn:aws:kms:ap-northeast-2:111122223333:alias/aws/ecr"
    plan = _plan([], [{
        "address": "aws_ecr_repository.r", "mode": "managed", "type": "aws_ecr_repository", "name": "r",
        "change": {"actions": ["create"],
                   "after": {"name": "r", "encryption_configuration": [{"encryption_type": "KMS", "kms_key": secret}]},
                   "after_unknown": {}, "after_sensitive": {"encryption_configuration": [{"kms_key": True}]}},
    }])
    write(tmp_path, {"plan.json": json.dumps(plan)})
    for fmt in ("text", "json", "sarif", "github"):
        result = CliRunner().invoke(main, [str(tmp_path / "plan.json"), "--format", fmt])
        assert result.exit_code == 1, result.output
        assert secret not in result.output and "alias/aws/ecr" not in result.output
    report = lint([str(tmp_path / "plan.json")], Config(select=frozenset({"ECR001"})))
    assert failures(report) == {("ECR001", "aws_ecr_repository.r")}  # still judged on the real value


def test_deleted_resources_do_not_count_and_changed_only(tmp_path):
    def change(name: str, actions: list[str]) -> dict:
        return {"address": f"aws_kms_key.{name}", "mode": "managed", "type": "aws_kms_key", "name": name,
                "change": {"actions": actions, "after": None if actions == ["delete"] else {"enable_key_rotation": False},
                           "after_unknown": {}}}

    plan = _plan([], [change("gone", ["delete"]), change("new", ["create"]), change("same", ["no-op"])])
    write(tmp_path, {"plan.json": json.dumps(plan)})
    everything = lint([str(tmp_path / "plan.json")], Config(select=frozenset({"ECR010"})))
    assert failures(everything) == {("ECR010", "aws_kms_key.new"), ("ECR010", "aws_kms_key.same")}
    changed = lint([str(tmp_path / "plan.json")], Config(select=frozenset({"ECR010"}), changed_only=True))
    assert failures(changed) == {("ECR010", "aws_kms_key.new")}


def test_unknown_key_resolved_through_configuration_references(tmp_path):
    plan = _plan([], [
        {"address": "aws_kms_key.k", "mode": "managed", "type": "aws_kms_key", "name": "k",
         "change": {"actions": ["create"], "after": {"enable_key_rotation": True}, "after_unknown": {"arn": True}}},
        {"address": "aws_ecr_repository.r", "mode": "managed", "type": "aws_ecr_repository", "name": "r",
         "change": {"actions": ["create"], "after": {"name": "r", "encryption_configuration": [{"encryption_type": "KMS"}]},
                    "after_unknown": {"encryption_configuration": [{"kms_key": True}]}}},
    ])
    plan["configuration"] = {"root_module": {"resources": [
        {"address": "aws_ecr_repository.r", "mode": "managed", "type": "aws_ecr_repository", "name": "r",
         "expressions": {"name": {"constant_value": "r"}, "encryption_configuration": [
             {"encryption_type": {"constant_value": "KMS"},
              "kms_key": {"references": ["aws_kms_key.k.arn", "aws_kms_key.k"]}}]}}]}}
    write(tmp_path, {"plan.json": json.dumps(plan)})
    report = lint([str(tmp_path / "plan.json")], Config(select=frozenset({"ECR001", "ECR010"})))
    assert statuses(report, "ECR001") == {"aws_ecr_repository.r": "pass"}
    assert report.errors == []


def test_a_sensitive_policy_is_analysed_but_never_printed(tmp_path):
    secret_account = "444455556666"
    policy = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ecr:BatchGetImage",
                                                                  "Principal": {"AWS": f"arn:aws:iam::{secret_account}:root"}}]})
    plan = _plan([], [{
        "address": "aws_ecr_repository_policy.p", "mode": "managed", "type": "aws_ecr_repository_policy", "name": "p",
        "change": {"actions": ["create"], "after": {"repository": "r", "policy": policy},
                   "after_unknown": {}, "after_sensitive": {"policy": True}},
    }])
    write(tmp_path, {"plan.json": json.dumps(plan)})
    for fmt in ("text", "json", "sarif", "github"):
        result = CliRunner().invoke(main, [str(tmp_path / "plan.json"), "--select", "ECR005", "--format", fmt])
        assert result.exit_code == 1, result.output  # the unknown account still fails ECR005
        assert secret_account not in result.output
    assert "(sensitive)" in CliRunner().invoke(main, [str(tmp_path / "plan.json"), "--select", "ECR005"]).output


# --- the plan is read through a sliding window (ecr_lint/loaders/jsonstream.py), never whole

FIXTURE_PLANS = os.path.join(os.path.dirname(__file__), "..", "fixtures", "plans")


def _report(path: str) -> str:
    result = CliRunner().invoke(main, [path, "--format", "json", "--no-cache"])
    assert result.exit_code in (0, 1), result.output
    return result.output


@pytest.mark.parametrize("name", sorted(f for f in os.listdir(FIXTURE_PLANS) if f.endswith(".plan.json")))
def test_a_plan_reads_the_same_whatever_the_window_and_the_layout(tmp_path, monkeypatch, name):
    source = os.path.join(FIXTURE_PLANS, name)
    alone = tmp_path / "plan.json"  # no .tf beside it: everything comes from the plan itself
    alone.write_bytes(open(source, "rb").read())
    whole = _report(str(alone))
    document = json.load(open(source, encoding="utf-8"))
    compact = tmp_path / "compact" / "plan.json"
    compact.parent.mkdir()
    compact.write_bytes(b"\xef\xbb\xbf" + json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode())
    one_line = _report(str(compact))
    for window in (1, 7, 64, 4096):
        monkeypatch.setattr(jsonstream, "CHUNK", window)
        assert _report(str(alone)) == whole
        assert _report(str(compact)) == one_line
    # compact JSON is one line, in another file: the results differ in file, line, fingerprint (and so order)
    assert _verdicts(one_line) == _verdicts(whole)


def _verdicts(report: str) -> list[tuple]:
    data = json.loads(report)
    return sorted((r["rule_id"], r["address"], r["status"], r["message"]) for r in data["results"]) + \
        [e["message"] for e in data["errors"]]


def test_planned_values_and_prior_state_fill_what_no_change_covers(tmp_path, monkeypatch):
    monkeypatch.setattr(jsonstream, "CHUNK", 5)
    plan = _plan([{"address": "aws_kms_key.only_planned", "mode": "managed", "type": "aws_kms_key",
                   "name": "only_planned", "values": {"enable_key_rotation": False, "description": "clé «ü»"}},
                  {"address": "aws_kms_key.changed", "mode": "managed", "type": "aws_kms_key", "name": "changed",
                   "values": {"enable_key_rotation": False}}],
                 [{"address": "aws_kms_key.changed", "mode": "managed", "type": "aws_kms_key", "name": "changed",
                   "change": {"actions": ["update"], "after": {"enable_key_rotation": True}, "after_unknown": {}}}])
    plan["prior_state"] = {"values": {"root_module": {"resources": [
        {"address": "data.aws_caller_identity.current", "mode": "data", "type": "aws_caller_identity",
         "name": "current", "values": {"account_id": "123456789012"}},
        {"address": "aws_kms_key.changed", "mode": "managed", "type": "aws_kms_key", "name": "changed",
         "values": {"enable_key_rotation": False}}]}}}
    (tmp_path / "plan.json").write_bytes(b"\xef\xbb\xbf" + json.dumps(plan, indent=1, ensure_ascii=False).encode())
    report = lint([str(tmp_path / "plan.json")], Config(select=frozenset({"ECR010"})))
    assert report.errors == []
    assert statuses(report, "ECR010") == {"aws_kms_key.only_planned": "fail", "aws_kms_key.changed": "pass"}
    resources = {r.address: r for r in load_plan(str(tmp_path / "plan.json")).resources}
    assert list(resources) == ["aws_kms_key.changed", "aws_kms_key.only_planned", "data.aws_caller_identity.current"]
    assert resources["data.aws_caller_identity.current"].attributes["account_id"] == "123456789012"
    assert resources["aws_kms_key.only_planned"].attributes["description"] == "clé «ü»"
    lines = (tmp_path / "plan.json").read_text(encoding="utf-8-sig").splitlines()
    for address, resource in resources.items():  # each points at the first "address" line naming it
        assert resource.span.line == next(n for n, line in enumerate(lines, 1)
                                          if line.strip() == f'"address": "{address}",')


def test_a_repeated_top_level_key_counts_once_the_last_as_json_loads_does(tmp_path):
    def changes(rotation: bool) -> str:
        return json.dumps([{"address": "aws_kms_key.k", "mode": "managed", "type": "aws_kms_key", "name": "k",
                            "change": {"actions": ["create"], "after": {"enable_key_rotation": rotation},
                                       "after_unknown": {}}}])
    text = ('{"format_version": "1.2", "resource_changes": %s, "resource_changes": %s}'
            % (changes(True), changes(False)))
    write(tmp_path, {"plan.json": text})
    report = lint([str(tmp_path / "plan.json")], Config(select=frozenset({"ECR010"})))
    assert statuses(report, "ECR010") == {"aws_kms_key.k": "fail"}


@pytest.mark.parametrize("text,message,line", [
    ('{"format_version": "1.2",\n "resource_changes": [\n  {"address": "a.b"},\n  {"address" "c.d"}\n ]\n}',
     "not valid JSON: Expecting ':' delimiter", 4),
    ('{"format_version": "1.2",\n "resource_changes": [\n  {"address": "a.b"}', "truncated JSON", 3),
    ('{"format_version": "1.2", "planned_values": {}}\n{}', "not valid JSON: Extra data", 2),
    ('{"format_version": "1.2", "planned_values": {"root_module": {"resources": [{"a": 1,}]}}}',
     "not valid JSON: Expecting property name enclosed in double quotes", 1),
])
def test_invalid_json_is_reported_with_its_line_wherever_it_is(tmp_path, text, message, line):
    write(tmp_path, {"plan.json": text})
    report = lint([str(tmp_path / "plan.json")])
    assert [(e.message, e.line) for e in report.errors] == [(message, line)]


def test_a_plan_that_is_not_utf8_names_the_byte(tmp_path):
    (tmp_path / "plan.json").write_bytes(b'{"format_version": "1.2", "planned_values": {"x": "\xff"}}')
    report = lint([str(tmp_path / "plan.json")])
    assert [e.message for e in report.errors] == ["not UTF-8 text (byte 51)"]  # 0-based, as Python counts


def test_a_change_wholly_unknown_until_apply_is_skipped_with_an_error_and_the_rest_is_linted(tmp_path):
    def change(name: str, after_unknown) -> dict:
        return {"address": f"aws_kms_key.{name}", "mode": "managed", "type": "aws_kms_key", "name": name,
                "change": {"actions": ["create"], "after": {"enable_key_rotation": False},
                           "after_unknown": after_unknown}}

    write(tmp_path, {"plan.json": json.dumps(_plan([], [change("odd", True), change("k", {})]))})
    report = lint([str(tmp_path / "plan.json")], Config(select=frozenset({"ECR010"})))
    assert [e.message for e in report.errors] == [
        "resource_changes[0] (aws_kms_key.odd) is known only after apply as a whole: skipped"]
    assert failures(report) == {("ECR010", "aws_kms_key.k")}


def test_an_integer_python_will_not_convert_is_invalid_json_not_a_crash(tmp_path):
    write(tmp_path, {"plan.json": '{"format_version": "1.2", "planned_values": {"x": %s}}' % ("1" * 5000)})
    report = lint([str(tmp_path / "plan.json")])
    assert [e.message for e in report.errors][0].startswith("not valid JSON: Exceeds the limit (4300 digits)")


def test_a_plan_rewritten_while_it_is_read_is_an_error(tmp_path, monkeypatch):
    from ecr_lint.loaders import plan as plan_module

    stamps = iter([(1, 1, 1), (2, 2, 2)])
    monkeypatch.setattr(plan_module, "_stamp", lambda handle: next(stamps))
    write(tmp_path, {"plan.json": json.dumps(_plan([]))})
    report = lint([str(tmp_path / "plan.json")])
    assert [e.message for e in report.errors] == ["the plan file changed while it was being read"]


@pytest.mark.parametrize("text", [
    '{"format_version": "1.2", "planned_values": {"root_module": {"resources": [{"address": "a.b", "values": {"n": "x',
    '{"format_version": "1.2", "planned_values": {"x": tru',
    '{"format_version": "1.2", "planned_values": {"x": 1.',
    '{"format_version": "1.2", "planned_values": {"x": "\\u00',
    '{"format_version": "1.2",\u00a0',  # ends in whitespace that is not JSON's
])
def test_a_plan_cut_inside_a_string_literal_or_number_is_truncated(tmp_path, text):
    write(tmp_path, {"plan.json": text})
    report = lint([str(tmp_path / "plan.json")])
    assert [e.message for e in report.errors] == ["truncated JSON"]
