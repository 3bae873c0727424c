"""python-hcl2's Lark parser, ready in about 13 ms instead of 55.

python-hcl2 builds its parser from Lark's own cache (`hcl2/.lark_cache.bin`), which holds the
grammar's analysis, not the parser: rebuilding the parse table, the rules and the lexers costs
about 55 ms of CPU in every process that parses (a fifth of linting one stack cold, and a fixed
cost of every worker). We keep the built parser itself, pickled, beside this module, as Lark
keeps its cache beside python-hcl2: trusted like the installed code next to it, never like the
user cache directory, whose entries are JSON only.

The file is keyed by the versions of Python, Lark and python-hcl2, a digest of python-hcl2's
grammar and parser options, and its own format. It is written only after the unpickled copy has
parsed a sample exactly as the parser it came from. Missing, stale, unreadable or unwritable
means python-hcl2's own way, never an error. One file per installation: two environments
sharing an editable checkout with different versions rebuild it in turn (correct, only slower).
"""

from __future__ import annotations

import functools
import hashlib
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


@functools.lru_cache(maxsize=1)
def parser() -> Any:
    """The Lark parser python-hcl2 uses (the same object, however it was obtained)."""
    key = _key()
    loaded = _load(key)
    if loaded is not None:
        return loaded
    from hcl2.parser import parser as build

    built = build()
    _store(built, key)
    return built


def _key() -> bytes:
    """Versions, and a digest of the grammar and of how python-hcl2 builds its parser (a patched
    or git-installed python-hcl2 may keep its version number)."""
    import hcl2
    import lark

    digest = hashlib.sha256()
    for name in ("hcl2.lark", "parser.py"):
        with open(os.path.join(os.path.dirname(hcl2.__file__), name), "rb") as handle:
            digest.update(handle.read())
    return f"ecr-lint parser {FORMAT} python {sys.version_info[:3]} lark {lark.__version__} " \
           f"python-hcl2 {hcl2.__version__} {digest.hexdigest()[:16]}\n".encode()


def _load(key: bytes) -> Any:
    try:
        with open(_PATH, "rb") as handle:
            if handle.readline() != key:
                return None
            return pickle.load(handle)
    except Exception:  # missing, stale, truncated by a crash: build it the ordinary way
        return None


def _store(built: Any, key: bytes) -> None:
    directory = os.path.dirname(_PATH)
    if not os.access(directory, os.W_OK):
        return  # a read-only installation: no pickle, and no time spent making one
    tmp = None
    try:
        data = _dumps(built)
        copy = pickle.loads(data)
        if _shape(copy.parse(SAMPLE)) != _shape(built.parse(SAMPLE)):
            return  # Lark changed in a way the pickle does not carry: keep building it
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".hcl2_parser.")
        with os.fdopen(fd, "wb") as handle:
            handle.write(key + data)
        os.chmod(tmp, 0o644)  # readable by every user of the installation, like the code beside it
        os.replace(tmp, _PATH)  # atomic: a concurrent run sees the old file or the new one
        tmp = None
    except Exception:  # an object that does not pickle, a full disk: python-hcl2's way it is
        return
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass


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
