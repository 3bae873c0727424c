"""Changed files -> the stacks that contain them (a stack is never linted from one file alone)."""

from __future__ import annotations

import os

from ecr_lint.api import SKIP_DIRS
from ecr_lint.loaders.config import local_module_sources

def _callers(search_root: str) -> dict[str, set[str]]:
    """module directory -> directories that call it with a local source (a cheap text scan)."""
    callers: dict[str, set[str]] = {}
    for current, subdirs, files in os.walk(search_root):
        subdirs[:] = [d for d in subdirs if d not in SKIP_DIRS]  # dot-directories are stacks too (api.discover)
        if any(name.endswith(".tf") for name in files):
            for target in local_module_sources(current):
                callers.setdefault(target, set()).add(os.path.normpath(current))
    return callers


def stacks_for(files: list[str], search_root: str = ".") -> list[str]:
    """The root stacks containing the files: their directory, or whoever calls it as a module."""
    callers = _callers(os.path.abspath(search_root))
    stacks: list[str] = []
    for path in files:
        directory = os.path.normpath(os.path.abspath(os.path.dirname(path) or "."))
        frontier, seen = [directory], set()
        while frontier:
            current = frontier.pop()
            if current in seen:
                continue
            seen.add(current)
            parents = callers.get(current)
            if parents:
                frontier.extend(parents)
            elif current not in stacks:
                stacks.append(current)
    return sorted(stacks)
