# Least-privilege policies to attach to the roles that use this repository.
# ecr:GetAuthorizationToken only works on Resource "*", so it has its own statement;
# every other action is scoped to this repository's ARN.

# Pull: ECS task execution roles and other consumers.
resource "aws_iam_policy" "ecr_pull" {
  name        = "ecr-${local.repository_name}-pull"
  description = "Pull images from the ${local.repository_name} ECR repository"

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "GetAuthorizationToken"
        Effect   = "Allow"
        Action   = ["ecr:GetAuthorizationToken"]
        Resource = "*"
      },
      {
        Sid    = "PullImages"
        Effect = "Allow"
        Action = [
          "ecr:BatchCheckLayerAvailability",
          "ecr:GetDownloadUrlForLayer",
          "ecr:BatchGetImage"
        ]
        Resource = aws_ecr_repository.fileflow.arn
      }
    ]
  })

  tags = merge(
    local.required_tags,
    {
      Name      = "ecr-${local.repository_name}-pull"
      Component = "container-registry"
    }
  )
}

# Push: the CI/CD pipeline.
resource "aws_iam_policy" "ecr_push" {
  name        = "ecr-${local.repository_name}-push"
  description = "Push images to the ${local.repository_name} ECR repository"

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "GetAuthorizationToken"
        Effect   = "Allow"
        Action   = ["ecr:GetAuthorizationToken"]
        Resource = "*"
      },
      {
        Sid    = "PushImages"
        Effect = "Allow"
        Action = [
          "ecr:BatchCheckLayerAvailability",
          "ecr:PutImage",
          "ecr:InitiateLayerUpload",
          "ecr:UploadLayerPart",
          "ecr:CompleteLayerUpload"
        ]
        Resource = aws_ecr_repository.fileflow.arn
      }
    ]
  })

  tags = merge(
    local.required_tags,
    {
      Name      = "ecr-${local.repository_name}-push"
      Component = "container-registry"
    }
  )
}
