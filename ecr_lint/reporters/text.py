"""Human output: findings grouped by file, `file:line rule address message`, then the fix."""

from __future__ import annotations

import os
from itertools import groupby

from ecr_lint.model import Report, Status


def _display(path: str) -> str:
    rel = os.path.relpath(path) if os.path.isabs(path) else path
    return path if rel.startswith("..") else rel


def render(report: Report, color: bool = False, **_: object) -> str:
    rules = {r.id: r for r in report.rules}
    lines: list[str] = []
    findings = report.findings
    for file, group in groupby(findings, key=lambda r: r.file):
        lines.append(_style(_display(file), "1", color))
        for result in group:
            label = "unknown" if result.status is Status.UNKNOWN else str(result.severity)
            code = {"error": "31", "warning": "33", "unknown": "35"}.get(label, "0")
            lines.append(f"  {_display(result.file)}:{result.line}  {_style(label, code, color)}  "
                         f"{result.rule_id}  {result.address}")
            lines.append(f"      {result.message}")
            rule = rules.get(result.rule_id)
            if rule is not None and result.status is Status.FAIL:
                lines.append(f"      fix: {' '.join(rule.remediation.split())}")
        lines.append("")
    for error in report.errors:
        lines.append(_style(f"{_display(error.file)}{':' + str(error.line) if error.line else ''}: "
                            f"{'internal error' if error.kind == 'internal' else 'error'}"
                            f"{' (in the baseline)' if error.baselined else ''}: {error.message}", "31", color))
    lines.extend(_baseline_lines(report))
    unchecked = sum(1 for r in findings if r.rule_id == "ECR000" and _is_module_call(r.address))
    if unchecked:
        lines.append(f"{unchecked} module call(s) not checked (not installed, stale, or expanded over unknowns): "
                     "run `terraform init` in the stack, or lint its plan JSON")
    failed = sum(1 for r in findings if r.status is Status.FAIL)
    unknown = sum(1 for r in findings if r.status is Status.UNKNOWN)
    passed = sum(1 for r in report.results if r.status is Status.PASS)
    suppressed = f", {len(report.suppressed)} suppressed" if report.suppressed else ""
    lines.append(f"{len(report.stacks)} stack(s), {len(report.rules)} rule(s): {failed} failed, "
                 f"{unknown} unknown, {passed} passed{suppressed}, {len(report.errors)} input error(s)")
    return "\n".join(lines) + "\n"


def _is_module_call(address: str) -> bool:
    parts = address.replace('"', "").split(".")
    return len(parts) >= 2 and parts[-2].split("[")[0] == "module"


def _baseline_lines(report: Report) -> list[str]:
    summary = report.baseline
    if summary is None:
        return []
    out = [f"baseline {_display(summary['file'])}: {summary['entries']} entries, {summary['matched']} matched a finding"]
    if summary["stale"]:
        out.append(f"  {len(summary['stale'])} stale (match nothing: the finding is fixed or moved; remove them or "
                   "write the baseline again):")
        out.extend(f"    {e['rule_id']}  {e['address']}  ({e['file']})" for e in summary["stale"])
    if summary["added"]:
        out.append(f"  {len(summary['added'])} added since {summary['since']} (each accepts a finding without "
                   "fixing it: review them):")
        out.extend(f"    {e['rule_id']}  {e['address']}  ({e['file']})" for e in summary["added"])
    return out + [""]


def _style(text: str, code: str, color: bool) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if color else text
