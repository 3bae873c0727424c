"""Writing a fix plan: all files prepared first, then each replaced atomically, and only if it is
still what was read (a file changed since is not touched); never through a symlink, never outside
the linted tree."""

from __future__ import annotations

import os
import tempfile

from ecr_lint.fix.plan import FixPlan, writable_reason


def write(plan: FixPlan) -> tuple[list[str], list[tuple[str, str]]]:
    """(files written, (file, why not) for files left as they were)."""
    prepared: list[tuple[str, str]] = []
    skipped: list[tuple[str, str]] = []
    try:
        for path in plan.changed_files():
            reason = writable_reason(path, plan.tree)
            if reason:
                skipped.append((path, reason))
                continue
            prepared.append((path, _prepare(path, plan.texts[path].encode("utf-8"))))
        written = []
        for path, temporary in prepared:
            if _current(path) != plan.originals[path]:
                os.unlink(temporary)
                skipped.append((path, "it changed since ecr-lint read it: not touched (run ecr-lint fix again)"))
                continue
            os.replace(temporary, path)  # atomic: the old file or the new one, never half of it
            written.append(path)
        prepared = []
        return written, skipped
    finally:
        for _, temporary in prepared:  # an error part-way: no stray temporary file left
            try:
                os.unlink(temporary)
            except OSError:
                pass


def _prepare(path: str, data: bytes) -> str:
    """The new content in a temporary file beside the file, with its permissions, synced."""
    mode = os.stat(path, follow_symlinks=False).st_mode & 0o7777
    fd, temporary = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".ecr-lint-fix",
                                     dir=os.path.dirname(path))
    try:
        os.fchmod(fd, mode)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        os.unlink(temporary)
        raise
    os.close(fd)
    return temporary


def _current(path: str) -> bytes | None:
    """The file as it is now (None if it is gone or became something else than a regular file)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        chunks = []
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)
