"""Terraform's built-in functions that real ECR stacks use, Unknown-aware."""

from __future__ import annotations

import base64
import hashlib
import json
import math
import os
import re
from typing import Any, Callable

from ecr_lint.evaluate import (
    EvalError, MAX_COLLECTION, Scope, contains_unknown, deep_plain, merge_unknowns, plain,
    symbolic, to_bool, to_number, to_string, type_name,
)
from ecr_lint.model import Unknown

MAX_FILE_BYTES = 4 * 1024 * 1024

FUNCTIONS: dict[str, Callable[..., Any]] = {}

# Terraform functions we deliberately do not evaluate: their result is Unknown, not an error.
NOT_EVALUATED = {
    "timestamp", "uuid", "uuidv5", "bcrypt", "plantimestamp", "timeadd", "timecmp", "formatdate",
    "cidrsubnet", "cidrsubnets", "cidrhost", "cidrnetmask", "filebase64", "filebase64sha256",
    "filemd5", "filesha1", "filesha256", "filesha512",
    "rsadecrypt", "textdecodebase64", "textencodebase64", "base64gzip", "pathexpand", "templatestring",
    "ephemeralasnull", "issensitive", "sha512", "base64sha512", "uuidv4",
}


def function(name: str, lazy_unknown: bool = False):
    """Register a function; unless lazy_unknown, an Unknown argument makes the result Unknown."""

    def wrap(impl: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, scope: Scope) -> Any:
            values = [plain(a) for a in args]
            if not lazy_unknown:
                unknowns = [v for v in values if isinstance(v, Unknown)]
                if unknowns:
                    return merge_unknowns(unknowns)
            try:
                return impl(*values, scope=scope) if "scope" in impl.__code__.co_varnames else impl(*values)
            except TypeError as exc:
                raise EvalError(f"{name}(): wrong arguments ({exc})") from None

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


def _set(items: list) -> list:
    out: list = []
    seen: list = []
    for item in items:
        key = deep_plain(item)
        if key not in seen:
            seen.append(key)
            out.append(item)
    if all(isinstance(plain(i), str) for i in out):
        out.sort(key=plain)  # Terraform orders sets of strings lexically
    return out


# --- collections ---------------------------------------------------------------------


@function("merge")
def _merge(*maps: Any) -> Any:
    out: dict = {}
    for m in maps:
        if m is None:
            continue
        out.update(_map(m, "merge"))
    return out


@function("concat")
def _concat(*lists: Any) -> Any:
    out: list = []
    for item in lists:
        out.extend(_list(item, "concat"))
    return out


@function("lookup")
def _lookup(m: Any, key: Any, *default: Any) -> Any:
    m = _map(m, "lookup")
    key = to_string(key)
    if key in m:
        return m[key]
    if default:
        return default[0]
    raise EvalError(f"lookup(): key {key!r} not found and no default given")


@function("element")
def _element(lst: Any, i: Any) -> Any:
    lst = _list(lst, "element")
    if not lst:
        raise EvalError("element(): the list is empty")
    return lst[int(to_number(i)) % len(lst)]


@function("coalesce", lazy_unknown=True)
def _coalesce(*values: Any) -> Any:
    for v in values:
        if isinstance(v, Unknown):
            return v
        if v is not None and v != "":
            return v
    raise EvalError("coalesce(): no non-null, non-empty argument")


@function("coalescelist", lazy_unknown=True)
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


@function("length")
def _length(value: Any) -> Any:
    if isinstance(value, (list, dict, str)):
        return len(value)
    raise EvalError(f"length(): cannot take the length of {type_name(value)}")


@function("contains")
def _contains(lst: Any, value: Any) -> Any:
    lst = _list(lst, "contains")
    if contains_unknown(lst) or contains_unknown(value):
        return merge_unknowns([contains_unknown(lst) or contains_unknown(value)])
    return deep_plain(value) in [deep_plain(x) for x in lst]


@function("flatten")
def _flatten(lst: Any) -> Any:
    out: list = []

    def walk(items: list) -> None:
        for item in items:
            inner = plain(item)
            if isinstance(inner, list):
                walk(inner)
            else:
                out.append(item)
            if len(out) > MAX_COLLECTION:
                raise EvalError("flatten(): result too large")

    walk(_list(lst, "flatten"))
    return out


@function("distinct")
def _distinct(lst: Any) -> Any:
    out: list = []
    seen: list = []
    for item in _list(lst, "distinct"):
        key = deep_plain(item)
        if key not in seen:
            seen.append(key)
            out.append(item)
    return out


@function("tolist")
def _tolist(value: Any) -> Any:
    return list(_list(value, "tolist"))


@function("toset")
def _toset(value: Any) -> Any:
    return _set(_list(value, "toset"))


@function("tomap")
def _tomap(value: Any) -> Any:
    return dict(_map(value, "tomap"))


@function("tostring")
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
    if abs((stop - start) / step) > MAX_COLLECTION:
        raise EvalError("range(): too many elements")
    out = []
    value = start
    while (step > 0 and value < stop) or (step < 0 and value > stop):
        out.append(value)
        value += step
    return out


@function("one")
def _one(lst: Any) -> Any:
    lst = _list(lst, "one")
    if len(lst) > 1:
        raise EvalError("one(): more than one element")
    return lst[0] if lst else None


@function("index")
def _index(lst: Any, value: Any) -> Any:
    plain_list = [deep_plain(x) for x in _list(lst, "index")]
    try:
        return plain_list.index(deep_plain(value))
    except ValueError:
        raise EvalError("index(): value not in list") from None


@function("setunion")
def _setunion(*sets: Any) -> Any:
    return _set([x for s in sets for x in _list(s, "setunion")])


@function("setintersection")
def _setintersection(first: Any, *rest: Any) -> Any:
    items = [x for x in _list(first, "setintersection")
             if all(deep_plain(x) in [deep_plain(y) for y in _list(r, "setintersection")] for r in rest)]
    return _set(items)


@function("setsubtract")
def _setsubtract(a: Any, b: Any) -> Any:
    other = [deep_plain(y) for y in _list(b, "setsubtract")]
    return _set([x for x in _list(a, "setsubtract") if deep_plain(x) not in other])


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
    return math.ceil(to_number(n))


@function("floor")
def _floor(n: Any) -> Any:
    return math.floor(to_number(n))


@function("sensitive")
def _sensitive(value: Any) -> Any:
    return value


@function("nonsensitive")
def _nonsensitive(value: Any) -> Any:
    return value


@function("type")
def _type(value: Any) -> Any:
    return type_name(value)


# --- strings ---------------------------------------------------------------------


@function("join")
def _join(sep: Any, *lists: Any) -> Any:
    items = [x for lst in lists for x in _list(lst, "join")]
    unknown = [plain(x) for x in items if isinstance(plain(x), Unknown)]
    if unknown:
        partial = to_string(sep).join(symbolic(x) if isinstance(symbolic(x), str) else "${unknown}" for x in items)
        return merge_unknowns(unknown, partial)
    return to_string(sep).join(to_string(x) for x in items)


@function("split")
def _split(sep: Any, text: Any) -> Any:
    return to_string(text).split(to_string(sep))


@function("lower")
def _lower(text: Any) -> Any:
    return to_string(text).lower()


@function("upper")
def _upper(text: Any) -> Any:
    return to_string(text).upper()


@function("title")
def _title(text: Any) -> Any:
    return re.sub(r"\b\w", lambda m: m.group(0).upper(), to_string(text))


@function("replace")
def _replace(text: Any, old: Any, new: Any) -> Any:
    text, old, new = to_string(text), to_string(old), to_string(new)
    if len(old) > 1 and old.startswith("/") and old.endswith("/"):
        try:
            pattern = re.compile(old[1:-1])
        except re.error as exc:
            raise EvalError(f"replace(): invalid regular expression: {exc}") from None
        return pattern.sub(re.sub(r"\$(\d+)", r"\\\1", new), _regex_input(text))
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
    return re.sub(r"[\r\n]+$", "", to_string(text))


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
    text = to_string(text)
    start = int(to_number(offset))
    if start < 0:
        start += len(text)
    count = int(to_number(length))
    return text[start:] if count == -1 else text[start:start + count]


@function("strrev")
def _strrev(text: Any) -> Any:
    return to_string(text)[::-1]


@function("indent")
def _indent(spaces: Any, text: Any) -> Any:
    pad = " " * int(to_number(spaces))
    return to_string(text).replace("\n", "\n" + pad)


def _regex_input(text: Any) -> str:
    text = to_string(text)
    if len(text) > MAX_REGEX_INPUT:
        raise EvalError(f"regex input longer than {MAX_REGEX_INPUT} characters")
    return text


@function("regex")
def _regex(pattern: Any, text: Any) -> Any:
    match = _compile(pattern).search(_regex_input(text))
    if not match:
        raise EvalError("regex(): pattern did not match")
    if match.re.groupindex:
        return match.groupdict()
    return list(match.groups()) if match.groups() else match.group(0)


@function("regexall")
def _regexall(pattern: Any, text: Any) -> Any:
    compiled = _compile(pattern)
    out = []
    for match in compiled.finditer(_regex_input(text)):
        if compiled.groupindex:
            out.append(match.groupdict())
        else:
            out.append(list(match.groups()) if match.groups() else match.group(0))
    return out


MAX_REGEX_INPUT = 100_000


def _compile(pattern: Any) -> re.Pattern:
    text = to_string(pattern)
    if len(text) > 1_000:
        raise EvalError("regular expression longer than 1000 characters")
    try:
        return re.compile(text)
    except re.error as exc:
        raise EvalError(f"invalid regular expression: {exc}") from None


@function("format")
def _format(spec: Any, *args: Any) -> Any:
    spec = to_string(spec)
    values = list(args)
    out = []
    i = 0
    pos = 0
    while i < len(spec):
        ch = spec[i]
        if ch != "%":
            out.append(ch)
            i += 1
            continue
        match = re.match(r"%([-+# 0]*)(\d*)(?:\.(\d+))?([a-zA-Z%])", spec[i:])
        if not match:
            raise EvalError(f"format(): bad verb at {spec[i:i + 5]!r}")
        flags, width, precision, verb = match.groups()
        i += match.end()
        if verb == "%":
            out.append("%")
            continue
        if pos >= len(values):
            raise EvalError("format(): not enough arguments")
        value = values[pos]
        pos += 1
        if verb in ("s", "v"):
            text = to_string(value) if not isinstance(value, (list, dict)) else json.dumps(deep_plain(value))
        elif verb == "q":
            text = json.dumps(to_string(value))
        elif verb == "d":
            text = str(int(to_number(value)))
        elif verb in ("f", "e", "g"):
            text = ("%" + (f".{precision}" if precision else "") + verb) % to_number(value)
        elif verb == "t":
            text = "true" if to_bool(value) else "false"
        elif verb in ("x", "X", "o", "b"):
            text = format(int(to_number(value)), verb)
        else:
            raise EvalError(f"format(): unsupported verb %{verb}")
        if width:
            text = text.ljust(int(width)) if "-" in flags else text.rjust(int(width), "0" if "0" in flags else " ")
        out.append(text)
    return "".join(out)


@function("formatlist")
def _formatlist(spec: Any, *args: Any) -> Any:
    lengths = {len(a) for a in args if isinstance(a, list)}
    if len(lengths) > 1:
        raise EvalError("formatlist(): lists of different lengths")
    n = lengths.pop() if lengths else 1
    return [_format(spec, *[a[i] if isinstance(a, list) else a for a in args]) for i in range(n)]


# --- encoding ---------------------------------------------------------------------


@function("jsonencode", lazy_unknown=True)
def _jsonencode(value: Any) -> Any:
    unknown = contains_unknown(value)
    if unknown is not None:
        # Keep the shape: policy checks read the document with placeholders in it.
        partial = json.dumps(symbolic(value), sort_keys=True, separators=(",", ":"))
        return Unknown(unknown.reason, unknown.refs, partial)
    return json.dumps(deep_plain(value), sort_keys=True, separators=(",", ":"))


@function("jsondecode")
def _jsondecode(text: Any) -> Any:
    try:
        return json.loads(to_string(text))
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
    from urllib.parse import quote

    return quote(to_string(text), safe="")


for _algo in ("md5", "sha1", "sha256"):
    def _hash(text: Any, _algo: str = _algo) -> Any:
        return hashlib.new(_algo, to_string(text).encode()).hexdigest()

    function(_algo)(_hash)


@function("base64sha256")
def _base64sha256(text: Any) -> Any:
    return base64.b64encode(hashlib.sha256(to_string(text).encode()).digest()).decode()


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
    from ecr_lint.loaders.files import Refused

    files = getattr(scope.context, "files", None)
    if files is None:
        return Unknown("file() reads no file here (a .tfvars file holds constants)")
    try:
        return files.read_text(path, MAX_FILE_BYTES)
    except Refused as exc:
        return Unknown(f"file {path!r}: {exc}")
    except FileNotFoundError:
        raise EvalError(f"file {path!r} does not exist") from None
    except OSError as exc:
        raise EvalError(f"cannot read file {path!r}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise EvalError(f"file {path!r} is not UTF-8 text (byte {exc.start})") from None


@function("templatefile", lazy_unknown=True)
def _templatefile(path: Any, variables: Any, scope: Scope) -> Any:
    from ecr_lint.loaders.syntax import HclSyntaxError, parse_template

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
    return to_number(a) ** to_number(b)


@function("log")
def _log(n: Any, base: Any) -> Any:
    return math.log(to_number(n), to_number(base))


@function("parseint")
def _parseint(text: Any, base: Any) -> Any:
    try:
        return int(to_string(text), int(to_number(base)))
    except ValueError:
        raise EvalError(f"parseint(): cannot parse {text!r}") from None


@function("setproduct")
def _setproduct(*lists: Any) -> Any:
    import itertools

    pools = [_list(x, "setproduct") for x in lists]
    total = 1
    for pool in pools:
        total *= len(pool)
    if total > MAX_COLLECTION:
        raise EvalError("setproduct(): result too large")
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
    for key, values in sorted(_map(m, "transpose").items()):
        for value in _list(plain(values), "transpose"):
            out.setdefault(to_string(value), []).append(key)
    return out


@function("matchkeys")
def _matchkeys(values: Any, keys: Any, searchset: Any) -> Any:
    wanted = [deep_plain(s) for s in _list(searchset, "matchkeys")]
    return [v for v, k in zip(_list(values, "matchkeys"), _list(keys, "matchkeys")) if deep_plain(k) in wanted]


@function("yamldecode")
def _yamldecode(text: Any) -> Any:
    import yaml

    try:
        data = yaml.safe_load(to_string(text))
    except yaml.YAMLError as exc:
        raise EvalError(f"yamldecode(): invalid YAML: {str(exc).splitlines()[0]}") from None
    return _yaml_plain(data)


def _yaml_plain(value: Any) -> Any:
    """YAML dates and other scalars become strings, as Terraform's YAML decoder gives them."""
    if isinstance(value, dict):
        return {to_string(k) if not isinstance(k, str) else k: _yaml_plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_yaml_plain(v) for v in value]
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    return str(value)


@function("yamlencode")
def _yamlencode(value: Any) -> Any:
    import yaml

    unknown = contains_unknown(value)
    if unknown is not None:
        return unknown
    return yaml.safe_dump(deep_plain(value), sort_keys=True, default_flow_style=False)


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
