"""Unit tests for ecr_lint.policy.iam: parsing, ECR004, ECR012, push/pull and ECR005."""

from __future__ import annotations

import pytest

from ecr_lint.policy.iam import (
    PolicyShapeError,
    PrincipalVerdict,
    Statement,
    auth_token_problems,
    grant_unknowns,
    iam_match,
    principal_problems,
    push_pull_problems,
    statements,
    wildcard_action_problems,
)

REPO = "arn:aws:ecr:ap-northeast-2:ACCOUNT_ID:repository/fileflow"
OWN = "${data.aws_caller_identity.current.account_id}"
ALLOWED = frozenset({"111122223333"})
ORGS = frozenset({"o-abc123", "o-def456", "o-abc"})

# The seed README's "good" pull policy: GetAuthorizationToken on a repository ARN.
SEED_PULL = {
    "Version": "2012-10-17",
    "Statement": {
        "Effect": "Allow",
        "Action": [
            "ecr:GetAuthorizationToken",
            "ecr:BatchCheckLayerAvailability",
            "ecr:GetDownloadUrlForLayer",
            "ecr:BatchGetImage",
        ],
        "Resource": REPO,
    },
}

# The seed README's CI push policy: no ecr:BatchCheckLayerAvailability.
SEED_PUSH = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": ["ecr:GetAuthorizationToken"], "Resource": "*"},
        {
            "Effect": "Allow",
            "Action": ["ecr:PutImage", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload"],
            "Resource": REPO,
        },
    ],
}

# The seed's repository policy: this account only.
SEED_REPOSITORY_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "AllowPull",
            "Effect": "Allow",
            "Principal": {"AWS": [f"arn:aws:iam::{OWN}:root"]},
            "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
        }
    ],
}


def policy(*stmts: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(stmts)}


def allow(action, resource=None, **extra) -> dict:
    stmt = {"Effect": "Allow", "Action": action, **extra}
    if resource is not None:
        stmt["Resource"] = resource
    return stmt


def grant(principal, condition=None) -> dict:
    stmt = {"Effect": "Allow", "Principal": principal, "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]}
    if condition is not None:
        stmt["Condition"] = condition
    return policy(stmt)


# --- parsing -------------------------------------------------------------------------------


def test_statement_normalises_single_strings_and_principals():
    doc = policy(
        {
            "Sid": "Pull",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111122223333:root", "Service": ["lambda.amazonaws.com"]},
            "Action": "ecr:BatchGetImage",
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc", "aws:SourceAccount": ["1"]}, "Bool": {"aws:SecureTransport": True}},
        }
    )
    assert statements(doc) == [
        Statement(
            index=0,
            sid="Pull",
            effect="Allow",
            actions=("ecr:BatchGetImage",),
            not_actions=(),
            resources=None,
            not_resources=(),
            principals=(("AWS", "arn:aws:iam::111122223333:root"), ("Service", "lambda.amazonaws.com")),
            not_principals=(),
            condition_keys=frozenset({"aws:principalorgid", "aws:sourceaccount", "aws:securetransport"}),
            conditions=(
                ("StringEquals", "aws:principalorgid", ("o-abc",)),
                ("StringEquals", "aws:sourceaccount", ("1",)),
                ("Bool", "aws:securetransport", ("true",)),
            ),
        )
    ]


def test_statement_as_single_object_and_star_principals():
    [stmt] = statements({"Statement": {"Effect": "Deny", "NotAction": "s3:*", "Principal": "*", "NotResource": "*"}})
    assert (stmt.effect, stmt.actions, stmt.not_actions) == ("Deny", (), ("s3:*",))
    assert (stmt.resources, stmt.not_resources) == (None, ("*",))
    assert stmt.principals == (("*", "*"),)
    [aws_star] = statements(policy({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "ecr:*"}))
    assert aws_star.principals == (("AWS", "*"),)
    [not_principal] = statements(policy({"Effect": "Allow", "NotPrincipal": {"AWS": "1"}, "Action": "ecr:*"}))
    assert (not_principal.principals, not_principal.not_principals) == ((), (("AWS", "1"),))


@pytest.mark.parametrize(
    "doc, message",
    [
        ([], "policy document must be a JSON object, not a list"),
        ("{}", "policy document must be a JSON object, not a string"),
        ({"Version": "2012-10-17"}, "policy document has no Statement"),
        ({"Statement": "x"}, "Statement must be an object or a list of objects, not a string"),
        ({"Statement": [allow("ecr:*", "*"), 3]}, "Statement[1]: must be an object, not int"),
        ({"Statement": [allow("ecr:*"), {"Action": "ecr:*"}]}, "Statement[1]: Effect must be Allow or Deny, not None"),
        ({"Statement": [{"Effect": "allow", "Action": "ecr:*"}]}, "Statement[0]: Effect must be Allow or Deny, not 'allow'"),
        ({"Statement": [{"Effect": "Allow"}]}, "Statement[0]: needs Action or NotAction"),
        ({"Statement": [{"Effect": "Allow", "Action": "a", "NotAction": "b"}]}, "Statement[0]: has both Action and NotAction"),
        ({"Statement": [{"Effect": "Allow", "Action": ["a", 1]}]}, "Statement[0].Action: must be a string or a list of strings"),
        ({"Statement": [allow("a", Resource="*", NotResource="x")]}, "Statement[0]: has both Resource and NotResource"),
        ({"Statement": [allow("a", Principal="me")]}, 'Statement[0].Principal: must be "*" or an object'),
        ({"Statement": [allow("a", Principal={"AWS": 1})]}, "Statement[0].Principal.AWS: must be a string or a list of strings"),
        ({"Statement": [allow("a", Principal="*", NotPrincipal="*")]}, "Statement[0]: has both Principal and NotPrincipal"),
        ({"Statement": [allow("a", Condition=["x"])]}, "Statement[0].Condition: must be an object"),
        ({"Statement": [allow("a", Condition={"StringEquals": "x"})]}, "Statement[0].Condition.StringEquals: must be an object"),
        ({"Statement": [allow("a", Sid=3)]}, "Statement[0]: Sid must be a string"),
    ],
)
def test_shape_errors(doc, message):
    with pytest.raises(PolicyShapeError) as caught:
        statements(doc)
    assert str(caught.value) == message


def test_every_check_raises_on_a_bad_shape():
    for check in (wildcard_action_problems, auth_token_problems, push_pull_problems, grant_unknowns):
        with pytest.raises(PolicyShapeError):
            check({"Statement": 1})
    with pytest.raises(PolicyShapeError):
        principal_problems(None, ALLOWED)


def test_iam_match():
    assert iam_match("ecr:Batch*", "ECR:BatchGetImage")
    assert iam_match("ecr:?utImage", "ecr:PutImage")
    assert not iam_match("ecr:[P]utImage", "ecr:PutImage")  # brackets are literal in IAM
    assert iam_match("arn:aws:ecr:*:*:repository/*", "arn:aws:ecr:r:1:repository/x", case_sensitive=True)
    assert not iam_match("arn:aws:ecr:*:*:repository/X", "arn:aws:ecr:r:1:repository/x", case_sensitive=True)


# --- ECR004 --------------------------------------------------------------------------------


def test_seed_bad_example_ecr_star_on_star():
    assert wildcard_action_problems(policy(allow("ecr:*", "*"))) == ['Statement[0] allows "ecr:*"']


@pytest.mark.parametrize(
    "action, expected",
    [
        ("*", ['Statement[0] allows "*"']),
        ("ECR:Batch*", ['Statement[0] allows "ECR:Batch*"']),
        ("ecr:*Image", ['Statement[0] allows "ecr:*Image"']),
        ("ecr:?utImage", ['Statement[0] allows "ecr:?utImage"']),
        ("ec?:Get*", ['Statement[0] allows "ec?:Get*"']),
        ("*:*", ['Statement[0] allows "*:*"']),
        ("s3:*", []),
        ("ecr-public:*", []),
    ],
)
def test_wildcard_actions(action, expected):
    assert wildcard_action_problems(policy(allow([action], REPO))) == expected


def test_not_action_allows_everything_else():
    doc = policy({"Sid": "Broad", "Effect": "Allow", "NotAction": ["iam:*", "s3:*"], "Resource": REPO})
    assert wildcard_action_problems(doc) == [
        'Statement[0] "Broad" uses NotAction ("iam:*", "s3:*"), which allows every other action'
    ]


def test_scoped_ecr_actions_on_star_resource():
    doc = policy(
        allow("ecr:GetAuthorizationToken", "*"),
        allow(["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "s3:GetObject", "ecr:GetAuthorizationToken"], ["*"]),
        allow(["ecr:PutImage"], [REPO, "*"], Sid="Push"),
    )
    assert wildcard_action_problems(doc) == [
        'Statement[1] allows "ecr:BatchGetImage" on Resource "*"',
        'Statement[1] allows "ecr:GetDownloadUrlForLayer" on Resource "*"',
        'Statement[2] "Push" allows "ecr:PutImage" on Resource "*"',
    ]


def test_not_resource_counts_as_every_resource():
    doc = policy({"Effect": "Allow", "Action": "ecr:PutImage", "NotResource": REPO})
    assert wildcard_action_problems(doc) == ['Statement[0] allows "ecr:PutImage" on every resource outside NotResource']


def test_deny_statements_are_ignored():
    doc = policy(
        {"Effect": "Deny", "Action": "ecr:*", "Resource": "*"},
        {"Effect": "Deny", "NotAction": "ecr:BatchGetImage", "Resource": "*"},
        allow(["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"], REPO),
    )
    assert wildcard_action_problems(doc) == []


def test_resource_policies_without_resource_are_not_checked_for_star():
    assert wildcard_action_problems(SEED_REPOSITORY_POLICY) == []


def test_seed_policies_have_no_wildcards():
    assert wildcard_action_problems(SEED_PULL) == []
    assert wildcard_action_problems(SEED_PUSH) == []


def test_placeholder_resources_for_ecr004():
    doc = policy(
        allow("ecr:PutImage", "${aws_ecr_repository.this.arn}"),
        allow("ecr:PutImage", "arn:aws:ecr:${var.region}:${var.account}:repository/x"),
        allow("ecr:PutImage", "${var.repository_arn}"),
        allow("ecr:PutImage", "*${var.suffix}"),
    )
    assert wildcard_action_problems(doc) == []
    assert grant_unknowns(doc) == [
        'Statement[2] resource "${var.repository_arn}" is known only at plan time',
        'Statement[3] resource "*${var.suffix}" is known only at plan time',
    ]


def test_placeholder_actions_are_unknown():
    doc = policy(allow(["${var.action}", "ecr:BatchGetImage"], REPO), {"Effect": "Deny", "Action": "${var.x}"})
    assert wildcard_action_problems(doc) == []
    assert grant_unknowns(doc) == ['Statement[0] action "${var.action}" is known only at plan time']


# --- ECR012 --------------------------------------------------------------------------------


def test_seed_pull_policy_cannot_log_in():
    assert auth_token_problems(SEED_PULL) == [
        f'Statement[0] allows "ecr:GetAuthorizationToken" on "{REPO}"; it only works with Resource "*"'
    ]


def test_auth_token_on_star_is_fine():
    assert auth_token_problems(SEED_PUSH) == []
    assert auth_token_problems(policy(allow("ECR:getauthorizationtoken", ["*"]))) == []


def test_auth_token_cases():
    doc = policy(
        allow("ecr:GetAuthorizationToken", ["*", REPO], Sid="Mixed"),
        allow("ecr:GetAuthorizationToken", "${aws_ecr_repository.this.arn}"),
        allow("ecr:GetAuthorizationToken", "${var.resource}"),
        allow("ecr:Get*", REPO),  # wildcards are ECR004's business
        allow("ecr:GetAuthorizationToken"),  # no Resource: not checked
        {"Effect": "Deny", "Action": "ecr:GetAuthorizationToken", "Resource": REPO},
    )
    assert auth_token_problems(doc) == [
        f'Statement[0] "Mixed" allows "ecr:GetAuthorizationToken" on "{REPO}"; it only works with Resource "*"',
        'Statement[1] allows "ecr:GetAuthorizationToken" on "${aws_ecr_repository.this.arn}"; it only works with Resource "*"',
    ]
    assert grant_unknowns(doc) == ['Statement[2] resource "${var.resource}" is known only at plan time']


# --- push and pull --------------------------------------------------------------------------


def test_seed_push_policy_misses_batch_check():
    assert push_pull_problems(SEED_PUSH) == [
        'Statement[1] allows "ecr:PutImage" without ecr:BatchCheckLayerAvailability'
    ]


def test_complete_push_and_pull():
    push = ["ecr:PutImage", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload", "ecr:BatchCheckLayerAvailability"]
    assert push_pull_problems(policy(allow(push, REPO))) == []
    assert push_pull_problems(SEED_PULL) == []
    assert push_pull_problems(SEED_REPOSITORY_POLICY) == []


def test_put_image_alone_names_everything_missing():
    assert push_pull_problems(policy(allow("ecr:putimage", REPO, Sid="Ci"))) == [
        'Statement[0] "Ci" allows "ecr:putimage" without ecr:InitiateLayerUpload, ecr:UploadLayerPart, '
        "ecr:CompleteLayerUpload, ecr:BatchCheckLayerAvailability"
    ]


def test_batch_get_image_without_download_url():
    assert push_pull_problems(policy(allow(["ecr:BatchGetImage", "ecr:BatchCheckLayerAvailability"], REPO))) == [
        'Statement[0] allows "ecr:BatchGetImage" without ecr:GetDownloadUrlForLayer'
    ]


def test_wildcards_and_other_statements_can_supply_companions():
    doc = policy(
        allow(["ecr:PutImage", "ecr:*LayerUpload", "ecr:UploadLayerPart"], REPO),
        allow("ecr:BatchCheck*", "arn:aws:ecr:ap-northeast-2:ACCOUNT_ID:repository/*"),
        allow("ecr:BatchGetImage", REPO),
        allow("ecr:GetDownloadUrlForLayer", "*"),
    )
    assert push_pull_problems(doc) == []


def test_companion_on_another_resource_or_denied_does_not_count():
    doc = policy(
        allow(["ecr:BatchGetImage"], REPO),
        allow("ecr:GetDownloadUrlForLayer", "arn:aws:ecr:ap-northeast-2:ACCOUNT_ID:repository/other"),
        {"Effect": "Deny", "Action": "ecr:GetDownloadUrlForLayer", "Resource": REPO},
    )
    assert push_pull_problems(doc) == ['Statement[0] allows "ecr:BatchGetImage" without ecr:GetDownloadUrlForLayer']


def test_wildcard_trigger_is_not_push_pull_business():
    assert push_pull_problems(policy(allow("ecr:Put*", REPO), allow("ecr:Batch*", REPO))) == []


# --- ECR005 --------------------------------------------------------------------------------


def test_seed_repository_policy_own_account_passes():
    assert principal_problems(SEED_REPOSITORY_POLICY, frozenset()) == PrincipalVerdict((), ())


@pytest.mark.parametrize(
    "principal",
    [
        {"AWS": OWN},
        {"AWS": f"arn:aws:iam::{OWN}:root"},
        {"AWS": "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.me.account_id}:root"},
        {"AWS": f"arn:aws:iam::{OWN}:role/ci-deployer"},
        {"AWS": "arn:aws:iam::${module.m.data.aws_caller_identity.me.account_id}:root"},
        {"AWS": "${data.aws_caller_identity.this[0].account_id}"},
        {"AWS": ["111122223333", "arn:aws:iam::111122223333:role/reader"]},
        {"AWS": "arn:aws-cn:iam::444455556666:root"},
        {"Service": "lambda.amazonaws.com"},
        {"Service": "${var.service}"},
    ],
)
def test_principals_that_pass(principal):
    assert principal_problems(grant(principal), ALLOWED, own_account="444455556666") == PrincipalVerdict((), ())


def test_public_principal_without_condition_fails():
    doc = policy(
        {"Sid": "Open", "Effect": "Allow", "Principal": "*", "Action": "ecr:BatchGetImage"},
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "ecr:BatchGetImage"},
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::*:root"}, "Action": "ecr:BatchGetImage"},
        {"Effect": "Deny", "Principal": "*", "Action": "ecr:*"},
    )
    suffix = "without a condition on aws:PrincipalOrgID, aws:PrincipalAccount or a similar key"
    assert principal_problems(doc, ALLOWED) == PrincipalVerdict(
        (
            f'Statement[0] "Open" allows public principal * {suffix}',
            f'Statement[1] allows public principal AWS "*" {suffix}',
            f'Statement[2] allows public principal AWS "arn:aws:iam::*:root" {suffix}',
        ),
        (),
    )


@pytest.mark.parametrize(
    "condition",
    [
        {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}},
        {"StringEquals": {"AWS:PRINCIPALORGID": ["o-abc123", "o-def456"]}},
        {"StringEquals": {"aws:PrincipalOrgID": "${data.aws_organizations_organization.this.id}"}},
        {"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": "o-abc/r-1/ou-2/*"}},
        {"StringEquals": {"aws:PrincipalAccount": "111122223333"}},
        {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::111122223333:role/*"}},
        {"StringEquals": {"aws:SourceAccount": "111122223333"}},
        {"ArnLike": {"aws:SourceArn": "arn:aws:lambda:ap-northeast-2:111122223333:function:*"}},
        {"StringEquals": {"aws:SourceOrgID": "o-abc"}},
    ],
)
def test_public_principal_with_narrowing_condition_passes(condition):
    assert principal_problems(grant("*", condition), ALLOWED, allowed_organizations=ORGS) == PrincipalVerdict((), ())
    assert principal_problems(grant({"AWS": "*"}, condition), ALLOWED, allowed_organizations=ORGS) == PrincipalVerdict((), ())


@pytest.mark.parametrize(
    "condition",
    [
        {"StringNotEquals": {"aws:PrincipalOrgID": "o-abc"}},
        {"StringEqualsIfExists": {"aws:PrincipalOrgID": "o-abc"}},
        {"ForAllValues:StringEquals": {"aws:PrincipalOrgID": "o-abc"}},
        {"Null": {"aws:PrincipalOrgID": "false"}},
        {"StringLike": {"aws:PrincipalOrgID": "*"}},
        {"StringLike": {"aws:PrincipalAccount": "1111*"}},
        {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/ci"}},
        {"ArnLike": {"aws:SourceArn": "*"}},
        {"StringLike": {"aws:PrincipalOrgPaths": "*/r-1/*"}},
        {"Bool": {"aws:SecureTransport": "true"}},
        {"StringEquals": {"aws:UserAgent": "docker"}},
    ],
)
def test_public_principal_with_non_narrowing_condition_fails(condition):
    verdict = principal_problems(grant("*", condition), ALLOWED)
    assert len(verdict.failures) == 1 and verdict.failures[0].startswith("Statement[0] allows public principal *")


def test_accounts_outside_the_allowed_list_fail():
    doc = grant({"AWS": ["999988887777", "arn:aws:iam::999988887777:role/x", "arn:aws:iam::111122223333:root"]})
    assert principal_problems(doc, ALLOWED) == PrincipalVerdict(
        (
            'Statement[0] allows account 999988887777 ("999988887777"), which is not an allowed account',
            'Statement[0] allows account 999988887777 ("arn:aws:iam::999988887777:role/x"), which is not an allowed account',
        ),
        (),
    )
    assert principal_problems(doc, frozenset(), own_account="999988887777").failures == (
        'Statement[0] allows account 111122223333 ("arn:aws:iam::111122223333:root"), which is not an allowed account',
    )


def test_unknown_placeholders_are_unknowns():
    doc = grant({"AWS": ["${var.account_id}", "arn:aws:iam::${var.ci_account}:role/ci", "${aws_iam_role.ci.arn}"]})
    assert principal_problems(doc, ALLOWED) == PrincipalVerdict(
        (),
        (
            'Statement[0] allows AWS principal "${var.account_id}", which is known only at plan time',
            'Statement[0] allows AWS principal "arn:aws:iam::${var.ci_account}:role/ci"; its account ${var.ci_account} is known only at plan time',
            'Statement[0] allows AWS principal "${aws_iam_role.ci.arn}", which is known only at plan time',
        ),
    )


def test_caller_identity_other_attribute_is_not_own_account():
    doc = grant({"AWS": "arn:aws:iam::${data.aws_caller_identity.current.id}:root"})
    assert principal_problems(doc, ALLOWED).unknowns == (
        'Statement[0] allows AWS principal "arn:aws:iam::${data.aws_caller_identity.current.id}:root"; '
        "its account ${data.aws_caller_identity.current.id} is known only at plan time",
    )


def test_federated_other_types_and_malformed_principals_fail():
    doc = grant(
        {
            "Federated": "token.actions.githubusercontent.com",
            "CanonicalUser": "abc",
            "Service": "*.amazonaws.com",
            "AWS": ["AIDAEXAMPLEUNIQUEID", "arn:aws:iam::12345:root"],
        }
    )
    assert principal_problems(doc, ALLOWED).failures == (
        'Statement[0] allows federated principal Federated "token.actions.githubusercontent.com"; grant the IAM role it assumes instead',
        'Statement[0] allows principal CanonicalUser "abc", which ECR policies do not support',
        'Statement[0] allows service principal Service "*.amazonaws.com" with a wildcard',
        'Statement[0] allows AWS principal "AIDAEXAMPLEUNIQUEID" whose account cannot be determined',
        'Statement[0] allows AWS principal "arn:aws:iam::12345:root" whose account cannot be determined',
    )


def test_not_principal_with_allow_and_missing_principal_fail():
    doc = policy(
        {"Effect": "Allow", "NotPrincipal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "ecr:*"},
        {"Effect": "Deny", "NotPrincipal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "ecr:*"},
        {"Effect": "Allow", "Action": "ecr:BatchGetImage"},
    )
    assert principal_problems(doc, ALLOWED) == PrincipalVerdict(
        (
            "Statement[0] uses NotPrincipal with Allow, which allows every principal not listed",
            "Statement[2] has no Principal; a repository policy statement must name one",
        ),
        (),
    )


# --- ECR005: conditions are judged by whom they name (issue 12 item 8) ----------------------

EXTERNAL = "999999999999"


@pytest.mark.parametrize(
    "condition",
    [
        {"StringEquals": {"aws:PrincipalAccount": OWN}},
        {"StringEquals": {"aws:PrincipalAccount": "${aws:ResourceAccount}"}},
        {"StringEquals": {"aws:PrincipalAccount": ["111122223333", OWN]}},
        {"StringEqualsIgnoreCase": {"aws:PrincipalAccount": "444455556666"}},
        {"ForAnyValue:StringEquals": {"aws:SourceOwner": "111122223333"}},
        {"ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::111122223333:role/*"}},
        {"ArnLike": {"aws:PrincipalArn": f"arn:*:iam::{OWN}:*"}},
        {"StringLike": {"aws:userid": "111122223333:*"}},
        {"StringEquals": {"aws:PrincipalOrgID": "${aws:ResourceOrgID}"}},
        {"StringEquals": {"aws:PrincipalOrgID": "${data.aws_organizations_organization.this.id}"}},
        {"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": "${data.aws_organizations_organization.org.id}/r-ab12/*"}},
        # AND: the grant is as narrow as its narrowest condition
        {"StringEquals": {"aws:PrincipalAccount": EXTERNAL, "aws:PrincipalOrgID": "o-abc"}},
        {"StringEquals": {"aws:PrincipalAccount": "111122223333"}, "StringLike": {"aws:PrincipalArn": "*"}},
    ],
)
def test_public_principal_narrowed_to_allowed_callers_passes(condition):
    verdict = principal_problems(grant("*", condition), ALLOWED, own_account="444455556666", allowed_organizations=ORGS)
    assert verdict == PrincipalVerdict((), ())


PUBLIC = "Statement[0] allows public principal *"


@pytest.mark.parametrize(
    "condition, failure",
    [
        ({"StringEquals": {"aws:PrincipalAccount": EXTERNAL}},
         f'to account {EXTERNAL} (aws:PrincipalAccount "{EXTERNAL}"), which is neither this account nor in allowed_accounts'),
        ({"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{EXTERNAL}:*"}},
         f'to account {EXTERNAL} (aws:PrincipalArn "arn:aws:iam::{EXTERNAL}:*"), which is neither this account nor in allowed_accounts'),
        ({"StringEquals": {"AWS:SOURCEACCOUNT": EXTERNAL}},
         f'to account {EXTERNAL} (aws:SourceAccount "{EXTERNAL}"), which is neither this account nor in allowed_accounts'),
        ({"StringEquals": {"aws:SourceOwner": EXTERNAL}},
         f'to account {EXTERNAL} (aws:SourceOwner "{EXTERNAL}"), which is neither this account nor in allowed_accounts'),
        ({"ArnLike": {"aws:SourceArn": f"arn:aws:sns:us-east-1:{EXTERNAL}:topic"}},
         f'to account {EXTERNAL} (aws:SourceArn "arn:aws:sns:us-east-1:{EXTERNAL}:topic"), which is neither this account nor in allowed_accounts'),
        ({"StringLike": {"aws:userid": f"{EXTERNAL}:*"}},
         f'to account {EXTERNAL} (aws:userid "{EXTERNAL}:*"), which is neither this account nor in allowed_accounts'),
        ({"StringEquals": {"aws:PrincipalOrgID": "o-zzzz999999"}},
         'to organization o-zzzz999999 (aws:PrincipalOrgID "o-zzzz999999"), which is neither this organization nor in allowed_organizations'),
        ({"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": "o-zzzz999999/*"}},
         'to organization o-zzzz999999 (aws:PrincipalOrgPaths "o-zzzz999999/*"), which is neither this organization nor in allowed_organizations'),
        ({"StringLike": {"aws:PrincipalAccount": "1111*"}},
         "when aws:PrincipalAccount \"1111*\", which admits any account matching '1111*'"),
        ({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/ci"}},
         "when aws:PrincipalArn \"arn:aws:iam::*:role/ci\", which admits any account matching '*'"),
        ({"StringLike": {"aws:PrincipalArn": "arn:aws:*:*:111122223333:*"}},
         'when aws:PrincipalArn "arn:aws:*:*:111122223333:*", which matches ARNs of any account (in StringLike a '
         'wildcard before the account field also matches ":"; use ArnLike)'),
        ({"StringLike": {"aws:PrincipalArn": "*999999999999*"}},
         'when aws:PrincipalArn "*999999999999*", which matches ARNs of any account'),
        ({"StringLike": {"aws:userid": "*:ci-session"}},
         'when aws:userid "*:ci-session", which matches callers of any account'),
        ({"StringEquals": {"aws:PrincipalAccount": "${aws:PrincipalAccount}"}},
         'when aws:PrincipalAccount "${aws:PrincipalAccount}", which is not a fixed account'),
        ({"StringEquals": {"aws:PrincipalAccount": "abc"}},
         "when aws:PrincipalAccount \"abc\", and 'abc' is not an account ID"),
        ({"StringEquals": {"aws:PrincipalArn": "ci-role"}}, 'when aws:PrincipalArn "ci-role", which is not an ARN'),
    ],
)
def test_public_principal_narrowed_to_another_account_fails_naming_it(condition, failure):
    verdict = principal_problems(grant("*", condition), ALLOWED, allowed_organizations=ORGS)
    assert verdict == PrincipalVerdict((f"{PUBLIC} {failure}",), ())


def test_values_of_one_key_are_alternatives_and_each_outsider_is_named():
    doc = grant({"AWS": "*"}, {"StringEquals": {"aws:PrincipalAccount": ["111122223333", EXTERNAL, "888877776666"]}})
    assert principal_problems(doc, ALLOWED).failures == tuple(
        f'Statement[0] allows public principal AWS "*" to account {a} (aws:PrincipalAccount "{a}"), '
        "which is neither this account nor in allowed_accounts" for a in (EXTERNAL, "888877776666"))


@pytest.mark.parametrize(
    "condition, unknown",
    [
        ({"StringEquals": {"aws:PrincipalAccount": "${var.partner}"}},
         'when aws:PrincipalAccount "${var.partner}", whose account is known only at plan time'),
        ({"StringEquals": {"aws:PrincipalOrgID": "${var.org_id}"}},
         'when aws:PrincipalOrgID "${var.org_id}", whose organization is known only at plan time'),
        ({"StringLike": {"aws:userid": "AROAEXAMPLEID:*"}},
         'when aws:userid "AROAEXAMPLEID:*", a unique ID (AROAEXAMPLEID) whose account cannot be told from the policy'),
        ({"ArnLike": {"aws:SourceArn": "arn:aws:s3:::build-artifacts"}},
         'when aws:SourceArn "arn:aws:s3:::build-artifacts", an ARN without an account field, whose owner cannot '
         "be told from the policy"),
        # one value unknown, the other allowed: the grant may reach the unknown one
        ({"StringEquals": {"aws:SourceAccount": ["111122223333", "${var.partner}"]}},
         'when aws:SourceAccount "${var.partner}", whose account is known only at plan time'),
    ],
)
def test_public_principal_narrowed_to_what_cannot_be_known_is_unknown(condition, unknown):
    assert principal_problems(grant("*", condition), ALLOWED) == PrincipalVerdict((), (f"{PUBLIC} {unknown}",))


def test_an_outsider_fails_even_beside_an_unknown_condition():
    doc = grant("*", {"StringEquals": {"aws:PrincipalAccount": EXTERNAL, "aws:SourceAccount": "${var.x}"}})
    assert principal_problems(doc, ALLOWED) == PrincipalVerdict(
        (f'{PUBLIC} to account {EXTERNAL} (aws:PrincipalAccount "{EXTERNAL}"), which is neither this account nor in '
         "allowed_accounts",), ())


@pytest.mark.parametrize(
    "operator",
    ["StringNotEquals", "StringEqualsIfExists", "ForAllValues:StringEquals", "ArnNotLike", "ArnLikeIfExists",
     "ForAnyValue:StringNotLike", "NumericEquals", "Null"],
)
def test_operators_that_hold_without_the_key_do_not_narrow_even_to_this_account(operator):
    verdict = principal_problems(grant("*", {operator: {"aws:PrincipalAccount": "111122223333"}}), ALLOWED)
    assert verdict.failures == (f"{PUBLIC} without a condition on aws:PrincipalOrgID, aws:PrincipalAccount or a "
                                "similar key",)


def test_deny_statements_naming_other_accounts_are_ignored():
    doc = policy(
        {"Effect": "Deny", "Principal": "*", "Action": "ecr:*",
         "Condition": {"StringEquals": {"aws:PrincipalAccount": EXTERNAL}}},
        {"Effect": "Allow", "Principal": "*", "Action": "ecr:BatchGetImage",
         "Condition": {"StringEquals": {"aws:PrincipalAccount": OWN}}},
    )
    assert principal_problems(doc, ALLOWED) == PrincipalVerdict((), ())
