"""The fast schema path agrees with jsonschema: it only ever answers "certainly valid" correctly."""

from __future__ import annotations

import copy

from hypothesis import given, settings, strategies as st
from jsonschema import Draft202012Validator

from ecr_lint.catalog import load_rules
from ecr_lint.policy.lifecycle import LIFECYCLE_POLICY_SCHEMA
from ecr_lint.schemacheck import certainly_valid

VALID = {"rules": [
    {"rulePriority": 1, "description": "keep 30", "selection": {"tagStatus": "tagged", "tagPrefixList": ["v"],
                                                                "countType": "imageCountMoreThan", "countNumber": 30},
     "action": {"type": "expire"}},
    {"rulePriority": 2, "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days",
                                      "countNumber": 7}, "action": {"type": "expire"}},
]}
LEAVES = st.one_of(st.none(), st.booleans(), st.integers(-2, 40), st.floats(allow_nan=False, allow_infinity=False),
                   st.sampled_from(["tagged", "any", "expire", "days", "v", "", "${var.x}", "imageCountMoreThan"]),
                   st.builds(list), st.builds(dict), st.builds(lambda: ["v", 1]))  # fresh objects: they get mutated


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, prefix + (i,))


@st.composite
def mutated(draw):
    doc = copy.deepcopy(VALID)
    for _ in range(draw(st.integers(0, 3))):
        paths = [p for p in _paths(doc) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = doc
        for step in path[:-1]:
            parent = parent[step]
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "delete":
            del parent[path[-1]]
        elif action == "add" and isinstance(parent, dict):
            parent[draw(st.sampled_from(["extra", "countUnit", "tagPatternList", "storageClass"]))] = draw(LEAVES)
        else:
            parent[path[-1]] = draw(LEAVES)
    return doc


@settings(max_examples=400, deadline=None, derandomize=True)
@given(mutated())
def test_certainly_valid_agrees_with_jsonschema_on_lifecycle_policies(doc):
    errors = list(Draft202012Validator(LIFECYCLE_POLICY_SCHEMA).iter_errors(doc))
    if certainly_valid(LIFECYCLE_POLICY_SCHEMA, doc):
        assert errors == []


def test_valid_documents_take_the_fast_path():
    assert certainly_valid(LIFECYCLE_POLICY_SCHEMA, VALID)
    assert not certainly_valid(LIFECYCLE_POLICY_SCHEMA, {"rules": [{"rulePriority": True}]})


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.dictionaries(st.sampled_from(["enable_key_rotation", "customer_master_key_spec", "description"]), LEAVES))
def test_certainly_valid_agrees_with_jsonschema_on_rule_schemas(attributes):
    for rule in load_rules():
        if rule.schema is not None and certainly_valid(rule.schema, attributes):
            assert list(Draft202012Validator(rule.schema).iter_errors(attributes)) == []
