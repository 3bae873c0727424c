"""The stacks really work with Terraform: fmt, validate, and plan/apply/destroy
against moto on 127.0.0.1 (no AWS account, no network).

Needs terraform + the offline hashicorp/aws provider (/opt/tf-plugins or
ECR_LINT_TF_PLUGIN_DIR) and moto[server]/boto3; skipped otherwise, failed
instead under ECR_LINT_REQUIRE_TERRAFORM=1.  Fixtures: tests/terraform_fixtures.py.
"""

from __future__ import annotations

import json

import pytest

import tfharness as h

pytestmark = [pytest.mark.terraform, pytest.mark.usefixtures("tf_required")]

REPO = h.REPO_ROOT
SHIPPED = REPO / "terraform" / "ecr" / "fileflow"
SEED = REPO / "fixtures" / "seed_as_written"
REPOSITORY = "fileflow"
URL_PARAM = "/shared/ecr/fileflow-repository-url"


def test_fmt_check_passes():
    proc = h.terraform_fmt_check("terraform/ecr", "fixtures")
    assert proc.returncode == 0, (
        "terraform fmt -check -recursive terraform/ecr fixtures found unformatted files "
        f"(run `terraform fmt -recursive terraform/ecr fixtures`):\n{proc.stdout}\n{proc.stderr}")


@pytest.mark.parametrize("stack", [SHIPPED, SEED], ids=["terraform/ecr/fileflow", "fixtures/seed_as_written"])
def test_validate(stack):
    with h.TfWorkspace(stack) as ws:
        ws.init()
        result = ws.validate()
    assert result["valid"] is True
    assert result["error_count"] == 0


@pytest.fixture(scope="module")
def fileflow_plan(tf_required, moto_server):
    """init + plan of the shipped stack against a freshly bootstrapped moto; the
    workspace (and its saved plan) is shared by the plan and apply tests."""
    moto_server.reset()
    key_arn = h.bootstrap(moto_server.endpoint)
    with h.TfWorkspace(SHIPPED, moto_server.endpoint) as ws:
        ws.init()
        planfile = ws.plan("fileflow.tfplan")
        yield {"ws": ws, "planfile": planfile, "plan": ws.show_json(planfile),
               "key_arn": key_arn, "moto": moto_server}


def _change(plan: dict, address: str) -> dict:
    by_address = {rc["address"]: rc for rc in plan.get("resource_changes", [])}
    assert address in by_address, f"{address} not in plan; have {sorted(by_address)}"
    return by_address[address]["change"]


def test_plan_against_moto(fileflow_plan):
    plan = fileflow_plan["plan"]
    assert plan["errored"] is False
    repo = _change(plan, "aws_ecr_repository.fileflow")
    assert repo["actions"] == ["create"]
    assert repo["after"]["image_tag_mutability"] == "IMMUTABLE"
    assert repo["after"]["encryption_configuration"] == [
        {"encryption_type": "KMS", "kms_key": fileflow_plan["key_arn"]}]
    # every resource in the stack is planned for creation, nothing else
    assert {rc["address"] for rc in plan["resource_changes"]} == {
        "aws_cloudwatch_event_rule.ecr_scan_finding",
        "aws_cloudwatch_event_target.sns",
        "aws_ecr_lifecycle_policy.fileflow",
        "aws_ecr_repository.fileflow",
        "aws_ecr_repository_policy.fileflow",
        "aws_iam_policy.ecr_pull",
        "aws_iam_policy.ecr_push",
        "aws_sns_topic.security_alerts",
        "aws_sns_topic_policy.security_alerts",
        "aws_ssm_parameter.repository_url",
    }


def _lifecycle_rule(rules: list[dict], tag_status: str) -> dict:
    matching = [r for r in rules if r["selection"]["tagStatus"] == tag_status]
    assert len(matching) == 1, f"expected one {tag_status} rule in {rules}"
    return matching[0]


def test_apply_and_destroy_against_moto(fileflow_plan):
    ws, endpoint, key_arn = fileflow_plan["ws"], fileflow_plan["moto"].endpoint, fileflow_plan["key_arn"]
    ecr = h.boto_client("ecr", endpoint)
    ssm = h.boto_client("ssm", endpoint)

    ws.apply(fileflow_plan["planfile"])

    (repo,) = ecr.describe_repositories(repositoryNames=[REPOSITORY])["repositories"]
    assert repo["imageScanningConfiguration"]["scanOnPush"] is True
    assert repo["imageTagMutability"] == "IMMUTABLE"
    assert repo["encryptionConfiguration"] == {"encryptionType": "KMS", "kmsKey": key_arn}

    rules = json.loads(ecr.get_lifecycle_policy(repositoryName=REPOSITORY)["lifecyclePolicyText"])["rules"]
    assert len(rules) == 2
    tagged = _lifecycle_rule(rules, "tagged")
    assert tagged["selection"]["tagPrefixList"] == ["v"]
    assert tagged["selection"]["countType"] == "imageCountMoreThan"
    assert tagged["selection"]["countNumber"] == 30
    assert tagged["action"]["type"] == "expire"
    untagged = _lifecycle_rule(rules, "untagged")
    assert untagged["selection"]["countType"] == "sinceImagePushed"
    assert untagged["selection"]["countUnit"] == "days"
    assert untagged["selection"]["countNumber"] == 7
    assert untagged["action"]["type"] == "expire"

    param = ssm.get_parameter(Name=URL_PARAM)["Parameter"]
    assert param["Value"] == repo["repositoryUri"]
    assert ws.output_json()["repository_url"]["value"] == repo["repositoryUri"]

    ws.destroy()

    with pytest.raises(ecr.exceptions.RepositoryNotFoundException):
        ecr.describe_repositories(repositoryNames=[REPOSITORY])
    with pytest.raises(ssm.exceptions.ParameterNotFound):
        ssm.get_parameter(Name=URL_PARAM)
