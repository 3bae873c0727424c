"""Analysis of the JSON policy documents an ECR stack carries: IAM and lifecycle policies."""
