"""Paths as reports show them, and the stable identity of a finding.

Machine outputs (JSON, SARIF, GitHub annotations, the baseline) and fingerprints use paths
relative to the repository root (the git root of the linted paths, else the config file's
folder, else the working directory), so the same tree gives the same output from any working
directory. Text output, for people, shows paths relative to the working directory.
"""

from __future__ import annotations

import functools
import hashlib
import os
from urllib.parse import quote

from ecr_lint.model import Result


def repository_root(paths: list[str], config_file: str | None = None) -> str:
    """The git root holding the first linted path (never one in a directory anyone may write to),
    else the config file's folder, else the working directory."""
    from ecr_lint.config import repository_root as git_root

    if paths:
        first = paths[0]
        found = git_root(os.path.realpath(first if os.path.isdir(first) else os.path.dirname(first) or "."))
        if found:
            return found
    if config_file:
        return os.path.dirname(os.path.realpath(config_file))
    return os.path.realpath(os.getcwd())


def relative_to(path: str, base: str) -> str:
    """`path` relative to `base`, with forward slashes ("" for an empty path)."""
    if not path:
        return ""
    # Memoised whole (a report asks for the same few thousand paths ~100,000 times); a relative
    # path depends on the working directory, which is part of its key.
    return _relative_of(path, base, "" if path.startswith(os.sep) else os.getcwd())


@functools.lru_cache(maxsize=65536)
def _relative_of(path: str, base: str, cwd: str) -> str:
    return _relative(os.path.normpath(path if not cwd else os.path.join(cwd, path)), base)


@functools.lru_cache(maxsize=65536)  # reports repeat the same few thousand paths
def _relative(path: str, base: str) -> str:
    # The folders resolved (base is a real path), the name itself not: a finding about a symlink
    # names the link.
    real = os.path.join(os.path.realpath(os.path.dirname(path)), os.path.basename(path))
    return os.path.relpath(real, base).replace(os.sep, "/")


def uri(path: str, base: str) -> str:
    """A relative URI reference for SARIF: the relative path, percent-encoded (a file name's bytes
    that are not UTF-8 as themselves: %FF)."""
    return quote(relative_to(path, base).encode("utf-8", "surrogateescape"), safe="/")


def display_path(path: str) -> str:
    """For people: relative to the working directory when under it, else absolute."""
    if not path:
        return path
    rel = os.path.relpath(os.path.abspath(path))
    return os.path.abspath(path) if rel.startswith("..") else rel


def fingerprint(result: Result, base: str) -> str:
    """Rule, address, stack and file (relative to the repository root), not the line: a moved
    line is not a new finding, and the same module finding in two stacks is two findings."""
    return fingerprint_of(result.rule_id, result.address, relative_to(result.stack, base),
                          relative_to(result.file, base))


def fingerprint_of(rule_id: str, address: str, stack: str, file: str) -> str:
    key = f"ecr-lint/2|{rule_id}|{address}|{stack}|{file}"
    return hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()[:32]


def relative_uri(path: str) -> str:
    """For pictures of the tree (graph): relative to the working directory, forward slashes."""
    return display_path(path).replace(os.sep, "/")
