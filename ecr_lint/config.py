"""Settings for a run: defaults < config files < command line, one JSON Schema for the files.

Which files: those on the way from the repository root (the nearest directory holding `.git`)
down to the linted directory (for several paths, the directory that holds them all). Outside a
repository, only the linted directory's own file (or the working directory's). The walk never
reaches a directory anyone may write to (`/tmp` on a shared runner), and a config file in one is
not read (an input error says so). The first file is the root config; each file below it may
only tighten it (the `x-nested` of each setting in config.schema.json): an attempt to relax it
is an input error naming the file and line, and is not applied. `--config FILE` is used as it
is, alone.
"""

from __future__ import annotations

import functools
import json
import os
import re
import stat
from dataclasses import dataclass, field, fields, replace
from typing import Any

from ecr_lint.model import InputError
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
    production_environments: tuple[str, ...] = ("prod", "production", "prd")   # words of the value, or globs
    environment_tags: tuple[str, ...] = ("Environment", "env", "stage")        # tag keys, any case
    environment_variables: tuple[str, ...] = ("environment", "env", "stage")
    unknown_environment: str = "production"       # production | unknown
    unknown_values: str = "fail"                  # how an unknown verdict counts: fail (as a failure, at the rule's severity) | warning | error | pass
    required_tags: tuple[str, ...] = DEFAULT_REQUIRED_TAGS
    allowed_accounts: frozenset[str] = frozenset()
    allowed_organizations: frozenset[str] = frozenset()   # organizations ECR005 conditions may name
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
    baseline_since: str | None = None             # git revision to compare the baseline with (default HEAD)
    workspace: str | None = None                  # Terraform workspace (default: as Terraform picks it)
    tf_var_env: bool = True                       # read TF_VAR_ environment variables (--no-env: not)
    max_file_bytes: int = 4 * 1024 * 1024         # larger .tf files are an input error, not read
    config_file: str | None = None                # the root config file (exclude patterns are relative to it)
    fix: dict = field(default_factory=dict)       # `ecr-lint fix`: tag_values (tag -> value ECR007 may add)

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
    """The config file of one directory: .ecr-lint.toml, or pyproject.toml with [tool.ecr-lint]."""
    for name in CONFIG_FILES:
        path = os.path.join(start, name)
        if os.path.isfile(path) and (name != "pyproject.toml" or _has_tool_table(path)):
            return path
    return None


def repository_root(start: str) -> str | None:
    """The nearest directory at or above `start` holding `.git`; None when there is none below a
    directory anyone may write to (a `.git` planted in /tmp makes no repository)."""
    directory = start
    while not _anyone_writes(directory):
        if os.path.lexists(os.path.join(directory, ".git")):
            return directory
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent
    return None


def _anyone_writes(directory: str) -> bool:
    try:
        return bool(os.stat(directory).st_mode & stat.S_IWOTH)
    except OSError:
        return True  # cannot tell: not trusted


def config_files(paths: list[str]) -> tuple[list[str], list[tuple[str, str]]]:
    """(config files to use, root first; config files found but not used, with why)."""
    dirs = [os.path.realpath(p if os.path.isdir(p) else os.path.dirname(p) or ".") for p in paths]
    dirs = dirs or [os.path.realpath(".")]
    start = os.path.commonpath(dirs)
    top = repository_root(start)
    if top is None:
        chain = [start] if start in dirs or start == os.path.realpath(os.getcwd()) else []
    else:
        chain = [top]
        for part in [p for p in os.path.relpath(start, top).split(os.sep) if p not in ("", ".")]:
            chain.append(os.path.join(chain[-1], part))
    used: list[str] = []
    skipped: list[tuple[str, str]] = []
    for directory in chain:
        found = find_config_file(directory)
        if found is None:
            continue
        if _anyone_writes(directory):
            skipped.append((found, "not read: anyone may write to its directory"))
        else:
            used.append(found)
    return used, skipped


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


@functools.lru_cache(maxsize=1)
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


def from_file(path: str | None, base: Config | None = None, data: dict | None = None) -> Config:
    """Apply a config file's settings (`data`, if already loaded) over the defaults (or over `base`)."""
    config = base or Config()
    if path is None:
        return config
    data = load_config(path) if data is None else data
    known = {f.name for f in fields(Config)}
    changes: dict[str, Any] = {"config_file": path}
    for key, value in data.items():
        if key not in known:
            continue
        changes[key] = _typed(getattr(config, key), value)
    if "var_files" in changes:
        changes["var_files_from_config"] = changes["var_files"]
    return replace(config, **changes)


# --- several files: the root config, tightened by the files below it ------------------------------

_ORDER = ("info", "warning", "error")


@dataclass
class Settings:
    """A run's settings and where each came from."""

    config: Config = field(default_factory=Config)
    files: list[str] = field(default_factory=list)                  # the config files used, root first
    skipped: list[tuple[str, str]] = field(default_factory=list)    # found but not read, and why
    sources: dict[str, str] = field(default_factory=dict)           # setting -> file or "command line"
    problems: list[InputError] = field(default_factory=list)        # relaxations a nested file tried
    raises: dict[str, tuple[str, str]] = field(default_factory=dict)  # nested severity: rule -> (level, file)

    def with_cli(self, **changes: Any) -> None:
        """Command-line options (None: not given) over the files."""
        given = {k: v for k, v in changes.items() if v is not None}
        self.config = self.config.with_(**given)
        self.sources.update({key: "command line" for key in given})

    def settle(self, rules: list) -> None:
        """Apply a nested file's severities where they raise the rule's (or the root file's) level."""
        defaults = {r.id: str(r.severity) for r in rules}
        severity = dict(self.config.severity)
        for rule_id, (level, path) in sorted(self.raises.items()):
            current = severity.get(rule_id, defaults.get(rule_id))
            if current is None or _ORDER.index(level) >= _ORDER.index(current):
                severity[rule_id] = level  # (an unknown rule id is reported by the caller)
                self.sources[f"severity.{rule_id}"] = path
            else:
                self._problem(path, "severity", f"severity {rule_id} = {level!r} is lower than {current!r}")
        self.raises = {}
        self.config = replace(self.config, severity=severity)

    def relaxed(self, rules: list) -> list[dict]:
        """What the settings turn off or down against the defaults: shown in every report."""
        config, default = self.config, Config()
        out: list[dict] = []

        def add(key: str, detail: str, source_key: str | None = None) -> None:
            value = getattr(config, key)
            value = sorted(value) if isinstance(value, (frozenset, tuple)) else value
            out.append({"setting": key, "value": value, "detail": detail,
                        "source": self.sources.get(source_key or key, "command line")})

        for key, spec in _schema()["properties"].items():
            kind, value, base = spec.get("x-nested"), getattr(config, key), getattr(default, key)
            if spec.get("x-relaxes") is False or value == base:
                continue
            if kind == "union" and [d for d in base if d not in value]:
                add(key, f"{key} leaves out {', '.join(d for d in base if d not in value)}")
            elif kind == "subset" and [v for v in value if v not in base]:
                add(key, f"{key} = {', '.join(sorted(v for v in value if v not in base))}")
            elif isinstance(kind, dict) and kind["order"].index(value) < kind["order"].index(base):
                add(key, f"{key} = {value} (default {base})")
            elif kind == "at-most" and value > base:
                add(key, f"{key} = {value} (default {base})")
            elif kind == "root" and key == "select":
                off = [r.id for r in rules if r.id not in value]
                add(key, f"select = {', '.join(sorted(value))} ({len(off)} other rule(s) not run)")
            elif kind == "root":
                add(key, f"{key} = {value!r}")
        defaults = {r.id: str(r.severity) for r in rules}
        for rule_id, level in sorted(config.severity.items()):
            if rule_id in defaults and _ORDER.index(level) < _ORDER.index(defaults[rule_id]):
                add("severity", f"severity {rule_id} = {level} (rule default {defaults[rule_id]})", f"severity.{rule_id}")
        return out

    def summary(self, rules: list) -> dict:
        """For the reporters: config files used and skipped, and what was relaxed."""
        return {"files": list(self.files), "skipped": [{"file": f, "reason": r} for f, r in self.skipped],
                "relaxed": self.relaxed(rules)}

    def _problem(self, path: str, key: str, detail: str) -> None:
        root = self.files[0] if self.files else "the root config"
        self.problems.append(InputError(path, _line_of(path, key),
                                        f"a nested config may only tighten the root config {root}: {detail}; "
                                        "not applied (set it in the root config)"))


def load_settings(paths: list[str], config_file: str | None = None) -> Settings:
    """The settings for linting `paths`: `config_file` as it is, else the files found (see above)."""
    if config_file is not None:
        files, skipped = [config_file], []
    else:
        files, skipped = config_files(paths)
    # A config the walk found but may not trust fails the run (exit 2), named, rather than pass in silence.
    settings = Settings(skipped=skipped, problems=[
        InputError(path, 0, f"config file {why} (it could be anyone's); pass --config {path} to use it")
        for path, why in skipped])
    for path in files:
        data = load_config(path)
        if settings.files:
            _extend(settings, path, data)
        else:
            settings.config = from_file(path, data=data)
            settings.sources.update({key: path for key in data})
            settings.sources.update({f"severity.{r}": path for r in settings.config.severity})
        settings.files.append(path)
    return settings


def _extend(settings: Settings, path: str, data: dict) -> None:
    """A nested file over the root config: only what tightens it is applied."""
    config = settings.config
    specs = _schema()["properties"]
    for key, value in data.items():
        kind, current = specs[key].get("x-nested"), getattr(config, key)
        value = _typed(current, value)
        new = current
        if kind == "union":
            new = type(current)([*current, *(v for v in value if v not in current)])
        elif kind == "subset":
            extra = sorted(v for v in value if v not in current)
            if extra:
                settings._problem(path, key, f"{key} adds {', '.join(extra)}")
            new = type(current)(v for v in current if v in value)
        elif isinstance(kind, dict):
            if kind["order"].index(value) < kind["order"].index(current):
                settings._problem(path, key, f"{key} = {value!r} is looser than {current!r}")
            else:
                new = value
        elif kind == "at-most":
            if value > current:
                settings._problem(path, key, f"{key} = {value} is above {current}")
            else:
                new = value
        elif kind == "raise":
            for rule_id, level in value.items():
                known = settings.raises.get(rule_id)
                if known is None or _ORDER.index(level) < _ORDER.index(known[0]):
                    settings.raises[rule_id] = (level, path)  # the lowest asked for is checked
        elif value != current:  # root
            settings._problem(path, key, f"{key} is set only by the root config")
        if new != current:
            config = replace(config, **{key: new})
            settings.sources[key] = path
    settings.config = config


def _typed(current: Any, value: Any) -> Any:
    if isinstance(current, frozenset):
        return frozenset(value)
    if isinstance(current, tuple):
        return tuple(value)
    return value


def _line_of(path: str, key: str) -> int:
    """The line where a config file sets `key` (0 if it cannot be told)."""
    pattern = re.compile(r"""^\s*["']?%s["']?\s*=""" % "[-_]".join(map(re.escape, key.split("_"))))
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            in_table = os.path.basename(path) != "pyproject.toml"
            for number, line in enumerate(handle, 1):
                if line.lstrip().startswith("["):
                    in_table = os.path.basename(path) != "pyproject.toml" or line.strip() == "[tool.ecr-lint]"
                elif in_table and pattern.match(line):
                    return number
    except OSError:
        pass
    return 0
