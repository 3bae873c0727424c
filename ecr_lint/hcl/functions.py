"""Terraform's built-in functions that real ECR stacks use, Unknown-aware."""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import math
import os
import re
import unicodedata
from typing import Any, Callable

from ecr_lint.hcl import cidr, tfregex, timefuncs
from ecr_lint.hcl.syntax import nfc
from ecr_lint.hcl.evaluate import (
    MAX_NUMBER_BITS, MAX_STRING, MAX_TREE, Budget, EvalError, NotExact, Scope, Walk, budget_of, check_collection, check_string,
    checked_number, exact_float, contains_unknown, deep_plain, merge_unknowns, plain, symbolic, to_bool, to_number, to_string,
    type_name,
)
from ecr_lint import sensitive
from ecr_lint.model import Unknown

MAX_FILE_BYTES = 4 * 1024 * 1024

FUNCTIONS: dict[str, Callable[..., Any]] = {}

# Terraform functions we deliberately do not evaluate: their result is Unknown, not an error.
NOT_EVALUATED = {
    "timestamp", "uuid", "uuidv5", "bcrypt", "plantimestamp", "timecmp",
    "rsadecrypt", "textdecodebase64", "base64gzip", "pathexpand", "templatestring",
    "ephemeralasnull", "issensitive", "uuidv4",
}


def function(name: str, lazy_unknown: bool = False, light: bool = False):
    """Register a function; unless lazy_unknown, an Unknown argument makes the result Unknown.

    The stack's budget is charged for the arguments the function reads (elements, characters)
    and for the string or collection it returns; `light` functions only pick from or look at
    their arguments (length, lookup, element...) and are not charged.
    """

    def wrap(impl: Callable[..., Any]) -> Callable[..., Any]:
        wants_scope = "scope" in impl.__code__.co_varnames

        def call(*args: Any, scope: Scope) -> Any:
            values = [plain(a) for a in args]
            if not lazy_unknown:
                unknowns = [v for v in values if isinstance(v, Unknown)]
                if unknowns:
                    return merge_unknowns(unknowns)
            budget = None if light else budget_of(scope)
            if budget is not None:
                for v in values:
                    if isinstance(v, str):
                        budget.scan(len(v))
                    elif isinstance(v, (list, dict)):
                        budget.read(len(v))
            try:
                result = impl(*values, scope=scope) if wants_scope else impl(*values)
            except TypeError as exc:
                raise EvalError(f"{name}(): wrong arguments ({exc})") from None
            except (ValueError, ArithmeticError) as exc:  # math domain, overflow, bad digits: Terraform errors too
                raise EvalError(f"{name}(): {exc}") from None
            if isinstance(result, (int, float)):
                checked_number(result)
            elif budget is not None:
                budget.built(result)
            return nfc(result) if type(result) is str else result

        FUNCTIONS[name] = call
        return impl

    return wrap


def _not_evaluated(name: str) -> Callable[..., Any]:
    def call(*args: Any, scope: Scope) -> Any:
        return Unknown(f"{name}() is not evaluated statically")

    return call


for _name in NOT_EVALUATED:
    FUNCTIONS[_name] = _not_evaluated(_name)


def _list(value: Any, fname: str) -> list:
    if isinstance(value, list):
        return value
    raise EvalError(f"{fname}(): expected a list, got {type_name(value)}")


def _map(value: Any, fname: str) -> dict:
    if isinstance(value, dict):
        return value
    raise EvalError(f"{fname}(): expected a map or object, got {type_name(value)}")


def _set_key(value: Any, walk: Walk) -> Any:
    """A hashable key, equal for values Terraform treats as equal (1 and 1.0; not true and 1),
    so that set functions are linear, not a list search per element."""
    value = plain(value)
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, dict):
        walk.visit(len(value) + 1)
        return ("map", tuple(sorted((k, _set_key(v, walk)) for k, v in value.items())))
    if isinstance(value, list):
        walk.visit(len(value) + 1)
        return ("list", tuple(_set_key(v, walk) for v in value))
    if isinstance(value, Unknown):
        return ("unknown", value.reason, value.refs)
    return value


def _set_keys(items: list, budget: Budget) -> list:
    walk = Walk()
    keys = [_set_key(item, walk) for item in items]
    walk.done(budget)
    return keys


def _set(items: list, budget: Budget) -> list:
    out: list = []
    seen: set = set()
    for item, key in zip(items, _set_keys(items, budget)):
        if key not in seen:
            seen.add(key)
            out.append(item)
    if all(isinstance(plain(i), str) for i in out):
        out.sort(key=plain)  # Terraform orders sets of strings lexically
    return out


# --- collections ---------------------------------------------------------------------


@function("merge")
def _merge(*maps: Any) -> Any:
    check_collection(sum(len(_map(m, "merge")) for m in maps if m is not None))  # before building it
    out: dict = {}
    for m in maps:
        if m is None:
            continue
        out.update(m)
    return out


@function("concat")
def _concat(*lists: Any) -> Any:
    check_collection(sum(len(_list(item, "concat")) for item in lists))
    out: list = []
    for item in lists:
        out.extend(item)
    return out


@function("lookup", light=True)
def _lookup(m: Any, key: Any, *default: Any) -> Any:
    m = _map(m, "lookup")
    key = to_string(key)
    if key in m:
        return m[key]
    if default:
        return default[0]
    raise EvalError(f"lookup(): key {key!r} not found and no default given")


@function("element", light=True)
def _element(lst: Any, i: Any) -> Any:
    lst = _list(lst, "element")
    if not lst:
        raise EvalError("element(): the list is empty")
    return lst[int(to_number(i)) % len(lst)]


@function("coalesce", lazy_unknown=True, light=True)
def _coalesce(*values: Any) -> Any:
    for v in values:
        if isinstance(v, Unknown):
            return v
        if v is not None and v != "":
            return v
    raise EvalError("coalesce(): no non-null, non-empty argument")


@function("coalescelist", lazy_unknown=True, light=True)
def _coalescelist(*values: Any) -> Any:
    for v in values:
        if isinstance(v, Unknown):
            return v
        if _list(v, "coalescelist"):
            return v
    raise EvalError("coalescelist(): no non-empty list")


@function("keys")
def _keys(m: Any) -> Any:
    return sorted(_map(m, "keys"))


@function("values")
def _values(m: Any) -> Any:
    m = _map(m, "values")
    return [m[k] for k in sorted(m)]


# Characters that may join a neighbour into one grapheme cluster (Terraform counts clusters, not
# code points): marks, format characters (ZWJ, prepend), unassigned ones, and the letters of the
# Unicode grapheme rules that are none of those (Hangul jamo, regional indicators, emoji modifiers,
# Thai/Lao AM, prepending letters).
_JOINING_CATEGORIES = frozenset({"Mn", "Mc", "Me", "Cf", "Cn", "Co", "Cs"})
_JOINING_RANGES = ((0x1100, 0x11FF), (0xA960, 0xA97F), (0xD7B0, 0xD7FF), (0x1F1E6, 0x1F1FF), (0x1F3FB, 0x1F3FF),
                   (0xFF9E, 0xFF9F), (0x0E33, 0x0E33), (0x0EB3, 0x0EB3), (0x0D4E, 0x0D4E), (0x111C2, 0x111C3),
                   (0x1193F, 0x1193F), (0x11941, 0x11941), (0x11A3A, 0x11A3A), (0x11A84, 0x11A89), (0x11D46, 0x11D46),
                   (0x11F02, 0x11F02))


@functools.lru_cache(maxsize=4096)
def _joins(ch: str) -> bool:
    code = ord(ch)
    return unicodedata.category(ch) in _JOINING_CATEGORIES or any(lo <= code <= hi for lo, hi in _JOINING_RANGES)


def _clusters(text: str, fname: str) -> str:
    """`text` if each of its code points is a grapheme cluster of its own (then counting, slicing and
    reversing code points is what Terraform does with clusters); else NotExact."""
    if (text.isascii() or not any(_joins(c) for c in text)) and "\r\n" not in text:
        return text
    raise NotExact(f"{fname}(): the string has combining or joining characters (Terraform counts grapheme "
                   "clusters, which ecr-lint does not evaluate)")


@function("length", light=True)
def _length(value: Any) -> Any:
    if isinstance(value, str):
        return len(_clusters(value, "length"))
    if isinstance(value, (list, dict)):
        return len(value)
    raise EvalError(f"length(): cannot take the length of {type_name(value)}")


@function("contains")
def _contains(lst: Any, value: Any, scope: Scope) -> Any:
    lst = _list(lst, "contains")
    budget = budget_of(scope)
    unknown = contains_unknown(lst, budget) or contains_unknown(value, budget)
    if unknown:
        return merge_unknowns([unknown])
    return _set_keys([value], budget)[0] in set(_set_keys(lst, budget))


@function("flatten")
def _flatten(lst: Any, scope: Scope) -> Any:
    out: list = []
    counter = Walk()  # lists of empty lists shared by reference add nothing to `out`, but are walked

    def walk(items: list) -> None:
        counter.visit(len(items) + 1)
        for item in items:
            inner = plain(item)
            if isinstance(inner, list):
                walk(inner)
            else:
                out.append(item)
        check_collection(len(out))

    walk(_list(lst, "flatten"))
    counter.done(budget_of(scope))
    return out


@function("distinct")
def _distinct(lst: Any, scope: Scope) -> Any:
    items = _list(lst, "distinct")
    out: list = []
    seen: set = set()
    for item, key in zip(items, _set_keys(items, budget_of(scope))):
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


@function("tolist")
def _tolist(value: Any) -> Any:
    return list(_list(value, "tolist"))


@function("toset")
def _toset(value: Any, scope: Scope) -> Any:
    return _set(_list(value, "toset"), budget_of(scope))


@function("tomap")
def _tomap(value: Any) -> Any:
    return dict(_map(value, "tomap"))


@function("tostring", light=True)
def _tostring(value: Any) -> Any:
    return None if value is None else to_string(value)


@function("tonumber")
def _tonumber(value: Any) -> Any:
    return None if value is None else to_number(value)


@function("tobool")
def _tobool(value: Any) -> Any:
    return None if value is None else to_bool(value)


@function("compact")
def _compact(lst: Any) -> Any:
    return [x for x in _list(lst, "compact") if plain(x) not in (None, "")]


@function("zipmap")
def _zipmap(ks: Any, vs: Any) -> Any:
    ks, vs = _list(ks, "zipmap"), _list(vs, "zipmap")
    if len(ks) != len(vs):
        raise EvalError("zipmap(): lists of different lengths")
    return {to_string(k): v for k, v in zip(ks, vs)}


@function("slice")
def _slice(lst: Any, start: Any, end: Any) -> Any:
    return _list(lst, "slice")[int(to_number(start)):int(to_number(end))]


@function("reverse")
def _reverse(lst: Any) -> Any:
    return list(reversed(_list(lst, "reverse")))


@function("sort")
def _sort(lst: Any) -> Any:
    return sorted(to_string(x) for x in _list(lst, "sort"))


@function("range")
def _range(*args: Any) -> Any:
    nums = [to_number(a) for a in args]
    if len(nums) == 1:
        nums = [0, nums[0], 1]
    elif len(nums) == 2:
        nums.append(1 if nums[1] >= nums[0] else -1)
    start, stop, step = nums
    if step == 0:
        raise EvalError("range(): step must not be zero")
    check_collection(math.ceil(abs((stop - start) / step)))
    out = []
    value = start
    while (step > 0 and value < stop) or (step < 0 and value > stop):
        out.append(value)
        value += step
    return out


@function("one", light=True)
def _one(lst: Any) -> Any:
    lst = _list(lst, "one")
    if len(lst) > 1:
        raise EvalError("one(): more than one element")
    return lst[0] if lst else None


@function("index")
def _index(lst: Any, value: Any, scope: Scope) -> Any:
    budget = budget_of(scope)
    keys = _set_keys(_list(lst, "index"), budget)
    try:
        return keys.index(_set_keys([value], budget)[0])
    except ValueError:
        raise EvalError("index(): value not in list") from None


@function("setunion")
def _setunion(*sets: Any, scope: Scope) -> Any:
    if sum(len(_list(s, "setunion")) for s in sets) > MAX_TREE:  # the result is checked; bound what is read too
        check_collection(MAX_TREE)
    return _set([x for s in sets for x in s], budget_of(scope))


@function("setintersection")
def _setintersection(first: Any, *rest: Any, scope: Scope) -> Any:
    budget = budget_of(scope)
    items = _list(first, "setintersection")
    others = [set(_set_keys(_list(r, "setintersection"), budget)) for r in rest]
    return _set([x for x, key in zip(items, _set_keys(items, budget)) if all(key in other for other in others)], budget)


@function("setsubtract")
def _setsubtract(a: Any, b: Any, scope: Scope) -> Any:
    budget = budget_of(scope)
    items = _list(a, "setsubtract")
    other = set(_set_keys(_list(b, "setsubtract"), budget))
    return _set([x for x, key in zip(items, _set_keys(items, budget)) if key not in other], budget)


@function("alltrue")
def _alltrue(lst: Any) -> Any:
    values = [plain(x) for x in _list(lst, "alltrue")]
    unknown = [v for v in values if isinstance(v, Unknown)]
    return merge_unknowns(unknown) if unknown else all(to_bool(v) for v in values)


@function("anytrue")
def _anytrue(lst: Any) -> Any:
    values = [plain(x) for x in _list(lst, "anytrue")]
    unknown = [v for v in values if isinstance(v, Unknown)]
    return merge_unknowns(unknown) if unknown else any(to_bool(v) for v in values)


@function("sum")
def _sum(lst: Any) -> Any:
    return sum(to_number(x) for x in _list(lst, "sum"))


@function("min")
def _min(*nums: Any) -> Any:
    return min(to_number(n) for n in nums)


@function("max")
def _max(*nums: Any) -> Any:
    return max(to_number(n) for n in nums)


@function("abs")
def _abs(n: Any) -> Any:
    return abs(to_number(n))


@function("ceil")
def _ceil(n: Any) -> Any:
    value = to_number(n)
    return value if isinstance(value, float) and abs(value) >= 2**53 else math.ceil(value)  # already whole


@function("floor")
def _floor(n: Any) -> Any:
    value = to_number(n)
    return value if isinstance(value, float) and abs(value) >= 2**53 else math.floor(value)


def _marking(name: str, change: Callable[[Any], Any]) -> Callable[..., Any]:
    """sensitive() and nonsensitive() see their argument as it is: its marks, and its reference
    (`sensitive(aws_kms_key.k.arn)` is still a reference to the key)."""

    def call(*args: Any, scope: Scope) -> Any:
        if len(args) != 1:
            raise EvalError(f"{name}(): expected one argument, got {len(args)}")
        return change(args[0])

    return call


FUNCTIONS["sensitive"] = _marking("sensitive", sensitive.mark)
FUNCTIONS["nonsensitive"] = _marking("nonsensitive", sensitive.strip)


@function("type", light=True)
def _type(value: Any) -> Any:
    return type_name(value)


# --- strings ---------------------------------------------------------------------


@function("join")
def _join(sep: Any, *lists: Any) -> Any:
    sep = to_string(sep)
    items = [plain(x) for lst in lists for x in _list(lst, "join")]
    unknown = [x for x in items if isinstance(x, Unknown)]
    if unknown:
        texts = [x.partial if isinstance(x, Unknown) and isinstance(x.partial, str) else
                 "${unknown}" if isinstance(x, Unknown) else to_string(x) for x in items]
    else:
        texts = [to_string(x) for x in items]
    check_string(sum(len(t) for t in texts) + len(sep) * max(len(texts) - 1, 0))  # before building it
    return merge_unknowns(unknown, sep.join(texts)) if unknown else sep.join(texts)


@function("split")
def _split(sep: Any, text: Any) -> Any:
    text, sep = to_string(text), to_string(sep)
    if sep:
        check_collection(text.count(sep) + 1)
    return text.split(sep)


# Go maps case one character at a time (Unicode's simple mappings): upper("ß") is "ß", lower("İ") is
# "i", and a final sigma stays σ. Python's full mappings differ only where they give several characters.
_SIMPLE_LOWER = {"\u0130": "i"}  # the one character whose full lowercase is several characters


@functools.lru_cache(maxsize=4096)
def _upper_char(ch: str) -> str:
    upper = ch.upper()
    if len(upper) == 1:
        return upper
    title = ch.title()  # ᾀ: its simple uppercase is its titlecase ᾈ; ß, ﬀ have none and stay
    return title if len(title) == 1 else ch


@functools.lru_cache(maxsize=4096)
def _lower_char(ch: str) -> str:
    lower = ch.lower()
    return lower if len(lower) == 1 else _SIMPLE_LOWER.get(ch, ch)


@function("lower")
def _lower(text: Any) -> Any:
    text = to_string(text)
    return text.lower() if text.isascii() else "".join(map(_lower_char, text))


@function("upper")
def _upper(text: Any) -> Any:
    text = to_string(text)
    return text.upper() if text.isascii() else "".join(map(_upper_char, text))


@function("title")
def _title(text: Any, scope: Scope) -> Any:
    text = to_string(text)
    budget_of(scope).step(len(text) // 8)  # a Python call a word: far slower than a C-speed scan
    return re.sub(r"\b\w", lambda m: m.group(0).upper(), text)


@function("replace")
def _replace(text: Any, old: Any, new: Any, scope: Scope) -> Any:
    text, old, new = to_string(text), to_string(old), to_string(new)
    if len(old) > 1 and old.startswith("/") and old.endswith("/"):
        return tfregex.replace(old[1:-1], text, new, budget_of(scope))
    count = text.count(old) if old else len(text) + 1
    check_string(len(text) + count * (len(new) - len(old)))  # before building it
    return text.replace(old, new)


@function("trimspace")
def _trimspace(text: Any) -> Any:
    return to_string(text).strip()


@function("trim")
def _trim(text: Any, chars: Any) -> Any:
    return to_string(text).strip(to_string(chars))


@function("trimprefix")
def _trimprefix(text: Any, prefix: Any) -> Any:
    return to_string(text).removeprefix(to_string(prefix))


@function("trimsuffix")
def _trimsuffix(text: Any, suffix: Any) -> Any:
    return to_string(text).removesuffix(to_string(suffix))


@function("chomp")
def _chomp(text: Any) -> Any:
    return to_string(text).rstrip("\r\n")  # Terraform's (?:\r\n?|\n)*\z; a regex here was quadratic


@function("startswith")
def _startswith(text: Any, prefix: Any) -> Any:
    return to_string(text).startswith(to_string(prefix))


@function("endswith")
def _endswith(text: Any, suffix: Any) -> Any:
    return to_string(text).endswith(to_string(suffix))


@function("strcontains")
def _strcontains(text: Any, sub: Any) -> Any:
    return to_string(sub) in to_string(text)


@function("substr")
def _substr(text: Any, offset: Any, length: Any) -> Any:
    text = _clusters(to_string(text), "substr")
    start = int(to_number(offset))
    if start < 0:
        start += len(text)
    count = int(to_number(length))
    return text[start:] if count == -1 else text[start:start + count]


@function("strrev")
def _strrev(text: Any) -> Any:
    return _clusters(to_string(text), "strrev")[::-1]


@function("indent")
def _indent(spaces: Any, text: Any) -> Any:
    text, width = to_string(text), max(int(to_number(spaces)), 0)
    lines = text.count("\n")
    if not lines:
        return text
    check_string(len(text) + width * lines)  # before building it: indent(999999999, ...) is 4.7 GB
    return text.replace("\n", "\n" + " " * width)


@function("regex")
def _regex(pattern: Any, text: Any, scope: Scope) -> Any:
    return tfregex.regex(to_string(pattern), to_string(text), budget_of(scope))


@function("regexall")
def _regexall(pattern: Any, text: Any, scope: Scope) -> Any:
    return tfregex.regexall(to_string(pattern), to_string(text), budget_of(scope))


_VERB = re.compile(r"%([-+# 0]*)(\d*)(?:\.(\d+))?([a-zA-Z%])")  # a fixed pattern, linear: not input


def _encoded(value: Any, budget: Budget | None, sort_keys: bool = False) -> str:
    """JSON text of a value, its size checked before it is built (shared references)."""
    walk = Walk()
    data = deep_plain(value, walk=walk)
    walk.done(budget)
    check_string(walk.encoded_size())
    return _go_json(json.dumps(data, sort_keys=sort_keys, ensure_ascii=False,
                               separators=(",", ":") if sort_keys else (", ", ": ")))


_GO_JSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
_GO_JSON_ESCAPED = re.compile("[<>&\u2028\u2029]")


def _go_json(text: str) -> str:
    """JSON text as Go's json.Marshal writes it: non-ASCII as is; <, >, &, U+2028, U+2029 escaped."""
    return _GO_JSON_ESCAPED.sub(lambda m: _GO_JSON_ESCAPES[m.group()], text) if _GO_JSON_ESCAPED.search(text) else text


@function("format")
def _format(spec: Any, *args: Any, scope: Scope) -> Any:
    spec = to_string(spec)
    budget = budget_of(scope)
    values = list(args)
    out = []
    size = 0
    i = 0
    pos = 0
    while i < len(spec):
        ch = spec[i]
        if ch != "%":
            j = spec.find("%", i)
            j = len(spec) if j < 0 else j
            out.append(spec[i:j])
            size += j - i
            i = j
            continue
        match = _VERB.match(spec, i)
        if not match:
            raise EvalError(f"format(): bad verb at {spec[i:i + 5]!r}")
        flags, width, precision, verb = match.groups()
        i = match.end()
        if verb == "%":
            out.append("%")
            size += 1
            continue
        if pos >= len(values):
            raise EvalError("format(): not enough arguments")
        value = values[pos]
        pos += 1
        width_n = int(width) if width and len(width) < 10 else 0 if not width else MAX_STRING + 1
        check_string(size + width_n)  # %999999999d: before padding
        if precision and (len(precision) > 3 or int(precision) > 300):
            raise EvalError(f"format(): precision {precision[:10]} is too large")
        if verb == "v" and flags == "#":  # %#v: the value as JSON
            text, flags = _encoded(value, budget, sort_keys=True), ""
        elif verb in ("s", "v"):
            text = to_string(value) if not isinstance(value, (list, dict)) else _encoded(value, budget, sort_keys=True)
            if precision and verb == "s":  # Go: %.2s keeps 2 characters; %v ignores a precision
                text = text[:int(precision)]
        elif verb == "q":
            text = to_string(value)
            text = _go_json(json.dumps(text[:int(precision)] if precision else text, ensure_ascii=False))
        elif verb == "d":
            number = to_number(value)
            if number != int(number):
                raise EvalError(f"format(): unsupported value for %d: {number} is not a whole number")
            text = f"{int(number):+d}" if "+" in flags else str(int(number))
        elif verb in ("f", "e") and not flags.strip("-0"):
            number = to_number(value)
            if isinstance(number, int) and abs(number) > 2**53:
                raise NotExact("format(): a number this large is not formatted exactly by ecr-lint")
            text = ("%" + (f".{precision}" if precision else "") + verb) % number
        elif verb == "t":
            text = "true" if to_bool(value) else "false"
            width_n = 0  # Terraform ignores a width for %t
        elif verb in ("x", "X", "o", "b") and not flags.strip("-0"):
            text = format(int(to_number(value)), verb)
        elif verb in ("g", "G", "e", "E", "f", "F", "x", "X", "o", "b"):
            # Go's %g is not C's, nor are Go's flags '#', ' ', '+' on these verbs: not guessed
            raise NotExact(f"format(): %{flags}{verb} is not evaluated by ecr-lint")
        else:
            raise EvalError(f"format(): unsupported verb %{verb}")
        if flags.strip("-0+"):
            raise NotExact(f"format(): the flags {flags!r} are not evaluated by ecr-lint")
        if width_n:
            text = text.ljust(width_n) if "-" in flags else text.rjust(width_n, "0" if "0" in flags else " ")
        out.append(text)
        size += len(text)
        check_string(size)
    return "".join(out)


@function("formatlist")
def _formatlist(spec: Any, *args: Any, scope: Scope) -> Any:
    lengths = {len(a) for a in args if isinstance(a, list)}
    if len(lengths) > 1:
        raise EvalError("formatlist(): lists of different lengths")
    n = lengths.pop() if lengths else 1
    budget = budget_of(scope)
    out = []
    for i in range(n):
        text = _format(spec, *[a[i] if isinstance(a, list) else a for a in args], scope=scope)
        budget.build(len(text))  # as each is built: n strings of 9 MB must stop early
        out.append(text)
    return out


# --- encoding ---------------------------------------------------------------------


@function("jsonencode", lazy_unknown=True)
def _jsonencode(value: Any, scope: Scope) -> Any:
    budget = budget_of(scope)
    unknown = contains_unknown(value, budget)
    if unknown is not None:
        # Keep the shape: policy checks read the document with placeholders in it.
        walk = Walk()
        data = symbolic(value, walk=walk)
        walk.done(budget)
        check_string(walk.encoded_size())
        partial = _go_json(json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")))
        budget.build(len(partial))
        return Unknown(unknown.reason, unknown.refs, partial)
    return _encoded(value, budget, sort_keys=True)


def _json_number(text: str) -> int | float:
    if len(text) > 400:
        raise EvalError(f"jsondecode(): number {text[:20]}... out of range")
    return checked_number(exact_float(text, float(text)) if any(c in text for c in ".eE") else int(text))


def _json_constant(name: str) -> Any:
    raise EvalError(f"jsondecode(): invalid JSON: {name} is not JSON")


@function("jsondecode")
def _jsondecode(text: Any, scope: Scope) -> Any:
    text = to_string(text)
    budget_of(scope).build(len(text))  # the decoded value is about the size of its text, at any depth
    try:
        return json.loads(text, parse_int=_json_number, parse_float=_json_number, parse_constant=_json_constant)
    except ValueError as exc:
        raise EvalError(f"jsondecode(): invalid JSON: {exc}") from None
    except RecursionError:
        raise EvalError("jsondecode(): JSON nested too deeply") from None


@function("base64encode")
def _base64encode(text: Any) -> Any:
    return base64.b64encode(to_string(text).encode()).decode()


@function("base64decode")
def _base64decode(text: Any) -> Any:
    try:
        return base64.b64decode(to_string(text)).decode()
    except ValueError as exc:
        raise EvalError(f"base64decode(): {exc}") from None


@function("urlencode")
def _urlencode(text: Any) -> Any:
    from urllib.parse import quote_plus

    return quote_plus(to_string(text), safe="")  # Go's url.QueryEscape: a space is "+"


for _algo in ("md5", "sha1", "sha256", "sha512"):
    def _hash(text: Any, _algo: str = _algo) -> Any:
        return hashlib.new(_algo, to_string(text).encode()).hexdigest()

    function(_algo)(_hash)


@function("base64sha256")
def _base64sha256(text: Any) -> Any:
    return base64.b64encode(hashlib.sha256(to_string(text).encode()).digest()).decode()


@function("base64sha512")
def _base64sha512(text: Any) -> Any:
    return base64.b64encode(hashlib.sha512(to_string(text).encode()).digest()).decode()


@function("csvdecode")
def _csvdecode(text: Any, scope: Scope) -> Any:
    """A list of maps, one per row after the header line, every value a string (Terraform's rules:
    a header is required, every row has as many fields as the header, blank lines are skipped)."""
    import csv
    import io

    text = to_string(text)
    budget = budget_of(scope)
    budget.build(len(text))  # the rows hold about the text's own size
    try:
        rows = [row for row in csv.reader(io.StringIO(text, newline=""), strict=True) if row]
    except csv.Error as exc:
        raise EvalError(f"csvdecode(): invalid CSV: {exc}") from None
    if not rows:
        raise EvalError("csvdecode(): missing header line")
    header, rows = rows[0], rows[1:]
    if len(set(header)) != len(header):
        raise EvalError("csvdecode(): duplicate column name in the header line")
    check_collection(len(rows))
    budget.build(8 * len(header) * len(rows))
    for number, row in enumerate(rows, 2):
        if len(row) != len(header):
            raise EvalError(f"csvdecode(): line {number}: wrong number of fields")
    return [dict(zip(header, row)) for row in rows]


# --- IP networks (hcl/cidr.py) ---------------------------------------------------------


def _whole(value: Any, what: str) -> int:
    return cidr.whole(to_number(value), what)


@function("cidrhost")
def _cidrhost(prefix: Any, hostnum: Any) -> Any:
    return cidr.host(to_string(prefix), _whole(hostnum, "hostnum"))


@function("cidrnetmask")
def _cidrnetmask(prefix: Any) -> Any:
    return cidr.netmask(to_string(prefix))


@function("cidrsubnet")
def _cidrsubnet(prefix: Any, newbits: Any, netnum: Any) -> Any:
    return cidr.subnet(to_string(prefix), _whole(newbits, "newbits"), _whole(netnum, "netnum"))


@function("cidrsubnets")
def _cidrsubnets(prefix: Any, *newbits: Any) -> Any:
    return cidr.subnets(to_string(prefix), [_whole(n, "newbits") for n in newbits])


# --- files (read only inside the linted tree) -----------------------------------------


@function("abspath")
def _abspath(path: Any, scope: Scope) -> Any:
    root = getattr(getattr(scope.context, "loader", None), "root_dir", "")
    return os.path.normpath(os.path.join(root, to_string(path)))


@function("basename")
def _basename(path: Any) -> Any:
    return os.path.basename(to_string(path))


@function("dirname")
def _dirname(path: Any) -> Any:
    return os.path.dirname(to_string(path))


@function("fileexists")
def _fileexists(path: Any, scope: Scope) -> Any:
    files = getattr(scope.context, "files", None)
    if files is None:
        return Unknown("fileexists() reads no file here")
    state = files.state(to_string(path))
    if state.startswith("refused: "):
        return Unknown(f"file {to_string(path)!r}: {state[len('refused: '):]}")
    if state in ("file", "missing"):
        return state == "file"
    raise EvalError(f"fileexists({to_string(path)!r}): {state}, not a regular file")


@function("file")
def _file(path: Any, scope: Scope) -> Any:
    return _read(to_string(path), scope)


def _read(path: str, scope: Scope) -> Any:
    """A file's text through the reading gate: outside the tree, not a regular file or too large
    is Unknown with the reason (ecr-lint does not read it); missing or not UTF-8 is Terraform's error."""
    data = _read_bytes(path, "file", scope)
    if isinstance(data, Unknown):
        return data
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EvalError(f"file {path!r} is not UTF-8 text (byte {exc.start})") from None


def _read_bytes(path: str, fname: str, scope: Scope) -> Any:
    """A file's bytes through the reading gate (see _read)."""
    from ecr_lint.loaders.files import Refused

    files = getattr(scope.context, "files", None)
    if files is None:
        return Unknown(f"{fname}() reads no file here (a .tfvars file holds constants)")
    try:
        return files.read_bytes(path, MAX_FILE_BYTES)
    except Refused as exc:
        return Unknown(f"file {path!r}: {exc}")
    except FileNotFoundError:
        raise EvalError(f"file {path!r} does not exist") from None
    except OSError as exc:
        raise EvalError(f"cannot read file {path!r}: {exc.strerror}") from None


def _file_digest(fname: str, digest: Callable[[bytes], str]) -> None:
    def read(path: Any, scope: Scope) -> Any:
        data = _read_bytes(to_string(path), fname, scope)
        if isinstance(data, Unknown):
            return data
        budget_of(scope).scan(len(data))
        return digest(data)

    function(fname)(read)


_file_digest("filebase64", lambda data: base64.b64encode(data).decode())
for _algo in ("md5", "sha1", "sha256", "sha512"):
    _file_digest(f"file{_algo}", lambda data, _algo=_algo: hashlib.new(_algo, data).hexdigest())
for _algo in ("sha256", "sha512"):
    _file_digest(f"filebase64{_algo}", lambda data, _algo=_algo: base64.b64encode(hashlib.new(_algo, data).digest()).decode())


@function("formatdate")
def _formatdate(spec: Any, timestamp: Any) -> Any:
    return timefuncs.formatdate(to_string(spec), to_string(timestamp))


@function("timeadd")
def _timeadd(timestamp: Any, duration: Any) -> Any:
    return timefuncs.timeadd(to_string(timestamp), to_string(duration))


# Encodings checked against terraform console (Go's IANA index), by Python codec name. Another
# name Terraform may know (Shift_JIS, GBK...) is unknown here rather than guessed; "UTF8" is not one.
_TEXT_ENCODINGS = {
    "utf-8": "utf-8", "utf-16le": "utf-16-le", "utf-16be": "utf-16-be",
    "iso-8859-1": "latin-1", "latin1": "latin-1", "windows-1252": "cp1252", "us-ascii": "ascii",
}


@function("textencodebase64")
def _textencodebase64(text: Any, encoding: Any) -> Any:
    text, name = to_string(text), to_string(encoding)
    codec = _TEXT_ENCODINGS.get(name.lower())
    if codec is None:
        raise NotExact(f"textencodebase64(): the encoding {name[:40]!r} is not evaluated by ecr-lint")
    try:
        data = text.encode(codec)
    except UnicodeEncodeError:
        raise EvalError(f"textencodebase64(): the given string contains characters that cannot be represented in "
                        f"{name[:40]}") from None
    return base64.b64encode(data).decode()


@function("templatefile", lazy_unknown=True)
def _templatefile(path: Any, variables: Any, scope: Scope) -> Any:
    from ecr_lint.hcl.syntax import HclSyntaxError, parse_template

    if isinstance(path, Unknown):
        return path
    text = _read(to_string(path), scope)
    if isinstance(text, Unknown):
        return text
    if isinstance(variables, Unknown):
        return variables
    try:
        template = parse_template(text)
    except HclSyntaxError as exc:
        raise EvalError(f"templatefile({to_string(path)!r}): {exc.message}") from None
    inner = Scope(_TemplateContext(scope.context), dict(_map(variables, "templatefile")))
    return scope.context.evaluator.eval(template, inner)


class _TemplateContext:
    """Inside templatefile() only the given variables exist (and functions)."""

    def __init__(self, outer: Any):
        self.outer = outer
        self.evaluator = outer.evaluator

    @property
    def files(self) -> Any:
        return self.outer.files

    def resolve(self, root: str, steps: list, scope: Scope) -> tuple[Any, int]:
        raise EvalError(f"templatefile(): {root!r} is not among the template's variables")


# --- more of Terraform's library ---------------------------------------------------------


@function("signum")
def _signum(n: Any) -> Any:
    value = to_number(n)
    return (value > 0) - (value < 0)


@function("pow")
def _pow(a: Any, b: Any) -> Any:
    # Terraform computes pow() and log() with Go's float64 math, and arithmetic on such a number does
    # not keep 512 bits (pow(2, 60) % 7 is 0 there): only results a float64 holds exactly, whole
    # below 2^53, or a square root (correctly rounded in both) are evaluated.
    base, exponent = to_number(a), to_number(b)
    if isinstance(base, int) and isinstance(exponent, int) and exponent >= 0:
        if abs(base) > 1 and exponent * math.log2(abs(base)) > MAX_NUMBER_BITS + 1:
            raise NotExact(f"pow(): the result is out of range (more than {MAX_NUMBER_BITS} bits)")  # +Inf in Terraform
        result = base ** exponent
        if abs(result) >= 2**53:
            raise NotExact("pow(): Terraform keeps a result of 2^53 or more as a 64-bit float, which ecr-lint "
                           "does not evaluate")
        return result
    if exponent == 0.5 and base >= 0:
        return math.sqrt(base)
    raise NotExact("pow(): a fractional or negative exponent is computed by Go's math library, not evaluated by "
                   "ecr-lint")


@function("log")
def _log(n: Any, base: Any) -> Any:
    math.log(to_number(n), to_number(base))  # ValueError (domain): an error in Terraform too
    raise NotExact("log() is computed by Go's math library, not evaluated by ecr-lint")


@function("parseint")
def _parseint(text: Any, base: Any) -> Any:
    text = to_string(text)
    if len(text) > 600:  # 512 bits in base 2, and a sign
        raise EvalError("parseint(): number out of range")
    try:
        return int(text, int(to_number(base)))
    except ValueError:
        raise EvalError(f"parseint(): cannot parse {text[:40]!r}") from None


@function("setproduct")
def _setproduct(*lists: Any) -> Any:
    import itertools

    pools = [_list(x, "setproduct") for x in lists]
    total = 1
    for pool in pools:
        total = min(total * len(pool), 2**62)
    check_collection(total)
    check_collection(total * len(pools))  # the elements of all the combinations
    return [list(combo) for combo in itertools.product(*pools)]


@function("chunklist")
def _chunklist(lst: Any, size: Any) -> Any:
    items, n = _list(lst, "chunklist"), int(to_number(size))
    if n <= 0:
        return [items]
    return [items[i:i + n] for i in range(0, len(items), n)]


@function("transpose")
def _transpose(m: Any) -> Any:
    out: dict = {}
    m = _map(m, "transpose")
    check_collection(sum(len(v) for v in map(plain, m.values()) if isinstance(v, list)))
    for key, values in sorted(m.items()):
        for value in _list(plain(values), "transpose"):
            out.setdefault(to_string(value), []).append(key)
    return out


@function("matchkeys")
def _matchkeys(values: Any, keys: Any, searchset: Any, scope: Scope) -> Any:
    budget = budget_of(scope)
    wanted = set(_set_keys(_list(searchset, "matchkeys"), budget))
    keys = _list(keys, "matchkeys")
    return [v for v, k in zip(_list(values, "matchkeys"), _set_keys(keys, budget)) if k in wanted]


YAML_STEPS_PER_CHAR = 1  # PyYAML is pure Python: about a microsecond a character, like an evaluation step


@function("yamldecode")
def _yamldecode(text: Any, scope: Scope) -> Any:
    import yaml

    text = to_string(text)
    budget = budget_of(scope)
    budget.step(len(text) * YAML_STEPS_PER_CHAR)  # before parsing
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise EvalError(f"yamldecode(): invalid YAML: {str(exc).splitlines()[0]}") from None
    walk = Walk()  # aliases share nodes: `&a [*b, *b]` nine levels deep is a billion leaves
    out = _yaml_plain(data, walk)
    walk.done(budget)
    return out


def _yaml_plain(value: Any, walk: Walk) -> Any:
    """YAML dates and other scalars become strings, as Terraform's YAML decoder gives them."""
    if isinstance(value, dict):
        walk.visit(len(value) + 1)
        return {to_string(k) if not isinstance(k, str) else k: _yaml_plain(v, walk) for k, v in value.items()}
    if isinstance(value, list):
        walk.visit(len(value) + 1)
        return [_yaml_plain(v, walk) for v in value]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return checked_number(value)  # .inf, or a 4000-digit integer
    if value is None or isinstance(value, (str, bool)):
        return value
    return str(value)


@function("yamlencode")
def _yamlencode(value: Any, scope: Scope) -> Any:
    import yaml

    budget = budget_of(scope)
    unknown = contains_unknown(value, budget)
    if unknown is not None:
        return unknown
    walk = Walk()
    data = deep_plain(value, walk=walk)
    nodes = MAX_TREE - walk.left
    walk.done(budget)
    budget.step(10 * nodes)  # PyYAML's emitter: about ten steps a node
    check_string(walk.encoded_size())
    return yaml.safe_dump(data, sort_keys=True, default_flow_style=False)


@function("fileset")
def _fileset(path: Any, pattern: Any, scope: Scope) -> Any:
    """Regular files matching the pattern, walked through the reading gate (loaders/fileset.py):
    a match outside the tree makes the result Unknown, links cannot loop, and more than
    MAX_FILESET_ENTRIES entries visited is BudgetExceeded."""
    from ecr_lint.loaders.files import Refused

    files = getattr(scope.context, "files", None)
    if files is None:
        return Unknown("fileset() reads no directory here")
    try:
        return files.fileset(to_string(path), to_string(pattern))
    except Refused as exc:
        return Unknown(f"fileset({to_string(path)!r}, {to_string(pattern)!r}): {exc}")
    except OSError as exc:
        raise EvalError(f"fileset({to_string(path)!r}): {exc.strerror}") from None
