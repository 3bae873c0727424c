"""Plain values shared by loaders, rules, engine and reporters."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Unknown:
    """A value that cannot be known statically, with the reason why.

    `partial` is what is known of it: a string with `${...}` placeholders where the
    unknown parts are (e.g. a template or a jsonencode of a partly known object).
    """

    reason: str
    refs: tuple[str, ...] = ()
    partial: Any = None

    def __repr__(self) -> str:
        return f"Unknown({self.reason!r})"


@dataclass(frozen=True)
class Ref:
    """A reference to another object's attribute: a graph edge, and its value if known."""

    address: str
    path: tuple[Any, ...]
    value: Any

    @property
    def text(self) -> str:
        out = self.address
        for step in self.path:
            out += f"[{step}]" if isinstance(step, int) else f".{step}"
        return out


class Severity(enum.IntEnum):
    INFO = 0
    WARNING = 1
    ERROR = 2

    @classmethod
    def parse(cls, text: str) -> "Severity":
        return cls[text.upper()]

    def __str__(self) -> str:
        return self.name.lower()


class Status(str, enum.Enum):
    PASS = "pass"
    FAIL = "fail"
    UNKNOWN = "unknown"
    SUPPRESSED = "suppressed"   # a fail or unknown that an inline suppression or the baseline accepted


@dataclass(frozen=True)
class SourceSpan:
    file: str
    line: int
    end_line: int = 0


@dataclass
class Resource:
    """A resource or data source instance with its evaluated attributes."""

    address: str          # full instance address: module.a.aws_ecr_repository.this["api"]
    type: str
    name: str
    mode: str             # "managed" or "data"
    module: str           # "" for the root module, else "module.a" / 'module.a["k"]'
    attributes: dict[str, Any]
    span: SourceSpan
    attribute_lines: dict[str, int] = field(default_factory=dict)
    provider: str = "aws"
    stack: str = ""       # the root stack directory this resource belongs to
    # The file of each top-level argument or block written elsewhere than span.file (merged in from
    # an override file), and the override blocks merged into the declaration (suppressions there apply).
    attribute_files: dict[str, str] = field(default_factory=dict)
    overrides: tuple[SourceSpan, ...] = ()

    def line_of(self, attribute: str | None) -> int:
        return self.location_of(attribute)[1]

    def location_of(self, attribute: str | None) -> tuple[str, int]:
        """(file, line) of an attribute (its top-level argument or block), else of the declaration."""
        if attribute:
            top = attribute.split(".")[0]
            if top in self.attribute_lines:
                return self.attribute_files.get(top, self.span.file), self.attribute_lines[top]
        return self.span.file, self.span.line


@dataclass(frozen=True)
class Verdict:
    """What a check concluded about one resource."""

    status: Status
    message: str
    attribute: str | None = None
    severity: "Severity | None" = None   # overrides the rule's severity for this verdict
    path: tuple = ()   # where in the attribute's value the problem is: ("Statement", 0, "Action", 1), ("Owner",)


@dataclass(frozen=True)
class Origin:
    """One step of where a judged value comes from, from the resource's attribute to the literal.

    `what` names the place (never a value: origins are printed, values may be sensitive). `kind`
    is the step: attribute | default | tfvars | cli | local | argument | output. The last step
    says in `end` what the value is there: literal | missing (a key the object lacks: `key`) |
    absent (the block does not set the attribute) | computed (a function, a template, a
    for-expression...) | reference (another resource's attribute) | unknown. `block`, `attribute`
    and `steps` locate the expression, for `ecr-lint fix`: the block (type and labels), the
    attribute (nested blocks first) and the steps into the expression (("key", "Action"),
    ("item", 0), ("then",), ("arg", 0)...).
    """

    file: str
    line: int
    what: str
    kind: str = "attribute"
    block: tuple = ()
    attribute: tuple = ()
    steps: tuple = ()
    end: str = ""      # on the last step only
    key: str = ""      # for end == "missing": the key the object lacks
    head: int = 0      # the line of the attribute itself (`line` may be a line inside its expression)

    def brief(self) -> str:
        return f"{self.what} ({self.file}:{self.line})" if self.line else f"{self.what} ({self.file})"


@dataclass(frozen=True)
class Result:
    rule_id: str
    address: str
    status: Status
    message: str
    severity: Severity
    file: str
    line: int
    stack: str = ""
    suppression: "Suppressed | None" = None
    origins: tuple = ()   # of Origin: where the judged value comes from (ecr_lint/loaders/origins.py)


@dataclass(frozen=True)
class Suppressed:
    """Why a result is suppressed: inline (`inSource`) or by the baseline (`external`)."""

    kind: str
    reason: str
    source: str


@dataclass(frozen=True)
class InputError:
    """An input that could not be read; the run goes on without it."""

    file: str
    line: int
    message: str
    kind: str = "input"   # "input", "internal", or "warning" (shown, never failing the run by itself)
    baselined: bool = False  # a known input error recorded in the baseline: shown, not failing

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.message}"


@dataclass
class Report:
    results: list[Result]
    errors: list[InputError]
    stacks: list[str]
    rules: list[Any] = field(default_factory=list)
    base: str = ""        # the repository root: machine outputs' paths and fingerprints are relative to it
    baseline: dict | None = None   # file, entries, matched, stale entries, entries added since a revision
    inputs: list[dict] = field(default_factory=list)  # per stack: its workspace and what set its variables

    @property
    def findings(self) -> list[Result]:
        """What needs attention: fail and unknown results (suppressed ones are not)."""
        return [r for r in self.results if r.status in (Status.FAIL, Status.UNKNOWN)]

    @property
    def suppressed(self) -> list[Result]:
        return [r for r in self.results if r.status is Status.SUPPRESSED]
