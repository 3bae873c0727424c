"""ECR lifecycle policy analysis (rule ECR006): the schema AWS enforces and the rules it adds."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable, Iterator

import functools

# A value Terraform knows only after apply, as the evaluator renders it: "${address.path}".
PLACEHOLDER = re.compile(r"\$\{[^}]*\}")

# AWS: "There is a maximum limit of four wildcards (*) per string" in tagPatternList.
MAX_TAG_PATTERN_WILDCARDS = 4
# Count types that measure age, so they take countUnit "days".
AGE_COUNT_TYPES = ("sinceImagePushed", "sinceImagePulled", "sinceImageTransitioned")

_STRING_LIST = {"type": "array", "items": {"type": "string"}, "minItems": 1}

# From "Lifecycle policy properties" in the Amazon ECR User Guide. AWS rejects keys it does
# not know, hence additionalProperties false throughout. Conditions between fields live in
# Python below, where their messages can say what is wrong in the user's terms.
LIFECYCLE_POLICY_SCHEMA: dict = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "urn:ecr-lint:ecr-lifecycle-policy",
    "title": "Amazon ECR lifecycle policy",
    "type": "object",
    "required": ["rules"],
    "additionalProperties": False,
    "properties": {"rules": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/rule"}}},
    "$defs": {
        "rule": {
            "type": "object",
            "required": ["rulePriority", "selection", "action"],
            "additionalProperties": False,
            "properties": {
                "rulePriority": {"type": "integer", "minimum": 1},
                "description": {"type": "string"},
                "selection": {"$ref": "#/$defs/selection"},
                "action": {"$ref": "#/$defs/action"},
            },
        },
        "selection": {
            "type": "object",
            "required": ["tagStatus", "countType", "countNumber"],
            "additionalProperties": False,
            "properties": {
                "tagStatus": {"enum": ["tagged", "untagged", "any"]},
                "tagPrefixList": _STRING_LIST,
                "tagPatternList": _STRING_LIST,
                "storageClass": {"enum": ["standard", "archive"]},
                "countType": {"enum": ["imageCountMoreThan", *AGE_COUNT_TYPES]},
                "countUnit": {"enum": ["days"]},
                "countNumber": {"type": "integer", "minimum": 1},
            },
        },
        "action": {
            "type": "object",
            "required": ["type"],
            "additionalProperties": False,
            "properties": {
                "type": {"enum": ["expire", "transition"]},
                "targetStorageClass": {"enum": ["archive"]},
            },
        },
    },
}



@dataclass(frozen=True)
class LifecycleVerdict:
    problems: tuple[str, ...]
    unknowns: tuple[str, ...]
    expires_untagged: bool
    bounds_tagged: bool


def analyse_lifecycle_policy(doc: Any) -> LifecycleVerdict:
    """Validate an ECR lifecycle policy and check what the schema cannot express.

    AWS facts relied on (ECR User Guide, "Lifecycle policy properties"): rulePriority values
    must be unique; a rule with tagStatus "any" must have the highest rulePriority, so there
    is at most one; tagStatus "tagged" needs tagPrefixList or tagPatternList and "untagged"
    must omit both; age count types (sinceImagePushed/Pulled/Transitioned) need countUnit
    "days" and imageCountMoreThan takes none; sinceImageTransitioned selects archived images
    (storageClass "archive"), the other count types standard ones; a "transition" action
    needs targetStorageClass "archive"; a tag pattern has at most four "*" wildcards.

    A placeholder where the schema wants a number or one of a set of words is unknown,
    not wrong: it is reported in `unknowns` and the checks that depend on it are skipped.
    """
    problems, unknowns = _schema_findings(doc)
    problems.extend(_semantic_problems(doc))
    unknowns.extend(_tag_pattern_unknowns(doc))
    rules = _rules(doc)
    return LifecycleVerdict(
        problems=tuple(dict.fromkeys(problems)),
        unknowns=tuple(dict.fromkeys(unknowns)),
        expires_untagged=any(_expires(r, ("untagged", "any")) for _, r in rules),
        bounds_tagged=any(_expires(r, ("tagged", "any")) for _, r in rules),
    )


# --- schema ------------------------------------------------------------------------------


def _schema_findings(doc: Any) -> tuple[list[str], list[str]]:
    from ecr_lint.schemacheck import certainly_valid

    problems: list[str] = []
    unknowns: list[str] = []
    if certainly_valid(LIFECYCLE_POLICY_SCHEMA, doc):
        return problems, unknowns  # no need for jsonschema (slow to import) to say so
    for error in sorted(_validator().iter_errors(doc), key=_error_order):
        where = _path(error.absolute_path)
        if _is_unknown(error.instance):
            unknowns.append(f"{where} is {error.instance}, known only at plan time")
        else:
            problems.append(f"{where}: {error.message}")
    return problems, unknowns


@functools.lru_cache(maxsize=1)
def _validator():
    # jsonschema costs ~80 ms to import: only pay it when a lifecycle policy is analysed.
    from jsonschema import Draft202012Validator

    return Draft202012Validator(LIFECYCLE_POLICY_SCHEMA)


def _error_order(error) -> tuple:
    # Paths mix list indexes and keys; tag each step so they compare, indexes numerically.
    return tuple((0, s, "") if isinstance(s, int) else (1, 0, s) for s in error.absolute_path), error.message


def _is_unknown(value: Any) -> bool:
    return isinstance(value, str) and PLACEHOLDER.search(value) is not None


def _path(steps: Iterable[Any]) -> str:
    out = ""
    for step in steps:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else str(step))
    return out or "policy"


# --- what the schema cannot say ------------------------------------------------------------


def _rules(doc: Any) -> list[tuple[int, dict]]:
    """(index, rule) for every rule that is an object; the schema reports the others."""
    raw = doc.get("rules") if isinstance(doc, dict) else None
    return [(i, r) for i, r in enumerate(raw) if isinstance(r, dict)] if isinstance(raw, list) else []


def _selection(rule: dict) -> dict:
    selection = rule.get("selection")
    return selection if isinstance(selection, dict) else {}


def _action(rule: dict) -> dict:
    action = rule.get("action")
    return action if isinstance(action, dict) else {}


def _priority(rule: dict) -> int | None:
    value = rule.get("rulePriority")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _semantic_problems(doc: Any) -> Iterator[str]:
    rules = _rules(doc)
    yield from _duplicate_priorities(rules)
    yield from _any_rule_problems(rules)
    for index, rule in rules:
        yield from _tag_list_problems(index, _selection(rule))
        yield from _count_problems(index, _selection(rule))
        yield from _action_problems(index, _action(rule))
        yield from _tag_pattern_problems(index, _selection(rule))


def _duplicate_priorities(rules: list[tuple[int, dict]]) -> Iterator[str]:
    first: dict[int, int] = {}
    for index, rule in rules:
        priority = _priority(rule)
        if priority is None:
            continue
        if priority in first:
            yield (
                f"rules[{index}].rulePriority: {priority} is also the priority of "
                f"rules[{first[priority]}]; priorities must be unique"
            )
        else:
            first[priority] = index


def _any_rule_problems(rules: list[tuple[int, dict]]) -> Iterator[str]:
    any_rules = [(i, r) for i, r in rules if _selection(r).get("tagStatus") == "any"]
    for index, _ in any_rules[1:]:
        yield f'rules[{index}]: only one rule may have tagStatus "any" (rules[{any_rules[0][0]}] has it too)'
    if not any_rules:
        return
    index, rule = any_rules[0]
    priority = _priority(rule)
    if priority is None:
        return  # unknown or invalid priority: reported already
    # An equal priority is already a duplicate; report only rules that come strictly later.
    others = [(p, i) for i, r in rules if _selection(r).get("tagStatus") != "any" and (p := _priority(r)) is not None]
    if others and max(others)[0] > priority:
        highest, other = max(others)
        yield (
            f'rules[{index}]: a tagStatus "any" rule must have the highest rulePriority, '
            f"but rules[{other}] has {highest} (this rule has {priority})"
        )


def _tag_list_problems(index: int, selection: dict) -> Iterator[str]:
    status = selection.get("tagStatus")
    lists = [k for k in ("tagPrefixList", "tagPatternList") if k in selection]
    if status == "tagged" and not lists:
        yield f'rules[{index}].selection: tagStatus "tagged" needs a tagPrefixList or a tagPatternList'
    elif status == "untagged" and lists:
        yield f'rules[{index}].selection: tagStatus "untagged" must not have {" or ".join(lists)}'


def _count_problems(index: int, selection: dict) -> Iterator[str]:
    count_type = selection.get("countType")
    where = f"rules[{index}].selection"
    if count_type in AGE_COUNT_TYPES and "countUnit" not in selection:
        yield f'{where}: countType "{count_type}" needs countUnit "days"'
    if count_type == "imageCountMoreThan" and "countUnit" in selection:
        yield f'{where}: countUnit is not allowed with countType "imageCountMoreThan"'
    storage = selection.get("storageClass")
    if count_type == "sinceImageTransitioned" and storage != "archive" and not _is_unknown(storage):
        yield f'{where}: countType "sinceImageTransitioned" needs storageClass "archive"'
    if count_type in ("imageCountMoreThan", "sinceImagePushed", "sinceImagePulled") and storage == "archive":
        yield f'{where}: storageClass "archive" only goes with countType "sinceImageTransitioned"'


def _action_problems(index: int, action: dict) -> Iterator[str]:
    kind = action.get("type")
    if kind == "transition" and "targetStorageClass" not in action:
        yield f'rules[{index}].action: type "transition" needs targetStorageClass "archive"'
    if kind == "expire" and "targetStorageClass" in action:
        yield f'rules[{index}].action: targetStorageClass is only allowed with type "transition"'


def _tag_patterns(selection: dict) -> list[tuple[int, str]]:
    patterns = selection.get("tagPatternList")
    return [(i, p) for i, p in enumerate(patterns) if isinstance(p, str)] if isinstance(patterns, list) else []


def _tag_pattern_problems(index: int, selection: dict) -> Iterator[str]:
    for i, pattern in _tag_patterns(selection):
        wildcards = PLACEHOLDER.sub("", pattern).count("*")
        if wildcards > MAX_TAG_PATTERN_WILDCARDS:
            yield (
                f'rules[{index}].selection.tagPatternList[{i}]: "{pattern}" has {wildcards} wildcards; '
                f"AWS allows at most {MAX_TAG_PATTERN_WILDCARDS}"
            )


def _tag_pattern_unknowns(doc: Any) -> Iterator[str]:
    # A placeholder in a pattern may hide more wildcards; only a pattern already over the
    # limit is certain, and that one is a problem instead.
    for index, rule in _rules(doc):
        for i, pattern in _tag_patterns(_selection(rule)):
            known = PLACEHOLDER.sub("", pattern).count("*")
            if _is_unknown(pattern) and known <= MAX_TAG_PATTERN_WILDCARDS:
                yield f"rules[{index}].selection.tagPatternList[{i}] is {pattern}, known only at plan time"


def _expires(rule: dict, statuses: tuple[str, ...]) -> bool:
    return _selection(rule).get("tagStatus") in statuses and _action(rule).get("type") == "expire"
