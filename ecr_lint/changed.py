"""Changed files -> the stacks that contain them (a stack is never linted from one file alone).

Used by the pre-commit hook (`--changed-files`). A file belongs to the nearest directory above it
that holds Terraform files (a `.tfvars` in `env/` belongs to the stack above). A module directory
is linted through every stack that calls it (read from the parsed module calls, HCL and JSON),
and on its own when it is a root stack itself. Deleted and renamed files come from the staged
change in git: pre-commit does not pass them, yet removing a file changes the stack that held it.
"""

from __future__ import annotations

import os
import subprocess

from ecr_lint.api import call_graph, discover
from ecr_lint.config import Config
from ecr_lint.loaders.module import module_files, reading_roots
from ecr_lint.loaders.override import CONFIG_SUFFIXES

TERRAFORM_FILES = (*CONFIG_SUFFIXES, ".tfvars", ".tfvars.json")


def staged_removals(directory: str = ".") -> list[str]:
    """Files the staged change deletes or renames away (their old paths), from git: Terraform
    files, and any file a stack may read (a policy JSON given to file()). Outside a git
    repository: none."""
    try:
        done = subprocess.run(["git", "-C", directory, "diff", "--cached", "--name-status", "-z", "-M",
                               "--diff-filter=DR", "--relative"], capture_output=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return []
    if done.returncode != 0:
        return []
    fields = done.stdout.decode("utf-8", "surrogateescape").split("\0")
    removed, i = [], 0
    while i < len(fields) - 1:
        status = fields[i]
        old = fields[i + 1]
        i += 3 if status.startswith("R") else 2  # a rename has the old and the new path
        removed.append(os.path.join(directory, old))
    return removed


def repository_stacks(search_root: str) -> list[str]:
    """Every directory holding Terraform files under the search root, found as a lint run finds them."""
    return discover([search_root])[0]


def _holder(path: str, search_root: str) -> str | None:
    """The nearest directory at or above the file's that holds Terraform files (within the root)."""
    directory = os.path.abspath(os.path.dirname(path) or ".")
    top = os.path.abspath(search_root)
    while True:
        if module_files(directory):
            return os.path.normpath(directory)
        if directory == top or not directory.startswith(top + os.sep):
            return None
        directory = os.path.dirname(directory)


def stacks_for(files: list[str], search_root: str = ".", config: Config | None = None,
               cache: bool = True) -> tuple[list[str], list[str]]:
    """(the root stacks containing the files, every other root stack of the repository).

    The second list is the context the cross-stack rule needs (which stack exports what)."""
    config = config or Config()
    everything = repository_stacks(search_root)
    roots = tuple(reading_roots([search_root]))
    from ecr_lint.cache import Store

    graph = call_graph(config, roots, {}, Store() if cache else None)
    callers = graph.callers(everything)
    root_set = {os.path.abspath(d) for d in graph.roots(everything)}
    wanted: list[str] = []
    for path in files:
        start = _holder(path, search_root)
        frontier, seen = ([start] if start else []), set()
        while frontier:
            current = os.path.abspath(frontier.pop())
            if current in seen:
                continue
            seen.add(current)
            frontier.extend(callers.get(current, ()))
            if (current in root_set or current not in callers) and current not in wanted:
                wanted.append(current)
    context = sorted(d for d in root_set if d not in wanted)
    return sorted(wanted), context
