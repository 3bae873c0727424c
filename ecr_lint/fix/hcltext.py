"""HCL text for edits: where an origin's expression is (python-hcl2's Lark tree keeps positions),
values written as HCL writes them, and `=` alignment as `terraform fmt` does it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from lark import Token, Tree

from ecr_lint.hcl.syntax import HclSyntaxError, _unescape
from ecr_lint.reporters.escape import _UNSAFE  # what no output may carry: written as an escape


@dataclass(frozen=True)
class Edit:
    """Replace text[start:end] of a file with `text` (offsets into the decoded text)."""

    file: str
    start: int
    end: int
    text: str


def parse(text: str) -> Tree:
    """The file's body as a Lark tree with positions (raises HclSyntaxError)."""
    from lark.exceptions import LarkError

    from ecr_lint.hcl.grammar import parser

    try:
        return parser().parse(text + "\n").children[0]
    except (LarkError, RecursionError) as exc:
        raise HclSyntaxError(f"cannot parse: {type(exc).__name__}") from None


def trees(node: Tree) -> list[Tree]:
    """Child trees, without newlines and comments."""
    return [c for c in node.children if isinstance(c, Tree) and c.data != "new_line_or_comment"]


def span(node: Any) -> tuple[int, int]:
    if isinstance(node, Token):
        return node.start_pos, node.end_pos
    return node.meta.start_pos, node.meta.end_pos


def line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _name(node: Tree) -> str:
    """An identifier's or a plain string's text (a block label, an object key)."""
    tokens = [t for t in node.scan_values(lambda v: isinstance(v, Token))]
    if node.data in ("identifier", "keyword") or (node.data == "expr_term" and trees(node)
                                     and trees(node)[0].data in ("identifier", "keyword")):
        return str(tokens[0])
    parts = [str(t) for t in tokens if t.type == "STRING_CHARS"]
    return _unescape("".join(parts))


def block_words(block: Tree) -> tuple[str, ...]:
    kids = trees(block)
    return tuple(_name(k) for k in kids[:-1])


def body_of(block: Tree) -> Tree:
    return trees(block)[-1]


def attributes(body: Tree) -> dict[str, Tree]:
    return {_name(trees(a)[0]): a for a in trees(body) if a.data == "attribute"}


def blocks(body: Tree, kind: str | None = None) -> list[Tree]:
    return [b for b in trees(body) if b.data == "block" and (kind is None or block_words(b)[0] == kind)]


def find_block(body: Tree, words: tuple, first: Any = None) -> Tree | None:
    """The block with these words (type and labels); () is the file itself (a tfvars file). For
    `locals`, the one that holds `first`."""
    if not words:
        return None
    found = [b for b in blocks(body) if block_words(b) == tuple(words)
             and (words != ("locals",) or first in attributes(body_of(b)))]
    return found[0] if len(found) == 1 else None  # two alike (providers with aliases): which one is unclear


def find_body(file_body: Tree, words: tuple, path: tuple) -> tuple[Tree | None, str]:
    """(the body holding the last name of `path`, that name): nested blocks first, an int after a
    name picking one of several blocks of that type."""
    if words:
        block = find_block(file_body, words, path[0] if path else None)
        if block is None:
            return None, ""
        body = body_of(block)
    else:
        body = file_body
    names = list(path)
    while len(names) > 1:
        name = names.pop(0)
        index = names.pop(0) if names and isinstance(names[0], int) else 0
        found = blocks(body, name)
        if len(found) <= index or not names:
            return None, ""
        body = body_of(found[index])
    return body, names[0] if names else ""


def expression(attribute: Tree) -> Tree:
    return trees(attribute)[-1]


def unwrap(node: Tree) -> Tree:
    """The expression inside `expr_term` wrappers and parentheses."""
    while node.data in ("expr_term", "expression") and len(trees(node)) == 1 \
            and trees(node)[0].data not in ("identifier", "keyword"):
        node = trees(node)[0]
    return node


def step(node: Tree, how: tuple) -> Tree | None:
    """One step into an expression: ("then",), ("else",), ("key", k), ("item", i), ("arg", i)."""
    node = unwrap(node)
    kind = how[0]
    if kind in ("then", "else") and node.data == "conditional":
        return trees(node)[1 if kind == "then" else 2]
    if kind == "key" and node.data == "object":
        found = None
        for elem in trees(node):
            key_tree, value = trees(elem)[0], trees(elem)[-1]
            if _name(unwrap(trees(key_tree)[0]) if trees(key_tree) else key_tree) == how[1]:
                found = value
        return found
    if kind == "item" and node.data == "tuple":
        items = trees(node)
        return items[how[1]] if how[1] < len(items) else None
    if kind == "arg" and node.data == "function_call":
        args = next((t for t in trees(node) if t.data == "arguments"), None)
        items = trees(args) if args is not None else []
        return items[how[1]] if how[1] < len(items) else None
    return None


def walk(node: Tree, steps: tuple) -> Tree | None:
    for how in steps:
        node = step(node, how)
        if node is None:
            return None
    return node


def literal(node: Tree) -> Any:
    """The value of a literal expression: str, int, float, bool, None; `...` (Ellipsis) if it is not one."""
    node = unwrap(node)
    if node.data == "string":
        parts = [p for p in trees(node) if p.data == "string_part"]
        if any(not isinstance(p.children[0], Token) or p.children[0].type != "STRING_CHARS" for p in parts):
            return ...
        return _unescape("".join(str(p.children[0]) for p in parts))
    if node.data == "literal_value":
        return {"true": True, "false": False, "null": None}[str(node.children[0])]
    if node.data in ("int_lit", "float_lit"):
        return float(str(node.children[0])) if node.data == "float_lit" else int(str(node.children[0]))
    return ...


def hcl(value: Any) -> str:
    """A value as HCL source: strings quoted and escaped (`${` and `%{` too: never a template)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        out = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r") \
            .replace("\t", "\\t").replace("${", "$${").replace("%{", "%%{")
        # Controls, invisible and bidi marks, line separators: \uNNNN; `##[`: `#\u0023[` (the same
        # string to Terraform, inert in a diff or a CI log).
        return f'"{_UNSAFE.sub(_unicode_escape, out)}"'
    raise ValueError(f"cannot write {type(value).__name__} as HCL")


def _unicode_escape(match: re.Match) -> str:
    text = match.group()
    return "#\\u0023" if text == "##" else "".join(f"\\u{ord(c):04x}" for c in text)


def key(name: str) -> str:
    """An object key as HCL writes it: bare when it is an identifier."""
    return name if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", name) else hcl(name)


# --- layout -------------------------------------------------------------------------------------

def indent_at(text: str, offset: int) -> str:
    start = text.rfind("\n", 0, offset) + 1
    line = text[start:]
    return line[:len(line) - len(line.lstrip(" \t"))]


def line_start(text: str, offset: int) -> int:
    return text.rfind("\n", 0, offset) + 1


_ATTRIBUTE = re.compile(r'^([ \t]*)("(?:[^"\\]|\\.)*"|[A-Za-z_][\w-]*)[ \t]*=(?![=>])[ \t]*(.*?)[ \t]*$')


def _value_and_comment(rest: str) -> tuple[str, str] | None:
    """A one-line value and its trailing comment; None when the value goes on (an open bracket,
    a heredoc) or the line is not simple."""
    depth, i, quote = 0, 0, False
    while i < len(rest):
        ch = rest[i]
        if quote:
            if ch == "\\":
                i += 2
                continue
            if ch == '"':
                quote = False
        elif ch == '"':
            quote = True
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif depth == 0 and (ch == "#" or rest.startswith("//", i) or rest.startswith("/*", i)):
            return rest[:i].rstrip(), rest[i:]
        elif rest.startswith("<<", i):
            return None
        i += 1
    if depth != 0 or quote:
        return None
    return rest.rstrip(), ""


def _cells(line: str) -> tuple[str, str, str, str] | None:
    match = _ATTRIBUTE.match(line)
    if not match:
        return None
    parts = _value_and_comment(match.group(3))
    if parts is None or not parts[0]:
        return None
    return match.group(1), match.group(2), parts[0], parts[1]


def align(text: str, touched: set[int]) -> str:
    """Realign, as terraform fmt does, the runs of one-line attributes (same indentation, nothing
    between them) that hold a touched line (1-based): `=` in one column, and the trailing comments
    of consecutive commented lines in one column. Other lines are left as they are."""
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = text.split(newline)
    cells = {}
    done: set[int] = set()
    for number in sorted(touched):
        i = number - 1
        if i in done or not 0 <= i < len(lines):
            continue
        cell = cells.setdefault(i, _cells(lines[i]))
        if cell is None:
            continue
        first = last = i
        while first > 0 and (cells.setdefault(first - 1, _cells(lines[first - 1])) or ("\0",))[0] == cell[0]:
            first -= 1
        while last + 1 < len(lines) and (cells.setdefault(last + 1, _cells(lines[last + 1])) or ("\0",))[0] == cell[0]:
            last += 1
        run = range(first, last + 1)
        done.update(run)
        width = max(len(cells[j][1]) for j in run)
        heads = {j: f"{cells[j][0]}{cells[j][1].ljust(width)} = {cells[j][2]}" for j in run}
        j = first
        while j <= last:  # comment columns: per run of consecutive commented lines
            if not cells[j][3]:
                lines[j] = heads[j]
                j += 1
                continue
            k = j
            while k + 1 <= last and cells[k + 1][3]:
                k += 1
            column = max(len(heads[m]) for m in range(j, k + 1))
            for m in range(j, k + 1):
                lines[m] = f"{heads[m].ljust(column)} {cells[m][3]}"
            j = k + 1
    return newline.join(lines)


def apply(text: str, edits: list[Edit]) -> tuple[str, set[int]]:
    """The text with the edits (which must not overlap) applied, and the lines they touched."""
    out, touched = text, set()
    for edit in sorted(edits, key=lambda e: (e.start, e.end), reverse=True):
        out = out[:edit.start] + edit.text + out[edit.end:]
    # the touched lines, in the new text: walk the edits in order, shifting offsets
    shift = 0
    for edit in sorted(edits, key=lambda e: (e.start, e.end)):
        start = edit.start + shift
        first = line_of(out, start)
        touched.update(range(first, first + edit.text.count("\n") + 1))
        shift += len(edit.text) - (edit.end - edit.start)
    return out, touched
