"""ECR006: every repository has a valid lifecycle policy that bounds what it keeps."""

from __future__ import annotations

from typing import Any, Iterator

from ecr_lint.hcl.evaluate import plain
from ecr_lint.model import Ref, Resource, Unknown, Verdict
from ecr_lint.policy.lifecycle import analyse_lifecycle_policy
from ecr_lint.predicates.common import address_type, decode_json, fail, may_be, passed, unknown


def _policy_index(stack: Any) -> tuple[dict, dict, list]:
    """Lifecycle policies by the repository resource they reference, and by literal name."""
    by_address: dict[str, list[Resource]] = {}
    by_name: dict[str, list[Resource]] = {}
    undecided: list[tuple[Resource, Unknown]] = []
    for policy in stack.of_type("aws_ecr_lifecycle_policy"):
        target = policy.attributes.get("repository")
        if isinstance(target, Ref) and address_type(target.address) == ("managed", "aws_ecr_repository"):
            by_address.setdefault(target.address, []).append(policy)
            continue  # a reference to a repository resource: that one, and no other
        value = plain(target)
        if isinstance(value, Unknown):
            undecided.append((policy, value))
        elif isinstance(value, str):
            by_name.setdefault(value, []).append(policy)
    return by_address, by_name, undecided


def policies_for(repository: Resource, ctx: Any) -> tuple[list[Resource], list[str]]:
    """Lifecycle policies pointing at the repository, by reference or by its literal name.

    Returns (matches, reasons why some policies may point at it but cannot be matched).
    """
    by_address, by_name, undecided = ctx.memo("lifecycle-policies", lambda: _policy_index(ctx.stack))
    name = plain(repository.attributes.get("name"))
    matches = list(by_address.get(repository.address, []))
    reasons = []
    if isinstance(name, str):
        matches += by_name.get(name, [])
    elif isinstance(name, Unknown) and by_name:
        named = ", ".join(f"{p.address} names repository {n!r}" for n, ps in by_name.items() for p in ps)
        reasons.append(f"this repository's name is unknown ({name.reason}), and {named}, which may be it")
    for policy, value in undecided:
        if not isinstance(name, str) or may_be(value, name):  # a known part that cannot be this name rules it out
            reasons.append(f"{policy.address}.repository is unknown: {value.reason}")
    return matches, reasons


def lifecycle_policy(resource: Resource, ctx: Any) -> Iterator[Verdict]:
    policies, undecided = policies_for(resource, ctx)
    if not policies:
        if undecided:
            yield unknown(f"no lifecycle policy is known to apply: {undecided[0]}")
        else:
            yield fail("no aws_ecr_lifecycle_policy applies to this repository: images accumulate forever")
        return
    for policy in policies:
        doc = decode_json(policy.attributes.get("policy"))
        if doc.error:
            yield fail(f"{policy.address}: policy is {doc.error}")
            continue
        if doc.unknown:
            yield unknown(f"{policy.address}: policy cannot be read: {doc.unknown}")
            continue
        verdict = analyse_lifecycle_policy(doc.data)
        for problem in verdict.problems:
            yield fail(f"{policy.address}: {problem}")
        if verdict.problems:
            continue
        if verdict.unknowns:
            yield unknown(f"{policy.address}: {verdict.unknowns[0]}")
            continue
        if not verdict.expires_untagged:
            yield fail(f"{policy.address}: no rule expires untagged images")
        if not verdict.bounds_tagged:
            yield fail(f"{policy.address}: no rule bounds tagged images")
        if verdict.expires_untagged and verdict.bounds_tagged:
            yield passed(f"{policy.address} expires untagged images and bounds tagged ones")
