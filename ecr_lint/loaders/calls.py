"""Who calls whom: local module calls read from the parsed configuration, and which directories
are root stacks.

A module call's `source` must be a literal string in Terraform, so the parsed configuration says
exactly which directory a call names; text in comments, strings or heredocs never counts.
"""

from __future__ import annotations

import hashlib
import os
from typing import Callable

from ecr_lint.hcl import syntax as ast
from ecr_lint.loaders.module import ModuleConfig, module_files, read_bytes

# Files that only a root module has: Terraform reads tfvars and writes the lock file and
# .terraform/ only where `terraform init/plan` runs.
ROOT_FILES = (".terraform.lock.hcl", "terraform.tfvars", "terraform.tfvars.json", ".terraform")


def local_source(source: object) -> str | None:
    """A local module source as Terraform reads it, with `/` separators, else None. Terraform
    takes `./x`, `../x` and their Windows spellings `.\\x`, `..\\x` as local paths on every
    system (and writes them with `/` in modules.json): a `.\\mod` call is the directory `mod`."""
    if isinstance(source, str) and source.startswith(("./", "../", ".\\", "..\\")):
        return source.replace("\\", "/")
    return None


def local_calls(config: ModuleConfig) -> set[str]:
    """Directories the module calls with a local source (`./x`, `../x`), normalised."""
    found = set()
    for decl in config.modules.values():
        attr = decl.block.body.attributes.get("source")
        local = local_source(attr.expr.value) if attr is not None and isinstance(attr.expr, ast.Lit) else None
        if local is not None:
            found.add(os.path.normpath(os.path.join(os.path.dirname(decl.file), local)))
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


def may_call_modules(directory: str, max_bytes: int, roots=None) -> bool:
    """Whether any file of the directory holds the word `module` (else it calls none, and need not
    be parsed to know it). A file that cannot be read counts as a possible caller. Read through the
    reading gate (within `roots`, regular files, bounded)."""
    for path in module_files(directory):
        try:
            if b"module" in read_bytes(path, max_bytes, roots):
                return True
        except (OSError, ValueError):
            return True
    return False


def _stamp(directory: str) -> list:
    """What a directory's calls and root-ness depend on, by stat (no read): its Terraform files'
    names, sizes and modification times, and the root-only files present."""
    out: list = []
    for path in module_files(directory):
        try:
            stat = os.stat(path)
        except OSError:
            return []  # unreadable: never matches a cached entry
        out.append([os.path.basename(path), stat.st_size, stat.st_mtime_ns])
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    out.append(sorted(n for n in names if n in ROOT_FILES or n.endswith((".auto.tfvars", ".auto.tfvars.json"))))
    return out


class CallGraph:
    """Local module calls between directories; configurations are parsed once, through `load`
    (a function directory -> ModuleConfig, e.g. a shared module cache). With a cache `store`,
    each directory's answer is kept and reused while its files are unchanged by stat."""

    def __init__(self, load: Callable[[str], ModuleConfig], max_bytes: int, store=None, roots=None):
        self.load = load
        self.max_bytes = max_bytes
        self.store = store
        self.reading_roots = roots
        self.callees: dict[str, set[str]] = {}
        self.root_flags: dict[str, bool] = {}

    def _key(self, kind: str, directory: str) -> str:
        return hashlib.sha256(f"{kind}\0{directory}".encode("utf-8", "surrogateescape")).hexdigest()

    def _cached(self, kind: str, directory: str) -> tuple[list | None, object]:
        """(the directory's stamp or None, the cached answer for it or None)."""
        stamp = _stamp(directory) if self.store is not None else None
        if not stamp:
            return None, None
        cached = self.store.get("calls", self._key(kind, directory))
        if isinstance(cached, dict) and cached.get("stamp") == stamp:
            return stamp, cached.get("answer")
        return stamp, None

    def _known(self, directory: str) -> None:
        stamp, cached = self._cached("calls", directory)
        if isinstance(cached, list):
            self.callees[directory] = {str(c) for c in cached}
            return
        calls = local_calls(self.load(directory)) if may_call_modules(directory, self.max_bytes, self.reading_roots) \
            else set()
        self.callees[directory] = calls
        if stamp:
            self.store.put("calls", self._key("calls", directory), {"stamp": stamp, "answer": sorted(calls)})

    def calls_of(self, directory: str) -> set[str]:
        directory = os.path.abspath(directory)
        if directory not in self.callees:
            self._known(directory)
        return self.callees[directory]

    def is_root(self, directory: str) -> bool:
        """Asked only of called directories (parsing each directory here, in the parent process,
        just to cache the answer made every cold run parse the whole tree serially)."""
        directory = os.path.abspath(directory)
        if directory not in self.root_flags:
            stamp, cached = self._cached("root", directory)
            if isinstance(cached, bool):
                self.root_flags[directory] = cached
            else:
                self.root_flags[directory] = is_root_module(self.load(directory))
                if stamp:
                    self.store.put("calls", self._key("root", directory),
                                   {"stamp": stamp, "answer": self.root_flags[directory]})
        return self.root_flags[directory]

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
        return [d for d in directories if os.path.abspath(d) not in called or self.is_root(d)]
