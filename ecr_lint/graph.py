"""The resource graph: addresses as nodes, references (with attribute paths) as edges.

The verbs rules use (references, referrers, resource lookup) run on plain dictionaries:
importing networkx costs ~130 ms, more than linting a whole stack. The networkx graph is
built on demand, for its algorithms (cycles) and for export.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Iterator

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
    """A few verbs over the graph; rules use these, never networkx itself."""

    def __init__(self) -> None:
        self._nodes: dict[str, dict[str, Any]] = {}
        self._out: dict[str, dict[tuple[str, str, str], Edge]] = {}
        self._in: dict[str, dict[tuple[str, str, str], Edge]] = {}

    # building
    def add_node(self, address: str, kind: str, **data: Any) -> None:
        node = self._nodes.setdefault(address, {})
        node.update(kind=kind, **data)

    def add_edge(self, source: str, target: str, attribute: str, path: str) -> None:
        for address in (source, target):
            if address not in self._nodes:
                self._nodes[address] = {"kind": _kind_of(address)}
        edge = Edge(source, target, attribute, path)
        key = (target, attribute, path)  # the same reference twice is one edge
        self._out.setdefault(source, {})[key] = edge
        self._in.setdefault(target, {})[(source, attribute, path)] = edge

    # questions
    def __contains__(self, address: str) -> bool:
        return address in self._nodes

    def kind(self, address: str) -> str:
        return self._nodes.get(address, {}).get("kind", "")

    def resource(self, address: str) -> Resource | None:
        return self._nodes.get(address, {}).get("resource")

    def resources(self, type_: str | None = None) -> Iterator[Resource]:
        for data in self._nodes.values():
            res = data.get("resource")
            if res is not None and (type_ is None or res.type == type_):
                yield res

    def references(self, address: str) -> list[Edge]:
        """What `address` refers to, directly."""
        return list(self._out.get(address, {}).values())

    def referrers(self, address: str, type_: str | None = None) -> list[Edge]:
        """Who refers to `address`, directly or through variables, locals, outputs and module calls."""
        out: list[Edge] = []
        seen = {address}
        frontier = [address]
        while frontier:
            node = frontier.pop()
            for edge in self._in.get(node, {}).values():
                source = edge.source
                if source in seen:
                    continue
                seen.add(source)
                if self.kind(source) in PASS_THROUGH:
                    frontier.append(source)
                    continue
                res = self.resource(source)
                if type_ is None or (res is not None and res.type == type_):
                    out.append(Edge(source, address, edge.attribute, edge.path))
        return sorted(out, key=lambda e: (e.source, e.attribute))

    def resource_edges(self) -> list[Edge]:
        """Edges between resources and data sources, through variables, locals and module outputs."""
        out: set[Edge] = set()
        for source, data in self._nodes.items():
            if data.get("resource") is None:
                continue
            for first in self._out.get(source, {}).values():
                targets = [(first.target, first.path)]
                seen = {source}
                while targets:
                    node, path = targets.pop()
                    if node in seen:
                        continue
                    seen.add(node)
                    if self.resource(node) is not None:
                        out.add(Edge(source, node, first.attribute, path))
                    elif self.kind(node) in PASS_THROUGH:
                        targets.extend((e.target, e.path) for e in self._out.get(node, {}).values())
        return sorted(out, key=lambda e: (e.source, e.target, e.attribute))

    def to_networkx(self):
        """The same graph as a networkx MultiDiGraph (imported here, off the hot path)."""
        import networkx as nx

        graph = nx.MultiDiGraph()
        for address, data in self._nodes.items():
            graph.add_node(address, **data)
        for edges in self._out.values():
            for edge in edges.values():
                graph.add_edge(edge.source, edge.target, key=(edge.attribute, edge.path),
                               attribute=edge.attribute, path=edge.path)
        return graph

    def cycles(self) -> list[list[str]]:
        import networkx as nx

        return sorted(sorted(c) for c in nx.simple_cycles(nx.DiGraph(self.to_networkx())))

    def nodes(self) -> list[tuple[str, str]]:
        return sorted((n, d.get("kind", "")) for n, d in self._nodes.items())

    def edges(self) -> list[Edge]:
        return sorted((e for edges in self._out.values() for e in edges.values()),
                      key=lambda e: (e.source, e.target, e.attribute))

    def to_json(self) -> str:
        return json.dumps({
            "nodes": [{"address": n, "kind": k} for n, k in self.nodes()],
            "edges": [e.__dict__ for e in self.edges()],
        }, indent=2)


def _kind_of(address: str) -> str:
    parts = address.split(".")
    while len(parts) > 2 and parts[0] == "module":  # module.a.var.x -> var
        parts = parts[2:]
    head = parts[0]
    if head in ("var", "local", "output", "data", "provider", "module", "terraform"):
        return head
    return "resource"
