"""The report writer's JSON text is byte for byte json.dumps(value, indent=2)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings, strategies as st

from ecr_lint.reporters.jsontext import indented

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10)
keys = st.text(max_size=6) | st.integers(-5, 5) | st.booleans() | st.none() | st.floats(allow_nan=False)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner) |
                      st.dictionaries(keys, inner, max_size=4), max_leaves=25)


@settings(max_examples=500, deadline=None, derandomize=True)
@given(values)
def test_same_text_as_json_dumps_indent_2(value):
    assert "".join(indented(value)) == json.dumps(value, indent=2)


def test_a_report_shape_and_what_json_refuses():
    report = {"findings": [], "results": [{"rule_id": "ECR001", "line": 3, "suppression": {"kind": "inSource"}},
                                          {"rule_id": "ECR002", "line": 0, "tags": {}, "refs": []}],
              "summary": {"failed": 1, "ratio": 0.5, "ok": False, "none": None, "text": "é\n\"x\""}}
    assert "".join(indented(report)) == json.dumps(report, indent=2)
    with pytest.raises(TypeError):
        "".join(indented({"a": {1, 2}}))
