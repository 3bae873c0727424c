"""`ecr-lint fix`: lint, compute every edit at the origin of a failing value, prove each by linting
again with the edited files (nothing written yet), keep the edits that fix their findings and
change nothing else.

An edit is kept only when, with it, (1) its findings are gone, (2) no finding and no input error
is added, and (3) no resource changes but the ones whose findings it fixes: an origin that also
feeds other uses (a default shared by dev stacks, a local read by a resource without the finding)
is not edited, and the finding says why and what to change by hand.
"""

from __future__ import annotations

import functools
import difflib
import json
import os
from dataclasses import dataclass, field
from typing import Any, Iterator

from ecr_lint.fix import hcltext as h
from ecr_lint.fix.hcltext import Edit
from ecr_lint.hcl import syntax as ast
from ecr_lint.fix.rules import FIXERS, Candidate, Context, Files, Refused, fix
from ecr_lint.model import Report, Result, Status
from ecr_lint.reporters.escape import display


@dataclass(frozen=True)
class Fix:
    """The edits that repair some findings (one edit can repair several: a shared local)."""

    results: tuple[Result, ...]
    description: str
    edits: tuple[Edit, ...]          # as written: whole lines, `=` realigned


@dataclass(frozen=True)
class NotFixed:
    result: Result
    reason: str


@dataclass
class FixPlan:
    report: Report
    fixes: list[Fix] = field(default_factory=list)
    not_fixed: list[NotFixed] = field(default_factory=list)
    originals: dict[str, bytes] = field(default_factory=dict)   # every file an edit touches, as read
    texts: dict[str, str] = field(default_factory=dict)         # those files with every kept edit
    tree: tuple[str, ...] = ()                                   # where edits may be written
    masker: Any = None    # the stacks' sensitive values: masked in what is shown (diff lines, edit texts)
    sensitive: frozenset = frozenset()   # variables declared sensitive: their assignments are never shown

    def mask(self, text: str) -> str:
        return self.masker.mask(text) if self.masker else text

    def changed_files(self) -> list[str]:
        return sorted(p for p, t in self.texts.items() if t.encode("utf-8") != self.originals.get(p))


def tree_of(paths: list[str]) -> tuple[str, ...]:
    """The linted tree: the directories given (a file's directory), as given (absolute)."""
    dirs = {os.path.abspath(p if os.path.isdir(p) else os.path.dirname(p) or ".") for p in paths if os.path.exists(p)}
    return tuple(sorted(dirs))


def writable_reason(path: str, tree: tuple[str, ...]) -> str | None:
    """Why ecr-lint will not edit this file (None: it may): outside the tree, through a symlink
    below the directory given (one above it is the caller's own choice of path), installed by
    terraform init, or not a regular file."""
    absolute = os.path.abspath(path)
    base = next((root for root in tree if absolute.startswith(root.rstrip(os.sep) + os.sep)), None)
    if base is None:
        return "it is outside the linted tree"
    parts = os.path.relpath(absolute, base).split(os.sep)
    current = base
    for part in parts:
        current = os.path.join(current, part)
        if os.path.islink(current):
            return "it is reached through a symbolic link (ecr-lint never writes through one)"
    if ".terraform" in parts:
        return "it is inside .terraform (installed by terraform init, which overwrites it)"
    if not os.path.isfile(absolute):
        return "it is not a regular file"
    return None


def make_plan(paths: list[str], config: Any, rules: list, jobs: int = 1, cache: bool = True,
              shown=lambda p: p, tree: tuple[str, ...] | None = None) -> FixPlan:
    """`tree`: where edits may be written (default: the directories given)."""
    from ecr_lint.api import lint

    paths = list(paths)
    report = lint(paths, config, rules=rules, jobs=jobs, cache=cache)
    plan = FixPlan(report, tree=tree or tree_of(paths))
    failing = [r for r in report.findings if r.status is Status.FAIL and r.rule_id in FIXERS]
    if not failing:
        return plan
    broken = next((e for e in report.errors if e.kind != "warning" and not e.baselined), None)
    if broken is not None:  # the proof lints again: with an input unread, it would prove nothing
        for result in failing:
            plan.not_fixed.append(NotFixed(result, f"not edited: an input could not be read ({shown(broken.file)}"
                                                   f"{f':{broken.line}' if broken.line else ''}): fix the input "
                                                   "errors first"))
        return plan
    before = _snapshot(paths, config, rules)
    plan.masker = _masker(before.stacks.values())
    plan.sensitive = _declared_sensitive(before.stacks.values())
    files = Files(lambda p: _read(p, plan))
    ctx = Context(files, config, before.stacks, shown)
    groups: dict[tuple, list[Candidate]] = {}
    for result in failing:
        try:
            candidate = fix(result, ctx)
        except Refused as exc:
            plan.not_fixed.append(NotFixed(result, str(exc)))
            continue
        groups.setdefault(tuple(sorted(set(candidate.edits), key=_order)), []).append(candidate)
    groups = _outside_resources(groups, before, plan, shown)
    kept = _without_overlaps(list(groups.items()), plan)
    # Stacks beyond the linted paths may read an edited file (a shared module's other callers,
    # which the pre-commit hook does not lint): they are proven against too.
    edited = sorted({e.file for edits, _ in kept for e in edits})
    others = _other_readers(paths, edited, config, cache, plan.tree) if edited else []
    if others:
        wider = _snapshot(paths + others, config, rules)
        before = _Snapshot(wider.findings, wider.errors, wider.resources, {**wider.stacks, **before.stacks})
    accepted = _proven(paths + others, config, rules, kept, files, before, plan)
    shown_ok = []
    for edits, candidates in accepted:
        alone = _edited(files, edits)
        final = tuple(e for path in sorted(alone) for e in hunks(path, files.text(path), alone[path]))
        secret = next((e for e in final if _touches(e, files.text(e.file), plan.sensitive)), None)
        if secret is not None:  # its text (JSON, SARIF) would carry a sensitive value, realigned
            _refuse(plan, (edits, candidates), f"the edit would rewrite a line of {shown(secret.file)} that assigns "
                                               "a sensitive variable")
            continue
        shown_ok.append((edits, candidates))
        plan.fixes.append(Fix(tuple(c.result for c in candidates), candidates[0].description, final))
    accepted = shown_ok
    combined = _edited(files, tuple(e for edits, _ in accepted for e in edits))
    plan.texts = combined
    return plan


def _other_readers(paths: list[str], edited: list[str], config: Any, cache: bool, tree: tuple[str, ...]) -> list[str]:
    """The root stacks outside the linted paths that read an edited file: searched in the git
    repository of the first path, else in the tree edits may be written to (under
    --changed-files outside git: the working directory)."""
    from ecr_lint.changed import stacks_for
    from ecr_lint.config import repository_root

    linted = tree_of(paths)
    root = repository_root(os.path.realpath(linted[0])) if linted else None
    readers = {r for base in ([root] if root else tree) for r in stacks_for(edited, base, config, cache=cache)[0]}
    return sorted(r for r in readers if not any(r == d or r.startswith(d.rstrip(os.sep) + os.sep) for d in linted))


def _outside_resources(groups: dict, before: _Snapshot, plan: FixPlan, shown) -> dict:
    """Edits whose origin (a variable or a local) is also read by a provider block or an output of
    its module, directly or through locals, are not made: lint compares resources only, and a
    provider's settings or an output other stacks read would change unseen."""
    kept: dict = {}
    for edits, candidates in groups.items():
        reader = next(filter(None, (_read_outside_resources(c.result.origins[-1], before, shown) for c in candidates)), None)
        if reader is None:
            kept[edits] = candidates
            continue
        for candidate in candidates:
            plan.not_fixed.append(NotFixed(candidate.result, f"not edited: the value's origin also feeds {reader}, "
                                                             f"which lint does not judge; by hand: "
                                                             f"{candidate.description}"))
    return kept


def _read_outside_resources(origin: Any, before: _Snapshot, shown) -> str | None:
    """'provider aws (main.tf:12)' when a provider block or output of the origin's module reads it."""
    if origin.kind == "local" and origin.attribute:
        name, directory = ("local", origin.attribute[0]), os.path.dirname(os.path.abspath(origin.file))
    elif origin.kind == "default" and origin.block[:1] == ("variable",):
        name, directory = ("var", origin.block[1]), os.path.dirname(os.path.abspath(origin.file))
    elif origin.kind == "tfvars" and origin.attribute:
        name, directory = ("var", origin.attribute[0]), None
    else:
        return None
    for stack, config in _module_configs(before.stacks.values()):
        if directory is not None and os.path.abspath(config.directory) != directory:
            continue
        if directory is None and os.path.abspath(config.directory) != os.path.abspath(stack.root):
            continue
        readers = [(f"provider {d.block.labels[0]}", d) for d in config.providers]
        readers += [(f"output {n}", d) for n, d in config.outputs.items()]
        for label, decl in readers:
            if name in _inputs_read(decl.block.body, config):
                return f"{label} ({shown(decl.file)}:{decl.block.line})"
    return None


def _inputs_read(body: Any, config: Any) -> set[tuple[str, str]]:
    """The variables and locals a block body reads, through locals too."""
    found: set = set()
    frontier = [body]
    while frontier:
        node = frontier.pop()
        if isinstance(node, ast.Body):
            frontier += [a.expr for a in node.attributes.values()] + [b.body for b in node.blocks]
        elif isinstance(node, ast.GetAttr) and isinstance(node.obj, ast.Name) and node.obj.name in ("var", "local"):
            key = (node.obj.name, node.name)
            if key not in found:
                found.add(key)
                if key[0] == "local" and key[1] in config.locals:
                    frontier.append(config.locals[key[1]][0].expr)
        elif isinstance(node, ast.Node):
            frontier += [v for f in node.__slots__ for v in _children(getattr(node, f))]
        elif isinstance(node, (tuple, list)):
            frontier += list(node)
    return found


def _children(value: Any) -> list:
    return list(value) if isinstance(value, (tuple, list)) else [value]


def _order(edit: Edit) -> tuple:
    return edit.file, edit.start, edit.end, edit.text


def _read(path: str, plan: FixPlan) -> str:
    """A file an edit would touch, read through the gate, once (kept to check it before writing)."""
    from ecr_lint.loaders.files import MAX_FILE_BYTES, Roots, read_file

    reason = writable_reason(path, plan.tree)
    if reason:
        raise Refused(f"{path} is not edited: {reason}")
    try:
        data, _ = read_file(path, Roots([os.path.realpath(root) for root in plan.tree]), MAX_FILE_BYTES)
    except (OSError, ValueError) as exc:
        raise Refused(f"{path} cannot be read: {exc}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused(f"{path} is not UTF-8 text") from None
    if text.startswith("\ufeff"):
        raise Refused(f"{path} starts with a byte-order mark: edit it by hand")
    if _unsafe(path) or any(_unsafe(line.replace("\t", " ")) for line in text.replace("\r\n", "\n").split("\n")):
        # The diff shows the file's lines as they are (it must apply): none may carry a terminal
        # escape, an invisible or bidi mark, a line separator or a CI log command (reporters/escape.py).
        raise Refused(f"{display(path)} holds control or invisible characters, or a CI log command, in its name or "
                      "text: edit it by hand")
    plan.originals[path] = data
    return text


def _unsafe(text: str) -> bool:
    return display(text) != text


def _declared_sensitive(stacks) -> frozenset:
    """The names of the variables declared `sensitive = true` in any module of these stacks (one set
    for all: a name shared by a sensitive and a plain variable is hidden in both)."""
    names = set()
    for _, config in _module_configs(stacks):
        for name, decl in config.variables.items():
            attr = decl.block.body.attributes.get("sensitive")
            if attr is not None and not (hasattr(attr.expr, "value") and attr.expr.value is False):
                names.add(name)   # anything but a literal false counts
    return frozenset(names)


def _module_configs(stacks) -> Iterator[tuple[Any, Any]]:
    """(stack, ModuleConfig) for every module directory each HCL stack read (a plan has none)."""
    for stack in stacks:
        loader = getattr(getattr(stack, "tracer", None), "loader", None)
        for config in (getattr(loader, "configs", None) or {}).values():
            yield stack, config


def _touches(edit: Edit, text: str, names: frozenset) -> bool:
    hidden = sensitive_lines(edit.file, text, names)
    first, last = h.line_of(text, edit.start), h.line_of(text, max(edit.end - 1, edit.start))
    return any(line in hidden for line in range(first, last + 1))


@functools.lru_cache(maxsize=64)  # asked per edit and per diff of the same few files: parse each once
def sensitive_lines(path: str, text: str, names: frozenset) -> frozenset[int]:
    """The lines of `text` that assign a sensitive variable: a var file's assignment, a sensitive
    variable's default (all its lines). A file that cannot be parsed: every line."""
    if not names:
        return frozenset()
    try:
        body = h.parse(text)
    except Exception:  # noqa: BLE001 - not shown at all rather than shown wrongly
        return frozenset(range(1, text.count("\n") + 2))
    spans = []
    if path.endswith(".tfvars"):
        spans += [a for name, a in h.attributes(body).items() if name in names]
    for block in h.blocks(body, "variable"):
        words = h.block_words(block)
        if len(words) > 1 and words[1] in names:
            spans += [a for name, a in h.attributes(h.body_of(block)).items() if name == "default"]
    lines: set[int] = set()
    for node in spans:
        start, end = h.span(node)
        lines.update(range(h.line_of(text, start), h.line_of(text, max(end - 1, start)) + 1))
    return frozenset(lines)


def _masker(stacks) -> Any:
    """One masker for the sensitive values of every stack (ecr_lint/redact.py)."""
    from ecr_lint.redact import Masker, needles_of

    values: list = []
    for stack in stacks:
        if getattr(stack, "sensitive", False):
            values += [r.attributes for r in stack.resources]
            values += list(stack.module_variables.values()) + list(stack.module_values.values())
    return Masker(needles_of(values))


def _overlap(a: Edit, b: Edit) -> bool:
    return a.file == b.file and a.start < b.end and b.start < a.end


def _without_overlaps(groups: list, plan: FixPlan) -> list:
    kept: list = []
    for edits, candidates in groups:
        clash = next((c for e2, c in kept if any(_overlap(a, b) for a in edits for b in e2)), None)
        if clash is not None:
            other = clash[0].result
            for candidate in candidates:
                plan.not_fixed.append(NotFixed(candidate.result, f"its edit overlaps the fix of {other.rule_id} "
                                                                 f"{other.address}: run `ecr-lint fix` again after it"))
            continue
        kept.append((edits, candidates))
    return kept


def _edited(files: Files, edits: tuple[Edit, ...]) -> dict[str, str]:
    """Each file's text with these edits, runs of attributes they touch realigned."""
    out: dict[str, str] = {}
    for path in sorted({e.file for e in edits}):
        text, touched = h.apply(files.text(path), [e for e in edits if e.file == path])
        out[path] = h.align(text, touched)
    return out


def hunks(path: str, old: str, new: str) -> list[Edit]:
    """The change from old to new as whole-line replacements (offsets into old)."""
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    starts = [0]
    for line in a:
        starts.append(starts[-1] + len(line))
    out = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag != "equal":
            out.append(Edit(path, starts[i1], starts[i2], "".join(b[j1:j2])))
    return out


# --- proof: lint again with the edits ---------------------------------------------------------------

@dataclass
class _Snapshot:
    findings: set
    errors: set
    resources: dict
    stacks: dict


def _snapshot(paths: list[str], config: Any, rules: list, reading: list[str] = ()) -> _Snapshot:
    """Findings of the per-stack rules (an edit changes no SSM parameter name, so the cross-stack
    rule cannot change), input errors, and every resource's attributes."""
    from ecr_lint.api import lint, load_stacks
    from ecr_lint.hcl.evaluate import symbolic

    report = lint(paths, config, rules=[r for r in rules if not r.cross_stack], jobs=1, cache=False, reading=reading)
    stacks, _ = load_stacks(paths, config, reading=reading)
    resources = {}
    for stack in stacks:
        for res in stack.resources:
            # compared, never shown: a sensitive value stays in memory
            resources[(stack.root, res.address)] = {
                name: json.dumps(symbolic(value), sort_keys=True, default=repr) for name, value in res.attributes.items()}
    return _Snapshot({_key(r) for r in report.findings}, {(e.file, e.line, e.message) for e in report.errors},
                     resources, {s.root: s for s in stacks})


def _key(result: Result) -> tuple:
    return result.rule_id, result.stack, result.address


def _problem(paths, config, rules, files: Files, groups: list, before: _Snapshot, changes: bool = True) -> str | None:
    """Why these edits together may not be kept (None: they may). `changes`: also check that no
    resource changes but those whose findings they fix."""
    from ecr_lint.loaders.files import OVERLAY

    texts = _edited(files, tuple(e for edits, _ in groups for e in edits))
    # Only the stacks that read an edited file can change: they alone are linted again.
    edited = {os.path.abspath(p) for p in texts}
    affected = sorted(root for root, stack in before.stacks.items() if stack.source != "plan" and stack.read & edited)
    OVERLAY.clear()
    OVERLAY.update({os.path.realpath(p): t.encode("utf-8") for p, t in texts.items()})
    try:
        after = _snapshot(affected or paths, config, rules, reading=paths)
    finally:
        OVERLAY.clear()
    scope = set(affected) if affected else None

    def inside(keys) -> set:
        return {k for k in keys if scope is None or k[1 if len(k) == 3 else 0] in scope}

    targets = {_key(c.result) for _, candidates in groups for c in candidates}
    still = sorted(targets & after.findings)
    if still:
        return f"linting again still finds {still[0][0]} on {still[0][2]}"
    added = sorted(inside(after.findings) - before.findings)
    if added:
        return f"it would add {added[0][0]} on {added[0][2]}"
    errors = sorted(after.errors - before.errors)
    if errors:
        return f"the edited file would not read: {errors[0][2]}"
    if not changes:
        return None
    fixed = {(stack, address) for _, stack, address in targets}
    old, new = {k: v for k, v in before.resources.items() if k in inside(before.resources)}, \
        {k: v for k, v in after.resources.items() if k in inside(after.resources)}
    changed = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k) and k not in fixed
                     and not _through_fixed(k, old.get(k) or {}, new.get(k) or {}, fixed, after.stacks))
    if changed:
        stack, address = changed[0]
        return (f"the value's origin also feeds {address} in {os.path.relpath(stack)}, which has no such finding "
                "and would change too")
    return None


def _through_fixed(key: tuple, old: dict, new: dict, fixed: set, stacks: dict) -> bool:
    """Every attribute of this resource that changed refers to a resource being fixed (an IAM
    policy rendering the fixed policy document): a consequence of the fix, not another use of
    the origin."""
    stack = stacks.get(key[0])
    if stack is None:
        return False
    changed = {name for name in set(old) | set(new) if old.get(name) != new.get(name)}
    explained = {edge.attribute.split(".")[0] for edge in stack.graph.resource_edges()
                 if edge.source == key[1] and (key[0], edge.target) in fixed}
    return bool(changed) and changed <= explained


def _proven(paths, config, rules, groups: list, files: Files, before: _Snapshot, plan: FixPlan) -> list:
    """The groups whose edits are proven: each alone (then what changes is known to be its own
    doing), and all of them together (no two edits undo or break each other)."""
    alone: list = []
    for group in groups:
        problem = _problem(paths, config, rules, files, [group], before)
        if problem is None:
            alone.append(group)
        else:
            _refuse(plan, group, problem)
    if len(alone) < 2 or _problem(paths, config, rules, files, alone, before, changes=False) is None:
        return alone
    accepted: list = []
    for group in alone:
        problem = _problem(paths, config, rules, files, accepted + [group], before, changes=False)
        if problem is None:
            accepted.append(group)
        else:
            _refuse(plan, group, f"together with the other fixes, {problem}: run `ecr-lint fix` again after them")
    return accepted


def _refuse(plan: FixPlan, group: tuple, problem: str) -> None:
    for candidate in group[1]:
        plan.not_fixed.append(NotFixed(candidate.result, _advice(candidate, problem)))


def _advice(candidate: Candidate, problem: str) -> str:
    """Why an edit is not made, and what to change by hand instead."""
    result, origin = candidate.result, candidate.result.origins[-1]
    if "also feeds" not in problem:
        return f"not edited: {problem}; by hand: {candidate.description}"
    wanted = candidate.edits[0].text if len(candidate.edits) == 1 else None
    if origin.kind == "default" and origin.block[:1] == ("variable",) and result.address.startswith("module.") \
            and wanted is not None:
        call = result.address.split(".")[1].split("[")[0]
        return (f"not edited: {problem}; by hand: pass {origin.block[1]} = {wanted} in the call of module.{call} "
                f"in {os.path.relpath(result.stack)}, which only this stack reads")
    return (f"not edited: {problem}; by hand: set the value where only this stack reads it (its tfvars, or its "
            "module call)")
