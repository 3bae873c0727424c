"""ECR014: CRITICAL image-scan findings are routed somewhere (EventBridge rule with a target)."""

from __future__ import annotations

from typing import Any, Iterator

from ecr_lint.hcl.evaluate import plain
from ecr_lint.model import Ref, Resource, Unknown, Verdict
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
            undecided.append((rule, f"{rule.address}.event_pattern cannot be read: {doc.unknown}"))
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


def _targeted(stack: Any) -> tuple[set[str], set[str], list[str]]:
    """Event rules that have a target: by reference (address) and by literal name, and why
    some targets' rules are unknown."""
    addresses, names, unknown_rules = set(), set(), []
    for target in stack.of_type("aws_cloudwatch_event_target"):
        value = target.attributes.get("rule")
        if isinstance(value, Ref):
            addresses.add(value.address)
        elif isinstance(plain(value), str):
            names.add(plain(value))
        elif isinstance(plain(value), Unknown):
            unknown_rules.append(f"{target.address}.rule is unknown: {plain(value).reason}")
    return addresses, names, unknown_rules


def _has_target(rule: Resource, ctx: Any) -> bool | None:
    """True, False, or None when a target whose rule is unknown may be this rule's."""
    addresses, names, unknown_rules = ctx.memo("event-targets", lambda: _targeted(ctx.stack))
    name = plain(rule.attributes.get("name"))
    if rule.address in addresses or (isinstance(name, str) and name in names):
        return True
    return None if unknown_rules or (isinstance(name, Unknown) and names) else False


def scan_findings_alarm(resource: Resource, ctx: Any) -> Iterator[Verdict]:
    everyone, by_name, undecided = ctx.memo("scan-rules", lambda: _scan_rules(ctx.stack))
    repository_name = plain(resource.attributes.get("name"))
    candidates = list(everyone)
    # Only a rule that has (or may have) a target can route findings: others cannot change the verdict.
    reasons = [reason for rule, reason in undecided if _has_target(rule, ctx) is not False]
    if isinstance(repository_name, str):
        candidates += by_name.get(repository_name, [])
    elif any(_has_target(rule, ctx) is not False for rules in by_name.values() for rule in rules):
        reasons.append("some rules with a target filter repository names, and this repository's name is unknown")
    for rule in candidates:
        if _has_target(rule, ctx):
            yield passed(f"{rule.address} routes CRITICAL scan findings to a target")
            return
    doubtful = next((rule for rule in candidates if _has_target(rule, ctx) is None), None)
    if doubtful is not None:
        _, _, unknown_rules = ctx.memo("event-targets", lambda: _targeted(ctx.stack))
        why = unknown_rules[0] if unknown_rules else "its name is unknown, and targets name rules by name"
        reasons.append(f"{doubtful.address} matches them and may be the rule of a target: {why}")
    if reasons:
        yield unknown(reasons[0])
        return
    extra = f" ({candidates[0].address} matches them but has no aws_cloudwatch_event_target)" if candidates else ""
    yield fail("no EventBridge rule routes ECR Image Scan events with CRITICAL findings for this repository "
               f"to a target{extra}")
