"""`ecr-lint fix`: repair failing findings where their value comes from, proven before writing.

hcltext.py finds expressions in a file's text and writes HCL as `terraform fmt` would; rules.py
says what each fixable rule changes; plan.py computes every edit and proves it by linting again
(nothing is written); write.py writes the plan atomically; output.py shows it (unified diff,
JSON edits, SARIF fixes).
"""

from __future__ import annotations

from ecr_lint.fix.plan import Fix, FixPlan, NotFixed, make_plan
from ecr_lint.fix.rules import FIXERS

__all__ = ["FIXERS", "Fix", "FixPlan", "NotFixed", "make_plan"]
