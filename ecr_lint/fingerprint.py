"""Stable identity of a finding: rule, address and file, not the line (a moved line is not new)."""

from __future__ import annotations

import functools
import hashlib
import os

from ecr_lint.model import Result


def relative_uri(path: str) -> str:
    """The path relative to the working directory, with forward slashes; absolute outside it."""
    return _relative_uri(path, os.getcwd())


@functools.lru_cache(maxsize=65536)  # reports repeat the same few thousand paths
def _relative_uri(path: str, cwd: str) -> str:
    rel = os.path.relpath(os.path.join(cwd, path), cwd)
    if rel.startswith(".."):
        return os.path.abspath(path).replace(os.sep, "/")
    return rel.replace(os.sep, "/")


def fingerprint(result: Result) -> str:
    key = f"{result.rule_id}|{result.address}|{relative_uri(result.file)}"
    return hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()[:32]  # a non-UTF-8 file name: its bytes
