"""python-hcl2's raw Lark tree (it has line numbers) -> the AST of syntax.py."""

from __future__ import annotations

import re
from typing import Any

from lark import Token, Tree
from lark.exceptions import LarkError, UnexpectedInput

from ecr_lint.hcl.evaluate import NotExact, exact_float
from ecr_lint.model import Unknown

from ecr_lint.hcl.syntax import (
    MAX_DEPTH, Attribute, BinOp, Block, Body, Call, Cond, ForExpr, GetAttr, HclSyntaxError, Index, Lit, Name, Node,
    ObjectExpr, Splat, TupleExpr, UnOp, STRIP_AFTER, STRIP_BEFORE, _assemble, _strip, _unescape, merged_literals,
    parse_template,
)


def parse(text: str) -> Body:
    from ecr_lint.hcl.grammar import parser

    try:
        tree = parser().parse(text + "\n")  # as hcl2.parses_to_tree: the grammar needs a final newline
    except UnexpectedInput as exc:
        raise HclSyntaxError(_describe_parse_error(exc, text), getattr(exc, "line", 0) or 0) from None
    except (LarkError, RecursionError) as exc:
        raise HclSyntaxError(f"cannot parse: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}") from None
    try:
        body = _Converter().body(tree.children[0])
    except RecursionError:
        raise HclSyntaxError("expressions nested too deeply") from None
    if "#" in text or "//" in text or "/*" in text:
        body = Body(body.attributes, body.blocks, body.duplicates, _comments(tree))
    return body


# Words that make a comment an annotation: ecr-lint's own and the peers' suppressions.
ANNOTATION_WORDS = ("ecr-lint", "checkov", "tfsec", "trivy", "kics-scan")


def _comments(tree: Tree) -> tuple:
    """Every comment token of the parse tree: (first line, last line, text if an annotation)."""
    out = []
    for token in tree.scan_values(lambda v: isinstance(v, Token) and v.type == "NL_OR_COMMENT"):
        value = str(token)
        stripped = value.lstrip()
        if not stripped.startswith(("#", "//", "/*")):
            continue  # a newline and indentation
        line = token.line + value[:len(value) - len(stripped)].count("\n")
        text = stripped.rstrip("\r\n")
        end = line + text.count("\n")
        keep = text if any(word in text for word in ANNOTATION_WORDS) else ""
        out.append((line, end, keep))
    return tuple(sorted(out))


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
        text = str(tree.children[0])
        value = float(text)
        try:
            exact_float(text, value)
        except NotExact as exc:  # 0.1: evaluating it is unknown, not a near number
            return Lit(Unknown(str(exc)))
        return Lit(int(value) if value.is_integer() and "e" not in text.lower() else value)

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
        kids = _kids(tree)
        return TupleExpr(tuple(self.expr(k) for k in kids), tuple(_line(k) for k in kids))

    def x_object(self, tree: Tree) -> Node:
        items = []
        elems = _kids(tree)
        for elem in elems:
            key_tree, value_tree = _kids(elem)[0], _kids(elem)[-1]
            items.append((self.object_key(key_tree), self.expr(value_tree)))
        return ObjectExpr(tuple(items), tuple(_line(e) for e in elems))

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
                strips = [k for k in inner.children if isinstance(k, Token) and k.type == "STRIP_MARKER"]
                before = bool(strips) and inner.children[1] is strips[0]
                if before:
                    flat.append(STRIP_BEFORE)
                flat.append(self.directive(inner))
                if len(strips) > int(before):
                    flat.append(STRIP_AFTER)
        return _assemble(_strip(merged_literals(flat)), _line(tree))

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
        return parse_template(body, line, flush=trim)


def _line(tree: Any) -> int:
    meta = getattr(tree, "meta", None)
    return getattr(meta, "line", 0) if meta is not None and not getattr(meta, "empty", True) else 0


