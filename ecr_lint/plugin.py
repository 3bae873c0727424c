"""The stable API for predicates from installed packages (the `ecr_lint.predicates` entry point group).

A predicate is a function `check(resource, ctx)`:

- `resource` is a read-only view of one resource the rule applies to: `address`, `type`,
  `name`, `mode` ("managed" or "data"), `module`, `file`, `line` and `attributes` (the
  evaluated attributes: mappings are read-only, lists are tuples; a value may be a `Ref`, an
  `Unknown` or marked sensitive: `plain()` unwraps a reference, `shown()` formats a value for a
  message without ever showing a sensitive one);
- `ctx` is a read-only `Context`: the settings (`ctx.config`), the stack's resources and its
  graph verbs (`resources`, `resource`, `references`, `referrers`), and `memo` for an index
  built once per stack.

It returns (or yields) verdicts made with `passed`, `failed` and `unknown`; no verdict at all
means the resource passes. Anything else it returns, and any exception it raises, is an
internal error naming the rule and the plugin (exit 3); the run goes on.
"""

from __future__ import annotations

import contextlib
import sys
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Callable, Iterable, Mapping

from ecr_lint.graph import Edge
from ecr_lint.model import Ref, Resource, Status, Unknown, Verdict
from ecr_lint.predicates.common import plain
from ecr_lint.sensitive import shown

__all__ = ["Context", "Edge", "PluginError", "Ref", "ResourceView", "Unknown", "Verdict", "failed", "passed",
           "plain", "shown", "unknown"]

ENTRY_POINT_GROUP = "ecr_lint.predicates"


def passed(message: str = "", attribute: str | None = None) -> Verdict:
    """The resource complies (a message is optional)."""
    return Verdict(Status.PASS, message, attribute)


def failed(message: str, attribute: str | None = None) -> Verdict:
    """A violation; `attribute` (e.g. "encryption_configuration") points the finding at its line."""
    return Verdict(Status.FAIL, message, attribute)


def unknown(reason: str, attribute: str | None = None) -> Verdict:
    """Cannot tell statically, and why (a value known only at apply time, a variable without a value)."""
    return Verdict(Status.UNKNOWN, reason, attribute)


@dataclass(frozen=True)
class ResourceView:
    address: str
    type: str
    name: str
    mode: str
    module: str
    file: str
    line: int
    attributes: Mapping[str, Any]

    @classmethod
    def of(cls, resource: Resource) -> "ResourceView":
        return cls(resource.address, resource.type, resource.name, resource.mode, resource.module,
                   resource.span.file, resource.span.line, _frozen(resource.attributes))


def _frozen(value: Any) -> Any:
    """A read-only copy: a predicate cannot change what other rules see."""
    if isinstance(value, dict):
        return MappingProxyType({k: _frozen(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    if isinstance(value, Ref):
        return Ref(value.address, value.path, _frozen(value.value))
    return value


class Context:
    """What a predicate may look at besides the resource: settings, resources, graph verbs."""

    __slots__ = ("_ctx",)

    def __init__(self, ctx: Any) -> None:
        object.__setattr__(self, "_ctx", ctx)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("the predicate context is read-only")

    @property
    def config(self) -> Any:
        """The settings (a frozen ecr_lint.config.Config): required_tags, allowed_accounts, ..."""
        return self._ctx.config

    def resources(self, type_: str | None = None) -> tuple[ResourceView, ...]:
        """The stack's resources and data sources, of one type or all."""
        found = self._ctx.stack.of_type(type_) if type_ else self._ctx.stack.resources
        return tuple(self._view(r) for r in found)

    def resource(self, address: str) -> ResourceView | None:
        found = self._ctx.graph.resource(address)
        return None if found is None else self._view(found)

    def references(self, address: str) -> tuple[Edge, ...]:
        """The resources `address` refers to (through variables, locals and module outputs), with the
        attribute each reference comes through."""
        def index() -> dict[str, list[Edge]]:
            out: dict[str, list[Edge]] = {}
            for edge in self._ctx.graph.resource_edges():
                out.setdefault(edge.source, []).append(edge)
            return out
        return tuple(self._ctx.memo("plugin:references", index).get(address, ()))

    def referrers(self, address: str, type_: str | None = None) -> tuple[Edge, ...]:
        """The resources that refer to `address` (of one type, or any)."""
        return tuple(self._ctx.graph.referrers(address, type_))

    def memo(self, key: str, compute: Callable[[], Any]) -> Any:
        """A per-stack value computed once (an index over the stack's resources)."""
        return self._ctx.memo(f"plugin:memo:{key}", compute)

    def _view(self, resource: Resource) -> ResourceView:
        return self._ctx.memo(f"plugin:view:{resource.address}", lambda: ResourceView.of(resource))


class PluginError(Exception):
    """A plugin broke the API (it returned something that is not a verdict)."""


class Plugin:
    """A predicate from an installed package, called through this API."""

    def __init__(self, name: str, function: Callable[..., Any], fingerprint: str) -> None:
        self.name = name                # package.module:function, as the rule file names it
        self.function = function
        self.fingerprint = fingerprint  # distribution, version and files: cached results follow the plugin

    def __call__(self, resource: Resource, ctx: Any) -> list[Verdict]:
        context = ctx.memo("plugin:context", lambda: Context(ctx))
        view = context._view(resource)
        # A plugin's print() goes to stderr: it must not corrupt a machine-readable report.
        with contextlib.redirect_stdout(sys.stderr):
            returned = self.function(view, context)
            verdicts = [returned] if isinstance(returned, Verdict) else list(_iterate(returned))
        for verdict in verdicts:
            if not isinstance(verdict, Verdict) or verdict.status not in (Status.PASS, Status.FAIL, Status.UNKNOWN) \
                    or not isinstance(verdict.message, str) or not isinstance(verdict.attribute, (str, type(None))):
                raise PluginError(f"returned {type(verdict).__name__} {verdict!r:.80}, {_NOT_VERDICTS}")
        return verdicts


def _iterate(returned: Any) -> Iterable[Any]:
    if returned is None:
        return ()
    if isinstance(returned, (str, bytes, Mapping)) or not hasattr(returned, "__iter__"):
        raise PluginError(f"returned {type(returned).__name__} {returned!r:.80}, {_NOT_VERDICTS}")
    return returned


_NOT_VERDICTS = "not verdicts made with ecr_lint.plugin.passed, failed or unknown"
