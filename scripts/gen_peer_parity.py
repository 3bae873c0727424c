#!/usr/bin/env python3
"""Write docs/peer-parity.md from tests/peer_parity.py (ecr-lint vs checkov, trivy and KICS).

Needs ../shared/corpus beside the repository. `--check` exits 1 when the file is stale instead
of writing it.
"""
from __future__ import annotations

import argparse
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [REPO, os.path.join(REPO, "tests")]

import peer_parity  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if docs/peer-parity.md is stale; write nothing")
    args = parser.parse_args()
    if not os.path.isdir(peer_parity.CORPUS):
        print(f"{peer_parity.CORPUS} is missing: the corpus lives in ../shared beside the repository", file=sys.stderr)
        return 2
    rows = peer_parity.build_rows()
    text = peer_parity.render_markdown(rows)
    current = open(peer_parity.DOC, encoding="utf-8").read() if os.path.exists(peer_parity.DOC) else None
    if args.check:
        if current != text:
            print(f"{os.path.relpath(peer_parity.DOC, REPO)} is stale: run scripts/gen_peer_parity.py", file=sys.stderr)
            return 1
        return 0
    if current != text:
        with open(peer_parity.DOC, "w", encoding="utf-8") as handle:
            handle.write(text)
    for peer in peer_parity.PEERS:
        mine = [r for r in rows if r.peer == peer]
        diffs = [r for r in mine if not r.agree]
        deliberate = sum(r.key in peer_parity.DELIBERATE for r in diffs)
        print(f"{peer}: {len({r.fixture for r in mine})} fixture files, {len(mine)} comparisons, "
              f"{sum(r.agree for r in mine)} agree, {deliberate} deliberate, {len(diffs) - deliberate} open")
    print(f"wrote {os.path.relpath(peer_parity.DOC, REPO)}" if current != text else "up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
