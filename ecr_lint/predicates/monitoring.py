"""ECR014: CRITICAL image-scan findings are routed somewhere (EventBridge rule with a target)."""

from __future__ import annotations

from typing import Any, Iterator

from ecr_lint.evaluate import plain
from ecr_lint.model import Ref, Resource, Unknown, Verdict
from ecr_lint.predicates.common import decode_json, fail, passed, unknown


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def _covers(rule: Resource, repository_name: Any) -> tuple[bool | None, str]:
    doc = decode_json(rule.attributes.get("event_pattern"))
    if doc.unknown:
        return None, f"{rule.address}.event_pattern cannot be read: {doc.unknown}"
    pattern = doc.data if isinstance(doc.data, dict) else {}
    if "aws.ecr" not in _as_list(pattern.get("source")) or "ECR Image Scan" not in _as_list(pattern.get("detail-type")):
        return False, ""
    detail = pattern.get("detail") if isinstance(pattern.get("detail"), dict) else {}
    severities = detail.get("finding-severity-counts")
    if isinstance(severities, dict) and "CRITICAL" not in severities:
        return False, ""
    names = detail.get("repository-name")
    if names is not None:
        if isinstance(repository_name, Unknown):
            return None, f"{rule.address} filters repository names, and this repository's name is unknown"
        if repository_name not in _as_list(names):
            return False, ""
    return True, ""


def _has_target(rule: Resource, stack: Any) -> bool:
    name = plain(rule.attributes.get("name"))
    for target in stack.of_type("aws_cloudwatch_event_target"):
        value = target.attributes.get("rule")
        if isinstance(value, Ref) and value.address == rule.address:
            return True
        if isinstance(plain(value), str) and plain(value) == name:
            return True
    return False


def scan_findings_alarm(resource: Resource, ctx: Any) -> Iterator[Verdict]:
    repository_name = plain(resource.attributes.get("name"))
    undecided = []
    for rule in ctx.stack.of_type("aws_cloudwatch_event_rule"):
        covers, why = _covers(rule, repository_name)
        if covers is None:
            undecided.append(why)
        elif covers:
            if _has_target(rule, ctx.stack):
                yield passed(f"{rule.address} routes CRITICAL scan findings to a target")
                return
            undecided.append(f"{rule.address} matches CRITICAL scan findings but has no aws_cloudwatch_event_target")
    if undecided and not undecided[-1].endswith("no aws_cloudwatch_event_target"):
        yield unknown(undecided[0])
    else:
        extra = f" ({undecided[0]})" if undecided else ""
        yield fail("no EventBridge rule routes ECR Image Scan events with CRITICAL findings for this repository "
                   f"to a target{extra}")
