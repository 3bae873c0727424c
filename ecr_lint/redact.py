"""Values a plan marks sensitive never reach any output: they are masked in every message."""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any, Iterable

from ecr_lint.model import Ref

MASK = "(sensitive)"


def secrets_of(values: Iterable[Any]) -> set[str]:
    from ecr_lint.loaders.plan import Sensitive

    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, Ref):
            walk(value.value)
        elif isinstance(value, Sensitive):
            text = str.__str__(value)
            found.add(text)
            try:  # a sensitive JSON document: its parts are secret too
                walk_plain(json.loads(text))
            except (ValueError, RecursionError):
                pass
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    def walk_plain(value: Any) -> None:
        if isinstance(value, str) and len(value) >= 4:
            found.add(value)
        elif isinstance(value, dict):
            for v in value.values():
                walk_plain(v)
        elif isinstance(value, list):
            for v in value:
                walk_plain(v)

    for value in values:
        walk(value)
    # Checks quote parts of values (an account id out of an ARN): mask the identifying pieces too.
    pieces = set()
    for secret in found:
        for piece in re.split(r"[:/,\"'=\s@]+", secret):
            if (piece.isdigit() and len(piece) >= 6) or len(piece) >= 12:
                pieces.add(piece)
    return {s for s in found | pieces if s and s != MASK}


def mask(text: str, secrets: set[str]) -> str:
    for secret in sorted(secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def redact(items: list, secrets: set[str]) -> list:
    if not secrets:
        return items
    return [dataclasses.replace(item, message=mask(item.message, secrets)) for item in items]
