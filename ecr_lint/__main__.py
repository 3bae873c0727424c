"""Allow `python -m ecr_lint`."""

from ecr_lint.cli import main

main()
