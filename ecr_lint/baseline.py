"""The baseline: findings accepted when ecr-lint was adopted, so that the gate fails only on new ones.

Each entry states what it accepts (rule, address, stack, file) beside its fingerprint, and the
fingerprint must be the one those fields give: an edit to the baseline shows, in review, exactly
which finding it accepts. Only `findings` entries suppress findings; `errors` entries only mark
known input errors. A rule the config makes non-suppressible is never accepted.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
from dataclasses import dataclass, field

from ecr_lint.fingerprint import fingerprint, fingerprint_of, relative_to
from ecr_lint.model import InputError, Result, Status, Suppressed

VERSION = 2


class BaselineError(Exception):
    """A baseline that cannot be used: the message names the file and the entry."""


@dataclass
class Baseline:
    path: str
    findings: dict[str, dict]                   # fingerprint -> entry
    errors: set[str]                            # fingerprints of known input errors
    added: list[dict] = field(default_factory=list)   # entries not in the version at `since`
    since: str | None = None


def error_fingerprint(error: InputError, base: str) -> str:
    import hashlib

    key = f"ecr-lint/2|error|{relative_to(error.file, base)}|{error.message}"
    return hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()[:32]


def write(path: str, results: list[Result], errors: list[InputError], base: str) -> int:
    entries = sorted({(r.rule_id, r.address, relative_to(r.stack, base), relative_to(r.file, base))
                      for r in results if r.status in (Status.FAIL, Status.UNKNOWN)})
    known = sorted({(error_fingerprint(e, base), relative_to(e.file, base), e.message)
                    for e in errors if e.kind == "input"})
    data = {"ecr_lint_baseline": VERSION,
            "findings": [{"fingerprint": fingerprint_of(*entry), "rule_id": entry[0], "address": entry[1],
                          "stack": entry[2], "file": entry[3]} for entry in entries],
            "errors": [{"fingerprint": f, "file": p, "message": m} for f, p, m in known]}
    text = json.dumps(data, indent=1, ensure_ascii=False) + "\n"
    with open(path, "w", encoding="utf-8", errors="surrogateescape") as handle:
        handle.write(text)
    return len(entries)


def read(path: str, since: str | None = None) -> Baseline:
    data = _load(path)
    findings: dict[str, dict] = {}
    for number, entry in enumerate(data["findings"], start=1):
        fields = [entry.get(k) if isinstance(entry, dict) else None for k in ("rule_id", "address", "stack", "file")]
        if not all(isinstance(f, str) for f in fields) or not isinstance(entry.get("fingerprint"), str):
            raise BaselineError(f"{path}: findings entry {number}: needs fingerprint, rule_id, address, stack and "
                                "file (write the baseline again with --write-baseline)")
        if fingerprint_of(*fields) != entry["fingerprint"]:
            raise BaselineError(f"{path}: findings entry {number} ({fields[0]} {fields[1]}): the fingerprint is not "
                                "the one its rule, address, stack and file give (edited by hand?)")
        findings[entry["fingerprint"]] = entry
    errors = {e.get("fingerprint") for e in data.get("errors", []) if isinstance(e, dict)}
    baseline = Baseline(path, findings, errors)
    old = _at_revision(path, since)
    if old is not None:
        baseline.since = old[0]
        before = {e.get("fingerprint") for e in old[1].get("findings", []) if isinstance(e, dict)}
        baseline.added = [entry for fp, entry in findings.items() if fp not in before]
    return baseline


def _load(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except OSError as exc:
        raise BaselineError(f"{path}: cannot read the baseline: {exc.strerror}") from None
    except (ValueError, RecursionError) as exc:
        raise BaselineError(f"{path}: the baseline is not valid JSON: {exc}") from None
    return _checked(path, data)


def _checked(path: str, data) -> dict:
    if not isinstance(data, dict) or not isinstance(data.get("findings"), list):
        raise BaselineError(f"{path}: not an ecr-lint baseline (write one with --write-baseline)")
    if data.get("ecr_lint_baseline") != VERSION:
        raise BaselineError(f"{path}: written by another version of ecr-lint (format "
                            f"{data.get('ecr_lint_baseline')!r}, this one reads {VERSION}): write it again with "
                            "--write-baseline")
    return data


def _at_revision(path: str, since: str | None) -> tuple[str, dict] | None:
    """The baseline as it was at a git revision (`since`, else HEAD when the file is tracked):
    what a change adds to it is reported. None where git cannot tell."""
    directory = os.path.dirname(os.path.abspath(path))
    revision = since or "HEAD"
    try:
        top = subprocess.run(["git", "-C", directory, "rev-parse", "--show-toplevel"], capture_output=True,
                             text=True, timeout=30)
        if top.returncode != 0:
            return None
        rel = os.path.relpath(os.path.realpath(path), os.path.realpath(top.stdout.strip()))
        shown = subprocess.run(["git", "-C", directory, "show", f"{revision}:{rel}"], capture_output=True,
                               timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    if shown.returncode != 0:
        if since:  # asked for explicitly: the baseline is new since then, every entry is added
            return revision, {"findings": []}
        return None
    try:
        data = json.loads(shown.stdout.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    return (revision, data) if isinstance(data, dict) else None


def apply(results: list[Result], baseline: Baseline, base: str, non_suppressible: frozenset[str]) -> tuple[
        list[Result], list[dict]]:
    """(results with the accepted findings suppressed, entries that matched nothing)."""
    out, matched = [], set()
    for result in results:
        if result.status in (Status.FAIL, Status.UNKNOWN) and result.rule_id not in non_suppressible:
            fp = fingerprint(result, base)
            if fp in baseline.findings:
                matched.add(fp)
                result = dataclasses.replace(result, status=Status.SUPPRESSED, suppression=Suppressed(
                    "external", f"in the baseline {os.path.basename(baseline.path)}", relative_to(baseline.path, base)))
        out.append(result)
    stale = [entry for fp, entry in baseline.findings.items() if fp not in matched]
    return out, stale


def mark_known_errors(errors: list[InputError], baseline: Baseline, base: str) -> list[InputError]:
    """Input errors already known when the baseline was written are shown but do not fail the run."""
    return [dataclasses.replace(e, baselined=True)
            if e.kind == "input" and error_fingerprint(e, base) in baseline.errors else e for e in errors]
