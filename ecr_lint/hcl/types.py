"""Terraform type constraints: parse a variable's `type` expression and convert a value to it (cty's rules)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ecr_lint.hcl import syntax as ast
from ecr_lint.hcl.evaluate import (
    Budget, EvalError, Evaluator, ObjectValue, Scope, Walk, plain, to_number, to_string,
)
from ecr_lint.model import Ref, Unknown
from ecr_lint.sensitive import Concealed, Marked, mark, strip

PRIMITIVES = ("string", "number", "bool")


@dataclass(frozen=True)
class Type:
    """A type: kind is a primitive name, "any", "list", "set", "map", "tuple" or "object".
    `elem` is a collection's element type; `items` a tuple's types; `attrs` an object's
    (name, type, optional, default) in declaration order."""

    kind: str
    elem: "Type | None" = None
    items: tuple = ()
    attrs: tuple = ()

    def __str__(self) -> str:
        if self.elem is not None:
            return f"{self.kind}({self.elem})"
        if self.kind == "tuple":
            return "tuple([" + ", ".join(map(str, self.items)) + "])"
        if self.kind == "object":
            return "object({" + ", ".join(f"{n} = {'optional(' if o else ''}{t}{')' if o else ''}"
                                          for n, t, o, _ in self.attrs) + "})"
        return self.kind

    @property
    def concrete(self) -> bool:
        """No `any` inside: two values of concrete types are equal only when their types are."""
        if self.kind == "any":
            return False
        if self.elem is not None:
            return self.elem.concrete
        return all(t.concrete for t in self.items) and all(t.concrete for _, t, _, _ in self.attrs)


ANY = Type("any")


class TypedList(list):
    """A list or set value converted to a declared type (Terraform tells lists from tuples)."""

    __slots__ = ("ctype",)

    def __init__(self, items: list, ctype: Type):
        super().__init__(items)
        self.ctype = ctype

    def __reduce__(self) -> tuple:
        return (TypedList, (list(self), self.ctype))


class TypedMap(dict):
    """A map value converted to a declared type (Terraform tells maps from objects)."""

    __slots__ = ("ctype",)

    def __init__(self, items: dict, ctype: Type):
        super().__init__(items)
        self.ctype = ctype

    def __reduce__(self) -> tuple:
        return (TypedMap, (dict(self), self.ctype))


class ConversionError(EvalError):
    """A value that cannot be converted; the message names where in the value, never the value."""


# --- parsing ---------------------------------------------------------------------------------

_PARSED: dict[int, tuple[ast.Node, Type | None]] = {}  # id -> (the expression, kept alive; its type)


def type_of(block: ast.Block) -> Type | None:
    """A variable block's type; None without one, or when it is `any` (nothing to convert)."""
    attr = block.body.attributes.get("type")
    if attr is None:
        return None
    found = _PARSED.get(id(attr.expr))
    if found is None or found[0] is not attr.expr:
        try:
            parsed: Type | None = parse_type(attr.expr)
        except (EvalError, RecursionError):
            parsed = None  # not a type Terraform accepts: Terraform stops at it; no conversion here
        found = _PARSED[id(attr.expr)] = (attr.expr, None if parsed is None or parsed.kind == "any" else parsed)
    return found[1]


def parse_type(expr: ast.Node, optional_ok: bool = False) -> Type:
    if isinstance(expr, ast.Template) and len(expr.parts) == 1 and isinstance(expr.parts[0], str):
        expr = ast.Lit(expr.parts[0])
    if isinstance(expr, ast.Lit) and isinstance(expr.value, str):  # .tf.json, or the legacy quoted form
        from ecr_lint.hcl.syntax import HclSyntaxError, parse_hcl
        text = expr.value.strip()
        if text in ("list", "map"):
            return Type(text, elem=ANY)
        try:
            body = parse_hcl(f"t = {text}\n")
        except HclSyntaxError:
            raise ConversionError("not a type") from None
        if set(body.attributes) != {"t"}:
            raise ConversionError("not a type")
        return parse_type(body.attributes["t"].expr)
    if isinstance(expr, ast.Name):
        if expr.name in PRIMITIVES or expr.name == "any":
            return Type(expr.name)
        raise ConversionError(f"{expr.name} is not a type")
    if not isinstance(expr, ast.Call) or expr.expand:
        raise ConversionError("not a type")
    name, args = expr.name, expr.args
    if name in ("list", "set", "map") and len(args) == 1:
        return Type(name, elem=parse_type(args[0]))
    if name == "tuple" and len(args) == 1 and isinstance(args[0], ast.TupleExpr):
        return Type("tuple", items=tuple(parse_type(a) for a in args[0].items))
    if name == "object" and len(args) == 1 and isinstance(args[0], ast.ObjectExpr):
        attrs = []
        for key, value in args[0].items:
            attr_name = _key_name(key)
            if isinstance(value, ast.Call) and value.name == "optional" and 1 <= len(value.args) <= 2:
                attr_type = parse_type(value.args[0])
                default = _default(value.args[1], attr_type) if len(value.args) == 2 else None
                attrs.append((attr_name, attr_type, True, default))
            else:
                attrs.append((attr_name, parse_type(value), False, None))
        return Type("object", attrs=tuple(attrs))
    raise ConversionError(f"{name}(...) is not a type")


def _key_name(key: ast.Node) -> str:
    if isinstance(key, ast.Name):
        return key.name
    if isinstance(key, ast.Lit) and isinstance(key.value, str):
        return key.value
    if isinstance(key, ast.Template) and len(key.parts) == 1 and isinstance(key.parts[0], str):
        return key.parts[0]
    raise ConversionError("an object type's attribute names must be names")


class _Constant:
    files = None

    def __init__(self) -> None:
        from ecr_lint.hcl.functions import FUNCTIONS
        self.evaluator = Evaluator(FUNCTIONS)

    def resolve(self, root: str, steps: list, scope: Scope) -> tuple[Any, int]:
        raise EvalError("an optional attribute's default must be a constant")


def _default(expr: ast.Node, attr_type: Type) -> Any:
    """optional(T, default): a constant, converted to T when the type is parsed (as Terraform does)."""
    context = _Constant()
    try:
        value = context.evaluator.eval(expr, Scope(context))
        return convert(value, attr_type, Walk())
    except EvalError as exc:
        return Unknown(f"an optional attribute's default is not valid: {exc}")


# --- conversion ------------------------------------------------------------------------------

def convert_charged(value: Any, ctype: Type, budget: Budget | None) -> Any:
    """convert(), the nodes it visits charged to the budget (BudgetExceeded past MAX_TREE)."""
    walk = Walk()
    try:
        return convert(value, ctype, walk)
    finally:
        walk.done(budget)


def convert(value: Any, ctype: Type, walk: Walk, path: str = "") -> Any:
    """The value converted to `ctype` as Terraform converts a variable's value: marks and references
    kept, unknowns left unknown; ConversionError when Terraform would reject it."""
    if isinstance(value, Ref):
        return Ref(value.address, value.path, convert(value.value, ctype, walk, path))
    if isinstance(value, (Marked, Concealed)):
        return mark(convert(strip(value), ctype, walk, path))
    if value is None or isinstance(value, Unknown) or ctype.kind == "any":
        return value
    kind = ctype.kind
    if kind in PRIMITIVES:
        return _primitive(value, kind, path)
    walk.visit(1)
    if kind in ("list", "set"):
        if not isinstance(value, list):
            raise ConversionError(_at(path, f"{kind} of {ctype.elem} required"))
        walk.visit(len(value))
        items = [convert(v, ctype.elem, walk, f"{path}[{i}]") for i, v in enumerate(value)]
        if ctype.elem.kind == "any":
            items, elem = _unify(items, kind, path)
            if isinstance(items, Unknown):
                return items
            ctype = Type(kind, elem=elem)
        if kind == "set":
            return _set(items, ctype, walk)
        return TypedList(items, ctype)
    if kind == "map":
        if not isinstance(value, dict):
            raise ConversionError(_at(path, f"map of {ctype.elem} required"))
        if isinstance(value, ObjectValue):
            return Unknown(_at(path, "a resource object converted to a map: its computed attributes are not known"))
        walk.visit(len(value))
        items = {k: convert(v, ctype.elem, walk, f'{path}["{k}"]') for k, v in value.items()}
        if ctype.elem.kind == "any":
            values, elem = _unify(list(items.values()), kind, path)
            if isinstance(values, Unknown):
                return values
            items, ctype = dict(zip(items, values)), Type(kind, elem=elem)
        return TypedMap(items, ctype)
    if kind == "tuple":
        if not isinstance(value, list):
            raise ConversionError(_at(path, "tuple required"))
        if len(value) != len(ctype.items):
            raise ConversionError(_at(path, f"tuple required with exactly {len(ctype.items)} elements"))
        walk.visit(len(value))
        return [convert(v, t, walk, f"{path}[{i}]") for i, (v, t) in enumerate(zip(value, ctype.items))]
    if kind == "object":
        if not isinstance(value, dict):
            raise ConversionError(_at(path, "object required"))
        walk.visit(len(ctype.attrs))
        out: dict[str, Any] = {}
        for name, attr_type, optional, default in ctype.attrs:
            if name in value:
                given = value[name]
            elif isinstance(value, ObjectValue):
                given = value.missing(name)
            elif optional:
                given = None
            else:
                raise ConversionError(_at(path, f'attribute "{name}" is required'))
            if optional and plain(given) is None and not isinstance(given, (Marked, Concealed)):
                out[name] = default
            else:
                out[name] = convert(given, attr_type, walk, f"{path}.{name}" if path else f'attribute "{name}"')
        return out
    raise ConversionError(_at(path, f"{ctype} is not a type ecr-lint converts"))  # not reached: parse_type's kinds


def _at(path: str, message: str) -> str:
    if not path:
        return message
    if path.startswith("attribute "):
        return f"{path}: {message}"
    return f"element {path}: {message}"


def _primitive(value: Any, kind: str, path: str) -> Any:
    if kind == "string":
        if isinstance(value, str):
            return value
        if isinstance(value, (bool, int, float)):
            return to_string(value)
    elif kind == "number":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return value
        if isinstance(value, str):
            try:
                return to_number(value)
            except EvalError:
                raise ConversionError(_at(path, "a number is required")) from None
    elif isinstance(value, bool):
        return value
    elif isinstance(value, str) and value in ("true", "false", "1", "0"):
        return value in ("true", "1")
    raise ConversionError(_at(path, f"{kind} required"))


def _shape(value: Any) -> Any:
    """A value's type as far as unification needs it (None: null or unknown, fits any)."""
    value = plain(value)
    if value is None or isinstance(value, Unknown):
        return None
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, (TypedList, TypedMap)):
        return str(value.ctype)
    if isinstance(value, list):
        return ("tuple",) + tuple(_shape(v) for v in value)
    return ("object",) + tuple((k, _shape(v)) for k, v in sorted(value.items()))


def _unify(items: list, kind: str, path: str) -> tuple[Any, Type]:
    """list(any), set(any), map(any): every element of one type. Primitives of different types
    become strings (as Terraform does); other mixes are left unknown rather than guessed."""
    shapes = {_shape(v) for v in items} - {None}
    if len(shapes) <= 1:
        shape = next(iter(shapes), None)
        return items, Type(shape) if shape in PRIMITIVES else ANY
    if shapes <= set(PRIMITIVES):
        if "string" not in shapes:
            raise ConversionError(_at(path, f"all {kind} elements must have the same type"))
        walk = Walk()
        return [convert(v, Type("string"), walk) for v in items], Type("string")
    if any(s in PRIMITIVES for s in shapes):
        raise ConversionError(_at(path, f"all {kind} elements must have the same type"))
    return Unknown(_at(path, f"the elements of this {kind}(any) have different types: ecr-lint does not work "
                             "out the type Terraform unifies them to")), ANY


def _set(items: list, ctype: Type, walk: Walk) -> Any:
    """De-duplicated; strings and numbers in Terraform's order (others in the order given)."""
    from ecr_lint.hcl.evaluate import contains_unknown

    for v in items:
        found = contains_unknown(v)
        if found is not None:
            return Unknown(f"a set holding an unknown value ({found.reason}): its elements are not known",
                           found.refs)
    out: list = []
    seen: set = set()
    for v in items:
        key = _key(v)
        if key in seen:
            continue
        seen.add(key)
        out.append(v)
    if ctype.elem.kind in PRIMITIVES:
        out.sort(key=plain)
    return TypedList(out, ctype)


def _key(value: Any) -> Any:
    """A hashable stand-in for a value (for de-duplication)."""
    value = plain(value)
    if isinstance(value, dict):
        return ("o", tuple((k, _key(v)) for k, v in sorted(value.items())))
    if isinstance(value, list):
        return ("l", tuple(_key(v) for v in value))
    return (type(value) is bool, value)


# --- equality --------------------------------------------------------------------------------

def typed_equal(a: Any, b: Any, walk: Walk) -> bool | None:
    """Terraform's ==, where a converted list, set or map is involved: False when the values or
    their types differ, None when ecr-lint cannot tell the types apart (a tuple or a list?)."""
    a, b = plain(a), plain(b)
    if isinstance(a, Unknown) or isinstance(b, Unknown):
        return None
    if a is None or b is None:
        return a is b
    typed_a, typed_b = isinstance(a, (TypedList, TypedMap)), isinstance(b, (TypedList, TypedMap))
    if typed_a or typed_b:
        if not (typed_a and typed_b):
            # A list against a tuple is false in Terraform, against a list of the same type it is
            # compared: ecr-lint does not know which other collections are lists (tolist(), a resource's
            # attribute...), so it does not guess.
            return None if isinstance(a, (list, dict)) and isinstance(b, (list, dict)) else False
        if a.ctype != b.ctype:
            return False if a.ctype.concrete and b.ctype.concrete else None
        if a.ctype.kind == "set":
            if len(a) != len(b):
                return False
            keys = {_key(v) for v in b}
            walk.visit(len(a) + len(b))
            return all(_key(v) in keys for v in a)
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return False
        walk.visit(len(a))
        return _all(typed_equal(a[k], b[k], walk) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return False
        walk.visit(len(a))
        return _all(typed_equal(x, y, walk) for x, y in zip(a, b))
    if isinstance(a, (dict, list)) or isinstance(b, (dict, list)):
        return False
    if isinstance(a, bool) != isinstance(b, bool):
        return False
    return a == b


def _all(results: Any) -> bool | None:
    """False when any part differs (whatever the rest); None when some part cannot be told."""
    undecided = False
    for r in results:
        if r is False:
            return False
        if r is None:
            undecided = True
    return None if undecided else True

