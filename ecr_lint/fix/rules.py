"""What `ecr-lint fix` changes for each fixable rule, at the origin of the judged value.

A fixer gets a failing finding (its origins say where the value comes from) and the files'
text, and returns the text edits that repair it, or why it does not (and what to change by hand).
Every edit is checked afterwards by evaluating the stacks again (fix/verify.py).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any, Callable

from lark import Tree

from ecr_lint.fix import hcltext as h
from ecr_lint.fix.hcltext import Edit
from ecr_lint.hcl.syntax import HclSyntaxError
from ecr_lint.model import Origin, Result

AUTH_TOKEN = "ecr:GetAuthorizationToken"


class Refused(Exception):
    """This finding is not fixed: the message says why and what to change by hand."""


@dataclass
class Candidate:
    result: Result
    edits: tuple[Edit, ...]
    description: str


@dataclass
class Files:
    """The text of the files fixes edit, read once through the gate (fix/__init__.py)."""

    read: Callable[[str], str]                     # path -> text; raises Refused
    texts: dict[str, str] = field(default_factory=dict)
    bodies: dict[str, Tree] = field(default_factory=dict)

    def text(self, path: str) -> str:
        if path not in self.texts:
            self.texts[path] = self.read(path)
        return self.texts[path]

    def body(self, path: str) -> Tree:
        if path not in self.bodies:
            try:
                self.bodies[path] = h.parse(self.text(path))
            except HclSyntaxError as exc:
                raise Refused(f"{path} cannot be parsed again: {exc.message}") from None
        return self.bodies[path]


@dataclass
class Context:
    files: Files
    config: Any
    stacks: dict[str, Any]            # stack root -> Stack (for ECR001: the keys a stack holds)
    shown: Callable[[str], str]       # a path as the output shows it


def fix(result: Result, ctx: Context) -> Candidate:
    fixer = FIXERS.get(result.rule_id)
    if fixer is None:
        raise Refused(f"{result.rule_id} has no automatic fix")
    if not result.origins:
        raise Refused("where the value comes from is not known (a plan without its source, or a value the "
                      "provider computes)")
    return fixer(result, ctx)


# --- where the value comes from ------------------------------------------------------------------

def source(result: Result, ctx: Context) -> Origin:
    """The origin, if an edit there is possible at all."""
    origin = result.origins[-1]
    where = f"{ctx.shown(origin.file)}:{origin.line}" if origin.line else ctx.shown(origin.file)
    if origin.kind == "cli":
        given = "in the environment" if origin.file == "env" else "on the command line"
        raise Refused(f"the value is given {given} ({origin.what}): change it there")
    if os.sep + ".terraform" + os.sep in origin.file:
        raise Refused(f"the value comes from {origin.what} ({where}), inside a module `terraform init` installed "
                      "(a registry or remote module, outside the linted tree): pass the value as an argument of "
                      "the module call in your stack, by hand")
    if origin.kind == "tfvars" and (origin.line == 0 or origin.file.endswith(".json")):
        raise Refused(f"the value comes from {origin.what}, a .tfvars.json file: change it there by hand")
    if origin.end in ("computed", "reference", "unknown"):
        raise Refused(f"the value is not a literal: {origin.what} ({where}): change it there by hand")
    return origin


def located(origin: Origin, ctx: Context) -> tuple[str, Tree | None, Tree, str]:
    """(text, the attribute tree or None when absent, the body holding it, its name)."""
    text = ctx.files.text(origin.file)
    body, name = h.find_body(ctx.files.body(origin.file), origin.block, origin.attribute)
    if body is None:
        raise Refused(f"cannot find {origin.what} in {ctx.shown(origin.file)} again")
    return text, h.attributes(body).get(name), body, name


def expression_at(origin: Origin, ctx: Context) -> tuple[str, Tree]:
    text, attribute, _, _ = located(origin, ctx)
    if attribute is None:
        raise Refused(f"cannot find {origin.what} in {ctx.shown(origin.file)} again")
    node = h.walk(h.expression(attribute), origin.steps)
    if node is None:
        raise Refused(f"cannot find {origin.what} in {ctx.shown(origin.file)} again")
    return text, node


def place(origin: Origin, ctx: Context) -> str:
    return f"{ctx.shown(origin.file)}:{origin.line}"


def replace_literal(result: Result, ctx: Context, wanted: Any, accept: Callable[[Any], bool]) -> Candidate:
    """Change the literal the value comes from to `wanted` (when the literal is one `accept` takes)."""
    origin = source(result, ctx)
    if origin.end != "literal":
        raise Refused(f"{origin.what} ({place(origin, ctx)}) is not a literal to change")
    text, node = expression_at(origin, ctx)
    current = h.literal(node)
    if current is ... or not accept(current):
        raise Refused(f"{origin.what} ({place(origin, ctx)}) is not a literal value ecr-lint knows how to change")
    start, end = h.span(h.unwrap(node))
    keys = [str(step[1]) for step in origin.steps if step[0] == "key"]
    target = f"{'.'.join(keys)} of {origin.what}" if keys else origin.what
    return Candidate(result, (Edit(origin.file, start, end, h.hcl(wanted)),),
                     f"set {target} to {h.hcl(wanted)} ({place(origin, ctx)})")


# --- adding attributes and blocks -------------------------------------------------------------------

def _closing(text: str, body_owner: Tree) -> int:
    """The offset of the closing brace of a block (or object)."""
    _, end = h.span(body_owner)
    return text.rindex("}", 0, end)


def insert_lines(text: str, owner: Tree, file: str, lines: list[str], blank_before: bool = False) -> Edit:
    """Lines (without indentation) added at the end of a block or object, indented one level
    deeper than its closing brace."""
    close = _closing(text, owner)
    newline = "\r\n" if "\r\n" in text else "\n"
    outer = h.indent_at(text, close)
    start = h.line_start(text, close)
    if text[start:close].strip():  # `x {}` or `{ a = 1 }` on one line: open it up
        open_at = text.index("{", h.span(owner)[0])
        inner = text[open_at + 1:close].strip()
        outer = h.indent_at(text, open_at)
        body = ([inner] if inner else []) + lines
        inside = newline.join(f"{outer}  {line}" if line else "" for line in body)
        return Edit(file, open_at + 1, close, f"{newline}{inside}{newline}{outer}")
    inside = newline.join(f"{outer}  {line}" if line else "" for line in lines)
    previous = text[:start].rstrip(" \t\r\n")
    blank = blank_before and not previous.endswith("{") and not text[:start].endswith(newline * 2)
    return Edit(file, start, start, (newline if blank else "") + inside + newline)


def insert_attribute(text: str, owner: Tree, body: Tree, file: str, line: str) -> Edit:
    """An attribute line after the block's last attribute (so that it joins their run and is
    aligned with them), else at the end of the block."""
    last = [t for t in h.trees(body) if t.data == "attribute"]
    if not last:
        return insert_lines(text, owner, file, [line])
    end = h.span(last[-1])[1]
    eol = text.find("\n", end)
    eol = len(text) if eol < 0 else eol - (1 if text[eol - 1:eol] == "\r" else 0)
    newline = "\r\n" if "\r\n" in text else "\n"
    return Edit(file, eol, eol, f"{newline}{h.indent_at(text, h.span(last[-1])[0])}{line}")


def block_of(origin: Origin, ctx: Context) -> tuple[str, Tree]:
    """The text and the block tree of the resource a finding is about."""
    text = ctx.files.text(origin.file)
    block = h.find_block(ctx.files.body(origin.file), origin.block)
    if block is None:
        raise Refused(f"cannot find {' '.join(origin.block)} in {ctx.shown(origin.file)} again")
    return text, block


def set_in_resource(result: Result, ctx: Context, path: tuple, wanted: Any, accept: Callable[[Any], bool]) -> Candidate:
    """A resource argument (path: nested block names, then the attribute) set to `wanted`: the
    literal changed at its origin, the attribute added when absent, the nested block added when
    absent."""
    origin = result.origins[-1]
    if origin.end != "absent":
        return replace_literal(result, ctx, wanted, accept)
    first = result.origins[0]
    if os.sep + ".terraform" + os.sep in first.file:
        source(result, ctx)
    text, block = block_of(first, ctx)
    body = h.body_of(block)
    owner = block
    for name in path[:-1]:
        nested = h.blocks(body, name)
        if not nested:  # the nested block is absent: add it whole
            inner = [f"{path[-1]} = {h.hcl(wanted)}"]
            lines = [f"{name} {{", *[f"  {line}" for line in inner], "}"]
            edit = insert_lines(text, owner, first.file, lines, blank_before=True)
            return Candidate(result, (edit,), f"add `{name} {{ {inner[0]} }}` to {result.address} "
                                              f"({ctx.shown(first.file)}:{block.meta.line})")
        owner, body = nested[0], h.body_of(nested[0])
    if path[-1] in h.attributes(body):
        raise Refused(f"{'.'.join(path)} is set, but ecr-lint cannot tell to what")
    edit = insert_attribute(text, owner, body, first.file, f"{path[-1]} = {h.hcl(wanted)}")
    return Candidate(result, (edit,), f"add `{path[-1]} = {h.hcl(wanted)}` to {result.address} "
                                      f"({ctx.shown(first.file)}:{owner.meta.line})")


# --- the rules ---------------------------------------------------------------------------------------

def ecr003(result: Result, ctx: Context) -> Candidate:
    if "IMMUTABLE_WITH_EXCLUSION" in result.message:
        return _narrow_exclusions(result, ctx)
    return set_in_resource(result, ctx, ("image_tag_mutability",), "IMMUTABLE",
                           lambda v: isinstance(v, str) and v != "IMMUTABLE")


EXCLUSION = "image_tag_mutability_exclusion_filter"


def _narrow_exclusions(result: Result, ctx: Context) -> Candidate:
    """IMMUTABLE_WITH_EXCLUSION whose filters match release tags: remove those filter blocks (the
    narrow ones, such as `latest`, stay); when every filter is that wide, IMMUTABLE at the
    origin of the value and no filter at all (ECR003's own test decides which filters are wide)."""
    from ecr_lint.predicates.mutability import _matches_release_tag

    by_hand = "narrow the filters (for example `latest`, `dev-*`) or set IMMUTABLE, by hand"
    first = result.origins[0] if result.origins else None
    if first is None or os.sep + ".terraform" + os.sep in first.file:
        raise Refused(f"the exclusion filters are not in the linted tree: {by_hand}")
    _no_other_override(first, ctx, by_hand)
    text, block = block_of(first, ctx)
    body = h.body_of(block)
    if any(h.block_words(b)[:2] == ("dynamic", EXCLUSION) for b in h.blocks(body, "dynamic")):
        raise Refused(f"the exclusion filters are written by a dynamic block: {by_hand}")
    filters = h.blocks(body, EXCLUSION)
    wide = []
    for filter_block in filters:
        attribute = h.attributes(h.body_of(filter_block)).get("filter")
        value = h.literal(h.expression(attribute)) if attribute is not None else ...
        if not isinstance(value, str):
            raise Refused(f"an exclusion filter is not a literal string ({ctx.shown(first.file)}:"
                          f"{filter_block.meta.line}): {by_hand}")
        if _matches_release_tag(value):
            wide.append((filter_block, value))
    if not wide:
        raise Refused(f"the filter that matches release tags is not written in {result.address}: {by_hand}")
    edits = [_block_removal(text, b, first.file) for b, _ in wide]
    shown = ", ".join(h.hcl(v) for _, v in wide)
    if len(wide) < len(filters):
        return Candidate(result, tuple(edits), f"remove the exclusion filter(s) {shown} of {result.address}, "
                                               f"which make release tags mutable ({ctx.shown(first.file)}:"
                                               f"{wide[0][0].meta.line})")
    immutable = replace_literal(result, ctx, "IMMUTABLE", lambda v: v == "IMMUTABLE_WITH_EXCLUSION")
    return Candidate(result, immutable.edits + tuple(edits),
                     f"{immutable.description}, and remove its only exclusion filter(s) {shown} "
                     f"({ctx.shown(first.file)}:{wide[0][0].meta.line})")


def _no_other_override(first: Origin, ctx: Context, by_hand: str) -> None:
    """Nested blocks are what the last file declaring the resource says (override files merge
    them whole): with another file declaring it, the blocks read here may not be the ones in effect."""
    from ecr_lint.loaders.override import is_override

    directory = os.path.dirname(first.file)
    for name in sorted(os.listdir(directory)):
        path = os.path.join(directory, name)
        if path != first.file and is_override(name) and name.endswith((".tf", ".tofu")):
            if h.find_block(ctx.files.body(path), first.block) is not None:
                raise Refused(f"{ctx.shown(path)} overrides {' '.join(first.block[1:])} too: {by_hand}")


def _block_removal(text: str, block: Tree, file: str) -> Edit:
    """A nested block removed with its lines (and the blank line before it, so none doubles)."""
    start, end = h.span(block)
    line_from = h.line_start(text, start)
    line_to = text.find("\n", end)
    line_to = len(text) if line_to < 0 else line_to + 1
    if text[line_from:start].strip() or text[end:line_to].strip():
        raise Refused(f"the exclusion filter at {file}:{block.meta.line} shares its lines with other code: "
                      "remove it by hand")
    # A blank line before it goes too when a blank line or the closing brace follows: no blank
    # line doubles, none is left before `}`.
    before = text.rfind("\n", 0, max(line_from - 1, 0)) + 1
    after = text[line_to:text.find("\n", line_to) if text.find("\n", line_to) >= 0 else len(text)].strip()
    if 0 < before < line_from and not text[before:line_from].strip() and after in ("", "}"):
        line_from = before
    return Edit(file, line_from, line_to, "")


def ecr002(result: Result, ctx: Context) -> Candidate:
    return set_in_resource(result, ctx, ("image_scanning_configuration", "scan_on_push"), True,
                           lambda v: v in (False, "false", None))


def ecr010(result: Result, ctx: Context) -> Candidate:
    return set_in_resource(result, ctx, ("enable_key_rotation",), True, lambda v: v in (False, "false", None))


def ecr011(result: Result, ctx: Context) -> Candidate:
    return replace_literal(result, ctx, False, lambda v: v in (True, "true"))


_MISSING = re.compile(r"missing ([^;(]+)")


def ecr007(result: Result, ctx: Context) -> Candidate:
    values = (ctx.config.fix or {}).get("tag_values") or {}
    found = _MISSING.search(result.message)
    if not found:
        raise Refused("only missing tags are added (an empty tag's value is the team's to write)")
    missing = [name.strip() for name in found.group(1).split(",") if name.strip()]
    unknown = [name for name in missing if name not in values]
    if unknown:
        raise Refused(f"no value for {', '.join(unknown)} in the config's fix.tag_values: add them there "
                      "(ecr-lint never invents a tag value)")
    origin = result.origins[-1]
    items = [f"{h.key(name)} = {h.hcl(values[name])}" for name in missing]
    if origin.end == "absent" and origin.attribute == ("tags",):
        text, block = block_of(origin, ctx)
        edit = insert_lines(text, block, origin.file, ["tags = {", *[f"  {i}" for i in items], "}"], blank_before=True)
        return Candidate(result, (edit,), f"add tags {', '.join(missing)} to {result.address} "
                                          f"({place(origin, ctx)})")
    origin = source(result, ctx)
    if origin.end != "missing":
        raise Refused(f"the tags come from {origin.what} ({place(origin, ctx)}), not an object ecr-lint can add to")
    text, node = expression_at(origin, ctx)
    node = h.unwrap(node)
    if node.data != "object":
        raise Refused(f"{origin.what} ({place(origin, ctx)}) is not an object literal")
    if text[h.span(node)[0]:h.span(node)[1]].count("\n") == 0 and len(h.trees(node)) > 0:
        close = _closing(text, node)
        inner = text[h.span(node)[0] + 1:close].rstrip()
        joined = ", ".join(items)
        edit = Edit(origin.file, h.span(node)[0] + 1 + len(inner), close, f", {joined} ")
    else:
        edit = insert_lines(text, node, origin.file, items)
    return Candidate(result, (edit,), f"add {', '.join(missing)} to {origin.what} ({place(origin, ctx)})")


def _statement(result: Result, ctx: Context, key: str) -> tuple[Origin, str, Tree, Tree]:
    """(origin, text, the statement object, the value of `key` in it) for a policy finding whose
    origin is a key of a statement written as an HCL object (jsonencode)."""
    origin = source(result, ctx)
    steps = origin.steps
    if not steps or steps[-1][0] != "key" or len(steps) < 2:
        raise Refused(f"the policy comes from {origin.what} ({place(origin, ctx)}): edit its statement by hand")
    text, node = expression_at(dataclass_replace(origin, steps=steps[:-1]), ctx)
    statement = h.unwrap(node)
    if statement.data != "object":
        raise Refused("the statement is not an object literal: edit it by hand")
    value = h.step(statement, ("key", key))
    if value is None:
        raise Refused(f"the statement has no {key}: edit it by hand")
    return origin, text, statement, value


def dataclass_replace(origin: Origin, **changes: Any) -> Origin:
    import dataclasses

    return dataclasses.replace(origin, **changes)


def _items(value: Tree) -> list[Any]:
    node = h.unwrap(value)
    if node.data == "tuple":
        return [h.literal(i) for i in h.trees(node)]
    return [h.literal(node)]


def _item_removal(text: str, node: Tree, index: int, file: str) -> Edit:
    """Remove one element of a list literal, with its separator (its whole line when alone on it)."""
    items = h.trees(node)
    start, end = h.span(items[index])
    line_from = h.line_start(text, start)
    line_to = text.find("\n", end)
    rest = text[end:line_to if line_to >= 0 else len(text)]
    if not text[line_from:start].strip() and rest.strip() in ("", ","):
        return Edit(file, line_from, line_to + 1, "")
    if index + 1 < len(items):
        return Edit(file, start, h.span(items[index + 1])[0], "")
    previous_end = h.span(items[index - 1])[1]
    return Edit(file, previous_end, end, "")


def ecr012(result: Result, ctx: Context) -> Candidate:
    origin = source(result, ctx)
    if not origin.steps and origin.attribute[-1:] == ("resources",):
        return _ecr012_document(result, ctx, origin)
    origin, text, statement, resources = _statement(result, ctx, "Resource")
    action_node = h.step(statement, ("key", "Action"))
    actions = _items(action_node) if action_node is not None else []
    if ... in actions or not any(isinstance(a, str) and a.lower() == AUTH_TOKEN.lower() for a in actions):
        raise Refused("the statement's actions are not literals: edit it by hand")
    if all(a.lower() == AUTH_TOKEN.lower() for a in actions):
        start, end = h.span(h.unwrap(resources))
        return Candidate(result, (Edit(origin.file, start, end, '"*"'),),
                         f'set Resource = "*" in the statement of {AUTH_TOKEN} ({place(origin, ctx)})')
    # Split: GetAuthorizationToken leaves this statement for its own, on "*", right after it.
    tuple_node = h.unwrap(action_node)
    if tuple_node.data != "tuple":
        raise Refused("the statement's actions are not a list: edit it by hand")
    index = next(i for i, a in enumerate(actions) if a.lower() == AUTH_TOKEN.lower())
    removal = _item_removal(text, tuple_node, index, origin.file)
    s_start, s_end = h.span(statement)
    newline = "\r\n" if "\r\n" in text else "\n"
    indent = h.indent_at(text, s_start)
    multi = "\n" in text[s_start:s_end]
    if multi:
        inner = indent + "  "
        new = (f"{{{newline}{inner}Effect   = \"Allow\"{newline}{inner}Action   = \"{AUTH_TOKEN}\"{newline}"
               f"{inner}Resource = \"*\"{newline}{indent}}}")
    else:
        new = f'{{ Effect = "Allow", Action = "{AUTH_TOKEN}", Resource = "*" }}'
    after = text[s_end:]
    comma = "," if after.lstrip(" \t").startswith(",") else ""
    if multi:
        # `}` of the statement, its comma if any, then the new statement on its own lines
        at = s_end + (len(after) - len(after.lstrip(" \t")) + 1 if comma else 0)
        insertion = Edit(origin.file, at, at, f"{'' if comma else ','}{newline}{indent}{new}{comma}")
    else:
        insertion = Edit(origin.file, s_end, s_end, f", {new}")
    return Candidate(result, (removal, insertion),
                     f"move {AUTH_TOKEN} to a statement of its own on Resource \"*\" ({place(origin, ctx)})")


def _ecr012_document(result: Result, ctx: Context, origin: Origin) -> Candidate:
    """A policy document's statement block: its resources become ["*"] when it grants only
    GetAuthorizationToken; else the action moves to a new statement block right after it."""
    text, resources, body, _ = located(origin, ctx)
    actions_attr = h.attributes(body).get("actions")
    if resources is None or actions_attr is None:
        raise Refused("the statement has no actions or resources to edit: edit it by hand")
    node = h.unwrap(h.expression(actions_attr))
    actions = _items(node)
    if ... in actions or not any(isinstance(a, str) and a.lower() == AUTH_TOKEN.lower() for a in actions):
        raise Refused("the statement's actions are not literals: edit it by hand")
    if all(a.lower() == AUTH_TOKEN.lower() for a in actions):
        start, end = h.span(h.unwrap(h.expression(resources)))
        return Candidate(result, (Edit(origin.file, start, end, '["*"]'),),
                         f'set resources = ["*"] in the statement of {AUTH_TOKEN} ({place(origin, ctx)})')
    if node.data != "tuple":
        raise Refused("the statement's actions are not a list: edit it by hand")
    document = h.find_block(ctx.files.body(origin.file), origin.block)
    index = origin.attribute[1] if len(origin.attribute) > 2 and isinstance(origin.attribute[1], int) else 0
    statements = h.blocks(h.body_of(document), "statement") if document is not None else []
    if len(statements) <= index:
        raise Refused("cannot find the statement again: edit it by hand")
    removal = _item_removal(text, node, actions.index(next(a for a in actions if a.lower() == AUTH_TOKEN.lower())),
                            origin.file)
    block_end = h.span(statements[index])[1]
    indent = h.indent_at(text, h.span(statements[index])[0])
    newline = "\r\n" if "\r\n" in text else "\n"
    blank = newline if text[block_end:].startswith(newline * 2) else ""
    new = (f"{newline}{blank}{indent}statement {{{newline}{indent}  actions   = [\"{AUTH_TOKEN}\"]{newline}"
           f"{indent}  resources = [\"*\"]{newline}{indent}}}")
    return Candidate(result, (removal, Edit(origin.file, block_end, block_end, new)),
                     f"move {AUTH_TOKEN} to a statement of its own on resources [\"*\"] ({place(origin, ctx)})")


_WITHOUT = re.compile(r"without ([\w:, ]+)$")


def ecr013(result: Result, ctx: Context) -> Candidate:
    found = _WITHOUT.search(result.message)
    if not found:
        raise Refused("cannot tell which actions are missing")
    missing = [a.strip() for a in found.group(1).split(",") if a.strip()]
    origin = source(result, ctx)
    in_document = not origin.steps and origin.attribute[-1:] == ("actions",)  # a policy document's statement
    if not in_document and (not origin.steps or origin.steps[-1] != ("key", "Action")):
        raise Refused(f"the policy comes from {origin.what} ({place(origin, ctx)}): add {', '.join(missing)} by hand")
    text, node = expression_at(origin, ctx)
    node = h.unwrap(node)
    added = ", ".join(h.hcl(a) for a in missing)
    if node.data != "tuple":
        if h.literal(node) is ...:
            raise Refused("the actions are not literals: add them by hand")
        start, end = h.span(node)
        return Candidate(result, (Edit(origin.file, start, end, f"[{text[start:end]}, {added}]"),),
                         f"add {', '.join(missing)} to the statement's Action ({place(origin, ctx)})")
    items = h.trees(node)
    start, end = h.span(node)
    if "\n" not in text[start:end] or not items:
        close = text.rindex("]", start, end)
        last = h.span(items[-1])[1] if items else start + 1
        sep = ", " if items else ""
        return Candidate(result, (Edit(origin.file, last, close, f"{sep}{added}"),),
                         f"add {', '.join(missing)} to the statement's Action ({place(origin, ctx)})")
    last_end = h.span(items[-1])[1]
    trailing = text[last_end:].lstrip(" \t").startswith(",")
    indent = h.indent_at(text, h.span(items[-1])[0])
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = "".join(f"{newline}{indent}{h.hcl(a)}," if trailing else f",{newline}{indent}{h.hcl(a)}" for a in missing)
    at = last_end + (text[last_end:].index(",") + 1 if trailing else 0)
    return Candidate(result, (Edit(origin.file, at, at, lines),),
                     f"add {', '.join(missing)} to the statement's Action ({place(origin, ctx)})")


def ecr001(result: Result, ctx: Context) -> Candidate:
    first = result.origins[0]
    if os.sep + ".terraform" + os.sep in first.file:
        raise Refused("the repository is declared in a module `terraform init` installed: pass a customer key to "
                      "the module in your stack, by hand")
    stack = ctx.stacks.get(result.stack)
    module = _module_prefix(result.address)
    key = _customer_key(stack, module, ctx.config) if stack is not None else None
    if key is None:
        raise Refused("the stack has no customer-managed key to point at (an `aws_kms_key`, or a data "
                      f"\"aws_ssm_parameter\" reading {ctx.config.kms_key_parameter}): create or read one first, then "
                      "point encryption_configuration at it (this replaces the repository)")
    text, block = block_of(first, ctx)
    body = h.body_of(block)
    nested = h.blocks(body, "encryption_configuration")
    where = f"{ctx.shown(first.file)}:{block.meta.line}"
    if not nested:
        edit = insert_lines(text, block, first.file, ["encryption_configuration {", '  encryption_type = "KMS"',
                                                       f"  kms_key         = {key}", "}"], blank_before=True)
        return Candidate(result, (edit,), f"encrypt {result.address} with {key} ({where}; the repository is "
                                          "replaced: encryption cannot change in place)")
    config = h.body_of(nested[0])
    attributes = h.attributes(config)
    edits = []
    kind = attributes.get("encryption_type")
    if kind is not None:
        value = h.literal(h.expression(kind))
        if value not in ("AES256", "KMS", "KMS_DSSE"):
            raise Refused("encryption_type is not a literal: set it to \"KMS\" by hand")
        if value == "AES256":
            start, end = h.span(h.unwrap(h.expression(kind)))
            edits.append(Edit(first.file, start, end, '"KMS"'))
    kms = attributes.get("kms_key")
    if kms is not None:
        start, end = h.span(h.unwrap(h.expression(kms)))
        edits.append(Edit(first.file, start, end, key))
    else:
        lines = ([] if kind is not None else ['encryption_type = "KMS"']) + [f"kms_key = {key}"]
        edits.append(insert_attribute(text, nested[0], config, first.file, "\n  ".join(lines)) if len(lines) == 1
                     else insert_lines(text, nested[0], first.file, lines))
    return Candidate(result, tuple(edits), f"encrypt {result.address} with {key} ({where}; the repository is "
                                           "replaced: encryption cannot change in place)")


def _module_prefix(address: str) -> str:
    parts = re.findall(r'module\.[^.\[]+(?:\[[^\]]*\])?\.', address)
    return "".join(parts)


def _customer_key(stack: Any, module: str, config: Any) -> str | None:
    """A reference, in the repository's module, to the shared KMS parameter or its one customer key."""
    from ecr_lint.hcl.evaluate import plain

    local = [r for r in stack.resources if r.address.startswith(module) and "module." not in r.address[len(module):]]
    for res in local:
        if res.mode == "data" and res.type == "aws_ssm_parameter" \
                and plain(res.attributes.get("name")) == config.kms_key_parameter and "[" not in res.address:
            return f"data.aws_ssm_parameter.{res.name}.value"
    keys = [r for r in local if r.mode == "managed" and r.type == "aws_kms_key"]
    if len(keys) == 1 and "[" not in keys[0].address:
        return f"aws_kms_key.{keys[0].name}.arn"
    return None


FIXERS: dict[str, Callable[[Result, Context], Candidate]] = {
    "ECR001": ecr001, "ECR002": ecr002, "ECR003": ecr003, "ECR007": ecr007, "ECR010": ecr010,
    "ECR011": ecr011, "ECR012": ecr012, "ECR013": ecr013,
}
