"""HCL text -> a small expression AST (python-hcl2's Lark grammar does the parsing).

python-hcl2's dict output renders expressions back to strings; an evaluator needs their
structure, so we take its raw Lark tree (which has line numbers) and convert it here.
The AST is made of plain tuples-like dataclasses, cheap to build and to pickle.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from lark import Token, Tree
from lark.exceptions import LarkError, UnexpectedInput

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


@dataclass(frozen=True, slots=True)
class ObjectExpr(Node):
    items: tuple  # of (key Node, value Node)


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


@dataclass(frozen=True, slots=True)
class Block:
    type: str
    labels: tuple[str, ...]
    body: "Body"
    line: int
    end_line: int


@dataclass(frozen=True, slots=True)
class Body:
    attributes: dict  # name -> Attribute (a repeated name keeps the last, see duplicates)
    blocks: tuple     # of Block
    duplicates: tuple = ()  # (name, line) of attributes defined twice


# --- parsing ---------------------------------------------------------------------


def parse_hcl(text: str) -> Body:
    """Parse a whole .tf file."""
    import hcl2  # imported here: the grammar load is the costly part of start-up

    try:
        tree = hcl2.parses_to_tree(text)
    except UnexpectedInput as exc:
        raise HclSyntaxError(_describe_parse_error(exc, text), getattr(exc, "line", 0) or 0) from None
    except (LarkError, RecursionError) as exc:
        raise HclSyntaxError(f"cannot parse: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}") from None
    try:
        return _Converter().body(tree.children[0])
    except RecursionError:
        raise HclSyntaxError("expressions nested too deeply") from None


def parse_expression(text: str) -> Node:
    """Parse one expression (used for template interpolations and .tf.json strings)."""
    body = parse_hcl(f"__expr__ = {text}\n")
    if set(body.attributes) != {"__expr__"} or body.blocks:
        raise HclSyntaxError(f"not a single expression: {text[:60]!r}")
    return body.attributes["__expr__"].expr


def _describe_parse_error(exc: UnexpectedInput, text: str) -> str:
    token = getattr(exc, "token", None)
    if token is not None and getattr(token, "type", "") == "$END":
        return "unexpected end of file (an unclosed block, bracket or string?)"
    if token is not None:
        kind = getattr(token, "type", "")
        text = str(token)
        shown = "end of line" if kind == "NL_OR_COMMENT" or text.startswith(("\n", "\r\n")) else repr(text[:40])
        expected = sorted({_TOKEN_WORDS.get(e, e.lower()) for e in
                           (getattr(exc, "expected", None) or getattr(exc, "allowed", None) or [])})
        hint = f"; expected {', '.join(expected[:6])}" if expected else ""
        return f"unexpected {shown}{hint}"
    column = getattr(exc, "column", 0)
    line = getattr(exc, "line", 0)
    snippet = ""
    if line:
        lines = text.splitlines()
        if 0 < line <= len(lines):
            snippet = lines[line - 1][max(0, column - 1):][:30]
    return f"unexpected character at column {column}: {snippet!r}" if snippet else "cannot parse"


_TOKEN_WORDS = {
    "DBLQUOTE": "a string", "FLOAT_LITERAL": "a number", "INT_LITERAL": "a number", "NAME": "a name",
    "HEREDOC_TEMPLATE": "a heredoc", "HEREDOC_TEMPLATE_TRIM": "a heredoc", "LBRACE": "'{'", "RBRACE": "'}'",
    "LSQB": "'['", "RSQB": "']'", "LPAR": "'('", "RPAR": "')'", "COMMA": "','", "EQ": "'='", "COLON": "':'",
    "NL_OR_COMMENT": "a newline", "QMARK": "'?'", "DOT": "'.'", "$END": "end of file",
}


def _kids(tree: Tree) -> list:
    """Children without layout: newlines, comments and punctuation tokens are dropped."""
    out = []
    for child in tree.children:
        if isinstance(child, Tree):
            if child.data != "new_line_or_comment":
                out.append(child)
        elif child.type in _KEPT_TOKENS:
            out.append(child)
    return out


_KEPT_TOKENS = {
    "NAME", "INT_LITERAL", "FLOAT_LITERAL", "STRING_CHARS", "ESCAPED_INTERPOLATION",
    "ESCAPED_DIRECTIVE", "HEREDOC_TEMPLATE", "HEREDOC_TEMPLATE_TRIM", "TEMPLATE_STRING",
    "MINUS", "NOT", "ELLIPSIS", "TRUE", "FALSE", "NULL", "IF", "IN", "FOR", "FOR_EACH",
    "ELSE", "ENDIF", "ENDFOR", "FOR_OBJECT_ARROW", "STRIP_MARKER",
}


class _Converter:
    def __init__(self) -> None:
        self.depth = 0

    # bodies and blocks
    def body(self, tree: Tree) -> Body:
        attributes: dict[str, Attribute] = {}
        blocks = []
        duplicates = []
        for child in _kids(tree):
            if child.data == "attribute":
                attr = self.attribute(child)
                if attr.name in attributes:
                    duplicates.append((attr.name, attr.line))
                attributes[attr.name] = attr
            elif child.data == "block":
                blocks.append(self.block(child))
        return Body(attributes, tuple(blocks), tuple(duplicates))

    def attribute(self, tree: Tree) -> Attribute:
        kids = _kids(tree)
        return Attribute(self.word(kids[0]), self.expr(kids[-1]), tree.meta.line)

    def block(self, tree: Tree) -> Block:
        kids = _kids(tree)
        words = [self.word(k) if k.data != "string" else self.plain_string(k) for k in kids[:-1]]
        return Block(words[0], tuple(words[1:]), self.body(kids[-1]), tree.meta.line, tree.meta.end_line)

    def word(self, tree: Tree) -> str:
        return str(_kids(tree)[0]) if _kids(tree) else str(tree.children[0])

    def plain_string(self, tree: Tree) -> str:
        node = self.string(tree)
        if isinstance(node, Lit):
            return str(node.value)
        raise HclSyntaxError("block labels cannot contain interpolations", tree.meta.line)

    # expressions
    def expr(self, tree: Any) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise HclSyntaxError(f"expression nested deeper than {MAX_DEPTH} levels", _line(tree))
        try:
            return getattr(self, "x_" + tree.data)(tree)
        finally:
            self.depth -= 1

    def x_expr_term(self, tree: Tree) -> Node:
        kids = _kids(tree)
        if len(kids) != 1:  # a parenthesised expression keeps only its inner node
            kids = [k for k in kids if isinstance(k, Tree)]
        return self.expr(kids[0])

    def x_conditional(self, tree: Tree) -> Node:
        c, a, b = _kids(tree)
        return Cond(self.expr(c), self.expr(a), self.expr(b))

    def x_binary_op(self, tree: Tree) -> Node:
        kids = _kids(tree)
        left = self.expr(kids[0])
        op_tree = kids[1]
        op = str(op_tree.children[0].children[0]).strip()
        right = self.expr(_kids(op_tree)[-1])
        return BinOp(op, left, right)

    def x_unary_op(self, tree: Tree) -> Node:
        op, operand = tree.children[0], _kids(tree)[-1]
        return UnOp(str(op), self.expr(operand))

    def x_int_lit(self, tree: Tree) -> Node:
        return Lit(int(str(tree.children[0])))

    def x_float_lit(self, tree: Tree) -> Node:
        value = float(str(tree.children[0]))
        return Lit(int(value) if value.is_integer() and "e" not in str(tree.children[0]).lower() else value)

    def x_literal_value(self, tree: Tree) -> Node:
        return Lit({"true": True, "false": False, "null": None}[str(tree.children[0])])

    def x_identifier(self, tree: Tree) -> Node:
        return Name(str(tree.children[0]))

    x_keyword = x_identifier

    def x_string(self, tree: Tree) -> Node:
        return self.string(tree)

    def x_template_string(self, tree: Tree) -> Node:
        raw = str(tree.children[0])[2:-2]
        return Lit(_unescape(raw))

    def x_heredoc_template(self, tree: Tree) -> Node:
        return self.heredoc(str(tree.children[0]), trim=False, line=_line(tree))

    def x_heredoc_template_trim(self, tree: Tree) -> Node:
        return self.heredoc(str(tree.children[0]), trim=True, line=_line(tree))

    def x_tuple(self, tree: Tree) -> Node:
        return TupleExpr(tuple(self.expr(k) for k in _kids(tree)))

    def x_object(self, tree: Tree) -> Node:
        items = []
        for elem in _kids(tree):
            key_tree, value_tree = _kids(elem)[0], _kids(elem)[-1]
            items.append((self.object_key(key_tree), self.expr(value_tree)))
        return ObjectExpr(tuple(items))

    def object_key(self, tree: Tree) -> Node:
        inner = _kids(tree)[0]
        if isinstance(inner, Tree) and inner.data == "keyword":
            return Lit(str(inner.children[0]))
        # A bare identifier key is a literal name, not a variable reference.
        if inner.data == "expr_term":
            term = _kids(inner)
            if len(term) == 1 and term[0].data in ("identifier", "keyword"):
                return Lit(str(term[0].children[0]))
        return self.expr(inner)

    def x_function_call(self, tree: Tree) -> Node:
        kids = _kids(tree)
        names = [str(k.children[0]) for k in kids if k.data == "identifier"]
        args_tree = next((k for k in kids if k.data == "arguments"), None)
        args: tuple = ()
        expand = False
        if args_tree is not None:
            arg_kids = _kids(args_tree)
            expand = any(isinstance(k, Token) and k.type == "ELLIPSIS" for k in arg_kids)
            args = tuple(self.expr(k) for k in arg_kids if isinstance(k, Tree))
        return Call("::".join(names), args, expand)

    def x_get_attr_expr_term(self, tree: Tree) -> Node:
        obj, attr = _kids(tree)
        return GetAttr(self.expr(obj), self.word(_kids(attr)[0]))

    def x_index_expr_term(self, tree: Tree) -> Node:
        obj, index = _kids(tree)
        return Index(self.expr(obj), self.index_key(index))

    def index_key(self, index: Tree) -> Node:
        if index.data == "short_index":
            return Lit(int(str(_kids(index)[0])))
        return self.expr(_kids(index)[0])

    def _splat(self, tree: Tree) -> Node:
        obj, splat = _kids(tree)
        ops = []
        for op in _kids(splat):
            if op.data == "get_attr":
                ops.append(("attr", self.word(_kids(op)[0])))
            else:
                ops.append(("index", self.index_key(op)))
        return Splat(self.expr(obj), tuple(ops))

    x_attr_splat_expr_term = _splat
    x_full_splat_expr_term = _splat

    def _for_intro(self, intro: Tree) -> tuple[str | None, str, Node]:
        kids = _kids(intro)
        names = [str(k.children[0]) for k in kids if isinstance(k, Tree) and k.data == "identifier"]
        coll = [k for k in kids if isinstance(k, Tree) and k.data != "identifier"][-1]
        if len(names) == 2:
            return names[0], names[1], self.expr(coll)
        return None, names[0], self.expr(coll)

    def x_for_tuple_expr(self, tree: Tree) -> Node:
        kids = [k for k in _kids(tree) if isinstance(k, Tree)]
        key_var, value_var, coll = self._for_intro(kids[0])
        cond = self.for_cond(kids[2]) if len(kids) > 2 else None
        return ForExpr(key_var, value_var, coll, None, self.expr(kids[1]), cond, False)

    def x_for_object_expr(self, tree: Tree) -> Node:
        kids = _kids(tree)
        group = any(isinstance(k, Token) and k.type == "ELLIPSIS" for k in kids)
        trees = [k for k in kids if isinstance(k, Tree)]
        key_var, value_var, coll = self._for_intro(trees[0])
        cond = self.for_cond(trees[3]) if len(trees) > 3 else None
        return ForExpr(key_var, value_var, coll, self.expr(trees[1]), self.expr(trees[2]), cond, group)

    def for_cond(self, tree: Tree) -> Node:
        return self.expr([k for k in _kids(tree) if isinstance(k, Tree)][0])

    # strings and templates
    def string(self, tree: Tree) -> Node:
        flat: list = []
        for part in _kids(tree):
            inner = part.children[0]
            if isinstance(inner, Token):
                if inner.type == "STRING_CHARS":
                    flat.append(_unescape(str(inner)))
                else:  # $${ or %%{ : the literal sequence without its escape
                    flat.append(str(inner)[1:])
            elif inner.data == "interpolation":
                flat.append(self.expr(_kids(inner)[0]))
            else:
                flat.append(self.directive(inner))
        return _assemble(flat, _line(tree))

    def directive(self, tree: Tree) -> tuple:
        kind = tree.data
        kids = _kids(tree)
        if kind == "template_if_start":
            return ("if", self.expr([k for k in kids if isinstance(k, Tree)][0]))
        if kind == "template_for_start":
            trees = [k for k in kids if isinstance(k, Tree)]
            names = [str(k.children[0]) for k in trees if k.data == "identifier"]
            coll = self.expr(trees[-1])
            return ("for", names[0] if len(names) == 2 else None, names[-1], coll)
        return ({"template_else": "else", "template_endif": "endif", "template_endfor": "endfor"}[kind],)

    def heredoc(self, raw: str, trim: bool, line: int) -> Node:
        match = re.match(r"<<-?([a-zA-Z][a-zA-Z0-9._-]*)\r?\n", raw)
        marker = match.group(1)
        body = raw[match.end():]
        body = re.sub(r"[ \t]*" + re.escape(marker) + r"\r?\n?$", "", body)
        if trim:
            lines = body.split("\n")
            indents = [len(l) - len(l.lstrip(" \t")) for l in lines if l.strip()]
            cut = min(indents) if indents else 0
            body = "\n".join(l[cut:] for l in lines)
        return parse_template(body, line)


def _line(tree: Any) -> int:
    meta = getattr(tree, "meta", None)
    return getattr(meta, "line", 0) if meta is not None and not getattr(meta, "empty", True) else 0


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
        return Lit("".join(parts))
    return Template(tuple(parts))


def parse_template(text: str, line: int = 0) -> Node:
    """Parse template text that is not inside quotes (heredoc bodies, .tf.json strings)."""
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
            if text[i] == "$":
                flat.append(parse_expression(inner.strip().strip("~").strip()))
            else:
                flat.append(_directive_text(inner.strip().strip("~").strip(), line))
            i = end + 1
            continue
        literal.append(text[i])
        i += 1
    if literal:
        flat.append("".join(literal))
    return _assemble(flat, line)


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
