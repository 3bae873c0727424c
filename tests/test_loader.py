"""The HCL loader: the constructs real stacks use, each with exact (rule_id, address) results."""

from __future__ import annotations

import json

from conftest import failures, lint_files, statuses


def test_tf_json_stack_with_templates_and_nested_blocks(tmp_path):
    stack = {
        "variable": {"env": {"default": "prod"}},
        "resource": {"aws_ecr_repository": {"app": {
            "name": "app-${var.env}",
            "image_tag_mutability": "${var.env == \"prod\" ? \"IMMUTABLE\" : \"MUTABLE\"}",
            "image_scanning_configuration": {"scan_on_push": True},
            "encryption_configuration": {"encryption_type": "AES256"},
        }}},
    }
    report = lint_files(tmp_path, {"main.tf.json": json.dumps(stack)}, select=frozenset({"ECR001", "ECR002", "ECR003"}))
    assert report.errors == []
    assert statuses(report, "ECR003") == {"aws_ecr_repository.app": "pass"}
    assert statuses(report, "ECR002") == {"aws_ecr_repository.app": "pass"}
    assert failures(report) == {("ECR001", "aws_ecr_repository.app")}


def test_quoted_and_unquoted_labels_are_the_same(tmp_path):
    report = lint_files(tmp_path, {"main.tf": '''
resource aws_kms_key unquoted {
  enable_key_rotation = false
}
resource "aws_kms_key" "quoted" {
  enable_key_rotation = false
}
'''}, select=frozenset({"ECR010"}))
    assert failures(report) == {("ECR010", "aws_kms_key.unquoted"), ("ECR010", "aws_kms_key.quoted")}


def test_module_for_each_instances_and_their_outputs(tmp_path):
    report = lint_files(tmp_path, {
        "main.tf": '''
module "repo" {
  for_each = { api = "IMMUTABLE", web = "MUTABLE" }
  source   = "./modules/repo"
  name     = each.key
  mode     = each.value
}
resource "aws_ssm_parameter" "api" {
  name  = "/shared/ecr/api-repository-url"
  type  = "String"
  value = module.repo["api"].url
}
''',
        "modules/repo/main.tf": '''
variable "name" {}
variable "mode" {}
resource "aws_ecr_repository" "this" {
  name                 = var.name
  image_tag_mutability = var.mode
}
output "url" {
  value = aws_ecr_repository.this.repository_url
}
'''}, select=frozenset({"ECR003", "ECR008"}), environment="prod")
    assert report.errors == []
    assert statuses(report, "ECR003") == {'module.repo["api"].aws_ecr_repository.this': "pass",
                                          'module.repo["web"].aws_ecr_repository.this': "fail"}
    assert statuses(report, "ECR008") == {'module.repo["api"].aws_ecr_repository.this': "pass",
                                          'module.repo["web"].aws_ecr_repository.this': "fail"}


def test_dynamic_blocks_are_expanded(tmp_path):
    report = lint_files(tmp_path, {"main.tf": '''
variable "scans" {
  default = [true]
}
resource "aws_ecr_repository" "app" {
  name = "app"
  dynamic "image_scanning_configuration" {
    for_each = var.scans
    content {
      scan_on_push = image_scanning_configuration.value
    }
  }
}
'''}, select=frozenset({"ECR002"}))
    assert statuses(report, "ECR002") == {"aws_ecr_repository.app": "pass"}


def test_tfvars_json_and_var_values_that_are_hcl(tmp_path):
    files = {
        # Typed: -var values are HCL only for a complex type (an untyped variable takes the raw
        # text, as Terraform does: tests/test_inputs.py checks that against terraform itself).
        "main.tf": 'variable "names" {\n  type = list(string)\n}\nvariable "rotate" {\n  type = bool\n}\n'
                   'resource "aws_kms_key" "k" {\n  for_each            = toset(var.names)\n'
                   '  enable_key_rotation = var.rotate\n}\n',
        "terraform.tfvars.json": json.dumps({"names": ["a", "b"], "rotate": True}),
    }
    report = lint_files(tmp_path, files, select=frozenset({"ECR010"}))
    assert statuses(report, "ECR010") == {'aws_kms_key.k["a"]': "pass", 'aws_kms_key.k["b"]': "pass"}
    report = lint_files(tmp_path, files, select=frozenset({"ECR010"}), variables={"names": '["c"]', "rotate": "false"})
    assert statuses(report, "ECR010") == {'aws_kms_key.k["c"]': "fail"}


def test_count_and_splat_through_locals(tmp_path):
    report = lint_files(tmp_path, {"main.tf": '''
resource "aws_ecr_repository" "r" {
  count = 2
  name  = "repo-${count.index}"
}
locals {
  names = aws_ecr_repository.r[*].name
}
resource "aws_ecr_lifecycle_policy" "p" {
  count      = length(local.names)
  repository = local.names[count.index]
  policy     = jsonencode({ rules = [
    { rulePriority = 1, selection = { tagStatus = "any", countType = "imageCountMoreThan", countNumber = 50 },
      action = { type = "expire" } }] })
}
'''}, select=frozenset({"ECR006"}))
    assert statuses(report, "ECR006") == {"aws_ecr_repository.r[0]": "pass", "aws_ecr_repository.r[1]": "pass"}
