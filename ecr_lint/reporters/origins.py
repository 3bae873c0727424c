"""Where a finding's value comes from, in words: the "set at" line, the place to change, related locations."""

from __future__ import annotations

from ecr_lint.fingerprint import relative_to
from ecr_lint.model import Origin, Result

MAX_SHOWN_HOPS = 3   # hops between the attribute and the origin named on the "set at" line


def source(result: Result) -> Origin | None:
    """The origin of the judged value when it is not simply the attribute the finding points at."""
    if len(result.origins) > 1 or (result.origins and any(s[0] in ("then", "else") for s in result.origins[0].steps)):
        return result.origins[-1]
    return None


def place(origin: Origin, show_path) -> str:
    if origin.kind == "cli":
        return "the environment" if origin.file == "env" else "the command line"
    return f"{show_path(origin.file)}:{origin.line}" if origin.line else show_path(origin.file)


def set_at(result: Result, show_path) -> str | None:
    """'variables.tf:40: default of var.image_tag_mutability (through ...)', or None."""
    origin = source(result)
    if origin is None:
        return None
    text = f"{place(origin, show_path)}: {origin.what}"
    between = [o.what for o in result.origins[1:-1]]
    if between:
        shown = between[:MAX_SHOWN_HOPS] + (["..."] if len(between) > MAX_SHOWN_HOPS else [])
        text += f" (through {', '.join(reversed(shown))})"
    return text


def where_to_change(result: Result, show_path) -> str | None:
    """What to change where the value comes from: 'in variables.tf:40 (default of var.x)'."""
    origin = result.origins[-1] if result.origins else None
    if origin is None:
        return None
    if origin.end == "missing":
        return f"add {origin.key} to {origin.what} at {place(origin, show_path)}"
    if source(result) is None or origin.end in ("reference", "unknown", "absent"):
        return None
    if origin.kind == "cli":
        return f"change {origin.what}"
    return f"change it at {place(origin, show_path)} ({origin.what})"


def remediation(result: Result, generic: str, show_path) -> str:
    """The rule's remediation, led by what to change where the value comes from; for a key an object
    lacks, only that (the generic text would suggest what the configuration already does)."""
    where = where_to_change(result, show_path)
    if where and result.origins[-1].end == "missing":
        return where
    return f"{where}: {generic}" if where else generic


def chain(result: Result, base: str) -> list[dict]:
    """The whole chain, from the attribute to the origin, files relative to `base`."""
    return [{"file": ("(environment)" if o.file == "env" else "(command line)") if o.kind == "cli" else relative_to(o.file, base), "line": o.line,
             "what": o.what, "kind": o.kind, **({"end": o.end} if o.end else {})} for o in result.origins]


def in_module(result: Result) -> bool:
    """A resource of a module (not the module call itself): its file may be shared by several stacks."""
    parts = result.address.replace('"', "").split(".")
    return parts[0] == "module" and not (len(parts) >= 2 and parts[-2].split("[")[0] == "module")
