"""Unit tests for ecr_lint.policy.lifecycle: the ECR006 schema and semantic checks."""

from __future__ import annotations

import copy

import pytest
from jsonschema import Draft202012Validator

from ecr_lint.policy.lifecycle import LIFECYCLE_POLICY_SCHEMA, LifecycleVerdict, analyse_lifecycle_policy

COUNT_TYPES = "['imageCountMoreThan', 'sinceImagePushed', 'sinceImagePulled', 'sinceImageTransitioned']"


def keep_tagged(priority: int = 1, count: object = 30) -> dict:
    return {
        "rulePriority": priority,
        "description": "Keep last 30 v* images",
        "selection": {"tagStatus": "tagged", "tagPrefixList": ["v"], "countType": "imageCountMoreThan", "countNumber": count},
        "action": {"type": "expire"},
    }


def expire_untagged(priority: int = 2, days: object = 7) -> dict:
    return {
        "rulePriority": priority,
        "description": "Expire untagged images after 7 days",
        "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": days},
        "action": {"type": "expire"},
    }


def any_rule(priority: int) -> dict:
    return {
        "rulePriority": priority,
        "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 100},
        "action": {"type": "expire"},
    }


# The seed README's fileflow lifecycle policy: keep 30 v* images, expire untagged after 7 days.
SEED = {"rules": [keep_tagged(), expire_untagged()]}


def problems(doc) -> list[str]:
    return list(analyse_lifecycle_policy(doc).problems)


def test_schema_is_valid_draft_2020_12():
    Draft202012Validator.check_schema(LIFECYCLE_POLICY_SCHEMA)
    assert LIFECYCLE_POLICY_SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_seed_policy_is_valid_and_bounds_both():
    assert analyse_lifecycle_policy(SEED) == LifecycleVerdict((), (), expires_untagged=True, bounds_tagged=True)


def test_seed_policy_with_tag_pattern_list():
    doc = copy.deepcopy(SEED)
    del doc["rules"][0]["selection"]["tagPrefixList"]
    doc["rules"][0]["selection"]["tagPatternList"] = ["v*"]
    assert analyse_lifecycle_policy(doc) == LifecycleVerdict((), (), True, True)


def test_only_untagged_rule_does_not_bound_tagged():
    assert analyse_lifecycle_policy({"rules": [expire_untagged(1)]}) == LifecycleVerdict((), (), True, False)


def test_only_tagged_rule_does_not_expire_untagged():
    assert analyse_lifecycle_policy({"rules": [keep_tagged()]}) == LifecycleVerdict((), (), False, True)


def test_any_rule_expires_untagged_and_bounds_tagged():
    assert analyse_lifecycle_policy({"rules": [any_rule(1)]}) == LifecycleVerdict((), (), True, True)


def test_transition_rules_do_not_count_as_expiry():
    rule = {
        "rulePriority": 1,
        "selection": {"tagStatus": "any", "countType": "sinceImagePulled", "countUnit": "days", "countNumber": 90},
        "action": {"type": "transition", "targetStorageClass": "archive"},
    }
    assert analyse_lifecycle_policy({"rules": [rule]}) == LifecycleVerdict((), (), False, False)


def test_archived_images_expire_with_since_image_transitioned():
    rule = {
        "rulePriority": 1,
        "selection": {
            "tagStatus": "untagged",
            "storageClass": "archive",
            "countType": "sinceImageTransitioned",
            "countUnit": "days",
            "countNumber": 90,
        },
        "action": {"type": "expire"},
    }
    assert analyse_lifecycle_policy({"rules": [rule]}) == LifecycleVerdict((), (), True, False)


# --- schema errors ----------------------------------------------------------------------------


def test_typo_in_count_type():
    doc = copy.deepcopy(SEED)
    doc["rules"][0]["selection"]["countType"] = "imageCountMoreThen"
    assert problems(doc) == [f"rules[0].selection.countType: 'imageCountMoreThen' is not one of {COUNT_TYPES}"]


@pytest.mark.parametrize(
    "doc, expected",
    [
        ([], ["policy: [] is not of type 'object'"]),
        ({}, ["policy: 'rules' is a required property"]),
        ({"rules": []}, ["rules: [] should be non-empty"]),
        ({"rules": [keep_tagged()], "version": 1}, ["policy: Additional properties are not allowed ('version' was unexpected)"]),
        ({"rules": [{"rulePriority": 1}]}, ["rules[0]: 'action' is a required property", "rules[0]: 'selection' is a required property"]),
        ({"rules": [keep_tagged(0)]}, ["rules[0].rulePriority: 0 is less than the minimum of 1"]),
        ({"rules": [keep_tagged(1.5)]}, ["rules[0].rulePriority: 1.5 is not of type 'integer'"]),
        ({"rules": [keep_tagged(count=0)]}, ["rules[0].selection.countNumber: 0 is less than the minimum of 1"]),
        ({"rules": [keep_tagged(count="30")]}, ["rules[0].selection.countNumber: '30' is not of type 'integer'"]),
        ({"rules": [keep_tagged(count=True)]}, ["rules[0].selection.countNumber: True is not of type 'integer'"]),
    ],
)
def test_schema_problems(doc, expected):
    assert problems(doc) == expected


def test_unknown_keys_and_bad_enums_everywhere():
    rule = keep_tagged()
    rule["priority"] = 1
    rule["selection"]["tagStatus"] = "Tagged"
    rule["selection"]["tagPrefixList"] = []
    rule["selection"]["countUnit"] = "hours"
    rule["action"] = {"type": "delete", "targetStorageClass": "glacier"}
    assert problems({"rules": [rule]}) == [
        "rules[0]: Additional properties are not allowed ('priority' was unexpected)",
        "rules[0].action.targetStorageClass: 'glacier' is not one of ['archive']",
        "rules[0].action.type: 'delete' is not one of ['expire', 'transition']",
        "rules[0].selection.countUnit: 'hours' is not one of ['days']",
        "rules[0].selection.tagPrefixList: [] should be non-empty",
        "rules[0].selection.tagStatus: 'Tagged' is not one of ['tagged', 'untagged', 'any']",
        'rules[0].selection: countUnit is not allowed with countType "imageCountMoreThan"',
    ]


def test_errors_are_ordered_by_rule_index_numerically():
    rules = [keep_tagged(i + 1) for i in range(11)]
    rules[10]["selection"]["countNumber"] = 0
    rules[2]["selection"]["countNumber"] = 0
    assert problems({"rules": rules}) == [
        "rules[2].selection.countNumber: 0 is less than the minimum of 1",
        "rules[10].selection.countNumber: 0 is less than the minimum of 1",
    ]


# --- semantic checks ----------------------------------------------------------------------------


def test_duplicate_priorities():
    doc = {"rules": [keep_tagged(1), expire_untagged(1), keep_tagged(1)]}
    assert problems(doc) == [
        "rules[1].rulePriority: 1 is also the priority of rules[0]; priorities must be unique",
        "rules[2].rulePriority: 1 is also the priority of rules[0]; priorities must be unique",
    ]


def test_any_rule_not_last():
    doc = {"rules": [any_rule(1), keep_tagged(2), expire_untagged(3)]}
    assert problems(doc) == [
        'rules[0]: a tagStatus "any" rule must have the highest rulePriority, but rules[2] has 3 (this rule has 1)'
    ]


def test_any_rule_last_by_priority_not_position():
    assert problems({"rules": [any_rule(9), keep_tagged(1), expire_untagged(2)]}) == []


def test_any_rule_sharing_the_top_priority_is_reported_once():
    assert problems({"rules": [keep_tagged(1), any_rule(1)]}) == [
        "rules[1].rulePriority: 1 is also the priority of rules[0]; priorities must be unique"
    ]


def test_at_most_one_any_rule():
    assert problems({"rules": [keep_tagged(1), any_rule(2), any_rule(3)]}) == [
        'rules[2]: only one rule may have tagStatus "any" (rules[1] has it too)'
    ]


def test_tagged_needs_a_tag_list():
    rule = keep_tagged()
    del rule["selection"]["tagPrefixList"]
    assert problems({"rules": [rule]}) == [
        'rules[0].selection: tagStatus "tagged" needs a tagPrefixList or a tagPatternList'
    ]


def test_untagged_must_omit_tag_lists():
    rule = expire_untagged(1)
    rule["selection"]["tagPrefixList"] = ["v"]
    rule["selection"]["tagPatternList"] = ["v*"]
    assert problems({"rules": [rule]}) == [
        'rules[0].selection: tagStatus "untagged" must not have tagPrefixList or tagPatternList'
    ]


@pytest.mark.parametrize("count_type", ["sinceImagePushed", "sinceImagePulled"])
def test_count_unit_missing(count_type):
    rule = expire_untagged(1)
    rule["selection"]["countType"] = count_type
    del rule["selection"]["countUnit"]
    assert problems({"rules": [rule]}) == [f'rules[0].selection: countType "{count_type}" needs countUnit "days"']


def test_count_unit_with_image_count():
    rule = keep_tagged()
    rule["selection"]["countUnit"] = "days"
    assert problems({"rules": [rule]}) == [
        'rules[0].selection: countUnit is not allowed with countType "imageCountMoreThan"'
    ]


def test_storage_class_must_match_count_type():
    transitioned = expire_untagged(1)
    transitioned["selection"]["countType"] = "sinceImageTransitioned"
    archived_count = keep_tagged(2)
    archived_count["selection"]["storageClass"] = "archive"
    standard = expire_untagged(3)
    standard["selection"]["storageClass"] = "standard"
    assert problems({"rules": [transitioned, archived_count, standard]}) == [
        'rules[0].selection: countType "sinceImageTransitioned" needs storageClass "archive"',
        'rules[1].selection: storageClass "archive" only goes with countType "sinceImageTransitioned"',
    ]


def test_transition_and_target_storage_class():
    transition = expire_untagged(1)
    transition["action"] = {"type": "transition"}
    expire = keep_tagged(2)
    expire["action"] = {"type": "expire", "targetStorageClass": "archive"}
    assert problems({"rules": [transition, expire]}) == [
        'rules[0].action: type "transition" needs targetStorageClass "archive"',
        'rules[1].action: targetStorageClass is only allowed with type "transition"',
    ]


def test_tag_pattern_wildcard_limit():
    # The AWS documentation's own examples: the first two are valid, the last is not.
    rule = keep_tagged()
    rule["selection"]["tagPatternList"] = ["*test*1*2*3", "test*1*2*3*", "test*1*2*3*4*5*6"]
    assert problems({"rules": [rule]}) == [
        'rules[0].selection.tagPatternList[2]: "test*1*2*3*4*5*6" has 6 wildcards; AWS allows at most 4'
    ]


def test_semantic_checks_still_run_next_to_schema_errors():
    doc = {"rules": [keep_tagged(1), expire_untagged(1)]}
    doc["rules"][0]["selection"]["countType"] = "imageCountMoreThen"
    assert problems(doc) == [
        f"rules[0].selection.countType: 'imageCountMoreThen' is not one of {COUNT_TYPES}",
        "rules[1].rulePriority: 1 is also the priority of rules[0]; priorities must be unique",
    ]


def test_garbage_rules_do_not_crash():
    verdict = analyse_lifecycle_policy({"rules": [1, {"selection": "x", "action": []}]})
    assert verdict.problems == (
        "rules[0]: 1 is not of type 'object'",
        "rules[1]: 'rulePriority' is a required property",
        "rules[1].action: [] is not of type 'object'",
        "rules[1].selection: 'x' is not of type 'object'",
    )
    assert (verdict.expires_untagged, verdict.bounds_tagged) == (False, False)


# --- placeholders ------------------------------------------------------------------------------


def test_placeholder_count_number_is_unknown():
    doc = {"rules": [keep_tagged(count="${var.max}"), expire_untagged()]}
    assert analyse_lifecycle_policy(doc) == LifecycleVerdict(
        problems=(),
        unknowns=("rules[0].selection.countNumber is ${var.max}, known only at plan time",),
        expires_untagged=True,
        bounds_tagged=True,
    )


def test_placeholders_in_enums_and_priorities_are_unknown_and_skip_dependent_checks():
    tagged = keep_tagged("${var.priority}")
    tagged["selection"]["countType"] = "${var.count_type}"
    tagged["selection"]["countUnit"] = "days"
    untagged = expire_untagged(1)
    untagged["selection"]["tagStatus"] = "${local.status}"
    untagged["action"]["type"] = "${var.action}"
    verdict = analyse_lifecycle_policy({"rules": [tagged, untagged, any_rule(2)]})
    assert verdict.problems == ()
    assert verdict.unknowns == (
        "rules[0].rulePriority is ${var.priority}, known only at plan time",
        "rules[0].selection.countType is ${var.count_type}, known only at plan time",
        "rules[1].action.type is ${var.action}, known only at plan time",
        "rules[1].selection.tagStatus is ${local.status}, known only at plan time",
    )
    assert (verdict.expires_untagged, verdict.bounds_tagged) == (True, True)


def test_placeholder_whole_document_or_rules():
    assert analyse_lifecycle_policy("${var.policy}").unknowns == ("policy is ${var.policy}, known only at plan time",)
    assert analyse_lifecycle_policy({"rules": "${var.rules}"}) == LifecycleVerdict(
        (), ("rules is ${var.rules}, known only at plan time",), False, False
    )


def test_placeholder_in_tag_pattern():
    rule = keep_tagged()
    del rule["selection"]["tagPrefixList"]
    rule["selection"]["tagPatternList"] = ["${var.prefix}*", "a*b*c*d*e*${var.x}", "release-*"]
    verdict = analyse_lifecycle_policy({"rules": [rule]})
    assert verdict.problems == (
        'rules[0].selection.tagPatternList[1]: "a*b*c*d*e*${var.x}" has 5 wildcards; AWS allows at most 4',
    )
    assert verdict.unknowns == ("rules[0].selection.tagPatternList[0] is ${var.prefix}*, known only at plan time",)


def test_placeholder_description_and_prefix_are_fine():
    rule = keep_tagged()
    rule["description"] = "keep ${var.n} images"
    rule["selection"]["tagPrefixList"] = ["${var.prefix}"]
    assert analyse_lifecycle_policy({"rules": [rule, expire_untagged()]}) == LifecycleVerdict((), (), True, True)
