"""Output formats: one small module per format, each `render(report, ...) -> str`.

A format whose output can be large (json, sarif) also has `chunks(report, ...)`, so the CLI
writes it piece by piece instead of holding the whole text as one more copy in memory.
"""

from __future__ import annotations

import importlib
from typing import Iterable

FORMATS = ("text", "json", "sarif", "github", "junit", "gitlab")


def chunks(report, fmt: str, **options) -> Iterable[str]:
    module = importlib.import_module(f"ecr_lint.reporters.{fmt}")
    if hasattr(module, "chunks"):
        return module.chunks(report, **options)
    return (module.render(report, **options),)


def render(report, fmt: str, **options) -> str:
    return "".join(chunks(report, fmt, **options))
