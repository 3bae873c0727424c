"""Whether a resource is in production: its environment value, read by meaning, not by spelling."""

from __future__ import annotations

import fnmatch
import unicodedata
from dataclasses import dataclass
from typing import Any

from ecr_lint.graph import PASS_THROUGH
from ecr_lint.hcl.evaluate import plain
from ecr_lint.model import Resource, Unknown

WORKSPACE = "terraform.workspace"   # the graph node of `terraform.workspace` (loaders/evaluation.py)

# Cyrillic and Greek letters that look like Latin ones (Unicode TR39 confusables, these scripts
# only): "prоd" with a Cyrillic о must not read as some other environment.
_LOOKALIKES = str.maketrans({
    **dict(zip("аеіјорсухѕԁԛԝһӏ", "aeijopcyxsdqwhl")),
    **dict(zip("АВЕКМНОРСТХУЅІЈԚԜҺӀ", "ABEKMHOPCTXYSIJQWHI")),
    **dict(zip("αοριυκνγχϲϳ", "aopiukvyxcj")),
    **dict(zip("ΑΒΕΖΗΙΚΜΝΟΡΤΥΧϹ", "ABEZHIKMNOPTYXC")),
})
# Invisible characters that are not format (Cf) or control (Cc) characters.
_INVISIBLE = frozenset("\u034f\u115f\u1160\u3164\uffa0") | frozenset(map(chr, range(0xFE00, 0xFE10)))
# "pre-prod", "non_prod", "nonProd": a production name qualified by one of these is not production.
_QUALIFIERS = frozenset({"pre", "non"})
_GLOB = frozenset("*?[")


@dataclass(frozen=True)
class Reading:
    """An environment value and what it reads as."""

    raw: str
    normal: str              # casefolded, invisible characters and stray spaces gone, lookalikes mapped
    changes: tuple[str, ...]  # what normalising changed, for the note in the verdict

    def note(self) -> str:
        return f"; read as {self.normal!r}: {', '.join(self.changes)}" if self.changes else ""


def read(value: str) -> Reading:
    """Normalise an environment value: NFKC, invisible characters, stray spaces, lookalikes, case."""
    changes = []
    visible = "".join(c for c in value if c not in _INVISIBLE and unicodedata.category(c) not in ("Cf", "Cc"))
    if visible != value:
        changes.append("it has invisible characters")
    folded = unicodedata.normalize("NFKC", visible)
    if folded != visible:
        changes.append("it has full-width or styled characters")
    stripped = folded.strip()
    if stripped != folded:
        changes.append("it has stray spaces")
    latin = stripped.translate(_LOOKALIKES)
    if latin != stripped:
        changes.append("it has Cyrillic or Greek letters that look like Latin ones")
    return Reading(value, latin, tuple(changes))


def tokens(text: str) -> list[str]:
    """Words of a name: split on anything but letters and digits, on case changes and on digits.

    "prod-eu", "eu_production", "EUProd", "prodEU", "prd1" -> [prod, eu], [eu, production],
    [eu, prod], [prod, eu], [prd, 1]; casefolded.
    """
    words: list[str] = []
    current = ""
    for i, ch in enumerate(text):
        if not ch.isalnum():
            words.append(current)
            current = ""
            continue
        if current:
            last = current[-1]
            upper_run_ends = last.isupper() and ch.isupper() and i + 1 < len(text) and text[i + 1].islower()
            if last.isdigit() != ch.isdigit() or (last.islower() and ch.isupper()) or upper_run_ends:
                words.append(current)
                current = ""
        current += ch
    words.append(current)
    return [w.casefold() for w in words if w]


# Digits written for the letters they look like, between two letters ("pr0d", "pr0duct1on").
_DIGIT_LETTERS = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t"}


def _digits_as_letters(text: str) -> str:
    return "".join(_DIGIT_LETTERS.get(c, c) if 0 < i < len(text) - 1 and text[i - 1].isalpha()
                   and text[i + 1].isalpha() else c for i, c in enumerate(text))


def is_production(reading: Reading, names: tuple[str, ...]) -> bool:
    """A production name is a run of the value's words (not after "pre"/"non"), or a glob on the
    value; read as written and with digits between letters read as the letters they look like
    ("pr0d"), production if either reading is."""
    lettered = _digits_as_letters(reading.normal.casefold())  # casefolded: "PR0D" is not "PRo" + "D"
    return _is_production(reading.normal, names) or (lettered != reading.normal.casefold() and _is_production(lettered, names))


def _is_production(normal: str, names: tuple[str, ...]) -> bool:
    value = normal.casefold()
    words = tokens(normal)
    for name in names:
        if _GLOB & set(name):
            if fnmatch.fnmatchcase(value, name.casefold()):
                return True
            continue
        wanted = tokens(name)
        for i in range(len(words) - len(wanted) + 1):
            if wanted and words[i:i + len(wanted)] == wanted and (i == 0 or words[i - 1] not in _QUALIFIERS):
                return True
    return False


@dataclass(frozen=True)
class Production:
    """Whether a resource is in production (None: cannot tell), and the words that say why."""

    production: bool | None
    label: str


def production_of(resource: Resource, ctx: Any) -> Production:
    """From --environment, else the environment tags, else the environment variables.

    Several tags (or variables) may name the environment: production if any of them reads as
    production, unknown if none does and one is unknown. An unknown environment is production
    unless `unknown_environment = "unknown"`. So is one that depends on `terraform.workspace` when
    no workspace was given: "default" is only what Terraform would pick on this machine, not
    where the stack is applied (a MUTABLE repository tagged with the workspace must not pass
    because the linter ran without one).
    """
    config = ctx.config
    if config.environment:
        candidates = [(config.environment, "--environment")]
    else:
        candidates = _tag_values(resource, config.environment_tags)
        if all(isinstance(value, Unknown) for value, _ in candidates):  # none, or only unknown tag maps
            candidates += _variable_values(resource, ctx)
    if not candidates:
        names = ", ".join(config.environment_tags)
        return _unknown(f"nothing names the environment (no {names} tag, no "
                        f"{', '.join('var.' + v for v in config.environment_variables)})", config)
    undecided = None
    first_other = None
    for value, source in candidates:
        if isinstance(value, Unknown):
            undecided = undecided or value.reason
            continue
        reading = read(value if isinstance(value, str) else str(value))
        if is_production(reading, tuple(config.production_environments)):
            return Production(True, f"environment {reading.raw!r} from {source}{reading.note()}")
        first_other = first_other or f"environment {reading.raw!r} from {source}"
    if undecided is not None:
        return _unknown(undecided, config)
    assumed = None if config.environment else _assumed_workspace(resource, [s for _, s in candidates], ctx)
    if assumed:
        return _unknown(assumed, config)
    return Production(False, first_other)


def _assumed_workspace(resource: Resource, sources: list[str], ctx: Any) -> str | None:
    """Why the environment is not known, when it depends on a workspace nobody gave (else None)."""
    stack = ctx.stack
    if getattr(stack, "workspace_from", "") != "default" or WORKSPACE not in ctx.graph:
        return None
    for source in sources:
        if source.startswith("var."):  # the module's variable, and what its value came from
            starts = [(f"{resource.module}.{source}" if resource.module else source, None)]
        else:  # a tag: the resource's tags, or the provider's default_tags (tags_all)
            starts = [(resource.address, "tags"), (resource.provider, "default_tags")]
        if _reaches_workspace(ctx.graph, starts):
            return (f"{source} depends on terraform.workspace, and no workspace was given: Terraform's "
                    f"{stack.workspace!r} would be a guess (give it with --workspace or TF_WORKSPACE, or run "
                    "`terraform workspace select`)")
    return None


def _reaches_workspace(graph: Any, starts: list[tuple[str, str | None]]) -> bool:
    """Whether an attribute of a node (None: any) refers to terraform.workspace, directly or
    through variables, locals, outputs and module calls."""
    frontier = [edge.target for node, attribute in starts for edge in graph.references(node)
                if attribute is None or edge.attribute.split(".")[0] == attribute]
    seen: set[str] = set()
    while frontier:
        node = frontier.pop()
        if node == WORKSPACE:
            return True
        if node in seen or graph.kind(node) not in PASS_THROUGH:
            continue
        seen.add(node)
        frontier.extend(edge.target for edge in graph.references(node))
    return False


def _unknown(why: str, config: Any) -> Production:
    if config.unknown_environment == "production":
        return Production(True, f"unknown environment treated as production ({why})")
    return Production(None, why)


def _tag_values(resource: Resource, keys: tuple[str, ...]) -> list[tuple[Any, str]]:
    """Values of the environment tags (keys matched case-insensitively); an unknown tag map may hold one."""
    wanted = {k.casefold() for k in keys}
    unknown_maps = []
    for attribute in ("tags_all", "tags"):
        tags = plain(resource.attributes.get(attribute))
        if isinstance(tags, Unknown):
            unknown_maps.append((tags, attribute))
        elif isinstance(tags, dict):
            found = [(plain(v), f"the {k} tag") for k, v in tags.items()
                     if isinstance(k, str) and k.casefold() in wanted and plain(v) is not None]
            if found:
                return found
    return unknown_maps


def _variable_values(resource: Resource, ctx: Any) -> list[tuple[Any, str]]:
    variables = ctx.stack.module_variables.get(resource.module, {})
    return [(plain(variables[name]), f"var.{name}") for name in ctx.config.environment_variables
            if name in variables and plain(variables[name]) is not None]
