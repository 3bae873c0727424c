"""The resource graph: addresses as nodes, references (with attribute paths) as edges."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Iterator

import networkx as nx

from ecr_lint.model import Resource

# Nodes a reference passes through without being the thing it is about.
PASS_THROUGH = {"var", "local", "output", "module"}


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    attribute: str   # where in the source the reference is (e.g. encryption_configuration.kms_key)
    path: str        # what of the target it reads (e.g. value, arn)


class ResourceGraph:
    """A few verbs over networkx; rules use these, never networkx itself."""

    def __init__(self) -> None:
        self._g = nx.MultiDiGraph()

    # building
    def add_node(self, address: str, kind: str, **data: Any) -> None:
        if address in self._g:
            self._g.nodes[address].update(kind=kind, **data)
        else:
            self._g.add_node(address, kind=kind, **data)

    def add_edge(self, source: str, target: str, attribute: str, path: str) -> None:
        if target not in self._g:
            self._g.add_node(target, kind=_kind_of(target))
        if source not in self._g:
            self._g.add_node(source, kind=_kind_of(source))
        # keyed by attribute and path, so the same reference twice is one edge
        self._g.add_edge(source, target, key=(attribute, path), attribute=attribute, path=path)

    # questions
    def __contains__(self, address: str) -> bool:
        return address in self._g

    def kind(self, address: str) -> str:
        return self._g.nodes[address].get("kind", "") if address in self._g else ""

    def resource(self, address: str) -> Resource | None:
        return self._g.nodes[address].get("resource") if address in self._g else None

    def resources(self, type_: str | None = None) -> Iterator[Resource]:
        for _, data in self._g.nodes(data=True):
            res = data.get("resource")
            if res is not None and (type_ is None or res.type == type_):
                yield res

    def references(self, address: str) -> list[Edge]:
        """What `address` refers to, directly."""
        if address not in self._g:
            return []
        return [Edge(s, t, d["attribute"], d["path"]) for s, t, d in self._g.out_edges(address, data=True)]

    def referrers(self, address: str, type_: str | None = None) -> list[Edge]:
        """Who refers to `address`, directly or through variables, locals, outputs and module calls."""
        out: list[Edge] = []
        seen = {address}
        frontier = [address]
        while frontier:
            node = frontier.pop()
            for s, t, d in self._g.in_edges(node, data=True):
                if s in seen:
                    continue
                seen.add(s)
                if self.kind(s) in PASS_THROUGH:
                    frontier.append(s)
                    continue
                res = self.resource(s)
                if type_ is None or (res is not None and res.type == type_):
                    out.append(Edge(s, address, d["attribute"], d["path"]))
        return sorted(out, key=lambda e: (e.source, e.attribute))

    def resource_edges(self) -> list[Edge]:
        """Edges between resources and data sources, through variables, locals and module outputs."""
        out: set[Edge] = set()
        for source, data in self._g.nodes(data=True):
            if data.get("resource") is None:
                continue
            for _, first, edge in self._g.out_edges(source, data=True):
                targets = [(first, edge["path"])]
                seen = {source}
                while targets:
                    node, path = targets.pop()
                    if node in seen:
                        continue
                    seen.add(node)
                    if self.resource(node) is not None:
                        out.add(Edge(source, node, edge["attribute"], path))
                    elif self.kind(node) in PASS_THROUGH:
                        targets.extend((t, d["path"]) for _, t, d in self._g.out_edges(node, data=True))
        return sorted(out, key=lambda e: (e.source, e.target, e.attribute))

    def cycles(self) -> list[list[str]]:
        simple = nx.DiGraph(self._g)
        return [sorted(c) for c in nx.simple_cycles(simple)]

    def nodes(self) -> list[tuple[str, str]]:
        return sorted((n, d.get("kind", "")) for n, d in self._g.nodes(data=True))

    def edges(self) -> list[Edge]:
        return sorted((Edge(s, t, d["attribute"], d["path"]) for s, t, d in self._g.edges(data=True)),
                      key=lambda e: (e.source, e.target, e.attribute))

    # pictures
    def to_json(self) -> str:
        return json.dumps({
            "nodes": [{"address": n, "kind": k} for n, k in self.nodes()],
            "edges": [e.__dict__ for e in self.edges()],
        }, indent=2)


def _kind_of(address: str) -> str:
    last = address.split(".")
    # strip module prefixes: module.a.var.x -> var
    while len(last) > 2 and last[0] == "module":
        last = last[2:]
    head = last[0]
    if head in ("var", "local", "output", "data", "provider"):
        return head
    if head == "module":
        return "module"
    return "resource"
