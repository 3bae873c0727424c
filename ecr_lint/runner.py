"""One unit of work (a stack or a plan -> its results), cached and run in worker processes.

A unit's Outcome is everything the report needs from it: results of the per-stack rules,
input errors, where suppressions may sit, and the SSM parameters it exports and reads (for the
cross-stack rule). It is plain data, so it can be cached as JSON and sent back from a worker
process. Its messages are masked (ecr_lint/redact.py) before it leaves the unit: no sensitive
value reaches the parent process, the cache or any output.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ecr_lint import __version__
from ecr_lint.config import Config
from ecr_lint.loaders.annotations import Annotation
from ecr_lint.model import InputError, Origin, Result, Severity, Status, Unknown
from ecr_lint.predicates.crossstack import Parameter
from ecr_lint.sensitive import is_marked

if TYPE_CHECKING:
    from ecr_lint.cache import Store

@dataclass
class Outcome:
    root: str
    kind: str                                             # "hcl" or "plan"
    results: list[Result] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)
    spans: list[tuple[str, int, int, str]] = field(default_factory=list)
    exports: list[Parameter] = field(default_factory=list)
    imports: list[Parameter] = field(default_factory=list)
    resources: int = 0
    annotations: list = field(default_factory=list)       # loaders.annotations.Annotation
    workspace: str = "default"
    inputs: dict = field(default_factory=dict)  # its workspace and what set its variables (names, never values)
    context: bool = False   # linted only for what other stacks need of it (pre-commit): its own results are dropped
    reads: tuple = ()       # HCL: every file it read or asked about and every directory it listed (absolute)


@dataclass(frozen=True)
class Work:
    kind: str          # "hcl" or "plan"
    path: str
    roots: tuple[str, ...]
    var_files: tuple = ()   # loaders.inputs.VarFile: this stack's var files, in order


def outcome_of(stack: Any, results: list[Result], errors: list[InputError]) -> Outcome:
    from ecr_lint import redact
    from ecr_lint.predicates.crossstack import ssm_summary

    exports, imports = ssm_summary(stack)
    spans = [(r.span.file, r.span.line, r.span.end_line, r.address) for r in stack.resources]
    spans += [(o.file, o.line, o.end_line, r.address) for r in stack.resources for o in r.overrides]
    spans += [(u.file, u.line, u.line, u.address) for u in stack.unresolved]
    spans += list(stack.module_calls)
    masker = redact.stack_masker(stack)
    return Outcome(stack.root, stack.source, redact.redact(results, masker), redact.redact(errors, masker), spans,
                   exports, imports, len(stack.resources), list(stack.annotations), stack.workspace)


def cacheable(outcome: Outcome) -> bool:
    """An SSM parameter name from a sensitive value is kept (marked) for the cross-stack rule, which
    needs the name itself: such an outcome is never written to disk."""
    return not any(is_marked(p.name) for p in outcome.exports + outcome.imports)


# --- the work itself (runs in a worker process when --jobs > 1) ---------------------------------

_WORKER: dict = {}   # in a worker process: this run's settings, rules and parsed modules


def start_worker(config: Config, rules: list, cache_root: str | None, fingerprint: str | None,
                 modules: dict | None = None) -> None:
    """Pool initializer: settings and rules arrive once per worker, not with every stack; so do
    the module directories the parent parsed to find module calls (inherited when forked)."""
    from ecr_lint.cache import Store

    _WORKER.clear()
    store = Store(cache_root) if cache_root else None  # opened and checked once per worker
    _WORKER.update(config=config, rules=rules, cache_root=store, fingerprint=fingerprint,
                   modules=dict(modules or {}))


def run_in_worker(work: Work) -> Outcome:
    return run_work(work, _WORKER["config"], _WORKER["rules"], _WORKER["cache_root"], _WORKER["modules"],
                    _WORKER["fingerprint"])


def cached_outcome(work: Work, store: Any, fingerprint: str) -> Outcome | None:
    """The stack's results from the cache, if every file it read is unchanged."""
    if work.kind != "hcl":
        return None
    from ecr_lint.loaders.reader import holds

    cached = store.get("stack", stack_key(work, fingerprint))
    if not isinstance(cached, dict) or not holds(cached.get("manifest"), os.path.abspath(work.path)):
        return None
    try:
        outcome = decode_outcome(cached["outcome"])
    except (KeyError, TypeError, ValueError):
        return None  # corrupt: lint again and rewrite
    outcome.reads = reads_of(cached["manifest"])
    return outcome


def reads_of(manifest: dict) -> tuple:
    """What a stack's result depends on, from its manifest (loaders/reader.py): the files read or
    asked about, the directories listed and the bases of the globs matched (a file added there
    may change it). The pre-commit hook lints a stack again when one of these changed."""
    globs = [json.loads(key)[0] for key in manifest.get("globs", {})]
    return tuple(sorted({*manifest.get("files", {}), *manifest.get("exists", {}), *manifest.get("dirs", {}), *globs}))


def run_work(work: Work, config: Config, rules: list, cache_root: "str | Store | None",
             modules: dict | None = None, fingerprint: str | None = None) -> Outcome:
    """Lint one stack or plan. `modules` shares parsed module directories between the stacks of
    one run (a fresh dict per run: files may change between runs of a long-lived process).
    `cache_root` is the cache directory, or an open Store."""
    modules = {} if modules is None else modules
    from ecr_lint.cache import ParseCache, Store
    from ecr_lint.engine import run_per_stack

    store = cache_root if isinstance(cache_root, Store) or cache_root is None else Store(cache_root)
    store = store if store is not None and store.root is not None else None
    if work.kind == "plan":
        from ecr_lint.loaders.plan import PlanError, load_plan

        try:
            stack = load_plan(work.path, config.source_root, config.changed_only)
        except PlanError as exc:
            return Outcome(os.path.abspath(work.path), "plan", errors=[InputError(work.path, exc.line, exc.message)])
        results, internal = run_per_stack([stack], rules, config)
        outcome = outcome_of(stack, results, list(stack.errors) + internal)
        outcome.inputs = {"sources": [{"kind": "plan", "file": os.path.abspath(work.path),
                                       "variables": sorted(stack.variables)}]}
        return outcome
    # Results are cached before suppressions and the baseline: those are applied fresh every run.
    # The caller (api.execute) has already answered cache hits, so this is a miss: lint it.
    fingerprint = fingerprint or (run_fingerprint(config, rules) if store else None)
    key = stack_key(work, fingerprint) if store else None
    stack, inputs, manifest = load_hcl(work, config, ParseCache(store) if store else None, modules)
    results, internal = run_per_stack([stack], rules, config)
    outcome = outcome_of(stack, results, inputs.problems + list(stack.errors) + internal)
    outcome.inputs = inputs_summary(stack, inputs)
    outcome.reads = reads_of(manifest)
    if store and not internal and cacheable(outcome):
        store.put("stack", key, {"manifest": manifest, "outcome": encode_outcome(outcome)})
    return outcome


def load_hcl(work: Work, config: Config, parse_file, modules: dict) -> tuple[Any, Any, dict]:
    """The stack, its inputs (loaders.inputs.RootInputs: values, problems, sources), and the
    manifest of everything it read."""
    from ecr_lint.loaders.reader import Reader
    from ecr_lint.loaders.evaluation import StackLoader
    from ecr_lint.loaders.inputs import environment_values, root_inputs, workspace_source

    reader = Reader(reading_roots_of(work, config))
    workspace, source = workspace_source(work.path, config.workspace)
    loader = StackLoader(work.path, {}, list(work.roots), parse_file=parse_file, module_cache=modules,
                         max_file_bytes=config.max_file_bytes, reader=reader, workspace=workspace)
    # TF_VAR_ and --var values are parsed by their declared type: the declarations come first.
    declared = loader.config(loader.root_dir).variables
    inputs = root_inputs(work.path, declared, work.var_files, config.variables,
                         environment_values(config.tf_var_env), reader)
    loader.root_variables = inputs.values
    loader.input_origins = inputs.origins  # where each was set, for the origins of findings
    stack = loader.load()
    stack.workspace_from = source
    return stack, inputs, reader.record.to_json(reader.roots)


def inputs_summary(stack: Any, inputs: Any) -> dict:
    """For the report: the workspace and where it came from, and what set the variables."""
    return {"workspace": {"name": stack.workspace, "from": stack.workspace_from},
            "sources": inputs.sources}


def reading_roots_of(work: Work, config: Config) -> Any:
    """What a stack may read: the linted paths and their repositories (work.roots), the stack's
    own directory, and the var files named on the command line."""
    from ecr_lint.loaders.files import Roots

    return Roots((*work.roots, work.path), config.command_line_var_files())


# --- the result cache: valid while everything the stack read is unchanged (loaders/files.py) ---------

def stack_key(work: Work, fingerprint: str) -> str:
    from ecr_lint.loaders.inputs import workspace_source

    # The workspace may come from the environment or .terraform/environment, not the settings; and
    # whether it was given at all changes verdicts (predicates/environment.py).
    text = json.dumps([fingerprint, os.path.abspath(work.path), list(work.roots), workspace_source(work.path),
                       [[v.path, v.via] for v in work.var_files]])
    return hashlib.sha256(text.encode()).hexdigest()


def run_fingerprint(config: Config, rules: list) -> str:
    """What every stack's results depend on besides its files: tool, code, settings, rules, TF_VAR_
    environment variables. Computed once per run."""
    from ecr_lint.loaders.inputs import environment_values
    settings = {f.name: _plain(getattr(config, f.name)) for f in dataclasses.fields(config)
                if f.name not in ("fail_on", "baseline", "baseline_since", "config_file", "source_root",
                                  "changed_only")}
    rule_files = []
    for rule in rules:
        with open(rule.file, "rb") as handle:
            check = getattr(rule.predicate, "__qualname__", "schema")
            rule_files.append((rule.id, hashlib.sha256(handle.read()).hexdigest(),
                               f"{getattr(rule.predicate, '__module__', '')}.{check}",
                               getattr(rule.predicate, "fingerprint", "")))  # a plugin's version and files
    # TF_VAR_ values feed every stack: hashed, so that no value is kept in clear.
    env = hashlib.sha256(json.dumps(environment_values(config.tf_var_env)).encode()).hexdigest()
    text = json.dumps({"tool": __version__, "code": code_fingerprint(), "settings": settings, "rules": rule_files,
                       "env": env}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


_CODE: list[str] = []


def code_fingerprint() -> str:
    """ecr-lint's own code and data, by name, size and modification time (cheaper than reading
    them): results cached by another build are not reused."""
    if not _CODE:
        digest = hashlib.sha256()
        package = os.path.dirname(os.path.abspath(__file__))
        for current, dirs, files in sorted(os.walk(package)):
            dirs.sort()
            for name in sorted(files):
                if name.endswith((".py", ".json", ".yaml")):
                    stat = os.stat(os.path.join(current, name))
                    digest.update(f"{current}/{name}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
        _CODE.append(digest.hexdigest())
    return _CODE[0]


def _plain(value: Any) -> Any:
    if isinstance(value, (frozenset, set)):
        return sorted(value)
    if isinstance(value, tuple):
        return list(value)
    return value


# --- Outcome <-> JSON ------------------------------------------------------------------------------

def encode_outcome(outcome: Outcome) -> dict:
    return {
        "root": outcome.root, "kind": outcome.kind, "resources": outcome.resources,
        "results": [[r.rule_id, r.address, r.status.value, r.message, int(r.severity), r.file, r.line, r.stack,
                     [_encode_origin(o) for o in r.origins]] for r in outcome.results],
        "errors": [[e.file, e.line, e.message, e.kind] for e in outcome.errors],
        "spans": [list(s) for s in outcome.spans],
        "exports": [_encode_parameter(p) for p in outcome.exports],
        "imports": [_encode_parameter(p) for p in outcome.imports],
        "annotations": [[a.file, a.line, a.text, list(a.block) if a.block else None, a.at_start]
                        for a in outcome.annotations],
        "workspace": outcome.workspace,
        "inputs": outcome.inputs,
    }


def decode_outcome(data: dict) -> Outcome:
    return Outcome(
        root=data["root"], kind=data["kind"], resources=data["resources"],
        results=[Result(i, a, Status(s), m, Severity(v), f, line, st, origins=tuple(_decode_origin(o) for o in origins))
                 for i, a, s, m, v, f, line, st, origins in data["results"]],
        errors=[InputError(f, line, m, k) for f, line, m, k in data["errors"]],
        spans=[tuple(s) for s in data["spans"]],
        exports=[_decode_parameter(p) for p in data["exports"]],
        imports=[_decode_parameter(p) for p in data["imports"]],
        annotations=[Annotation(f, line, text, tuple(block) if block else None, bool(at_start))
                     for f, line, text, block, at_start in data["annotations"]],
        workspace=str(data["workspace"]),
        inputs=dict(data["inputs"]),
    )


def _encode_origin(o: Origin) -> list:
    return [o.file, o.line, o.what, o.kind, list(o.block), list(o.attribute), [list(s) for s in o.steps], o.end, o.key,
            o.head]


def _decode_origin(data: list) -> Origin:
    file, line, what, kind, block, attribute, steps, end, key, head = data
    return Origin(str(file), int(line), str(what), str(kind), tuple(block), tuple(attribute),
                  tuple(tuple(s) for s in steps), str(end), str(key), int(head))


def _encode_parameter(p: Parameter) -> list:
    name = {"unknown": p.name.reason} if isinstance(p.name, Unknown) else p.name
    return [name, p.stack, p.address, p.file, p.line]


def _decode_parameter(data: list) -> Parameter:
    name, stack, address, file, line = data
    if isinstance(name, dict):
        name = Unknown(name["unknown"])
    return Parameter(name, stack, address, file, line)

