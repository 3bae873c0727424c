"""Output formats: one small module per format, each `render(report, ...) -> str`."""

from __future__ import annotations

import importlib

FORMATS = ("text", "json", "sarif", "github")


def render(report, fmt: str, **options) -> str:
    return importlib.import_module(f"ecr_lint.reporters.{fmt}").render(report, **options)
