"""lint(paths) -> Report: what the CLI, the tests and other programs call."""

from __future__ import annotations

import datetime as dt
import os
from typing import Iterable

from ecr_lint import redact, suppress
from ecr_lint.catalog import Rule, load_rules
from ecr_lint.config import Config
from ecr_lint.engine import run_cross_stack
from ecr_lint.loaders.config import ModuleConfig, local_module_sources, reading_roots
from ecr_lint.loaders.hcl import StackLoader, root_variables
from ecr_lint.model import InputError, Report, Severity
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


def stack_roots(dirs: list[str]) -> list[str]:
    """The directories to lint as root stacks: a local module is linted through its callers,
    with the inputs they give it (unless it is all that was asked for)."""
    if len(dirs) <= 1:
        return dirs
    called: set[str] = set()
    for d in dirs:
        called |= local_module_sources(os.path.abspath(d))
    return [d for d in dirs if os.path.abspath(d) not in called]


def load_stacks(paths: Iterable[str], config: Config, progress=None) -> tuple[list[Stack], list[InputError]]:
    """Every stack and plan under the paths, loaded (for the graph picture); errors beside."""
    from ecr_lint.loaders.reader import Reader
    from ecr_lint.loaders.plan import PlanError, load_plan
    from ecr_lint.runner import Work, reading_roots_of

    paths = list(paths)
    config_dir = [os.path.dirname(os.path.abspath(config.config_file))] if config.config_file else []
    dirs, plans, errors = discover(paths, config.exclude, config_dir)
    roots = reading_roots([p for p in paths if os.path.exists(p)])
    module_cache: dict[str, ModuleConfig] = {}
    stacks: list[Stack] = []
    for d in stack_roots(dirs):
        reader = Reader(reading_roots_of(Work("hcl", d, tuple(roots)), config))
        values, var_errors = root_variables(d, list(config.var_files), dict(config.variables), reader)
        errors.extend(var_errors)
        stacks.append(StackLoader(d, values, roots, module_cache=module_cache,
                                  max_file_bytes=config.max_file_bytes, reader=reader).load())
    for plan in plans:
        try:
            stacks.append(load_plan(plan, config.source_root, config.changed_only))
        except PlanError as exc:
            errors.append(InputError(plan, exc.line, exc.message))
    for stack in stacks:
        errors.extend(err for err in stack.errors if err not in errors)
    return stacks, errors


def lint(paths: Iterable[str], config: Config | None = None, rules: list[Rule] | None = None,
         rules_dirs: list[str] = (), today: dt.date | None = None, progress=None, jobs: int = 1,
         cache: bool = False) -> Report:
    """Lint stacks and plans. `jobs` worker processes; `cache` reuses parsed files and the
    results of unchanged stacks (under the user cache directory)."""
    from ecr_lint.runner import Work

    config = config or Config()
    rules = rules if rules is not None else load_rules([*config.rules_dirs, *rules_dirs])
    rules = select_rules(rules, config)
    paths = list(paths)
    config_dir = [os.path.dirname(os.path.abspath(config.config_file))] if config.config_file else []
    dirs, plans, errors = discover(paths, config.exclude, config_dir)
    roots = tuple(reading_roots([p for p in paths if os.path.exists(p)]))
    work = [Work("hcl", d, roots) for d in stack_roots(dirs)] + [Work("plan", p, roots) for p in plans]
    per_stack = [r for r in rules if not r.cross_stack and not r.builtin]
    outcomes = execute(work, config, per_stack, jobs, cache, progress)
    for outcome in outcomes:
        errors.extend(outcome.errors)
    results = [r for outcome in outcomes for r in outcome.results]
    cross, internal = run_cross_stack(outcomes, [r for r in rules if r.cross_stack], config)
    results += cross
    errors.extend(internal)
    blocks = [span for outcome in outcomes for span in outcome.spans]
    results = suppress.apply(results, blocks, rules, config, today or dt.date.today(), roots)
    if config.baseline:
        known = suppress.read_baseline(config.baseline)
        results = suppress.apply_baseline(results, known, config.baseline)
        errors = suppress.baseline_errors(errors, known)
    secrets = {s for outcome in outcomes for s in outcome.secrets}
    results, errors = redact.redact(results, secrets), redact.redact(errors, secrets)
    # Duplicates dropped keeping the first (a set would make the order of ties depend on the hash
    # seed); the sort key then tells apart everything the output shows.
    results = sorted(dict.fromkeys(results), key=lambda r: (r.file, r.line, r.rule_id, r.address, r.status.value,
                                                             r.message, r.stack))
    errors = sorted(dict.fromkeys(errors), key=lambda e: (e.file, e.line, e.message, e.kind))
    loaded = [o.root for o in outcomes if o.kind == "hcl" or o.resources or not o.errors]
    return Report(results, errors, loaded, rules)


def execute(work: list, config: Config, rules: list[Rule], jobs: int, cache: bool, progress=None) -> list:
    """Run each unit of work: unchanged stacks from the cache (checked here, it is cheap), the
    rest in `jobs` worker processes. Outcomes keep the input order whatever finishes first."""
    from ecr_lint.cache import Store
    from ecr_lint.runner import cached_outcome, run_fingerprint, run_in_worker, run_work, start_worker

    store = Store() if cache else None
    root = store.root if store else None
    fingerprint = run_fingerprint(config, rules) if cache else None
    outcomes: list = [None] * len(work)
    if store is not None:
        for i, item in enumerate(work):
            outcomes[i] = cached_outcome(item, store, fingerprint)
    todo = [i for i, outcome in enumerate(outcomes) if outcome is None]
    done = len(work) - len(todo)
    if progress and done:
        progress(done, len(work), "stacks (cached)")
    if jobs > 1 and len(todo) > 1:
        import concurrent.futures
        import multiprocessing

        context = multiprocessing.get_context("fork") if hasattr(os, "fork") else None
        chunk = max(1, len(todo) // (jobs * 8))
        with concurrent.futures.ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=start_worker,
                                                    initargs=(config, rules, root, fingerprint)) as pool:
            for i, outcome in zip(todo, pool.map(run_in_worker, [work[i] for i in todo], chunksize=chunk)):
                outcomes[i] = outcome
                done += 1
                if progress:
                    progress(done, len(work), "stacks")
    else:
        modules: dict = {}
        for i in todo:
            outcomes[i] = run_work(work[i], config, rules, root, modules, fingerprint)
            done += 1
            if progress:
                progress(done, len(work), "stacks")
    if store is not None and todo:
        store.prune()  # something was linted afresh, so entries were written (by the workers too)
    return outcomes


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
