#!/usr/bin/env python3
"""A longer fuzz run than the test suite's: mutated HCL and plans, generated expressions.

    .venv/bin/python scripts/fuzz.py --examples 2000

Prints how many inputs of each kind ran without a crash, a hang or a malformed report; the
first failure is shaken down to a minimal input by hypothesis and printed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests"))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from hypothesis import HealthCheck, given, settings  # noqa: E402

from fuzzing import check, expression_stack, expressions, mutated_hcl, mutated_plan  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=1000, help="inputs per kind")
    parser.add_argument("--kind", choices=["hcl", "plan", "expression"], action="append")
    args = parser.parse_args()
    kinds = args.kind or ["hcl", "plan", "expression"]
    strategies = {
        "hcl": (mutated_hcl(), lambda text: check({"main.tf": text})),
        "plan": (mutated_plan(), lambda text: check({"plan.json": text})),
        "expression": (expressions(), lambda expr: check({"main.tf": expression_stack(expr)})),
    }
    failed = False
    for kind in kinds:
        strategy, prop = strategies[kind]
        count = 0

        @settings(max_examples=args.examples, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(strategy)
        def run(value):
            nonlocal count
            prop(value)
            count += 1

        started = time.monotonic()
        try:
            run()
            print(f"{kind}: {count} inputs, no crash, no hang ({time.monotonic() - started:.1f} s)")
        except Exception as exc:  # hypothesis has printed the minimal failing input
            failed = True
            print(f"{kind}: FAILED after {count} inputs: {type(exc).__name__}: {exc}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
