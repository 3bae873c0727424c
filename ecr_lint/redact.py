"""The safety net behind sensitive marks: identifying pieces of sensitive values masked in messages.

Messages print marked values as "(sensitive)" where they are formatted (ecr_lint/sensitive.py).
A check may still print a part it took out of a marked value (the account id of a principal
ARN, found by a regex, is a plain str). So every message is also scanned, once, for the
identifying pieces of the stack's marked values:

- a whole marked text (trimmed of punctuation at its ends) of at least 8 characters that is
  not a plain word: "arn:aws:iam::999988887777:root", "tok-abcdef-123456789";
- every word of at least 6 characters with at least 4 digits: account ids, key ids, numbers
  (not "sha256" or "AES256", which rules print themselves).

Only at word boundaries, and never a plain word: a sensitive "Allow" or "production" is
masked where it is printed, and does not mask the rule's own "Allow" or "production".

The scan is linear in the text: each needle is indexed by its rarest word; a message's words
are looked up in that index (one set intersection rules out most messages at once), and only
the needles behind a word found are compared, at that place.
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from typing import Any, Iterable

from ecr_lint.model import Ref, Unknown
from ecr_lint.sensitive import MASK, PLACEHOLDER, Concealed, Marked

WORD = re.compile(r"\w+")
_WORD_CHAR = re.compile(r"\w")
MIN_TEXT = 8        # a whole marked text shorter than this is masked only where it is formatted
MIN_WORD = 6        # an identifying word: at least this long ...
MIN_DIGITS = 4      # ... with at least this many digits
MAX_PER_WORD = 64   # needles behind one index word; past this the word itself is masked


def needles_of(values: Iterable[Any]) -> set[str]:
    """The identifying pieces of every marked value in `values` (walked deeply)."""
    found: set[str] = set()
    stack = list(values)
    while stack:
        value = stack.pop()
        if isinstance(value, Ref):
            stack.append(value.value)
        elif isinstance(value, Marked) and not isinstance(value, str):
            _add_text(int.__repr__(value) if isinstance(value, int) else float.__repr__(value), found)
        elif isinstance(value, Marked):
            _add_text(str.__str__(value), found)
        elif isinstance(value, Unknown):
            if isinstance(value.partial, Marked):  # its known parts; a placeholder names an expression
                for part in PLACEHOLDER.split(str.__str__(value.partial)):
                    _add_text(part, found)
        elif isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, (list, tuple)):
            stack.extend(value)
        elif isinstance(value, Concealed):
            pass  # true/false: masked where formatted; as a piece of text it would mask every "true"
    return found


def _add_text(text: str, found: set[str]) -> None:
    words = WORD.findall(text)
    for word in words:
        if len(word) >= MIN_WORD and sum(c.isdigit() for c in word) >= MIN_DIGITS:
            found.add(word)
    trimmed = _trim(text)
    if len(trimmed) >= MIN_TEXT and (len(words) > 1 or any(c.isdigit() for c in trimmed)):
        found.add(trimmed)


def _trim(text: str) -> str:
    """From the first to the last word character: a needle starts and ends on word boundaries."""
    first = WORD.search(text)
    if first is None:
        return ""
    last = first
    for last in WORD.finditer(text, first.start()):
        pass
    return text[first.start():last.end()]


class Masker:
    """Masks needles in texts, in one pass over each text."""

    def __init__(self, needles: Iterable[str]):
        needles = sorted({n for n in needles if n}, key=len, reverse=True)  # longest first at one place
        words_of = {n: WORD.findall(n) for n in needles}
        frequency = Counter(w for words in words_of.values() for w in set(words))
        self.index: dict[str, list[tuple[str, int]]] = {}
        self.whole: set[str] = set()  # index words with too many needles behind them: masked themselves
        for needle in needles:
            words = words_of[needle]
            if not words:
                continue
            anchor = min(words, key=lambda w: (frequency[w], -len(w)))
            offset = _word_offset(needle, anchor)
            self.index.setdefault(anchor, []).append((needle, offset))
        for word, entries in self.index.items():
            if len(entries) > MAX_PER_WORD:
                self.whole.add(word)
        self.words = frozenset(self.index)

    def __bool__(self) -> bool:
        return bool(self.words)

    def mask(self, text: str) -> str:
        if not self.words or not isinstance(text, str):
            return text
        hits = self.words.intersection(WORD.findall(text))
        if not hits:
            return text
        spans: list[tuple[int, int]] = []
        for word in hits:  # a few words; each found where it stands alone
            at = text.find(word)
            while at >= 0:
                if _bounded(text, at, at + len(word)):
                    spans.extend(self._needle_at(text, word, at))
                at = text.find(word, at + len(word))
        return _replace(text, spans)

    def _needle_at(self, text: str, word: str, at: int) -> list[tuple[int, int]]:
        if word in self.whole:
            return [(at, at + len(word))]
        for needle, offset in self.index[word]:
            start = at - offset
            end = start + len(needle)
            if start >= 0 and text.startswith(needle, start) and _bounded(text, start, end):
                return [(start, end)]
        return []


def _word_offset(needle: str, word: str) -> int:
    for match in WORD.finditer(needle):
        if match.group() == word:
            return match.start()
    return 0


def _bounded(text: str, start: int, end: int) -> bool:
    return (start == 0 or not _WORD_CHAR.match(text, start - 1)) and not _WORD_CHAR.match(text, end)


def _replace(text: str, spans: list[tuple[int, int]]) -> str:
    if not spans:
        return text
    spans.sort()
    out: list[str] = []
    position = 0
    for start, end in spans:
        if end <= position:
            continue  # inside a span already masked
        if start < position:
            start = position  # overlapping needles: one mask covers both
        else:
            out.append(text[position:start])
            out.append(MASK)
        position = end
    out.append(text[position:])
    return "".join(out)


def redact(items: list, masker: Masker) -> list:
    """Items (results, errors) with their messages masked."""
    if not masker:
        return items
    out = []
    for item in items:
        message = masker.mask(item.message)
        out.append(item if message == item.message else dataclasses.replace(item, message=message))
    return out


def stack_masker(stack: Any) -> Masker:
    """The needles of a loaded stack: its resources' attributes and its variables."""
    if not getattr(stack, "sensitive", False):
        return Masker(())
    values: list[Any] = [r.attributes for r in stack.resources]
    values += list(stack.module_variables.values()) + list(stack.module_values.values())
    return Masker(needles_of(values))
