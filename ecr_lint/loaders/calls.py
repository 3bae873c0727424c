"""Who calls whom: local module calls read from the parsed configuration, and which directories
are root stacks.

A module call's `source` must be a literal string in Terraform, so the parsed configuration says
exactly which directory a call names; text in comments, strings or heredocs never counts.
"""

from __future__ import annotations

import os
from typing import Callable

from ecr_lint.loaders import syntax as ast
from ecr_lint.loaders.config import ModuleConfig, module_files, read_bytes

# Files that only a root module has: Terraform reads tfvars and writes the lock file and
# .terraform/ only where `terraform init/plan` runs.
ROOT_FILES = (".terraform.lock.hcl", "terraform.tfvars", "terraform.tfvars.json", ".terraform")


def local_calls(config: ModuleConfig) -> set[str]:
    """Directories the module calls with a local source (`./x`, `../x`), normalised."""
    found = set()
    for decl in config.modules.values():
        attr = decl.block.body.attributes.get("source")
        if attr is not None and isinstance(attr.expr, ast.Lit) and isinstance(attr.expr.value, str) \
                and attr.expr.value.startswith(("./", "../")):
            found.add(os.path.normpath(os.path.join(os.path.dirname(decl.file), attr.expr.value)))
    return found


def is_root_module(config: ModuleConfig) -> bool:
    """A directory that is a root configuration whoever calls it: it configures a provider or a
    backend, or holds what only `terraform init`/`plan` in that directory writes or reads."""
    if config.providers or config.backend:
        return True
    try:
        names = os.listdir(config.directory)
    except OSError:
        return False
    return any(n in ROOT_FILES or n.endswith((".auto.tfvars", ".auto.tfvars.json")) for n in names)


def may_call_modules(directory: str, max_bytes: int) -> bool:
    """Whether any file of the directory holds the word `module` (else it calls none, and need not
    be parsed to know it). A file that cannot be read counts as a possible caller."""
    for path in module_files(directory):
        try:
            if b"module" in read_bytes(path, max_bytes):
                return True
        except (OSError, ValueError):
            return True
    return False


class CallGraph:
    """Local module calls between directories; configurations are parsed once, through `load`
    (a function directory -> ModuleConfig, e.g. a shared module cache)."""

    def __init__(self, load: Callable[[str], ModuleConfig], max_bytes: int):
        self.load = load
        self.max_bytes = max_bytes
        self.callees: dict[str, set[str]] = {}

    def calls_of(self, directory: str) -> set[str]:
        directory = os.path.abspath(directory)
        if directory not in self.callees:
            self.callees[directory] = (local_calls(self.load(directory))
                                       if may_call_modules(directory, self.max_bytes) else set())
        return self.callees[directory]

    def callers(self, directories: list[str]) -> dict[str, set[str]]:
        """callee directory -> the directories among `directories` that call it."""
        out: dict[str, set[str]] = {}
        for directory in directories:
            for target in self.calls_of(directory):
                out.setdefault(target, set()).add(os.path.abspath(directory))
        return out

    def roots(self, directories: list[str]) -> list[str]:
        """The directories to lint as root stacks: every one that nothing among them calls, and
        every called one that is a root configuration itself. A called module is also linted
        through each caller, with the inputs they give it: a caller can add findings to a root
        stack, never take its own away."""
        if len(directories) <= 1:
            return list(directories)
        called = self.callers(directories)
        return [d for d in directories
                if os.path.abspath(d) not in called or is_root_module(self.load(os.path.abspath(d)))]
