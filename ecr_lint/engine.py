"""Run rules over stacks: select resources, evaluate checks, turn verdicts into results."""

from __future__ import annotations

import traceback
from dataclasses import dataclass, field, replace
from typing import Any, Iterator

from ecr_lint.catalog import Rule
from ecr_lint.config import Config
from ecr_lint.hcl.evaluate import plain
from ecr_lint.model import InputError, Resource, Result, Severity, Status, Unknown, Verdict
from ecr_lint.stack import Stack, taggable_types


@dataclass(frozen=True)
class Located:
    """A verdict from a stack-level check about something that is not a Resource."""

    address: str
    file: str
    line: int
    verdict: Verdict
    stack: str = ""       # for cross-stack checks: the stack the verdict is about


@dataclass
class RuleContext:
    """What a predicate may look at besides the resource itself."""

    stack: Stack
    config: Config
    _memo: dict = field(default_factory=dict)

    @property
    def graph(self) -> Any:
        return self.stack.graph

    def memo(self, key: str, compute):
        """A per-stack index a predicate builds once and reuses for every resource."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]


def run_cross_stack(stacks: list, rules: list[Rule], config: Config) -> tuple[list[Result], list[InputError]]:
    """Rules that look across every stack linted together (they get each stack's summary)."""
    results: list[Result] = []
    internal: list[InputError] = []
    for rule in rules:
        severity = Severity.parse(config.severity[rule.id]) if rule.id in config.severity else rule.severity
        try:
            for located in rule.predicate(stacks, config):
                results.append(_result(rule, severity, located.address, located.file, located.line,
                                       located.verdict, config, located.stack))
        except Exception as exc:
            internal.append(_crash(rule, "the linted stacks", exc))
    return results, internal


def _crash(rule: Rule, where: str, exc: Exception) -> InputError:
    frame = traceback.extract_tb(exc.__traceback__)[-1]
    return InputError(rule.file, 0, f"rule {rule.id} crashed on {where}: {type(exc).__name__}: {exc} "
                      f"(at {frame.filename}:{frame.lineno})", kind="internal")


def run_per_stack(stacks: list, rules: list[Rule], config: Config) -> tuple[list[Result], list[InputError]]:
    results: list[Result] = []
    internal: list[InputError] = []
    taggable = taggable_types()
    for stack in stacks:
        ctx = RuleContext(stack, config)
        for rule in rules:
            if rule.builtin:
                continue  # applied after the checks (suppress.py)
            severity = Severity.parse(config.severity[rule.id]) if rule.id in config.severity else rule.severity
            try:
                if rule.stack_level:
                    for located in rule.predicate(stack, ctx):
                        results.append(_result(rule, severity, located.address, located.file, located.line,
                                               located.verdict, config, stack.root))
                    continue
                for resource in stack.resources:
                    if rule.applies_to(resource, taggable):
                        results.extend(_check_resource(rule, severity, resource, ctx))
            except Exception as exc:  # a crashing rule is reported, and the run goes on
                internal.append(_crash(rule, stack.root, exc))
    return results, internal


def _check_resource(rule: Rule, severity: Severity, resource: Resource, ctx: RuleContext) -> Iterator[Result]:
    verdicts = list(_schema_check(rule, resource) if rule.schema is not None else rule.predicate(resource, ctx) or ())
    failures = [v for v in verdicts if v.status is Status.FAIL]
    unknowns = [v for v in verdicts if v.status is Status.UNKNOWN]
    chosen = failures or unknowns[:1] or [next((v for v in verdicts if v.message), Verdict(Status.PASS, ""))]
    tracer = ctx.stack.tracer
    for verdict in chosen:
        line = resource.line_of(verdict.attribute)
        origins = tracer(resource, verdict) if tracer is not None and verdict.status is not Status.PASS else ()
        if origins and origins[0].file == resource.span.file and origins[0].line:
            # The smallest span in the block: the `ecr:*` line, not `policy = ...` (kept as `head`:
            # where the finding was pointed before, which line-based suppressions may name).
            origins = (replace(origins[0], head=line),) + origins[1:]
            line = origins[0].line
        yield _result(rule, severity, resource.address, resource.span.file, line, verdict, ctx.config,
                      resource.stack, origins)


def _result(rule: Rule, severity: Severity, address: str, file: str, line: int, verdict: Verdict,
            config: Config, stack: str, origins: tuple = ()) -> Result:
    status = verdict.status
    if verdict.severity is not None and rule.id not in config.severity:
        severity = verdict.severity
    if status is Status.UNKNOWN:
        if config.unknown_values == "pass":
            status = Status.PASS
        severity = Severity.ERROR if config.unknown_values == "error" else Severity.WARNING
    return Result(rule.id, address, status, verdict.message, severity, file, line, stack, origins=origins)


_UNKNOWN_MARK = "\x00unknown\x00"


def _schema_check(rule: Rule, resource: Resource) -> Iterator[Verdict]:
    """A rule whose check is a JSON Schema over the resource's evaluated attributes."""
    from ecr_lint.schemacheck import certainly_valid

    unknown_reasons: dict[str, str] = {}
    document = _jsonable(resource.attributes, unknown_reasons)
    if certainly_valid(rule.schema, document):
        return
    from ecr_lint.ruleschema import validator  # offline $refs, RE2 regexes

    for error in validator(rule.schema).iter_errors(document):
        attribute = ".".join(str(p) for p in error.absolute_path if not isinstance(p, int)) or None
        if error.validator == "required" and isinstance(error.instance, dict):
            # the attribute that is absent (for its origin: where `ecr-lint fix` adds it)
            absent = [p for p in error.validator_value if p not in error.instance]
            attribute = ".".join(filter(None, [attribute, str(absent[0]) if absent else None])) or None
        if error.validator != "required" and _mentions_unknown(error.instance):
            reason = next(iter(unknown_reasons.values()), "a value is unknown")
            reason = unknown_reasons.get(attribute or "", reason)
            yield Verdict(Status.UNKNOWN, f"{rule.schema_message}: cannot tell, {reason}", attribute)
        else:
            yield Verdict(Status.FAIL, f"{rule.schema_message} ({attribute or 'resource'}: {error.message})", attribute)


def _jsonable(value: Any, reasons: dict[str, str], path: str = "") -> Any:
    value = plain(value)
    if isinstance(value, Unknown):
        reasons[path] = value.reason
        return _UNKNOWN_MARK
    if isinstance(value, dict):
        return {k: _jsonable(v, reasons, f"{path}.{k}" if path else k) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v, reasons, path) for v in value]
    return value


def _mentions_unknown(instance: Any) -> bool:
    if instance == _UNKNOWN_MARK:
        return True
    if isinstance(instance, dict):
        return any(_mentions_unknown(v) for v in instance.values())
    if isinstance(instance, list):
        return any(_mentions_unknown(v) for v in instance)
    return False
