"""ECR000: what the loader could not see into is reported, never skipped in silence."""

from __future__ import annotations

from typing import Any, Iterator

from ecr_lint.model import Status, Verdict


def unresolved_inputs(stack: Any, ctx: Any) -> Iterator[Any]:
    from ecr_lint.engine import Located

    for item in stack.unresolved:
        yield Located(item.address, item.file, item.line, Verdict(Status.UNKNOWN, item.reason))
