"""What the AWS provider adds to a resource from its configuration alone: `tags_all` (the
provider's default_tags merged with the resource's tags), the JSON an `aws_iam_policy_document`
renders, and ids known at plan time."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ecr_lint.hcl.evaluate import contains_unknown, deep_plain, plain, symbolic
from ecr_lint.model import Unknown


@dataclass
class ProviderInfo:
    address: str
    default_tags: Any = None  # evaluated dict, Unknown, or None


def tags_all(tags: Any, provider: ProviderInfo) -> Any:
    """The provider's default_tags merged under the resource's own tags, as the provider does."""
    tags_value = plain(tags)
    defaults = plain(provider.default_tags)
    for value in (tags_value, defaults):
        if isinstance(value, Unknown):
            return value
    merged: dict[str, Any] = {}
    if isinstance(defaults, dict):
        merged.update(defaults)
    if isinstance(tags_value, dict):
        merged.update(tags_value)
    return merged


def derive_known_attributes(type_: str, mode: str, data: dict) -> None:
    """Attributes the provider computes from configuration alone, known at plan time."""
    if mode == "managed" and type_ in ("aws_ecr_repository", "aws_ssm_parameter") and "name" in data:
        data.setdefault("id", data["name"])
    if mode == "data" and type_ == "aws_iam_policy_document":
        data["json"] = policy_document_json(data)
        data["minified_json"] = data["json"]


def policy_document_json(data: dict) -> Any:
    """Render data.aws_iam_policy_document the way the provider does, from its arguments."""
    statements: list = []
    for key in ("source_policy_documents", "source_json"):
        sources = plain(data.get(key))
        for src in sources if isinstance(sources, list) else [sources] if sources else []:
            src = plain(src)
            if isinstance(src, Unknown):
                src = src.partial if isinstance(src.partial, str) else None
            if isinstance(src, str):
                try:
                    doc = json.loads(src)
                except ValueError:
                    continue
                found = doc.get("Statement", []) if isinstance(doc, dict) else []
                statements.extend(found if isinstance(found, list) else [found])
    for stmt in data.get("statement", []) if isinstance(data.get("statement"), list) else []:
        statements.append(_statement(stmt))
    doc = {"Version": plain(data.get("version")) or "2012-10-17", "Statement": statements}
    unknown = contains_unknown(doc)
    if unknown is not None:
        return Unknown(unknown.reason, unknown.refs, json.dumps(symbolic(doc), sort_keys=True))
    return json.dumps(deep_plain(doc), sort_keys=True)


def _statement(stmt: dict) -> dict:
    out: dict[str, Any] = {"Effect": plain(stmt.get("effect")) or "Allow"}
    for src, dst in (("sid", "Sid"), ("actions", "Action"), ("not_actions", "NotAction"),
                     ("resources", "Resource"), ("not_resources", "NotResource")):
        if stmt.get(src) is not None:
            out[dst] = stmt[src]
    for src, dst in (("principals", "Principal"), ("not_principals", "NotPrincipal")):
        blocks = stmt.get(src)
        if isinstance(blocks, list) and blocks:
            principal: dict[str, Any] = {}
            for block in blocks:
                kind = plain(block.get("type"))
                ids = block.get("identifiers")
                key = kind if isinstance(kind, str) else "AWS"
                principal.setdefault(key, [])
                principal[key].extend(plain(ids) if isinstance(plain(ids), list) else [ids])
            out[dst] = "*" if principal == {"*": ["*"]} else principal
    conditions = stmt.get("condition")
    if isinstance(conditions, list) and conditions:
        cond: dict[str, Any] = {}
        for block in conditions:
            test, variable = plain(block.get("test")), plain(block.get("variable"))
            if isinstance(test, str) and isinstance(variable, str):
                cond.setdefault(test, {})[variable] = block.get("values")
        out["Condition"] = cond
    return out
