"""The Terraform language: its syntax (python-hcl2's parser -> a small AST), expression
evaluation (values, Unknown, references) and the built-in functions. Nothing here reads a file
or knows what a module or a stack is: that is ecr_lint/loaders/."""
