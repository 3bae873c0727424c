"""lint(paths) -> Report: what the CLI, the tests and other programs call."""

from __future__ import annotations

import datetime as dt
import os
from typing import Iterable

from ecr_lint import redact, suppress
from ecr_lint.catalog import Rule, load_rules
from ecr_lint.config import Config
from ecr_lint.engine import run
from ecr_lint.loaders.config import ModuleConfig, module_files, reading_roots
from ecr_lint.loaders.hcl import StackLoader, root_variables
from ecr_lint.model import InputError, Report, Result, Severity, Status
from ecr_lint.stack import Stack

SKIP_DIRS = {".terraform", ".git", "node_modules", "__pycache__", ".terragrunt-cache"}


def _excluded(path: str, patterns: tuple[str, ...], bases: list[str]) -> bool:
    """A glob pattern matches the path, or a parent, relative to a linted root or the config file."""
    import fnmatch

    if not patterns:
        return False
    candidates = {os.path.basename(path)}
    for base in bases:
        rel = os.path.relpath(os.path.abspath(path), base).replace(os.sep, "/")
        if rel.startswith(".."):
            continue
        parts = rel.split("/")
        candidates |= {"/".join(parts[:i]) for i in range(1, len(parts) + 1)}
    return any(fnmatch.fnmatch(c, p.rstrip("/")) for c in candidates for p in patterns)


def discover(paths: Iterable[str], exclude: tuple[str, ...] = (),
             bases: list[str] | None = None) -> tuple[list[str], list[str], list[InputError]]:
    """(stack directories, plan files, errors) for the paths given on the command line."""
    dirs: list[str] = []
    plans: list[str] = []
    errors: list[InputError] = []
    paths = list(paths)
    bases = (bases or []) + [os.path.abspath(p) for p in paths] + [os.getcwd()]
    for path in paths:
        if not os.path.exists(path):
            errors.append(InputError(path, 0, "no such file or directory"))
        elif os.path.isfile(path):
            if path.endswith((".tf", ".tf.json", ".tfvars", ".tfvars.json")):
                dirs.append(os.path.dirname(path) or ".")
            else:
                plans.append(path)  # told apart by content: the plan loader says if it is not a plan
        else:
            found = []
            for current, subdirs, files in os.walk(path):
                subdirs[:] = sorted(d for d in subdirs if d not in SKIP_DIRS and not d.startswith(".")
                                    and not _excluded(os.path.join(current, d), exclude, bases))
                if any(f.endswith((".tf", ".tf.json")) for f in files) and not _excluded(current, exclude, bases):
                    found.append(current)
            if not found:
                errors.append(InputError(path, 0, "no .tf files found here"))
            dirs.extend(found)
    unique = list(dict.fromkeys(os.path.normpath(d) for d in dirs))
    return unique, plans, errors


def _called_modules(directory: str, config: ModuleConfig) -> set[str]:
    """Local module directories a module calls (they are linted through their callers)."""
    from ecr_lint.loaders import syntax as ast

    out = set()
    for decl in config.modules.values():
        source = decl.block.body.attributes.get("source")
        if source is not None and isinstance(source.expr, ast.Lit) and isinstance(source.expr.value, str):
            value = source.expr.value
            if value.startswith(("./", "../")):
                out.add(os.path.normpath(os.path.join(directory, value)))
    return out


def load_stacks(paths: Iterable[str], config: Config, progress=None) -> tuple[list[Stack], list[InputError]]:
    """Every stack and plan under the paths, loaded; unreadable inputs become errors."""
    from ecr_lint.loaders.config import load_module
    from ecr_lint.loaders.plan import PlanError, load_plan

    paths = list(paths)
    config_dir = [os.path.dirname(os.path.abspath(config.config_file))] if config.config_file else []
    dirs, plans, errors = discover(paths, config.exclude, config_dir)
    roots = reading_roots([p for p in paths if os.path.exists(p)])
    module_cache: dict[str, ModuleConfig] = {}
    for d in dirs:
        module_cache.setdefault(os.path.abspath(d), load_module(os.path.abspath(d), None, roots, config.max_file_bytes))
    called: set[str] = set()
    for d in dirs:
        called |= _called_modules(os.path.abspath(d), module_cache[os.path.abspath(d)])
    # a local module is linted with the inputs its callers give it, not on its own
    roots_to_lint = [d for d in dirs if not (os.path.abspath(d) in called and len(dirs) > 1)]
    stacks: list[Stack] = []
    for number, d in enumerate(roots_to_lint, start=1):
        if progress:
            progress(number, len(roots_to_lint), "stacks")
        values, var_errors = root_variables(d, list(config.var_files), dict(config.variables))
        errors.extend(var_errors)
        stacks.append(StackLoader(d, values, roots, module_cache=module_cache,
                                  max_file_bytes=config.max_file_bytes).load())
    for plan in plans:
        try:
            stacks.append(load_plan(plan, config.source_root, config.changed_only))
        except PlanError as exc:
            errors.append(InputError(plan, exc.line, exc.message))
    for stack in stacks:
        errors.extend(err for err in stack.errors if err not in errors)
    return stacks, errors


def lint(paths: Iterable[str], config: Config | None = None, rules: list[Rule] | None = None,
         rules_dirs: list[str] = (), today: dt.date | None = None, progress=None) -> Report:
    config = config or Config()
    rules = rules if rules is not None else load_rules([*config.rules_dirs, *rules_dirs])
    rules = select_rules(rules, config)
    stacks, errors = load_stacks(paths, config, progress)
    results, internal = run(stacks, rules, config)
    errors.extend(internal)
    resources = [r for s in stacks for r in s.resources]
    module_spans = [(u.file, u.line, u.line, u.address) for s in stacks for u in s.unresolved]
    module_spans += [call for s in stacks for call in s.module_calls]
    results = suppress.apply(results, resources, module_spans, rules, config, today or dt.date.today())
    if config.baseline:
        known = suppress.read_baseline(config.baseline)
        results = suppress.apply_baseline(results, known, config.baseline)
        errors = suppress.baseline_errors(errors, known)
    secrets = redact.secrets_of(r.attributes for s in stacks if s.source == "plan" for r in s.resources)
    results, errors = redact.redact(results, secrets), redact.redact(errors, secrets)
    results = sorted(set(results), key=lambda r: (r.file, r.line, r.rule_id, r.address, r.status.value, r.message))
    errors = sorted(set(errors), key=lambda e: (e.file, e.line, e.message))
    return Report(results, errors, [s.root for s in stacks], rules)


def select_rules(rules: list[Rule], config: Config) -> list[Rule]:
    chosen = [r for r in rules if (not config.select or r.id in config.select) and r.id not in config.ignore]
    return chosen


def exit_code(report: Report, fail_on: str) -> int:
    """0 clean, 1 findings at or above the threshold, 2 bad input, 3 internal error."""
    if any(e.kind == "internal" for e in report.errors):
        return 3
    if any(not e.baselined for e in report.errors):
        return 2
    if fail_on == "never":
        return 0
    threshold = Severity.parse(fail_on)
    if any(r.severity >= threshold for r in report.findings):
        return 1
    return 0
