"""Modules that `terraform init` installed: `.terraform/modules/modules.json` says where each
call's source is on disk. ecr-lint never downloads anything; it reads what init wrote, and
checks that it still matches the configuration (same source, a version the constraint allows).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from typing import Callable

MANIFEST = os.path.join("modules", "modules.json")
MAX_MANIFEST_BYTES = 16 * 1024 * 1024
REGISTRY = "registry.terraform.io/"
INIT = "run `terraform init` in the stack (ecr-lint never downloads modules), or lint the plan JSON"


@dataclass(frozen=True)
class Resolved:
    directory: str | None   # where the call's source is installed, or None
    reason: str = ""        # why not, with the remedy


def data_dir(stack_dir: str) -> str:
    """Terraform's data directory for a stack: TF_DATA_DIR (relative to the stack), else .terraform."""
    return os.path.join(stack_dir, os.environ.get("TF_DATA_DIR") or ".terraform")


class Manifest:
    """One stack's modules.json, read once, through `read(path, limit) -> bytes` (the stack's
    reading gate, which records it for the result cache, whether it is there or not)."""

    def __init__(self, stack_dir: str, read: Callable[[str, int], bytes]):
        self.stack_dir = os.path.abspath(stack_dir)
        self.path = os.path.join(data_dir(self.stack_dir), MANIFEST)
        self.entries: dict[str, dict] = {}
        self.problem: str | None = None
        self.present = True
        try:
            raw = read(self.path, MAX_MANIFEST_BYTES)
        except FileNotFoundError:
            self.present = False
            return
        except (OSError, ValueError) as exc:  # refused by the gate (outside the tree, a device...), unreadable
            self.problem = f"{os.path.relpath(self.path, self.stack_dir)} cannot be read ({exc}): {INIT}"
            return
        self._read(raw)

    def _read(self, raw: bytes) -> None:
        try:
            data = json.loads(raw.decode("utf-8"))
            modules = data.get("Modules") if isinstance(data, dict) else None
            if not isinstance(modules, list):
                raise ValueError('no "Modules" list')
            for entry in modules:
                if isinstance(entry, dict) and isinstance(entry.get("Key"), str) and isinstance(entry.get("Dir"), str):
                    self.entries[entry["Key"]] = entry
        except (OSError, ValueError, UnicodeDecodeError, RecursionError) as exc:
            self.problem = f"{os.path.relpath(self.path, self.stack_dir)} cannot be read ({exc}): {INIT}"

    def resolve(self, key: str, source: str, version: str | None) -> Resolved:
        """Where the call `key` (module names joined by dots, e.g. "outer.inner") is installed."""
        if not self.present:
            return Resolved(None, f"source {source!r} is not installed (no {os.path.relpath(self.path, self.stack_dir)}): "
                                  f"its resources are not checked; {INIT}")
        if self.problem:
            return Resolved(None, self.problem)
        entry = self.entries.get(key)
        if entry is None:
            return Resolved(None, f"source {source!r} is not in {os.path.relpath(self.path, self.stack_dir)} (added "
                                  f"since the last init?): {INIT}")
        installed = str(entry.get("Source", ""))
        if _normal_source(installed) != _normal_source(source):
            return Resolved(None, f"installed from {installed!r}, but the configuration now says {source!r}: the "
                                  f"installed copy is stale; {INIT}")
        if version:
            have = entry.get("Version")
            if not isinstance(have, str) or not version_allows(version, have):
                return Resolved(None, f"installed version {have!r} does not satisfy version = {version!r}: the "
                                      f"installed copy is stale; {INIT}")
        directory = os.path.normpath(os.path.join(self.stack_dir, entry["Dir"]))
        if not os.path.isdir(directory):
            return Resolved(None, f"{entry['Dir']} (where init installed it) is missing: {INIT}")
        return Resolved(directory)


def _normal_source(source: str) -> str:
    """Registry addresses as init records them (registry.terraform.io/ns/name/provider)."""
    source = source.strip()
    base, _, sub = source.partition("//") if "::" not in source and "://" not in source else (source, "", "")
    if re.fullmatch(r"[A-Za-z0-9_-]+/[A-Za-z0-9_-]+/[A-Za-z0-9_-]+", base):
        base = REGISTRY + base
    return base + (f"//{sub}" if sub else "")


# --- version constraints (Terraform's syntax: "~> 2.0, != 2.1.0") -----------------------------------

def _parts(version: str) -> tuple[tuple[int, ...], str] | None:
    match = re.fullmatch(r"v?(\d+(?:\.\d+)*)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?", version.strip())
    if not match:
        return None
    return tuple(int(p) for p in match.group(1).split(".")), match.group(2) or ""


def _compare(a: tuple[tuple[int, ...], str], b: tuple[tuple[int, ...], str]) -> int:
    width = max(len(a[0]), len(b[0]))
    left, right = a[0] + (0,) * (width - len(a[0])), b[0] + (0,) * (width - len(b[0]))
    if left != right:
        return -1 if left < right else 1
    if a[1] == b[1]:
        return 0
    if not a[1]:
        return 1   # a release sorts after its pre-releases
    if not b[1]:
        return -1
    return -1 if a[1] < b[1] else 1


def version_allows(constraint: str, version: str) -> bool:
    """Whether `version` satisfies every comma-separated clause of `constraint`. A clause ecr-lint
    cannot read allows nothing (the installed copy is then reported stale, never assumed right)."""
    have = _parts(version)
    if have is None:
        return False
    for clause in constraint.split(","):
        match = re.fullmatch(r"\s*(=|!=|>=|<=|>|<|~>)?\s*(\S+)\s*", clause)
        want = _parts(match.group(2)) if match else None
        if want is None:
            return False
        op = match.group(1) or "="
        order = _compare(have, want)
        if op == "~>":
            upper = list(want[0][:-1]) if len(want[0]) > 1 else list(want[0])
            upper[-1] += 1
            if order < 0 or _compare(have, (tuple(upper), "")) >= 0 or (have[1] and not want[1]):
                return False
        elif not {"=": order == 0, "!=": order != 0, ">": order > 0, ">=": order >= 0,
                  "<": order < 0, "<=": order <= 0}[op]:
            return False
        elif have[1] and op != "=" and not want[1]:
            return False  # a pre-release only where the constraint names one exactly
    return True
