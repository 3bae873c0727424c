"""python-hcl2's Lark parser, ready in about 20 ms instead of 55, kept built in the user cache.

python-hcl2 builds its parser from Lark's own cache (`hcl2/.lark_cache.bin`), which holds the
grammar's analysis, not the parser: rebuilding the parse table, the rules and the lexers costs
about 55 ms of CPU in every process that parses (a fifth of linting one stack cold, and a fixed
cost of every worker). We keep the built parser itself, pickled, in the run's cache (cache.Store,
under the user cache directory) as a signed bytes entry. A pickle is code: it is unpickled only
when its HMAC under this user's cache key verifies, so nobody but the user can plant one.

Never beside this module: a tool must not write into its own installation (pip does not know
such a file, so `pip uninstall` left it, and the `ecr_lint/` folder holding it then shadowed the
next, editable, install). No cache (`--no-cache`, a cache directory that is not trusted or cannot
be written, api.lint without a cache), a missing, stale or corrupt entry: python-hcl2's own way,
never an error.

The entry is keyed by the versions of ecr-lint, Python, Lark and python-hcl2, a digest of
python-hcl2's grammar and parser options, and its own format. It is written only after the
unpickled copy has parsed a sample exactly as the parser it came from.
"""

from __future__ import annotations

import hashlib
import importlib
import io
import os
import pickle
import sys
import types
import weakref
from typing import Any

FORMAT = "2"  # 2: a signed entry of the user cache, no longer a file beside the code
KIND = "parser"

_built: Any = None
_store: "weakref.ref | None" = None  # the cache of the run that parses (set by cache.ParseCache)


def keep_in(store: Any) -> None:
    """Keep the built parser in `store` (a cache.Store) from now on; None: in no cache."""
    global _store
    _store = weakref.ref(store) if store is not None else None


def forget() -> None:
    """Drop the parser this process holds (tests; the next parser() loads or builds it again)."""
    global _built
    _built = None


# Every construct of the grammar python-hcl2 reads, for the check before a pickle is kept.
SAMPLE = r'''
# comment
// comment
/* block
   comment */
terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = "~> 5.0" }
  }
}
locals {
  a      = 1 + 2 * 3 - -4 / 5 % 6
  b      = !true && false || null == null ? "yes" : "no"
  c      = [for k, v in var.m : upper(v) if k != "x"]
  d      = { for k, v in var.m : k => v... }
  e      = aws_s3_bucket.b[*].arn
  f      = aws_s3_bucket.b.*.id
  g      = var.list[0].name["key"]
  h      = "${var.x}-%{if var.y}on%{else}off%{endif}-%{for i in var.z}${i},%{endfor}"
  i      = <<-EOT
    indented ${var.x}
  EOT
  j      = <<EOT
raw $${not} %%{not}
EOT
  k      = 1.5e3 >= 2 && 3 <= 4 && 5 > 6 && 7 < 8
  l      = jsonencode({ a = [1, 2], "b" = { c = null } })
  m      = provider::aws::arn_parse("arn:aws:iam::123456789012:root")
  n      = (var.a)
  o      = var.a
    + var.b
}
resource "aws_ecr_repository" "r" {
  count = 2
  name  = "r-${count.index}"
  dynamic "encryption_configuration" {
    for_each = var.kms == null ? [] : [var.kms]
    content {
      kms_key = encryption_configuration.value
    }
  }
  lifecycle { ignore_changes = [tags] }
}
module "m" { source = "./m" }
'''


def parser() -> Any:
    """The Lark parser python-hcl2 uses (the same object, however it was obtained)."""
    global _built
    if _built is None:
        store = _store() if _store is not None else None
        _built = _obtain(store if store is not None and store.root else None)
    return _built


def _obtain(store: Any) -> Any:
    from hcl2.parser import parser as build

    key = _key() if store is not None else None
    if key is not None:
        data = store.get_bytes(KIND, key)
        if data is not None:  # signed by this user's ecr-lint: as trusted as the user's own files
            try:
                return pickle.loads(data)
            except Exception:  # noqa: BLE001: a Lark that cannot take its own pickle: build it
                pass
    built = build()
    if key is not None:
        _put(built, store, key)
    return built


def _key() -> str | None:
    """A digest of the versions, of python-hcl2's grammar and of how python-hcl2 builds its parser
    (a patched or git-installed python-hcl2 may keep its version number); None if unreadable."""
    import hcl2
    import lark

    from ecr_lint import __version__

    digest = hashlib.sha256(f"ecr-lint {__version__} parser {FORMAT} python {sys.version_info[:3]} "
                            f"lark {lark.__version__} python-hcl2 {hcl2.__version__}\0".encode())
    try:
        for name in ("hcl2.lark", "parser.py"):
            with open(os.path.join(os.path.dirname(hcl2.__file__), name), "rb") as handle:
                digest.update(handle.read())
    except OSError:
        return None  # no key, no cached parser: python-hcl2's way
    return digest.hexdigest()


def _put(built: Any, store: Any, key: str) -> None:
    try:
        data = _dumps(built)
        if _shape(pickle.loads(data).parse(SAMPLE)) != _shape(built.parse(SAMPLE)):
            return  # Lark changed in a way the pickle does not carry: keep building it
    except Exception:  # noqa: BLE001: an object that does not pickle: python-hcl2's way it is
        return
    store.put_bytes(KIND, key, data)


def _dumps(built: Any) -> bytes:
    from lark.parsers import lalr_analysis

    singletons = {id(lalr_analysis.Shift): "Shift", id(lalr_analysis.Reduce): "Reduce"}

    class Pickler(pickle.Pickler):
        def reducer_override(self, obj):
            if isinstance(obj, types.ModuleType):  # Lark keeps the `re` module it uses
                return importlib.import_module, (obj.__name__,)
            if id(obj) in singletons:  # the parser tests `action is Shift`: keep the identity
                return getattr, (lalr_analysis, singletons[id(obj)])
            return NotImplemented

    buffer = io.BytesIO()
    Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(built)
    return buffer.getvalue()


def _shape(tree: Any) -> list:
    """Everything of a parse tree the AST builder reads: rules, tokens, their text and place."""
    from lark import Token, Tree

    out: list = []
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, Tree):
            meta = node.meta if not node.meta.empty else None
            out.append((node.data, meta and (meta.line, meta.column, meta.end_line, meta.end_column)))
            stack.extend(reversed(node.children))
        elif isinstance(node, Token):
            out.append((node.type, str(node), node.line, node.column, node.end_line, node.end_column))
        else:
            out.append(node)
    return out
