"""Human output: `- file:line  severity  RULE  address`, why and the fix, grouped by file.

Then the suppressed findings (`suppressed:` lines with --show-suppressed, else how many), one
pointer to `ecr-lint explain`, the counts by severity, and `result:` with the exit code.
Every line starts with ecr-lint's own text (`- `, `why:`, `fix:`, `config:`...), and
everything that comes from the linted tree is escaped (reporters/escape.py): a value or a file
name can neither start a line of the log nor carry terminal escapes. Colour codes are ecr-lint's own.
"""

from __future__ import annotations

import os
from itertools import groupby

from ecr_lint.model import Report, Result, Severity, Status
from ecr_lint.reporters.escape import display
from ecr_lint.reporters.origins import in_module, remediation, set_at

REASON_CHARS = 100  # a suppression's reason, as shown on its one line


def _display(path: str) -> str:
    rel = os.path.relpath(path) if os.path.isabs(path) else path
    return display(path if rel.startswith("..") else rel)


def render(report: Report, color: bool = False, settings: dict | None = None, fail_on: str = "error",
           show_suppressed: bool = False, **_: object) -> str:
    rules = {r.id: r for r in report.rules}
    lines: list[str] = []
    findings = report.findings
    for _file, group in groupby(findings, key=lambda r: r.file):
        for result in group:
            label = "unknown" if result.status is Status.UNKNOWN else str(result.severity)
            code = {"error": "31", "warning": "33", "unknown": "35"}.get(label, "0")
            lines.append(f"- {_style(_display(result.file) + ':' + str(result.line), '1', color)}  "
                         f"{_style(label, code, color)}  {result.rule_id}  {display(result.address)}")
            lines.append(f"    why: {display(result.message)}")
            if in_module(result):  # a module's file is shared: say which stack's call this is
                lines.append(f"    stack: {_display(result.stack)}")
            origin = set_at(result, _display)
            if origin:
                lines.append(f"    set at: {display(origin)}")
            rule = rules.get(result.rule_id)
            if rule is not None and result.status is Status.FAIL:
                generic = " ".join(rule.remediation.split())
                lines.append(f"    fix: {display(remediation(result, generic, _display))}")
        lines.append("")
    for error in report.errors:
        kind = {"internal": "internal error", "warning": "warning"}.get(error.kind, "error")
        where = _display(error.file) + (f":{error.line}" if error.line else "")
        lines.append("- " + _style(f"{where}: {kind}{' (in the baseline)' if error.baselined else ''}: "
                                   f"{display(error.message)}", "33" if error.kind == "warning" else "31", color))
    if show_suppressed:
        lines.extend(_suppressed_line(r) for r in report.suppressed)
    lines.extend(settings_lines(settings))
    lines.extend(_baseline_lines(report))
    unchecked = sum(1 for r in findings if r.rule_id == "ECR000" and _is_module_call(r.address))
    if unchecked:
        lines.append(f"{unchecked} module call(s) not checked (not installed, stale, or expanded over unknowns): "
                     "run `terraform init` in the stack, or lint its plan JSON")
    if report.suppressed and not show_suppressed:
        lines.append(f"{len(report.suppressed)} suppressed finding(s) not shown: --show-suppressed lists them "
                     "with their reasons")
    if findings:
        worst = max(findings, key=lambda r: r.severity)  # the first of the most severe
        lines.append(f"explain: `ecr-lint explain {worst.rule_id}` (or any rule id above) says why the rule "
                     "matters and how to fix it, with examples")
    lines.extend(_summary(report, fail_on, color))
    return "\n".join(lines) + "\n"


def _suppressed_line(result: Result) -> str:
    """`suppressed: file:line  RULE  address: reason`, the reason cut to one short line (a baseline's
    reason names the baseline; a comment's is the text its author wrote)."""
    reason = " ".join(str(result.suppression.reason).split()) if result.suppression else ""
    if len(reason) > REASON_CHARS:
        reason = reason[:REASON_CHARS - 3] + "..."
    return (f"suppressed: {_display(result.file)}:{result.line}  {result.rule_id}  {display(result.address)}: "
            f"{display(reason or '(no reason given)')}")


_LEVELS = ((Severity.ERROR, "error"), (Severity.WARNING, "warning"), (Severity.INFO, "note"))


def _summary(report: Report, fail_on: str, color: bool) -> list[str]:
    """What was counted, and the verdict with the exit code it gives (api.exit_code's)."""
    from ecr_lint.api import exit_code

    findings = report.findings
    counts = {level: sum(1 for r in findings if r.severity is level) for level in Severity}
    unknown = sum(1 for r in findings if r.status is Status.UNKNOWN)
    inputs = [e for e in report.errors if e.kind == "input"]
    warnings = sum(1 for e in report.errors if e.kind == "warning")
    internal = sum(1 for e in report.errors if e.kind == "internal")
    levels = ", ".join(_count(counts[level], name) for level, name in _LEVELS
                       if counts[level] or level is not Severity.INFO)
    parts = [f"{_count(len(findings), 'finding')} ({levels}{f'; {unknown} unknown' if unknown else ''})",
             f"{sum(1 for r in report.results if r.status is Status.PASS)} passed",
             f"{len(report.suppressed)} suppressed", _count(len(inputs), "input error")]
    if warnings:
        parts.append(_count(warnings, "warning"))
    if internal:
        parts.append(_count(internal, "internal error"))
    summary = f"{len(report.stacks)} stack(s), {len(report.rules)} rule(s): {', '.join(parts)}"

    code = exit_code(report, fail_on)
    if code == 3:
        verdict = "failed: ecr-lint itself (an internal error, above)"
    elif code == 2:
        verdict = f"failed: {_count(sum(1 for e in inputs if not e.baselined), 'input error')} (the rest was linted)"
    elif code == 1:
        threshold = Severity.parse(fail_on)
        at = " and ".join(_count(counts[level], name) for level, name in _LEVELS
                          if level >= threshold and counts[level])
        verdict = f"failed: {at} at or above --fail-on {fail_on}"
    elif findings:
        verdict = "passed: " + ("--fail-on never" if fail_on == "never" else f"nothing at or above --fail-on {fail_on}")
    else:
        verdict = "passed"
    return [summary, f"result: {_style(verdict, '32' if code == 0 else '31', color)} (exit {code})"]


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


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
        out.extend(f"  - {display(str(e['rule_id']))}  {display(str(e['address']))}  ({display(str(e['file']))})"
                   for e in summary["stale"])
    if summary["added"]:
        out.append(f"  {len(summary['added'])} added since {summary['since']} (each accepts a finding without "
                   "fixing it: review them):")
        out.extend(f"  - {display(str(e['rule_id']))}  {display(str(e['address']))}  ({display(str(e['file']))})"
                   for e in summary["added"])
    return out


def settings_lines(settings: dict | None) -> list[str]:
    """Which config files the run used and what they (or the command line) turned off or down."""
    if not settings or not (settings.get("files") or settings.get("relaxed") or settings.get("skipped")):
        return []
    files = ", ".join(_display(f) for f in settings.get("files", [])) or "none"
    lines = [f"config: {files}"]
    for item in settings.get("skipped", []):
        lines.append(f"config: {_display(item['file'])} {display(item['reason'])}")
    for item in settings.get("relaxed", []):
        lines.append(f"relaxed: {display(item['detail'])} (from {_display(item['source'])})")
    return lines


def _style(text: str, code: str, color: bool) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if color else text
