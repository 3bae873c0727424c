"""Load rule files, validate them against rules/rule.schema.json, resolve their checks."""

from __future__ import annotations

import importlib
import json
import os
from dataclasses import dataclass, field
from typing import Any, Callable

import yaml

from ecr_lint import ruleschema
from ecr_lint.model import Severity

BUILTIN_RULES_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "rules")


class RuleFileError(Exception):
    """A rule file that cannot be used; the message names the file and the field."""


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    severity: Severity
    title: str
    rationale: str
    remediation: str
    links: tuple[str, ...]
    resource_types: frozenset[str]
    data_types: frozenset[str]
    taggable: bool
    stack_level: bool
    cross_stack: bool
    predicate: Callable[..., Any] | None
    schema: dict | None
    schema_message: str
    examples: dict
    file: str
    peers: dict = field(default_factory=dict)
    builtin: str | None = None          # checked by the engine itself (suppressions)
    looks_along: tuple = ()
    condition: Any = None               # relations.Condition: the check of a relational rule
    when: Any = None                    # relations.Condition: where the rule applies
    fix: dict = field(default_factory=dict)   # what `ecr-lint fix` does: fixable, how, example

    @property
    def custom(self) -> bool:
        return self.id.startswith("ECR9")

    def applies_to(self, resource: Any, taggable_types: frozenset[str]) -> bool:
        if resource.mode == "data":
            return resource.type in self.data_types
        return resource.type in self.resource_types or (self.taggable and resource.type in taggable_types)


def rules_dir() -> str:
    """The built-in rules: next to the package in a checkout, or inside it when installed."""
    packaged = os.path.join(os.path.dirname(os.path.abspath(__file__)), "rules")
    return packaged if os.path.isdir(packaged) else BUILTIN_RULES_DIR


def _schema() -> dict:
    with open(os.path.join(rules_dir(), "rule.schema.json"), encoding="utf-8") as handle:
        return json.load(handle)


def load_rules(extra_dirs: list[str] = (), validate_builtin: bool = False) -> list[Rule]:
    """The built-in rules, then the team's own (ids ECR900-ECR999 are reserved for those).

    Custom rule files are always validated against rules/rule.schema.json; the built-in ones
    are validated by the test suite (tests/test_rule_examples.py), not on every run.
    """
    validator = _Validator()
    rules: dict[str, Rule] = {}
    for directory in [rules_dir(), *extra_dirs]:
        builtin = directory == rules_dir()
        if not os.path.isdir(directory):
            raise RuleFileError(f"{directory}: rules directory does not exist")
        for name in sorted(os.listdir(directory)):
            if not name.endswith((".yaml", ".yml")):
                continue
            path = os.path.join(directory, name)
            rule = load_rule_file(path, validator if (validate_builtin or not builtin) else None)
            if not builtin and not rule.custom:
                raise RuleFileError(f"{path}: id: {rule.id} is not in ECR900-ECR999, the range reserved for custom rules")
            if builtin and rule.custom:
                raise RuleFileError(f"{path}: id: {rule.id} is reserved for custom rules")
            if rule.id in rules:
                raise RuleFileError(f"{path}: id {rule.id} is already defined in {rules[rule.id].file}")
            rules[rule.id] = rule
    return sorted(rules.values(), key=lambda r: r.id)


class _Validator:
    """The rule schema's validator, built on first use (jsonschema is slow to import)."""

    def __init__(self) -> None:
        self._validator = None

    def iter_errors(self, data: Any):
        if self._validator is None:
            from jsonschema import Draft202012Validator

            self._validator = Draft202012Validator(_schema())
        return self._validator.iter_errors(data)


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available: 5x faster


def load_rule_file(path: str, validator: Any) -> Rule:
    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.load(handle, Loader=_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark else ""
        raise RuleFileError(f"{path}{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
    except OSError as exc:
        raise RuleFileError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        ruleschema.check_expansion(data)  # before anything walks it: YAML aliases could make it huge
    except ruleschema.SchemaProblem as exc:
        raise RuleFileError(f"{path}: {exc}") from None
    # the most specific error first: "severity: 'fatal' is not one of ..." before "title is required"
    errors = [] if validator is None else sorted(
        validator.iter_errors(data), key=lambda e: (-len(e.absolute_path), list(map(str, e.absolute_path))))
    if errors:
        err = errors[0]
        field_path = ".".join(str(p) for p in err.absolute_path) or "(top level)"
        raise RuleFileError(f"{path}: {field_path}: {err.message}")
    check = data["check"]
    if validator is not None:  # custom rules (built-in ones are checked by the test suite)
        try:
            ruleschema.check_schema(check.get("schema"))
        except ruleschema.SchemaProblem as exc:
            raise RuleFileError(f"{path}: {exc}") from None
    applies = data["applies_to"]
    if (":" in check.get("predicate", "") or "condition" in check) and {"stack", "stacks", "suppressions"} & applies.keys():
        what = "a plugin predicate" if "predicate" in check else "a condition"
        raise RuleFileError(f"{path}: applies_to: {what} checks resources (resource_types, data_types, taggable), "
                            "not whole stacks")
    predicate = _resolve_predicate(path, check["predicate"]) if "predicate" in check else None
    condition, when, looks_along = _conditions(path, check, applies, data.get("looks_along", []))
    return Rule(
        id=data["id"], name=data["name"], severity=Severity.parse(data["severity"]),
        title=data["title"], rationale=data["rationale"].strip(), remediation=data["remediation"].strip(),
        links=tuple(data.get("links", [])),
        resource_types=frozenset(applies.get("resource_types", [])),
        data_types=frozenset(applies.get("data_types", [])),
        taggable=bool(applies.get("taggable")), stack_level=bool(applies.get("stack")),
        cross_stack=bool(applies.get("stacks")),
        predicate=predicate, schema=check.get("schema"), schema_message=check.get("message", ""),
        examples=data["examples"], file=path, peers=data.get("peers", {}),
        builtin=check.get("builtin"), looks_along=looks_along, condition=condition, when=when,
        fix=data.get("fix", {}),
    )


def _conditions(path: str, check: dict, applies: dict, declared: list) -> tuple[Any, Any, tuple]:
    """A relational rule's compiled condition and `when`, and the graph edges it looks along."""
    if "condition" not in check:
        return None, None, tuple(declared)
    from ecr_lint import relations

    try:
        condition = relations.compile_condition(check["condition"], "check.condition")
        when = relations.compile_condition(check["when"], "check.when") if "when" in check else None
    except relations.ConditionError as exc:
        raise RuleFileError(f"{path}: {exc}") from None
    types = frozenset(applies.get("resource_types", [])) | {f"data.{t}" for t in applies.get("data_types", [])}
    derived = [edge for c in (when, condition) if c is not None for edge in relations.edges_of(c, types)]
    return condition, when, tuple([*declared, *(edge for edge in derived if edge not in declared)])


def _resolve_predicate(path: str, name: str) -> Callable[..., Any]:
    if ":" in name:
        return _plugin(path, name)
    module_name, func_name = name.split(".")
    try:
        module = importlib.import_module(f"ecr_lint.predicates.{module_name}")
    except ImportError:
        raise RuleFileError(f"{path}: check.predicate: no predicate module {module_name!r} in ecr_lint/predicates") from None
    func = getattr(module, func_name, None)
    if not callable(func):
        raise RuleFileError(f"{path}: check.predicate: {module_name!r} has no predicate {func_name!r}")
    return func


def _plugin(path: str, name: str) -> Callable[..., Any]:
    """A predicate an installed package registers under the entry point group; nothing else is
    imported: a rule file names code, it cannot make ecr-lint import an arbitrary module."""
    from importlib.metadata import entry_points

    from ecr_lint.plugin import ENTRY_POINT_GROUP, Plugin

    where = f"{path}: check.predicate"
    registered = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.value.replace(" ", "") == name]
    if not registered:
        raise RuleFileError(f"{where}: {name!r} is not registered by any installed package under the "
                            f"{ENTRY_POINT_GROUP!r} entry point group")
    entry = registered[0]
    dist = f"{entry.dist.name} {entry.dist.version}" if entry.dist is not None else "an unnamed distribution"
    try:
        function = entry.load()
    except (Exception, SystemExit) as exc:  # noqa: BLE001: whatever the plugin's import does, it is its error
        raise RuleFileError(f"{where}: plugin {name!r} from {dist} cannot be loaded: "
                            f"{type(exc).__name__}: {exc}") from None
    if not callable(function):
        raise RuleFileError(f"{where}: plugin {name!r} from {dist} is a {type(function).__name__}, not a function")
    return Plugin(name, function, f"{dist} {_files_fingerprint(function)}")


def _files_fingerprint(function: Any) -> str:
    """The plugin's package files by name, size and modification time (as runner.code_fingerprint
    does for ecr-lint's own): an edited plugin is not answered from the result cache."""
    import hashlib
    import sys

    module = sys.modules.get(getattr(function, "__module__", "") or "")
    top = sys.modules.get((getattr(module, "__name__", "") or "").split(".")[0])
    files = [getattr(module, "__file__", None) or ""]
    for root in getattr(top, "__path__", None) or ():  # a package: all of it
        for current, dirs, names in sorted(os.walk(root)):
            dirs.sort()
            files += [os.path.join(current, n) for n in sorted(names) if n.endswith(".py")]
    digest = hashlib.sha256()
    for file in files:
        try:
            stat = os.stat(file)
        except OSError:
            continue
        digest.update(f"{file}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]
