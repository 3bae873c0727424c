"""GitHub Actions workflow commands: annotations on the pull request's lines."""

from __future__ import annotations

from ecr_lint.fingerprint import relative_to
from ecr_lint.model import Report, Severity, Status


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def render(report: Report, **_: object) -> str:
    lines = []
    for result in report.findings:
        kind = "error" if result.status is Status.FAIL and result.severity >= Severity.ERROR else "warning"
        title = f"{result.rule_id} {result.status.value}" if result.status is Status.UNKNOWN else result.rule_id
        lines.append(f"::{kind} file={_prop(relative_to(result.file, report.base))},line={max(result.line, 1)},"
                     f"title={_prop(title)}::{_data(result.address + ': ' + result.message)}")
    for error in report.errors:
        where = f"file={_prop(relative_to(error.file, report.base))}" + (f",line={error.line}" if error.line else "")
        lines.append(f"::error {where},title=ecr-lint input error::{_data(error.message)}")
    failed = sum(1 for r in report.findings if r.status is Status.FAIL)
    lines.append(f"ecr-lint: {failed} failed, {len(report.findings) - failed} unknown, {len(report.errors)} input error(s)")
    return "\n".join(lines) + "\n"
