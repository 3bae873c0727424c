"""Read one Terraform module directory into its declarations: its .tf, .tf.json, .tofu and
.tofu.json files (as OpenTofu picks them, override.py), then its override files merged in."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from typing import Any, Callable

from ecr_lint.hcl import syntax as ast
from ecr_lint.loaders import override
from ecr_lint.loaders.files import MAX_FILE_BYTES, Refused, Roots, as_roots, describe, read_file
from ecr_lint.loaders.reader import Reader, Record
from ecr_lint.hcl.syntax import HclSyntaxError, parse_hcl, parse_template
from ecr_lint.model import InputError, SourceSpan


@dataclass
class Decl:
    """A declaration (resource, variable, module call...) and where it is."""

    block: ast.Block
    file: str
    overrides: tuple[SourceSpan, ...] = ()   # the override blocks merged into it, in order


@dataclass
class ModuleConfig:
    directory: str
    files: list[str] = field(default_factory=list)
    variables: dict[str, Decl] = field(default_factory=dict)
    locals: dict[str, tuple[ast.Attribute, str]] = field(default_factory=dict)
    resources: list[Decl] = field(default_factory=list)   # managed and data, in file order
    resource_index: dict[tuple, int] = field(default_factory=dict)  # (block type, labels) -> its place in resources
    outputs: dict[str, Decl] = field(default_factory=dict)
    modules: dict[str, Decl] = field(default_factory=dict)
    providers: list[Decl] = field(default_factory=list)
    backend: bool = False          # a `terraform { backend/cloud }` block: only a root module has one
    shadowed: list[tuple[str, str]] = field(default_factory=list)  # (x.tf, x.tofu): OpenTofu reads only the second
    errors: list[InputError] = field(default_factory=list)
    comments: dict[str, tuple] = field(default_factory=dict)   # file -> Body.comments
    outline: dict[str, tuple] = field(default_factory=dict)    # file -> top-level blocks (line, end, type, labels)
    annotations: list | None = None   # suppression comments and their blocks (suppress.py), computed once
    record: Record = field(default_factory=Record)          # what was read, for the result cache

    def resource_at(self, kind: str, labels: tuple) -> int | None:
        """Where the `resource`/`data` block with these labels is in `resources` (a dict: a module
        with thousands of blocks is not searched once per block)."""
        return self.resource_index.get((kind, tuple(labels)))


def module_files(directory: str) -> list[str]:
    """The configuration files a module directory is read from: primary files, then override files."""
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    primary, overrides, _ = override.split_names(names)
    return [os.path.join(directory, n) for n in primary + overrides]


def read_bytes(path: str, limit: int = MAX_FILE_BYTES, roots: "Roots | list[str] | None" = None) -> bytes:
    """A source file's bytes through the reading gate (ValueError/OSError with a clear reason).
    Give the reading roots; without them, the caller vouches for where the file is, and the gate
    still reads only a regular file, at most `limit` bytes."""
    return read_file(path, Roots((), [path]) if roots is None else as_roots(roots), limit)[0]


def decode_text(raw: bytes) -> str:
    if b"\x00" in raw[:8192]:
        raise ValueError("binary file (contains NUL bytes), not Terraform")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise ValueError(f"not UTF-8 text (byte {exc.start}, line {line})") from None


def within(path: str, roots: list[str]) -> bool:
    return as_roots(roots).admits(os.path.realpath(path))


def reading_roots(paths: list[str]) -> list[str]:
    """What ecr-lint may read: the linted paths and the git repositories that hold them
    (stacks call `../../modules/x`), never beyond, whatever symlinks say; a `.git` planted in a
    directory anyone may write to (/tmp on a shared runner) makes no repository."""
    from ecr_lint.config import repository_root

    roots: list[str] = []
    for path in paths:
        real = os.path.realpath(path if os.path.isdir(path) else os.path.dirname(path) or ".")
        roots.append(real)
        repository = repository_root(real)
        if repository:
            roots.append(repository)
    return sorted(set(roots))


def load_module(directory: str, parse_file: Callable[[str, bytes], ast.Body] | None = None,
                roots: "Roots | list[str] | None" = None, max_bytes: int = MAX_FILE_BYTES) -> ModuleConfig:
    """A module directory's declarations; every file is read through the gate (inside `roots`,
    by default the directory and its git repository), and what was read is kept in `record`."""
    config = ModuleConfig(directory)
    reader = Reader(reading_roots([directory]) if roots is None else roots)
    config.record = reader.record
    try:
        names = reader.list_dir(directory)
    except Refused as exc:
        config.errors.append(InputError(directory, 0, str(exc)))
        return config
    except OSError:
        return config
    primary, overrides, shadowed = override.split_names(names)
    config.shadowed = [(os.path.join(directory, a), os.path.join(directory, b)) for a, b in shadowed]
    # Override files are merged after every primary file, in name order (as Terraform does).
    for name in primary + overrides:
        path = os.path.join(directory, name)
        config.files.append(path)
        try:
            body = (parse_file or parse_text)(path, reader.read_bytes(path, max_bytes))
        except HclSyntaxError as exc:
            config.errors.append(InputError(path, exc.line, exc.message))
            continue
        except (OSError, ValueError) as exc:
            config.errors.append(InputError(path, 0, describe(exc)))
            continue
        except RecursionError:
            config.errors.append(InputError(path, 0, "nested too deeply to parse"))
            continue
        _note_file(config, body, path)
        if override.is_override(name):
            override.apply(config, body, path)
        else:
            _declare(config, body, path)
    return config


def parse_text(path: str, raw: bytes) -> ast.Body:
    text = decode_text(raw)
    if path.endswith(".json"):
        return parse_json_config(text)
    if not text.strip():
        return ast.Body({}, ())
    return parse_hcl(text)


def _note_file(config: ModuleConfig, body: ast.Body, path: str) -> None:
    """What every file contributes besides its declarations: comments (suppressions) and errors."""
    if body.comments:
        config.comments[path] = body.comments
        config.outline[path] = tuple((b.line, b.end_line, b.type, b.labels) for b in body.blocks)
    for name, line in body.duplicates:
        config.errors.append(InputError(path, line, f'attribute "{name}" is defined twice'))


def _declare(config: ModuleConfig, body: ast.Body, path: str) -> None:
    for block in body.blocks:
        kind, labels = block.type, block.labels
        if kind in ("resource", "data"):
            if len(labels) != 2:
                config.errors.append(InputError(path, block.line, f"a {kind} block needs two labels (type and name)"))
                continue
            at = config.resource_at(kind, labels)
            first = config.resources[at] if at is not None else None
            if not _twice(config, first, block, path, f"{'data.' if kind == 'data' else ''}{labels[0]}.{labels[1]}"):
                config.resource_index[(kind, tuple(labels))] = len(config.resources)
                config.resources.append(Decl(block, path))
        elif kind == "variable" and len(labels) == 1:
            if not _twice(config, config.variables.get(labels[0]), block, path, f'variable "{labels[0]}"'):
                config.variables[labels[0]] = Decl(block, path)
        elif kind == "locals":
            for attr in block.body.attributes.values():
                config.locals[attr.name] = (attr, path)
        elif kind == "output" and len(labels) == 1:
            config.outputs[labels[0]] = Decl(block, path)
        elif kind == "module" and len(labels) == 1:
            if not _twice(config, config.modules.get(labels[0]), block, path, f'module "{labels[0]}"'):
                config.modules[labels[0]] = Decl(block, path)
        elif kind == "provider" and len(labels) == 1:
            config.providers.append(Decl(block, path))
        elif kind == "terraform" and ({"backend", "cloud"} & ({b.type for b in block.body.blocks}
                                                              | set(block.body.attributes))):  # .tf.json: attributes
            config.backend = True


def _twice(config: ModuleConfig, first: Decl | None, block: ast.Block, path: str, what: str) -> bool:
    """A second declaration of the same thing is an input error, as in Terraform; it is ignored."""
    if first is None:
        return False
    config.errors.append(InputError(path, block.line, f"{what} is declared twice (first at "
                                    f"{os.path.basename(first.file)}:{first.block.line}); this one is ignored"))
    return True


# --- Terraform's JSON configuration syntax -------------------------------------------


class _RepeatedKey(ValueError):
    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def _once(pairs: list) -> dict:
    seen: dict = {}
    for key, value in pairs:
        if key in seen:
            raise _RepeatedKey(key)
        seen[key] = value
    return seen


def load_json_once(text: str) -> Any:
    """JSON whose objects name each key once. json.loads keeps the last of a repeated key, while
    Terraform merges repeated block keys (two "resource" objects: both created) or rejects repeated
    arguments: reading either way silently would let a hidden first "resource" through. An error
    naming the key and the line of its second occurrence (HclSyntaxError), never a guess."""
    try:
        return json.loads(text, object_pairs_hook=_once)
    except _RepeatedKey as exc:
        found = [m.start() for m in re.finditer(re.escape(json.dumps(exc.key)) + r"\s*:", text)]
        line = text.count("\n", 0, found[1]) + 1 if len(found) > 1 else 0
        raise HclSyntaxError(f"the key {json.dumps(exc.key)} appears twice in one JSON object: Terraform merges "
                             "repeated block keys and rejects repeated arguments, ecr-lint reads neither; write "
                             "it once", line) from None
    except ValueError as exc:
        raise HclSyntaxError(f"invalid JSON: {getattr(exc, 'msg', exc)}", getattr(exc, "lineno", 0)) from None


def parse_json_config(text: str) -> ast.Body:
    data = load_json_once(text)
    if not isinstance(data, dict):
        raise HclSyntaxError("a JSON configuration file must hold a JSON object")
    blocks: list[ast.Block] = []
    label_counts = {"resource": 2, "data": 2, "variable": 1, "output": 1, "module": 1, "provider": 1,
                    "locals": 0, "terraform": 0}
    for kind, value in data.items():
        if kind not in label_counts:
            continue
        for labels, content in _json_labelled(value, label_counts[kind]):
            for item in content if isinstance(content, list) else [content]:
                if isinstance(item, dict):
                    blocks.append(ast.Block(kind, labels, _json_body(item), 0, 0))
    return ast.Body({}, tuple(blocks))


def _json_labelled(value: Any, depth: int, labels: tuple = ()) -> list[tuple[tuple, Any]]:
    if depth == 0:
        return [(labels, value)]
    out = []
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, dict):
            for key, inner in item.items():
                out.extend(_json_labelled(inner, depth - 1, labels + (key,)))
    return out


def _json_body(obj: dict) -> ast.Body:
    attributes = {k: ast.Attribute(k, _json_expr(v), 0) for k, v in obj.items() if k != "//"}
    return ast.Body(attributes, ())


def _json_expr(value: Any) -> ast.Node:
    if isinstance(value, str):
        return parse_template(value) if ("${" in value or "%{" in value) else ast.Lit(value)
    if isinstance(value, list):
        return ast.TupleExpr(tuple(_json_expr(v) for v in value))
    if isinstance(value, dict):
        return ast.ObjectExpr(tuple((ast.Lit(k), _json_expr(v)) for k, v in value.items() if k != "//"))
    return ast.Lit(value)
