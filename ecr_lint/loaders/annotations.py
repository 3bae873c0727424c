"""Comments that may be suppressions, each with the block it belongs to (from the parsed files)."""

from __future__ import annotations

from dataclasses import dataclass

BLOCK_KINDS = ("resource", "data", "module")


@dataclass(frozen=True)
class Annotation:
    """A comment that may be a suppression, and the block it belongs to."""

    file: str
    line: int
    text: str
    block: tuple | None   # (first line, last line, kind) of the resource/data/module block, or None
    at_start: bool = False  # before the file's first block (where KICS reads its file-level commands)


def annotations_of(config) -> list[Annotation]:
    """The annotation comments of a parsed module directory (loaders.module.ModuleConfig),
    each with its block; computed once per configuration."""
    if config.annotations is None:
        found = []
        for file, comments in config.comments.items():
            outline = config.outline.get(file, ())
            comment_lines = {n for first, last, _ in comments for n in range(first, last + 1)}
            first_block = min((b[0] for b in outline), default=None)
            for first, last, text in comments:
                if text:
                    found.append(Annotation(file, first, text, _block_of(first, last, outline, comment_lines),
                                            first_block is None or last < first_block))
        config.annotations = found
    return config.annotations


def _block_of(first: int, last: int, outline: tuple, comment_lines: set[int]) -> tuple | None:
    for start, end, kind, _ in outline:
        if start <= first <= end:
            return (start, end, kind) if kind in BLOCK_KINDS else None
    following = [b for b in outline if b[0] > last]
    if not following:
        return None
    start, end, kind, _ = min(following)
    if all(n in comment_lines for n in range(last + 1, start)):
        return (start, end, kind) if kind in BLOCK_KINDS else None
    return None
