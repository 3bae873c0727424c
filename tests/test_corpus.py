"""Real Terraform written by others (../shared/corpus): no traceback, every failure an error entry."""

from __future__ import annotations

import os

import pytest

from ecr_lint.api import exit_code, lint

from conftest import SHARED, needs_shared

CORPUS = os.path.join(SHARED, "corpus")

pytestmark = needs_shared("corpus")


def test_whole_corpus_lints_without_internal_errors():
    report = lint([CORPUS])
    assert len(report.stacks) > 50
    assert [str(e) for e in report.errors if e.kind == "internal"] == []
    for error in report.errors:
        assert os.path.isfile(error.file), error
        assert error.file.startswith(CORPUS)
    # The only bad inputs: local module sources that the corpus copies do not hold, and
    # directories of independent examples that declare the same resource twice (which
    # Terraform rejects too).
    missing = [e for e in report.errors if "is not a directory" in e.message]
    twice = [e for e in report.errors if "is declared twice" in e.message]
    assert len(missing) + len(twice) == len(report.errors)
    assert "module.ecr_transfer_service_repository: source './da-terraform-modules/ecr' is not a directory" in {
        e.message for e in missing}
    assert any(e.file.endswith("AWS-0032_no_public_access/good_0.tf") for e in twice)
    assert exit_code(report, "error") == 2


def _probes() -> list[str]:
    """The checkov probe folders that hold Terraform (custom_policies holds checkov YAML only)."""
    root = os.path.join(CORPUS, "checkov", "probes")
    if not os.path.isdir(root):
        return []
    return sorted(p for p in os.listdir(root)
                  if any(f.endswith(".tf") for _, _, files in os.walk(os.path.join(root, p)) for f in files))


@pytest.mark.parametrize("probe", _probes())
def test_each_checkov_probe_loads_cleanly(probe):
    report = lint([os.path.join(CORPUS, "checkov", "probes", probe)])
    assert [str(e) for e in report.errors] == []


def test_every_json_file_in_the_corpus_is_a_plan_or_a_clear_error():
    files = sorted(os.path.join(d, f) for d, _, names in os.walk(CORPUS) for f in names if f.endswith(".json"))
    report = lint(files)
    assert [str(e) for e in report.errors if e.kind == "internal"] == []
    not_plans = {os.path.relpath(e.file, CORPUS) for e in report.errors}
    for error in report.errors:
        assert error.message.startswith("not a Terraform plan"), error
    plans = [f for f in files if os.path.relpath(f, CORPUS) not in not_plans]
    assert len(plans) >= 13  # corpus/plans and checkov's upstream plans
    assert "checkov/upstream/tests/cloudformation/checks/resource/aws/example_ECRPolicy/ECRPolicy_passed.json" in not_plans
