"""Run rules over stacks: select resources, evaluate checks, turn verdicts into results."""

from __future__ import annotations

import traceback
from dataclasses import dataclass, field, replace
from typing import Any, Iterator

from ecr_lint.catalog import Rule
from ecr_lint.config import Config
from ecr_lint.model import InputError, Resource, Result, Severity, Status, Verdict
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


def _crash(rule: Rule, where: str, exc: BaseException) -> InputError:
    from ecr_lint.plugin import PluginError

    frames = traceback.extract_tb(exc.__traceback__)
    at = f" (at {frames[-1].filename}:{frames[-1].lineno})" if frames and not isinstance(exc, PluginError) else ""
    plugin = getattr(rule.predicate, "name", None)   # a predicate from an installed package (plugin.py)
    who = f"rule {rule.id} (plugin {plugin})" if plugin else f"rule {rule.id}"
    return InputError(rule.file, 0, f"{who} crashed on {where}: {type(exc).__name__}: {exc}{at}", kind="internal")


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
            where = stack.root
            try:
                if rule.stack_level:
                    for located in rule.predicate(stack, ctx):
                        results.append(_result(rule, severity, located.address, located.file, located.line,
                                               located.verdict, config, stack.root))
                    continue
                for resource in stack.resources:
                    if rule.applies_to(resource, taggable):
                        where = f"{resource.address} in {stack.root}"
                        results.extend(_check_resource(rule, severity, resource, ctx))
            except (Exception, SystemExit) as exc:  # a crashing rule is reported, and the run goes on
                internal.append(_crash(rule, where, exc))
    return results, internal


def _check_resource(rule: Rule, severity: Severity, resource: Resource, ctx: RuleContext) -> Iterator[Result]:
    if rule.schema is not None:
        verdicts = list(_schema_check(rule, resource))
    elif rule.condition is not None:
        verdicts = [_condition_check(rule, resource, ctx)]
    else:
        verdicts = list(rule.predicate(resource, ctx) or ())
    failures = [v for v in verdicts if v.status is Status.FAIL]
    unknowns = [v for v in verdicts if v.status is Status.UNKNOWN]
    chosen = failures or unknowns[:1] or [next((v for v in verdicts if v.message), Verdict(Status.PASS, ""))]
    tracer = ctx.stack.tracer
    for verdict in chosen:
        file, line = resource.location_of(verdict.attribute)  # an override file's, where it set the attribute
        origins = tracer(resource, verdict) if tracer is not None and verdict.status is not Status.PASS else ()
        if origins and origins[0].file == file and origins[0].line:
            # The smallest span in the block: the `ecr:*` line, not `policy = ...` (kept as `head`:
            # where the finding was pointed before, which line-based suppressions may name).
            origins = (replace(origins[0], head=line),) + origins[1:]
            line = origins[0].line
        yield _result(rule, severity, resource.address, file, line, verdict, ctx.config, resource.stack, origins)


def _result(rule: Rule, severity: Severity, address: str, file: str, line: int, verdict: Verdict,
            config: Config, stack: str, origins: tuple = ()) -> Result:
    status = verdict.status
    if verdict.severity is not None and rule.id not in config.severity:
        severity = verdict.severity
    if status is Status.UNKNOWN:
        if config.unknown_values == "pass":
            status = Status.PASS
        # "fail" (the default): an unknown counts as the failure it may be, at the rule's severity;
        # "error"/"warning": at that severity whatever the rule's.
        if config.unknown_values != "fail":
            severity = Severity.ERROR if config.unknown_values == "error" else Severity.WARNING
    return Result(rule.id, address, status, verdict.message, severity, file, line, stack, origins=origins)


def _schema_check(rule: Rule, resource: Resource) -> Iterator[Verdict]:
    """A rule whose check is a JSON Schema over the resource's evaluated attributes."""
    from ecr_lint.ruleschema import violations  # offline $refs, RE2 regexes, three-valued

    for violation in violations(rule.schema, resource.attributes):
        if violation.undecided is not None:
            yield Verdict(Status.UNKNOWN, f"{rule.schema_message}: cannot tell, {violation.undecided}",
                          violation.attribute)
        else:
            yield Verdict(Status.FAIL, f"{rule.schema_message} ({violation.attribute or 'resource'}: "
                          f"{violation.message})", violation.attribute)


def _condition_check(rule: Rule, resource: Resource, ctx: RuleContext) -> Verdict:
    """A relational rule (ecr_lint/relations.py): `when` says where it applies, `condition` what must hold."""
    from ecr_lint.relations import Outcome, evaluate

    applies = evaluate(rule.when, resource, ctx) if rule.when is not None else Outcome(True, "")
    if applies.state is False:
        return Verdict(Status.PASS, f"does not apply: {applies.text}" if applies.text else "does not apply")
    outcome = evaluate(rule.condition, resource, ctx)
    if outcome.state is True:
        return Verdict(Status.PASS, outcome.text)
    if applies.state is None:  # it fails or cannot be told where the rule may apply
        return Verdict(Status.UNKNOWN, f"{rule.schema_message}: cannot tell whether the rule applies: {applies.text}")
    if outcome.state is None:
        return Verdict(Status.UNKNOWN, f"{rule.schema_message}: cannot tell: {outcome.text}")
    return Verdict(Status.FAIL, f"{rule.schema_message} ({outcome.text})" if outcome.text else rule.schema_message)
