"""A fix plan as a unified diff, as a summary, and inside the JSON and SARIF reports (the edits per
finding, SARIF `fixes` with `artifactChanges`), so that other tools can apply them."""

from __future__ import annotations

import difflib
import os
import re

from ecr_lint.fingerprint import fingerprint, relative_to, uri
from ecr_lint.fix.hcltext import Edit, line_of
from ecr_lint.fix.plan import FixPlan, hunks, sensitive_lines
from ecr_lint.reporters.escape import display


def _shown(path: str) -> str:
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


HIDDEN = "(a sensitive variable's value, not shown)"


def diff(plan: FixPlan) -> str:
    """`diff -u` of every file the kept edits change, paths relative to the working directory
    (`git apply` and `patch -p1` take it, unless a line assigning a sensitive variable is near an
    edit: its value is replaced by HIDDEN, and that file's hunk no longer applies)."""
    out: list[str] = []
    for path in plan.changed_files():
        old_text = plan.originals[path].decode("utf-8")
        old, new = old_text.splitlines(keepends=True), plan.texts[path].splitlines(keepends=True)
        hidden_old = sensitive_lines(path, old_text, plan.sensitive)
        hidden_new = sensitive_lines(path, plan.texts[path], plan.sensitive)
        name = _shown(path)
        lines = iter(difflib.unified_diff(old, new, f"a/{name}", f"b/{name}", n=3))
        for line in lines:
            if line.startswith("@@"):  # @@ -old_start,count +new_start,count @@
                at_old, at_new = (int(n) for n in re.match(r"@@ -(\d+)(?:,\d+)? \+(\d+)", line).groups())
            elif not line.startswith(("---", "+++")):
                hide = (line[0] in " -" and at_old in hidden_old) or (line[0] == "+" and at_new in hidden_new)
                at_old += line[0] in " -"
                at_new += line[0] in " +"
                if hide:
                    line = line[0] + _hidden(line[1:])
            line = plan.mask(line)  # a sensitive value elsewhere on a nearby line is never shown either
            out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


def _hidden(line: str) -> str:
    """`  name = value` -> `  name = (a sensitive variable's value, not shown)`; any other line of
    such a value: only its indentation."""
    head = re.match(r"\s*(?:[A-Za-z_][\w-]*|\"[^\"]*\")\s*=\s*", line)
    indent = line[:len(line) - len(line.lstrip(" \t"))]
    return (head.group() if head else indent) + HIDDEN + ("\n" if line.endswith("\n") else "")


def summary(plan: FixPlan) -> list[str]:
    """One line per finding: fixed (and how) or not (and why, and what to do by hand)."""
    lines = []
    for fix in plan.fixes:
        for result in fix.results:
            lines.append(f"fixed: {_shown(result.file)}:{result.line}  {result.rule_id}  {result.address}: "
                         f"{fix.description}")
    for item in plan.not_fixed:
        result = item.result
        lines.append(f"not fixed: {_shown(result.file)}:{result.line}  {result.rule_id}  {result.address}: "
                     f"{item.reason}")
    return [display(plan.mask(line)) for line in lines]


def _position(text: str, offset: int) -> dict:
    line = line_of(text, offset)
    return {"line": line, "column": offset - (text.rfind("\n", 0, offset) + 1) + 1}


def _edits(plan: FixPlan, edits: tuple[Edit, ...], base: str) -> list[dict]:
    out = []
    for edit in edits:
        text = plan.originals[edit.file].decode("utf-8")
        out.append({"file": relative_to(edit.file, base), "start": _position(text, edit.start),
                    "end": _position(text, edit.end), "offset": edit.start, "length": edit.end - edit.start,
                    "text": plan.mask(edit.text)})
    return out


def _by_fingerprint(plan: FixPlan) -> tuple[dict, dict]:
    base = plan.report.base
    fixes = {fingerprint(r, base): fix for fix in plan.fixes for r in fix.results}
    refused = {fingerprint(n.result, base): n.reason for n in plan.not_fixed}
    return fixes, refused


def as_json(plan: FixPlan, settings: dict | None = None) -> dict:
    """The JSON report; each fixable finding carries `fix`: its description and edits (offsets and
    lines/columns into the file as read, the text to put there), or `not_fixed`: why."""
    from ecr_lint.reporters.json import as_dict

    data = as_dict(plan.report, settings)
    fixes, refused = _by_fingerprint(plan)
    for entry in data["findings"]:
        fix = fixes.get(entry["fingerprint"])
        if fix is not None:
            entry["fix"] = {"description": plan.mask(fix.description),
                            "edits": _edits(plan, fix.edits, plan.report.base)}
        elif entry["fingerprint"] in refused:
            entry["not_fixed"] = plan.mask(refused[entry["fingerprint"]])
    data["fixed_files"] = [relative_to(p, plan.report.base) for p in plan.changed_files()]
    # Every kept edit at once (what --write writes): one finding's edits may overlap another's
    # where both realign the same run of attributes; these never do.
    combined = tuple(e for p in plan.changed_files() for e in hunks(p, plan.originals[p].decode("utf-8"), plan.texts[p]))
    data["edits"] = _edits(plan, combined, plan.report.base)
    return data


def as_sarif(plan: FixPlan, settings: dict | None = None) -> dict:
    """The SARIF report; each fixed result carries `fixes` (SARIF 2.1.0 §3.55: artifactChanges with
    replacements of whole lines)."""
    from ecr_lint.reporters.sarif import as_dict

    data = as_dict(plan.report, settings)
    fixes, _ = _by_fingerprint(plan)
    base = plan.report.base
    for entry in data["runs"][0]["results"]:
        fix = fixes.get(entry["partialFingerprints"]["ecrLint/v2"])
        if fix is None:
            continue
        changes = []
        for path in sorted({e.file for e in fix.edits}):
            text = plan.originals[path].decode("utf-8")
            replacements = []
            for edit in (e for e in fix.edits if e.file == path):
                start, end = _position(text, edit.start), _position(text, edit.end)
                replacements.append({
                    "deletedRegion": {"startLine": start["line"], "startColumn": start["column"],
                                      "endLine": end["line"], "endColumn": end["column"],
                                      "charOffset": edit.start, "charLength": edit.end - edit.start},
                    "insertedContent": {"text": plan.mask(edit.text)}})
            changes.append({"artifactLocation": {"uri": uri(path, base)}, "replacements": replacements})
        entry["fixes"] = [{"description": {"text": plan.mask(fix.description)}, "artifactChanges": changes}]
    return data
