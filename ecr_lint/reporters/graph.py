"""The resource graph as a picture: DOT, Mermaid or JSON, edges labelled with the rules that use them."""

from __future__ import annotations

import fnmatch
import json
import re

from ecr_lint.fingerprint import relative_uri
from ecr_lint.graph import Edge
from ecr_lint.predicates.common import address_type
from ecr_lint.reporters.escape import display
from ecr_lint.sensitive import shown


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
        # Names from the linted tree, made inert (control, bidi and CI-command characters as
        # escapes) as in every other output.
        out.append({"stack": display(relative_uri(stack.root)), "nodes": [display(n) for n in nodes],
                    "edges": [{"from": display(e.source), "to": display(e.target), "attribute": display(e.attribute),
                               "rules": rules_on(e, rules)} for e in edges]})
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


def _stack_model(stacks, external: tuple[str, ...] = ()) -> dict:
    from ecr_lint.predicates.crossstack import _cycles, stack_dependencies

    edges, exports, imports = stack_dependencies(stacks)
    exported = {p.name for p in exports}
    cyclic = {(c[i], c[(i + 1) % len(c)]) for c in _cycles(edges) for i in range(len(c))}
    missing = sorted({(p.stack, shown(p.name)) for p in imports if isinstance(p.name, str) and p.name.startswith("/shared/")
                      and p.name not in exported and not any(fnmatch.fnmatch(p.name, e) for e in external)})
    def name(path: str) -> str:
        return display(relative_uri(path))

    return {
        "stacks": sorted(name(s.root) for s in stacks),
        "edges": [{"from": name(c), "to": name(p), "parameters": sorted({display(shown(n)) for n in names}),
                   "cycle": (c, p) in cyclic}
                  for c, producers in sorted(edges.items()) for p, names in sorted(producers.items())],
        "missing": [{"stack": name(s), "parameter": display(n)} for s, n in missing],
    }


def stacks_to_json(stacks, external: tuple[str, ...] = ()) -> str:
    return json.dumps(_stack_model(stacks, external), indent=2) + "\n"


def stacks_to_mermaid(stacks, external: tuple[str, ...] = ()) -> str:
    model = _stack_model(stacks, external)
    ids = {s: f"s{i}" for i, s in enumerate(model["stacks"])}
    lines = ["flowchart LR"] + [f'  {ids[s]}["{_mermaid_text(s)}"]' for s in model["stacks"]]
    for edge in model["edges"]:
        arrow = "==>" if edge["cycle"] else "-->"
        lines.append(f'  {ids[edge["from"]]} {arrow}|"{_mermaid_text(", ".join(edge["parameters"]))}"| {ids[edge["to"]]}')
    for i, item in enumerate(model["missing"]):
        lines.append(f'  m{i}(["missing producer: {_mermaid_text(item["parameter"])}"])')
        lines.append(f'  {ids[item["stack"]]} -.-> m{i}')
    return "\n".join(lines) + "\n"


def stacks_to_dot(stacks, external: tuple[str, ...] = ()) -> str:
    model = _stack_model(stacks, external)
    lines = ["digraph ecr_lint_stacks {", "  rankdir=LR;", "  node [shape=folder];"]
    lines += [f"  {json.dumps(s)};" for s in model["stacks"]]
    for edge in model["edges"]:
        color = ', color="red"' if edge["cycle"] else ""
        lines.append(f"  {json.dumps(edge['from'])} -> {json.dumps(edge['to'])} "
                     f"[label={json.dumps(', '.join(edge['parameters']))}{color}];")
    for item in model["missing"]:
        node = json.dumps("missing: " + item["parameter"])
        lines.append(f"  {node} [shape=box, style=dashed];")
        lines.append(f"  {json.dumps(item['stack'])} -> {node} [style=dashed];")
    lines.append("}")
    return "\n".join(lines) + "\n"
