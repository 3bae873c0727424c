"""ECR016: stacks linked through SSM parameters: every /shared/ read has a producer, and no cycle."""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass
from typing import Any, Iterator

from ecr_lint.hcl.evaluate import plain
from ecr_lint.model import Severity, Status, Unknown, Verdict
from ecr_lint.sensitive import shown

SHARED_PREFIX = "/shared/"


@dataclass(frozen=True)
class Parameter:
    name: Any            # str, or Unknown
    stack: str
    address: str
    file: str
    line: int


def ssm_summary(stack: Any) -> tuple[list[Parameter], list[Parameter]]:
    """(what the stack exports, what it reads) under SSM."""
    exports, imports = [], []
    for res in stack.of_type("aws_ssm_parameter"):
        param = Parameter(plain(res.attributes.get("name")), stack.root, res.address, res.span.file, res.span.line)
        (imports if res.mode == "data" else exports).append(param)
    return exports, imports


def stack_dependencies(units: list) -> tuple[dict, list[Parameter], list[Parameter]]:
    """consumer stack -> {producer stack: [parameter names]}, and all exports and imports.

    `units` have .exports and .imports (runner.Outcome); loaded Stacks are summarised here.
    """
    all_exports, all_imports = [], []
    for unit in units:
        exports, imports = (unit.exports, unit.imports) if hasattr(unit, "exports") else ssm_summary(unit)
        all_exports += exports
        all_imports += imports
    producers: dict[str, set[str]] = {}
    for param in all_exports:
        if isinstance(param.name, str):
            producers.setdefault(param.name, set()).add(param.stack)
    edges: dict[str, dict[str, list[str]]] = {}
    for param in all_imports:
        if isinstance(param.name, str):
            for producer in producers.get(param.name, ()):
                if producer != param.stack:
                    edges.setdefault(param.stack, {}).setdefault(producer, []).append(param.name)
    return edges, all_exports, all_imports


def _short(path: str) -> str:
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


def cross_stack_ssm(stacks: list, config: Any) -> Iterator[Any]:
    from ecr_lint.engine import Located

    edges, exports, imports = stack_dependencies(stacks)
    exported = {p.name for p in exports if isinstance(p.name, str)}
    external = tuple(getattr(config, "ssm_external", ()) or ())
    yield from _two_producers(exports)
    for param in imports:
        if isinstance(param.name, Unknown):
            verdict = _unknown_read(param.name, exported, external)
            if verdict is not None:
                yield Located(param.address, param.file, param.line, verdict, param.stack)
            continue
        if not isinstance(param.name, str) or not param.name.startswith(SHARED_PREFIX):
            continue
        if param.name in exported:
            producers = sorted({_short(p.stack) for p in exports if p.name == param.name})
            yield Located(param.address, param.file, param.line,
                          Verdict(Status.PASS, f"{param.name} is exported by {', '.join(producers)}"), param.stack)
        elif any(fnmatch.fnmatch(param.name, pattern) for pattern in external):
            yield Located(param.address, param.file, param.line,
                          Verdict(Status.PASS, f"{param.name} is provided outside the linted stacks (ssm_external)"),
                          param.stack)
        else:
            yield Located(param.address, param.file, param.line, Verdict(
                Status.FAIL, f"no linted stack exports {param.name}: the producer is missing (lint it together, or "
                "list the parameter in ssm_external)", severity=Severity.WARNING), param.stack)
    for cycle in _cycles(edges):
        first = next(p for p in imports if p.stack == cycle[0] and isinstance(p.name, str)
                     and p.name in edges.get(cycle[0], {}).get(cycle[1 % len(cycle)], []))
        hops = " -> ".join(_short(s) for s in cycle + [cycle[0]])
        via = ", ".join(sorted({shown(n) for i, s in enumerate(cycle) for n in edges[s][cycle[(i + 1) % len(cycle)]]}))
        yield Located(first.address, first.file, first.line, Verdict(
            Status.FAIL, f"stacks depend on each other through SSM: {hops} (via {via}); neither can be deployed "
            "first", severity=Severity.ERROR), first.stack)


def _two_producers(exports: list[Parameter]) -> Iterator[Any]:
    """One SSM parameter written by two resources: the last apply wins, and its consumers read
    whichever stack ran last. Each writer gets the error, naming the others."""
    from ecr_lint.engine import Located

    writers: dict[str, list[Parameter]] = {}
    for param in exports:
        if isinstance(param.name, str):
            writers.setdefault(param.name, []).append(param)
    for name, params in sorted(writers.items()):
        unique = {(p.stack, p.address): p for p in params}
        if len(unique) < 2:
            continue
        for key, param in sorted(unique.items()):
            others = ", ".join(f"{o.address} in {_short(o.stack)}" for k, o in sorted(unique.items()) if k != key)
            yield Located(param.address, param.file, param.line, Verdict(
                Status.FAIL, f"{name} is also written by {others}: the last apply wins, and consumers read "
                "whichever stack ran last (give each export its own name)", severity=Severity.ERROR), param.stack)


def _unknown_read(name: Unknown, exported: set[str], external: tuple[str, ...]) -> Verdict | None:
    """A read whose name is partly known: decided when its known prefix settles it."""
    from ecr_lint.policy.iam import PLACEHOLDER

    prefix = PLACEHOLDER.split(name.partial, 1)[0] if isinstance(name.partial, str) else ""
    if not (prefix.startswith(SHARED_PREFIX) or SHARED_PREFIX.startswith(prefix)):
        return None  # not under /shared/, whatever the rest is: not a cross-stack read
    if prefix.startswith(SHARED_PREFIX) and not any(n.startswith(prefix) for n in exported) and not any(
            _glob_may_start_with(pattern, prefix) for pattern in external):
        return Verdict(Status.FAIL, f"no linted stack exports a parameter under {prefix} (the name is "
                       f"{name.partial}): the producer is missing (lint it together, or list the parameter in "
                       "ssm_external)", severity=Severity.WARNING)
    return Verdict(Status.UNKNOWN, f"cannot tell which parameter it reads: {name.reason}")


def _glob_may_start_with(pattern: str, prefix: str) -> bool:
    """Whether some name matching the glob starts with `prefix` (its literal head decides)."""
    head = pattern
    for i, ch in enumerate(pattern):
        if ch in "*?[":
            head = pattern[:i]
            break
    else:
        return pattern.startswith(prefix)
    return head.startswith(prefix) or prefix.startswith(head)


def _cycles(edges: dict) -> list[list[str]]:
    if not edges:
        return []  # nothing links stacks: no need for networkx (slow to import)
    import networkx as nx

    graph = nx.DiGraph()
    for consumer, producers in edges.items():
        for producer in producers:
            graph.add_edge(consumer, producer)
    cycles = [sorted_cycle(c) for c in nx.simple_cycles(graph)]
    return sorted(cycles)


def sorted_cycle(cycle: list[str]) -> list[str]:
    """The same cycle always starts at its smallest stack, so output is stable."""
    start = cycle.index(min(cycle))
    return cycle[start:] + cycle[:start]
