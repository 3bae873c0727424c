"""python-hcl2's Lark parser, ready in about 20 ms instead of 100.

python-hcl2 builds its parser from Lark's own cache (`hcl2/.lark_cache.bin`), which holds the
grammar's analysis, not the parser: rebuilding the parse table, the rules and the lexers takes
about 100 ms, a third of linting one stack cold and the fixed cost of every worker process. We
keep the built parser itself, pickled, beside this module, as Lark keeps its cache beside
python-hcl2: it is trusted like the installed code next to it, never like the user cache
directory, whose entries are JSON only.

The file is keyed by the versions of Python, Lark, python-hcl2 and its own format. It is written
only after the unpickled copy has parsed a sample exactly as the parser it came from; a missing,
stale, unreadable or unwritable file means the ordinary way, never an error.
"""

from __future__ import annotations

import functools
import importlib
import io
import os
import pickle
import sys
import tempfile
import types
from typing import Any

FORMAT = "1"
_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), ".hcl2_parser.pickle")

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
    return _parser()


@functools.lru_cache(maxsize=1)
def _parser() -> Any:
    key = _key()
    loaded = _load(key)
    if loaded is not None:
        return loaded
    from hcl2.parser import parser as build

    built = build()
    _store(built, key)
    return built


def _key() -> bytes:
    import hcl2
    import lark

    return f"ecr-lint parser {FORMAT} python {sys.version_info[:3]} lark {lark.__version__} " \
           f"python-hcl2 {hcl2.__version__}\n".encode()


def _load(key: bytes) -> Any:
    try:
        with open(_PATH, "rb") as handle:
            if handle.readline() != key:
                return None
            return pickle.load(handle)
    except Exception:  # missing, stale, truncated by a crash: build it the ordinary way
        return None


def _store(built: Any, key: bytes) -> None:
    try:
        data = _dumps(built)
        copy = pickle.loads(data)
        if _shape(copy.parse(SAMPLE)) != _shape(built.parse(SAMPLE)):
            return  # Lark changed in a way the pickle does not carry: keep building it
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(_PATH), prefix=".hcl2_parser.")
        with os.fdopen(fd, "wb") as handle:
            handle.write(key + data)
        os.replace(tmp, _PATH)  # atomic: a concurrent run sees the old file or the new one
    except Exception:  # a read-only installation, or an object that does not pickle
        return


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
