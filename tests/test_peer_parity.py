"""Peer parity (issue 7 item 3): ecr-lint agrees with checkov, trivy and KICS on their own ECR
fixtures, except where a difference is deliberate and explained (tests/peer_parity.py)."""

from __future__ import annotations

import os

import pytest

import peer_parity as pp
from conftest import SHARED, needs_shared

pytestmark = needs_shared("corpus")


def _show(row) -> str:
    return (f"{row.peer} {row.fixture} {row.address} {row.check}: peer {row.peer_verdict}, "
            f"ecr-lint {row.rule} {row.verdict} ({row.message})")


@pytest.fixture(scope="module")
def rows():
    assert os.path.normpath(pp.CORPUS) == os.path.normpath(os.path.join(SHARED, "corpus"))
    return pp.build_rows()


def test_every_difference_is_deliberate(rows):
    open_rows = [r for r in pp.differences(rows) if r.key not in pp.DELIBERATE]
    lines = []
    for r in open_rows:
        bug = pp.KNOWN_BUGS.get(r.key)
        lines.append(f"{_show(r)}\n    {'KNOWN BUG: ' + bug if bug else 'unexplained: fix ecr-lint, or explain it in DELIBERATE'}")
    assert not open_rows, "differences from the peers that are not deliberate:\n" + "\n".join(lines)


def test_deliberate_entries_give_reasons():
    empty = [k for k, why in pp.DELIBERATE.items() if not isinstance(why, str) or not why.strip()]
    assert not empty, f"DELIBERATE entries without a reason: {empty}"
    both = set(pp.DELIBERATE) & set(pp.KNOWN_BUGS)
    assert not both, f"an entry is either deliberate or a bug, not both: {sorted(both)}"


def test_no_stale_deliberate_entry(rows):
    by_key = {r.key: r for r in rows}
    missing = [k for k in pp.DELIBERATE if k not in by_key]
    agreeing = [k for k in pp.DELIBERATE if k in by_key and by_key[k].agree]
    assert not missing, f"DELIBERATE entries for rows that no longer exist: {missing}"
    assert not agreeing, f"DELIBERATE entries that now agree with the peer (remove them): {agreeing}"


def test_no_stale_known_bug(rows):
    by_key = {r.key: r for r in rows}
    gone = [k for k in pp.KNOWN_BUGS if k not in by_key or by_key[k].agree]
    assert not gone, f"KNOWN_BUGS entries that are fixed or gone (remove them): {gone}"


def test_mapping_matches_rule_files():
    """rules/ECR00x.yaml `peers:` map each peer check of the corpus to the rule with the same intent."""
    actual = pp.rule_peers()
    wrong = {key: (actual.get(key), rule) for key, rule in pp.EXPECTED_MAPPING.items() if actual.get(key) != rule}
    notes = [f"{key}: rule files say {got}, expected {want}" + (f" ({pp.MAPPING_BUGS[key]})" if key in pp.MAPPING_BUGS else "")
             for key, (got, want) in sorted(wrong.items())]
    assert not wrong, "peer mapping in the rule files differs:\n" + "\n".join(notes)
    unexpected = {key: actual[key] for key in pp.NO_EQUIVALENT if key in actual}
    assert not unexpected, f"peer checks said to have no equivalent are mapped in the rule files: {unexpected}"
    stale = [key for key in pp.MAPPING_BUGS if actual.get(key) == pp.EXPECTED_MAPPING.get(key)]
    assert not stale, f"MAPPING_BUGS entries that are fixed (remove them): {stale}"


def test_every_peer_check_in_the_corpus_is_accounted_for():
    queries = {meta["id"] for meta in pp.kics_queries().values()}
    kics_known = {c for (p, c) in [*pp.EXPECTED_MAPPING, *pp.NO_EQUIVALENT] if p == "kics"}
    assert queries == kics_known, f"KICS queries in corpus/kics vs mapped/no-equivalent: {queries ^ kics_known}"
    assert len(queries) == 5
    trivy_dirs = {d.split("_")[0].replace("AVD-", "") for folder in ("trivy-checks-examples", "legacy-defsec-examples")
                  for d in os.listdir(os.path.join(pp.CORPUS, "trivy", folder))}
    trivy_known = {c.replace("AVD-", "") for (p, c) in pp.EXPECTED_MAPPING if p == "trivy"}
    assert trivy_dirs == trivy_known


def test_every_peer_fixture_file_is_compared(rows):
    compared = {(r.peer, r.fixture) for r in rows}
    for peer, folder in (("trivy", "trivy"), ("kics", "kics")):
        base = os.path.join(pp.CORPUS, folder)
        for current, _, files in os.walk(base):
            for name in files:
                if name.endswith(".tf"):
                    rel = os.path.relpath(os.path.join(current, name), base).replace(os.sep, "/")
                    if peer == "kics" and "ecr_repository_without_policy" in rel:
                        continue  # NO_EQUIVALENT
                    assert (peer, rel) in compared, f"{peer} fixture {rel} was not compared"
    for fixture, expected in pp.expectations().items():
        assert expected, f"{fixture.peer} {fixture.name}: no resource found to compare"


def test_kics_failures_match_its_expected_results(rows):
    """Every result a KICS positive file expects lands on exactly one compared resource."""
    import json

    base = os.path.join(pp.CORPUS, "kics", "terraform", "aws")
    for name, meta in pp.kics_queries().items():
        if ("kics", meta["id"]) in pp.NO_EQUIVALENT:
            continue
        with open(os.path.join(base, name, "test", "positive_expected_result.json"), encoding="utf-8") as handle:
            expected = json.load(handle)
        fails = [r for r in rows if r.peer == "kics" and r.check == name and r.peer_verdict == "fail"]
        assert len(fails) == len(expected), (name, fails, expected)


def test_doc_is_current(rows):
    with open(pp.DOC, encoding="utf-8") as handle:
        current = handle.read()
    assert current == pp.render_markdown(rows), "docs/peer-parity.md is stale: run scripts/gen_peer_parity.py"
