"""ecr-lint: a compliance linter for Terraform stacks that manage Amazon ECR."""

__version__ = "0.1.0"
