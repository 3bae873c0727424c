"""Terraform's fileset(), walked through the reading gate: never outside the roots, never in a loop,
and never past a bound on the entries it visits."""

from __future__ import annotations

import errno
import os
import stat

from ecr_lint.hcl.evaluate import BudgetExceeded
from ecr_lint.loaders.files import Refused, Roots, outside, resolve

# Directory entries one fileset() call may visit. TODO(budgets): charge these to the per-stack
# evaluation budget once evaluate.py has it, instead of this per-call constant.
MAX_FILESET_ENTRIES = 50_000
MAX_PATTERN_ALTERNATIVES = 256


def fileset(base: str, pattern: str, roots: Roots, max_entries: int = MAX_FILESET_ENTRIES) -> list[str]:
    """Terraform's fileset(): regular files under `base` matching `pattern` (`*`, `?`, `[...]`,
    `{a,b}`, `**`), relative to `base`. The walk never leaves the roots (a match beyond them is
    Refused: the result cannot be known), never re-enters a directory on its own path (links to
    `.` cannot loop), and visits at most `max_entries` entries (BudgetExceeded past that)."""
    walk = _Walk(roots, max_entries)
    base = os.path.abspath(base)
    for alternative in _alternatives(pattern):
        # As Go's filepath.Join: the pattern is appended to the path even when it starts with "/".
        full = os.path.normpath(base + "/" + alternative)
        parts = [p for p in full.split("/") if p]
        fixed = 0
        while fixed < len(parts) and not _magic(parts[fixed]):
            fixed += 1
        if fixed == len(parts):  # no wildcard: one file
            walk.single(full)
            continue
        start = "/" + "/".join(parts[:fixed])
        real = resolve(start, roots)
        walk.seen = set()
        walk.dir(start, real, [_Segment(p) for p in parts[fixed:]], 0, frozenset([real]))
    return sorted({os.path.relpath(found, base).replace(os.sep, "/") for found in walk.found})


def _magic(part: str) -> bool:
    return any(c in part for c in "*?[\\")


class _Segment:
    """One path segment of a pattern: `**`, a literal name, or a wildcard matched without regex
    (no backtracking blow-up, whatever the pattern)."""

    __slots__ = ("text", "recursive", "literal", "tokens")

    def __init__(self, text: str):
        self.text = text
        self.recursive = text == "**"
        self.literal = not _magic(text)
        self.tokens = None if self.recursive or self.literal else _tokens(text)

    def matches(self, name: str) -> bool:
        if self.literal:
            return name == self.text
        return _match(self.tokens, name)


_STAR = ("*",)
_ANY = ("?",)


def _tokens(text: str) -> list:
    tokens: list = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "*":
            if not tokens or tokens[-1] is not _STAR:
                tokens.append(_STAR)
        elif c == "?":
            tokens.append(_ANY)
        elif c == "[" and "]" in text[i + 2:]:
            end = text.index("]", i + 2)
            body = text[i + 1:end]
            negate = body[:1] in ("!", "^")
            body = body[1:] if negate else body
            ranges = []
            j = 0
            while j < len(body):
                if j + 2 < len(body) and body[j + 1] == "-":
                    ranges.append((body[j], body[j + 2]))
                    j += 3
                else:
                    ranges.append((body[j], body[j]))
                    j += 1
            tokens.append(("[", negate, tuple(ranges)))
            i = end
        elif c == "\\" and i + 1 < len(text):
            i += 1
            tokens.append(("=", text[i]))
        else:
            tokens.append(("=", c))
        i += 1
    return tokens


def _one(token: tuple, char: str) -> bool:
    if token is _ANY:
        return True
    if token[0] == "=":
        return token[1] == char
    inside = any(low <= char <= high for low, high in token[2])
    return inside != token[1]


def _match(tokens: list, name: str) -> bool:
    """Wildcard matching in O(len(tokens) * len(name)): on a mismatch, only the last `*` retries."""
    t = n = 0
    star, star_n = -1, 0
    while n < len(name):
        if t < len(tokens) and tokens[t] is not _STAR and _one(tokens[t], name[n]):
            t += 1
            n += 1
        elif t < len(tokens) and tokens[t] is _STAR:
            star, star_n = t, n
            t += 1
        elif star >= 0:
            t = star + 1
            star_n += 1
            n = star_n
        else:
            return False
    while t < len(tokens) and tokens[t] is _STAR:
        t += 1
    return t == len(tokens)


def _alternatives(pattern: str) -> list[str]:
    """`{a,b}` alternatives expanded (nested ones too), at most MAX_PATTERN_ALTERNATIVES."""
    depth, start = 0, -1
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if c == "{":
            if depth == 0:
                start = i
            depth += 1
        elif c == "}" and depth:
            depth -= 1
            if depth == 0:
                options, level, piece = [], 0, start + 1
                for j in range(start + 1, i):
                    ch = pattern[j]
                    if ch == "{":
                        level += 1
                    elif ch == "}":
                        level -= 1
                    elif ch == "," and level == 0 and pattern[j - 1] != "\\":
                        options.append(pattern[piece:j])
                        piece = j + 1
                options.append(pattern[piece:i])
                out: list[str] = []
                for option in options:
                    for rest in _alternatives(option + pattern[i + 1:]):
                        out.append(pattern[:start] + rest)
                        if len(out) > MAX_PATTERN_ALTERNATIVES:
                            raise BudgetExceeded(f"fileset(): the pattern has more than {MAX_PATTERN_ALTERNATIVES} "
                                                 "{...} alternatives")
                return out
        i += 1
    return [pattern]


class _Walk:
    """One fileset() walk. Fail closed: a match (or a directory to enter) that resolves outside
    the roots makes the whole result unknown (Refused), as ecr-lint cannot see what Terraform
    would; a dangling symlink match is an error, as in Terraform. A symlink back to a directory
    already on the path (a link to `.`) is not entered again, so nothing loops; everything else
    counts against the entry bound."""

    def __init__(self, roots: Roots, max_entries: int):
        self.roots = roots
        self.left = max_entries
        self.limit = max_entries
        self.found: set[str] = set()
        self.seen: set[tuple[str, int]] = set()  # (shown directory, segment index) done

    def spend(self) -> None:
        self.left -= 1
        if self.left < 0:
            raise BudgetExceeded(f"fileset() visited more than {self.limit} directory entries: stopped")

    def dir(self, shown: str, real: str, segments: list[_Segment], i: int, path: frozenset[str]) -> None:
        """Match segments[i:] inside the directory `real` (named `shown`); `path` holds the real
        directories entered to get here."""
        if (shown, i) in self.seen:
            return
        self.seen.add((shown, i))
        self.spend()
        segment = segments[i]
        if segment.recursive:
            if i < len(segments) - 1:
                self.dir(shown, real, segments, i + 1, path)  # `**` as zero directories
            for entry in self.entries(real):
                if entry.is_dir(follow_symlinks=False):
                    child = os.path.join(real, entry.name)
                    self.dir(os.path.join(shown, entry.name), child, segments, i, path | {child})
                else:
                    self.visit(shown, real, entry.name, segments, i, path)
            return
        if segment.literal:
            self.visit(shown, real, segment.text, segments, i, path)
            return
        for entry in self.entries(real):
            if segment.matches(entry.name):
                self.visit(shown, real, entry.name, segments, i, path)

    def visit(self, shown_dir: str, real_dir: str, name: str, segments: list[_Segment], i: int,
              path: frozenset[str]) -> None:
        """One candidate for segments[i]: the last segment wants a regular file; the others (and
        `**`, through a symlink) a directory to enter."""
        self.spend()
        shown, candidate = os.path.join(shown_dir, name), os.path.join(real_dir, name)
        link = os.path.islink(candidate)
        real = os.path.realpath(candidate) if link else candidate
        last, recursive = i == len(segments) - 1, segments[i].recursive
        try:
            mode = os.stat(real).st_mode
        except OSError:
            if link and last:
                raise FileNotFoundError(errno.ENOENT, f"{shown} is a dangling symlink") from None
            return
        wanted_file = last and stat.S_ISREG(mode)
        # Real directories under `**` are entered by dir(); here, a symlinked one (recursive), or
        # the directory a middle segment names.
        wanted_dir = stat.S_ISDIR(mode) and (link if recursive else not last)
        if not (wanted_file or wanted_dir):
            return
        if not self.roots.admits(real):
            raise Refused(f"{shown}: {outside(shown, real)}")
        if wanted_file:
            self.found.add(shown)
        elif real not in path:  # a link back to a directory on the path (`.`, a parent) would loop
            self.dir(shown, real, segments, i if recursive else i + 1, path | {real})

    def single(self, path: str) -> None:
        """A pattern without wildcards: that one regular file."""
        self.spend()
        try:
            real = os.path.realpath(path)
            if stat.S_ISREG(os.stat(real).st_mode):
                if not self.roots.admits(real):
                    raise outside(path, real)
                self.found.add(path)
        except OSError:
            pass

    def entries(self, real: str) -> list[os.DirEntry]:
        try:
            with os.scandir(real) as found:
                entries = []
                for entry in found:
                    self.spend()
                    entries.append(entry)
        except OSError:
            return []
        entries.sort(key=lambda e: e.name)
        return entries
