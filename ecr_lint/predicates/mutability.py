"""ECR003: production repositories have immutable tags."""

from __future__ import annotations

from typing import Any, Iterator

from ecr_lint.evaluate import plain
from ecr_lint.model import Resource, Unknown, Verdict
from ecr_lint.predicates.common import blocks, fail, passed, unknown
from ecr_lint.sensitive import shown


RELEASE_TAGS = ("v1.2.3", "1.2.3", "v1.2.3-rc.1", "release-1.2.3")


def _matches_release_tag(pattern: str) -> bool:
    import fnmatch

    return any(fnmatch.fnmatchcase(tag, pattern) for tag in RELEASE_TAGS)


def environment_of(resource: Resource, ctx: Any) -> tuple[Any, str]:
    """(environment, where it came from): config, the Environment tag, then var.environment."""
    if ctx.config.environment:
        return ctx.config.environment, "--environment"
    for attr in ("tags_all", "tags"):
        tags = plain(resource.attributes.get(attr))
        if isinstance(tags, dict) and "Environment" in tags:
            return plain(tags["Environment"]), "the Environment tag"
    variables = ctx.stack.module_variables.get(resource.module, {})
    if "environment" in variables:
        return plain(variables["environment"]), "var.environment"
    return None, "nothing (no Environment tag, no var.environment)"


def immutable_in_production(resource: Resource, ctx: Any) -> Iterator[Verdict]:
    env, source = environment_of(resource, ctx)
    production = {p.lower() for p in ctx.config.production_environments}
    if isinstance(env, str) and env.lower() not in production:
        yield passed(f"environment {env!r} (from {source}) is not production")
        return
    if not isinstance(env, str):
        why = env.reason if isinstance(env, Unknown) else f"environment comes from {source}"
        if ctx.config.unknown_environment != "production":
            yield unknown(f"cannot tell whether this is production: {why}", "image_tag_mutability")
            return
        label = f"unknown environment treated as production ({why})"
    else:
        label = f"environment {env!r} from {source}"
    mutability = plain(resource.attributes.get("image_tag_mutability", "MUTABLE"))
    if isinstance(mutability, Unknown):
        yield unknown(f"image_tag_mutability is unknown: {mutability.reason}", "image_tag_mutability")
    elif mutability == "IMMUTABLE":
        yield passed(f"IMMUTABLE, {label}", "image_tag_mutability")
    elif mutability == "IMMUTABLE_WITH_EXCLUSION":
        filters = [plain(f.get("filter")) for f in blocks(resource.attributes, "image_tag_mutability_exclusion_filter")]
        if any(isinstance(f, Unknown) for f in filters):
            yield unknown("an exclusion filter is unknown", "image_tag_mutability")
        elif any(isinstance(f, str) and _matches_release_tag(f) for f in filters):
            wide = next(f for f in filters if isinstance(f, str) and _matches_release_tag(f))
            yield fail(f"IMMUTABLE_WITH_EXCLUSION filter {wide!r} makes release tags (v1.2.3) mutable again, {label}",
                       "image_tag_mutability")
        else:
            yield passed(f"IMMUTABLE_WITH_EXCLUSION ({', '.join(map(shown, filters))}), {label}", "image_tag_mutability")
    else:
        yield fail(f'image_tag_mutability = "{mutability}" in production ({label}): tags can be overwritten',
                   "image_tag_mutability")
