"""lint(paths) -> Report: what the CLI, the tests and other programs call."""

from __future__ import annotations

import datetime as dt
import os
from typing import Iterable

from ecr_lint import redact, suppress
from ecr_lint.catalog import Rule, load_rules
from ecr_lint.config import Config, repository_root
from ecr_lint.engine import run_cross_stack
from ecr_lint.loaders.module import ModuleConfig, reading_roots
from ecr_lint.loaders.inputs import var_files_by_stack
from ecr_lint.loaders.override import CONFIG_SUFFIXES
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
    """(stack directories, plan files, errors) for the paths given on the command line.

    Every directory below is searched, dot-directories too (Terraform applies a stack in
    `.payments` like any other), except SKIP_DIRS and `exclude`. Nothing is passed over in
    silence: a directory that cannot be read, or a symlinked one that leads out of the paths
    given, is an input error. A symlink to a directory inside them is not followed (the
    directory is searched where it is).
    """
    dirs: list[str] = []
    plans: list[str] = []
    errors: list[InputError] = []
    paths = list(paths)
    bases = (bases or []) + [os.path.abspath(p) for p in paths] + [os.getcwd()]
    inside = [os.path.realpath(p) for p in paths if os.path.isdir(p)]
    for path in paths:
        if not os.path.exists(path):
            errors.append(InputError(path, 0, "no such file or directory"))
        elif os.path.isfile(path):
            if path.endswith((*CONFIG_SUFFIXES, ".tfvars", ".tfvars.json")):
                dirs.append(os.path.dirname(path) or ".")
            else:
                plans.append(path)  # told apart by content: the plan loader says if it is not a plan
        else:
            found, unreadable = _stack_dirs(path, exclude, bases, inside)
            errors.extend(unreadable)
            if not found and not unreadable:
                errors.append(InputError(path, 0, "no .tf files found here (nor .tf.json, .tofu or .tofu.json)"))
            dirs.extend(found)
    unique = list(dict.fromkeys(os.path.normpath(d) for d in dirs))
    return unique, plans, errors


def _stack_dirs(path: str, exclude: tuple[str, ...], bases: list[str],
                inside: list[str]) -> tuple[list[str], list[InputError]]:
    """The directories under `path` that hold .tf files, and the directories that could not be searched.

    A symlinked directory is searched where it really is when that is inside the paths given;
    followed when it leads elsewhere in their repository (as Terraform would); an input error
    when it leads out of both (ecr-lint reads nothing there).
    """
    found: list[str] = []
    errors: list[InputError] = []
    repository = repository_root(os.path.realpath(path))  # never a directory anyone may write to (/tmp)
    repositories = [repository] if repository else []
    followed: set[str] = set()

    def unreadable(exc: OSError) -> None:
        errors.append(InputError(exc.filename or path, 0, f"cannot read this directory ({exc.strerror}): "
                                                          "the stacks in it are not linted"))

    starts = [path]
    while starts:
        start = starts.pop(0)
        for current, subdirs, files in os.walk(start, onerror=unreadable):
            if start is not path:  # through a symlink: never a directory searched already
                real = os.path.realpath(current)
                if real != os.path.realpath(start) and (_under(real, inside) or real in followed):
                    subdirs[:] = []
                    continue
                followed.add(real)
            kept = []
            for name in sorted(subdirs):
                full = os.path.join(current, name)
                if name in SKIP_DIRS or _excluded(full, exclude, bases):
                    continue
                if os.path.islink(full):
                    target = os.path.realpath(full)
                    if _under(target, inside) or target in followed:
                        continue
                    if _under(target, repositories):
                        followed.add(target)
                        starts.append(full)
                    else:
                        errors.append(InputError(full, 0, "symlinked directory leads out of the paths given and "
                                                          "their repository: not read"))
                    continue
                kept.append(name)
            subdirs[:] = kept
            if any(f.endswith(CONFIG_SUFFIXES) and not f.startswith(".") for f in files) \
                    and not _excluded(current, exclude, bases):
                found.append(current)
    return found, errors


def _under(path: str, roots: list[str]) -> bool:
    return any(path == root or path.startswith(root.rstrip(os.sep) + os.sep) for root in roots)


def call_graph(config: Config, roots: tuple[str, ...], modules: dict, store=None):
    """The local module calls between directories, parsed once into `modules` (which the stacks'
    evaluation then reuses, in this process and in forked workers); `store`: the run's cache."""
    from ecr_lint.cache import ParseCache
    from ecr_lint.loaders.calls import CallGraph
    from ecr_lint.loaders.module import load_module

    store = store if store is not None and store.root else None
    parse_file = ParseCache(store) if store else None

    def load(directory: str) -> ModuleConfig:
        if directory not in modules:
            modules[directory] = load_module(directory, parse_file, list(roots), config.max_file_bytes)
        return modules[directory]

    return CallGraph(load, config.max_file_bytes, store, list(roots))


def load_stacks(paths: Iterable[str], config: Config, progress=None,
                cache: bool = False, reading: Iterable[str] = ()) -> tuple[list[Stack], list[InputError]]:
    """Every stack and plan under the paths, loaded (for the graph picture); errors beside.
    `cache`: parsed files from (and into) the user cache, as lint() does. `reading`: more
    directories the stacks may read (as when they were linted with them)."""
    from ecr_lint.cache import ParseCache, Store
    from ecr_lint.loaders.plan import PlanError, load_plan
    from ecr_lint.runner import Work, load_hcl

    paths = list(paths)
    config_dir = [os.path.dirname(os.path.abspath(config.config_file))] if config.config_file else []
    dirs, plans, errors = discover(paths, config.exclude, config_dir)
    roots = tuple(reading_roots([p for p in [*paths, *reading] if os.path.exists(p)]))
    module_cache: dict[str, ModuleConfig] = {}
    stacks: list[Stack] = []
    store = Store() if cache else None
    parse_file = ParseCache(store) if store is not None and store.root else None
    stack_dirs = call_graph(config, roots, module_cache, store).roots(dirs)
    var_files, warnings = stack_var_files(stack_dirs, config)
    errors.extend(warnings)
    for d in stack_dirs:
        stack, inputs, _ = load_hcl(Work("hcl", d, tuple(roots), var_files[os.path.abspath(d)]), config, parse_file,
                                    module_cache)
        errors.extend(inputs.problems)
        stacks.append(stack)
    for plan in plans:
        try:
            stacks.append(load_plan(plan, config.source_root, config.changed_only))
        except PlanError as exc:
            errors.append(InputError(plan, exc.line, exc.message))
    for stack in stacks:
        errors.extend(err for err in redact.redact(stack.errors, redact.stack_masker(stack)) if err not in errors)
    return stacks, errors


def lint(paths: Iterable[str], config: Config | None = None, rules: list[Rule] | None = None,
         rules_dirs: list[str] = (), today: dt.date | None = None, progress=None, jobs: int = 1,
         cache: bool = False, context: Iterable[str] = (), reading: Iterable[str] = (),
         changed: Iterable[str] = ()) -> Report:
    """Lint stacks and plans. `jobs` worker processes; `cache` reuses parsed files and the
    results of unchanged stacks (under the user cache directory). `context`: more stack
    directories, evaluated only for what cross-stack rules need of them (the SSM parameters
    they export and read), their own findings not reported (the pre-commit hook's view of the
    rest of the repository). `reading`: more directories the stacks may read, not linted
    (`ecr-lint fix` lints a few stacks again with the reading roots of the whole run). `changed`:
    files the pre-commit hook was given; a context stack that read one of them (a policy JSON read
    by file(), a template) or listed its directory is reported too."""
    from ecr_lint import baseline as baselines
    from ecr_lint.cache import Store
    from ecr_lint.fingerprint import repository_root
    from ecr_lint.runner import Work

    config = config or Config()
    rules = rules if rules is not None else load_rules([*config.rules_dirs, *rules_dirs])
    rules = select_rules(rules, config)
    paths = list(paths)
    config_dir = [os.path.dirname(os.path.abspath(config.config_file))] if config.config_file else []
    dirs, plans, errors = discover(paths, config.exclude, config_dir)
    context = [d for d in context if os.path.abspath(d) not in {os.path.abspath(x) for x in dirs}]
    roots = tuple(reading_roots([p for p in [*paths, *context, *reading] if os.path.exists(p)]))
    modules: dict[str, ModuleConfig] = {}
    store = Store() if cache else None   # one per run: its trust is checked (and any warning said) once
    graph = call_graph(config, roots, modules, store)
    stack_dirs = graph.roots(dirs)
    context_dirs = [d for d in graph.roots(context) if d not in stack_dirs]
    var_files, warnings = stack_var_files([*stack_dirs, *context_dirs], config)
    errors.extend(warnings)
    work = [Work("hcl", d, roots, var_files[os.path.abspath(d)]) for d in stack_dirs]
    work += [Work("plan", p, roots) for p in plans]
    work += [Work("hcl", d, roots, var_files[os.path.abspath(d)]) for d in context_dirs]
    per_stack = [r for r in rules if not r.cross_stack and not r.builtin]
    outcomes = execute(work, config, per_stack, jobs, store, progress, modules)
    reported = {os.path.abspath(w.path) for w in work[:len(stack_dirs) + len(plans)]}
    touched = {os.path.abspath(p) for p in changed} | {os.path.dirname(os.path.abspath(p)) for p in changed}
    for outcome in outcomes:
        outcome.context = outcome.root not in reported
        if outcome.context and touched & set(outcome.reads):
            outcome.context = False
            reported.add(outcome.root)
    linted = [o for o in outcomes if not o.context]
    for outcome in linted:
        errors.extend(outcome.errors)
    results = [r for outcome in linted for r in outcome.results]
    cross, internal = run_cross_stack(outcomes, [r for r in rules if r.cross_stack], config)
    results += [r for r in cross if r.stack in reported or not r.stack]
    errors.extend(internal)
    results = suppress.apply(results, outcomes, rules, config, today or dt.date.today())
    base = repository_root(paths, config.config_file)
    summary = None
    if config.baseline:
        accepted = baselines.read(config.baseline, config.baseline_since)
        results, stale = baselines.apply(results, accepted, base, config.non_suppressible)
        errors = baselines.mark_known_errors(errors, accepted, base)
        summary = {"file": config.baseline, "entries": len(accepted.findings),
                   "matched": len(accepted.findings) - len(stale), "stale": stale,
                   "since": accepted.since, "added": accepted.added}
    # Duplicates dropped keeping the first (a set would make the order of ties depend on the hash
    # seed); the sort key then tells apart everything the output shows.
    results = sorted(dict.fromkeys(results), key=lambda r: (r.file, r.line, r.rule_id, r.address, r.status.value,
                                                             r.message, r.stack))
    errors = sorted(dict.fromkeys(errors), key=lambda e: (e.file, e.line, e.message, e.kind))
    loaded = [o.root for o in linted if o.kind == "hcl" or o.resources or not o.errors]
    inputs = [{"stack": o.root, **o.inputs} for o in linted if o.inputs]
    return Report(results, errors, loaded, rules, base=base, baseline=summary, inputs=inputs)


def stack_var_files(stack_dirs: list[str], config: Config) -> tuple[dict, list[InputError]]:
    """Each stack's var files (by absolute directory) and the warnings about config entries no stack has."""
    return var_files_by_stack(stack_dirs, config.command_line_var_files(), config.var_files_from_config,
                              config.config_file)


def execute(work: list, config: Config, rules: list[Rule], jobs: int, store, progress=None,
            modules: dict | None = None) -> list:
    """Run each unit of work: unchanged stacks from the cache (checked here, it is cheap), the
    rest in `jobs` worker processes. Outcomes keep the input order whatever finishes first.
    `modules`: module directories already parsed (workers forked from here share them)."""
    modules = {} if modules is None else modules
    from ecr_lint.runner import cached_outcome, run_fingerprint, run_in_worker, run_work, start_worker

    store = store if store is not None and store.root else None  # a cache that is not trusted: not used
    root = store.root if store else None
    fingerprint = run_fingerprint(config, rules) if store else None
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
                                                    initargs=(config, rules, root, fingerprint, modules)) as pool:
            for i, outcome in zip(todo, pool.map(run_in_worker, [work[i] for i in todo], chunksize=chunk)):
                outcomes[i] = outcome
                done += 1
                if progress:
                    progress(done, len(work), "stacks")
    else:
        for i in todo:
            outcomes[i] = run_work(work[i], config, rules, store, modules, fingerprint)
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
    if any(not e.baselined and e.kind != "warning" for e in report.errors):
        return 2
    if fail_on == "never":
        return 0
    threshold = Severity.parse(fail_on)
    if any(r.severity >= threshold for r in report.findings):
        return 1
    return 0
