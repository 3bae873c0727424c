"""ECR011 and ECR015: what production repositories and deployments must not do."""

from __future__ import annotations

import re
from typing import Any, Iterator

from ecr_lint.hcl.evaluate import plain
from ecr_lint.model import Resource, Unknown, Verdict
from ecr_lint.predicates.common import decode_json, fail, passed, unknown
from ecr_lint.predicates.environment import production_of


def _production(resource: Resource, ctx: Any) -> tuple[bool | None, str]:
    env = production_of(resource, ctx)
    return env.production, env.label


def force_delete_in_production(resource: Resource, ctx: Any) -> Iterator[Verdict]:
    value = plain(resource.attributes.get("force_delete"))
    if isinstance(value, Unknown):
        production, label = _production(resource, ctx)
        if production is False:  # force_delete matters only in production
            yield passed(f"not production ({label}), whatever force_delete is", "force_delete")
        else:
            yield unknown(f"force_delete is unknown: {value.reason}", "force_delete")
        return
    if value not in (True, "true"):
        yield passed("force_delete is not set", "force_delete")
        return
    production, label = _production(resource, ctx)
    if production is None:
        yield unknown(f"force_delete = true, and cannot tell whether this is production: {label}", "force_delete")
    elif production:
        yield fail(f"force_delete = true on a production repository ({label}): `terraform destroy` or a "
                   "rename deletes every image in it", "force_delete")
    else:
        yield passed(f"force_delete = true outside production ({label})", "force_delete")


_ECR_IMAGE = re.compile(r"\.dkr\.ecr\.|\$\{(?:module\.[^}]*\.)?(?:data\.)?aws_ecr_repository\.[^}]*\.repository_url")


def digest_pinning(resource: Resource, ctx: Any) -> Iterator[Verdict]:
    production, label = _production(resource, ctx)
    if production is False:
        yield passed(f"not production ({label})", "container_definitions")
        return
    doc = decode_json(resource.attributes.get("container_definitions"))
    if doc.unknown or doc.error:
        yield unknown(f"container_definitions cannot be read: {doc.unknown or doc.error}", "container_definitions")
        return
    containers = doc.data if isinstance(doc.data, list) else []
    found = False
    for container in containers:
        image = container.get("image") if isinstance(container, dict) else None
        name = container.get("name", "?") if isinstance(container, dict) else "?"
        if not isinstance(image, str):
            continue
        if image.startswith("${") and image.endswith("}") and image.count("${") == 1 and not _ECR_IMAGE.search(image):
            found = True
            yield unknown(f"container {name!r}: image is {image}, known only later", "container_definitions")
            continue
        if not _ECR_IMAGE.search(image):
            continue  # not an ECR image: outside this rule
        found = True
        if "@sha256:" in image:
            continue
        if production is None:  # tags are fine outside production
            yield unknown(f"container {name!r} runs {image} by tag, and cannot tell whether this is production: "
                          f"{label}", "container_definitions")
            continue
        yield fail(f"container {name!r} runs {image} by tag in production ({label}): pin it by @sha256: digest",
                   "container_definitions")
    if not found:
        yield passed("no ECR image in its containers", "container_definitions")
    else:
        yield passed("every ECR image is pinned by digest", "container_definitions")
