output "repository_url" {
  description = "The URL of the ECR repository"
  value       = aws_ecr_repository.fileflow.repository_url
}

output "repository_arn" {
  description = "The ARN of the ECR repository"
  value       = aws_ecr_repository.fileflow.arn
}

output "repository_name" {
  description = "The name of the ECR repository"
  value       = aws_ecr_repository.fileflow.name
}

output "registry_id" {
  description = "The registry ID where the repository was created"
  value       = aws_ecr_repository.fileflow.registry_id
}

# Cross-stack export: other stacks read this with data "aws_ssm_parameter"
# instead of referencing this stack's state.
resource "aws_ssm_parameter" "repository_url" {
  name        = "/shared/ecr/${local.repository_name}-repository-url"
  description = "ECR repository URL for ${local.repository_name}"
  type        = "String"
  value       = aws_ecr_repository.fileflow.repository_url

  tags = merge(
    local.required_tags,
    {
      Name      = "ecr-${local.repository_name}-repository-url"
      Component = "container-registry"
    }
  )
}
