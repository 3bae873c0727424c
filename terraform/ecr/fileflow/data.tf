# Customer-managed KMS key shared by ECS/ECR, published by the KMS stack.
data "aws_ssm_parameter" "ecs-secrets-key-arn" {
  name = "/shared/kms/ecs-secrets-key-arn"
}

data "aws_caller_identity" "current" {}
