"""The reading gate: every file ecr-lint reads from a linted tree is opened here, and only here.

Rules, for every read: symlinks are resolved first, and the real path must lie inside the
reading roots (the linted paths and the git repositories that hold them, plus files named on
the command line); only regular files are read (never a device, FIFO, socket or directory); the
read is bounded (`read(limit + 1)`, never an unbounded `read()`), and the opened descriptor is
checked again (fstat, and where it really points) so that a path swapped mid-way is not read.
A refusal names the reason, never the content.

fileset.py walks directories under the same rules; reader.py records what one stack read (the
result cache's manifest).
"""

from __future__ import annotations

import io
import os
import stat
from typing import Any, Iterable

MAX_FILE_BYTES = 4 * 1024 * 1024

_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC | getattr(os, "O_NOCTTY", 0)
_DIR_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_DIRECTORY | os.O_CLOEXEC
_PROC = os.path.isdir("/proc/self/fd")  # where an open descriptor really points, from the kernel


class Refused(ValueError):
    """A file the gate does not read: the message says why and never quotes the file."""


# `ecr-lint fix` checks its edits by linting again with the files as they would be (real path ->
# bytes); the gate's checks still apply to the file on disk. Empty (and unused) otherwise.
OVERLAY: dict[str, bytes] = {}


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
        raise outside(path, real)
    return real


def outside(path: str, real: str) -> Refused:
    """The refusal for a path whose real path `real` lies outside the roots."""
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
            raise outside(path, real or "an unknown place")
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
    if OVERLAY:
        edited = OVERLAY.get(os.path.realpath(path))
        if edited is not None:
            if len(edited) > limit:
                raise Refused(f"file would grow past the {limit}-byte limit")
            return edited, st
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
