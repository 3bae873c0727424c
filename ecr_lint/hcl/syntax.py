"""HCL text -> a small expression AST (python-hcl2's Lark grammar does the parsing).

python-hcl2's dict output renders expressions back to strings; an evaluator needs their
structure, so we take its raw Lark tree (which has line numbers) and convert it here.
The AST is made of plain tuples-like dataclasses, cheap to build and to pickle.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

MAX_DEPTH = 200


class HclSyntaxError(Exception):
    def __init__(self, message: str, line: int = 0):
        super().__init__(message)
        self.message = message
        self.line = line


# --- AST -------------------------------------------------------------------------


class Node:
    __slots__ = ()


@dataclass(frozen=True, slots=True)
class Lit(Node):
    value: Any


@dataclass(frozen=True, slots=True)
class Template(Node):
    parts: tuple  # of str | Node | TIf | TFor


@dataclass(frozen=True, slots=True)
class TIf(Node):
    cond: Node
    then: tuple
    other: tuple


@dataclass(frozen=True, slots=True)
class TFor(Node):
    key: str | None
    value: str
    coll: Node
    body: tuple


@dataclass(frozen=True, slots=True)
class Name(Node):
    name: str


@dataclass(frozen=True, slots=True)
class GetAttr(Node):
    obj: Node
    name: str


@dataclass(frozen=True, slots=True)
class Index(Node):
    obj: Node
    key: Node


@dataclass(frozen=True, slots=True)
class Splat(Node):
    obj: Node
    ops: tuple  # of ("attr", name) | ("index", Node)


@dataclass(frozen=True, slots=True)
class Call(Node):
    name: str
    args: tuple
    expand: bool


@dataclass(frozen=True, slots=True)
class TupleExpr(Node):
    items: tuple
    lines: tuple = field(default=(), compare=False)  # each item's first line (for origins), when known


@dataclass(frozen=True, slots=True)
class ObjectExpr(Node):
    items: tuple  # of (key Node, value Node)
    lines: tuple = field(default=(), compare=False)  # each item's first line (for origins), when known


@dataclass(frozen=True, slots=True)
class Cond(Node):
    cond: Node
    then: Node
    other: Node


@dataclass(frozen=True, slots=True)
class BinOp(Node):
    op: str
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class UnOp(Node):
    op: str
    operand: Node


@dataclass(frozen=True, slots=True)
class ForExpr(Node):
    key_var: str | None
    value_var: str
    coll: Node
    key: Node | None   # None for a tuple for-expression
    value: Node
    cond: Node | None
    group: bool


@dataclass(frozen=True, slots=True)
class Attribute:
    name: str
    expr: Node
    line: int
    # Where it was written when that is not its declaration's file: set on the parts an override
    # file merged in (loaders/override.py), so that a finding points at the override. "" = the
    # declaration's own file (the parser never sets it).
    file: str = ""


@dataclass(frozen=True, slots=True)
class Block:
    type: str
    labels: tuple[str, ...]
    body: "Body"
    line: int
    end_line: int
    file: str = ""   # as Attribute.file


@dataclass(frozen=True, slots=True)
class Body:
    attributes: dict  # name -> Attribute (a repeated name keeps the last, see duplicates)
    blocks: tuple     # of Block
    duplicates: tuple = ()  # (name, line) of attributes defined twice
    # (first line, last line, text) of every comment the lexer saw, in file order. The text is
    # kept only where it may be an annotation (a suppression), else "": the lines alone tell
    # which lines hold nothing but comments. Text in strings and heredocs is never here.
    comments: tuple = ()


# --- parsing ---------------------------------------------------------------------


def parse_hcl(text: str) -> Body:
    """Parse a whole .tf file (python-hcl2's grammar, converted by lark_tree.py)."""
    # Imported here: loading the grammar is the costly part of start-up, and a run whose files
    # are all in the parse cache never needs it.
    from ecr_lint.hcl import lark_tree

    return lark_tree.parse(text)


def parse_expression(text: str) -> Node:
    """Parse one expression (used for template interpolations and .tf.json strings)."""
    body = parse_hcl(f"__expr__ = {text}\n")
    if set(body.attributes) != {"__expr__"} or body.blocks:
        raise HclSyntaxError(f"not a single expression: {text[:60]!r}")
    return body.attributes["__expr__"].expr


_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}


def _unescape(text: str) -> str:
    if "\\" not in text:
        return text
    out = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
                i += 2
                continue
            if nxt in "uU":
                width = 4 if nxt == "u" else 8
                digits = text[i + 2:i + 2 + width]
                if len(digits) == width and all(c in "0123456789abcdefABCDEF" for c in digits):
                    code = int(digits, 16)
                    if code <= 0x10FFFF and not 0xD800 <= code < 0xE000:
                        out.append(chr(code))
                        i += 2 + width
                        continue
        out.append(ch)
        i += 1
    return "".join(out)


def nfc(text: str) -> str:
    """Terraform's strings are in Unicode normal form C ("e\u0301" is "\u00e9": one character)."""
    if text.isascii() or unicodedata.is_normalized("NFC", text):
        return text
    return unicodedata.normalize("NFC", text)


def _assemble(flat: list, line: int) -> Node:
    """Nest flat template parts (strings, nodes, directive markers) into a Template."""
    stack: list[tuple[tuple, list]] = [(("root",), [])]
    for item in flat:
        if isinstance(item, tuple):
            kind = item[0]
            if kind in ("if", "for"):
                stack.append((item, []))
            elif kind == "else":
                if stack[-1][0][0] != "if":
                    raise HclSyntaxError("%{else} without %{if}", line)
                head, then = stack.pop()
                stack.append((("else", head, then), []))
            elif kind == "endif":
                head, parts = stack.pop()
                if head[0] == "if":
                    node = TIf(head[1], tuple(parts), ())
                elif head[0] == "else":
                    node = TIf(head[1][1], tuple(head[2]), tuple(parts))
                else:
                    raise HclSyntaxError("%{endif} without %{if}", line)
                stack[-1][1].append(node)
            elif kind == "endfor":
                head, parts = stack.pop()
                if head[0] != "for":
                    raise HclSyntaxError("%{endfor} without %{for}", line)
                stack[-1][1].append(TFor(head[1], head[2], head[3], tuple(parts)))
        else:
            stack[-1][1].append(item)
    if len(stack) != 1:
        raise HclSyntaxError("unclosed template directive", line)
    parts = stack[0][1]
    if not parts:
        return Lit("")
    if all(isinstance(p, str) for p in parts):
        return Lit(nfc("".join(parts)))
    return Template(tuple(parts))


# Strip markers (`%{~ if x ~}`, `${~ x ~}`) in the flat parts: the literal just before (STRIP_BEFORE)
# or just after (STRIP_AFTER) loses its whitespace. A literal is one HCL token: the text between
# two sequences of a quoted string; one line (with its newline) of a heredoc or template file.
STRIP_BEFORE = ("~before",)
STRIP_AFTER = ("~after",)
_GO_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a" \
            "\u2028\u2029\u202f\u205f\u3000"  # Go's unicode.IsSpace (Python's isspace adds \x1c-\x1f)


def _strip(flat: list) -> list:
    """Apply the strip markers of `flat` to the literal tokens next to them."""
    if STRIP_BEFORE not in flat and STRIP_AFTER not in flat:
        return flat
    out: list = []
    strip_next = False
    for item in flat:
        if item is STRIP_BEFORE:
            if out and isinstance(out[-1], str):
                out[-1] = out[-1].rstrip(_GO_SPACE)
        elif item is STRIP_AFTER:
            strip_next = True
        else:
            if strip_next and isinstance(item, str):
                item = item.lstrip(_GO_SPACE)
            strip_next = False
            out.append(item)
    return out


def merged_literals(flat: list) -> list:
    """Consecutive literal pieces of a quoted string as one token (escapes were separate pieces)."""
    out: list = []
    for item in flat:
        if isinstance(item, str) and out and isinstance(out[-1], str):
            out[-1] += item
        else:
            out.append(item)
    return out


def _flush(tokens: list) -> list:
    """A `<<-` heredoc: remove the smallest indentation of its lines, as HCL's
    flushHeredocTemplateParts does (after stripping; a line that starts with a sequence has none;
    a blank line does not count)."""
    least: int | None = None
    adjust: list[int] = []
    newline = True
    for at, token in enumerate(tokens):
        if newline:
            newline = False
            if isinstance(token, str):
                trimmed = token.lstrip(_GO_SPACE)
                if trimmed or not token.endswith("\n"):
                    spaces = len(token) - len(trimmed)
                    adjust.append(at)
                    least = spaces if least is None else min(least, spaces)
            else:
                least = 0
        if isinstance(token, str) and token.endswith("\n"):
            newline = True
    if not least:
        return tokens
    out = list(tokens)
    for at in adjust:
        out[at] = out[at][least:]
    return out


def parse_template(text: str, line: int = 0, flush: bool = False) -> Node:
    """Parse template text that is not inside quotes (heredoc bodies, template files, .tf.json
    strings); `flush` for a `<<-` heredoc."""
    flat: list = []
    literal: list[str] = []
    i = 0
    n = len(text)
    while i < n:
        if text.startswith("$${", i) or text.startswith("%%{", i):
            literal.append(text[i + 1:i + 3])
            i += 3
            continue
        if text.startswith("${", i) or text.startswith("%{", i):
            end = _closing_brace(text, i + 2)
            if end < 0:
                raise HclSyntaxError("unclosed ${ in template", line)
            inner = text[i + 2:end]
            if literal:
                flat.append("".join(literal))
                literal = []
            if inner.startswith("~"):
                flat.append(STRIP_BEFORE)
                inner = inner[1:]
            after = inner.endswith("~")
            if after:
                inner = inner[:-1]
            if text[i] == "$":
                flat.append(parse_expression(inner.strip()))
            else:
                flat.append(_directive_text(inner.strip(), line))
            if after:
                flat.append(STRIP_AFTER)
            i = end + 1
            continue
        literal.append(text[i])
        i += 1
        if text[i - 1] == "\n":  # each line is a token of its own
            flat.append("".join(literal))
            literal = []
    if literal:
        flat.append("".join(literal))
    tokens = _strip(flat)
    return _assemble(_flush(tokens) if flush else tokens, line)


def _closing_brace(text: str, start: int) -> int:
    depth = 0
    i = start
    quote = False
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 2
                continue
            if ch == '"':
                quote = False
        elif ch == '"':
            quote = True
        elif ch == "{":
            depth += 1
        elif ch == "}":
            if depth == 0:
                return i
            depth -= 1
        i += 1
    return -1


def _directive_text(inner: str, line: int) -> tuple:
    if inner in ("else", "endif", "endfor"):
        return (inner,)
    if inner.startswith("if "):
        return ("if", parse_expression(inner[3:]))
    match = re.match(r"for\s+([A-Za-z_][\w-]*)(?:\s*,\s*([A-Za-z_][\w-]*))?\s+in\s+(.*)$", inner, re.S)
    if match:
        first, second, coll = match.groups()
        return ("for", first if second else None, second or first, parse_expression(coll))
    raise HclSyntaxError(f"unknown template directive %{{{inner}}}", line)
