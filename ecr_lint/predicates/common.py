"""Small readers shared by predicates: nested blocks, names, policy documents."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ecr_lint.hcl.evaluate import plain
from ecr_lint.model import Ref, Resource, Status, Unknown, Verdict
from ecr_lint.sensitive import is_marked, mark


def blocks(attributes: dict, name: str) -> list[dict]:
    """A nested block as a list of dicts (HCL gives a list; .tf.json may give one object)."""
    value = plain(attributes.get(name))
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return [plain(v) for v in value if isinstance(plain(v), dict)]
    return []


def fail(message: str, attribute: str | None = None, path: tuple = ()) -> Verdict:
    """`path`: where in the attribute's value the problem is, when a smaller span holds it."""
    return Verdict(Status.FAIL, message, attribute, path=path)


def unknown(message: str, attribute: str | None = None) -> Verdict:
    return Verdict(Status.UNKNOWN, message, attribute)


def passed(message: str = "", attribute: str | None = None) -> Verdict:
    return Verdict(Status.PASS, message, attribute)


def ref_target(value: Any) -> Ref | None:
    """The outermost reference a value came through, if any."""
    return value if isinstance(value, Ref) else None


def address_type(address: str) -> tuple[str, str]:
    """('managed'|'data', type) of a resource address, module prefixes and index removed."""
    import re

    parts = re.sub(r"\[[^\]]*\]", "", address).split(".")
    while len(parts) > 2 and parts[0] == "module":
        parts = parts[2:]
    if parts[0] == "data":
        return "data", parts[1]
    return "managed", parts[0]


@dataclass(frozen=True)
class Document:
    """A JSON document attribute, decoded; `placeholders` when parts are known only later."""

    data: Any = None
    error: str | None = None      # the value is a string that is not JSON
    unknown: str | None = None    # the value cannot be read at all


def decode_json(value: Any) -> Document:
    """The document; every part of it marked sensitive when the text is."""
    document = _decode_json(plain(value))
    if document.data is not None and is_marked(value):
        return Document(data=mark(document.data))
    return document


def _decode_json(value: Any) -> Document:
    placeholders = False
    if isinstance(value, Unknown):
        partial = value.partial
        if not isinstance(partial, str) or (partial.startswith("${") and partial.endswith("}") and partial.count("${") == 1):
            return Document(unknown=value.reason)
        value, placeholders = value.partial, True
    if isinstance(value, (dict, list)):
        return Document(data=value)   # .tf.json may give the object itself
    if not isinstance(value, str):
        return Document(unknown=f"the document is {type(value).__name__}, not JSON text")
    try:
        return Document(data=json.loads(value))
    except ValueError as exc:
        if placeholders:
            return Document(unknown=f"the document has values known only at apply time in places JSON cannot hold them ({exc})")
        return Document(error=f"not valid JSON: {exc}")


def fits(parts: list[str], text: str) -> bool:
    """Whether `text` is parts[0] + anything + parts[1] + ... + anything + parts[-1].

    Greedy left-to-right search: linear in the text, whatever the parts (no regex backtracking).
    """
    if len(parts) == 1:
        return text == parts[0]
    first, *middle, last = parts
    if len(text) < len(first) + len(last) or not text.startswith(first) or not text.endswith(last):
        return False
    at, end = len(first), len(text) - len(last)
    for part in middle:
        found = text.find(part, at, end)
        if found < 0:
            return False
        at = found + len(part)
    return True


def may_be(value: Any, text: str) -> bool:
    """Whether a value, possibly Unknown with a partly known string, could turn out to be `text`."""
    value = plain(value)
    if isinstance(value, Unknown):
        from ecr_lint.policy.iam import PLACEHOLDER

        return not isinstance(value.partial, str) or fits(PLACEHOLDER.split(value.partial), text)
    return value == text


def name_of(resource: Resource, attribute: str = "name") -> Any:
    return plain(resource.attributes.get(attribute))
