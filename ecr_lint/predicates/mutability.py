"""ECR003: production repositories have immutable tags."""

from __future__ import annotations

from typing import Any, Iterator

from ecr_lint.hcl.evaluate import plain
from ecr_lint.model import Resource, Status, Unknown, Verdict
from ecr_lint.predicates.common import blocks, fail, passed, unknown
from ecr_lint.predicates.environment import production_of
from ecr_lint.sensitive import shown


RELEASE_TAGS = ("v1.2.3", "1.2.3", "v1.2.3-rc.1", "release-1.2.3")


def _matches_release_tag(pattern: str) -> bool:
    import fnmatch

    return any(fnmatch.fnmatchcase(tag, pattern) for tag in RELEASE_TAGS)


def immutable_in_production(resource: Resource, ctx: Any) -> Iterator[Verdict]:
    env = production_of(resource, ctx)
    if env.production is False:
        yield passed(f"{env.label} is not production")
        return
    label = env.label if env.production else f"whatever the environment is ({env.label})"
    verdict = _mutability_in_production(resource, label)
    if env.production is None and verdict.status is Status.FAIL:  # immutable tags pass whatever the environment
        verdict = unknown(f"cannot tell whether this is production: {env.label}", "image_tag_mutability")
    yield verdict


def _mutability_in_production(resource: Resource, label: str) -> Verdict:
    mutability = plain(resource.attributes.get("image_tag_mutability", "MUTABLE"))
    if isinstance(mutability, Unknown):
        return unknown(f"image_tag_mutability is unknown: {mutability.reason}", "image_tag_mutability")
    if mutability == "IMMUTABLE":
        return passed(f"IMMUTABLE, {label}", "image_tag_mutability")
    if mutability == "IMMUTABLE_WITH_EXCLUSION":
        filters = [plain(f.get("filter")) for f in blocks(resource.attributes, "image_tag_mutability_exclusion_filter")]
        if any(isinstance(f, Unknown) for f in filters):
            return unknown("an exclusion filter is unknown", "image_tag_mutability")
        wide = next((f for f in filters if isinstance(f, str) and _matches_release_tag(f)), None)
        if wide is not None:
            return fail(f"IMMUTABLE_WITH_EXCLUSION filter {wide!r} makes release tags (v1.2.3) mutable again, {label}",
                        "image_tag_mutability")
        return passed(f"IMMUTABLE_WITH_EXCLUSION ({', '.join(map(shown, filters))}), {label}", "image_tag_mutability")
    return fail(f'image_tag_mutability = "{mutability}" in production ({label}): tags can be overwritten',
                "image_tag_mutability")
