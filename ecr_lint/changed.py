"""Changed files -> the stacks that contain them (a stack is never linted from one file alone)."""

from __future__ import annotations

import os
import re

from ecr_lint.api import SKIP_DIRS

_LOCAL_SOURCE = re.compile(r'source\s*=\s*"(\.\.?/[^"]*)"')


def _callers(search_root: str) -> dict[str, set[str]]:
    """module directory -> directories whose .tf files call it with a local source."""
    callers: dict[str, set[str]] = {}
    for current, subdirs, files in os.walk(search_root):
        subdirs[:] = [d for d in subdirs if d not in SKIP_DIRS and not d.startswith(".")]
        for name in files:
            if not name.endswith(".tf"):
                continue
            try:
                with open(os.path.join(current, name), encoding="utf-8", errors="replace") as handle:
                    text = handle.read()
            except OSError:
                continue
            if "source" not in text:
                continue
            for source in _LOCAL_SOURCE.findall(text):  # a cheap scan: parsing every file would be slow
                target = os.path.normpath(os.path.join(current, source))
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
