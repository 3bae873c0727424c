"""Text from the linted tree made safe for formats that cannot carry every code point."""

from __future__ import annotations

import re

# XML 1.0 `Char`: tab, newline, carriage return and the planes minus surrogates, U+FFFE, U+FFFF.
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# Lone surrogates: what `surrogateescape` makes of file names that are not UTF-8.
_SURROGATE = re.compile("[\ud800-\udfff]")


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:
        return f"\\x{code - 0xDC00:02x}"  # a file-name byte that is not UTF-8, as escape.display shows it
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def xml_text(text: str) -> str:
    """`text` with every character XML 1.0 forbids written as a visible escape (`\\x01`, `\\udc80`)."""
    return _NOT_XML.sub(_escape, text)


def unicode_text(text: str) -> str:
    """`text` as valid Unicode: lone surrogates written as visible escapes (`\\udc80`)."""
    return _SURROGATE.sub(_escape, text)
