"""Reading a large JSON file piece by piece: neither its whole text nor its whole tree is ever
in memory, only a window of the text and what the caller keeps.

The standard library's C decoder (`JSONDecoder.raw_decode`) does all the real decoding; this
cursor walks the punctuation of the outer objects and arrays, so a caller can decode one member
or one element at a time, keep what it needs and drop the rest. The window grows when a value
does not fit (doubling, so a large value costs at most about twice its decoding) and slides
forward otherwise. Malformed input raises `StreamError` with `json.loads`'s message and the
line, and says whether the file simply ends too early.
"""

from __future__ import annotations

import codecs
import json
import re
from typing import IO, Any, Iterator

_WHITESPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()
_BOM = codecs.BOM_UTF8
_NUMBER_TAIL = re.compile(r"[0-9.eE+\-]*\Z")      # what may still be a number when the window ends
_CUT_LITERAL = re.compile(r"(?:t|tr|tru|f|fa|fal|fals|n|nu|nul|N|Na|I|In|Inf|Infi|Infin|Infini|Infinit|-|-I|-In|-Inf"
                          r"|-Infi|-Infin|-Infini|-Infinit)\Z")
_CUT_NUMBER = re.compile(r"[.eE][0-9eE+\-]*\Z")       # "1." "1e" "1e+": the number's end was cut off
_CUT_ESCAPE = re.compile(r"u[0-9a-fA-F]{0,4}(?:\\(?:u[0-9a-fA-F]{0,3})?)?\Z")  # "\u00", "\ud83d\u"
_NEAR_END = 16    # an error this close to the end of the window may only mean the value goes on
CHUNK = 1 << 20


def _trailing_comma(text: str) -> tuple[str, bool]:
    """How this Python's json words a trailing comma, and whether it points at the comma
    (3.13 and later) or at the bracket after it (3.11, 3.12)."""
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        return exc.msg, exc.pos == text.index(",")
    raise AssertionError(f"json accepted {text!r}")


_OBJECT_COMMA = _trailing_comma('{"a": 1,}')
_ARRAY_COMMA = _trailing_comma("[1,]")


class StreamError(ValueError):
    """Not valid JSON: `message` as `json.loads` words it, the 1-based `line`, and `at_end`
    when the file simply ends too early: nothing but whitespace after the error, or the end
    inside a string, a literal, a number or an escape."""

    def __init__(self, message: str, line: int, at_end: bool):
        super().__init__(f"{message} (line {line})")
        self.message = message
        self.line = line
        self.at_end = at_end


class NotUtf8(ValueError):
    def __init__(self, offset: int):
        super().__init__(f"not UTF-8 text (byte {offset})")
        self.offset = offset


class Cursor:
    """A position in a JSON file opened in binary mode (a UTF-8 byte order mark is skipped).

    Every key `members` yields and every index `elements` yields must be consumed (with `value`,
    `skip`, `members` or `elements`) before the generator is resumed. Positions handed out
    (`start`, `end`, `find`) are absolute character offsets; `locate` turns them into the byte
    offset and line, and must be asked in increasing order.
    """

    def __init__(self, handle: IO[bytes], chunk: int | None = None):
        self._handle = handle
        self._chunk = chunk or CHUNK
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self._fed = 0            # bytes given to the decoder so far
        self._buffer = ""
        self._pos = 0            # in the buffer
        self._base = 0           # absolute character offset of buffer[0]
        self._eof = False
        self._ascii = True
        self.widest = 0          # the largest window so far, in characters
        self._mark = 0           # buffer position whose byte offset and line are known:
        self._mark_byte = 0
        self._mark_line = 1
        head = handle.read(len(_BOM))
        if head == _BOM:
            self._mark_byte = self._fed = len(_BOM)
        else:
            self._feed(head)

    # --- reading values
    def peek(self) -> str:
        """The next significant character ('' at the end), without consuming it."""
        while True:
            self._pos = _WHITESPACE.match(self._buffer, self._pos).end()
            if self._pos < len(self._buffer) or not self._fill():
                return self._buffer[self._pos:self._pos + 1]

    @property
    def start(self) -> int:
        """The absolute offset of the next significant character."""
        self.peek()
        return self._base + self._pos

    @property
    def end(self) -> int:
        """The absolute offset just past what was last consumed."""
        return self._base + self._pos

    def value(self) -> Any:
        """Decode the value at the cursor and move past it."""
        while True:
            self.peek()
            try:
                found, end = _DECODER.raw_decode(self._buffer, self._pos)
            except json.JSONDecodeError as exc:
                near_end = len(self._buffer) - exc.pos <= _NEAR_END or exc.msg.startswith("Unterminated string")
                if near_end and self._fill():
                    continue  # the value may go on in the next chunk
                raise self._error(exc.msg, exc.pos) from None
            except ValueError as exc:  # e.g. an integer longer than Python converts
                raise self._error(str(exc), self._pos) from None
            if type(found) in (int, float) and _NUMBER_TAIL.match(self._buffer, end) and self._fill():
                continue  # "-0." then "5": a number may go on in the next chunk
            self._pos = end
            return found

    def skip(self, depth: int = 1) -> None:
        """Move past the value at the cursor. Objects and arrays are walked `depth` levels down, so
        a large section nobody reads is never one decoded tree (nor one window)."""
        kind = self.peek()
        if depth and kind == "{":
            for _ in self.members():
                self.skip(depth - 1)
        elif depth and kind == "[":
            for _ in self.elements():
                self.skip(depth - 1)
        else:
            self.value()

    def members(self) -> Iterator[str]:
        """The keys of the object at the cursor; after each, the cursor is at its value."""
        self._expect("{", "Expecting value")
        if self.peek() == "}":
            self._pos += 1
            return
        while True:
            if self.peek() != '"':
                raise self._error("Expecting property name enclosed in double quotes", self._pos)
            key = self.value()
            self._expect(":", "Expecting ':' delimiter")
            yield key
            if self.peek() == ",":
                self._comma("}", _OBJECT_COMMA)
                continue
            self._expect("}", "Expecting ',' delimiter")
            return

    def elements(self) -> Iterator[int]:
        """The indexes of the array at the cursor; after each, the cursor is at the element."""
        self._expect("[", "Expecting value")
        if self.peek() == "]":
            self._pos += 1
            return
        index = 0
        while True:
            yield index
            index += 1
            if self.peek() == ",":
                self._comma("]", _ARRAY_COMMA)
                continue
            self._expect("]", "Expecting ',' delimiter")
            return

    def finish(self) -> None:
        """Only whitespace may follow the document."""
        if self.peek():
            raise self._error("Extra data", self._pos)

    # --- positions
    def find(self, needle: str, start: int, end: int) -> int:
        """The absolute offset of needle within [start, end) of what was just consumed, or -1."""
        found = self._buffer.find(needle, start - self._base, end - self._base)
        return found + self._base if found >= 0 else -1

    def locate(self, offset: int) -> tuple[int, int]:
        """(byte offset in the file, 1-based line) of an absolute character offset."""
        position = offset - self._base
        if position < self._mark:
            raise RuntimeError("Cursor.locate must be asked in increasing order")  # a bug, not bad input
        if self._ascii:
            self._mark_byte += position - self._mark
        else:
            self._mark_byte += len(self._buffer[self._mark:position].encode("utf-8"))
        self._mark_line += self._buffer.count("\n", self._mark, position)
        self._mark = position
        return self._mark_byte, self._mark_line

    # --- the window
    def _fill(self) -> bool:
        """Read more of the file, keeping the buffer from the current position on."""
        if self._eof:
            return False
        self.locate(self._base + self._pos)  # what is dropped below is counted first
        self._buffer = self._buffer[self._pos:]
        self._base += self._pos
        self._mark -= self._pos
        self._pos = 0
        data = self._handle.read(max(self._chunk, len(self._buffer)))  # doubling for a large value
        self._feed(data)
        return True

    def _feed(self, data: bytes) -> None:
        pending = len(self._decoder.getstate()[0])
        try:
            text = self._decoder.decode(data, final=not data)
        except UnicodeDecodeError as exc:
            raise NotUtf8(self._fed - pending + exc.start) from None
        self._fed += len(data)
        self._eof = not data
        self._buffer += text
        self._ascii = self._buffer.isascii()
        self.widest = max(self.widest, len(self._buffer))

    def _comma(self, closing: str, trailing: tuple[str, bool]) -> None:
        """Move past the comma at the cursor; a closing bracket right after it is an error,
        reported where and as this Python's json reports it."""
        while True:
            after = _WHITESPACE.match(self._buffer, self._pos + 1).end()  # the comma stays in the window
            if after < len(self._buffer) or not self._fill():
                break
        if self._buffer[after:after + 1] == closing:
            message, at_comma = trailing
            raise self._error(message, self._pos if at_comma else after)
        self._pos += 1

    def _expect(self, char: str, message: str) -> None:
        if self.peek() != char:
            raise self._error(message, self._pos)
        self._pos += 1

    def _error(self, message: str, position: int) -> StreamError:
        if position >= self._mark:
            line = self._mark_line + self._buffer.count("\n", self._mark, position)
        else:
            line = self._mark_line - self._buffer.count("\n", position, self._mark)
        return StreamError(message, line, self._cut_short(message, position))

    def _cut_short(self, message: str, position: int) -> bool:
        """Is the file simply cut off here: nothing but whitespace after the error, or the end
        inside a string, a literal or a number? (The error path: the window may be read on.)"""
        if message.startswith("Unterminated string"):
            return True  # the decoder only says so when the text ends inside the string
        start = self._base + position
        after_digit = self._buffer[position - 1:position].isdigit() if position else False
        self._pos = max(self._pos, position)  # keep the window from the error on
        while not self._eof and len(self._buffer[start - self._base:].strip()) <= _NEAR_END:
            self._fill()
        rest = self._buffer[start - self._base:].rstrip()  # Unicode whitespace, as str.rstrip counts it
        if not self._eof:
            return False
        return not rest or bool(message == "Expecting value" and _CUT_LITERAL.match(rest)
                                or message in ("Expecting ',' delimiter", "Extra data") and after_digit
                                and _CUT_NUMBER.match(rest)
                                or message == "Invalid \\uXXXX escape" and _CUT_ESCAPE.match(rest))
