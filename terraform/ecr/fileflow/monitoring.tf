# Alert on CRITICAL scan findings for this repository (checklist section 7).
# Subscribe the security team's endpoint to the topic out of band.

resource "aws_sns_topic" "security_alerts" {
  name = "ecr-${local.repository_name}-security-alerts"

  tags = merge(
    local.required_tags,
    {
      Name      = "ecr-${local.repository_name}-security-alerts"
      Component = "security-monitoring"
    }
  )
}

resource "aws_cloudwatch_event_rule" "ecr_scan_finding" {
  name        = "ecr-${local.repository_name}-critical-vulnerability-found"
  description = "Trigger when ECR finds CRITICAL vulnerabilities in ${local.repository_name}"

  # Filtered to this repository: without repository-name, every copied service stack
  # would alert on every repository's findings.
  event_pattern = jsonencode({
    source      = ["aws.ecr"]
    detail-type = ["ECR Image Scan"]
    detail = {
      repository-name = [local.repository_name]
      finding-severity-counts = {
        CRITICAL = [{
          numeric = [">", 0]
        }]
      }
    }
  })

  tags = merge(
    local.required_tags,
    {
      Name      = "ecr-${local.repository_name}-critical-vulnerability-found"
      Component = "security-monitoring"
    }
  )
}

resource "aws_cloudwatch_event_target" "sns" {
  rule      = aws_cloudwatch_event_rule.ecr_scan_finding.name
  target_id = "SendToSNS"
  arn       = aws_sns_topic.security_alerts.arn
}

resource "aws_sns_topic_policy" "security_alerts" {
  arn = aws_sns_topic.security_alerts.arn

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid    = "AllowEventBridgePublish"
        Effect = "Allow"
        Principal = {
          Service = "events.amazonaws.com"
        }
        Action   = "sns:Publish"
        Resource = aws_sns_topic.security_alerts.arn
        Condition = {
          StringEquals = {
            "aws:SourceAccount" = data.aws_caller_identity.current.account_id
          }
          ArnEquals = {
            "aws:SourceArn" = aws_cloudwatch_event_rule.ecr_scan_finding.arn
          }
        }
      }
    ]
  })
}
