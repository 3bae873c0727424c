"""JSON output, a public contract: bump SCHEMA_VERSION when a field changes meaning.

The text is ASCII (json's escapes); lone surrogates and `##[` CI commands never reach it
(reporters/escape.py).
"""

from __future__ import annotations

import os
from typing import Iterator

from ecr_lint import __version__
from ecr_lint.fingerprint import fingerprint, relative_to
from ecr_lint.model import Report, Result, Status
from ecr_lint.reporters.escape import json_text
from ecr_lint.reporters.jsontext import indented
from ecr_lint.reporters.origins import chain

SCHEMA_VERSION = "2.0"


def _result(result: Result, base: str) -> dict:
    entry = {
        "rule_id": result.rule_id, "address": result.address, "status": result.status.value,
        "severity": str(result.severity), "message": result.message,
        "file": relative_to(result.file, base), "line": result.line, "stack": relative_to(result.stack, base),
        "fingerprint": fingerprint(result, base),
    }
    if result.origins:  # where the judged value comes from: the attribute first, the literal last
        entry["origins"] = chain(result, base)
    if result.suppression is not None:
        entry["suppression"] = {"kind": result.suppression.kind, "reason": result.suppression.reason,
                                "source": result.suppression.source}
    return entry


def settings_dict(settings: dict | None, base: str) -> dict:
    """The config files a run used (and found but did not read), and what they (or the command line)
    relaxed, paths as elsewhere (relative to the repository root)."""
    settings = settings or {}
    return {"files": [relative_to(f, base) for f in settings.get("files", [])],
            "skipped": [{**item, "file": relative_to(item["file"], base)} for item in settings.get("skipped", [])],
            "relaxed": [{**item, "source": item["source"] if item["source"] == "command line"
                         else relative_to(item["source"], base)} for item in settings.get("relaxed", [])]}


def inputs_list(report: Report) -> list[dict]:
    """Per stack: the workspace and where it came from, and every source that set its variables, in
    Terraform's precedence order: files by path, TF_VAR_ environment variables and --var by name
    (values are never shown), so that an auditor can reproduce the verdicts."""
    base = report.base

    def source(item: dict) -> dict:
        out = dict(item)
        if "file" in out:
            out["file"] = relative_to(out["file"], base)
        if os.path.isabs(out.get("via", "")):
            out["via"] = relative_to(out["via"], base)
        return out

    return [{**entry, "stack": relative_to(entry["stack"], base),
             "sources": [source(s) for s in entry.get("sources", [])]} for entry in report.inputs]


def as_dict(report: Report, settings: dict | None = None) -> dict:
    findings = report.findings
    errors = [e for e in report.errors if e.kind != "warning"]
    warnings = [e for e in report.errors if e.kind == "warning"]
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "ecr-lint", "version": __version__},
        "findings": [_result(r, report.base) for r in findings],
        "results": [_result(r, report.base) for r in report.results],
        "errors": [{"file": relative_to(e.file, report.base), "line": e.line, "message": e.message, "kind": e.kind,
                    **({"baselined": True} if e.baselined else {})} for e in errors],
        "warnings": [{"file": relative_to(e.file, report.base), "line": e.line, "message": e.message}
                     for e in warnings],
        "config": settings_dict(settings, report.base),
        "inputs": inputs_list(report),
        "summary": {
            "stacks": len(report.stacks),
            "rules": len(report.rules),
            "failed": sum(1 for r in findings if r.status is Status.FAIL),
            "unknown": sum(1 for r in findings if r.status is Status.UNKNOWN),
            "passed": sum(1 for r in report.results if r.status is Status.PASS),
            "suppressed": len(report.suppressed),
            "errors": len(errors),
            "warnings": len(warnings),
        },
        **({"baseline": _baseline(report)} if report.baseline is not None else {}),
    }


def _baseline(report: Report) -> dict:
    summary = report.baseline
    return {"file": relative_to(summary["file"], report.base), "entries": summary["entries"],
            "matched": summary["matched"], "stale": summary["stale"], "since": summary["since"],
            "added": summary["added"]}


def chunks(report: Report, settings: dict | None = None, **_: object) -> Iterator[str]:
    """The same text as `json.dumps(..., indent=2)`, in pieces."""
    for piece in indented(as_dict(report, settings)):
        yield json_text(piece)
    yield "\n"


def render(report: Report, settings: dict | None = None, **_: object) -> str:
    return "".join(chunks(report, settings))
