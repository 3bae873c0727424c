"""GitHub Actions workflow commands: annotations on the pull request's lines.

Data and properties are escaped by the runner's rules (`%`, CR, LF; properties also `:` and `,`),
after every other control character from the linted tree is written as a visible escape.
Every line starts with `::` and a command of ecr-lint's own, or with `ecr-lint:`.
"""

from __future__ import annotations

from ecr_lint.fingerprint import relative_to
from ecr_lint.model import Report, Severity, Status
from ecr_lint.reporters.escape import display
from ecr_lint.reporters.origins import set_at


def _data(text: str) -> str:
    return display(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def render(report: Report, settings: dict | None = None, **_: object) -> str:
    from ecr_lint.reporters.text import settings_lines

    lines = []
    for result in report.findings:
        kind = "error" if result.status is Status.FAIL and result.severity >= Severity.ERROR else "warning"
        title = f"{result.rule_id} {result.status.value}" if result.status is Status.UNKNOWN else result.rule_id
        origin = set_at(result, lambda path: relative_to(path, report.base))
        message = result.address + ": " + result.message + (f" (set at {origin})" if origin else "")
        lines.append(f"::{kind} file={_prop(relative_to(result.file, report.base))},line={max(result.line, 1)},"
                     f"title={_prop(title)}::{_data(message)}")
    for error in report.errors:
        where = f"file={_prop(relative_to(error.file, report.base))}" + (f",line={error.line}" if error.line else "")
        if error.kind == "warning":
            lines.append(f"::warning {where},title=ecr-lint input warning::{_data(error.message)}")
        else:
            lines.append(f"::error {where},title=ecr-lint input error::{_data(error.message)}")
    lines.extend(f"ecr-lint: {line}" for line in settings_lines(settings))
    failed = sum(1 for r in report.findings if r.status is Status.FAIL)
    warnings = sum(1 for e in report.errors if e.kind == "warning")
    lines.append(f"ecr-lint: {failed} failed, {len(report.findings) - failed} unknown, "
                 f"{len(report.errors) - warnings} input error(s)" + (f", {warnings} warning(s)" if warnings else ""))
    return "\n".join(lines) + "\n"
