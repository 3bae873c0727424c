"""A loaded stack: what both loaders (HCL and plan JSON) produce for the rules."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from importlib import resources as _resources
from typing import Any

from ecr_lint.graph import ResourceGraph
from ecr_lint.model import InputError, Resource


@dataclass(frozen=True)
class Unresolved:
    """Something the loader could not see into (a remote module, an unknown for_each)."""

    address: str
    reason: str
    file: str
    line: int


@dataclass
class Stack:
    root: str
    resources: list[Resource]
    graph: ResourceGraph
    errors: list[InputError] = field(default_factory=list)
    unresolved: list[Unresolved] = field(default_factory=list)
    variables: dict[str, Any] = field(default_factory=dict)
    source: str = "hcl"   # "hcl" or "plan"
    module_variables: dict[str, dict[str, Any]] = field(default_factory=dict)  # module prefix -> var values
    module_values: dict[str, Any] = field(default_factory=dict)  # root locals and outputs, by address
    module_calls: list[tuple[str, int, int, str]] = field(default_factory=list)  # (file, line, end, module address)
    annotations: list = field(default_factory=list)   # suppression comments of every file read (loaders.annotations)
    workspace: str = "default"                        # the Terraform workspace it was evaluated for
    # Where the workspace came from: "--workspace", ".terraform/environment", "TF_WORKSPACE"; "default"
    # when none was given (Terraform's default, assumed: predicates/environment.py says so); "" for a plan.
    workspace_from: str = ""
    sensitive: bool = False  # some value is marked sensitive (ecr_lint/sensitive.py): masking has work to do
    tracer: Any = None       # HCL: where a judged value comes from (loaders/origins.Tracer), for findings only
    read: frozenset = frozenset()  # HCL: every file read through the gate (absolute paths)
    _by_type: dict[str, list[Resource]] = field(default_factory=dict, init=False, repr=False)
    _indexed: int = field(default=-1, init=False, repr=False)

    def of_type(self, *types: str) -> list[Resource]:
        """Resources of these types (indexed: predicates ask this for every resource)."""
        if self._indexed != len(self.resources):
            self._by_type = {}
            for res in self.resources:
                self._by_type.setdefault(res.type, []).append(res)
            self._indexed = len(self.resources)
        if len(types) == 1:
            return self._by_type.get(types[0], [])
        return [r for r in self.resources if r.type in types]


@functools.lru_cache(maxsize=1)
def taggable_types() -> frozenset[str]:
    """AWS resource types that take `tags`, from the provider's own schema (see scripts/)."""
    text = _resources.files("ecr_lint.data").joinpath("taggable_types.json").read_text()
    return frozenset(json.loads(text)["resource_types"])
