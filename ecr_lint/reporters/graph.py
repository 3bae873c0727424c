"""The resource graph as a picture: DOT, Mermaid or JSON, edges labelled with the rules that use them."""

from __future__ import annotations

import fnmatch
import json
import re

from ecr_lint.fingerprint import relative_uri
from ecr_lint.graph import Edge
from ecr_lint.predicates.common import address_type


def _type_key(address: str) -> str:
    mode, type_ = address_type(address)
    return f"data.{type_}" if mode == "data" else type_


def rules_on(edge: Edge, rules) -> list[str]:
    """The rules whose `looks_along` matches this edge."""
    found = []
    for rule in rules:
        for along in rule.looks_along:
            attribute = along.get("attribute")
            if fnmatch.fnmatch(_type_key(edge.source), along["from"]) and fnmatch.fnmatch(_type_key(edge.target), along["to"]) \
                    and (attribute is None or edge.attribute == attribute or edge.attribute.startswith(attribute + ".")):
                found.append(rule.id)
                break
    return found


def _model(stacks, rules) -> list[dict]:
    out = []
    for stack in stacks:
        nodes = sorted(r.address for r in stack.resources)
        edges = [e for e in stack.graph.resource_edges() if e.source in nodes and e.target in nodes]
        out.append({"stack": relative_uri(stack.root), "nodes": nodes,
                    "edges": [{"from": e.source, "to": e.target, "attribute": e.attribute, "rules": rules_on(e, rules)}
                              for e in edges]})
    return out


def to_json(stacks, rules) -> str:
    return json.dumps({"stacks": _model(stacks, rules)}, indent=2) + "\n"


def _label(edge: dict) -> str:
    return edge["attribute"] + (f" [{', '.join(edge['rules'])}]" if edge["rules"] else "")


def to_dot(stacks, rules) -> str:
    lines = ["digraph ecr_lint {", "  rankdir=LR;", '  node [shape=box, fontname="Helvetica"];']
    for i, stack in enumerate(_model(stacks, rules)):
        lines.append(f"  subgraph cluster_{i} {{")
        lines.append(f"    label={json.dumps(stack['stack'])};")
        for node in stack["nodes"]:
            style = ', style="rounded,dashed"' if node.split(".")[0] == "data" or ".data." in node else ""
            lines.append(f"    {json.dumps(f'{i}:{node}')} [label={json.dumps(node)}{style}];")
        for edge in stack["edges"]:
            lines.append(f"    {json.dumps(f'{i}:' + edge['from'])} -> {json.dumps(f'{i}:' + edge['to'])} "
                         f"[label={json.dumps(_label(edge))}];")
        lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _mermaid_text(text: str) -> str:
    return re.sub(r'["]', "'", text)


def to_mermaid(stacks, rules) -> str:
    lines = ["flowchart LR"]
    ids: dict[str, str] = {}
    for i, stack in enumerate(_model(stacks, rules)):
        if len(stacks) > 1:
            lines.append(f'  subgraph s{i}["{_mermaid_text(stack["stack"])}"]')
        for node in stack["nodes"]:
            ids[f"{i}:{node}"] = f"n{len(ids)}"
            shape = ("[(", ")]") if node.startswith("data.") or ".data." in node else ("[", "]")
            lines.append(f'  {ids[f"{i}:{node}"]}{shape[0]}"{_mermaid_text(node)}"{shape[1]}')
        for edge in stack["edges"]:
            lines.append(f'  {ids[f"{i}:" + edge["from"]]} -->|"{_mermaid_text(_label(edge))}"| {ids[f"{i}:" + edge["to"]]}')
        if len(stacks) > 1:
            lines.append("  end")
    return "\n".join(lines) + "\n"
