"""Masking cost: 10,000 sensitive plan values across 30,000 messages (issue 12, item 6).

    .venv/bin/python bench/mask.py

Before the one-pass scan (redact.mask looped over every secret for every message) this took
169 s on the 2-core machine; now under a second.
"""

from __future__ import annotations

import random
import time

from ecr_lint import redact
from ecr_lint.model import Result, Severity, Status
from ecr_lint.sensitive import mark

SECRETS, MESSAGES = 10_000, 30_000


def main() -> None:
    rng = random.Random(1)
    values = [f"arn:aws:iam::{rng.randrange(10**11, 10**12)}:role/svc-{i}-{rng.randrange(10**6)}"
              for i in range(SECRETS)]
    results = []
    for i in range(MESSAGES):
        shown = values[i % SECRETS] if i % 3 == 0 else f"arn:aws:iam::123456789012:role/other-{i}"
        results.append(Result("ECR005", f"aws_x.r{i}", Status.FAIL,
                              f'Statement[0] allows AWS principal "{shown}" on repository r{i}: not an allowed account',
                              Severity.ERROR, "main.tf", 1))
    start = time.perf_counter()
    masker = redact.Masker(redact.needles_of([mark(values)]))
    built = time.perf_counter()
    masked = redact.redact(results, masker)
    done = time.perf_counter()
    leaked = sum(1 for r in masked[::3] if any(v in r.message for v in values[:100]))
    print(f"needles from {SECRETS} values: {built - start:.2f} s; {MESSAGES} messages masked: {done - built:.2f} s; "
          f"leaked: {leaked}")


if __name__ == "__main__":
    main()
