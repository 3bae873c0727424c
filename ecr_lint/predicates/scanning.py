"""ECR002: images are scanned on push, by the repository or the registry's scanning rules."""

from __future__ import annotations

import fnmatch
from typing import Any, Iterator

from ecr_lint.hcl.evaluate import plain
from ecr_lint.model import Resource, Unknown, Verdict
from ecr_lint.predicates.common import blocks, fail, passed, unknown


def scan_on_push(resource: Resource, ctx: Any) -> Iterator[Verdict]:
    configs = blocks(resource.attributes, "image_scanning_configuration")
    value = plain(configs[0].get("scan_on_push")) if configs else None
    if value in ("true", "false"):  # Terraform converts the string to a bool
        value = value == "true"
    if value is True:
        yield passed("scan_on_push = true", "image_scanning_configuration")
        return
    registry = _registry_coverage(resource, ctx)
    if registry.status.value == "pass":
        yield registry
        return
    if isinstance(value, Unknown):
        yield unknown(f"scan_on_push is unknown: {value.reason}", "image_scanning_configuration")
        return
    if registry.status.value == "unknown":
        yield registry
        return
    what = "scan_on_push = false" if value is False else "no image_scanning_configuration"
    yield fail(f"{what} and no registry scanning rule covers this repository",
               "image_scanning_configuration.scan_on_push")


def _registry_coverage(resource: Resource, ctx: Any) -> Verdict:
    """Whether a registry scanning rule scans this repository on push; one that does decides,
    whatever other rules leave unknown."""
    name = plain(resource.attributes.get("name"))
    configs = ctx.stack.of_type("aws_ecr_registry_scanning_configuration")
    undecided: list[str] = []
    for config in configs:
        scan_type = plain(config.attributes.get("scan_type"))
        for rule in blocks(config.attributes, "rule"):
            frequency = plain(rule.get("scan_frequency"))
            if isinstance(scan_type, Unknown) or isinstance(frequency, Unknown):
                undecided.append(f"{config.address}: scan settings are unknown")
                continue
            on_push = frequency in ("SCAN_ON_PUSH", "CONTINUOUS_SCAN") if scan_type == "ENHANCED" else frequency == "SCAN_ON_PUSH"
            if not on_push:
                continue
            for flt in blocks(rule, "repository_filter"):
                pattern = plain(flt.get("filter"))
                if isinstance(pattern, str) and pattern and not pattern.strip("*"):
                    return passed(f"covered by {config.address} ({scan_type} {frequency}, filter {pattern!r}: "
                                  "every repository)")
                if isinstance(pattern, Unknown) or isinstance(name, Unknown):
                    undecided.append(f"{config.address}: cannot match its filter against the repository name")
                elif isinstance(pattern, str) and isinstance(name, str) and fnmatch.fnmatchcase(name, pattern):
                    return passed(f"covered by {config.address} ({scan_type} {frequency}, filter {pattern!r})")
    if undecided:
        return unknown(undecided[0])
    return fail("no registry scanning rule covers it")
