"""SARIF 2.1.0, for GitHub code scanning and other viewers.

The run's `properties` name the config files used and what they relaxed, and each stack's inputs
(workspace, var files, TF_VAR_ and --var names: reporters/json.py); the text is ASCII with
no lone surrogate and no `##[` CI command (reporters/escape.py).
"""

from __future__ import annotations

from typing import Iterator

from ecr_lint import __version__
from ecr_lint.fingerprint import fingerprint, relative_to, uri
from ecr_lint.model import Report, Severity, Status
from ecr_lint.reporters.escape import json_text
from ecr_lint.reporters.json import inputs_list, settings_dict
from ecr_lint.reporters.jsontext import indented
from ecr_lint.reporters.origins import in_module

_LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
INFORMATION_URI = "https://github.com/ecr-lint/ecr-lint"


def _rule(rule) -> dict:
    help_text = f"{rule.rationale}\n\nFix: {rule.remediation}"
    entry = {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.rationale},
        "help": {"text": help_text, "markdown": f"**Why.** {rule.rationale}\n\n**Fix.** {rule.remediation}"},
        "defaultConfiguration": {"level": _LEVELS[rule.severity]},
        "properties": {"tags": ["security", "terraform", "ecr"]},
    }
    if rule.links:
        entry["helpUri"] = rule.links[0]
    return entry


def _related(index: int, origin, base: str) -> dict:
    where = {"physicalLocation": {"artifactLocation": {"uri": uri(origin.file, base)},
                                  **({"region": {"startLine": origin.line}} if origin.line else {})}}
    if origin.kind == "cli":
        where = {}
    return {"id": index, **where, "message": {"text": f"{'set at' if origin.end else 'through'}: {origin.what}"}}


def as_dict(report: Report, settings: dict | None = None) -> dict:
    rules = list(report.rules)
    index = {r.id: i for i, r in enumerate(rules)}
    results = []
    for result in report.findings + report.suppressed:
        level = "warning" if result.status is Status.UNKNOWN else _LEVELS[result.severity]
        entry = {
            "ruleId": result.rule_id,
            "level": level,
            "message": {"text": f"{result.address}: {result.message}"
                                + (f" (stack {relative_to(result.stack, report.base)})" if in_module(result) else "")},
            "locations": [{
                "physicalLocation": {
                    "artifactLocation": {"uri": uri(result.file, report.base)},
                    "region": {"startLine": max(result.line, 1)},
                },
                "logicalLocations": [{"fullyQualifiedName": result.address, "kind": "resource"}],
            }],
            "partialFingerprints": {"ecrLint/v2": fingerprint(result, report.base)},
            "properties": {"status": result.status.value},
        }
        if len(result.origins) > 1:  # where the value comes from, the attribute's own place excepted
            entry["relatedLocations"] = [_related(i, o, report.base) for i, o in enumerate(result.origins[1:], 1)]
        if result.suppression is not None:
            entry["suppressions"] = [{"kind": result.suppression.kind, "status": "accepted",
                                      "justification": result.suppression.reason}]
        if result.rule_id in index:
            entry["ruleIndex"] = index[result.rule_id]
        results.append(entry)
    notifications = [{
        "level": "warning" if error.kind == "warning" else "error",
        "message": {"text": error.message},
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri(error.file, report.base)},
                                            **({"region": {"startLine": error.line}} if error.line else {})}}],
    } for error in report.errors]
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "ecr-lint", "version": __version__, "informationUri": INFORMATION_URI,
                                "rules": [_rule(r) for r in rules]}},
            "invocations": [{"executionSuccessful": not any(e.kind == "internal" for e in report.errors),
                             "toolExecutionNotifications": notifications}],
            "results": results,
            "properties": {"config": settings_dict(settings, report.base), "inputs": inputs_list(report)},
        }],
    }


def chunks(report: Report, settings: dict | None = None, **_: object) -> Iterator[str]:
    """The same text as `json.dumps(..., indent=2)`, in pieces."""
    for piece in indented(as_dict(report, settings)):
        yield json_text(piece)
    yield "\n"


def render(report: Report, settings: dict | None = None, **_: object) -> str:
    return "".join(chunks(report, settings))
