"""A fast "certainly valid" answer for the simple JSON Schemas ecr-lint's checks use.

jsonschema costs ~70 ms to import, more than linting a stack. Most documents are valid, so
this walks the same schema for the keywords it knows and answers True (valid), False
(invalid) or None (a keyword it does not know). Only True is trusted; anything else goes to
jsonschema, which also writes every message. tests/test_schemacheck.py checks that the two
agree on generated documents. `pattern` runs on RE2 here and in ecr_lint/ruleschema.py's validator
alike (linear time; ECMA-262-like ASCII \\d and \\w, where Python's re would match other scripts' digits).
"""

from __future__ import annotations

from typing import Any

from ecr_lint.ruleschema import UnknownValue

_ANNOTATIONS = {"$schema", "$id", "title", "description", "$defs", "$comment", "examples", "default"}
_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer()),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
}


def certainly_valid(schema: Any, instance: Any) -> bool:
    return _check(schema, instance, schema) is True


def _check(schema: Any, value: Any, root: dict) -> bool | None:
    if schema is True:
        return True
    if schema is False:
        return False
    if not isinstance(schema, dict):
        return None
    if isinstance(value, UnknownValue):  # undecided under any keyword (ruleschema.py)
        return True if _ANNOTATIONS.issuperset(schema) else None
    verdict: bool | None = True
    for keyword, expected in schema.items():
        if keyword in _ANNOTATIONS:
            continue
        result = _keyword(keyword, expected, schema, value, root)
        if result is False:
            return False
        if result is None:
            verdict = None
    return verdict


def _keyword(keyword: str, expected: Any, schema: dict, value: Any, root: dict) -> bool | None:
    if keyword == "type":
        names = expected if isinstance(expected, list) else [expected]
        return any(_TYPES[n](value) for n in names if n in _TYPES) if all(n in _TYPES for n in names) else None
    if keyword == "enum":
        return any(_same(value, option) for option in expected)
    if keyword == "const":
        return _same(value, expected)
    if keyword == "required":
        return not isinstance(value, dict) or all(k in value for k in expected)
    if keyword == "properties":
        if not isinstance(value, dict):
            return True
        return _all(_check(sub, value[k], root) for k, sub in expected.items() if k in value)
    if keyword == "additionalProperties":
        if not isinstance(value, dict) or "patternProperties" in schema:
            return True if not isinstance(value, dict) else None
        extra = [k for k in value if k not in schema.get("properties", {})]
        return _all(_check(expected, value[k], root) for k in extra)
    if keyword == "items":
        return True if not isinstance(value, list) else _all(_check(expected, v, root) for v in value)
    if keyword == "pattern":
        if not isinstance(value, str):
            return True
        if not isinstance(expected, str):
            return None
        from ecr_lint.ruleschema import search  # RE2, as the full validator: the two agree

        return search(expected, value)
    if keyword in ("minItems", "maxItems", "minLength", "maxLength", "minimum", "maximum"):
        return _bound(keyword, expected, value)
    if keyword == "$ref":
        if not isinstance(expected, str) or not expected.startswith("#/"):
            return None
        target: Any = root
        for part in expected[2:].split("/"):
            if not isinstance(target, dict) or part not in target:
                return None
            target = target[part]
        return _check(target, value, root)
    if keyword == "not":
        inner = _check(expected, value, root)
        return None if inner is None else not inner
    if keyword == "if":
        condition = _check(expected, value, root)
        if condition is None:
            return None
        branch = schema.get("then" if condition else "else", True)
        return _check(branch, value, root)
    if keyword in ("then", "else"):
        return True  # handled with "if"
    return None


def _bound(keyword: str, limit: Any, value: Any) -> bool:
    if keyword in ("minItems", "maxItems"):
        if not isinstance(value, list):
            return True
        size = len(value)
    elif keyword in ("minLength", "maxLength"):
        if not isinstance(value, str):
            return True
        size = len(value)
    else:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return True
        size = value
    return size >= limit if keyword.startswith("min") else size <= limit


def _same(a: Any, b: Any) -> bool:
    """JSON equality: true is not 1, and 1 equals 1.0."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, str) or isinstance(b, str):  # isinstance: a value marked sensitive is a str subclass
        return isinstance(a, str) and isinstance(b, str) and a == b
    return type(a) is type(b) and a == b or (isinstance(a, (int, float)) and isinstance(b, (int, float)) and a == b)


def _all(results) -> bool | None:
    verdict: bool | None = True
    for result in results:
        if result is False:
            return False
        if result is None:
            verdict = None
    return verdict
