"""Regressions found by sweeping ../shared/corpus: each test is one wrong verdict, now right."""

from __future__ import annotations

from ecr_lint.hcl.evaluate import deep_plain

from conftest import failures, lint_files, statuses, unknowns


def test_operator_at_the_start_of_a_line_inside_parentheses(tmp_path):
    report = lint_files(tmp_path, {"main.tf": '''
        locals {
          n = (
            length(["a"])
            + 1 > 1
          )
        }
        resource "aws_kms_key" "k" {
          count               = local.n ? 1 : 0
          enable_key_rotation = true
        }
    '''}, select=frozenset({"ECR010", "ECR000"}))
    assert report.errors == [] and unknowns(report) == set()
    assert statuses(report, "ECR010") == {"aws_kms_key.k[0]": "pass"}


def test_missing_rotation_fails_even_when_other_attributes_are_unknown(tmp_path):
    report = lint_files(tmp_path, {"main.tf": '''
        variable "env" {}
        resource "aws_kms_key" "logs" {
          tags = { Environment = var.env }
        }
        resource "aws_kms_key" "signing" {
          key_usage                = "SIGN_VERIFY"
          customer_master_key_spec = "RSA_4096"
        }
    '''}, select=frozenset({"ECR010"}))
    assert statuses(report, "ECR010") == {"aws_kms_key.logs": "fail", "aws_kms_key.signing": "pass"}


def test_partly_known_json_is_not_null_so_count_is_known(tmp_path):
    report = lint_files(tmp_path, {"main.tf": '''
        data "aws_caller_identity" "current" {}
        locals {
          policy = jsonencode({
            Version = "2012-10-17"
            Statement = [{ Effect = "Allow", Action = ["ecr:BatchGetImage"],
              Principal = { AWS = "arn:aws:iam::${data.aws_caller_identity.current.account_id}:root" } }]
          })
        }
        resource "aws_ecr_repository_policy" "p" {
          count      = local.policy != null && local.policy != "" ? 1 : 0
          repository = "app"
          policy     = local.policy
        }
    '''}, select=frozenset({"ECR004", "ECR005", "ECR000"}))
    assert unknowns(report) == set() and failures(report) == set()
    assert statuses(report, "ECR005") == {"aws_ecr_repository_policy.p[0]": "pass"}


def test_repository_policy_read_through_a_policy_document(tmp_path):
    report = lint_files(tmp_path, {"main.tf": '''
        data "aws_iam_policy_document" "public" {
          statement {
            actions = ["ecr:BatchGetImage"]
            principals {
              type        = "AWS"
              identifiers = ["*"]
            }
          }
        }
        resource "aws_ecr_repository_policy" "p" {
          repository = "app"
          policy     = data.aws_iam_policy_document.public.json
        }
    '''}, select=frozenset({"ECR005"}))
    assert failures(report) == {("ECR005", "aws_ecr_repository_policy.p")}


def test_roles_created_by_the_stack_are_this_account(tmp_path):
    report = lint_files(tmp_path, {"main.tf": '''
        resource "aws_iam_role" "ci" {
          name               = "ci"
          assume_role_policy = "{}"
        }
        resource "aws_ecr_repository_policy" "p" {
          repository = "app"
          policy = jsonencode({
            Version   = "2012-10-17"
            Statement = [{ Effect = "Allow", Principal = { AWS = aws_iam_role.ci.arn }, Action = ["ecr:BatchGetImage"] }]
          })
        }
    '''}, select=frozenset({"ECR005"}))
    assert statuses(report, "ECR005") == {"aws_ecr_repository_policy.p": "pass"}


def test_aws_managed_full_access_attached_by_arn_and_unused_documents(tmp_path):
    report = lint_files(tmp_path, {"main.tf": '''
        resource "aws_iam_role_policy_attachment" "full" {
          role       = "ci"
          policy_arn = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryFullAccess"
        }
        resource "aws_iam_role_policy_attachment" "ssm" {
          role       = "ci"
          policy_arn = "arn:aws:iam::aws:policy/AmazonSSMReadOnlyAccess"
        }
        data "aws_iam_policy_document" "unused" {
          statement {
            actions   = ["ecr:*"]
            resources = ["*"]
          }
        }
    '''}, select=frozenset({"ECR004"}))
    assert statuses(report, "ECR004") == {"aws_iam_role_policy_attachment.full": "fail",
                                          "aws_iam_role_policy_attachment.ssm": "pass",
                                          "data.aws_iam_policy_document.unused": "pass"}


def test_duplicate_resource_is_an_input_error_naming_both_places(tmp_path):
    report = lint_files(tmp_path, {"a.tf": 'resource "aws_kms_key" "k" {}\n', "b.tf": '\nresource "aws_kms_key" "k" {}\n'})
    assert [(e.file.rsplit("/", 1)[-1], e.line, e.message) for e in report.errors] == [
        ("b.tf", 2, "aws_kms_key.k is declared twice (first at a.tf:1); this one is ignored")]


def test_unknown_for_each_keeps_verdicts_and_is_reported_by_ecr000(tmp_path):
    report = lint_files(tmp_path, {"main.tf": '''
        variable "keys" {}
        resource "aws_kms_key" "k" {
          for_each            = var.keys
          enable_key_rotation = true
        }
    '''}, select=frozenset({"ECR010", "ECR000"}))
    assert statuses(report, "ECR010") == {"aws_kms_key.k": "pass"}
    assert unknowns(report) == {("ECR000", "aws_kms_key.k")}


def test_path_cwd_is_the_root_module_and_more_functions(tmp_path):
    stack = tmp_path / "complete"
    report = lint_files(stack, {"main.tf": '''
        locals {
          x = {
            dir     = basename(path.cwd)
            sign    = signum(-3)
            product = setproduct(["a"], [1, 2])
            yaml    = yamldecode("repos:\\n  - api\\n  - web\\n")
            joined  = join("/", ["a", aws_kms_key.k.arn])
          }
        }
        resource "aws_kms_key" "k" {
          enable_key_rotation = true
        }
    '''})
    from ecr_lint.loaders.evaluation import StackLoader

    value = StackLoader(str(stack), {}, [str(stack)]).load().module_values["local.x"]
    assert deep_plain(value)["dir"] == "complete"
    assert deep_plain(value)["sign"] == -1
    assert deep_plain(value)["product"] == [["a", 1], ["a", 2]]
    assert deep_plain(value)["yaml"] == {"repos": ["api", "web"]}
    assert deep_plain(value)["joined"].partial == "a/${aws_kms_key.k.arn}"
    assert report.errors == []
