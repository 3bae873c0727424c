"""What one stack read through the gate, recorded: the result cache's manifest, and whether it still holds."""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any, Iterable

from ecr_lint.hcl.evaluate import BudgetExceeded
from ecr_lint.loaders.fileset import fileset
from ecr_lint.loaders.files import (
    MAX_FILE_BYTES, Refused, Roots, as_roots, describe, file_state, list_dir, read_file,
)

TF_SUFFIXES = (".tf", ".tf.json", ".tofu", ".tofu.json", ".tfvars", ".tfvars.json")  # what a listing records


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
        return self.read_bytes(path, limit).decode("utf-8")

    def read_bytes(self, path: str, limit: int = MAX_FILE_BYTES) -> bytes:
        """Raw bytes (filebase64(), filesha256()...); raises Refused or OSError."""
        return self.reader.read_bytes(self.path(path), limit)

    def state(self, path: str) -> str:
        return self.reader.file_state(self.path(path))

    def fileset(self, path: str, pattern: str) -> list[str]:
        return self.reader.fileset(self.path(path), pattern)
