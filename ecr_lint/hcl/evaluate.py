"""Terraform expression evaluation over the AST of syntax.py.

Values are plain Python (str, int, float, bool, None, list, dict), `Unknown(reason)` for
what cannot be known statically, and `Ref` for a reference to another object's
attribute: the reference is kept (it is a graph edge) together with its value.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any, Callable

from ecr_lint.hcl import syntax as ast
from ecr_lint.model import Ref, Unknown
from ecr_lint.sensitive import Concealed, is_marked, mark, shown, strip

# One stack's evaluation budget. Real stacks use a small fraction of each; crafted ones
# (nested for-expressions, shared references, self-calling modules) hit one and become an
# error entry for that stack instead of a hang or gigabytes of memory.
MAX_STEPS = 1_000_000        # a step is one expression node (1-4 us: a reference resolves and records a
                             # graph edge), one node a walk over a value visits, four elements or 256
                             # characters a function reads: a few seconds in all; the largest real stack
                             # of the corpus takes 27,000
MAX_BYTES = 256 * 2**20      # characters of strings plus 8 per collection element, built by one stack:
                             # 25 times a 10 MB string, far above what a real stack builds
MAX_REGEX_CHARS = 10_000_000  # characters of regex input per stack: RE2 is linear, but a DFA-defeating
                             # pattern runs at ~2 MB/s, so this is a few seconds at worst
MAX_STACK_INSTANCES = 25_000  # resources and module instances across nested modules: 2.5 times the
                             # per-block cap; Terraform itself crawls long before this size
MAX_STRING = 10_000_000      # one string; checked before a function builds it
MAX_COLLECTION = 100_000     # one list or map
MAX_TREE = 500_000           # nodes of one value with shared references expanded (local.a = [local.b,
                             # local.b] doubles at every level: the tree, not the evaluation, explodes);
                             # rules walk each attribute once per rule, so this also bounds their work
MAX_NUMBER_BITS = 512        # Terraform's numbers are 512-bit-precision floats: integers are exact up to
                             # 2^512; beyond that (and beyond float range) a number is unknown here
SCAN_CHARS_PER_STEP = 256     # C-speed string work (hash, search, case mapping)
ELEMENTS_PER_STEP = 4         # a function's loop over the elements of an argument
MARK_FUNCTIONS = frozenset({"sensitive", "nonsensitive"})


class EvalError(Exception):
    """What Terraform itself would reject (a type error, a missing key)."""


class NotExact(EvalError):
    """ecr-lint cannot compute this value exactly as Terraform does: the value is unknown, never a
    guess (try() and can() do not absorb it: Terraform would not fail there)."""


class BudgetExceeded(EvalError):
    """The stack needs more evaluation work than ecr-lint allows for one stack."""


class Budget:
    """What is left of one stack's evaluation budget; every charge is O(1)."""

    __slots__ = ("steps", "bytes", "regex", "instances")

    def __init__(self, steps: int = MAX_STEPS, nbytes: int = MAX_BYTES, regex: int = MAX_REGEX_CHARS,
                 instances: int = MAX_STACK_INSTANCES):
        self.steps, self.bytes, self.regex, self.instances = steps, nbytes, regex, instances

    def step(self, n: int = 1) -> None:
        self.steps -= n
        if self.steps < 0:
            raise BudgetExceeded(f"evaluation stopped after {MAX_STEPS} steps (an expression that grows without "
                                 "bound?)")

    def scan(self, chars: int) -> None:
        """A function reads a string of this length."""
        if chars >= SCAN_CHARS_PER_STEP:
            self.step(chars // SCAN_CHARS_PER_STEP)

    def read(self, elements: int) -> None:
        """A function reads the elements of a collection."""
        if elements >= ELEMENTS_PER_STEP:
            self.step(elements // ELEMENTS_PER_STEP)

    def build(self, nbytes: int) -> None:
        self.bytes -= nbytes
        if self.bytes < 0:
            raise BudgetExceeded(f"the stack builds more than {MAX_BYTES >> 20} MiB of strings and collections")

    def built(self, value: Any) -> None:
        """Check and charge a string or collection just built (its shallow size: O(1))."""
        if isinstance(value, str):
            check_string(len(value))
            self.build(len(value))
        elif isinstance(value, (list, dict)):
            check_collection(len(value))
            self.build(8 * len(value))

    def regex_input(self, chars: int) -> None:
        self.regex -= chars
        if self.regex < 0:
            raise BudgetExceeded(f"regular expressions read more than {MAX_REGEX_CHARS} characters in this stack")

    def instance(self, n: int, what: str) -> None:
        if n > self.instances:
            self.instances = 0
            raise BudgetExceeded(f"{what}: more than {MAX_STACK_INSTANCES} resource and module instances in this "
                                 "stack (nested count/for_each, or modules calling themselves?)")
        self.instances -= n


def check_string(length: int) -> None:
    """Call before building a string of this length."""
    if length > MAX_STRING:
        raise BudgetExceeded(f"a string of {length} characters (the limit is {MAX_STRING})")


def check_collection(length: int) -> None:
    if length > MAX_COLLECTION:
        raise BudgetExceeded(f"a collection of {length} elements (the limit is {MAX_COLLECTION})")


def budget_of(scope: "Scope") -> Budget:
    """The budget of the evaluator behind a scope (a fresh one for a context without evaluator)."""
    evaluator = getattr(scope.context, "evaluator", None)
    return evaluator.budget if evaluator is not None else Budget()


def checked_number(value: int | float) -> int | float:
    """A number ecr-lint can represent: finite, integers within 2^512 (else an EvalError -> Unknown)."""
    if isinstance(value, float):
        if value != value or value in (math.inf, -math.inf):
            raise NotExact("number out of range (overflow)")
    elif isinstance(value, int) and value.bit_length() > MAX_NUMBER_BITS:
        raise NotExact(f"number out of range (more than {MAX_NUMBER_BITS} bits)")
    return value


class Walk:
    """Counts the nodes a walk over a value visits: shared references cannot make it exponential.

    `chars` adds up the string leaves and keys, so that an encoder knows its output size first.
    """

    __slots__ = ("left", "chars")

    def __init__(self) -> None:
        self.left = MAX_TREE
        self.chars = 0

    def visit(self, n: int) -> None:
        self.left -= n
        if self.left < 0:
            raise BudgetExceeded(f"a value of more than {MAX_TREE} elements once shared references are expanded")

    def visit_tree(self, value: Any) -> None:
        """Count a whole value (raises past MAX_TREE nodes, however many are shared)."""
        value = plain(value)
        if isinstance(value, (dict, list)):
            self.visit(len(value) + 1)
            for v in value.values() if isinstance(value, dict) else value:
                if isinstance(v, (dict, list, Ref)):
                    self.visit_tree(v)

    def visited(self) -> int:
        return MAX_TREE - self.left

    def done(self, budget: Budget | None) -> None:
        if budget is not None:
            budget.step(MAX_TREE - self.left)

    def encoded_size(self) -> int:
        """An upper estimate of the JSON text: the characters plus a few per node."""
        return self.chars + 4 * (MAX_TREE - self.left)


class ObjectValue(dict):
    """An object whose missing attributes are computed by the provider, not absent."""

    __slots__ = ("address", "after_apply")

    def __init__(self, data: dict, address: str, after_apply: bool = True):
        super().__init__(data)
        self.address = address
        self.after_apply = after_apply

    def missing(self, name: str) -> Unknown:
        when = "known only after apply" if self.after_apply else "read from AWS at plan time"
        return Unknown(f"{self.address}.{name} is {when}", (self.address,), "${%s.%s}" % (self.address, name))


_WRAPPERS = (Ref, Concealed)


def plain(value: Any) -> Any:
    """The value behind a reference (and behind the mark of a sensitive bool)."""
    while isinstance(value, _WRAPPERS):
        value = value.value
    return value


def deep_plain(value: Any, budget: Budget | None = None, walk: Walk | None = None) -> Any:
    """The value with every reference replaced by what it refers to (bounded: see Walk)."""
    value = plain(value)
    if not isinstance(value, (dict, list)):
        return value
    return _copied(value, budget, walk, placeholders=False)


def _copied(value: Any, budget: Budget | None, walk: Walk | None, placeholders: bool) -> Any:
    """A copy without references (and, with placeholders, unknowns as `${...}` text); the walk is
    charged to the budget unless the caller brought its own."""
    own = walk is None
    walk = walk or Walk()
    out = _copy(value, walk, placeholders)
    if own:
        walk.done(budget)
    return out


def _copy(value: Any, walk: Walk, placeholders: bool) -> Any:
    value = plain(value)
    if placeholders and isinstance(value, Unknown):
        value = value.partial if isinstance(value.partial, str) else "${unknown}"
    if isinstance(value, dict):
        walk.visit(len(value) + 1)
        walk.chars += sum(len(k) for k in value)
        return {k: _copy(v, walk, placeholders) for k, v in value.items()}
    if isinstance(value, list):
        walk.visit(len(value) + 1)
        return [_copy(v, walk, placeholders) for v in value]
    if isinstance(value, str):
        walk.chars += len(value)
    return value


def is_unknown(value: Any) -> bool:
    return isinstance(plain(value), Unknown)


def merge_unknowns(unknowns: list[Unknown], partial: Any = None) -> Unknown:
    refs: list[str] = []
    for u in unknowns:
        refs.extend(r for r in u.refs if r not in refs)
    return Unknown(unknowns[0].reason, tuple(refs), partial)


def contains_unknown(value: Any, budget: Budget | None = None) -> Unknown | None:
    value = plain(value)
    if isinstance(value, Unknown):
        return value
    if not isinstance(value, (dict, list)):
        return None
    walk = Walk()
    found = _contains_unknown(value, walk)
    walk.done(budget)
    return found


def _contains_unknown(value: Any, walk: Walk) -> Unknown | None:
    value = plain(value)
    if isinstance(value, Unknown):
        return value
    if isinstance(value, (dict, list)):
        walk.visit(len(value) + 1)
        for v in value.values() if isinstance(value, dict) else value:
            found = _contains_unknown(v, walk)
            if found:
                return found
    return None


def symbolic(value: Any, budget: Budget | None = None, walk: Walk | None = None) -> Any:
    """A JSON-able rendering where unknown parts become `${...}` placeholders."""
    return _copied(value, budget, walk, placeholders=True)


def to_string(value: Any) -> str:
    value = plain(value)
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if value is None:
        raise EvalError("a null value cannot be used in a string template")
    raise EvalError(f"cannot convert {type_name(value)} to string")


def exact_float(text: str, value: float) -> float:
    """`value`, parsed from the decimal `text`, if it is exactly that number (Terraform keeps 512
    bits: 0.1 in a 64-bit float is another number, so it compares and rounds differently)."""
    if math.isfinite(value) and Fraction(text) != Fraction(value):
        raise NotExact(f"the number {text[:40]} is not exact in ecr-lint's 64-bit floats (Terraform computes "
                       "with 512 bits)")
    return value


def to_number(value: Any) -> int | float:
    value = plain(value)
    if isinstance(value, bool):
        raise EvalError("a bool is not a number")
    if isinstance(value, (int, float)):
        return checked_number(value)
    if isinstance(value, str):
        text = value.strip()
        if len(text) > 400:  # 2^512 has 155 digits: longer text is out of range or malformed
            raise EvalError(f"{value[:40]!r}... is not a number ecr-lint evaluates (too long)")
        try:
            if text.lstrip("+-").isdigit() and text.isascii():
                return checked_number(int(text))
            number = float(text)
        except ValueError:
            raise EvalError(f"{value!r} is not a number") from None
        return checked_number(exact_float(text, number))
    raise EvalError(f"{type_name(value)} is not a number")


def to_bool(value: Any) -> bool:
    value = plain(value)
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return value == "true"
    raise EvalError(f"{type_name(value)} is not a bool")


def type_name(value: Any) -> str:
    value = plain(value)
    if value is None:
        return "null"
    for kind, name in ((bool, "bool"), (str, "string"), (int, "number"), (float, "number"), (list, "tuple")):
        if isinstance(value, kind):
            return name  # isinstance: a sensitive value is of its value's type
    return "object"


def get_attr(value: Any, name: str) -> Any:
    if isinstance(value, Ref):
        return Ref(value.address, value.path + (name,), get_attr(value.value, name))
    if isinstance(value, Unknown):
        partial = f"{value.partial[:-1]}.{name}}}" if _is_placeholder(value.partial) else None
        return Unknown(value.reason, value.refs, partial)
    if isinstance(value, ObjectValue):
        return value[name] if name in value else value.missing(name)
    if isinstance(value, dict):
        if name in value:
            return value[name]
        raise EvalError(f'this object has no attribute "{name}"')
    if value is None:
        raise EvalError(f'cannot read attribute "{name}" of null')
    raise EvalError(f'cannot read attribute "{name}" of a {type_name(value)}')


def index(value: Any, key: Any) -> Any:
    key = plain(key)
    if isinstance(value, Ref):
        return Ref(value.address, value.path + (key,), index(value.value, key))
    if isinstance(key, Unknown):
        return key
    if isinstance(value, Unknown):
        partial = f"{value.partial[:-1]}[{key!r}]}}" if _is_placeholder(value.partial) else None
        return Unknown(value.reason, value.refs, partial)
    if isinstance(value, dict):
        k = to_string(key)
        if k in value:
            return value[k]
        if isinstance(value, ObjectValue):
            return value.missing(k)
        raise EvalError(f"key {k!r} not found (keys: {', '.join(map(shown, sorted(value)[:8]))})")
    if isinstance(value, list):
        i = to_number(key)
        if not isinstance(i, int) or not 0 <= i < len(value):
            raise EvalError(f"index {key!r} out of range for a list of {len(value)}")
        return value[i]
    if value is None:
        raise EvalError("cannot index null")
    raise EvalError(f"cannot index a {type_name(value)}")


def _is_placeholder(partial: Any) -> bool:
    return isinstance(partial, str) and partial.startswith("${") and partial.endswith("}") and partial.count("${") == 1


class Scope:
    """Names visible to an expression: the module context plus iteration variables."""

    __slots__ = ("context", "names")

    def __init__(self, context: Any, names: dict[str, Any] | None = None):
        self.context = context
        self.names = names or {}

    def child(self, **names: Any) -> "Scope":
        merged = dict(self.names)
        merged.update(names)
        return Scope(self.context, merged)


class Evaluator:
    """Evaluates expressions; `context.resolve(root, steps, scope)` looks up references.

    The context returns (value, steps consumed). It records graph edges itself.
    """

    def __init__(self, functions: dict[str, Callable[..., Any]], budget: Budget | None = None):
        self.functions = functions
        self.budget = budget or Budget()
        # Sensitive marks (ecr_lint/sensitive.py) are looked for only once one has been made,
        # so a stack without sensitive values pays nothing for them.
        self.tainted = False
        self._unmarked: dict[int, tuple[Any, Any]] = {}   # id -> (collection, it without marks)
        self._marked: dict[int, tuple[Any, Any]] = {}     # id -> (collection, it marked)

    def mark(self, value: Any) -> Any:
        """A value from a sensitive source, marked (loaders call this for sensitive variables...)."""
        self.tainted = True
        return self._remark(value)

    def _remark(self, value: Any) -> Any:
        if not isinstance(value, (dict, list)):
            return mark(value)
        found = self._marked.get(id(value))  # the same collection, marked once per stack
        if found is None:
            found = self._marked[id(value)] = (value, mark(value))
        return found[1]

    def _unmark(self, value: Any) -> Any:
        if not isinstance(value, (dict, list)):
            return strip(value)
        found = self._unmarked.get(id(value))  # a collection is looked through once per stack
        if found is None:
            found = self._unmarked[id(value)] = (value, strip(value))
        return found[1]

    def _marked_if(self, result: Any, *sources: Any) -> Any:
        """Any operation with a sensitive operand gives a sensitive result."""
        if self.tainted and any(is_marked(s) for s in sources):
            return self._remark(result)
        return result

    def eval(self, node: ast.Node, scope: Scope) -> Any:
        budget = self.budget
        budget.steps -= 1
        if budget.steps < 0:
            budget.step(0)  # raises
        method = getattr(self, "e_" + type(node).__name__)
        return method(node, scope)

    def e_Lit(self, node: ast.Lit, scope: Scope) -> Any:
        value = node.value
        if type(value) in _NUMBER_TYPES:  # 1e400 parses to inf; a 4000-digit literal to an int
            return checked_number(value)
        return value

    def e_Template(self, node: ast.Template, scope: Scope) -> Any:
        if len(node.parts) == 1 and isinstance(node.parts[0], ast.Node) and not isinstance(node.parts[0], (ast.TIf, ast.TFor)):
            # "${x}" alone is x itself, with its type and its reference.
            return self.eval(node.parts[0], scope)
        return self._render(node.parts, scope)

    def _render(self, parts: tuple, scope: Scope) -> Any:
        pieces: list[Any] = []
        marks: list[Any] = []
        self._render_into(parts, scope, pieces, marks)
        unknowns = [p for p in pieces if isinstance(p, Unknown)]
        if unknowns:
            partial = "".join(p if isinstance(p, str) else (p.partial if isinstance(p.partial, str) else "${unknown}") for p in pieces)
            return self._marked_if(merge_unknowns(unknowns, partial), *marks)
        size = sum(len(p) for p in pieces)
        check_string(size)  # before building it
        self.budget.build(size)
        return self._marked_if(ast.nfc("".join(pieces)), *marks)

    def _render_into(self, parts: tuple, scope: Scope, out: list, marks: list) -> None:
        for part in parts:
            if isinstance(part, str):
                out.append(part)
                continue
            raw = self.eval(part.cond if isinstance(part, ast.TIf) else part.coll if isinstance(part, ast.TFor)
                            else part, scope)
            if self.tainted and is_marked(raw):
                marks.append(raw)
            if isinstance(part, ast.TIf):
                cond = plain(raw)
                if isinstance(cond, Unknown):
                    out.append(cond)
                else:
                    self._render_into(part.then if to_bool(cond) else part.other, scope, out, marks)
            elif isinstance(part, ast.TFor):
                coll = plain(raw)
                if isinstance(coll, Unknown):
                    out.append(coll)
                    continue
                for k, v in _iterate(coll):
                    names = {part.value: v}
                    if part.key:
                        names[part.key] = k
                    self._render_into(part.body, scope.child(**names), out, marks)
            else:
                value = plain(raw)
                out.append(value if isinstance(value, Unknown) else to_string(value))

    def e_TupleExpr(self, node: ast.TupleExpr, scope: Scope) -> Any:
        return [self.eval(item, scope) for item in node.items]

    def e_ObjectExpr(self, node: ast.ObjectExpr, scope: Scope) -> Any:
        out: dict[str, Any] = {}
        for key_node, value_node in node.items:
            key = plain(self.eval(key_node, scope))
            if isinstance(key, Unknown):
                return Unknown(f"an object key is unknown: {key.reason}", key.refs)
            out[to_string(key)] = self.eval(value_node, scope)  # a repeated key keeps the last
        return out

    def e_Cond(self, node: ast.Cond, scope: Scope) -> Any:
        raw = self.eval(node.cond, scope)
        cond = plain(raw)
        if isinstance(cond, Unknown):
            then, other = self.eval(node.then, scope), self.eval(node.other, scope)
            if not contains_unknown(then, self.budget) and _equal(then, other, self.budget):
                return self._marked_if(then, raw)
            return cond
        return self._marked_if(self.eval(node.then if to_bool(cond) else node.other, scope), raw)

    def e_UnOp(self, node: ast.UnOp, scope: Scope) -> Any:
        raw = self.eval(node.operand, scope)
        value = plain(raw)
        if isinstance(value, Unknown):
            return value
        if node.op == "!":
            return self._marked_if(not to_bool(value), raw)
        return self._marked_if(-to_number(value), raw)  # in range: its negation is too

    def e_BinOp(self, node: ast.BinOp, scope: Scope) -> Any:
        op = node.op
        left_raw = self.eval(node.left, scope)
        left = plain(left_raw)
        if op in ("&&", "||") and not isinstance(left, Unknown):
            # Terraform does not short-circuit, but the result is the same when known.
            if op == "&&" and not to_bool(left):
                return self._marked_if(False, left_raw)
            if op == "||" and to_bool(left):
                return self._marked_if(True, left_raw)
        right_raw = self.eval(node.right, scope)
        return self._marked_if(self._binop(op, left, plain(right_raw)), left_raw, right_raw)

    def _binop(self, op: str, left: Any, right: Any) -> Any:
        if op in ("==", "!=") and (isinstance(left, Unknown) != isinstance(right, Unknown)):
            decided = _refined_equality(left, right)
            if decided is not None:
                return decided if op == "==" else not decided
        if isinstance(left, Unknown) or isinstance(right, Unknown):
            return merge_unknowns([u for u in (left, right) if isinstance(u, Unknown)])
        if op in ("==", "!="):
            equal = _equality(left, right, self.budget)
            return equal if op == "==" else not equal
        if op == "&&":
            return to_bool(left) and to_bool(right)
        if op == "||":
            return to_bool(left) or to_bool(right)
        a, b = to_number(left), to_number(right)
        if op in _ARITHMETIC:
            if type(a) is not int or type(b) is not int:
                return _exact_arithmetic(op, a, b)
            try:
                return checked_number(_ARITHMETIC[op](a, b))
            except (OverflowError, ValueError) as exc:  # float overflow, int too large for a float
                raise NotExact(f"number out of range ({exc})") from None
        if op == "<":
            return a < b
        if op == ">":
            return a > b
        if op == "<=":
            return a <= b
        if op == ">=":
            return a >= b
        raise EvalError(f"unknown operator {op}")

    def e_Name(self, node: ast.Name, scope: Scope) -> Any:
        return self._traverse(node, scope)

    def e_GetAttr(self, node: ast.GetAttr, scope: Scope) -> Any:
        return self._traverse(node, scope)

    def e_Index(self, node: ast.Index, scope: Scope) -> Any:
        return self._traverse(node, scope)

    def _traverse(self, node: ast.Node, scope: Scope) -> Any:
        steps: list[tuple[str, Any]] = []
        while not isinstance(node, ast.Name):
            if isinstance(node, ast.GetAttr):
                steps.append(("attr", node.name))
                node = node.obj
            elif isinstance(node, ast.Index):
                steps.append(("index", node.key))
                node = node.obj
            else:
                base = self.eval(node, scope)
                return self._apply(base, list(reversed(steps)), scope)
        steps.reverse()
        if node.name in scope.names:
            return self._apply(scope.names[node.name], steps, scope)
        resolved_steps = [(kind, self._step_key(kind, key, scope)) for kind, key in steps]
        value, used = scope.context.resolve(node.name, resolved_steps, scope)
        return self._apply(value, resolved_steps[used:], scope, evaluated=True)

    def _step_key(self, kind: str, key: Any, scope: Scope) -> Any:
        return key if kind == "attr" else plain(self.eval(key, scope))

    def _apply(self, value: Any, steps: list, scope: Scope, evaluated: bool = False) -> Any:
        for kind, key in steps:
            if kind == "attr":
                value = get_attr(value, key)
            else:
                key = key if evaluated else plain(self.eval(key, scope))
                value = self._marked_if(index(value, key), key)  # chosen by a sensitive key: sensitive
        return value

    def e_Splat(self, node: ast.Splat, scope: Scope) -> Any:
        base = self.eval(node.obj, scope)
        inner = plain(base)
        if isinstance(inner, Unknown):
            return inner
        if inner is None:
            return []
        items = inner if isinstance(inner, list) else [base]
        self.budget.step(len(items))
        steps = [(kind, key if kind == "attr" else plain(self.eval(key, scope))) for kind, key in node.ops]
        return [self._apply(item, steps, scope, evaluated=True) for item in items]

    def e_Call(self, node: ast.Call, scope: Scope) -> Any:
        name = node.name
        if name in ("try", "can"):
            return self._try(node, scope)
        func = self.functions.get(name)
        if func is None:
            if "::" in name:
                return Unknown(f"provider function {name}() is not evaluated statically")
            raise EvalError(f'there is no function named "{name}"')
        args = [self.eval(a, scope) for a in node.args]
        if node.expand and args:
            last = plain(args.pop())
            if isinstance(last, Unknown):
                return last
            if not isinstance(last, list):
                raise EvalError("the ... expansion needs a list")
            args.extend(last)
        if name in MARK_FUNCTIONS:  # sensitive(), nonsensitive(): they work on the marks themselves
            self.tainted = self.tainted or name == "sensitive"
            return func(*args, scope=scope)
        if not self.tainted:
            return func(*args, scope=scope)
        # Functions see plain values; the result is sensitive when any argument held a mark
        # (Terraform's rule for its functions).
        unmarked = [self._unmark(a) for a in args]
        if all(u is a for u, a in zip(unmarked, args)):
            return func(*unmarked, scope=scope)
        try:
            return self._remark(func(*unmarked, scope=scope))
        except (BudgetExceeded, NotExact):
            raise
        except EvalError:  # its message may quote the (plain) argument
            raise EvalError(f"{name}() cannot take this sensitive argument") from None

    def _try(self, node: ast.Call, scope: Scope) -> Any:
        for arg in node.args:
            try:
                value = self.eval(arg, scope)
            except (BudgetExceeded, NotExact):
                raise  # ecr-lint's limit, not a Terraform error that try()/can() may absorb
            except EvalError:
                continue
            if node.name == "can":
                return True if not is_unknown(value) else value
            return value
        if node.name == "can":
            return False
        raise EvalError("no argument of try() could be evaluated")

    def e_ForExpr(self, node: ast.ForExpr, scope: Scope) -> Any:
        coll = plain(self.eval(node.coll, scope))
        if isinstance(coll, Unknown):
            return coll
        pairs = _iterate(coll)
        check_collection(len(pairs))
        self.budget.step(len(pairs))
        out_list: list[Any] = []
        out_map: dict[str, Any] = {}
        filtered = False
        for k, v in pairs:
            names = {node.value_var: v}
            if node.key_var:
                names[node.key_var] = k
            inner = scope.child(**names)
            if node.cond is not None:
                keep_raw = self.eval(node.cond, inner)
                keep = plain(keep_raw)
                if isinstance(keep, Unknown):
                    return keep
                if self.tainted and is_marked(keep_raw):
                    filtered = True  # which elements are left says something about a sensitive value
                if not to_bool(keep):
                    continue
            value = self.eval(node.value, inner)
            if node.key is None:
                out_list.append(value)
                continue
            key = plain(self.eval(node.key, inner))
            if isinstance(key, Unknown):
                return key
            key = to_string(key)
            if node.group:
                out_map.setdefault(key, []).append(value)
            else:
                out_map[key] = value  # Terraform rejects duplicates; we keep the last
        result = out_list if node.key is None else out_map
        return self._remark(result) if filtered else result


def _refined_equality(left: Any, right: Any) -> bool | None:
    """Like Terraform's refinements: a string known to start with some text is not null or ""."""
    unknown, other = (left, right) if isinstance(left, Unknown) else (right, left)
    partial = unknown.partial
    if not isinstance(partial, str):
        return None
    prefix = partial.split("${", 1)[0]
    if not prefix:
        return None
    if other is None:
        return False
    if isinstance(other, str) and not other.startswith(prefix[:len(other)]):
        return False
    if other == "":
        return False
    return None


def _exact_arithmetic(op: str, a: int | float, b: int | float) -> int | float:
    """Arithmetic with a fraction or a division: the exact result when a 64-bit float holds it (then
    it is Terraform's 512-bit result too, as every operand is exact), else NotExact."""
    if op == "%":
        if b == 0:
            return a  # Terraform: 5 % 0 is 5
        if type(a) is int and type(b) is int:
            remainder = abs(a) % abs(b)  # exact for large integers; the sign of the dividend, like fmod
            return remainder if a >= 0 else -remainder
        return math.fmod(a, b)  # exact for exact operands (IEEE remainder is never rounded)
    if op == "/" and type(a) is int and type(b) is int and b and not a % b:
        return checked_number(a // b)  # the common whole quotient, without fractions
    x, y = Fraction(a), Fraction(b)
    if op == "/":
        if y == 0:
            if x == 0:
                raise EvalError("can't divide zero by zero")
            raise NotExact("division by zero: Terraform gives an infinity, which ecr-lint does not represent")
        result = x / y
    else:
        result = x + y if op == "+" else x - y if op == "-" else x * y
    if result.denominator == 1:
        return checked_number(int(result))
    try:
        number = float(result)
    except OverflowError:
        raise NotExact("number out of range (overflow)") from None
    if Fraction(number) != result:
        raise NotExact(f"{a} {op} {b} is not exact in ecr-lint's 64-bit floats (Terraform computes with 512 bits)")
    return number


_NUMBER_TYPES = (int, float)
_ARITHMETIC: dict[str, Callable[[Any, Any], Any]] = {  # integers, exact: fractions go to _exact_arithmetic
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
    "/": lambda a, b: _exact_arithmetic("/", a, b), "%": lambda a, b: _exact_arithmetic("%", a, b),
}


def _equal(a: Any, b: Any, budget: Budget | None = None) -> bool:
    a, b = deep_plain(a, budget), deep_plain(b, budget)
    if isinstance(a, bool) != isinstance(b, bool):
        return False
    return a == b


def _equality(a: Any, b: Any, budget: Budget) -> bool | Unknown:
    """Terraform's ==: collections compared with their types where ecr-lint knows them (a variable's
    value converted to its declared type, hcl/types.py); an Unknown where it cannot tell."""
    if not isinstance(a, (dict, list)) and not isinstance(b, (dict, list)):
        return _equal(a, b, budget)
    from ecr_lint.hcl.types import typed_equal

    walk = Walk()
    try:
        equal = typed_equal(a, b, walk)
    finally:
        walk.done(budget)
    if equal is None:
        return Unknown("== compares a list, set or map of a declared type with a collection whose type ecr-lint "
                       "does not know (Terraform says false across list and tuple, or map and object, types; "
                       "convert both sides with tolist(), toset() or tomap())")
    return equal


def _iterate(coll: Any) -> list[tuple[Any, Any]]:
    if isinstance(coll, dict):
        return [(k, coll[k]) for k in sorted(coll)]
    if isinstance(coll, list):
        return list(enumerate(coll))
    if coll is None:
        raise EvalError("cannot iterate over null")
    raise EvalError(f"cannot iterate over a {type_name(coll)}")
