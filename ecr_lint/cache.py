"""On-disk caches under the user cache directory: parsed files, and whole stacks' results.

Entries are JSON, never pickle: a corrupt or foreign entry can at worst fail to decode, and
is then ignored and rewritten. Writes go through a temporary file and os.replace, so
concurrent runs never see half an entry. The directory is kept under a size bound.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import tempfile
from typing import Any

from ecr_lint import __version__
from ecr_lint.loaders import syntax as ast

FORMAT = 1
MAX_BYTES = 256 * 1024 * 1024


def cache_root() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "ecr-lint", f"v{FORMAT}")


@functools.lru_cache(maxsize=1)
def _hcl2_version() -> str:
    """python-hcl2's version, for the parse cache key, without importing it (it loads Lark) or
    importlib.metadata (18 ms): the text of its version module and grammar identify the parser."""
    import importlib.util

    spec = importlib.util.find_spec("hcl2")
    if spec is None or not spec.submodule_search_locations:
        return "missing"
    digest = hashlib.sha256()
    for name in ("version.py", "hcl2.lark"):
        try:
            with open(os.path.join(spec.submodule_search_locations[0], name), "rb") as handle:
                digest.update(handle.read())
        except OSError:
            digest.update(name.encode())
    return digest.hexdigest()[:16]


class Store:
    """A content-addressed directory of JSON entries."""

    def __init__(self, root: str | None = None, max_bytes: int = MAX_BYTES):
        self.root = root or cache_root()
        self.max_bytes = max_bytes

    def _path(self, kind: str, key: str) -> str:
        return os.path.join(self.root, kind, key[:2], key[2:] + ".json")

    def get(self, kind: str, key: str) -> Any:
        try:
            with open(self._path(kind, key), encoding="utf-8") as handle:
                entry = json.load(handle)
        except (OSError, ValueError, RecursionError):
            return None
        if not isinstance(entry, dict) or entry.get("key") != key or entry.get("tool") != __version__:
            return None  # foreign or stale: ignored, and rewritten by the caller
        return entry.get("data")

    def put(self, kind: str, key: str, data: Any) -> None:
        path = self._path(kind, key)
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                # dumps, not dump: dump to a file uses the pure-Python encoder (10x slower)
                handle.write(json.dumps({"key": key, "tool": __version__, "data": data}, separators=(",", ":")))
            os.replace(tmp, path)
        except OSError:
            pass  # a cache that cannot be written is only slower, never wrong

    def prune(self) -> None:
        """Keep the cache under its size bound, dropping the least recently used entries."""
        entries = []
        total = 0
        for current, _, files in os.walk(self.root):
            for name in files:
                path = os.path.join(current, name)
                try:
                    stat = os.stat(path)
                except OSError:
                    continue
                if name.endswith(".tmp") and stat.st_mtime < _now() - 3600:
                    _remove(path)  # left by a run that was killed mid-write
                    continue
                entries.append((max(stat.st_atime, stat.st_mtime), stat.st_size, path))
                total += stat.st_size
        if total <= self.max_bytes:
            return
        for _, size, path in sorted(entries):
            _remove(path)
            total -= size
            if total <= self.max_bytes * 0.8:
                break


def _now() -> float:
    import time

    return time.time()


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except OSError:
        pass


# --- parsed files ---------------------------------------------------------------------------

_NODE_TYPES = {cls.__name__: cls for cls in (
    ast.Lit, ast.Template, ast.TIf, ast.TFor, ast.Name, ast.GetAttr, ast.Index, ast.Splat, ast.Call,
    ast.TupleExpr, ast.ObjectExpr, ast.Cond, ast.BinOp, ast.UnOp, ast.ForExpr, ast.Attribute, ast.Block, ast.Body)}


def encode(value: Any) -> Any:
    """AST -> JSON: nodes as {"n": type, "f": [fields]}, tuples as {"t": [...]}, dicts as {"d": [...]}."""
    if dataclasses.is_dataclass(value):
        return {"n": type(value).__name__, "f": [encode(getattr(value, f.name)) for f in dataclasses.fields(value)]}
    if isinstance(value, tuple):
        return {"t": [encode(v) for v in value]}
    if isinstance(value, dict):
        return {"d": [[k, encode(v)] for k, v in value.items()]}
    if isinstance(value, list):
        return {"l": [encode(v) for v in value]}
    return value


def decode(value: Any) -> Any:
    """JSON -> AST, accepting only the AST's own node types (anything else raises)."""
    if isinstance(value, dict):
        if "n" in value:
            return _NODE_TYPES[value["n"]](*[decode(v) for v in value["f"]])
        if "t" in value:
            return tuple(decode(v) for v in value["t"])
        if "d" in value:
            return {k: decode(v) for k, v in value["d"]}
        if "l" in value:
            return [decode(v) for v in value["l"]]
        raise ValueError("not an encoded AST")
    if isinstance(value, list):
        raise ValueError("not an encoded AST")
    return value


def parse_key(path: str, content: bytes) -> str:
    digest = hashlib.sha256()
    digest.update(f"ecr-lint {__version__} hcl2 {_hcl2_version()} {os.path.splitext(path)[1]}\0".encode())
    digest.update(content)
    return digest.hexdigest()


class ParseCache:
    """parse_source, remembered by content hash."""

    def __init__(self, store: Store):
        self.store = store

    def __call__(self, path: str, max_bytes: int) -> ast.Body:
        from ecr_lint.loaders.config import parse_text, read_bytes

        raw = read_bytes(path, max_bytes)
        key = parse_key(path, raw)
        cached = self.store.get("ast", key)
        if cached is not None:
            try:
                body = decode(cached)
                if isinstance(body, ast.Body):
                    return body
            except (KeyError, TypeError, ValueError, RecursionError):
                pass  # corrupt: parse again and rewrite
        body = parse_text(path, raw)
        try:
            self.store.put("ast", key, encode(body))
        except RecursionError:
            pass
        return body
