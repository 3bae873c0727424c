"""Text from the linted tree (values, labels, file names) made safe to print to a terminal or CI log.

Every output path runs input through here: a value can then neither start a line, nor carry
terminal escapes (CSI, OSC 0 titles, OSC 52 clipboard writes), nor reorder what is shown (bidi
controls), nor form a CI log command. GitHub, Azure and TeamCity honour `##[...]`, `##vso[` and
`##teamcity[` anywhere in a line (GitHub's `::cmd::` only at its start, which the line layout
of every format keeps for ecr-lint's own text), so `##` before such a bracket is escaped too.
"""

from __future__ import annotations

import re

# C0, DEL, C1; Arabic letter mark; zero-width and bidi marks; line and paragraph separators;
# bidi embeddings, overrides and isolates; word joiner; BOM; lone surrogates (a `\ud800` escape
# in .tf.json, or a file-name byte that is not UTF-8, which Python carries as U+DC80-U+DCFF).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ud800-\udfff]"
                     "|##(?=[A-Za-z]*\\[)")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "##": "#\\x23"}


def _escaped(match: re.Match) -> str:
    char = match.group()
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:
        return f"\\x{code - 0xDC00:02x}"  # the original byte of a file name that is not UTF-8
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def display(text: object) -> str:
    """`text` with every control, invisible-formatting and CI-command character written as an escape."""
    text = str(text)
    return _UNSAFE.sub(_escaped, text) if _UNSAFE.search(text) else text


# JSON text as json.dumps writes it (ensure_ascii): an escape is `\uXXXX` or `\` and one character.
_JSON_ESCAPE = re.compile(r"\\u(d[89ab][0-9a-f]{2})\\u(d[c-f][0-9a-f]{2})|\\u(d[89a-f][0-9a-f]{2})|\\.|##(?=[A-Za-z]*\[)")


def _json_escaped(match: re.Match) -> str:
    if match.group(3):  # a lone surrogate: shown as text, as display() shows it
        code = int(match.group(3), 16)
        return f"\\\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"\\\\u{code:04x}"
    if match.group() == "##":
        return "#\\u0023"  # the same string to a JSON reader; no CI command to a log reader
    return match.group()  # a surrogate pair (a real character) or any other escape: as it was


def json_text(piece: str) -> str:
    """A piece of JSON text (whole tokens, ASCII) with no lone surrogate and no `##[` command.

    Strings keep their meaning, except that a lone surrogate, which is not a character and which
    strict JSON readers reject, becomes the visible text `\\ud800` (`\\xff` for a file-name byte).
    """
    if "\\ud" not in piece and "##" not in piece:
        return piece
    return _JSON_ESCAPE.sub(_json_escaped, piece)
