"""IAM policy analysis for ECR: wildcard grants, login and push/pull completeness, principals."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any, Iterable

# A value Terraform knows only after apply, as the evaluator renders it: "${address.path}".
# Addresses contain no "}" and no ":", so ARNs can still be split on ":" around them.
PLACEHOLDER = re.compile(r"\$\{[^}]*\}")

# "${data.aws_caller_identity.X.account_id}", also inside modules and with count/for_each keys.
_SEGMENT = r"[A-Za-z0-9_-]+(?:\[[^\]]*\])?"
_OWN_ACCOUNT = re.compile(
    rf"\$\{{(?:module\.{_SEGMENT}\.)*data\.aws_caller_identity\.{_SEGMENT}\.account_id\}}"
)
# arn:PARTITION:iam::ACCOUNT:rest (sts for assumed-role sessions); the partition may be a placeholder.
_PRINCIPAL_ARN = re.compile(r"^arn:[^:]+:(?:iam|sts)::(?P<account>[^:]*):(?P<rest>.+)$")
_ACCOUNT_ID = re.compile(r"^\d{12}$")

AUTH_TOKEN = "ecr:GetAuthorizationToken"
PUSH_NEEDS = (
    "ecr:InitiateLayerUpload",
    "ecr:UploadLayerPart",
    "ecr:CompleteLayerUpload",
    "ecr:BatchCheckLayerAvailability",
)
PULL_NEEDS = ("ecr:GetDownloadUrlForLayer",)

# Condition keys (lowercased) whose presence limits who can use a public grant.
# aws:Source* keys are included: they exist only in service-to-service requests, so a
# positive condition on them also shuts out every IAM principal calling directly.
NARROWING_KEYS = frozenset(
    {
        "aws:principalorgid",
        "aws:principalorgpaths",
        "aws:principalaccount",
        "aws:principalarn",
        "aws:sourceaccount",
        "aws:sourceorgid",
        "aws:sourceorgpaths",
        "aws:sourcearn",
    }
)
_ARN_KEYS = frozenset({"aws:principalarn", "aws:sourcearn"})
_ORG_PATH_KEYS = frozenset({"aws:principalorgpaths", "aws:sourceorgpaths"})


class PolicyShapeError(ValueError):
    """The document is not an IAM policy; the message says what is wrong and where."""


@dataclass(frozen=True)
class Statement:
    """One statement, normalised: single strings become 1-tuples.

    `resources` is None when the statement has no Resource key, as in resource-based
    policies (repository and registry policies), where the resource is implicit.
    """

    index: int
    sid: str | None
    effect: str
    actions: tuple[str, ...]
    not_actions: tuple[str, ...]
    resources: tuple[str, ...] | None
    not_resources: tuple[str, ...]
    principals: tuple[tuple[str, str], ...]
    not_principals: tuple[tuple[str, str], ...]
    condition_keys: frozenset[str]
    # (operator, lowercased key, values as strings): what narrowing checks look at.
    conditions: tuple[tuple[str, str, tuple[str, ...]], ...] = ()

    @property
    def label(self) -> str:
        return f'Statement[{self.index}] "{self.sid}"' if self.sid else f"Statement[{self.index}]"

    @property
    def allows(self) -> bool:
        return self.effect == "Allow"


@dataclass(frozen=True)
class PrincipalVerdict:
    failures: tuple[str, ...]
    unknowns: tuple[str, ...]


# --- parsing -----------------------------------------------------------------------------


def statements(doc: Any) -> list[Statement]:
    """The statements of an IAM policy document; Statement may be one object or a list."""
    if not isinstance(doc, dict):
        raise PolicyShapeError(f"policy document must be a JSON object, not {_kind(doc)}")
    if "Statement" not in doc:
        raise PolicyShapeError("policy document has no Statement")
    raw = doc["Statement"]
    if isinstance(raw, dict):
        raw = [raw]
    if not isinstance(raw, list):
        raise PolicyShapeError(f"Statement must be an object or a list of objects, not {_kind(raw)}")
    return [_statement(i, s) for i, s in enumerate(raw)]


def _statement(index: int, raw: Any) -> Statement:
    where = f"Statement[{index}]"
    if not isinstance(raw, dict):
        raise PolicyShapeError(f"{where}: must be an object, not {_kind(raw)}")
    sid = raw.get("Sid")
    if sid is not None and not isinstance(sid, str):
        raise PolicyShapeError(f"{where}: Sid must be a string")
    effect = raw.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise PolicyShapeError(f"{where}: Effect must be Allow or Deny, not {effect!r}")
    actions, not_actions = _pair(raw, "Action", "NotAction", where, required=True)
    resources, not_resources = _pair(raw, "Resource", "NotResource", where, required=False)
    principals, not_principals = _principal_pair(raw, where)
    conditions = _conditions(raw.get("Condition"), where)
    return Statement(
        index=index,
        sid=sid or None,
        effect=effect,
        actions=actions or (),
        not_actions=not_actions or (),
        resources=resources,
        not_resources=not_resources or (),
        principals=principals,
        not_principals=not_principals,
        condition_keys=frozenset(key for _, key, _ in conditions),
        conditions=conditions,
    )


def _pair(
    raw: dict, key: str, not_key: str, where: str, required: bool
) -> tuple[tuple[str, ...] | None, tuple[str, ...] | None]:
    if key in raw and not_key in raw:
        raise PolicyShapeError(f"{where}: has both {key} and {not_key}")
    if required and key not in raw and not_key not in raw:
        raise PolicyShapeError(f"{where}: needs {key} or {not_key}")
    plain = _strings(raw[key], f"{where}.{key}") if key in raw else None
    negated = _strings(raw[not_key], f"{where}.{not_key}") if not_key in raw else None
    return plain, negated


def _strings(value: Any, where: str) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
        raise PolicyShapeError(f"{where}: must be a string or a list of strings")
    return tuple(items)


def _principal_pair(raw: dict, where: str) -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]:
    if "Principal" in raw and "NotPrincipal" in raw:
        raise PolicyShapeError(f"{where}: has both Principal and NotPrincipal")
    principals = _principals(raw["Principal"], f"{where}.Principal") if "Principal" in raw else ()
    negated = _principals(raw["NotPrincipal"], f"{where}.NotPrincipal") if "NotPrincipal" in raw else ()
    return principals, negated


def _principals(value: Any, where: str) -> tuple[tuple[str, str], ...]:
    if value == "*":
        return (("*", "*"),)
    if not isinstance(value, dict):
        raise PolicyShapeError(f'{where}: must be "*" or an object')
    return tuple((kind, v) for kind, vs in value.items() for v in _strings(vs, f"{where}.{kind}"))


def _conditions(value: Any, where: str) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    if value is None:
        return ()
    if not isinstance(value, dict):
        raise PolicyShapeError(f"{where}.Condition: must be an object")
    out = []
    for operator, block in value.items():
        if not isinstance(block, dict):
            raise PolicyShapeError(f"{where}.Condition.{operator}: must be an object")
        for key, values in block.items():
            out.append((operator, key.lower(), _condition_values(values)))
    return tuple(out)


def _condition_values(values: Any) -> tuple[str, ...]:
    # Condition values may be JSON booleans or numbers ("aws:SecureTransport": false).
    items = values if isinstance(values, list) else [values]
    return tuple(str(v).lower() if isinstance(v, bool) else str(v) for v in items)


def _kind(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", type(None): "null"}
    return names.get(type(value), type(value).__name__)


# --- matching ----------------------------------------------------------------------------


def has_placeholder(value: str) -> bool:
    return bool(PLACEHOLDER.search(value))


def _has_wildcard(text: str) -> bool:
    return "*" in text or "?" in text


def iam_match(pattern: str, value: str, case_sensitive: bool = False) -> bool:
    """IAM wildcard matching: * is any run of characters, ? one character, nothing else special.

    Actions match case-insensitively ("ECR:putimage" is ecr:PutImage); ARNs case-sensitively.
    """
    return _wildcard_regex(pattern, case_sensitive).fullmatch(value) is not None


@functools.lru_cache(maxsize=1024)
def _wildcard_regex(pattern: str, case_sensitive: bool) -> Any:
    # RE2, not re: with backtracking, "*a*a*a*a*a*a*a*ax" against a 60-character ARN never ends.
    import re2

    options = re2.Options()
    options.case_sensitive = case_sensitive
    options.dot_nl = not case_sensitive
    options.log_errors = False
    return re2.compile("".join(".*" if c == "*" else "." if c == "?" else re2.escape(c) for c in pattern), options)


def _is_ecr_action(action: str) -> bool:
    service, sep, name = action.partition(":")
    return bool(sep) and service.lower() == "ecr" and not _has_wildcard(action)


def _is_ecr_wildcard(action: str) -> bool:
    """A pattern with * or ? that can reach ECR actions: "*", "ecr:*", "ECR:Batch*", "ec?:Get*"."""
    service = action.partition(":")[0]
    return _has_wildcard(action) and iam_match(service, "ecr")


def _is_star(resource: str) -> bool | None:
    """Whether a Resource entry is exactly "*"; None when a placeholder makes it unknowable.

    Once placeholders are removed, any literal character other than "*" rules "*" out; an
    attribute named arn is an ARN, never "*".
    """
    if not has_placeholder(resource):
        return resource == "*"
    residue = PLACEHOLDER.sub("", resource)
    if residue.strip("*"):
        return False
    if PLACEHOLDER.fullmatch(resource) and resource[:-1].endswith(".arn"):
        return False
    return None


def _grants_on(stmt: Statement, action: str, resources: tuple[str, ...] | None) -> bool:
    """Whether an Allow statement grants `action` on every one of `resources`."""
    if not stmt.allows:
        return False
    if stmt.not_actions:
        if any(iam_match(p, action) for p in stmt.not_actions):
            return False
    elif not any(iam_match(p, action) for p in stmt.actions):
        return False
    if resources is None or (stmt.resources is None and not stmt.not_resources):
        return True  # a resource-based policy: the resource is the one the policy is attached to
    if stmt.resources is not None:
        return all(any(iam_match(p, r, case_sensitive=True) for p in stmt.resources) for r in resources)
    return not any(iam_match(p, r, case_sensitive=True) for p in stmt.not_resources for r in resources)


def _allow_statements(doc: Any) -> list[Statement]:
    return [s for s in statements(doc) if s.allows]


def _dedupe(messages: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(messages))


# --- ECR004: wildcards and Resource "*" -------------------------------------------------------


def wildcard_action_problems(doc: Any) -> list[str]:
    """ECR004: Allow statements that grant ECR actions too broadly.

    AWS facts relied on: IAM action names are case-insensitive and "*"/"?" are wildcards in
    them, so "*", "ecr:*" and "ECR:Batch*" each grant several ECR actions; NotAction with
    Allow grants every action not listed; ecr:GetAuthorizationToken is the only ECR action
    that has no resource-level permissions (it must be granted on "*"), so every other ECR
    action can and should name repository ARNs. Deny statements never widen access.
    """
    problems: list[str] = []
    for stmt in _allow_statements(doc):
        problems.extend(_wildcard_problems(stmt))
        problems.extend(_star_resource_problems(stmt))
    return _dedupe(problems)


def _wildcard_problems(stmt: Statement) -> Iterable[str]:
    if stmt.not_actions:
        listed = ", ".join(f'"{a}"' for a in stmt.not_actions)
        yield f"{stmt.label} uses NotAction ({listed}), which allows every other action"
    for action in stmt.actions:
        if _is_ecr_wildcard(action):
            yield f'{stmt.label} allows "{action}"'


def _star_resource_problems(stmt: Statement) -> Iterable[str]:
    scoped = [a for a in stmt.actions if _is_ecr_action(a) and a.lower() != AUTH_TOKEN.lower()]
    if not scoped:
        return
    if stmt.resources is not None and any(_is_star(r) is True for r in stmt.resources):
        for action in scoped:
            yield f'{stmt.label} allows "{action}" on Resource "*"'
    elif stmt.not_resources:
        # NotResource with Allow grants on every other resource, "*" in all but name.
        for action in scoped:
            yield f'{stmt.label} allows "{action}" on every resource outside NotResource'


# --- ECR012: GetAuthorizationToken needs Resource "*" ------------------------------------------


def auth_token_problems(doc: Any) -> list[str]:
    """ecr:GetAuthorizationToken granted with a Resource other than exactly "*".

    AWS fact: GetAuthorizationToken is registry-wide and supports no resource-level
    permissions; granted only on a repository ARN it never matches, so `docker login`
    (aws ecr get-login-password) fails. Statements without Resource are not checked.
    """
    problems = []
    for stmt in _allow_statements(doc):
        if stmt.resources is None or not any(a.lower() == AUTH_TOKEN.lower() for a in stmt.actions):
            continue
        for resource in stmt.resources:
            if _is_star(resource) is False:
                problems.append(
                    f'{stmt.label} allows "{AUTH_TOKEN}" on "{resource}"; it only works with Resource "*"'
                )
    return _dedupe(problems)


# --- push and pull completeness ---------------------------------------------------------------


def push_pull_problems(doc: Any) -> list[str]:
    """Push or pull grants that cannot work because a companion action is missing.

    AWS facts: `docker push` to ECR calls BatchCheckLayerAvailability, then
    InitiateLayerUpload/UploadLayerPart/CompleteLayerUpload for each new layer, then
    PutImage; `docker pull` calls BatchGetImage for the manifest and GetDownloadUrlForLayer
    for each layer. A companion counts when any Allow statement of the policy grants it
    (exactly or through a wildcard) on every resource of the statement that needs it.
    Only an exact ecr:PutImage / ecr:BatchGetImage triggers the check: wildcards are ECR004's.
    """
    allowed = _allow_statements(doc)
    problems = []
    for stmt in allowed:
        if stmt.not_actions:
            continue
        for trigger, needs in (("ecr:PutImage", PUSH_NEEDS), ("ecr:BatchGetImage", PULL_NEEDS)):
            spelled = next((a for a in stmt.actions if a.lower() == trigger.lower()), None)
            if spelled is None:
                continue
            missing = [n for n in needs if not any(_grants_on(s, n, stmt.resources) for s in allowed)]
            if missing:
                problems.append(f'{stmt.label} allows "{spelled}" without {", ".join(missing)}')
    return problems


def grant_unknowns(doc: Any) -> list[str]:
    """What the action checks above cannot decide: placeholders in actions or resources.

    The list-returning checks report only what is certain; a rule that uses them reports
    these as unknown so that an unresolved value never passes in silence.
    """
    unknowns = []
    for stmt in _allow_statements(doc):
        for action in stmt.actions + stmt.not_actions:
            if has_placeholder(action):
                unknowns.append(f'{stmt.label} action "{action}" is known only at plan time')
        if stmt.resources is None or not any(_is_ecr_action(a) for a in stmt.actions):
            continue
        for resource in stmt.resources:
            if _is_star(resource) is None:
                unknowns.append(f'{stmt.label} resource "{resource}" is known only at plan time')
    return _dedupe(unknowns)


# --- ECR005: who a repository or registry policy lets in ------------------------------------


def principal_problems(
    doc: Any, allowed_accounts: frozenset[str], own_account: str | None = None
) -> PrincipalVerdict:
    """ECR005: principals of a repository or registry policy (resource-based policies).

    AWS facts relied on:
    - Principal "*" and {"AWS": "*"} mean every AWS principal, including anonymous callers
      and every other account; an account field with a wildcard is the same in effect.
    - Such a grant is limited by a positive condition on one of NARROWING_KEYS
      (aws:PrincipalOrgID/OrgPaths/Account/Arn, aws:SourceAccount/OrgID/OrgPaths/Arn) with a
      non-negated, non-IfExists operator: when the key is absent from the request the
      condition fails. A value whose scope (the account of an ARN, the organization of an
      org path, the whole value otherwise) is a wildcard does not narrow; a placeholder does
      (it stands for one specific organization or account chosen by the stack).
    - "arn:PARTITION:iam::ACCOUNT:root" and "ACCOUNT" mean that whole account; role and user
      ARNs belong to the account in the ARN. data.aws_caller_identity.*.account_id is the
      account the stack applies in, so it is this account.
    - Service principals ("ecr.amazonaws.com", "lambda.amazonaws.com") act for AWS services
      and pass; a wildcard in one is a failure.
    - Federated principals (OIDC/SAML/Cognito identities) belong in role trust policies;
      ECR repository and registry policies should grant the IAM roles those identities
      assume, so a Federated principal is a failure. So is any other principal type
      (CanonicalUser is S3's) and NotPrincipal with Allow, which lets in everyone not listed.
    - A resource-based policy statement must name a principal; one with none is a failure.
    Deny statements only take access away and are ignored.
    """
    failures: list[str] = []
    unknowns: list[str] = []
    for stmt in _allow_statements(doc):
        if stmt.not_principals:
            failures.append(f"{stmt.label} uses NotPrincipal with Allow, which allows every principal not listed")
            continue
        if not stmt.principals:
            failures.append(f"{stmt.label} has no Principal; a repository policy statement must name one")
        for kind, value in stmt.principals:
            verdict, message = _principal_verdict(stmt, kind, value, allowed_accounts, own_account)
            if verdict == "fail":
                failures.append(message)
            elif verdict == "unknown":
                unknowns.append(message)
    return PrincipalVerdict(tuple(_dedupe(failures)), tuple(_dedupe(unknowns)))


def _principal_verdict(
    stmt: Statement, kind: str, value: str, allowed: frozenset[str], own: str | None
) -> tuple[str, str]:
    shown = "*" if kind == "*" else f'{kind} "{value}"'
    if kind == "*" or (kind == "AWS" and _is_public_aws(value)):
        if _is_narrowed(stmt):
            return "pass", ""
        return "fail", (
            f"{stmt.label} allows public principal {shown} without a condition on "
            "aws:PrincipalOrgID, aws:PrincipalAccount or a similar key"
        )
    if kind == "Service":
        if _has_wildcard(PLACEHOLDER.sub("", value)):
            return "fail", f"{stmt.label} allows service principal {shown} with a wildcard"
        return "pass", ""
    if kind == "Federated":
        return "fail", f"{stmt.label} allows federated principal {shown}; grant the IAM role it assumes instead"
    if kind != "AWS":
        return "fail", f"{stmt.label} allows principal {shown}, which ECR policies do not support"
    return _aws_account_verdict(stmt, value, allowed, own)


def _principal_account(value: str) -> str | None:
    """The account part of an AWS principal: a bare account, or the account field of an IAM ARN."""
    match = _PRINCIPAL_ARN.match(value)
    if match:
        return match.group("account")
    if _ACCOUNT_ID.match(value) or PLACEHOLDER.fullmatch(value):
        return value
    return None


def _is_public_aws(value: str) -> bool:
    if value == "*":
        return True
    account = _principal_account(value)
    return account is not None and _has_wildcard(PLACEHOLDER.sub("", account))


def _aws_account_verdict(stmt: Statement, value: str, allowed: frozenset[str], own: str | None) -> tuple[str, str]:
    account = _principal_account(value)
    if account is None:
        return "fail", f'{stmt.label} allows AWS principal "{value}" whose account cannot be determined'
    if _OWN_ACCOUNT.fullmatch(account):
        return "pass", ""
    if has_placeholder(account):
        if account == value:
            return "unknown", f'{stmt.label} allows AWS principal "{value}", which is known only at plan time'
        return "unknown", (
            f'{stmt.label} allows AWS principal "{value}"; its account {account} is known only at plan time'
        )
    if not _ACCOUNT_ID.match(account):
        return "fail", f'{stmt.label} allows AWS principal "{value}" whose account cannot be determined'
    if account in allowed or account == own:
        return "pass", ""
    return "fail", f'{stmt.label} allows account {account} ("{value}"), which is not an allowed account'


def _is_narrowed(stmt: Statement) -> bool:
    return any(_narrows(op, key, values) for op, key, values in stmt.conditions)


def _narrows(operator: str, key: str, values: tuple[str, ...]) -> bool:
    op = operator.lower()
    # Negated operators, IfExists, Null and ForAllValues all hold when the key is absent.
    if key not in NARROWING_KEYS or not values or "not" in op or op.endswith("ifexists") or op == "null":
        return False
    if op.startswith("forallvalues:"):
        return False
    return all(not _has_wildcard(PLACEHOLDER.sub("", _scope_of(key, v))) for v in values)


def _scope_of(key: str, value: str) -> str:
    """The part of a condition value that decides who is let in."""
    if PLACEHOLDER.fullmatch(value):
        return value
    if key in _ARN_KEYS:
        parts = value.split(":")
        return parts[4] if len(parts) > 5 else "*"  # not an ARN: assume the worst
    if key in _ORG_PATH_KEYS:
        return value.split("/", 1)[0]
    return value
