"""Settings for a run: defaults < config file < command line, one JSON Schema for the file."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, fields, replace
from typing import Any

DEFAULT_REQUIRED_TAGS = ("Owner", "CostCenter", "Environment", "Lifecycle", "DataClass", "Service")
CONFIG_FILES = (".ecr-lint.toml", "pyproject.toml")
MAX_CONFIG_BYTES = 1024 * 1024


class ConfigError(Exception):
    """A config file that cannot be used: the message names the file, the key and what was expected."""


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
    ssm_external: tuple[str, ...] = ("/shared/kms/*",)   # /shared/ parameters produced outside the linted stacks
    kms_key_parameter: str = "/shared/kms/ecs-secrets-key-arn"
    severity: dict[str, str] = field(default_factory=dict)
    exclude: tuple[str, ...] = ()                 # glob patterns of paths not to lint
    non_suppressible: frozenset[str] = frozenset()
    rules_dirs: tuple[str, ...] = ()
    source_root: str | None = None                # where a plan's .tf files are (default: beside it)
    changed_only: bool = False                    # plans: only resources created or changed
    var_files: tuple[str, ...] = ()               # the config file's, then --var-file's
    var_files_from_config: tuple[str, ...] = ()   # those written in the config file: read only inside the tree
    variables: dict[str, str] = field(default_factory=dict)
    baseline: str | None = None
    max_file_bytes: int = 4 * 1024 * 1024         # larger .tf files are an input error, not read
    config_file: str | None = None                # where the settings came from, for messages

    def with_(self, **changes: Any) -> "Config":
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    def command_line_var_files(self) -> tuple[str, ...]:
        """The var files named on the command line: the person running ecr-lint vouches for them,
        so they are read wherever they are. Paths written in a config file are not trusted that
        way (the config may come from the pull request): they are read only inside the tree."""
        named = list(self.var_files)
        for path in self.var_files_from_config:
            if path in named:
                named.remove(path)
        return tuple(named)


def find_config_file(start: str) -> str | None:
    """Walk up from the linted path to the first .ecr-lint.toml, or pyproject.toml with [tool.ecr-lint]."""
    directory = os.path.abspath(start if os.path.isdir(start) else os.path.dirname(start) or ".")
    while True:
        for name in CONFIG_FILES:
            path = os.path.join(directory, name)
            if os.path.isfile(path) and (name != "pyproject.toml" or _has_tool_table(path)):
                return path
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent


def _has_tool_table(path: str) -> bool:
    try:
        return "ecr-lint" in _read_toml(path).get("tool", {})
    except ConfigError:
        return True  # let load_config report the broken file


def _read_toml(path: str) -> dict:
    import tomllib

    from ecr_lint.loaders.files import Refused, Roots, read_file

    try:
        # Through the reading gate: a regular file of at most 1 MiB (never /dev/zero or a FIFO).
        raw, _ = read_file(path, Roots((), [path]), MAX_CONFIG_BYTES)
        return tomllib.loads(raw.decode("utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except Refused as exc:
        raise ConfigError(f"{path}: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None


def _schema() -> dict:
    from importlib import resources

    return json.loads(resources.files("ecr_lint").joinpath("config.schema.json").read_text())


def load_config(path: str) -> dict:
    """The settings in a config file, validated; relative paths resolved against the file."""
    from jsonschema import Draft202012Validator

    data = _read_toml(path)
    if os.path.basename(path) == "pyproject.toml":
        data = data.get("tool", {}).get("ecr-lint", {})
        where = "[tool.ecr-lint]"
    else:
        where = ""
    data = {k.replace("-", "_"): v for k, v in data.items()}
    errors = sorted(Draft202012Validator(_schema()).iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        err = errors[0]
        key = ".".join(str(p) for p in err.absolute_path)
        if err.validator == "additionalProperties":
            extra = sorted(set(err.instance) - set(_schema()["properties"]))
            known = ", ".join(sorted(_schema()["properties"]))
            raise ConfigError(f"{path}: {where}{' ' if where else ''}unknown setting {extra[0]!r} (known: {known})")
        raise ConfigError(f"{path}: {where}{' ' if where else ''}{key or '(top level)'}: {err.message}")
    base = os.path.dirname(os.path.abspath(path))
    for key in ("rules_dirs", "var_files"):
        if key in data:
            data[key] = [os.path.normpath(os.path.join(base, p)) for p in data[key]]
    return data


def from_file(path: str | None, base: Config | None = None) -> Config:
    """Apply a config file's settings over the defaults (or over `base`)."""
    config = base or Config()
    if path is None:
        return config
    data = load_config(path)
    known = {f.name for f in fields(Config)}
    changes: dict[str, Any] = {"config_file": path}
    for key, value in data.items():
        if key not in known:
            continue
        current = getattr(config, key)
        if isinstance(current, frozenset):
            value = frozenset(value)
        elif isinstance(current, tuple):
            value = tuple(value)
        changes[key] = value
    if "var_files" in changes:
        changes["var_files_from_config"] = changes["var_files"]
    return replace(config, **changes)
