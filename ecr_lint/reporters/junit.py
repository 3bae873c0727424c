"""JUnit XML for the test tabs of Jenkins, GitLab and Azure DevOps: one testcase per rule and resource.

- One `<testsuite>` per linted stack (a directory, or a plan file), named by its path relative to
  the repository root; input errors outside every stack get a suite of their own, `(no stack)`.
- One `<testcase>` per rule and resource in the stack: `classname` is `<stack>.<rule id>` (just
  `<rule id>` for a stack at the repository root; Jenkins splits it at the last dot into package =
  stack and class = rule, GitLab shows it as the suite), `name` the resource address, `file` and
  `line` where the finding points.
- Every finding (status fail or unknown, whatever its severity) is a `<failure>`: the test tab
  shows everything that needs attention, and the exit code (by `--fail-on`) gates the job. A rule
  that gives several verdicts on one resource (e.g. one per policy statement) is one testcase
  whose failure lists them all. Suppressed results are `<skipped>` with the reason; passes have
  no child. Input and internal errors are `<error>` testcases named by file and line (a known one
  recorded in the baseline is `<skipped>`, as it does not fail the run; so is an input warning).
- Text from the linted tree is escaped; characters XML 1.0 forbids become visible escapes.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter

from ecr_lint.fingerprint import relative_to
from ecr_lint.model import InputError, Report, Result, Status
from ecr_lint.reporters.safetext import xml_text

NO_STACK = "(no stack)"   # the suite of input errors that belong to no stack (no path is named so)


def _stack_label(result: Result, base: str) -> str:
    return relative_to(result.stack, base) if result.stack else relative_to(result.file, base).rpartition("/")[0] or "."


def _classname(label: str, name: str) -> str:
    """`<stack>.<name>`; for a stack at the repository root just `<name>` (Jenkins' "(root)" package)."""
    return name if label == "." else f"{label}.{name}"


def _owner(path: str, labels: list[str]) -> str:
    """The innermost stack holding `path` (both relative to the repository root), else NO_STACK."""
    def holds(label: str) -> bool:
        if label == ".":
            return path != ".." and not path.startswith("../")
        return path == label or path.startswith(label + "/")

    holding = [label for label in labels if holds(label)]
    return max(holding, key=lambda label: 0 if label == "." else len(label), default=NO_STACK)


class _Suite:
    """A testsuite being built, with exact counts."""

    def __init__(self, name: str) -> None:
        self.element = ET.Element("testsuite", name=xml_text(name))
        self.counts: Counter[str] = Counter()

    def case(self, classname: str, name: str, file: str, line: int) -> ET.Element:
        self.counts["tests"] += 1
        attributes = {"classname": xml_text(classname), "name": xml_text(name), "file": xml_text(file)}
        if line > 0:
            attributes["line"] = str(line)
        return ET.SubElement(self.element, "testcase", attributes)

    def child(self, case: ET.Element, kind: str, message: str, text: str, **attributes: str) -> None:
        self.counts[{"failure": "failures", "error": "errors", "skipped": "skipped"}[kind]] += 1
        element = ET.SubElement(case, kind, {"message": xml_text(message),
                                             **{k: xml_text(v) for k, v in attributes.items()}})
        element.text = xml_text(text)

    def finish(self) -> ET.Element:
        for key in ("tests", "failures", "errors", "skipped"):
            self.element.set(key, str(self.counts[key]))
        return self.element


def _verdict_text(result: Result, base: str) -> str:
    where = f"{relative_to(result.file, base)}:{max(result.line, 1)}"
    if result.status is Status.SUPPRESSED and result.suppression is not None:
        sup = result.suppression
        return f"{where}  suppressed ({sup.kind}): {sup.reason}\n  by: {sup.source}\n  finding: {result.message}"
    return f"{where}  {result.status.value} ({result.severity}): {result.message}"


def _rule_text(rule_id: str, rules: dict) -> str:
    rule = rules.get(rule_id)
    if rule is None:
        return ""
    return f"\n{rule.id} {rule.name}: {rule.title}\nFix: {rule.remediation}\nMore: ecr-lint explain {rule.id}"


def _add_results(suite: _Suite, label: str, results: list[Result], report: Report, rules: dict) -> None:
    """One testcase per rule and resource, the verdicts on it in result order."""
    groups: dict[tuple[str, str], list[Result]] = {}
    for result in results:
        groups.setdefault((result.rule_id, result.address), []).append(result)
    for (rule_id, address), verdicts in groups.items():
        findings = [r for r in verdicts if r.status in (Status.FAIL, Status.UNKNOWN)]
        suppressed = [r for r in verdicts if r.status is Status.SUPPRESSED]
        shown = findings or suppressed or verdicts
        first = shown[0]
        case = suite.case(_classname(label, rule_id), address, relative_to(first.file, report.base), first.line)
        more = f" (and {len(shown) - 1} more)" if len(shown) > 1 else ""
        text = "\n".join(_verdict_text(r, report.base) for r in findings + suppressed) + _rule_text(rule_id, rules)
        if findings:
            suite.child(case, "failure", f"{first.status.value} ({first.severity}): {first.message}{more}", text,
                        type=first.status.value)
        elif suppressed and first.suppression is not None:
            suite.child(case, "skipped", f"suppressed ({first.suppression.kind}): {first.suppression.reason}{more}",
                        text)


def _add_error(suite: _Suite, label: str, error: InputError, base: str, taken: set[tuple[str, str]]) -> None:
    file = relative_to(error.file, base)
    where = f"{file}:{error.line}" if error.line else file
    kind = "input-warning" if error.kind == "warning" else f"{error.kind}-error"
    classname, name, n = _classname(label, kind), where, 1
    while (classname, name) in taken:   # GitLab keeps only the first of two tests with one name
        n += 1
        name = f"{where} ({n})"
    taken.add((classname, name))
    case = suite.case(classname, name, file, error.line)
    if error.baselined:
        suite.child(case, "skipped", f"known input error, recorded in the baseline: {error.message}",
                    f"{where}: {error.message}")
    elif error.kind == "warning":
        suite.child(case, "skipped", f"warning: {error.message}", f"{where}: {error.message}")
    else:
        suite.child(case, "error", error.message, f"{where}: {error.message}", type=error.kind)


def render(report: Report, **_: object) -> str:
    base = report.base
    rules = {rule.id: rule for rule in report.rules}
    by_stack: dict[str, list[Result]] = {relative_to(stack, base): [] for stack in report.stacks}
    for result in report.results:
        by_stack.setdefault(_stack_label(result, base), []).append(result)
    suites = {label: _Suite(label) for label in by_stack}
    for label, results in by_stack.items():
        _add_results(suites[label], label, results, report, rules)
    taken: set[tuple[str, str]] = set()
    for error in report.errors:
        label = _owner(relative_to(error.file, base), list(by_stack))
        if label not in suites:
            suites[label] = _Suite(label)
        _add_error(suites[label], label, error, base, taken)
    root = ET.Element("testsuites", name="ecr-lint")
    totals: Counter[str] = Counter()
    for suite in suites.values():
        root.append(suite.finish())
        totals.update(suite.counts)
    for key in ("tests", "failures", "errors", "skipped"):
        root.set(key, str(totals[key]))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
