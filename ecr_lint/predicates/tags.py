"""ECR007: the governance tags are on every resource that takes tags."""

from __future__ import annotations

from typing import Any, Iterator

from ecr_lint.hcl.evaluate import plain
from ecr_lint.model import Resource, Unknown, Verdict
from ecr_lint.predicates.common import fail, passed, unknown

# Types whose `tags` argument selects other resources instead of tagging this one.
NOT_OWN_TAGS = {"aws_inspector_resource_group"}


def required_tags(resource: Resource, ctx: Any) -> Iterator[Verdict]:
    if resource.type in NOT_OWN_TAGS:
        yield passed("its tags select resources; it has no tags of its own")
        return
    tags = plain(resource.attributes.get("tags_all", resource.attributes.get("tags")))
    if isinstance(tags, Unknown):
        # tags_all holds at least the resource's own tags: when those already have every required
        # tag, whatever the provider adds cannot take one away.
        own = plain(resource.attributes.get("tags"))
        if isinstance(own, dict) and all(isinstance(plain(own.get(n)), str) and plain(own.get(n)).strip()
                                         for n in ctx.config.required_tags):
            yield passed("all required tags present in the resource's own tags", "tags")
            return
        yield unknown(f"tags are unknown: {tags.reason}", "tags")
        return
    tags = tags if isinstance(tags, dict) else {}
    missing, empty, undecided = [], [], []
    for name in ctx.config.required_tags:
        if name not in tags:
            missing.append(name)
            continue
        value = plain(tags[name])
        if isinstance(value, Unknown):
            undecided.append(f"{name} ({value.reason})")
        elif value is None or (isinstance(value, str) and not value.strip()):
            empty.append(name)
    if missing or empty:
        parts = []
        if missing:
            parts.append("missing " + ", ".join(missing))
        if empty:
            parts.append("empty " + ", ".join(empty))
        yield fail("required tags " + "; ".join(parts) + " (provider default_tags included)", "tags",
                   ((missing or empty)[0],))
    elif undecided:
        yield unknown("tag values unknown: " + "; ".join(undecided), "tags")
    else:
        yield passed("all required tags present", "tags")
