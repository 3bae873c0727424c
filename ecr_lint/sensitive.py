"""Sensitive marks: a value derived from a sensitive source carries the mark, and prints as (sensitive).

Terraform marks values, not names: `sensitive = true` variables and outputs, `sensitive()`, the
plan's `after_sensitive`/`sensitive_values`, SSM SecureString values. A marked value here is
the same value to every check (a marked "999988887777" is still a str equal to
"999988887777", so ECR005 still fails it), but formatting it into a message (`f"{v}"`,
`f"{v!r}"`) gives "(sensitive)". `str(v)` stays the value itself: evaluation relies on it.

- str, int and float values are instances of marked subclasses;
- bools (which cannot be subclassed) are wrapped in `Concealed`, which `evaluate.plain()`
  unwraps like a `Ref`;
- a marked collection has every key and leaf marked, so whatever is taken out of it is marked;
- a `Ref` stays outermost (rules look for references), with the mark on its value;
- an `Unknown` is marked through its `partial` text (the known parts of a template or document).

The evaluator propagates marks (evaluate.py): any operation or function call with a marked
operand gives a marked result.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ecr_lint.model import Ref, Unknown

MASK = "(sensitive)"
PLACEHOLDER = re.compile(r"\$\{[^}]*\}")  # where an Unknown's partial text is not known


class Marked:
    """Mixin of the marked scalar types: masked when formatted, the plain value otherwise."""

    __slots__ = ()

    def __repr__(self) -> str:
        return MASK

    def __format__(self, spec: str) -> str:
        return MASK


class SensitiveStr(Marked, str):
    __slots__ = ()
    _base = str

    def __str__(self) -> str:
        return str.__str__(self)


class SensitiveInt(Marked, int):
    __slots__ = ()
    _base = int

    def __str__(self) -> str:
        return int.__repr__(self)


class SensitiveFloat(Marked, float):
    __slots__ = ()
    _base = float

    def __str__(self) -> str:
        return float.__repr__(self)


@dataclass(frozen=True)
class Concealed:
    """A marked bool: bool cannot be subclassed. `plain()` gives the bool back."""

    value: bool

    def __repr__(self) -> str:
        return MASK

    def __format__(self, spec: str) -> str:
        return MASK


_SCALARS = ((bool, Concealed), (str, SensitiveStr), (int, SensitiveInt), (float, SensitiveFloat))


def mark(value: Any) -> Any:
    """The value with every key and leaf marked sensitive (the same value to every check)."""
    if isinstance(value, (Marked, Concealed)):
        return value
    if isinstance(value, Ref):
        return Ref(value.address, value.path, mark(value.value))
    if isinstance(value, dict):
        marked = {mark(k): mark(v) for k, v in value.items()}
        return _same_kind(value, marked)
    if isinstance(value, list):
        marked_items = [mark(v) for v in value]
        return value.__class__(marked_items, value.ctype) if hasattr(value, "ctype") else marked_items
    if isinstance(value, Unknown):
        partial = value.partial
        if isinstance(partial, str) and not isinstance(partial, Marked) and type(value) is Unknown \
                and PLACEHOLDER.sub("", partial):  # "${aws_x.y.arn}" alone names no value: nothing to mark
            return Unknown(value.reason, value.refs, SensitiveStr(partial))
        return value
    for base, kind in _SCALARS:
        if isinstance(value, base):
            return kind(value)
    return value  # null: nothing to hide


def strip(value: Any) -> Any:
    """The value without marks; the very same object when there are none in it."""
    if isinstance(value, Concealed):
        return value.value
    if isinstance(value, Marked):
        return value._base(value)
    if isinstance(value, Ref):
        inner = strip(value.value)
        return value if inner is value.value else Ref(value.address, value.path, inner)
    if isinstance(value, dict):
        pairs = [(strip(k), strip(v)) for k, v in value.items()]
        if all(k is k0 and v is v0 for (k, v), (k0, v0) in zip(pairs, value.items())):
            return value
        return _same_kind(value, dict(pairs))
    if isinstance(value, list):
        items = [strip(v) for v in value]
        return value if all(a is b for a, b in zip(items, value)) else items
    if isinstance(value, Unknown) and isinstance(value.partial, Marked):
        return Unknown(value.reason, value.refs, str(value.partial))
    return value


def is_marked(value: Any) -> bool:
    """Is this value itself marked (not: does it hold a marked value somewhere)?"""
    while isinstance(value, Ref):
        value = value.value
    if isinstance(value, Unknown):
        return isinstance(value.partial, Marked)
    return isinstance(value, (Marked, Concealed))


def holds_marks(value: Any) -> bool:
    """Is anything in this value marked?"""
    if is_marked(value):
        return True
    while isinstance(value, Ref):
        value = value.value
    if isinstance(value, dict):
        return any(holds_marks(k) or holds_marks(v) for k, v in value.items())
    if isinstance(value, list):
        return any(holds_marks(v) for v in value)
    return False


def keep_mark(source: Any, derived: Any) -> Any:
    """`derived` (computed from `source`, e.g. a part of it) marked when `source` is."""
    return mark(derived) if is_marked(source) else derived


def shown(value: Any) -> str:
    """Text of a value for a message: "(sensitive)" when it is marked."""
    return MASK if is_marked(value) else str(value)


def _same_kind(original: dict, data: dict) -> dict:
    """A dict of the same class as `original` (an evaluated resource object keeps its address)."""
    if type(original) is dict:
        return data
    from ecr_lint.hcl.evaluate import ObjectValue

    if isinstance(original, ObjectValue):
        return ObjectValue(data, original.address, original.after_apply)
    if hasattr(original, "ctype"):  # a map of a declared type (hcl/types.py) keeps it
        return original.__class__(data, original.ctype)
    return data
