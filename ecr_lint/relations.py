"""Relational conditions of team rules: related resources along graph edges or matched by value, three-valued.

A rule's `check.condition` (rules/rule.schema.json) is compiled once, when the rule file is
loaded, into the small frozen values below, and evaluated for each selected resource into an
Outcome: True, False or None (cannot tell), with the words that say why. Kleene logic joins
them: a False part decides `all_of` and a True part decides `any_of` whatever else is unknown,
so what is decidable is decided (no candidate of a type at all: nothing exists, whatever the
unknowns).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

from ecr_lint import ruleschema
from ecr_lint.model import Ref, Resource, Unknown
from ecr_lint.predicates.common import may_be, plain


@dataclass(frozen=True)
class Outcome:
    state: bool | None   # None: cannot tell
    text: str            # why (for None: the reason it cannot be told)


# --- the compiled condition --------------------------------------------------------------------


@dataclass(frozen=True)
class Match:
    """The related resource's `related` value equals (or is the start of) this resource's `this` value."""

    related: str
    this: str
    op: str = "equals"       # or "starts_with": this value starts with the related one
    or_absent: bool = False  # a related value that is not set matches (a filter that is absent covers all)


@dataclass(frozen=True)
class Relation:
    type: str
    mode: str                          # "managed" or "data"
    refers_to_this: str | None = None        # an attribute of the related resource refers to this one
    referred_to_by_this: str | None = None   # an attribute of this resource refers to the related one
    each: str | None = None            # blocks of the related resource that `match` and `where` look at
    match: tuple[Match, ...] = ()
    where: dict | None = None          # a JSON Schema over the related resource (or block)
    low: int = 1                       # how many related resources make it true: low..high
    high: int | None = None
    kind: str = "exists"               # exists | not_exists | count (for the words)

    @property
    def name(self) -> str:
        return f"data.{self.type}" if self.mode == "data" else self.type

    def phrase(self) -> str:
        """The relation in words: "aws_x that refers to it through repository and whose ..."."""
        edges = []
        if self.refers_to_this:
            edges.append(f"that refers to it through {self.refers_to_this}")
        if self.referred_to_by_this:
            edges.append(f"that it refers to through {self.referred_to_by_this}")
        values = []
        for m in self.match:
            verb = "is the start of" if m.op == "starts_with" else "is"
            values.append(f"whose {m.related} {verb} its {m.this}" + (" (or is not set)" if m.or_absent else ""))
        if self.where is not None:
            values.append("that has the attributes the rule asks for")
        if self.each and values:
            edges.append(f"with a {self.each} block {' and '.join(values)}")
        else:
            edges.extend(values)
        return " ".join([self.name, " and ".join(edges)]).strip()


@dataclass(frozen=True)
class Condition:
    op: str                 # all_of | any_of | not | attributes | production | related
    parts: tuple["Condition", ...] = ()
    schema: dict | None = None
    production: bool = True
    relation: Relation | None = None


class ConditionError(ValueError):
    """A condition the schema lets through but that cannot work; `field` is its dotted path."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")


def compile_condition(data: dict, field: str) -> Condition:
    """A validated `condition` mapping -> Condition; its schemas are checked as rule schemas are."""
    [(op, value)] = data.items()
    where = f"{field}.{op}"
    if op in ("all_of", "any_of"):
        return Condition(op, tuple(compile_condition(item, f"{where}.{i}") for i, item in enumerate(value)))
    if op == "not":
        return Condition(op, (compile_condition(value, where),))
    if op == "attributes":
        _check_schema(value, where)
        return Condition(op, schema=value)
    if op == "production":
        return Condition(op, production=bool(value))
    return Condition("related", relation=_relation(op, value, where))


def _relation(kind: str, data: dict, field: str) -> Relation:
    mode, type_ = ("data", data["type"][5:]) if data["type"].startswith("data.") else ("managed", data["type"])
    if data.get("where") is not None:
        _check_schema(data["where"], f"{field}.where")
    low, high = {"exists": (1, None), "not_exists": (1, None)}.get(kind, (data.get("min", 0), data.get("max")))
    if high is not None and low > high:
        raise ConditionError(f"{field}.max", f"{high} is less than min {low}")
    matches = tuple(Match(m["related"], m["this"], m.get("op", "equals"), bool(m.get("or_absent")))
                    for m in data.get("match", ()))
    return Relation(type_, mode, data.get("refers_to_this"), data.get("referred_to_by_this"), data.get("each"),
                    matches, data.get("where"), low, high, kind)


def _check_schema(schema: Any, field: str) -> None:
    try:
        ruleschema.check_schema(schema, field)
    except ruleschema.SchemaProblem as exc:
        raise ConditionError(exc.field, exc.message) from None


def edges_of(condition: Condition, applies_to: frozenset[str]) -> Iterator[dict]:
    """The graph edges the condition looks along (looks_along entries, for `ecr-lint graph`)."""
    if condition.relation is not None:
        rel = condition.relation
        target = rel.name
        for type_ in sorted(applies_to):
            if rel.refers_to_this:
                yield {"from": target, "attribute": rel.refers_to_this, "to": type_}
            if rel.referred_to_by_this:
                yield {"from": type_, "attribute": rel.referred_to_by_this, "to": target}
    for part in condition.parts:
        yield from edges_of(part, applies_to)


# --- evaluation ----------------------------------------------------------------------------------


def evaluate(condition: Condition, resource: Resource, ctx: Any) -> Outcome:
    op = condition.op
    if op == "all_of":
        return _all([evaluate(part, resource, ctx) for part in condition.parts])
    if op == "any_of":
        return _any([evaluate(part, resource, ctx) for part in condition.parts])
    if op == "not":
        inner = evaluate(condition.parts[0], resource, ctx)
        return Outcome(None if inner.state is None else not inner.state, inner.text)
    if op == "attributes":
        return _schema_outcome(condition.schema, resource.attributes, "")
    if op == "production":
        from ecr_lint.predicates.environment import production_of

        env = production_of(resource, ctx)
        state = None if env.production is None else env.production == condition.production
        return Outcome(state, env.label)
    return _related(condition.relation, resource, ctx)


def _all(outcomes: list[Outcome]) -> Outcome:
    return _kleene(outcomes, decisive=False)


def _any(outcomes: list[Outcome]) -> Outcome:
    return _kleene(outcomes, decisive=True)


def _kleene(outcomes: list[Outcome], decisive: bool) -> Outcome:
    """all_of (a False part decides) or any_of (a True part decides); else unknown if a part is."""
    for wanted in (decisive, None):
        found = [o for o in outcomes if o.state is wanted]
        if found:
            return found[0]
    return Outcome(not decisive, "; ".join(o.text for o in outcomes if o.text))


def _schema_outcome(schema: dict, attributes: Any, who: str) -> Outcome:
    """A schema over attributes: certain violations make it False, unknown ones None."""
    undecided = None
    for violation in ruleschema.violations(schema, attributes):
        where = ".".join(p for p in (who, violation.attribute) if p) or "the resource"
        if violation.undecided is None:
            return Outcome(False, f"{where}: {violation.message}")
        undecided = undecided or f"{where}: {violation.undecided}"
    return Outcome(True, "") if undecided is None else Outcome(None, undecided)


def _related(rel: Relation, resource: Resource, ctx: Any) -> Outcome:
    candidates: dict[str, Resource] = ctx.memo(f"relations:candidates:{id(rel)}", lambda: {
        r.address: r for r in ctx.stack.of_type(rel.type) if r.mode == rel.mode})
    found: list[str] = []
    maybe: list[str] = []
    misses: list[str] = []   # why candidates reached otherwise are not related (a `where` they fail)
    for candidate in _shortlist(rel, resource, candidates, ctx):
        outcome = _relates(rel, resource, candidate, ctx)
        if outcome.state:
            found.append(candidate.address)
        elif outcome.state is None:
            maybe.append(outcome.text)
        elif outcome.text:
            misses.append(outcome.text)
    low, high = len(found), len(found) + len(maybe)
    wanted = f"{rel.low}" + ("" if rel.high == rel.low else f" to {rel.high}" if rel.high is not None else " or more")
    if low >= rel.low and (rel.high is None or high <= rel.high):
        state = True
    elif high < rel.low or (rel.high is not None and low > rel.high):
        state = False
    else:
        state = None
    if state is None:
        text = maybe[0]
    elif rel.kind == "count":
        counted = ", ".join(found) or "none"
        text = f"{low} {rel.phrase()} ({counted}), expected {wanted}"
    elif found:
        text = f"{', '.join(found)} is {_a(rel.phrase())}"
    elif not candidates.keys() - {resource.address}:
        text = f"there is no {rel.name} in the stack"
    else:
        text = f"no {rel.phrase()}" + (f" ({misses[0]})" if misses else "")
    if rel.kind == "not_exists" and state is not None:
        state = not state
    return Outcome(state, text)


def _a(phrase: str) -> str:
    return f"{'an' if phrase[:1] in 'aeiou' else 'a'} {phrase}"


def _relates(rel: Relation, this: Resource, candidate: Resource, ctx: Any) -> Outcome:
    """Whether one candidate is related to the selected resource, as the relation says (cheap parts first)."""
    checks = []
    if rel.refers_to_this:
        checks.append(lambda: _along(candidate, rel.refers_to_this, this, ctx))
    if rel.referred_to_by_this:
        checks.append(lambda: _along(this, rel.referred_to_by_this, candidate, ctx))
    if rel.each is not None or rel.match or rel.where is not None:
        checks.append(lambda: _items(rel, this, candidate, ctx))
    outcomes = []
    for check in checks:
        outcomes.append(check())
        if outcomes[-1].state is False:
            break
    return _all(outcomes)


def _along(source: Resource, attribute: str, target: Resource, ctx: Any) -> Outcome:
    """Whether `source` refers to `target` through `attribute` (or a part of it), three-valued."""
    if target.address in _targets(source, attribute, ctx):
        return Outcome(True, "")
    reason = _unresolved_at(source, attribute)
    if reason is not None:
        return Outcome(None, f"{source.address}.{attribute} is unknown: {reason}")
    return Outcome(False, "")


def _targets(source: Resource, attribute: str, ctx: Any) -> set[str]:
    """What `source` refers to through `attribute` (through variables, locals and module outputs)."""
    def index() -> dict[str, list[Any]]:
        out: dict[str, list[Any]] = {}
        for edge in ctx.graph.resource_edges():
            out.setdefault(edge.source, []).append(edge)
        return out
    edges = ctx.memo("relations:edges", index).get(source.address, ())
    return {edge.target for edge in edges if _under(attribute, edge.attribute)}


def _unresolved_at(resource: Resource, attribute: str) -> str | None:
    """The reason when what an attribute refers to cannot be known (an edge would say, if it could)."""
    values, reason = _at(resource.attributes, attribute)
    return reason or next((r for r in map(_unresolved, values) if r is not None), None)


# A stack of N repositories and N policies must cost N lookups, not N x N evaluations: per-stack
# indexes give the candidates that may relate to a resource (a superset); the others cannot.

def _shortlist(rel: Relation, this: Resource, candidates: dict[str, Resource], ctx: Any) -> list[Resource]:
    """The candidates other than `this` that may relate to it, in the stack's order."""
    chosen: set[str] | None = None
    narrowing: list[set[str] | None] = []
    if rel.refers_to_this:
        into = ctx.memo(f"relations:into:{id(rel)}", lambda: _referrers_index(rel, candidates, ctx))
        narrowing.append(into.get(this.address, set()) | into[None])
    if rel.referred_to_by_this:
        unresolved = _unresolved_at(this, rel.referred_to_by_this) is not None
        narrowing.append(None if unresolved else _targets(this, rel.referred_to_by_this, ctx))
    if rel.match and rel.match[0].op == "equals":
        narrowing.append(_by_value(rel, this, candidates, ctx))
    for addresses in narrowing:
        if addresses is not None:
            chosen = addresses if chosen is None else chosen & addresses
    if chosen is None:
        return [c for address, c in candidates.items() if address != this.address]
    order = ctx.memo(f"relations:order:{id(rel)}", lambda: {address: i for i, address in enumerate(candidates)})
    return [candidates[a] for a in sorted(chosen & order.keys(), key=order.__getitem__) if a != this.address]


def _referrers_index(rel: Relation, candidates: dict[str, Resource], ctx: Any) -> dict[str | None, set[str]]:
    """target -> candidates that refer to it through the attribute; None -> those whose target is unknown."""
    out: dict[str | None, set[str]] = {None: set()}
    for candidate in candidates.values():
        for target in _targets(candidate, rel.refers_to_this, ctx):
            out.setdefault(target, set()).add(candidate.address)
        if _unresolved_at(candidate, rel.refers_to_this) is not None:
            out[None].add(candidate.address)
    return out


def _by_value(rel: Relation, this: Resource, candidates: dict[str, Resource], ctx: Any) -> set[str] | None:
    """The candidates whose first `match` value may equal this resource's (None: any may)."""
    match = rel.match[0]
    index = ctx.memo(f"relations:values:{id(rel)}", lambda: _values_index(rel, match, candidates))
    ours, reason = _at(this.attributes, match.this)
    if reason is not None:
        return None
    found = set(index["any"]) | index["refs"].get(this.address, set())
    for value in map(plain, ours):
        if not isinstance(value, (str, int, float, bool)):
            return None
        found |= index["values"].get(value, set())
    return found


def _values_index(rel: Relation, match: Match, candidates: dict[str, Resource]) -> dict[str, Any]:
    """Candidates by their match values and the references in them; "any": those always evaluated."""
    index: dict[str, Any] = {"values": {}, "refs": {}, "any": set()}
    for candidate in candidates.values():
        if not _index_values(rel, match, candidate, index):
            index["any"].add(candidate.address)
    return index


def _index_values(rel: Relation, match: Match, candidate: Resource, index: dict[str, Any]) -> bool:
    """False when the candidate may match whatever the value (unknown, absent with or_absent, structured)."""
    blocks, reason = _at(candidate.attributes, rel.each) if rel.each else ([candidate.attributes], None)
    if reason is not None:
        return False
    for block in blocks:
        if isinstance(plain(block), Unknown):
            return False
        theirs, reason = _at(block, match.related)
        if reason is not None or (not theirs and match.or_absent):
            return False
        for value in theirs:
            while isinstance(value, Ref):
                index["refs"].setdefault(value.address, set()).add(candidate.address)
                value = value.value
            value = plain(value)
            if not isinstance(value, (str, int, float, bool)):
                return False
            index["values"].setdefault(value, set()).add(candidate.address)
    return True


def _under(wanted: str, attribute: str) -> bool:
    return attribute == wanted or attribute.startswith(wanted + ".")


def _unresolved(value: Any) -> str | None:
    """The reason when a value is unknown and does not come from a resource (which an edge would show)."""
    while isinstance(value, Ref):
        if not value.address.split(".")[0] in ("var", "local", "module"):
            return None   # a reference to a resource or data source: the graph has the edge, if any
        value = value.value
    value = plain(value)
    return value.reason if isinstance(value, Unknown) else None


def _items(rel: Relation, this: Resource, candidate: Resource, ctx: Any) -> Outcome:
    """`match` and `where` on the candidate, or on any of its `each` blocks."""
    if rel.each is None:
        return _all([*(_match(m, this, candidate.attributes, candidate.address) for m in rel.match),
                     _where(rel, candidate, None, candidate.attributes, ctx)])
    blocks, reason = _at(candidate.attributes, rel.each)
    if reason is not None:
        return Outcome(None, f"{candidate.address}.{rel.each} is unknown: {reason}")
    outcomes = []
    for i, block in enumerate(blocks):
        who = f"{candidate.address}.{rel.each}[{i}]"
        block = plain(block)
        if isinstance(block, Unknown):
            outcomes.append(Outcome(None, f"{who} is unknown: {block.reason}"))
            continue
        outcomes.append(_all([*(_match(m, this, block, who) for m in rel.match), _where(rel, candidate, i, block, ctx)]))
    return _any(outcomes) if outcomes else Outcome(False, "")


def _where(rel: Relation, candidate: Resource, index: int | None, attributes: Any, ctx: Any) -> Outcome:
    if rel.where is None:
        return Outcome(True, "")
    who = candidate.address if index is None else f"{candidate.address}.{rel.each}[{index}]"
    # The same for every selected resource: judged once per stack.
    return ctx.memo(f"relations:where:{id(rel)}:{who}", lambda: _schema_outcome(rel.where, attributes, who))


def _match(match: Match, this: Resource, related: Any, who: str) -> Outcome:
    theirs, reason = _at(related, match.related)
    if reason is not None:
        return Outcome(None, f"{who}.{match.related} is unknown: {reason}")
    if any(_refers_to(value, this.address) for value in theirs):
        return Outcome(True, "")   # matched by reference, whatever the value turns out to be
    if not theirs:
        return Outcome(match.or_absent, "")
    ours, reason = _at(this.attributes, match.this)
    if reason is not None:
        return Outcome(None, f"its {match.this} is unknown: {reason}")
    labels = (f"{who}.{match.related}", f"its {match.this}")
    outcomes = [_compare(match.op, plain(a), plain(b), labels) for a in theirs for b in ours]
    return _any(outcomes) if outcomes else Outcome(False, "")


def _refers_to(value: Any, address: str) -> bool:
    while isinstance(value, Ref):
        if value.address == address:
            return True
        value = value.value
    return False


def _compare(op: str, theirs: Any, ours: Any, labels: tuple[str, str]) -> Outcome:
    for a, b, label in ((theirs, ours, labels[0]), (ours, theirs, labels[1])):
        if isinstance(a, Unknown):
            if op == "equals" and isinstance(b, str) and not may_be(a, b):
                return Outcome(False, "")   # its known parts rule the value out
            return Outcome(None, f"{label} is unknown: {a.reason}")
    if op == "starts_with":
        return Outcome(isinstance(theirs, str) and isinstance(ours, str) and ours.startswith(theirs), "")
    return Outcome(theirs == ours and isinstance(theirs, bool) == isinstance(ours, bool), "")


def _at(value: Any, path: str) -> tuple[list[Any], str | None]:
    """The values at a dotted attribute path (lists of blocks are looked through), and the reason
    when an unknown value stands on the way. The values themselves keep their references."""
    values = [value]
    for step in path.split("."):
        found = []
        for current in values:
            current = plain(current)
            if isinstance(current, Unknown):
                return [], current.reason
            if isinstance(current, list):
                current = [plain(c) for c in current]
                if any(isinstance(c, Unknown) for c in current):
                    return [], next(c.reason for c in current if isinstance(c, Unknown))
                found.extend(c[step] for c in current if isinstance(c, dict) and c.get(step) is not None)
            elif isinstance(current, dict) and current.get(step) is not None:
                found.append(current[step])
        values = found
    flat: list[Any] = []
    for item in values:
        inner = plain(item)
        if isinstance(inner, list) and not isinstance(item, Ref):
            flat.extend(inner)
        else:
            flat.append(item)
    return flat, None

