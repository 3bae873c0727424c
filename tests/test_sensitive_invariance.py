"""Marking values sensitive never changes a verdict: every plan and stack, linted with every value
marked, gives the same (rule, address, status) as without marks.

Plans: every `after_sensitive`/`sensitive_values` set to true and every variable declared
sensitive. Stacks: `sensitive = true` added to every variable. The one difference allowed is
Terraform's own: count and for_each from a sensitive value are rejected (an error naming the
resource, which is then checked as one instance), so the results of those resources, and of
what refers to them, are left out of the comparison.
"""

from __future__ import annotations

import copy
import glob
import json
import os
import re
import shutil

import pytest

from ecr_lint.api import lint, load_stacks
from ecr_lint.config import Config

from conftest import REPO, SHARED

PLANS = sorted(glob.glob(os.path.join(REPO, "fixtures", "plans", "*.json"))
               + glob.glob(os.path.join(SHARED, "corpus", "plans", "**", "*.json"), recursive=True))
STACKS = sorted([os.path.join(REPO, "fixtures", d) for d in os.listdir(os.path.join(REPO, "fixtures"))
                 if d not in ("plans", "custom_rules")]
                + [os.path.join(REPO, "terraform", "ecr")]
                + glob.glob(os.path.join(SHARED, "corpus", "*", "")))
_REJECTED = re.compile(r"^(?P<address>\S+): (?:count|for_each) is derived from a sensitive value")
_VARIABLE = re.compile(r'^(\s*variable\s+"[^"]+"\s*\{)[ \t]*$', re.M)


def _everything_sensitive(plan: dict) -> dict:
    plan = copy.deepcopy(plan)
    for change in plan.get("resource_changes") or []:
        if isinstance(change.get("change"), dict) and change["change"].get("after") is not None:
            change["change"]["after_sensitive"] = True

    def modules(module: dict):
        yield module
        for child in module.get("child_modules") or []:
            yield from modules(child)

    roots = [plan.get("planned_values", {}).get("root_module", {}),
             plan.get("prior_state", {}).get("values", {}).get("root_module", {})]
    for root in roots:
        for module in modules(root):
            for resource in module.get("resources") or []:
                resource["sensitive_values"] = True
    declared = plan.setdefault("configuration", {}).setdefault("root_module", {}).setdefault("variables", {})
    for name in plan.get("variables") or {}:
        declared.setdefault(name, {})["sensitive"] = True
    return plan


def _outcome(path: str, base: str) -> tuple[set, set]:
    report = lint([path], Config())
    return ({(r.rule_id, r.address, r.status.value) for r in report.results},
            {(os.path.relpath(e.file, base), e.line) for e in report.errors})


def _plans() -> list:
    found = []
    for path in PLANS:
        try:
            with open(path, encoding="utf-8") as handle:
                plan = json.load(handle)
        except (OSError, ValueError):
            continue
        if isinstance(plan, dict) and "format_version" in plan:
            found.append(pytest.param(path, id=os.path.relpath(path, os.path.dirname(REPO))))
    return found


@pytest.mark.parametrize("path", _plans())
def test_a_plan_with_every_value_sensitive_has_the_same_verdicts(path, tmp_path):
    with open(path, encoding="utf-8") as handle:
        marked = _everything_sensitive(json.load(handle))
    copy_path = tmp_path / os.path.basename(path)
    copy_path.write_text(json.dumps(marked))
    plain_results, plain_errors = _outcome(path, os.path.dirname(path))
    marked_results, marked_errors = _outcome(str(copy_path), str(tmp_path))
    assert marked_results == plain_results
    assert {line for _, line in marked_errors} == {line for _, line in plain_errors}


def _base(address: str) -> str:
    return re.sub(r"\[[^\]]*\]", "", address)


def _with_referrers(path: str, rejected: set[str]) -> set[str]:
    """Instances of the rejected resources and everything that refers to them, transitively."""
    if not rejected:
        return set()
    stacks, _ = load_stacks([path], Config())
    found: set[str] = set()
    for stack in stacks:
        frontier = [n for n, _ in stack.graph.nodes()
                    if any(_base(n) == r or _base(n).startswith(r + ".") for r in rejected)]
        while frontier:
            node = frontier.pop()
            if node in found:
                continue
            found.add(node)
            frontier.extend(edge.source for edge in stack.graph.referrers(node))
    return found


@pytest.mark.parametrize("root", [pytest.param(s, id=os.path.relpath(s, os.path.dirname(REPO))) for s in STACKS
                                  if os.path.isdir(s)])
def test_a_stack_with_every_variable_sensitive_has_the_same_verdicts(root, tmp_path):
    plain_dir, marked_dir = tmp_path / "plain", tmp_path / "marked"
    shutil.copytree(root, plain_dir, symlinks=True)
    shutil.copytree(root, marked_dir, symlinks=True)
    declared = 0
    for current, _, names in os.walk(marked_dir):
        for name in names:
            path = os.path.join(current, name)
            if name.endswith(".tf") and not os.path.islink(path):
                with open(path, encoding="utf-8", errors="surrogateescape") as handle:
                    text = handle.read()
                text, count = _VARIABLE.subn(r"\1\n  sensitive = true", text)
                declared += count
                with open(path, "w", encoding="utf-8", errors="surrogateescape") as handle:
                    handle.write(text)
    if not declared:
        pytest.skip("no variable to mark")
    plain_results, plain_errors = _outcome(str(plain_dir), str(plain_dir))
    report = lint([str(marked_dir)], Config())
    rejected = {_base(m.group("address")) for m in (_REJECTED.match(e.message) for e in report.errors) if m}
    affected = {_base(a) for a in _with_referrers(str(plain_dir), rejected)}

    def kept(address: str) -> bool:
        base = _base(address)
        return not any(base == r or base.startswith(r + ".") for r in rejected) and base not in affected

    marked_results = {(r.rule_id, r.address, r.status.value) for r in report.results}
    assert plain_results
    assert {r for r in marked_results if kept(r[1])} == {r for r in plain_results if kept(r[1])}
    marked_errors = {(os.path.relpath(e.file, str(marked_dir)), e.line) for e in report.errors
                     if not _REJECTED.match(e.message)}
    assert marked_errors == plain_errors
