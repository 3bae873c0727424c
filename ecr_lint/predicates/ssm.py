"""ECR008: every repository's URL is exported to SSM for other stacks."""

from __future__ import annotations

from typing import Any, Iterator

from ecr_lint.hcl.evaluate import plain
from ecr_lint.model import Ref, Resource, Unknown, Verdict
from ecr_lint.predicates.common import fail, fits, may_be, passed, unknown
from ecr_lint.sensitive import keep_mark, shown


def _exports(stack: Any) -> dict[str, list[Resource]]:
    """repository address -> SSM parameters whose value is its repository_url."""
    index: dict[str, list[Resource]] = {}
    for param in stack.of_type("aws_ssm_parameter"):
        value = param.attributes.get("value", param.attributes.get("insecure_value"))
        if isinstance(value, Ref) and value.path[:1] == ("repository_url",):
            index.setdefault(value.address, []).append(param)
    return index


def exports_of(repository: Resource, ctx: Any) -> list[Resource]:
    return ctx.memo("ssm-exports", lambda: _exports(ctx.stack)).get(repository.address, [])


def ssm_export(resource: Resource, ctx: Any) -> Iterator[Verdict]:
    name = plain(resource.attributes.get("name"))
    exports = exports_of(resource, ctx)
    names = [plain(p.attributes.get("name")) for p in exports]
    if isinstance(name, Unknown):
        # Whatever the name is, a missing export stays missing, and an export whose name cannot
        # fit the pattern for any repository name is not the one wanted.
        template = ctx.config.ssm_export_name.split("{name}")
        pattern = ctx.config.ssm_export_name.replace("{name}", "<name>")
        if not exports:
            yield fail(f"repository_url is not written to an aws_ssm_parameter (expected {pattern}, whatever the "
                       "repository name turns out to be)")
            return
        if not any(isinstance(n, Unknown) or (isinstance(n, str) and fits(template, n)) for n in names):
            yield fail(f"repository_url is exported as {', '.join(map(_shown, names))}, which no repository name "
                       f"makes {pattern}")
            return
        yield unknown(f"the repository name is unknown: {name.reason}", "name")
        return
    if not isinstance(name, str) or not name:
        yield fail("the repository has no name (Terraform requires one), so nothing can export it", "name")
        return
    expected = keep_mark(name, ctx.config.ssm_export_name.format(name=str(name)))
    if not exports:
        yield fail(f"repository_url is not written to an aws_ssm_parameter (expected {expected})")
        return
    if expected in names:
        yield passed(f"exported to SSM {expected}")
    elif any(isinstance(n, Unknown) and may_be(n, expected) for n in names):
        yield unknown(f"the export's parameter name is unknown (expected {expected})")
    else:
        yield fail(f"repository_url is exported as {', '.join(map(_shown, names))}, expected {expected}")


def _shown(name: Any) -> str:
    """A name for a message: an unknown one by its known parts; "(sensitive)" where marked."""
    return shown(name.partial) if isinstance(name, Unknown) and isinstance(name.partial, str) else shown(name)
