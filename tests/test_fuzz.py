"""Property-based fuzzing: mutated real HCL and plans, generated expressions; never a crash or hang."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from fuzzing import (
    cache_tampering, check, check_layout, check_tampering, expression_stack, expressions, huge_call_stack, huge_calls,
    mutated_hcl, mutated_plan, symlink_layouts,
)

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)


@FUZZ
@given(mutated_hcl())
def test_mutated_hcl_never_crashes(text):
    check({"main.tf": text})


@FUZZ
@given(mutated_plan())
def test_mutated_plans_never_crash(text):
    check({"plan.json": text})


@FUZZ
@given(expressions())
def test_generated_expressions_never_crash(expression):
    check({"main.tf": expression_stack(expression)})


@FUZZ
@given(huge_calls())
def test_functions_with_huge_arguments_end_within_the_guard(expression):
    # ends within fuzzing.MAX_SECONDS, exit 0, 1 or 2: a budget is an input error, never a hang or a crash
    check({"main.tf": huge_call_stack(expression)})


LAYOUTS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)


@LAYOUTS
@given(symlink_layouts())
def test_symlink_layouts_never_read_outside_and_cache_agrees(layout):
    check_layout(layout)


@LAYOUTS
@given(cache_tampering())
def test_a_tampered_cache_never_changes_the_report(operations):
    check_tampering(operations)
