"""GitLab Code Quality report: the findings as a JSON array of Code Climate issues.

The fields GitLab reads (https://docs.gitlab.com/ee/ci/testing/code_quality.html, "Implement a
custom tool"): `description`, `check_name`, `fingerprint`, `severity`, `location.path` (relative
to the repository root) and `location.lines.begin`; `type` and `categories` make each entry a
Code Climate issue too. Suppressed results are left out (GitLab has no notion of them); input
errors that fail the run are issues of their own, `check_name` `input-error`/`internal-error`.

Severity: a failed check of severity error is `critical`, warning `major`, info `info`; an
unknown verdict (could not be verified) is one step lower: error `major`, warning `minor`,
info `info`; an input or internal error is `critical`, an input warning (`input-warning`) `minor`. `blocker` is not used.

Fingerprints are ecr-lint's (rule, address, stack, file: the baseline's, JSON's and SARIF's).
GitLab shows issues with one fingerprint as one, so when a rule gives several verdicts on one
resource (one per policy statement), each gets a fingerprint derived from ecr-lint's and its
message instead.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from typing import Iterator

from ecr_lint.fingerprint import fingerprint, relative_to
from ecr_lint.model import Report, Result, Severity, Status
from ecr_lint.reporters.jsontext import indented
from ecr_lint.reporters.safetext import unicode_text

SEVERITIES = {
    (Status.FAIL, Severity.ERROR): "critical",
    (Status.FAIL, Severity.WARNING): "major",
    (Status.FAIL, Severity.INFO): "info",
    (Status.UNKNOWN, Severity.ERROR): "major",
    (Status.UNKNOWN, Severity.WARNING): "minor",
    (Status.UNKNOWN, Severity.INFO): "info",
}
ERROR_SEVERITY = "critical"


def _hash(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode("utf-8", "surrogateescape")).hexdigest()[:32]


def _issue(description: str, check_name: str, fp: str, severity: str, path: str, line: int) -> dict:
    return {
        "type": "issue",
        "description": unicode_text(description),
        "check_name": check_name,
        "categories": ["Security"],
        "fingerprint": fp,
        "severity": severity,
        "location": {"path": unicode_text(path), "lines": {"begin": max(line, 1)}},
    }


def as_list(report: Report) -> list[dict]:
    base = report.base
    findings = report.findings
    prints = [fingerprint(result, base) for result in findings]
    shared = Counter(prints)
    issues, taken = [], set()
    for result, fp in zip(findings, prints):
        if shared[fp] > 1:
            fp = _hash(fp, result.message)
        n = 1
        while fp in taken:   # the same rule, resource and message twice: still two issues
            n += 1
            fp = _hash(fp, str(n))
        taken.add(fp)
        issues.append(_issue(_description(result), result.rule_id, fp, SEVERITIES[result.status, result.severity],
                             relative_to(result.file, base), result.line))
    for error in report.errors:
        if error.baselined:
            continue  # known when the baseline was written: shown elsewhere, not failing the run
        path = relative_to(error.file, base)
        fp = _hash("ecr-lint/error", error.kind, path, error.message)
        while fp in taken:
            fp = _hash(fp, "again")
        taken.add(fp)
        if error.kind == "warning":
            issues.append(_issue(f"input warning: {error.message}", "input-warning", fp, "minor", path, error.line))
            continue
        issues.append(_issue(f"{error.kind} error: {error.message}", f"{error.kind}-error", fp, ERROR_SEVERITY,
                             path, error.line))
    return issues


def _description(result: Result) -> str:
    verdict = "could not be verified: " if result.status is Status.UNKNOWN else ""
    return f"{result.rule_id} {result.address}: {verdict}{result.message}"


def chunks(report: Report, **_: object) -> Iterator[str]:
    """The same text as `json.dumps(..., indent=2)`, in pieces (pure ASCII, no byte order mark)."""
    yield from indented(as_list(report))
    yield "\n"


def render(report: Report, **_: object) -> str:
    return "".join(chunks(report))
