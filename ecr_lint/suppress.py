"""Inline suppressions (with reasons and expiry), peers' skip comments, and the baseline."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import re
from dataclasses import dataclass
from typing import Iterable

from ecr_lint.fingerprint import fingerprint, relative_uri
from ecr_lint.loaders.files import MAX_FILE_BYTES
from ecr_lint.model import Result, Severity, Status, Suppressed

REASON_RULE, EXPIRED_RULE, UNUSED_RULE = "ECR090", "ECR091", "ECR092"

_ECR_LINT = re.compile(r"(?:#|//|/\*)\s*ecr-lint:ignore[\s=]+(?P<ids>ECR\d{3}(?:\s*,\s*ECR\d{3})*)(?P<rest>.*)$")
_REASON = re.compile(r'reason\s*=\s*"(?P<reason>[^"]*)"')
_UNTIL = re.compile(r"until\s*=\s*(?P<until>\S+)")
_CHECKOV = re.compile(r"(?:#|//)\s*checkov:skip=(?P<id>[A-Z0-9_]+(?:\s*,\s*[A-Z0-9_]+)*)(?::(?P<reason>.*))?$")
_TFSEC = re.compile(r"(?:#|//)\s*(?P<tool>tfsec|trivy):ignore:(?P<id>[A-Za-z0-9-]+)(?::exp:(?P<until>[0-9-]+))?")


@dataclass(frozen=True)
class Suppression:
    file: str
    line: int
    rule_ids: frozenset[str]
    reason: str | None
    until: dt.date | None
    until_text: str | None
    origin: str            # the comment as written, trimmed

    def where(self) -> str:
        return f"{relative_uri(self.file)}:{self.line}"


def peer_ids(rules: Iterable) -> dict[str, str]:
    """Peer check id -> ecr-lint rule id, from the rule files' `peers` field."""
    out = {}
    for rule in rules:
        for ids in rule.peers.values():
            for peer_id in ids:
                out[peer_id.upper()] = rule.id
    return out


def read_lines(path: str, roots=None, limit: int = MAX_FILE_BYTES) -> list[str] | None:
    """A linted file's lines, read through the reading gate (None when it cannot be read now).
    Without `roots`, the caller vouches for the file's place (the loader admitted it)."""
    from ecr_lint.loaders.files import Refused, Roots, read_file

    try:
        data, _ = read_file(path, roots if roots is not None else Roots((), [path]), limit)
    except (Refused, OSError):
        return None
    return data.decode("utf-8", errors="replace").splitlines()


def read_suppressions(path: str, peers: dict[str, str], lines: list[str] | None = None) -> list[Suppression]:
    lines = read_lines(path) if lines is None else lines
    out = []
    for number, text in enumerate(lines, start=1):
        if "ignore" not in text and "skip" not in text:
            continue
        found = _parse(text, path, number, peers)
        if found is not None:
            out.append(found)
    return out


def _parse(text: str, path: str, line: int, peers: dict[str, str]) -> Suppression | None:
    match = _ECR_LINT.search(text)
    if match:
        ids = frozenset(i.strip() for i in match.group("ids").split(","))
        rest = match.group("rest")
        reason = _REASON.search(rest)
        until = _UNTIL.search(rest)
        until_text = until.group("until") if until else None
        return Suppression(path, line, ids, reason.group("reason").strip() or None if reason else None,
                           _date(until_text), until_text, match.group(0).strip())
    match = _CHECKOV.search(text)
    if match:
        ids = frozenset(peers[i.strip().upper()] for i in match.group("id").split(",") if i.strip().upper() in peers)
        if ids:
            reason = (match.group("reason") or "").strip() or None
            return Suppression(path, line, ids, reason, None, None, match.group(0).strip())
    match = _TFSEC.search(text)
    if match and match.group("id").upper() in peers:
        until_text = match.group("until")
        return Suppression(path, line, frozenset({peers[match.group("id").upper()]}), None, _date(until_text),
                           until_text, match.group(0).strip())
    return None


def _date(text: str | None) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def _scope(suppression: Suppression, spans: list[tuple[int, int, str]], lines: list[str]) -> str | None:
    """What a suppression belongs to: the block it is in, or the block right below it. The
    block is a resource, or a module call (then it covers every resource of the module)."""
    inside = [s for s in spans if s[0] <= suppression.line <= max(s[1], s[0])]
    if inside:
        return min(inside, key=lambda s: s[1] - s[0])[2]
    below = suppression.line + 1
    while below <= len(lines) and lines[below - 1].strip().startswith(("#", "//")):
        below += 1
    starting = [s for s in spans if s[0] == below]
    return starting[0][2] if starting else None


def _covers(target: tuple[str, str], result: Result) -> bool:
    """A suppression's target (file, address) covers the result: the resource itself, or, for
    a module call, every resource in that module's instances, whatever file they are in."""
    file, address = target
    if result.address == address:
        return result.file == file or _is_module(address)
    return _is_module(address) and result.address.startswith((address + ".", address + "["))


def _is_module(address: str) -> bool:
    parts = address.split(".")
    return len(parts) >= 2 and parts[-2] == "module"


def apply(results: list[Result], blocks: Iterable[tuple[str, int, int, str]], rules: list, config,
          today: dt.date, roots: Iterable[str] | None = None) -> list[Result]:
    """Suppress what inline comments accept; report bad or unused suppressions.

    `blocks` are (file, first line, last line, address) of resources and module calls: where
    a suppression may sit.
    """
    from ecr_lint.loaders.files import Roots

    peers = peer_ids(rules)
    active_rules = {r.id for r in rules}
    gate = Roots([*roots, *([config.source_root] if config.source_root else [])]) if roots is not None else None
    spans: dict[str, list[tuple[int, int, str]]] = {}
    for file, start, end, address in blocks:
        spans.setdefault(file, []).append((start, end, address))
    by_target: dict[tuple[str, str], list[Suppression]] = {}
    meta: list[Result] = []
    all_suppressions: list[tuple[Suppression, str | None]] = []
    for file in sorted(spans):
        if not file.endswith((".tf", ".tf.json")):
            continue
        lines = read_lines(file, gate, config.max_file_bytes)
        if lines is None:
            continue  # gone or unreadable since it was linted: it holds no suppression we can honour
        for sup in read_suppressions(file, peers, lines):
            address = _scope(sup, spans[file], lines)
            all_suppressions.append((sup, address))
            if address is not None:
                by_target.setdefault((file, address), []).append(sup)
    used: set[int] = set()
    out: list[Result] = []
    module_targets = [(target, sups) for target, sups in by_target.items() if _is_module(target[1])]
    for result in results:
        if result.status in (Status.FAIL, Status.UNKNOWN):
            candidates = list(by_target.get((result.file, result.address), []))
            candidates += [s for target, sups in module_targets if _covers(target, result) for s in sups]
            for sup in candidates:
                if result.rule_id not in sup.rule_ids:
                    continue
                used.add(id(sup))
                if result.rule_id in config.non_suppressible:
                    continue
                if sup.until is not None and sup.until < today:
                    continue
                result = dataclasses.replace(result, status=Status.SUPPRESSED, suppression=Suppressed(
                    "inSource", sup.reason or "(no reason given)", f"{sup.origin} at {sup.where()}"))
                break
        out.append(result)
    checked = {(r.file, r.address, r.rule_id) for r in results}
    checked |= {(file, address, r.rule_id) for (file, address) in by_target if _is_module(address)
                for r in results if _covers((file, address), r)}
    for sup, address in all_suppressions:
        target = address or ""
        for rule_id in sorted(sup.rule_ids):
            if rule_id in config.non_suppressible:
                meta.append(_meta(UNUSED_RULE, target, sup, f"{rule_id} cannot be suppressed (non_suppressible in "
                                  f"the config): this suppression has no effect"))
        if sup.reason is None:
            meta.append(_meta(REASON_RULE, target, sup, f"suppression of {', '.join(sorted(sup.rule_ids))} gives no "
                              'reason: add reason="..." (why it is acceptable, and a ticket)'))
        if sup.until is None and sup.until_text:
            meta.append(_meta(EXPIRED_RULE, target, sup, f"until={sup.until_text} is not a date (YYYY-MM-DD): "
                              "the suppression never expires"))
        elif sup.until is not None and sup.until < today:
            meta.append(_meta(EXPIRED_RULE, target, sup, f"suppression of {', '.join(sorted(sup.rule_ids))} expired on "
                              f"{sup.until.isoformat()}: it no longer suppresses"))
        if id(sup) not in used and address is None:
            meta.append(_meta(UNUSED_RULE, target, sup, "suppression is not on or above a resource: it suppresses nothing"))
        elif id(sup) not in used:
            ran = [i for i in sup.rule_ids if (sup.file, address, i) in checked or i not in active_rules]
            if ran and all(i in active_rules for i in ran):
                meta.append(_meta(UNUSED_RULE, target, sup, f"{', '.join(sorted(sup.rule_ids))} found nothing on "
                                  f"{address} to suppress: remove the suppression"))
    wanted = {REASON_RULE, EXPIRED_RULE, UNUSED_RULE} & active_rules
    out.extend(m for m in meta if m.rule_id in wanted)
    return out


def _meta(rule_id: str, address: str, sup: Suppression, message: str) -> Result:
    return Result(rule_id, address, Status.FAIL, message, Severity.WARNING, sup.file, sup.line)


# --- baseline ---------------------------------------------------------------------------

BASELINE_VERSION = 1


def error_fingerprint(error) -> str:
    import hashlib

    return hashlib.sha256(f"error|{relative_uri(error.file)}|{error.message}".encode()).hexdigest()[:32]


def write_baseline(path: str, results: list[Result], errors: list = ()) -> int:
    entries = sorted({(fingerprint(r), r.rule_id, r.address, relative_uri(r.file))
                      for r in results if r.status in (Status.FAIL, Status.UNKNOWN)})
    known_errors = sorted({(error_fingerprint(e), relative_uri(e.file), e.message) for e in errors if e.kind == "input"})
    data = {"ecr_lint_baseline": BASELINE_VERSION,
            "findings": [{"fingerprint": f, "rule_id": i, "address": a, "file": p} for f, i, a, p in entries],
            "errors": [{"fingerprint": f, "file": p, "message": m} for f, p, m in known_errors]}
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=1)
        handle.write("\n")
    return len(entries)


def read_baseline(path: str) -> set[str]:
    from ecr_lint.config import ConfigError

    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the baseline: {exc.strerror}") from None
    except ValueError as exc:
        raise ConfigError(f"{path}: the baseline is not valid JSON: {exc}") from None
    if not isinstance(data, dict) or data.get("ecr_lint_baseline") != BASELINE_VERSION or \
            not isinstance(data.get("findings"), list):
        raise ConfigError(f"{path}: not an ecr-lint baseline (write one with --write-baseline)")
    entries = data["findings"] + (data.get("errors") if isinstance(data.get("errors"), list) else [])
    return {f.get("fingerprint") for f in entries if isinstance(f, dict)}


def baseline_errors(errors: list, fingerprints: set[str]) -> list:
    """Input errors already known when the baseline was written are shown but do not fail the run."""
    return [dataclasses.replace(e, baselined=True) if e.kind == "input" and error_fingerprint(e) in fingerprints else e
            for e in errors]


def apply_baseline(results: list[Result], fingerprints: set[str], path: str) -> list[Result]:
    out = []
    for result in results:
        if result.status in (Status.FAIL, Status.UNKNOWN) and fingerprint(result) in fingerprints:
            result = dataclasses.replace(result, status=Status.SUPPRESSED, suppression=Suppressed(
                "external", f"in the baseline {os.path.basename(path)}", relative_uri(path)))
        out.append(result)
    return out
