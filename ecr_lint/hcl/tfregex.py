"""Terraform's regular expressions: Go's RE2 syntax and matching rules, run by google-re2.

Terraform matches with Go's regexp package, which is RE2: linear time in the input, no
backtracking. google-re2 is the same engine, so a pattern means here what it means to
Terraform (`\\w` is ASCII, `(?P<n>...)` and `(?U)` work, lookarounds are errors), and
`^(a+)+$` cannot hang. Matching runs on the UTF-8 bytes, as Go's does, so positions and
empty-match rules are Go's; every search is charged to the stack's regex budget.
"""

from __future__ import annotations

import functools
from typing import Any, Iterator

import re2

from ecr_lint.hcl.evaluate import Budget, EvalError, check_collection, check_string

MAX_PATTERN = 10_000  # characters; RE2's own memory limit (8 MiB a program) bounds what compiles


@functools.lru_cache(maxsize=256)
def compile_pattern(pattern: str) -> Any:
    if len(pattern) > MAX_PATTERN:
        raise EvalError(f"regular expression longer than {MAX_PATTERN} characters")
    options = re2.Options()
    options.log_errors = False  # RE2 would print parse errors on stderr
    try:
        return re2.compile(pattern, options)
    except re2.error as exc:
        message = exc.args[0] if exc.args else exc
        message = message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)
        raise EvalError(f"invalid regular expression: {message}") from None
    except UnicodeEncodeError:
        raise EvalError("invalid regular expression: not valid Unicode") from None


def _utf8(text: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        raise EvalError("regular expression input is not valid Unicode") from None


def _matches(compiled: Any, data: bytes, budget: Budget) -> Iterator[Any]:
    """Successive non-overlapping matches, as Go's allMatches: an empty match right after a
    previous match is skipped, and an empty match moves on by one UTF-8 character."""
    end = len(data)
    pos, previous_end = 0, -1
    while pos <= end:
        budget.regex_input(end - pos + 1)  # a search may read the rest of the input
        match = compiled.search(data, pos)
        if match is None:
            return
        start, stop = match.span()
        accept = True
        if stop == pos:  # an empty match at pos
            if start == previous_end:
                accept = False
            pos += _rune_width(data, pos) if pos < end else 1
        else:
            pos = stop
        previous_end = stop
        if accept:
            yield match


def _rune_width(data: bytes, pos: int) -> int:
    lead = data[pos]
    return 1 if lead < 0xC0 else 2 if lead < 0xE0 else 3 if lead < 0xF0 else 4


def _text(match: Any, group: int) -> str | None:
    span = match.span(group)
    if span[0] < 0:
        return None  # an optional group that did not take part: Terraform gives null
    return match.string[span[0]:span[1]].decode("utf-8", "surrogateescape")


def _result(compiled: Any, match: Any) -> Any:
    """regex()'s result: the match, a list of the groups, or a map of the named groups."""
    names = compiled.groupindex
    if compiled.groups == 0:
        return _text(match, 0)
    if not names:
        return [_text(match, i) for i in range(1, compiled.groups + 1)]
    return {name: _text(match, i) for name, i in names.items()}


def _check_groups(compiled: Any) -> None:
    if compiled.groupindex and len(compiled.groupindex) != compiled.groups:
        raise EvalError("invalid regular expression: named and unnamed capture groups are mixed")


def regex(pattern: str, text: str, budget: Budget) -> Any:
    compiled = compile_pattern(pattern)
    _check_groups(compiled)
    data = _utf8(text)
    budget.regex_input(len(data))
    match = compiled.search(data)
    if match is None:
        raise EvalError("regex(): pattern did not match")
    return _result(compiled, match)


def regexall(pattern: str, text: str, budget: Budget) -> list:
    compiled = compile_pattern(pattern)
    _check_groups(compiled)
    out = []
    for match in _matches(compiled, _utf8(text), budget):
        out.append(_result(compiled, match))
        check_collection(len(out))
        budget.step(compiled.groups + 1)
    return out


def replace(pattern: str, text: str, template: str, budget: Budget) -> str:
    """Go's ReplaceAllString: `$1`, `${1}`, `$name`, `${name}` and `$$` in the template."""
    compiled = compile_pattern(pattern)
    data = _utf8(text)
    pieces: list[bytes] = []
    size = 0
    last = 0
    parsed = _parse_template(template, compiled.groupindex)
    for match in _matches(compiled, data, budget):
        start, stop = match.span()
        pieces.append(data[last:start])
        size += start - last
        for piece in parsed:
            if isinstance(piece, bytes):
                pieces.append(piece)
                size += len(piece)
            else:
                span = match.span(piece) if piece <= compiled.groups else (-1, -1)
                if span[0] >= 0:
                    pieces.append(data[span[0]:span[1]])
                    size += span[1] - span[0]
        check_string(size)  # before the result is built, however many matches
        budget.step(len(parsed) + 1)
        last = stop
    pieces.append(data[last:])
    check_string(size + len(data) - last)
    return b"".join(pieces).decode("utf-8", "surrogateescape")


def _parse_template(template: str, names: dict[str, int]) -> list[bytes | int]:
    """The template as literal bytes and group numbers (Go's regexp.Expand rules; a group that
    does not exist expands to nothing, an ill-formed `$` stays as it is)."""
    out: list[bytes | int] = []
    literal = []
    i, n = 0, len(template)
    while i < n:
        ch = template[i]
        if ch != "$":
            literal.append(ch)
            i += 1
            continue
        if i + 1 < n and template[i + 1] == "$":
            literal.append("$")
            i += 2
            continue
        name, after = _group_name(template, i + 1)
        if name is None:
            literal.append("$")
            i += 1
            continue
        out.append("".join(literal).encode("utf-8", "surrogateescape"))
        literal = []
        if name.isdigit() and name.isascii() and (name == "0" or not name.startswith("0")) and len(name) < 9:
            out.append(int(name))
        else:
            out.append(names.get(name, 1 << 30))  # no such group: empty
        i = after
    out.append("".join(literal).encode("utf-8", "surrogateescape"))
    return [p for p in out if p != b""]


def _group_name(template: str, i: int) -> tuple[str | None, int]:
    brace = i < len(template) and template[i] == "{"
    j = i + 1 if brace else i
    k = j
    while k < len(template) and (template[k].isalnum() or template[k] == "_"):
        k += 1
    if k == j:
        return None, i
    if brace:
        if k >= len(template) or template[k] != "}":
            return None, i
        return template[j:k], k + 1
    return template[j:k], k
