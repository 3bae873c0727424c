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

# Condition keys that name who makes the request (AWS global condition keys), by what part
# of their value names an account or an organization. Lowercased: IAM key names are
# case-insensitive. aws:Source* keys exist only in service-to-service requests (a service
# acting for a resource of that account or organization); aws:SourceOwner is the older
# spelling of aws:SourceAccount that SNS and SES policies still use.
_ACCOUNT_KEYS = frozenset({"aws:principalaccount", "aws:sourceaccount", "aws:sourceowner"})
_ARN_KEYS = frozenset({"aws:principalarn", "aws:sourcearn"})
_ORG_KEYS = frozenset({"aws:principalorgid", "aws:sourceorgid"})
_ORG_PATH_KEYS = frozenset({"aws:principalorgpaths", "aws:sourceorgpaths"})
_USERID_KEYS = frozenset({"aws:userid"})
PRINCIPAL_KEYS = _ACCOUNT_KEYS | _ARN_KEYS | _ORG_KEYS | _ORG_PATH_KEYS | _USERID_KEYS
_KEY_NAMES = {k.lower(): k for k in (
    "aws:PrincipalAccount", "aws:SourceAccount", "aws:SourceOwner", "aws:PrincipalArn", "aws:SourceArn",
    "aws:PrincipalOrgID", "aws:SourceOrgID", "aws:PrincipalOrgPaths", "aws:SourceOrgPaths", "aws:userid")}

# Operators under which a condition admits only the values it lists, and fails when the key is
# absent from the request. In StringLike, ArnLike and ArnEquals "*" and "?" are wildcards
# (ArnEquals is ArnLike under another name); in StringEquals they are literal characters.
_EXACT_OPERATORS = frozenset({"stringequals", "stringequalsignorecase"})
_PATTERN_OPERATORS = frozenset({"stringlike", "arnlike", "arnequals"})

# data.aws_organizations_organization.X.id is the organization the stack applies in.
_OWN_ORGANIZATION = re.compile(
    rf"\$\{{(?:module\.{_SEGMENT}\.)*data\.aws_organizations_organization\.{_SEGMENT}\.id\}}"
)
# IAM policy variables resolved from the request: the repository's own account and organization.
_OWN_ACCOUNT_VARIABLE = "${aws:resourceaccount}"
_OWN_ORGANIZATION_VARIABLE = "${aws:resourceorgid}"


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


_PROBE = ("arn", "aws", "ecr", "us-east-1", "123456789012", "repository/q7x-any-repository-name")


def _every_repository(resource: str) -> bool:
    """Whether a Resource pattern other than "*" still matches any repository ("arn:*",
    "arn:aws:ecr:*:*:repository/*", "arn:aws:ecr:eu-west-1:111122223333:repository/*"): it is tried
    on a repository whose name no pattern would list, with the partition, region and account the
    pattern itself names where it names them. A pattern holding an unknown is not judged here."""
    if has_placeholder(resource) or resource == "*":
        return False
    parts = resource.split(":", 5)
    probe = [p if i < 5 and i < len(parts) and p and not _has_wildcard(p) else default
             for i, (p, default) in enumerate(zip(parts + [""] * 6, _PROBE))]
    return iam_match(resource, ":".join(probe), case_sensitive=True)


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
    elif stmt.resources is not None and not stmt.principals and not stmt.not_principals \
            and any(_every_repository(r) for r in stmt.resources):
        # Identity policies only: a registry policy is registry-wide by nature (AWS's own
        # replication policy names repository/*); who it admits is ECR005's.
        wide = next(r for r in stmt.resources if _every_repository(r))
        for action in scoped:
            yield f'{stmt.label} allows "{action}" on "{wide}", which matches every repository'
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
    doc: Any,
    allowed_accounts: frozenset[str],
    own_account: str | None = None,
    allowed_organizations: frozenset[str] = frozenset(),
) -> PrincipalVerdict:
    """ECR005: principals of a repository or registry policy (resource-based policies).

    AWS facts relied on:
    - Principal "*" and {"AWS": "*"} mean every AWS principal, including anonymous callers
      and every other account; an account field with a wildcard is the same in effect.
    - Such a grant is limited by a positive condition on a key that names the caller
      (PRINCIPAL_KEYS): the values of one key are alternatives (OR), separate keys and
      operators must all hold (AND). So the grant is as narrow as its narrowest such
      condition: it passes when one condition admits only this account, allowed accounts and
      allowed organizations; a condition that admits another account, any account (a wildcard
      in its account part) or one that cannot be known is reported as such.
    - Only StringEquals(IgnoreCase), StringLike, ArnEquals and ArnLike narrow, alone or as
      ForAnyValue: (false when the key is absent). Negated operators, ...IfExists, Null and
      ForAllValues: all hold when the key is absent (anonymous callers have no account).
    - Accounts in values: aws:PrincipalAccount/SourceAccount/SourceOwner are account IDs;
      aws:PrincipalArn/SourceArn name the account in their fifth field (StringLike's "*"
      matches ":" too, so a wildcard before that field can reach any account; the Arn
      operators compare field by field); aws:userid starts with the account for the root
      user and federated users, with a unique ID (AIDA..., AROA...) otherwise, whose
      account cannot be told; aws:PrincipalOrgID/SourceOrgID are organizations, and
      aws:PrincipalOrgPaths/SourceOrgPaths start with one.
    - "arn:PARTITION:iam::ACCOUNT:root" and "ACCOUNT" mean that whole account; role and user
      ARNs belong to the account in the ARN. data.aws_caller_identity.*.account_id and the
      policy variable ${aws:ResourceAccount} are this account;
      data.aws_organizations_organization.*.id and ${aws:ResourceOrgID} this organization.
    - Service principals ("ecr.amazonaws.com", "lambda.amazonaws.com") act for AWS services
      and pass; a wildcard in one is a failure.
    - Federated principals (OIDC/SAML/Cognito identities) belong in role trust policies;
      ECR repository and registry policies should grant the IAM roles those identities
      assume, so a Federated principal is a failure. So is any other principal type
      (CanonicalUser is S3's) and NotPrincipal with Allow, which lets in everyone not listed.
    - A resource-based policy statement must name a principal; one with none is a failure.
    Deny statements only take access away and are ignored.
    """
    trusted = _Trusted(allowed_accounts | ({own_account} if own_account else set()), allowed_organizations)
    failures: list[str] = []
    unknowns: list[str] = []
    for stmt in _allow_statements(doc):
        if stmt.not_principals:
            failures.append(f"{stmt.label} uses NotPrincipal with Allow, which allows every principal not listed")
            continue
        if not stmt.principals:
            failures.append(f"{stmt.label} has no Principal; a repository policy statement must name one")
        for kind, value in stmt.principals:
            verdict, messages = _principal_verdict(stmt, kind, value, trusted)
            if verdict == "fail":
                failures.extend(messages)
            elif verdict == "unknown":
                unknowns.extend(messages)
    return PrincipalVerdict(tuple(_dedupe(failures)), tuple(_dedupe(unknowns)))


@dataclass(frozen=True)
class _Trusted:
    accounts: frozenset[str]
    organizations: frozenset[str]


def _principal_verdict(stmt: Statement, kind: str, value: str, trusted: _Trusted) -> tuple[str, tuple[str, ...]]:
    shown = "*" if kind == "*" else f'{kind} "{value}"'
    if kind == "*" or (kind == "AWS" and _is_public_aws(value)):
        return _public_verdict(stmt, shown, trusted)
    if kind == "Service":
        if _has_wildcard(PLACEHOLDER.sub("", value)):
            return "fail", (f"{stmt.label} allows service principal {shown} with a wildcard",)
        return "pass", ()
    if kind == "Federated":
        return "fail", (f"{stmt.label} allows federated principal {shown}; grant the IAM role it assumes instead",)
    if kind != "AWS":
        return "fail", (f"{stmt.label} allows principal {shown}, which ECR policies do not support",)
    verdict, message = _aws_account_verdict(stmt, value, trusted.accounts)
    return verdict, (message,) if message else ()


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


def _aws_account_verdict(stmt: Statement, value: str, allowed: frozenset[str]) -> tuple[str, str]:
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
    if account in allowed:
        return "pass", ""
    return "fail", f'{stmt.label} allows account {account} ("{value}"), which is not an allowed account'


def _public_verdict(stmt: Statement, shown: str, trusted: _Trusted) -> tuple[str, tuple[str, ...]]:
    """A public grant is as narrow as the narrowest condition that names the caller."""
    judged = [
        [(verdict, f"{stmt.label} allows public principal {shown} {message}")
         for verdict, message in (_judge_value(op, key, v, trusted) for v in values)]
        for op, key, values in stmt.conditions
        if _narrowing_operator(op) is not None and key in PRINCIPAL_KEYS and values
    ]
    if not judged:
        return "fail", (
            f"{stmt.label} allows public principal {shown} without a condition on "
            "aws:PrincipalOrgID, aws:PrincipalAccount or a similar key",
        )
    if any(all(verdict == "pass" for verdict, _ in condition) for condition in judged):
        return "pass", ()
    failures = tuple(m for condition in judged for verdict, m in condition if verdict == "fail")
    if failures:
        return "fail", failures
    return "unknown", tuple(m for condition in judged for verdict, m in condition if verdict == "unknown")


def _narrowing_operator(operator: str) -> str | None:
    """The base operator when a condition with it admits only its values, else None."""
    op = operator.lower()
    if op.startswith("foranyvalue:"):
        op = op[len("foranyvalue:"):]
    if op in _EXACT_OPERATORS or op in _PATTERN_OPERATORS:
        return op
    return None  # negated, ...IfExists, Null, ForAllValues:, or not a string/ARN comparison


def _judge_value(operator: str, key: str, value: str, trusted: _Trusted) -> tuple[str, str]:
    """("pass" | "fail" | "unknown", what the value lets in) for one value of a caller-naming key."""
    op = _narrowing_operator(operator)
    wildcards = op in _PATTERN_OPERATORS
    said = f'{_KEY_NAMES.get(key, key)} "{value}"'
    if key in _ORG_KEYS or key in _ORG_PATH_KEYS:
        organization = value.split("/", 1)[0] if key in _ORG_PATH_KEYS else value
        return _judge_part("organization", organization, said, wildcards, trusted.organizations)
    if key in _ARN_KEYS:
        account, problem = _arn_account(value, wildcards and op == "stringlike")
    elif key in _USERID_KEYS:
        account, problem = _userid_account(value, wildcards)
    else:
        account, problem = value, None
    if problem is not None:
        verdict, why = problem
        return verdict, f"when {said}, {why}"
    return _judge_part("account", account, said, wildcards, trusted.accounts)


def _arn_account(value: str, colon_wildcards: bool) -> tuple[str, tuple[str, str] | None]:
    """The account field of an ARN condition value, or (verdict, why) when it has none."""
    if PLACEHOLDER.fullmatch(value):
        return value, None
    fields = value.split(":")
    if len(fields) < 6 or fields[0] != "arn":
        if _has_wildcard(PLACEHOLDER.sub("", value)):
            return "", ("fail", "which matches ARNs of any account")
        return "", ("fail", "which is not an ARN")
    if colon_wildcards and _has_wildcard(PLACEHOLDER.sub("", ":".join(fields[:4]))):
        # StringLike's * also matches ":", so the account need not be in the fifth field
        return "", ("fail", "which matches ARNs of any account (in StringLike a wildcard before the account "
                            "field also matches \":\"; use ArnLike)")
    if fields[4] == "":
        return "", ("unknown", "an ARN without an account field, whose owner cannot be told from the policy")
    return fields[4], None


def _userid_account(value: str, wildcards: bool) -> tuple[str, tuple[str, str] | None]:
    """The account of an aws:userid value: its first part when that is an account ID."""
    head = value.split(":", 1)[0]
    if wildcards and _has_wildcard(PLACEHOLDER.sub("", head)):
        return "", ("fail", "which matches callers of any account")
    if _ACCOUNT_ID.match(head) or has_placeholder(head):
        return head, None
    return "", ("unknown", f"a unique ID ({head}) whose account cannot be told from the policy")


def _judge_part(what: str, part: str, said: str, wildcards: bool, allowed: frozenset[str]) -> tuple[str, str]:
    """Judge the account or organization a condition value names."""
    own = (_OWN_ACCOUNT, _OWN_ACCOUNT_VARIABLE) if what == "account" else (_OWN_ORGANIZATION, _OWN_ORGANIZATION_VARIABLE)
    if own[0].fullmatch(part) or part.lower() == own[1]:
        return "pass", ""
    if has_placeholder(part):
        if any(":" in m for m in PLACEHOLDER.findall(part)):  # an IAM policy variable: a value of the request
            return "fail", f"when {said}, which is not a fixed {what}"
        return "unknown", f"when {said}, whose {what} is known only at plan time"
    if wildcards and _has_wildcard(part):
        return "fail", f"when {said}, which admits any {what} matching {part!r}"
    if part in allowed:
        return "pass", ""
    if what == "account" and not _ACCOUNT_ID.match(part):
        return "fail", f"when {said}, and {part!r} is not an account ID"
    setting = "allowed_accounts" if what == "account" else "allowed_organizations"
    return "fail", f"to {what} {part} ({said}), which is neither this {what} nor in {setting}"
