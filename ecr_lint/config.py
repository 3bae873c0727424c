"""Settings for a run: defaults < config file < command line."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

DEFAULT_REQUIRED_TAGS = ("Owner", "CostCenter", "Environment", "Lifecycle", "DataClass", "Service")


@dataclass(frozen=True)
class Config:
    select: frozenset[str] = frozenset()          # empty: every rule
    ignore: frozenset[str] = frozenset()
    fail_on: str = "error"                        # error | warning | never
    environment: str | None = None                # forces the environment of every repository
    production_environments: tuple[str, ...] = ("prod", "production", "prd")
    unknown_environment: str = "production"       # production | unknown
    unknown_values: str = "warning"               # how an unknown verdict is reported: warning | error | pass
    required_tags: tuple[str, ...] = DEFAULT_REQUIRED_TAGS
    allowed_accounts: frozenset[str] = frozenset()
    ssm_export_name: str = "/shared/ecr/{name}-repository-url"
    kms_key_parameter: str = "/shared/kms/ecs-secrets-key-arn"
    severity: dict[str, str] = field(default_factory=dict)
    source_root: str | None = None                # where a plan's .tf files are (default: beside it)
    changed_only: bool = False                    # plans: only resources created or changed
    var_files: tuple[str, ...] = ()
    variables: dict[str, str] = field(default_factory=dict)

    def with_(self, **changes: Any) -> "Config":
        return replace(self, **{k: v for k, v in changes.items() if v is not None})
