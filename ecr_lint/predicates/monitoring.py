"""ECR014: CRITICAL image-scan findings are routed somewhere (EventBridge rule with a target)."""

from __future__ import annotations

from typing import Any, Iterator

from ecr_lint.evaluate import plain
from ecr_lint.model import Ref, Resource, Verdict
from ecr_lint.predicates.common import decode_json, fail, passed, unknown


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def _scan_rules(stack: Any) -> tuple[list, dict, list]:
    """Event rules routing CRITICAL ECR Image Scan events, analysed once per stack:
    (rules for every repository, rules by the repository names they filter, undecided)."""
    everyone, by_name, undecided = [], {}, []
    for rule in stack.of_type("aws_cloudwatch_event_rule"):
        doc = decode_json(rule.attributes.get("event_pattern"))
        if doc.unknown:
            undecided.append(f"{rule.address}.event_pattern cannot be read: {doc.unknown}")
            continue
        pattern = doc.data if isinstance(doc.data, dict) else {}
        if "aws.ecr" not in _as_list(pattern.get("source")) or "ECR Image Scan" not in _as_list(pattern.get("detail-type")):
            continue
        detail = pattern.get("detail") if isinstance(pattern.get("detail"), dict) else {}
        severities = detail.get("finding-severity-counts")
        if isinstance(severities, dict) and "CRITICAL" not in severities:
            continue
        names = detail.get("repository-name")
        if names is None:
            everyone.append(rule)
        else:
            for name in _as_list(names):
                if isinstance(name, str):
                    by_name.setdefault(name, []).append(rule)
    return everyone, by_name, undecided


def _targeted(stack: Any) -> tuple[set[str], set[str]]:
    """Event rules that have a target: by reference (address) and by literal name."""
    addresses, names = set(), set()
    for target in stack.of_type("aws_cloudwatch_event_target"):
        value = target.attributes.get("rule")
        if isinstance(value, Ref):
            addresses.add(value.address)
        if isinstance(plain(value), str):
            names.add(plain(value))
    return addresses, names


def _has_target(rule: Resource, ctx: Any) -> bool:
    addresses, names = ctx.memo("event-targets", lambda: _targeted(ctx.stack))
    return rule.address in addresses or plain(rule.attributes.get("name")) in names


def scan_findings_alarm(resource: Resource, ctx: Any) -> Iterator[Verdict]:
    everyone, by_name, undecided = ctx.memo("scan-rules", lambda: _scan_rules(ctx.stack))
    repository_name = plain(resource.attributes.get("name"))
    candidates = list(everyone)
    if isinstance(repository_name, str):
        candidates += by_name.get(repository_name, [])
    elif by_name:
        undecided = undecided + ["some rules filter repository names, and this repository's name is unknown"]
    for rule in candidates:
        if _has_target(rule, ctx):
            yield passed(f"{rule.address} routes CRITICAL scan findings to a target")
            return
    if undecided:
        yield unknown(undecided[0])
        return
    extra = f" ({candidates[0].address} matches them but has no aws_cloudwatch_event_target)" if candidates else ""
    yield fail("no EventBridge rule routes ECR Image Scan events with CRITICAL findings for this repository "
               f"to a target{extra}")
