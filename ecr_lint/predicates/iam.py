"""ECR004 and ECR005: what IAM and repository policies grant, and to whom."""

from __future__ import annotations

import re
from typing import Any, Iterator

from ecr_lint.hcl.evaluate import plain
from ecr_lint.model import Ref, Resource, Unknown, Verdict
from ecr_lint.policy import iam
from ecr_lint.predicates.common import address_type, blocks, decode_json, fail, may_be, passed, unknown

# Where each resource type keeps its policy documents.
POLICY_ATTRIBUTES = {
    "aws_iam_policy": ("policy",),
    "aws_iam_role_policy": ("policy",),
    "aws_iam_user_policy": ("policy",),
    "aws_iam_group_policy": ("policy",),
    "aws_ecr_repository_policy": ("policy",),
    "aws_ecr_registry_policy": ("policy",),
    "aws_iam_policy_document": ("json",),
}


def policy_documents(resource: Resource) -> Iterator[tuple[str, Any]]:
    """(attribute, value) for every policy document the resource holds itself."""
    for attribute in POLICY_ATTRIBUTES.get(resource.type, ()):
        if attribute in resource.attributes:
            yield attribute, resource.attributes[attribute]
    if resource.type == "aws_iam_role":
        for i, block in enumerate(blocks(resource.attributes, "inline_policy")):
            if "policy" in block:
                yield f"inline_policy[{i}].policy", block["policy"]


def _from_policy_document(value: Any) -> bool:
    """A `.json` of a policy document data source: checked on the data source itself."""
    return isinstance(value, Ref) and address_type(value.address) == ("data", "aws_iam_policy_document")


def _documents(resource: Resource, through_documents: bool = False) -> Iterator[tuple[str, Any, Verdict | None]]:
    for attribute, value in policy_documents(resource):
        if _from_policy_document(value) and resource.mode == "managed" and not through_documents:
            continue  # checked once, on the data source that renders it
        top = attribute.split("[")[0].split(".")[0]
        if plain(value) is None:
            continue
        doc = decode_json(value)
        if doc.error:
            yield attribute, None, fail(f"{attribute} is {doc.error}", top)
        elif doc.unknown:
            yield attribute, None, unknown(f"{attribute} cannot be read: {doc.unknown}", top)
        else:
            yield attribute, doc.data, None


# Roles and users this stack creates live in this stack's account.
_STACK_PRINCIPAL = re.compile(r"\$\{((?:module\.[^.}]+\.)*aws_iam_(?:role|user)\.[^.}]+)\.arn\}")


def _stack_principals_as_own_account(data: Any, ctx: Any) -> Any:
    if isinstance(data, dict):
        return {k: _stack_principals_as_own_account(v, ctx) for k, v in data.items()}
    if isinstance(data, list):
        return [_stack_principals_as_own_account(v, ctx) for v in data]
    if isinstance(data, str) and "${" in data:
        return _STACK_PRINCIPAL.sub(
            lambda m: "arn:aws:iam::${data.aws_caller_identity.stack.account_id}:" + m.group(1).split(".")[-1], data)
    return data


# AWS-managed policies with ECR grants: what they allow, in the words of ECR004.
AWS_MANAGED_ECR_POLICIES = {
    "AmazonEC2ContainerRegistryFullAccess": 'grants "ecr:*" on every resource',
    "AmazonEC2ContainerRegistryPowerUser": "grants ECR push and pull actions on Resource \"*\" (every repository)",
    "AmazonEC2ContainerRegistryReadOnly": "grants ECR pull actions on Resource \"*\" (every repository)",
    "AmazonElasticContainerRegistryPublicFullAccess": 'grants "ecr-public:*" on every resource',
    "EC2InstanceProfileForImageBuilderECRContainerBuilds": "grants ECR push actions on Resource \"*\"",
}
_ATTACHMENTS = {"aws_iam_role_policy_attachment", "aws_iam_user_policy_attachment",
                "aws_iam_group_policy_attachment", "aws_iam_policy_attachment"}


def managed_policy_problems(resource: Resource) -> Verdict | None:
    """Attaching an AWS-managed ECR policy is the same grant as writing it out."""
    if resource.type not in _ATTACHMENTS and not (resource.type == "aws_iam_role" and "managed_policy_arns" in resource.attributes):
        return None
    arns = plain(resource.attributes.get("policy_arn" if resource.type in _ATTACHMENTS else "managed_policy_arns"))
    if isinstance(arns, Unknown) and not isinstance(arns.partial, str):
        return unknown(f"the attached policy is unknown: {arns.reason}")
    undecided = None
    for arn in arns if isinstance(arns, list) else [arns]:
        arn = plain(arn)
        if isinstance(arn, Unknown):
            known = arn.partial if isinstance(arn.partial, str) else ""
            if ":iam::aws:policy/" in known and not iam.has_placeholder(known.split(":iam::", 1)[1]):
                arn = known  # only the partition is unknown: the policy is named
            elif any(may_be(arn, f"arn:aws:iam::aws:policy/{name}") for name in AWS_MANAGED_ECR_POLICIES):
                undecided = undecided or arn
                continue
        if isinstance(arn, str) and arn.startswith("arn:") and ":iam::aws:policy/" in arn:
            name = arn.rsplit("/", 1)[-1]
            if name in AWS_MANAGED_ECR_POLICIES:
                return fail(f"attaches the AWS-managed {name}, which {AWS_MANAGED_ECR_POLICIES[name]}")
    if undecided is not None:  # one attached policy is not known: it may be a broad AWS-managed one
        return unknown(f"the attached policy is unknown: {undecided.reason}")
    if resource.type in _ATTACHMENTS:
        return passed("attaches no AWS-managed ECR policy")
    return None


def own_accounts(stack: Any) -> frozenset[str]:
    """This account, where a plan has read data.aws_caller_identity (HCL keeps a placeholder)."""
    found = set()
    for identity in stack.of_type("aws_caller_identity"):
        account = plain(identity.attributes.get("account_id"))
        if identity.mode == "data" and isinstance(account, str) and account.isdigit():
            found.add(account)
    return frozenset(found)


def own_organizations(stack: Any) -> frozenset[str]:
    """This organization, where a plan has read data.aws_organizations_organization."""
    found = set()
    for org in stack.of_type("aws_organizations_organization"):
        org_id = plain(org.attributes.get("id"))
        if org.mode == "data" and isinstance(org_id, str) and org_id.startswith("o-"):
            found.add(org_id)
    return frozenset(found)


def wildcard_actions(resource: Resource, ctx: Any) -> Iterator[Verdict]:
    if resource.mode == "data" and not ctx.graph.referrers(resource.address):
        yield passed("not used by any policy, role or repository in this stack")
        return
    managed = managed_policy_problems(resource)
    if managed is not None:
        yield managed
        return
    yield from _grants(resource, iam.wildcard_action_problems, "grants no wildcard ECR actions")


def _grants(resource: Resource, check, passing: str) -> Iterator[Verdict]:
    """Run one analysis of what a policy grants over every document the resource holds."""
    for attribute, data, problem in _documents(resource):
        top = attribute.split("[")[0].split(".")[0]
        if problem:
            yield problem
            continue
        try:
            problems = check(data)
            unknowns = iam.grant_unknowns(data)
        except iam.PolicyShapeError as exc:
            yield fail(f"{attribute} is not a valid IAM policy: {exc}", top)
            continue
        for message in problems:
            yield fail(f"{attribute}: {message}", top, _path_in(data, message) if top == attribute else ())
        for message in unknowns:
            yield unknown(f"{attribute}: {message}", top)
        if not problems and not unknowns:
            yield passed(f"{attribute} {passing}", top)


_PROBLEM = re.compile(r'^Statement\[(\d+)\][^"]*(?:"[^"]*" )?(uses NotAction|allows "([^"]*)"( on .*| without .*)?)')


def _path_in(doc: Any, message: str) -> tuple:
    """Where in the document a problem of policy/iam.py is: the statement, and the action (or
    Resource) it names, as the document writes them; () when the message names none."""
    match = _PROBLEM.match(message)
    if not match or not isinstance(doc, dict):
        return ()
    index, verb, action, rest = int(match.group(1)), match.group(2), match.group(3), match.group(4) or ""
    raw = doc.get("Statement")
    path: tuple = ("Statement",)
    if isinstance(raw, list) and index < len(raw):
        path, raw = path + (index,), raw[index]
    if not isinstance(raw, dict):
        return ()
    if verb.startswith("uses NotAction"):
        return path + ("NotAction",)
    if rest.startswith(" on ") and "Resource" in raw and "GetAuthorizationToken" in (action or ""):
        return path + ("Resource",)
    if "Action" not in raw:
        return path
    actions = raw["Action"]
    if isinstance(actions, list) and action in actions and not rest.startswith(" without"):
        return path + ("Action", actions.index(action))
    return path + ("Action",)


def _policy_holder(resource: Resource, ctx: Any) -> bool:
    return not (resource.mode == "data" and not ctx.graph.referrers(resource.address))


def auth_token_resource(resource: Resource, ctx: Any) -> Iterator[Verdict]:
    """ECR012: GetAuthorizationToken works only on Resource "*"."""
    if not _policy_holder(resource, ctx):
        yield passed("not used by any policy, role or repository in this stack")
        return
    yield from _grants(resource, iam.auth_token_problems, 'grants ecr:GetAuthorizationToken only on "*" (if at all)')


def push_pull_completeness(resource: Resource, ctx: Any) -> Iterator[Verdict]:
    """ECR013: a push or pull grant that docker push/pull cannot use as written."""
    if not _policy_holder(resource, ctx):
        yield passed("not used by any policy, role or repository in this stack")
        return
    yield from _grants(resource, iam.push_pull_problems, "grants complete push and pull action sets")


def repository_policy_principals(resource: Resource, ctx: Any) -> Iterator[Verdict]:
    for attribute, data, problem in _documents(resource, through_documents=True):
        if problem:
            yield problem
            continue
        data = _stack_principals_as_own_account(data, ctx)
        try:
            verdict = iam.principal_problems(
                data, frozenset(ctx.config.allowed_accounts) | own_accounts(ctx.stack),
                allowed_organizations=frozenset(ctx.config.allowed_organizations) | own_organizations(ctx.stack))
        except iam.PolicyShapeError as exc:
            yield fail(f"{attribute} is not a valid IAM policy: {exc}", "policy")
            continue
        for message in verdict.failures:
            yield fail(f"{attribute}: {message}", "policy")
        for message in verdict.unknowns:
            yield unknown(f"{attribute}: {message}", "policy")
        if not verdict.failures and not verdict.unknowns:
            yield passed("principals are this account, allowed accounts, AWS services, or public access narrowed "
                         "by an organization or account condition", "policy")
