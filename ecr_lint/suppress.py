"""Inline suppressions: ecr-lint's own comments and the peers', matched to the block they sit in.

Only comments the HCL lexer saw count (never text in strings or heredocs). A suppression belongs
to the resource, data or module block it sits in (or that starts on the line right below it,
comment lines between allowed), and covers every instance of that block in every stack that
evaluates it (a module call's: every resource of every instance of that call, in that stack
only). `key="..."` narrows it to one instance.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import fnmatch
import json
import re
from dataclasses import dataclass
from typing import Iterable

from ecr_lint.loaders.annotations import Annotation
from ecr_lint.model import Result, Severity, Status, Suppressed

REASON_RULE, EXPIRED_RULE, UNUSED_RULE = "ECR090", "ECR091", "ECR092"


# --- what a comment says ------------------------------------------------------------------------

@dataclass(frozen=True)
class Suppression:
    file: str
    line: int
    rule_ids: frozenset[str]
    reason: str | None
    until: dt.date | None
    until_text: str | None
    origin: str                   # the directive as written
    block: tuple | None           # (first line, last line, kind)
    key: str | None = None        # only the instance with this for_each key or count index
    workspace: str | None = None  # only in this Terraform workspace (tfsec/trivy `ws:`)
    line_only: int = 0            # only results on this line (kics-scan ignore-line)
    whole_file: bool = False      # every block of the file (KICS's file-level commands)
    problem: str | None = None    # why it suppresses nothing (a malformed directive), for ECR092

    def where(self) -> str:
        from ecr_lint.fingerprint import display_path

        return f"{display_path(self.file)}:{self.line}"


_ECR_LINT = re.compile(r"ecr-lint\s*:\s*(?P<verb>[\w-]*)(?P<rest>.*)", re.S)
_SETTING = re.compile(r'(?P<name>[A-Za-z_]+)\s*=\s*(?:"(?P<quoted>[^"]*)"|(?P<bare>\S+))')
_RULE_ID = re.compile(r"ECR[0-9]{3}", re.ASCII)
# checkov (and its bridgecrew/cortex spellings): `checkov:skip=CKV_AWS_51[,CKV_AWS_163]:reason`.
_CHECKOV = re.compile(r"(?:checkov|bridgecrew|cortex):skip=(?P<ids>[A-Za-z0-9_]+(?:,[A-Za-z0-9_]+)*)(?::(?P<reason>[^\n]*))?")
# tfsec and trivy: `tfsec:ignore:<id>[params]:exp:YYYY-MM-DD:ws:<workspace>`, several per comment.
_AQUA = re.compile(r"(?P<tool>tfsec|trivy):ignore:(?P<id>[A-Za-z0-9_*-]+)(?P<params>\[[^\]]*\])?"
                   r"(?P<qualifiers>(?::(?:exp|ws):[^\s:]+)*)")
_KICS = re.compile(r'^(?:#|//)\s*kics-scan\s+(?P<verb>ignore-line|ignore-block)(?:\s+reason\s*=\s*"[^"]*")?\s*$', re.I)
# KICS's file-level commands: `#` only, case-sensitive, before any block (its docs and parser).
_KICS_FILE = re.compile(r'^#\s*kics-scan\s+(?:(?P<ignore>ignore)|(?P<verb>disable|enable)=(?P<ids>[0-9a-f,-]+))'
                        r'(?:\s+reason\s*=\s*"[^"]*")?\s*$')
_REASON_ANYWHERE = re.compile(r'reason\s*=\s*"(?P<reason>[^"]*)"')


@dataclass(frozen=True)
class PeerIds:
    """Each peer's check ids (upper case) -> ecr-lint rule id, from the rule files' `peers`."""

    checkov: dict[str, str]
    aqua: dict[str, str]       # tfsec and trivy accept each other's ids (and trivy's aliases)
    kics: frozenset[str]       # rules with a KICS counterpart: KICS comments ignore every query
    kics_ids: dict[str, str]   # KICS query id -> ecr-lint rule id (for disable= and enable=)

    @classmethod
    def of(cls, rules: Iterable) -> "PeerIds":
        checkov, aqua, kics_ids = {}, {}, {}
        for rule in rules:
            for peer_id in rule.peers.get("kics", ()):
                kics_ids[peer_id.lower()] = rule.id
            for peer_id in rule.peers.get("checkov", ()):
                checkov[peer_id.upper()] = rule.id
            for peer_id in [*rule.peers.get("tfsec", ()), *rule.peers.get("trivy", ())]:
                aqua[peer_id.upper()] = rule.id
                for alias in _aqua_aliases(peer_id):
                    aqua[alias.upper()] = rule.id
        return cls(checkov, aqua, frozenset(r.id for r in rules if r.peers.get("kics")), kics_ids)


def _aqua_aliases(peer_id: str) -> list[str]:
    """The other names trivy accepts for a check: AVD-AWS-0031 is also AWS-0031, and
    aws-ecr-enforce-immutable-repository is also its short code enforce-immutable-repository."""
    if peer_id.upper().startswith("AVD-"):
        return [peer_id[4:]]
    if peer_id.startswith("aws-ecr-"):
        return [peer_id[len("aws-ecr-"):]]
    return []


def parse(annotation: Annotation, peers: PeerIds, known_rules: frozenset[str]) -> list[Suppression]:
    """Every suppression one comment holds (ecr-lint's own, or several peers' on one line)."""
    text, out = annotation.text, []
    base = dict(file=annotation.file, line=annotation.line, block=annotation.block)
    own = _ECR_LINT.search(text)
    if own:
        return [_own(own, known_rules, base)]
    # Peers write no reason; `reason="..."` after their directive is read, so a migrated comment
    # can say why without being rewritten.
    extra = _REASON_ANYWHERE.search(text)
    extra_reason = extra.group("reason").strip() or None if extra else None
    inside = annotation.block is not None and annotation.block[0] <= annotation.line <= annotation.block[1]
    for match in _CHECKOV.finditer(text):
        ids = frozenset(peers.checkov[i.upper()] for i in match.group("ids").split(",") if i.upper() in peers.checkov)
        if not ids:
            continue
        reason = (match.group("reason") or "").strip() or extra_reason
        problem = None if inside else (f"{match.group(0)}: checkov honours a skip only inside the resource or module "
                                       "block: move it into the block")
        out.append(Suppression(rule_ids=ids, reason=reason, until=None, until_text=None,
                               origin=match.group(0).strip(), problem=problem, **base))
    for match in _AQUA.finditer(text):
        wanted = match.group("id").upper()
        ids = frozenset(rule for peer_id, rule in peers.aqua.items() if fnmatch.fnmatchcase(peer_id, wanted))
        if not ids:
            continue  # another tool's check with no ecr-lint equivalent
        qualifiers = dict(q.split(":", 1) for q in re.findall(r"(?:exp|ws):[^\s:]+", match.group("qualifiers")))
        until_text = qualifiers.get("exp")
        problem = None
        if match.group("params"):
            problem = (f"{match.group(0)}: ignores limited to attribute values ({match.group('params')}) are not "
                       "supported by ecr-lint: it suppresses nothing (remove the [...] to suppress the whole block)")
        out.append(Suppression(rule_ids=ids, reason=extra_reason, until=_date(until_text), until_text=until_text,
                               origin=match.group(0), workspace=qualifiers.get("ws"), problem=problem, **base))
    whole = _KICS_FILE.search(text.strip())
    if whole and peers.kics:
        named = frozenset(peers.kics_ids[i] for i in (whole.group("ids") or "").split(",") if i in peers.kics_ids)
        ids = peers.kics if whole.group("ignore") else named if whole.group("verb") == "disable" \
            else peers.kics - named  # enable=: results only for the listed queries
        problem = None if annotation.at_start else (f"{whole.group(0).strip()}: KICS reads it only at the start of a "
                                                    "file, before any block: it ignores nothing here")
        if ids:
            out.append(Suppression(rule_ids=ids, reason=extra_reason, until=None, until_text=None,
                                   origin=whole.group(0).strip(), whole_file=True, problem=problem, **base))
    kics = _KICS.search(text.strip())
    if kics and peers.kics:
        verb = kics.group("verb").lower()
        # ignore-line: the comment's line and the one beneath it; ignore-block above a nested
        # attribute: that attribute (ecr-lint reports an attribute at its first line).
        line_only = annotation.line + 1 if verb == "ignore-line" or inside else 0
        out.append(Suppression(rule_ids=peers.kics, reason=extra_reason, until=None, until_text=None,
                               origin=kics.group(0).strip(), line_only=line_only, **base))
    return out


def _own(match: re.Match, known_rules: frozenset[str], base: dict) -> Suppression:
    """`ecr-lint:ignore ECR003[,ECR004] [key="x"] reason="..." [until=YYYY-MM-DD]`."""
    origin = match.group(0).strip()
    if match.group("verb") != "ignore":
        return _malformed(base, origin, f"`ecr-lint:{match.group('verb')}` is not a directive (write "
                                        "`ecr-lint:ignore ECR003 reason=\"...\"`): it suppresses nothing")
    rest = match.group("rest").lstrip(" \t=")
    settings = {m.group("name"): m.group("quoted") if m.group("quoted") is not None else m.group("bare")
                for m in _SETTING.finditer(rest)}
    head = _SETTING.split(rest, maxsplit=1)[0] if settings else rest
    head = re.split(r"\*/|\n", head)[0]
    words = [w for w in re.split(r"[\s,]+", head) if w]
    ids = frozenset(words)
    bad = sorted(w for w in words if not _RULE_ID.fullmatch(w))
    if not words:
        return _malformed(base, origin, "names no rule id (write `ecr-lint:ignore ECR003 reason=\"...\"`): "
                                        "it suppresses nothing")
    if bad:
        return _malformed(base, origin, f"{', '.join(map(repr, bad))} is not a rule id (ECR and three ASCII "
                                        "digits): the suppression suppresses nothing")
    unknown = sorted(ids - known_rules)
    if unknown:
        return _malformed(base, origin, f"no rule {', '.join(unknown)} (see `ecr-lint rules`): the suppression "
                                        "suppresses nothing")
    extra = sorted(set(settings) - {"reason", "until", "key"})
    if extra:
        return _malformed(base, origin, f"unknown setting {extra[0]!r} (known: reason, until, key): the "
                                        "suppression suppresses nothing")
    reason = settings.get("reason")
    return Suppression(rule_ids=ids, reason=reason.strip() or None if reason is not None else None,
                       until=_date(settings.get("until")), until_text=settings.get("until"), origin=origin,
                       key=settings.get("key"), **base)


def _malformed(base: dict, origin: str, problem: str) -> Suppression:
    return Suppression(rule_ids=frozenset(), reason=None, until=None, until_text=None, origin=origin,
                       problem=problem, **base)


def _date(text: str | None) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


# --- applying them ------------------------------------------------------------------------------

def _instance_key(address: str, base: str) -> str | None:
    """The instance key of `address` right after `base` (`base["k"]` -> k, `base[0]` -> 0)."""
    rest = address[len(base):]
    if not rest.startswith("["):
        return None
    close = rest.find("]")
    inner = rest[1:close]
    try:
        return str(json.loads(inner))
    except ValueError:
        return inner


def _covers(sup: Suppression, address: str, target: str, module: bool) -> bool:
    """Whether a suppression on the block declared as `target` (an instance address of a
    resource, or a module call's address) covers the result at `address`."""
    if module:
        if not (address == target or address.startswith((target + ".", target + "["))):
            return False
        return sup.key is None or _instance_key(address, target) == sup.key
    if address != target:
        return False
    if sup.key is None:
        return True
    base = target.rsplit("[", 1)[0] if target.endswith("]") else target
    return _instance_key(target, base) == sup.key


def _lines_of(result: Result) -> tuple[int, ...]:
    """The finding's line, and the line of the attribute it is about when the finding points inside
    it (an ignore-line comment above `policy = jsonencode({` still covers the `ecr:*` line)."""
    return (result.line, result.origins[0].head) if result.origins else (result.line,)


def apply(results: list[Result], outcomes: list, rules: list, config, today: dt.date) -> list[Result]:
    """Suppress what inline comments accept (each result is matched only with the suppressions
    on blocks declared in its own stack's evaluation); report bad, expired or unused ones."""
    peers = PeerIds.of(rules)
    known = frozenset(r.id for r in rules)
    by_block: dict[tuple[str, int], list[Suppression]] = {}
    by_file: dict[str, list[Suppression]] = {}
    everyone: dict[tuple[str, int, str], tuple[Suppression, str]] = {}
    for outcome in sorted(outcomes, key=lambda o: o.root):
        for annotation in outcome.annotations:
            for sup in parse(annotation, peers, known):
                identity = (sup.file, sup.line, sup.origin)
                if identity not in everyone:
                    everyone[identity] = (sup, outcome.root)
                    if sup.whole_file and sup.problem is None:
                        by_file.setdefault(sup.file, []).append(sup)
                    elif sup.block is not None and sup.problem is None:
                        by_block.setdefault((sup.file, sup.block[0]), []).append(sup)
    if not everyone:
        return results
    # Per stack: which suppressions could cover which address; and one address per block, to
    # name it in ECR090-ECR092.
    covering: dict[str, list[tuple[Suppression, str, bool]]] = {}
    names: dict[tuple[str, int], str] = {}
    for outcome in sorted(outcomes, key=lambda o: o.root):
        pairs = covering.setdefault(outcome.root, [])
        for file, start, _, address in outcome.spans:
            names.setdefault((file, start), re.sub(r"\[[^\]]*\]$", "", address))
            for sup in by_block.get((file, start), ()):
                pairs.append((sup, address, sup.block[2] == "module"))
            for sup in by_file.get(file, ()):
                pairs.append((sup, address, False))  # the blocks of the file, not what a module call holds
    matched: set[tuple] = set()
    workspaces = {o.root: getattr(o, "workspace", "default") for o in outcomes}
    out: list[Result] = []
    for result in results:
        if result.status in (Status.FAIL, Status.UNKNOWN) and result.stack in covering:
            for sup, target, module in covering[result.stack]:
                if result.rule_id not in sup.rule_ids or not _covers(sup, result.address, target, module):
                    continue
                if sup.line_only and (result.file != sup.file or sup.line_only not in _lines_of(result)):
                    continue
                matched.add((sup.file, sup.line, sup.origin))
                if result.rule_id in config.non_suppressible or _expired(sup, today):
                    continue
                if sup.workspace is not None and not fnmatch.fnmatchcase(workspaces.get(result.stack, ""), sup.workspace):
                    continue
                result = dataclasses.replace(result, status=Status.SUPPRESSED, suppression=Suppressed(
                    "inSource", sup.reason or "(no reason given)", f"{sup.origin} at {sup.where()}"))
                break
        out.append(result)
    severities = _meta_severities(rules, config)
    active = {r.id for r in rules}
    for identity, (sup, stack) in sorted(everyone.items(), key=lambda item: item[0][:2]):
        name = names.get((sup.file, sup.block[0]), "") if sup.block and not sup.whole_file else ""
        out.extend(_meta(sup, name, stack, identity in matched, active, config, today, severities))
    return out


def _expired(sup: Suppression, today: dt.date) -> bool:
    """Past its date, or a date that cannot be read (as tfsec and trivy do: never "forever")."""
    return (sup.until is None and sup.until_text is not None) or (sup.until is not None and sup.until < today)


def _meta_severities(rules: list, config) -> dict[str, Severity]:
    out = {}
    for rule in rules:
        if rule.id in (REASON_RULE, EXPIRED_RULE, UNUSED_RULE):
            out[rule.id] = Severity.parse(config.severity[rule.id]) if rule.id in config.severity else rule.severity
    return out


def _meta(sup: Suppression, address: str, stack: str, matched: bool, active: set[str], config, today: dt.date,
          severities: dict[str, Severity]) -> list[Result]:
    """ECR090-ECR092 about one suppression (only for the ones the run selected)."""
    found: list[tuple[str, str]] = []
    ids = ", ".join(sorted(sup.rule_ids))
    if sup.problem is not None:
        found.append((UNUSED_RULE, sup.problem))
    else:
        for rule_id in sorted(sup.rule_ids & config.non_suppressible):
            found.append((UNUSED_RULE, f"{rule_id} cannot be suppressed (non_suppressible in the config): this "
                                       "suppression has no effect"))
        if sup.reason is None:
            found.append((REASON_RULE, f"suppression of {ids} gives no reason: the finding stays suppressed, but "
                                       'add reason="..." (why it is acceptable, and a ticket)'))
        if sup.until is None and sup.until_text:
            found.append((EXPIRED_RULE, f"{sup.until_text!r} is not a date (YYYY-MM-DD): the suppression does not "
                                        "apply until it is one"))
        elif sup.until is not None and sup.until < today:
            found.append((EXPIRED_RULE, f"suppression of {ids} expired on {sup.until.isoformat()}: it no longer "
                                        "suppresses"))
        if sup.block is None and not sup.whole_file:
            found.append((UNUSED_RULE, "suppression is not in or right above a resource, data or module block: "
                                       "it suppresses nothing"))
        elif not matched and sup.rule_ids <= active:
            found.append((UNUSED_RULE, f"{ids} found nothing on this block to suppress: remove the suppression"))
    return [Result(rule_id, address, Status.FAIL, message, severities[rule_id], sup.file, sup.line, stack)
            for rule_id, message in found if rule_id in severities]
