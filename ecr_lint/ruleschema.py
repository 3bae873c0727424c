"""Rule check schemas that cannot reach the network or hang (offline $refs, RE2 regexes, bounded size),
validated three-valued: an unknown value neither passes nor fails them."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Iterator
from urllib.parse import unquote

# A rule file is a few hundred values; YAML aliases could make a small file expand into
# billions (each alias is a shared object that validation walks again every time).
MAX_VALUES = 10_000
MAX_DEPTH = 64

_2020_12 = {"https://json-schema.org/draft/2020-12/schema", "https://json-schema.org/draft/2020-12/schema#"}
# Keywords whose value is one subschema, a list of them, or a map of them (JSON Schema 2020-12).
_ONE = ("not", "if", "then", "else", "items", "contains", "additionalProperties", "propertyNames",
        "unevaluatedItems", "unevaluatedProperties", "contentSchema")
_LIST = ("allOf", "anyOf", "oneOf", "prefixItems")
_MAP = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
# Keywords that apply a subschema to the same value: a loop through them never ends.
_IN_PLACE = {"allOf", "anyOf", "oneOf", "not", "if", "then", "else", "dependentSchemas"}
# A check schema is one self-contained document: these would let it name other documents.
_FOREIGN = ("$id", "$anchor", "$dynamicRef", "$dynamicAnchor", "$recursiveRef", "$recursiveAnchor")


class SchemaProblem(ValueError):
    """What is wrong with a rule schema; `field` is the dotted path inside the rule file."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


# --- YAML: bounded size -----------------------------------------------------------------------


def check_expansion(data: Any) -> None:
    """Refuse data whose YAML aliases expand past MAX_VALUES values, nest past MAX_DEPTH, or loop.

    Aliases load as shared objects; counting each object once per use, with its count
    memoised, measures the expanded size in time linear in the file.
    """
    sizes: dict[int, int] = {}
    open_: set[int] = set()

    def size(value: Any, depth: int, where: str) -> int:
        if not isinstance(value, (dict, list)):
            return 1
        if depth > MAX_DEPTH:
            raise SchemaProblem(where or "(top level)", f"nested deeper than {MAX_DEPTH} levels")
        key = id(value)
        if key in sizes:
            return sizes[key]
        if key in open_:
            raise SchemaProblem(where or "(top level)", "a YAML alias refers to a value that contains it")
        open_.add(key)
        items = value.items() if isinstance(value, dict) else enumerate(value)
        total = 1
        for k, v in items:
            total += size(v, depth + 1, f"{where}.{k}" if where else str(k))
            if total > MAX_VALUES:
                raise SchemaProblem(where or "(top level)", f"expands to more than {MAX_VALUES} values (YAML "
                                    "aliases are copied wherever they are used); use $defs and $ref instead")
        open_.discard(key)
        sizes[key] = total
        return total

    size(data, 0, "")


# --- the schema: offline references, RE2 patterns, no loops --------------------------------------


def check_schema(schema: Any, field: str = "check.schema") -> None:
    """Raise SchemaProblem for what a rule schema must not do; call at load time."""
    if not isinstance(schema, dict):
        return
    subschemas = dict(_subschemas(schema, ()))
    has_pattern_properties = any("patternProperties" in s for s in subschemas.values())
    for path, sub in subschemas.items():
        where = ".".join((field, *map(str, path)))
        for keyword in _FOREIGN:
            if keyword in sub:
                raise SchemaProblem(f"{where}.{keyword}", "not allowed in a rule schema: it is one self-contained "
                                    "document (use $defs and $ref: \"#/$defs/...\")")
        if "$schema" in sub and sub["$schema"] not in _2020_12:
            raise SchemaProblem(f"{where}.$schema", f"{sub['$schema']!r}: rule schemas are JSON Schema 2020-12")
        if "$ref" in sub and _target(schema, sub["$ref"], f"{where}.$ref") not in subschemas:
            raise SchemaProblem(f"{where}.$ref", f"{sub['$ref']!r} points at something that is not a schema")
        if "pattern" in sub:
            _compiles(sub["pattern"], f"{where}.pattern")
        if isinstance(sub.get("patternProperties"), dict):
            for regex in sub["patternProperties"]:
                _compiles(regex, f"{where}.patternProperties.{regex}")
        if has_pattern_properties and "unevaluatedProperties" in sub:
            # jsonschema matches patternProperties with Python's re while finding evaluated keys
            raise SchemaProblem(f"{where}.unevaluatedProperties", "not allowed together with patternProperties "
                                "(rule regexes run on RE2); use additionalProperties")
    _refuse_loops(schema, subschemas, field)


def _subschemas(schema: Any, path: tuple) -> Iterator[tuple[tuple, dict]]:
    """(path, subschema) for every schema position, values of enum/const/default left out."""
    if not isinstance(schema, dict):
        return
    yield path, schema
    for keyword in _ONE:
        if keyword in schema:
            yield from _subschemas(schema[keyword], path + (keyword,))
    for keyword in _LIST:
        if isinstance(schema.get(keyword), list):
            for i, sub in enumerate(schema[keyword]):
                yield from _subschemas(sub, path + (keyword, i))
    for keyword in _MAP:
        if isinstance(schema.get(keyword), dict):
            for name, sub in schema[keyword].items():
                yield from _subschemas(sub, path + (keyword, name))


def _target(root: dict, ref: Any, where: str) -> tuple:
    """The path a $ref points to inside the schema; anything else is a SchemaProblem."""
    if not isinstance(ref, str) or not ref.startswith("#"):
        raise SchemaProblem(where, f"{ref!r} leaves the rule file; only references into this schema "
                            "(\"#/$defs/name\") are allowed, and nothing is ever fetched")
    if ref != "#" and not ref.startswith("#/"):
        raise SchemaProblem(where, f"{ref!r} is not a JSON pointer into this schema (\"#/$defs/name\")")
    path: tuple = ()
    node: Any = root
    for raw in ref[2:].split("/") if ref != "#" else ():
        part = unquote(raw).replace("~1", "/").replace("~0", "~")
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node, part = node[int(part)], int(part)
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            raise SchemaProblem(where, f"{ref!r} points at nothing in this schema")
        path += (part,)
    return path


def _refuse_loops(root: dict, subschemas: dict, field: str) -> None:
    """A $ref cycle that never descends into the value would recurse forever."""
    def in_place(path: tuple) -> Iterator[tuple]:
        sub = subschemas.get(path, {})
        if "$ref" in sub:
            yield _target(root, sub["$ref"], "")
        for keyword in _IN_PLACE & sub.keys():
            value = sub[keyword]
            if isinstance(value, list):
                yield from (path + (keyword, i) for i in range(len(value)))
            elif isinstance(value, dict) and keyword == "dependentSchemas":
                yield from (path + (keyword, name) for name in value)
            else:
                yield path + (keyword,)

    done: set[tuple] = set()
    for start in subschemas:
        stack, on_path = [(start, iter(in_place(start)))], {start}
        while stack:
            node, edges = stack[-1]
            nxt = next(edges, None)
            if nxt is None:
                stack.pop()
                on_path.discard(node)
                done.add(node)
            elif nxt in on_path:
                where = ".".join((field, *map(str, node)))
                raise SchemaProblem(where, "refers back to itself without descending into the value "
                                    "(validation would never end)")
            elif nxt not in done:
                stack.append((nxt, iter(in_place(nxt))))
                on_path.add(nxt)
        done.add(start)


# --- RE2 ------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=512)
def _compiled(pattern: str) -> Any:
    import re2

    options = re2.Options()
    options.log_errors = False
    options.max_mem = 8 << 20  # bounds the compiled program: a huge pattern fails to compile
    return re2.compile(pattern, options)


def _compiles(pattern: Any, where: str) -> None:
    if not isinstance(pattern, str):
        raise SchemaProblem(where, "must be a string")
    try:
        _compiled(pattern)
    except Exception as exc:  # re2.error; its text is bytes
        detail = exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(exc.args[0], bytes) else exc
        raise SchemaProblem(where, f"RE2 cannot compile {pattern!r}: {detail} (rule regexes run in linear "
                            "time: no lookaround, no backreferences)") from None


def search(pattern: str, text: str) -> bool:
    """JSON Schema `pattern` semantics (unanchored search), in time linear in the text."""
    return _compiled(pattern).search(text) is not None


# --- the validator ---------------------------------------------------------------------------


def validator(schema: dict) -> Any:
    """A Draft 2020-12 validator for a rule schema: RE2 regexes, and no document but this one."""
    key = id(schema)
    cached = _VALIDATORS.get(key)
    if cached is None or cached[0] is not schema:
        cached = _VALIDATORS[key] = (schema, _validator_class()(schema, registry=_offline_registry()))
    return cached[1]


_VALIDATORS: dict[int, tuple[dict, Any]] = {}


@functools.lru_cache(maxsize=1)
def _validator_class() -> Any:
    from jsonschema import Draft202012Validator, ValidationError, validators
    from jsonschema._utils import extras_msg

    def pattern(validator: Any, regex: str, instance: Any, schema: dict) -> Iterator[ValidationError]:
        if validator.is_type(instance, "string") and not search(regex, instance):
            yield ValidationError(f"{instance!r} does not match {regex!r}")

    def pattern_properties(validator: Any, patterns: dict, instance: Any, schema: dict) -> Iterator[ValidationError]:
        if not validator.is_type(instance, "object"):
            return
        for regex, subschema in patterns.items():
            for key, value in instance.items():
                if search(regex, key):
                    yield from validator.descend(value, subschema, path=key, schema_path=regex)

    def additional_properties(validator: Any, extra_schema: Any, instance: Any, schema: dict) -> Iterator[ValidationError]:
        if not validator.is_type(instance, "object"):
            return
        known = schema.get("properties", {})
        patterns = schema.get("patternProperties", {})
        extras = [k for k in instance if k not in known and not any(search(p, k) for p in patterns)]
        if validator.is_type(extra_schema, "object"):
            for extra in extras:
                yield from validator.descend(instance[extra], extra_schema, path=extra)
        elif not extra_schema and extras:
            if patterns:
                verb = "does" if len(extras) == 1 else "do"
                yield ValidationError(f"{', '.join(repr(e) for e in sorted(extras))} {verb} not match any of the "
                                      f"regexes: {', '.join(repr(p) for p in sorted(patterns))}")
            else:
                yield ValidationError("Additional properties are not allowed (%s %s unexpected)"
                                      % extras_msg(sorted(extras, key=str)))

    keywords = {**Draft202012Validator.VALIDATORS, "pattern": pattern, "patternProperties": pattern_properties,
                "additionalProperties": additional_properties}
    return validators.extend(Draft202012Validator, _three_valued(keywords))


@functools.lru_cache(maxsize=1)
def _offline_registry() -> Any:
    from referencing import Registry
    from referencing.exceptions import NoSuchResource

    def refuse(uri: str) -> Any:
        raise NoSuchResource(ref=uri)  # never fetched: rule schemas name nothing outside themselves

    return Registry(retrieve=refuse)


# --- three-valued validation of evaluated attributes ------------------------------------------


class UnknownValue:
    """Where the document has a value that cannot be known statically: every keyword applied to
    it is undecided (never valid, never invalid), so an unknown can neither pass nor fail a check."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def __repr__(self) -> str:
        return "(unknown)"


@dataclass(frozen=True)
class Violation:
    """One way a document breaks a schema; `undecided` is the reason when an unknown value decides it."""

    attribute: str | None
    message: str
    undecided: str | None = None


def violations(schema: Any, attributes: Any) -> Iterator[Violation]:
    """Validate evaluated attributes (Ref, Unknown, sensitive marks) against a rule schema, three-valued."""
    from ecr_lint.schemacheck import certainly_valid

    document = as_document(attributes)
    if certainly_valid(schema, document):  # the fast answer; it is never True when an unknown matters
        return
    for error in validator(schema).iter_errors(document):
        attribute = ".".join(str(p) for p in error.absolute_path if not isinstance(p, int)) or None
        if error.validator == "required" and isinstance(error.instance, dict):
            # the attribute that is absent (for its origin: where `ecr-lint fix` adds it)
            absent = [p for p in error.validator_value if p not in error.instance]
            attribute = ".".join(filter(None, [attribute, str(absent[0]) if absent else None])) or None
        yield Violation(attribute, error.message, getattr(error, "undecided", None))


def as_document(value: Any) -> Any:
    """The JSON document a schema sees: references replaced by their values, unknowns by UnknownValue."""
    from ecr_lint.model import Unknown
    from ecr_lint.predicates.common import plain

    value = plain(value)
    if isinstance(value, Unknown):
        return UnknownValue(value.reason)
    if isinstance(value, dict):
        return {k: as_document(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_document(v) for v in value]
    return value


def _holds_unknown(instance: Any) -> str | None:
    """The reason of the first unknown anywhere in the instance."""
    if isinstance(instance, UnknownValue):
        return instance.reason
    items = instance.values() if isinstance(instance, dict) else instance if isinstance(instance, list) else ()
    return next((r for r in map(_holds_unknown, items) if r is not None), None)


def _undecided(reason: str) -> Any:
    from jsonschema import ValidationError

    error = ValidationError(f"cannot tell: {reason}")
    error.undecided = reason
    return error


def _three_valued(base: dict) -> dict:
    """Keyword functions that are undecided on unknown values, and combinators that count
    undecided subschemas as neither valid nor invalid (`not` of an undecided schema is undecided)."""
    from jsonschema import ValidationError

    def guarded(keyword: str, function: Any) -> Any:
        # Equality and evaluated-key keywords look into the whole value; the others at the value itself.
        deep = keyword in ("const", "enum", "uniqueItems", "unevaluatedProperties", "unevaluatedItems")

        def check(validator: Any, value: Any, instance: Any, schema: dict) -> Iterator[Any]:
            reason = _holds_unknown(instance) if deep else getattr(instance, "reason", None) \
                if isinstance(instance, UnknownValue) else None
            if reason is not None:
                yield _undecided(reason)
            else:
                yield from function(validator, value, instance, schema)
        return check

    def state(validator: Any, instance: Any, subschema: Any, path: Any = None) -> tuple[str, list]:
        errors = list(validator.descend(instance, subschema, schema_path=path))
        if not errors:
            return "valid", errors
        if any(getattr(e, "undecided", None) is None for e in errors):
            return "invalid", errors
        return "undecided", errors

    def undecided_of(results: list[tuple[str, list]]) -> Any:
        return next(_undecided(e.undecided) for s, errors in results if s == "undecided" for e in errors)

    def any_of(validator: Any, subschemas: list, instance: Any, schema: dict) -> Iterator[Any]:
        results = [state(validator, instance, s, i) for i, s in enumerate(subschemas)]
        if any(s == "valid" for s, _ in results):
            return
        if any(s == "undecided" for s, _ in results):
            yield undecided_of(results)
        else:
            yield ValidationError(f"{instance!r} is not valid under any of the given schemas",
                                  context=[e for _, errors in results for e in errors])

    def one_of(validator: Any, subschemas: list, instance: Any, schema: dict) -> Iterator[Any]:
        results = [state(validator, instance, s, i) for i, s in enumerate(subschemas)]
        valid = sum(s == "valid" for s, _ in results)
        maybe = sum(s == "undecided" for s, _ in results)
        if valid == 1 and not maybe:
            return
        if valid > 1:
            yield ValidationError(f"{instance!r} is valid under more than one of the given schemas")
        elif valid + maybe == 0:
            yield ValidationError(f"{instance!r} is not valid under any of the given schemas",
                                  context=[e for _, errors in results for e in errors])
        else:
            yield undecided_of(results)

    def not_(validator: Any, subschema: Any, instance: Any, schema: dict) -> Iterator[Any]:
        result = state(validator, instance, subschema)
        if result[0] == "valid":
            yield ValidationError(f"{instance!r} should not be valid under {subschema!r}")
        elif result[0] == "undecided":
            yield undecided_of([result])

    def if_(validator: Any, subschema: Any, instance: Any, schema: dict) -> Iterator[Any]:
        condition = state(validator, instance, subschema)
        then = state(validator, instance, schema.get("then", True), "then")
        else_ = state(validator, instance, schema.get("else", True), "else")
        if condition[0] != "undecided":
            yield from (then if condition[0] == "valid" else else_)[1]
        elif then[0] == else_[0] == "invalid":
            yield from then[1]  # whichever branch applies, it fails
        elif then[0] != "valid" or else_[0] != "valid":
            yield undecided_of([condition])

    def contains(validator: Any, subschema: Any, instance: Any, schema: dict) -> Iterator[Any]:
        if not validator.is_type(instance, "array"):
            return
        results = [state(validator, item, subschema) for item in instance]
        valid = sum(s == "valid" for s, _ in results)
        maybe = sum(s == "undecided" for s, _ in results)
        low, high = schema.get("minContains", 1), schema.get("maxContains", len(instance))
        if low <= valid and valid + maybe <= high:
            return
        if valid > high:
            yield ValidationError(f"Too many items match the given schema (expected at most {high})")
        elif valid + maybe < low:
            yield ValidationError(f"{instance!r} does not contain enough items matching the given schema "
                                  f"(expected at least {low})")
        else:
            yield undecided_of(results)

    combinators = {"anyOf": any_of, "oneOf": one_of, "not": not_, "if": if_, "contains": contains}
    out = {keyword: guarded(keyword, function) for keyword, function in base.items()}
    out.update({keyword: guarded(keyword, function) for keyword, function in combinators.items()})
    return out
