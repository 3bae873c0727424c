"""Fuzzing strategies and the property every input must satisfy (shared by tests and scripts/fuzz.py)."""

from __future__ import annotations

import json
import os
import random
import signal
import tempfile
from contextlib import contextmanager

from hypothesis import strategies as st

from ecr_lint.api import exit_code, lint
from ecr_lint.hcl.functions import FUNCTIONS
from ecr_lint.model import Status

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.normpath(os.path.join(REPO, "..", "shared"))
MAX_SECONDS = 20


def seed_files(suffixes: tuple[str, ...], limit_bytes: int = 12_000) -> list[str]:
    roots = [os.path.join(REPO, "fixtures"), os.path.join(REPO, "terraform"), os.path.join(SHARED, "corpus")]
    found = []
    for root in roots:
        for current, _, files in os.walk(root):
            for name in files:
                path = os.path.join(current, name)
                if name.endswith(suffixes) and os.path.getsize(path) <= limit_bytes:
                    found.append(path)
    return sorted(found)


HCL_SEEDS = seed_files((".tf",))
PLAN_SEEDS = [p for p in seed_files((".json",), 200_000) if "plan" in os.path.basename(p).lower()]

_SIGNIFICANT = ['{', '}', '[', ']', '(', ')', '"', '${', '%{', '}', '=', '\n', '#', '<<EOF\n', '\\', '.', '*', '...',
                '?', ':', ',', 'for', 'in', 'if', '=>', '-', '!', 'null', '0', '\x00', '\xe9', '/*']


@st.composite
def mutated_hcl(draw) -> str:
    with open(draw(st.sampled_from(HCL_SEEDS)), encoding="utf-8", errors="replace") as handle:
        text = handle.read()
    for _ in range(draw(st.integers(1, 4))):
        if not text:
            break
        at = draw(st.integers(0, len(text)))
        kind = draw(st.sampled_from(["insert", "delete", "duplicate", "truncate", "swap"]))
        if kind == "insert":
            text = text[:at] + draw(st.sampled_from(_SIGNIFICANT)) + text[at:]
        elif kind == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 40)):]
        elif kind == "duplicate":
            text = text[:at] + text[at:at + draw(st.integers(1, 200))] + text[at:]
        elif kind == "truncate":
            text = text[:at]
        else:
            other = draw(st.integers(0, len(text)))
            a, b = sorted((at, other))
            text = text[:a] + text[b:] + text[a:b]
    return text


_JSON_LEAF = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.text(max_size=8),
                       st.sampled_from(["*", "ecr:*", "${x}", "", "create", "delete"]))
_JSON_ANY = st.recursive(_JSON_LEAF, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                             st.dictionaries(st.text(max_size=6), inner, max_size=3)),
                         max_leaves=6)


@st.composite
def mutated_plan(draw) -> str:
    with open(draw(st.sampled_from(PLAN_SEEDS)), encoding="utf-8") as handle:
        data = json.load(handle)
    rng = random.Random(draw(st.integers(0, 2**32)))
    for _ in range(draw(st.integers(1, 6))):
        _mutate(data, rng, draw(_JSON_ANY), draw)
    text = json.dumps(data)
    if draw(st.booleans()) and draw(st.integers(0, 9)) == 0:
        text = text[:draw(st.integers(0, len(text)))]
    return text


def _mutate(data, rng: random.Random, replacement, draw) -> None:
    path = []
    node = data
    for _ in range(rng.randint(1, 8)):
        if isinstance(node, dict) and node:
            key = rng.choice(list(node))
        elif isinstance(node, list) and node:
            key = rng.randrange(len(node))
        else:
            break
        path.append((node, key))
        node = node[key]
    if not path:
        return
    parent, key = path[-1]
    action = rng.choice(["replace", "delete", "wrap"])
    if action == "delete":
        del parent[key]
    elif action == "wrap":
        parent[key] = [parent[key]]
    else:
        parent[key] = replacement


_NAMES = ["var.a", "local.l", "each.key", "count.index", "aws_kms_key.k.arn", "data.aws_caller_identity.c.account_id",
          "module.m.out", "path.module", "x"]
_FUNCS = sorted(FUNCTIONS)


def expressions() -> st.SearchStrategy[str]:
    leaf = st.one_of(st.integers(-3, 3).map(str), st.sampled_from(['"a"', '"${var.a}"', "true", "null", '"*"', "[]", "{}"]),
                     st.sampled_from(_NAMES))

    def extend(inner):
        return st.one_of(
            st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "%", "==", "!=", "<", "&&", "||"]), inner)
            .map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
            st.tuples(inner, inner, inner).map(lambda t: f"({t[0]} ? {t[1]} : {t[2]})"),
            st.tuples(st.sampled_from(_FUNCS), st.lists(inner, max_size=3)).map(lambda t: f"{t[0]}({', '.join(t[1])})"),
            st.lists(inner, max_size=3).map(lambda xs: "[" + ", ".join(xs) + "]"),
            st.lists(st.tuples(st.sampled_from(["k", "a", "b"]), inner), max_size=3)
            .map(lambda kv: "{" + ", ".join(f"{k} = {v}" for k, v in kv) + "}"),
            st.tuples(inner, inner).map(lambda t: f"[for x in {t[0]} : {t[1]}]"),
            st.tuples(inner, inner).map(lambda t: f"{t[0]}[{t[1]}]"),
            inner.map(lambda e: f"{e}[*].id"),
            inner.map(lambda e: f'"pre-${{{e}}}-post"'),
        )

    return st.recursive(leaf, extend, max_leaves=12)


def expression_stack(expression: str) -> str:
    return (f'variable "a" {{\n  default = ["x", "y"]\n}}\nlocals {{\n  l = {{ a = 1 }}\n  e = {expression}\n}}\n'
            f'resource "aws_kms_key" "k" {{\n  description         = local.e\n  enable_key_rotation = true\n}}\n'
            f'data "aws_caller_identity" "c" {{}}\n')


# Functions with huge arguments: numbers past any range, long strings, deep and wide collections,
# values shared by reference (a tree of 2^40 leaves), YAML aliases, pathological regexes.
HUGE_LOCALS = {
    "long": 'format("%100000s", "x")',
    "aaa": '"' + "a" * 60 + '!"',
    "nl": 'join("\\n", range(2000))',
    "wide": "{for i in range(10000) : tostring(i) => i}",
    "big": "range(100000)",
    "deep": "[" * 60 + '"x"' + "]" * 60,
    "l0": '["x", "x"]',
    **{f"l{i}": f"[local.l{i - 1}, local.l{i - 1}]" for i in range(1, 41)},
    "bomb": '"a: &a [x, x, x, x, x, x, x, x, x]\\n' + "\\n".join(
        f"{b}: &{b} [" + ", ".join([f"*{a}"] * 9) + "]" for a, b in zip("abcdefgh", "bcdefghi")) + '"',  # YAML text: an alias bomb
}
_HUGE_ARGS = [
    "1e400", "-1e400", "1e308", "pow(10, 5000)", "999999999", "-999999999", "99999999999999999999999999999", "0", "-1",
    "0.5", "local.long", "local.aaa", "local.nl", "local.wide", "local.big", "local.deep", "local.l40", "local.l20",
    "local.bomb", '"^(a+)+$"', '"/^(a|aa)+$/"', '"(x+x+)+y"', '"(?P<n>a)(b)"', '"["', '"$1$${n}$$"', '"%999999999d"',
    '"%v %s %q"', '"%.999f"', "[]", "{}", "null", "true", '""', "[local.l40, local.l40]", "{a = local.l40}",
    "[for i in range(100000) : local.long]", "toset(local.big)", "keys(local.wide)",
]


def huge_calls() -> st.SearchStrategy[str]:
    """Random calls of Terraform's functions (FUNCTIONS) on huge arguments, nested two deep."""
    argument = st.sampled_from(_HUGE_ARGS)
    call = st.tuples(st.sampled_from(_FUNCS), st.lists(argument, min_size=1, max_size=3)) \
        .map(lambda t: f"{t[0]}({', '.join(t[1])})")
    nested = st.tuples(st.sampled_from(_FUNCS), st.lists(st.one_of(argument, call), min_size=1, max_size=3)) \
        .map(lambda t: f"{t[0]}({', '.join(t[1])})")
    return st.one_of(call, nested, st.tuples(call, call).map(lambda t: f'"${{{t[0]}}}${{{t[1]}}}"'),
                     call.map(lambda c: f"[for x in local.big : {c}]"), call.map(lambda c: f"can({c})"))


def huge_call_stack(expression: str) -> str:
    lines = "\n".join(f"  {k} = {v}" for k, v in HUGE_LOCALS.items())
    return (f"locals {{\n{lines}\n  e = {expression}\n}}\n"
            'resource "aws_ecr_repository" "r" {\n  name                 = "r"\n'
            '  image_tag_mutability = local.e == "x" ? "IMMUTABLE" : "MUTABLE"\n  tags = { e = local.e }\n}\n'
            'resource "aws_kms_key" "k" {\n  description         = local.e\n  enable_key_rotation = true\n}\n')


@contextmanager
def time_limit(seconds: int):
    def expired(signum, frame):
        raise TimeoutError(f"ecr-lint took more than {seconds} s: a hang")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def check(files: dict[str, str | bytes]) -> None:
    """The property: no uncaught exception, no hang, a well-formed report with an exit code."""
    with tempfile.TemporaryDirectory() as directory:
        for name, content in files.items():
            mode = "wb" if isinstance(content, bytes) else "w"
            with open(os.path.join(directory, name), mode, **({} if mode == "wb" else {"encoding": "utf-8"})) as handle:
                handle.write(content)
        targets = [directory] + [os.path.join(directory, n) for n in files if n.endswith(".json")]
        with time_limit(MAX_SECONDS):
            report = lint(targets)
        assert [e for e in report.errors if e.kind == "internal"] == [], report.errors
        for error in report.errors:
            assert error.file and error.message
        for result in report.results:
            assert result.status in (Status.PASS, Status.FAIL, Status.UNKNOWN, Status.SUPPRESSED)
            assert result.rule_id and result.file
        assert exit_code(report, "error") in (0, 1, 2)


# --- symlink layouts: links out of the tree, to devices, loops, links to `.`, dangling -----------------

OUTSIDE_MARKER = "OUTSIDE-MARKER-7f3a"
LAYOUT_STACK = '''variable "environment" {
  default = "dev"
}
locals {
  all   = fileset(path.module, "**")
  repos = fileset(path.module, "repos/*.json")
  data  = fileexists("${path.module}/data.json") ? file("${path.module}/data.json") : "{}"
}
resource "aws_ecr_repository" "r" {
  for_each             = local.repos
  name                 = each.key
  image_tag_mutability = var.environment == "prod" ? "MUTABLE" : "IMMUTABLE"
  tags                 = { Environment = var.environment, Data = local.data, Files = length(local.all) }
}
'''
_LINK_NAMES = ["extra.tf", "terraform.tfvars", "z.auto.tfvars", "repos/b.json", "data.json", "sub", "repos/deep"]
_LINK_TARGETS = ["outside-file", "outside-dir", "/dev/zero", "/dev/urandom", "fifo", "loop", "dot", "parent",
                 "dangling", "inside-file", "inside-dir"]


def symlink_layouts() -> st.SearchStrategy[list[tuple[str, str]]]:
    """A list of (name in the stack, what it is): symlinks of every awkward kind, and FIFOs."""
    return st.lists(st.tuples(st.sampled_from(_LINK_NAMES), st.sampled_from(_LINK_TARGETS)), min_size=1, max_size=5,
                    unique_by=lambda item: item[0])


def make_layout(directory: str, layout: list[tuple[str, str]]) -> str:
    """Build the stack (and an `outside` tree beside it) in `directory`; returns the stack path."""
    outside = os.path.join(directory, "outside")
    stack = os.path.join(directory, "stack")
    os.makedirs(os.path.join(outside, "dir"))
    os.makedirs(os.path.join(stack, "repos"))
    secret = f'environment = "prod"\nsecret      = "{OUTSIDE_MARKER}"\n'
    for path, text in ((os.path.join(outside, "secret"), secret), (os.path.join(outside, "dir", "x.json"), secret),
                       (os.path.join(stack, "main.tf"), LAYOUT_STACK),
                       (os.path.join(stack, "repos", "a.json"), '{"name": "a"}')):
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
    for name, kind in layout:
        path = os.path.join(stack, name)
        here = os.path.dirname(path)
        if kind == "fifo":
            os.mkfifo(path)
            continue
        target = {"outside-file": os.path.join(outside, "secret"), "outside-dir": os.path.join(outside, "dir"),
                  "/dev/zero": "/dev/zero", "/dev/urandom": "/dev/urandom", "loop": path + ".loop", "dot": ".",
                  "parent": "..", "dangling": "nowhere",
                  "inside-file": os.path.relpath(os.path.join(stack, "repos", "a.json"), here),
                  "inside-dir": os.path.relpath(os.path.join(stack, "repos"), here)}[kind]
        os.symlink(target, path)
        if kind == "loop":
            os.symlink(path, path + ".loop")
    return stack


def _outcome(report) -> tuple:
    return (exit_code(report, "error"),
            sorted((r.rule_id, r.address, r.status.value, r.message, r.file, r.line) for r in report.results),
            sorted((e.file, e.line, e.message, e.kind) for e in report.errors))


def lint_twice(targets: list[str], cache_home: str) -> tuple[tuple, tuple]:
    """(cached run, uncached run) outcomes, each under the time limit."""
    previous = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = cache_home
    try:
        with time_limit(MAX_SECONDS):
            cached = lint(targets, cache=True)
        with time_limit(MAX_SECONDS):
            uncached = lint(targets, cache=False)
    finally:
        if previous is None:
            os.environ.pop("XDG_CACHE_HOME", None)
        else:
            os.environ["XDG_CACHE_HOME"] = previous
    for report in (cached, uncached):
        assert [e for e in report.errors if e.kind == "internal"] == [], report.errors
    return _outcome(cached), _outcome(uncached)


def check_layout(layout: list[tuple[str, str]]) -> None:
    """The property: cold, warm and uncached runs agree; nothing from outside the tree is read
    (its marker never shows, its `prod` never flips a verdict); no hang, no traceback."""
    with tempfile.TemporaryDirectory() as directory:
        stack = make_layout(directory, layout)
        cache_home = os.path.join(directory, "cache")
        cold, uncached = lint_twice([stack], cache_home)
        warm, _ = lint_twice([stack], cache_home)
        assert cold == uncached == warm
        assert OUTSIDE_MARKER not in repr(cold)
        assert not any(rule == "ECR003" and status == "fail" for rule, _, status, *_ in cold[1])


# --- cache tampering: flipped bytes, planted entries, owners, modes, symlinked directories ------------

_TAMPER = ["flip", "truncate", "plant-stack", "plant-ast", "plant-copy", "chown-file", "chown-dir", "chmod-dir",
           "symlink-dir", "delete-key", "junk-key", "stale-tmp-link"]


def cache_tampering() -> st.SearchStrategy[list[tuple[str, int, int]]]:
    """Operations on a warm cache: (what, which file or directory, which byte)."""
    return st.lists(st.tuples(st.sampled_from(_TAMPER), st.integers(0, 10_000), st.integers(0, 10_000)),
                    min_size=1, max_size=4)


def _tamper(root: str, elsewhere: str, operation: tuple[str, int, int]) -> None:
    what, which, at = operation
    files = sorted(os.path.join(d, f) for d, _, names in os.walk(root) for f in names)
    dirs = sorted(d for d, _, _ in os.walk(root))
    entries = [f for f in files if f.endswith(".json")]
    if what in ("plant-stack", "plant-ast"):  # the right key, as older versions wrote entries
        entries = [f for f in entries if f"/{what[6:]}/" in f]
    if what in ("flip", "truncate", "plant-stack", "plant-ast", "plant-copy", "chown-file") and not entries:
        return
    entry = entries[which % len(entries)] if entries else None
    if what == "flip":
        data = bytearray(open(entry, "rb").read())
        data[at % len(data)] ^= 1 << (which % 8)
        open(entry, "wb").write(bytes(data))
    elif what == "truncate":
        data = open(entry, "rb").read()
        open(entry, "wb").write(data[:at % max(1, len(data))])
    elif what in ("plant-stack", "plant-ast"):  # an empty result, or an empty file's parse tree
        from ecr_lint import __version__

        key = os.path.basename(os.path.dirname(entry)) + os.path.basename(entry)[:-5]
        empty = {"root": "/", "kind": "hcl", "resources": 0, "results": [], "errors": [], "spans": [], "exports": [],
                 "imports": [], "secrets": []}
        data = {"manifest": {}, "outcome": empty} if what == "plant-stack" else {"n": "Body", "f": [{"d": []}, {"t": []}]}
        open(entry, "w").write(json.dumps({"key": key, "tool": __version__, "data": data}))
        if what == "plant-ast":  # so that the parse cache is asked
            for stale in [f for f in files if "/stack/" in f]:
                os.remove(stale)
    elif what == "plant-copy":  # a genuine entry moved to another key
        other = entries[at % len(entries)]
        if other != entry:
            open(other, "wb").write(open(entry, "rb").read())
    elif what == "chown-file":
        os.chown(entry, 65534, 65534)
    elif what == "chown-dir":
        os.chown(dirs[which % len(dirs)], 65534, 65534)
    elif what == "chmod-dir":
        os.chmod(dirs[which % len(dirs)], [0o777, 0o775, 0o755, 0o000][at % 4])
    elif what == "symlink-dir":  # a cache directory replaced by a symlink to a folder elsewhere
        victim = dirs[which % len(dirs)]
        os.rename(victim, victim + ".moved")
        os.symlink(elsewhere, victim)
    elif what == "delete-key" and os.path.exists(os.path.join(root, "key")):
        os.remove(os.path.join(root, "key"))
    elif what == "junk-key":
        open(os.path.join(root, "key"), "wb").write(bytes([at % 256]) * (which % 40))
    elif what == "stale-tmp-link":  # a `.tmp` link in the cache to a file elsewhere, old enough to prune
        import time

        target = os.path.join(elsewhere, "victim.tmp")
        os.utime(target, (time.time() - 7200, time.time() - 7200))
        os.symlink(target, os.path.join(dirs[which % len(dirs)], f"x{at}.tmp"))


def check_tampering(operations: list[tuple[str, int, int]]) -> None:
    """The property: whatever was done to the cache, a cached run gives the exit code, results and
    errors of an uncached one, without a traceback or a hang, and nothing outside the real cache
    root is written or deleted."""
    stacks = [os.path.join(REPO, "fixtures", "seed_as_written"), os.path.join(REPO, "fixtures", "policies")]
    with tempfile.TemporaryDirectory() as directory:
        cache_home = os.path.join(directory, "cache")
        elsewhere = os.path.join(directory, "elsewhere")
        os.makedirs(elsewhere)
        with open(os.path.join(elsewhere, "victim.tmp"), "w") as handle:
            handle.write("not the cache's")
        lint_twice(stacks, cache_home)  # cold: fills the cache
        root = os.path.join(cache_home, "ecr-lint", "v1")
        for operation in operations:
            _tamper(root, elsewhere, operation)
        before = sorted(os.listdir(elsewhere))
        cached, uncached = lint_twice(stacks, cache_home)
        assert cached == uncached
        again, _ = lint_twice(stacks, cache_home)  # and after whatever the tampered run rewrote
        assert again == uncached
        assert sorted(os.listdir(elsewhere)) == before and open(os.path.join(elsewhere, "victim.tmp")).read() == \
            "not the cache's"
