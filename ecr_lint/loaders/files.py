"""The reading gate: every file ecr-lint reads from a linted tree is opened here, and only here.

Rules, for every read: symlinks are resolved first, and the real path must lie inside the
reading roots (the linted paths and the git repositories that hold them, plus files named on
the command line); only regular files are read (never a device, FIFO, socket or directory); the
read is bounded (`read(limit + 1)`, never an unbounded `read()`), and the opened descriptor is
checked again (fstat, and where it really points) so that a path swapped mid-way is not read.
A refusal names the reason, never the content.

A `Reader` reads for one stack and records what it saw (files with their digests, directory
listings, `fileexists` answers, `fileset` results): that record is the result cache's manifest,
and `holds()` tells whether the tree still looks the same.
"""

from __future__ import annotations

import errno
import hashlib
import io
import json
import os
import stat
from typing import Any, Iterable

from ecr_lint.evaluate import BudgetExceeded

MAX_FILE_BYTES = 4 * 1024 * 1024
# Directory entries one fileset() call may visit. TODO(budgets): charge these to the per-stack
# evaluation budget once evaluate.py has it, instead of this per-call constant.
MAX_FILESET_ENTRIES = 50_000
MAX_PATTERN_ALTERNATIVES = 256
TF_SUFFIXES = (".tf", ".tf.json", ".tfvars", ".tfvars.json")

_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC | getattr(os, "O_NOCTTY", 0)
_DIR_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_DIRECTORY | os.O_CLOEXEC
_PROC = os.path.isdir("/proc/self/fd")  # where an open descriptor really points, from the kernel


class Refused(ValueError):
    """A file the gate does not read: the message says why and never quotes the file."""


class Roots:
    """What may be read: directories (real paths; everything below them) and single files
    named on the command line (trusted by the person running ecr-lint)."""

    __slots__ = ("dirs", "files", "_prefixes")

    def __init__(self, dirs: Iterable[str], files: Iterable[str] = ()):
        self.dirs = tuple(sorted({os.path.realpath(d) for d in dirs}))
        self.files = tuple(sorted({os.path.realpath(f) for f in files}))
        self._prefixes = tuple(d.rstrip(os.sep) + os.sep for d in self.dirs)

    def admits(self, real: str) -> bool:
        return real.startswith(self._prefixes) or real in self.dirs or real in self.files

    def to_json(self) -> list:
        return [list(self.dirs), list(self.files)]

    @classmethod
    def from_json(cls, data: Any) -> "Roots":
        """Roots written by to_json: already real paths (not resolved again: the warm path)."""
        dirs, files = data
        roots = cls(())
        roots.dirs, roots.files = tuple(dirs), tuple(files)
        roots._prefixes = tuple(d.rstrip(os.sep) + os.sep for d in roots.dirs)
        return roots


def as_roots(roots: "Roots | Iterable[str]") -> Roots:
    return roots if isinstance(roots, Roots) else Roots(roots)


# --- the gate ------------------------------------------------------------------------------------


def resolve(path: str, roots: Roots) -> str:
    """The real path of `path`, or Refused when it lies outside the roots."""
    real = os.path.realpath(path)
    if not roots.admits(real):
        raise _outside(path, real)
    return real


def _outside(path: str, real: str) -> Refused:
    if real == os.path.abspath(path):
        return Refused("outside the linted tree and its repository: not read")
    how = "symlink to" if os.path.islink(path) else "resolves to"
    return Refused(f"{how} {real}, outside the linted tree and its repository: not read")


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISLNK, "a symlink")):
        if test(mode):
            return name
    return "not a regular file"


def _check_kind(st: os.stat_result, limit: int | None) -> None:
    """A regular file within the limit, or with limit None a directory."""
    if limit is None:
        if not stat.S_ISDIR(st.st_mode):
            raise Refused(f"not a directory ({_kind(st.st_mode)}): not read")
        return
    if stat.S_ISDIR(st.st_mode):
        raise Refused("is a directory, not a file")
    if not stat.S_ISREG(st.st_mode):
        raise Refused(f"not a regular file ({_kind(st.st_mode)}): not read")
    if st.st_size > limit:
        raise Refused(f"file is {st.st_size} bytes, larger than the {limit}-byte limit")


def _where(fd: int) -> str | None:
    """The real path of what an open descriptor is (symlinks resolved by the kernel), if /proc says."""
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return None


def _open(path: str, roots: Roots, limit: int | None) -> tuple[int, os.stat_result]:
    """A descriptor of the regular file (or, with limit None, the directory) at `path`, checked
    before anything is read; the caller closes it.

    The kind is checked before opening (opening a device or FIFO can block or act), and where the
    descriptor really points (symlinks resolved by the kernel, so a component swapped mid-way
    counts) must be inside the roots. Without /proc, the path is resolved first and the last
    component opened without following a symlink."""
    st = os.stat(path)
    if not (stat.S_ISDIR(st.st_mode) if limit is None else stat.S_ISREG(st.st_mode) and st.st_size <= limit):
        resolve(path, roots)  # outside the tree is the reason to give first
        _check_kind(st, limit)
    target = path if _PROC else resolve(path, roots)
    flags = (_DIR_FLAGS if limit is None else _OPEN_FLAGS) & ~(os.O_NOFOLLOW if _PROC else 0)
    fd = os.open(target, flags)
    try:
        real = _where(fd) if _PROC else target
        if real is None or not roots.admits(real):
            raise _outside(path, real or "an unknown place")
        st = os.fstat(fd)
        _check_kind(st, limit)
    except BaseException:
        os.close(fd)
        raise
    return fd, st


def read_file(path: str, roots: Roots, limit: int = MAX_FILE_BYTES) -> tuple[bytes, os.stat_result]:
    """The bytes of a regular file inside the roots, at most `limit` of them, and its fstat.
    Raises Refused (with the reason) or OSError."""
    fd, st = _open(path, roots, limit)
    try:
        chunks, total = [], 0
        while total <= limit:
            chunk = os.read(fd, min(limit + 1 - total, max(st.st_size + 1 - total, 65536)))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    finally:
        os.close(fd)
    if total > limit:
        raise Refused(f"file grew past the {limit}-byte limit while being read")
    return b"".join(chunks), st


class _CappedFile(io.FileIO):
    """A file that raises instead of reading past its limit (a plan streamed in pieces)."""

    limit = 0

    def readinto(self, buffer: Any) -> int | None:
        count = super().readinto(buffer)
        if count and self.tell() > self.limit:
            raise Refused(f"file grew past the {self.limit}-byte limit while being read")
        return count


def open_stream(path: str, roots: Roots, limit: int) -> io.BufferedReader:
    """A buffered binary handle on a regular file inside the roots that never yields more than
    `limit` bytes (for files read piece by piece, like a plan)."""
    fd, _ = _open(path, roots, limit)
    raw = _CappedFile(fd, "rb", closefd=True)
    raw.limit = limit
    return io.BufferedReader(raw)


def describe(exc: BaseException) -> str:
    """One line for an input error: why a file was not read (never its content)."""
    if isinstance(exc, OSError):
        return f"cannot read: {exc.strerror or exc}"
    return str(exc)


def list_dir(directory: str, roots: Roots) -> list[str]:
    """The sorted names in a directory inside the roots."""
    fd, _ = _open(directory, roots, None)
    try:
        return sorted(os.listdir(fd))
    finally:
        os.close(fd)


def file_state(path: str, roots: Roots) -> str:
    """What fileexists() sees: "file", "missing", or why it is something else."""
    try:
        real = resolve(path, roots)
        st = os.stat(real)
    except Refused as exc:
        return f"refused: {exc}"
    except (FileNotFoundError, NotADirectoryError):
        return "missing"
    except OSError as exc:
        return describe(exc)
    return "file" if stat.S_ISREG(st.st_mode) else _kind(st.st_mode)


# --- fileset(): a walk that stays inside the roots ---------------------------------------------------


def fileset(base: str, pattern: str, roots: Roots, max_entries: int = MAX_FILESET_ENTRIES) -> list[str]:
    """Terraform's fileset(): regular files under `base` matching `pattern` (`*`, `?`, `[...]`,
    `{a,b}`, `**`), relative to `base`. The walk never leaves the roots, never follows a symlinked
    directory for `**` (so links to `.` cannot loop), and visits at most `max_entries` entries
    (BudgetExceeded past that)."""
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
            raise Refused(f"{shown}: {_outside(shown, real)}")
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
                    raise _outside(path, real)
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


# --- a stack's reads, recorded --------------------------------------------------------------------------


class Record:
    """What one stack's evaluation touched, as plain JSON data (the result cache's manifest):
    files read (stat and digest, or why not), directory listings (names of Terraform files),
    fileexists() answers and fileset() results."""

    __slots__ = ("files", "dirs", "exists", "globs")

    def __init__(self) -> None:
        self.files: dict[str, list] = {}     # path -> [dev, ino, size, mtime_ns, limit, sha256] | [None, limit, why]
        self.dirs: dict[str, list | str] = {}  # directory -> Terraform file names | why it could not be listed
        self.exists: dict[str, str] = {}     # path -> file_state()
        self.globs: dict[str, list | str] = {}  # json [base, pattern] -> result | why it failed

    def merge(self, other: "Record") -> None:
        self.files.update(other.files)
        self.dirs.update(other.dirs)
        self.exists.update(other.exists)
        self.globs.update(other.globs)

    def to_json(self, roots: Roots) -> dict:
        return {"roots": roots.to_json(), "files": self.files, "dirs": self.dirs, "exists": self.exists,
                "globs": self.globs}


def holds(manifest: Any, must_list: str) -> bool:
    """Whether every file, listing and answer in a manifest is still what it was. `must_list` (the
    stack's directory) must be among its listings: an empty manifest holds nothing."""
    try:
        roots = Roots.from_json(manifest["roots"])
        if must_list not in manifest["dirs"]:
            return False
        for path, signature in manifest["files"].items():
            if not _file_holds(path, signature, roots):
                return False
        for directory, names in manifest["dirs"].items():
            if _listing(directory, roots) != names:
                return False
        for path, state in manifest["exists"].items():
            if file_state(path, roots) != state:
                return False
        for key, result in manifest["globs"].items():
            base, pattern = json.loads(key)
            if _glob_state(base, pattern, roots) != result:
                return False
    except (KeyError, TypeError, ValueError, AttributeError):
        return False  # not a manifest this version wrote
    return True


def _file_holds(path: str, signature: list, roots: Roots) -> bool:
    if signature[0] is None:  # it was refused or unreadable: it must still be, for the same reason
        _, limit, why = signature
        try:
            read_file(path, roots, limit)
        except (Refused, OSError) as exc:
            return describe(exc) == why
        return False
    dev, ino, size, mtime, limit, digest = signature
    try:
        st = os.stat(path)
    except OSError:
        return False
    if (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns) == (dev, ino, size, mtime):
        return True  # the same inode, unchanged: no need to read it (the warm case)
    try:
        data, _ = read_file(path, roots, limit)
    except (Refused, OSError):
        return False
    return hashlib.sha256(data).hexdigest() == digest


def _listing(directory: str, roots: Roots) -> list | str:
    try:
        return [n for n in list_dir(directory, roots) if n.endswith(TF_SUFFIXES)]
    except (Refused, OSError) as exc:
        return describe(exc)


def _glob_state(base: str, pattern: str, roots: Roots) -> list | str:
    try:
        return fileset(base, pattern, roots)
    except (Refused, OSError, BudgetExceeded) as exc:
        return describe(exc)


class Reader:
    """Reads through the gate for one stack (or one module directory), recording what it saw."""

    def __init__(self, roots: "Roots | Iterable[str]"):
        self.roots = as_roots(roots)
        self.record = Record()

    def read_bytes(self, path: str, limit: int = MAX_FILE_BYTES) -> bytes:
        path = os.path.abspath(path)
        try:
            data, st = read_file(path, self.roots, limit)
        except (Refused, OSError) as exc:
            self.record.files[path] = [None, limit, describe(exc)]
            raise
        self.record.files[path] = [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, limit,
                                   hashlib.sha256(data).hexdigest()]
        return data

    def list_dir(self, directory: str) -> list[str]:
        directory = os.path.abspath(directory)
        try:
            names = list_dir(directory, self.roots)
        except (Refused, OSError) as exc:
            self.record.dirs[directory] = describe(exc)
            raise
        self.record.dirs[directory] = [n for n in names if n.endswith(TF_SUFFIXES)]
        return names

    def file_state(self, path: str) -> str:
        path = os.path.abspath(path)
        state = self.record.exists[path] = file_state(path, self.roots)
        return state

    def fileset(self, base: str, pattern: str) -> list[str]:
        base = os.path.abspath(base)
        key = json.dumps([base, pattern])
        try:
            found = fileset(base, pattern, self.roots)
        except (Refused, OSError, BudgetExceeded) as exc:
            self.record.globs[key] = describe(exc)
            raise
        self.record.globs[key] = found
        return found


class TreeFiles:
    """What Terraform's file functions see: paths relative to the root module (as Terraform
    resolves them), read through one stack's Reader."""

    def __init__(self, reader: Reader, base: str):
        self.reader = reader
        self.base = base

    def path(self, path: str) -> str:
        return os.path.normpath(os.path.join(self.base, path))

    def read_text(self, path: str, limit: int = MAX_FILE_BYTES) -> str:
        """UTF-8 text; raises Refused, OSError or UnicodeDecodeError."""
        return self.reader.read_bytes(self.path(path), limit).decode("utf-8")

    def state(self, path: str) -> str:
        return self.reader.file_state(self.path(path))

    def fileset(self, path: str, pattern: str) -> list[str]:
        return self.reader.fileset(self.path(path), pattern)
