"""`--format junit` and `--format gitlab` through the real CLI, validated against schemas written
from each format's documentation (tests/schemas/) and cross-checked with `--format json`."""

from __future__ import annotations

import json
import os
import re
import subprocess
import xml.etree.ElementTree as ET
from collections import Counter

import jsonschema
import pytest
from click.testing import CliRunner
from lxml import etree

from ecr_lint.cli import main

from conftest import REPO, SHARED, needs_shared, write

SCHEMAS = os.path.join(REPO, "tests", "schemas")
JUNIT_XSD = etree.XMLSchema(etree.parse(os.path.join(SCHEMAS, "junit.xsd")))
with open(os.path.join(SCHEMAS, "gitlab-code-quality.schema.json"), encoding="utf-8") as _handle:
    GITLAB_SCHEMA = json.load(_handle)

# The documented mapping (README): (status, severity) -> GitLab severity.
GITLAB_SEVERITY = {("fail", "error"): "critical", ("fail", "warning"): "major", ("fail", "info"): "info",
                   ("unknown", "error"): "major", ("unknown", "warning"): "minor", ("unknown", "info"): "info"}


def run(cwd, *args: str, fmt: str, tmp_path) -> tuple[int, bytes]:
    """ecr-lint ARGS --format FMT --output FILE, from `cwd`: (exit code, the file's bytes)."""
    out = tmp_path / f"report.{fmt}"
    old = os.getcwd()
    os.chdir(cwd)
    try:
        result = CliRunner().invoke(main, [*args, "--format", fmt, "--output", str(out)])
    finally:
        os.chdir(old)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, out.read_bytes()


# --- JUnit -----------------------------------------------------------------------------------

def junit_cases(data: bytes) -> dict[tuple[str, str, str], tuple[str, ET.Element]]:
    """Validate against the XSD, check every count, and map (suite, classname, name) -> (outcome, testcase)."""
    document = etree.fromstring(data)  # lxml refuses any character XML 1.0 forbids
    assert JUNIT_XSD.validate(document), JUNIT_XSD.error_log
    root = ET.fromstring(data)        # and so does the standard library's expat
    assert root.tag == "testsuites"
    cases, totals = {}, Counter()
    for suite in root.findall("testsuite"):
        counts = Counter(tests=0, failures=0, errors=0, skipped=0)
        for case in suite.findall("testcase"):
            children = [child.tag for child in case]
            assert len(children) <= 1, children
            outcome = children[0] if children else "pass"
            counts["tests"] += 1
            if outcome != "pass":
                counts[{"failure": "failures", "error": "errors", "skipped": "skipped"}[outcome]] += 1
            key = (suite.get("name"), case.get("classname"), case.get("name"))
            assert key not in cases, f"two testcases {key}: GitLab would keep only the first"
            cases[key] = (outcome, case)
        assert {k: int(suite.get(k)) for k in counts} == dict(counts), suite.get("name")
        totals.update(counts)
    assert {k: int(root.get(k)) for k in ("tests", "failures", "errors", "skipped")} == {
        k: totals[k] for k in ("tests", "failures", "errors", "skipped")}
    return cases


def expected_cases(report: dict, stacks: list[str]) -> dict[tuple[str, str, str], str]:
    """What the JUnit report must hold, from the JSON report of the same run: one testcase per
    stack, rule and resource (failure if any verdict is a finding, else skipped if suppressed),
    one per input error (error, or skipped when the baseline knows it)."""
    expected: dict[tuple[str, str, str], str] = {}
    rank = {"pass": 0, "skipped": 1, "failure": 2}
    for r in report["results"]:
        key = (r["stack"], classname(r["stack"], r["rule_id"]), r["address"])
        outcome = {"pass": "pass", "suppressed": "skipped"}.get(r["status"], "failure")
        if rank[outcome] >= rank[expected.get(key, "pass")]:
            expected[key] = outcome
    for e in report["errors"]:
        holding = [s for s in stacks if e["file"] == s or e["file"].startswith(s + "/")
                   or (s == "." and not e["file"].startswith("../"))]
        suite = max(holding, key=lambda s: 0 if s == "." else len(s), default="(no stack)")
        where = f"{e['file']}:{e['line']}" if e["line"] else e["file"]
        expected[(suite, classname(suite, f"{e['kind']}-error"), where)] = "skipped" if e.get("baselined") else "error"
    return expected


def classname(stack: str, name: str) -> str:
    return name if stack == "." else f"{stack}.{name}"


def check_junit_against_json(cwd, args: list[str], tmp_path) -> tuple[int, dict, dict]:
    code, data = run(cwd, *args, fmt="junit", tmp_path=tmp_path)
    json_code, json_data = run(cwd, *args, fmt="json", tmp_path=tmp_path)
    assert code == json_code
    report = json.loads(json_data)
    cases = junit_cases(data)
    # a suite per linted stack (the JSON report only counts them: a stack may have no results)
    stacks = [suite.get("name") for suite in ET.fromstring(data).findall("testsuite") if suite.get("name") != "(no stack)"]
    assert {r["stack"] for r in report["results"]} <= set(stacks) and len(stacks) == report["summary"]["stacks"]
    assert {key: outcome for key, (outcome, _) in cases.items()} == expected_cases(report, stacks)
    return code, cases, report


def test_junit_seed_as_written_one_testcase_per_rule_and_resource(tmp_path):
    code, cases, report = check_junit_against_json(REPO, ["fixtures/seed_as_written"], tmp_path)
    assert code == 1
    assert len(cases) == len({(r["rule_id"], r["address"]) for r in report["results"]}) == 14
    failures = {key[1:]: case for key, (outcome, case) in cases.items() if outcome == "failure"}
    assert set(failures) == {("fixtures/seed_as_written.ECR003", "aws_ecr_repository.fileflow"),
                             ("fixtures/seed_as_written.ECR014", "aws_ecr_repository.fileflow")}
    ecr003 = failures["fixtures/seed_as_written.ECR003", "aws_ecr_repository.fileflow"]
    assert (ecr003.get("file"), ecr003.get("line")) == ("fixtures/seed_as_written/main.tf", "3")
    failure = ecr003.find("failure")
    assert failure.get("type") == "fail"
    assert failure.get("message").startswith('fail (error): image_tag_mutability = "MUTABLE" in production')
    assert "fixtures/seed_as_written/main.tf:3  fail (error)" in failure.text
    assert "Fix: Set `image_tag_mutability = \"IMMUTABLE\"`" in failure.text
    assert "More: ecr-lint explain ECR003" in failure.text
    # a warning is a failure too: the test tab shows it, the exit code (--fail-on) gates the job
    assert failures["fixtures/seed_as_written.ECR014", "aws_ecr_repository.fileflow"].find(
        "failure").get("message").startswith("fail (warning): ")


def test_junit_unknown_verdicts_are_failures_of_type_unknown(tmp_path):
    code, cases, _ = check_junit_against_json(REPO, ["fixtures/unknowns"], tmp_path)
    assert code == 1
    unknown = {key[1:] for key, (outcome, case) in cases.items()
               if outcome == "failure" and case.find("failure").get("type") == "unknown"}
    assert unknown == {("fixtures/unknowns.ECR001", "aws_ecr_repository.app"),
                       ("fixtures/unknowns.ECR009", "aws_ecr_repository.app"),
                       ("fixtures/unknowns.ECR000", "module.remote")}


def test_junit_plan_suite_is_the_plan_and_files_are_the_tf_source(tmp_path):
    plan = "fixtures/plans/seed_as_written.plan.json"
    code, cases, _ = check_junit_against_json(REPO, [plan, "--source-root", "fixtures/seed_as_written"], tmp_path)
    assert code == 1
    outcome, case = cases[plan, f"{plan}.ECR003", "aws_ecr_repository.fileflow"]
    assert outcome == "failure" and (case.get("file"), case.get("line")) == ("fixtures/seed_as_written/main.tf", "3")


SUPPRESSED_STACK = {
    "main.tf": '''
# ecr-lint:ignore ECR010 reason="imported key <HSM> & 'team'" until=2999-12-31
resource "aws_kms_key" "imported" {
  enable_key_rotation = false
}

resource "aws_kms_key" "plain" {
  enable_key_rotation = false
}

resource "aws_iam_policy" "two_wildcards" {
  policy = jsonencode({ Version = "2012-10-17", Statement = [
    { Effect = "Allow", Action = ["ecr:Put*"], Resource = "*" },
    { Effect = "Allow", Action = ["ecr:Set*"], Resource = "*" },
  ] })
}
'''}


def test_junit_suppressed_is_skipped_with_its_reason_and_several_verdicts_are_one_testcase(tmp_path):
    stack = tmp_path / "repo" / "stack"
    write(stack, SUPPRESSED_STACK)
    subprocess.run(["git", "init", "-q", str(tmp_path / "repo")], check=True)
    code, cases, report = check_junit_against_json(tmp_path / "repo", ["stack", "--select", "ECR004,ECR010"], tmp_path)
    assert code == 1
    outcomes = {key[1:]: outcome for key, (outcome, _) in cases.items()}
    assert outcomes == {("stack.ECR010", "aws_kms_key.imported"): "skipped",
                        ("stack.ECR010", "aws_kms_key.plain"): "failure",
                        ("stack.ECR004", "aws_iam_policy.two_wildcards"): "failure"}
    skipped = cases["stack", "stack.ECR010", "aws_kms_key.imported"][1].find("skipped")
    assert skipped.get("message") == "suppressed (inSource): imported key <HSM> & 'team'"
    assert skipped.text.startswith(
        "stack/main.tf:4  suppressed (inSource): imported key <HSM> & 'team'\n"
        "  by: ecr-lint:ignore ECR010 reason=\"imported key <HSM> & 'team'\" until=2999-12-31 at stack/main.tf:2\n"
        "  finding: enable_key_rotation must be true")
    # ECR004 gives one verdict per statement: one testcase, both verdicts in its failure
    assert sum(1 for r in report["findings"] if r["rule_id"] == "ECR004") == 2
    failure = cases["stack", "stack.ECR004", "aws_iam_policy.two_wildcards"][1].find("failure")
    assert failure.get("message").endswith("(and 1 more)")
    assert 'allows "ecr:Put*"' in failure.text and 'allows "ecr:Set*"' in failure.text


def test_junit_baseline_accepted_findings_are_skipped(tmp_path):
    write(tmp_path / "repo" / "stack", SUPPRESSED_STACK)
    subprocess.run(["git", "init", "-q", str(tmp_path / "repo")], check=True)
    repo = tmp_path / "repo"
    assert CliRunner().invoke(main, [str(repo / "stack"), "--select", "ECR010", "--write-baseline",
                                     str(repo / "baseline.json")]).exit_code == 0
    code, cases, _ = check_junit_against_json(repo, ["stack", "--select", "ECR010", "--baseline", "baseline.json"], tmp_path)
    assert code == 0
    skipped = cases["stack", "stack.ECR010", "aws_kms_key.plain"][1].find("skipped")
    assert skipped.get("message") == "suppressed (external): in the baseline baseline.json"


def test_junit_input_errors_are_error_testcases_naming_file_and_line(tmp_path):
    repo = tmp_path / "repo"
    write(repo, {"good/main.tf": 'resource "aws_kms_key" "k" {\n  enable_key_rotation = false\n}\n',
                 "bad/main.tf": 'resource "aws_kms_key" "k" {\n  enable_key_rotation = true\n}\n',
                 "bad/broken.tf": 'resource "aws_kms_key" "x" {\n  enable_key_rotation =\n'})
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    code, cases, _ = check_junit_against_json(repo, [".", "--select", "ECR010"], tmp_path)
    assert code == 2  # the rest is still linted and reported
    assert {key: outcome for key, (outcome, _) in cases.items()} == {
        ("bad", "bad.ECR010", "aws_kms_key.k"): "pass",
        ("bad", "bad.input-error", "bad/broken.tf:2"): "error",
        ("good", "good.ECR010", "aws_kms_key.k"): "failure"}
    case = cases["bad", "bad.input-error", "bad/broken.tf:2"][1]
    assert (case.get("file"), case.get("line")) == ("bad/broken.tf", "2")
    error = case.find("error")
    assert error.get("type") == "input" and error.text.startswith("bad/broken.tf:2: unexpected end of line")


def test_junit_a_stack_at_the_repository_root_has_the_rule_as_classname(tmp_path):
    write(tmp_path / "repo", {"main.tf": 'resource "aws_kms_key" "k" {\n  enable_key_rotation = false\n}\n',
                              "broken.tf": 'locals {\n  x =\n',
                              "a/main.tf": 'resource "aws_kms_key" "k" {\n  enable_key_rotation = true\n}\n',
                              "a/broken.tf": 'locals {\n  y =\n'})
    subprocess.run(["git", "init", "-q", str(tmp_path / "repo")], check=True)
    code, cases, _ = check_junit_against_json(tmp_path / "repo", [".", "--select", "ECR010"], tmp_path)
    assert code == 2
    assert {key: outcome for key, (outcome, _) in cases.items()} == {
        (".", "ECR010", "aws_kms_key.k"): "failure", (".", "input-error", "broken.tf:2"): "error",
        ("a", "a.ECR010", "aws_kms_key.k"): "pass", ("a", "a.input-error", "a/broken.tf:2"): "error"}


HOSTILE_NAME = b"ctl\x01<&>\"'\xff.tf"


def _hostile_stack(repo) -> None:
    write(repo, {"stack/main.tf": (
        '# ecr-lint:ignore ECR010 reason="vt\x0b us\x1f <![CDATA[ ]]> &amp;"\n'
        'resource "aws_kms_key" "k" {\n  enable_key_rotation = false\n}\n'
        'resource "aws_ecr_repository" "r" {\n'
        '  name                 = "a\\u0001<b>&\\"c]]>\\u001b\\ufffe\\ud7ff"\n'
        '  image_tag_mutability = "MUT\\u0007<&>"\n'
        '  tags                 = { Environment = "prod" }\n}\n')})
    with open(os.path.join(os.fsencode(repo / "stack"), HOSTILE_NAME), "wb") as handle:
        handle.write(b'resource "aws_kms_key" "other" {\n  enable_key_rotation = false\n}\n')
    subprocess.run(["git", "init", "-q", str(repo)], check=True)


def test_junit_control_characters_metacharacters_and_undecodable_file_names_stay_valid_xml(tmp_path):
    repo = tmp_path / "repo"
    _hostile_stack(repo)
    code, cases, _ = check_junit_against_json(repo, ["stack", "--select", "ECR003,ECR008,ECR010", "--environment", "prod"], tmp_path)
    assert code == 1
    # the file name's byte 0xff (a lone surrogate in the JSON report) is a visible escape here
    other = cases["stack", "stack.ECR010", "aws_kms_key.other"][1]
    assert other.get("file") == "stack/ctl\\x01<&>\"'\\xff.tf"  # the byte, as every format shows it
    skipped = cases["stack", "stack.ECR010", "aws_kms_key.k"][1].find("skipped")
    assert skipped.get("message") == "suppressed (inSource): vt\\x0b us\\x1f <![CDATA[ ]]> &amp;"
    ecr008 = cases["stack", "stack.ECR008", "aws_ecr_repository.r"][1].find("failure")
    assert "/shared/ecr/a\\x01<b>&\"c]]>\\x1b\\ufffe\ud7ff-repository-url" in ecr008.get("message")
    ecr003 = cases["stack", "stack.ECR003", "aws_ecr_repository.r"][1].find("failure")
    assert 'image_tag_mutability = "MUT\\x07<&>"' in ecr003.text


# --- GitLab Code Quality ------------------------------------------------------------------------

def visible_surrogates(text: str) -> str:
    """A file name that is not UTF-8 (lone surrogates in the JSON report) as GitLab's report writes it."""
    return re.sub("[\ud800-\udfff]", lambda m: f"\\x{ord(m.group()) - 0xdc00:02x}" if 0xdc80 <= ord(m.group()) <= 0xdcff
                  else f"\\u{ord(m.group()):04x}", text)


def gitlab_issues(cwd, args: list[str], tmp_path) -> tuple[int, list[dict], dict]:
    """The Code Quality report, validated, with the JSON report of the same run."""
    code, data = run(cwd, *args, fmt="gitlab", tmp_path=tmp_path)
    json_code, json_data = run(cwd, *args, fmt="json", tmp_path=tmp_path)
    assert code == json_code
    assert not data.startswith(b"\xef\xbb\xbf")          # GitLab's parser refuses a byte order mark
    issues = json.loads(data.decode("utf-8"))            # strict UTF-8
    json.dumps(issues, ensure_ascii=False).encode("utf-8")  # no lone surrogate anywhere
    jsonschema.Draft202012Validator(GITLAB_SCHEMA).validate(issues)
    prints = [issue["fingerprint"] for issue in issues]
    assert len(prints) == len(set(prints)), "GitLab shows issues with one fingerprint as one"
    report = json.loads(json_data)
    # every finding and every error that fails the run, in order, where the JSON report says
    expected = [(f["rule_id"], f["file"], max(f["line"], 1), GITLAB_SEVERITY[f["status"], f["severity"]])
                for f in report["findings"]]
    expected += [(f"{e['kind']}-error", e["file"], max(e["line"], 1), "critical")
                 for e in report["errors"] if not e.get("baselined")]
    assert [(i["check_name"], i["location"]["path"], i["location"]["lines"]["begin"], i["severity"])
            for i in issues] == [(c, visible_surrogates(p), line, s) for c, p, line, s in expected]
    # ecr-lint's own fingerprint wherever it is unique in the report
    shared = Counter(f["fingerprint"] for f in report["findings"])
    for issue, finding in zip(issues, report["findings"]):
        assert (issue["fingerprint"] == finding["fingerprint"]) == (shared[finding["fingerprint"]] == 1)
    return code, issues, report


def test_gitlab_seed_as_written(tmp_path):
    code, issues, _ = gitlab_issues(REPO, ["fixtures/seed_as_written"], tmp_path)
    assert code == 1
    assert issues == [
        {"type": "issue", "description": "ECR014 aws_ecr_repository.fileflow: no EventBridge rule routes ECR Image "
                                         "Scan events with CRITICAL findings for this repository to a target",
         "check_name": "ECR014", "categories": ["Security"], "fingerprint": "0537a7429d67c316207c6eb26253b21e",
         "severity": "major", "location": {"path": "fixtures/seed_as_written/main.tf", "lines": {"begin": 1}}},
        {"type": "issue", "description": "ECR003 aws_ecr_repository.fileflow: image_tag_mutability = \"MUTABLE\" in "
                                         "production (environment 'prod' from the Environment tag): tags can be "
                                         "overwritten",
         "check_name": "ECR003", "categories": ["Security"], "fingerprint": "c9838fa9be7c2087e1ce581908500110",
         "severity": "critical", "location": {"path": "fixtures/seed_as_written/main.tf", "lines": {"begin": 3}}},
    ]


def test_gitlab_unknowns_are_one_step_lower(tmp_path):
    (tmp_path / "relaxed.toml").write_text('unknown_values = "warning"\n')   # the default is "error": major
    code, issues, _ = gitlab_issues(REPO, ["fixtures/unknowns", "--config", str(tmp_path / "relaxed.toml")], tmp_path)
    assert code == 1
    unknown = {(i["check_name"], i["severity"]) for i in issues if "could not be verified" in i["description"]}
    assert unknown == {("ECR001", "minor"), ("ECR009", "minor"), ("ECR000", "minor")}


def test_gitlab_unknowns_as_errors_are_major(tmp_path):
    write(tmp_path / "repo", {".ecr-lint.toml": 'unknown_values = "error"\n', "main.tf": (
        'variable "key" {}\nresource "aws_ecr_repository" "r" {\n  name = "r"\n'
        '  encryption_configuration {\n    encryption_type = "KMS"\n    kms_key = var.key\n  }\n}\n')})
    subprocess.run(["git", "init", "-q", str(tmp_path / "repo")], check=True)
    _, issues, _ = gitlab_issues(tmp_path / "repo", [".", "--select", "ECR001"], tmp_path)
    assert [(i["check_name"], i["severity"], i["location"]["path"]) for i in issues] == [("ECR001", "major", "main.tf")]


def test_gitlab_plan_points_at_the_tf_source(tmp_path):
    code, issues, _ = gitlab_issues(REPO, ["fixtures/plans/seed_as_written.plan.json", "--source-root",
                                           "fixtures/seed_as_written"], tmp_path)
    assert code == 1
    assert [(i["check_name"], i["location"]["path"], i["location"]["lines"]["begin"]) for i in issues] == [
        ("ECR014", "fixtures/seed_as_written/main.tf", 1), ("ECR003", "fixtures/seed_as_written/main.tf", 3)]


def test_gitlab_leaves_out_suppressed_and_gives_several_verdicts_distinct_fingerprints(tmp_path):
    write(tmp_path / "repo" / "stack", SUPPRESSED_STACK)
    subprocess.run(["git", "init", "-q", str(tmp_path / "repo")], check=True)
    code, issues, report = gitlab_issues(tmp_path / "repo", ["stack", "--select", "ECR004,ECR010"], tmp_path)
    assert code == 1
    assert [(i["check_name"], i["description"].split(":")[0]) for i in issues] == [
        ("ECR010", "ECR010 aws_kms_key.plain"), ("ECR004", "ECR004 aws_iam_policy.two_wildcards"),
        ("ECR004", "ECR004 aws_iam_policy.two_wildcards")]
    assert len(report["results"]) - len(report["findings"]) == 1  # the suppressed one, not in the report


def test_gitlab_paths_are_relative_to_the_repository_root_from_any_directory(tmp_path):
    repo = tmp_path / "repo"
    write(repo, {"infra/ecr/main.tf": 'resource "aws_kms_key" "k" {\n  enable_key_rotation = false\n}\n'})
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    from_root = gitlab_issues(repo, ["infra/ecr", "--select", "ECR010"], tmp_path)[1]
    from_inside = gitlab_issues(repo / "infra", ["ecr", "--select", "ECR010"], tmp_path)[1]
    assert from_root == from_inside
    assert [i["location"]["path"] for i in from_root] == ["infra/ecr/main.tf"]


def test_gitlab_input_errors_are_issues_naming_file_and_line(tmp_path):
    repo = tmp_path / "repo"
    write(repo, {"bad/main.tf": 'resource "aws_kms_key" "k" {\n  enable_key_rotation =\n'})
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    code, issues, _ = gitlab_issues(repo, [".", "--select", "ECR010"], tmp_path)
    assert code == 2
    assert [(i["check_name"], i["severity"], i["location"]["path"], i["location"]["lines"]["begin"])
            for i in issues] == [("input-error", "critical", "bad/main.tf", 2)]
    assert issues[0]["description"].startswith("input error: unexpected end of line")


def test_gitlab_control_characters_and_undecodable_file_names_stay_valid_utf8_json(tmp_path):
    repo = tmp_path / "repo"
    _hostile_stack(repo)
    code, issues, _ = gitlab_issues(repo, ["stack", "--select", "ECR003,ECR008,ECR010", "--environment", "prod"],
                                    tmp_path)
    assert code == 1
    assert {i["location"]["path"] for i in issues} == {"stack/main.tf", "stack/ctl\x01<&>\"'\\xff.tf"}
    ecr008 = next(i for i in issues if i["check_name"] == "ECR008")
    assert "/shared/ecr/a\x01<b>&\"c]]>\x1b\ufffe\ud7ff-repository-url" in ecr008["description"]


@pytest.mark.parametrize("fmt", ["junit", "gitlab"])
def test_formats_are_listed_in_help(fmt):
    assert fmt in CliRunner().invoke(main, ["lint", "--help"]).output


@needs_shared("corpus", "checkov")
@needs_shared("corpus", "kics")
def test_both_formats_on_peers_corpora(tmp_path):
    """Variety from other tools' test suites: unknowns, several verdicts per resource, input errors, suppressions."""
    corpus = [os.path.join(SHARED, "corpus", "checkov"), os.path.join(SHARED, "corpus", "kics")]
    code, cases, report = check_junit_against_json(REPO, corpus, tmp_path)
    assert code == 2 and report["errors"] and report["summary"]["suppressed"]
    assert {outcome for outcome, _ in cases.values()} == {"pass", "failure", "skipped", "error"}
    gitlab_issues(REPO, corpus, tmp_path)
