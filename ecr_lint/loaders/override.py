"""Override files (`override.tf`, `*_override.tf` and their `.tf.json`, `.tofu`, `.tofu.json`
forms) merged into a module's declarations as Terraform does (internal/configs/module_merge.go).

Each top-level block of an override file merges into the already declared object with the same
header: its arguments replace the original's, and its nested blocks replace every nested block
of the same type (a `dynamic "x"` counts as an `x`), except a resource's `lifecycle`, merged
argument by argument. Variables and outputs take only arguments (their `validation` and
`precondition` blocks stay the original's); locals merge value by value; a default provider
configuration may be overridden even where none is declared; a `terraform` block's backend or
cloud replaces the original's. Overriding something never declared, `depends_on`, and `moved`,
`import` or `check` blocks are errors, as in Terraform (the rest is still merged).

Merged-in arguments and blocks carry the override file (`Attribute.file`, `Block.file`), and each
declaration keeps the override blocks merged into it (`Decl.overrides`): a finding about an
overridden value points at the override, and a suppression written in the override block applies.
"""

from __future__ import annotations

import dataclasses
import re
from typing import TYPE_CHECKING

from ecr_lint.hcl import syntax as ast
from ecr_lint.model import InputError, SourceSpan

if TYPE_CHECKING:
    from ecr_lint.loaders.module import Decl, ModuleConfig

CONFIG_SUFFIXES = (".tf.json", ".tofu.json", ".tf", ".tofu")  # the longer first: "x.tf.json" is not "x.tf"
_NOT_IN_OVERRIDES = {"moved": "Records of moved objects", "import": "Import blocks", "check": "Check blocks"}


def suffix_of(name: str) -> str:
    """The configuration suffix of a file name ("" when it is not a configuration file)."""
    return next((s for s in CONFIG_SUFFIXES if name.endswith(s)), "")


def is_override(name: str) -> bool:
    stem = name[: len(name) - len(suffix_of(name))]
    return stem == "override" or stem.endswith("_override")


def located(body: ast.Body, path: str) -> ast.Body:
    """The body with each argument and nested block (at every depth) marked as written in `path`."""
    return dataclasses.replace(
        body,
        attributes={n: dataclasses.replace(a, file=path) for n, a in body.attributes.items()},
        blocks=tuple(dataclasses.replace(b, file=path, body=located(b.body, path)) for b in body.blocks))


def _nested_type(block: ast.Block) -> str:
    return block.labels[0] if block.type == "dynamic" and block.labels else block.type


def merge_body(base: ast.Body, over: ast.Body, keep_blocks: bool = False) -> ast.Body:
    """Terraform's MergeBodies: the override's arguments replace the base's of the same name; its
    nested blocks replace all the base's blocks of the same type. In .tf.json a nested block is an
    argument holding an object, so a name replaces the other kind too. `keep_blocks`: the
    override's nested blocks are not merged at all (variables, outputs)."""
    over_blocks = () if keep_blocks else over.blocks
    block_types = {_nested_type(b) for b in over_blocks}
    attributes = {n: a for n, a in base.attributes.items() if n not in block_types}
    attributes.update(over.attributes)
    blocks = tuple(b for b in base.blocks
                   if _nested_type(b) not in block_types and _nested_type(b) not in over.attributes)
    return dataclasses.replace(base, attributes=attributes, blocks=blocks + tuple(over_blocks))


def _merge_resource(base: ast.Body, over: ast.Body) -> ast.Body:
    """A resource's body: MergeBodies, but `lifecycle` argument by argument."""
    merged = merge_body(base, over)
    old = next((b for b in base.blocks if b.type == "lifecycle"), None)
    new = next((b for b in over.blocks if b.type == "lifecycle"), None)
    if old is None or new is None:
        return merged
    lifecycle = dataclasses.replace(new, body=dataclasses.replace(
        old.body, attributes={**old.body.attributes, **new.body.attributes}))
    return dataclasses.replace(merged, blocks=tuple(lifecycle if b is new else b for b in merged.blocks))


class _Merger:
    """Merges the blocks of one override file into a ModuleConfig."""

    def __init__(self, config: "ModuleConfig", path: str):
        self.config = config
        self.path = path

    def error(self, line: int, message: str) -> None:
        self.config.errors.append(InputError(self.path, line, message))

    def missing(self, block: ast.Block, what: str) -> None:
        self.error(block.line, f"override of {what}, which no primary file of the module declares "
                               "(Terraform rejects it too): the override is ignored")

    def merge_decl(self, decl: "Decl", block: ast.Block, body: ast.Body) -> "Decl":
        span = SourceSpan(self.path, block.line, block.end_line)
        return dataclasses.replace(decl, block=dataclasses.replace(decl.block, body=body),
                                   overrides=decl.overrides + (span,))

    def without_depends_on(self, block: ast.Block) -> ast.Body:
        """The override's body; a `depends_on` in it is an error (Terraform does not allow
        overriding it), and is dropped. An empty list overrides nothing, so Terraform takes it."""
        body = block.body
        attr = body.attributes.get("depends_on")
        if attr is None:
            return body
        if not (isinstance(attr.expr, ast.TupleExpr) and not attr.expr.items):
            self.error(attr.line, "depends_on may not be overridden (Terraform rejects it): this depends_on "
                                  "is ignored")
        return dataclasses.replace(body, attributes={n: a for n, a in body.attributes.items() if n != "depends_on"})

    def block(self, block: ast.Block) -> None:
        kind, labels = block.type, block.labels
        block = dataclasses.replace(block, body=located(block.body, self.path))
        config = self.config
        if kind in ("resource", "data") and len(labels) == 2:
            index = config.resource_at(kind, labels)
            what = f'{kind} "{labels[0]}" "{labels[1]}"'
            if index is None:
                return self.missing(block, what)
            decl = config.resources[index]
            config.resources[index] = self.merge_decl(decl, block, _merge_resource(decl.block.body,
                                                                                    self.without_depends_on(block)))
        elif kind in ("variable", "output", "module") and len(labels) == 1:
            table = {"variable": config.variables, "output": config.outputs, "module": config.modules}[kind]
            decl = table.get(labels[0])
            if decl is None:
                return self.missing(block, f'{kind} "{labels[0]}"')
            over = block.body if kind == "variable" else self.without_depends_on(block)
            table[labels[0]] = self.merge_decl(decl, block, merge_body(decl.block.body, over,
                                                                       keep_blocks=kind != "module"))
            if kind == "variable":
                self.check_default(table[labels[0]].block, block)
        elif kind == "locals":
            for name, attr in block.body.attributes.items():
                if name not in config.locals:
                    self.error(attr.line, f"override of local.{name}, which no primary file of the module "
                                          "defines (Terraform rejects it too): the override is ignored")
                    continue
                config.locals[name] = (attr, self.path)
        elif kind == "provider" and len(labels) == 1:
            self.provider(block)
        elif kind == "terraform":
            if {"backend", "cloud"} & ({b.type for b in block.body.blocks} | set(block.body.attributes)):
                config.backend = True  # a backend or cloud block replaces the original's
        elif kind in _NOT_IN_OVERRIDES:
            self.error(block.line, f"{_NOT_IN_OVERRIDES[kind]} can appear only in normal files, not in override "
                                   "files (Terraform rejects it too): ignored")

    def provider(self, block: ast.Block) -> None:
        from ecr_lint.loaders.module import Decl

        alias = _alias(block)
        providers = self.config.providers
        index = next((i for i, d in enumerate(providers)
                      if d.block.labels == block.labels and _alias(d.block) == alias), None)
        if index is not None:
            providers[index] = self.merge_decl(providers[index], block,
                                               merge_body(providers[index].block.body, block.body))
        elif alias is None:
            # Terraform: an absent default configuration is an empty one, which this overrides.
            providers.append(Decl(block, self.path, (SourceSpan(self.path, block.line, block.end_line),)))
        else:
            self.missing(block, f'provider "{block.labels[0]}" with alias "{alias}"')

    def check_default(self, merged: ast.Block, override: ast.Block) -> None:
        """Terraform converts the default to the (possibly overridden) type: a literal default that
        a primitive type cannot take is an error at the override."""
        type_attr = merged.body.attributes.get("type")
        default = merged.body.attributes.get("default")
        if type_attr is None or default is None or not isinstance(type_attr.expr, ast.Name) \
                or not isinstance(default.expr, ast.Lit):
            return
        wanted, value = type_attr.expr.name, default.expr.value
        if value is None or _converts(value, wanted):
            return
        self.error(override.line, f'variable "{override.labels[0]}": its default {value!r} is not a valid '
                                  f"{wanted} once the override is merged (Terraform rejects it too)")


def _converts(value: object, wanted: str) -> bool:
    """Whether Terraform converts a literal to a primitive type (other types are not judged here)."""
    if wanted == "string":
        return isinstance(value, (str, int, float, bool))
    if wanted == "number":
        if isinstance(value, bool):
            return False
        return isinstance(value, (int, float)) or re.fullmatch(r"-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?", str(value)) is not None
    if wanted == "bool":
        return isinstance(value, bool) or value in ("true", "false")
    return True


def _alias(block: ast.Block) -> str | None:
    attr = block.body.attributes.get("alias")
    return attr.expr.value if attr is not None and isinstance(attr.expr, ast.Lit) else None


def apply(config: "ModuleConfig", body: ast.Body, path: str) -> None:
    """Merge one override file's blocks into a module's declarations, in file order."""
    merger = _Merger(config, path)
    for block in body.blocks:
        merger.block(block)


def split_names(names: list[str]) -> tuple[list[str], list[str], list[tuple[str, str]]]:
    """A module directory's configuration files, as OpenTofu picks them: (primary names, override
    names, (shadowed, by) pairs), each list sorted. Hidden files are not configuration. `x.tofu`
    replaces `x.tf` (and `x.tofu.json` replaces `x.tf.json`); Terraform itself reads no `.tofu`
    file, so where both exist the shadowed `.tf` file is reported (see module.py)."""
    files = sorted(n for n in names if suffix_of(n) and not n.startswith("."))
    present = set(files)
    shadowed = [(n, n[: -len(suffix_of(n))] + suffix_of(n).replace(".tf", ".tofu")) for n in files
                if suffix_of(n) in (".tf", ".tf.json")]
    shadowed = [(n, by) for n, by in shadowed if by in present]
    hidden = {n for n, _ in shadowed}
    kept = [n for n in files if n not in hidden]
    return [n for n in kept if not is_override(n)], [n for n in kept if is_override(n)], shadowed
