"""formatdate() and timeadd() as Terraform computes them (Go's time package, cty's formatdate)."""

from __future__ import annotations

import datetime
import re

from ecr_lint.hcl.evaluate import EvalError, NotExact

# RFC 3339 as Go's time.Parse(time.RFC3339) reads it. What this pattern does not take (a comma
# before the fraction, year 0000, an offset of 24 hours) is NotExact, not a guessed error.
_TIMESTAMP = re.compile(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?(?:(Z)|([+-])([01]\d|2[0-3]):([0-5]\d))",
                        re.ASCII)
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")  # Python's weekday() order


class Timestamp:
    """A parsed timestamp: its wall-clock time, nanoseconds, offset in seconds, and whether it said Z."""

    __slots__ = ("wall", "nanos", "offset", "zulu")

    def __init__(self, wall: datetime.datetime, nanos: int, offset: int, zulu: bool):
        self.wall, self.nanos, self.offset, self.zulu = wall, nanos, offset, zulu


def parse_timestamp(text: str, fname: str) -> Timestamp:
    match = _TIMESTAMP.fullmatch(text)
    if match is None:
        raise NotExact(f"{fname}(): {text[:40]!r} is not a timestamp ecr-lint reads (RFC 3339, like "
                       "2020-01-01T00:00:00Z)")
    year, month, day, hour, minute, second, fraction, zulu, sign, off_h, off_m = match.groups()
    if year == "0000":
        raise NotExact(f"{fname}(): year 0000 is not evaluated by ecr-lint")
    try:
        wall = datetime.datetime(int(year), int(month), int(day), int(hour), int(minute), int(second))
    except ValueError as exc:  # Terraform: "not a valid RFC3339 timestamp: day out of range"
        raise EvalError(f"{fname}(): not a valid RFC3339 timestamp: {exc}") from None
    nanos = int((fraction or "")[:9].ljust(9, "0"))
    offset = 0 if zulu else (1 if sign == "+" else -1) * (int(off_h) * 3600 + int(off_m) * 60)
    return Timestamp(wall, nanos, offset, bool(zulu))


def _offset_text(offset: int, colon: bool) -> str:
    sign = "-" if offset < 0 else "+"
    hours, minutes = divmod(abs(offset) // 60, 60)
    return f"{sign}{hours:02d}{':' if colon else ''}{minutes:02d}"


def _tokens(spec: str) -> list[str]:
    """cty's splitDateFormat: a quoted literal, a run of one letter, or other text."""
    out = []
    i, n = 0, len(spec)
    while i < n:
        ch = spec[i]
        if ch == "'":
            if spec.startswith("''", i):
                out.append("''")
                i += 2
                continue
            j = i + 1
            while j < n:
                if spec[j] == "'":
                    if spec.startswith("''", j):
                        j += 2
                        continue
                    break
                j += 1
            if j >= n:
                raise NotExact("formatdate(): an unterminated quoted literal is not evaluated by ecr-lint")
            out.append(spec[i:j + 1])
            i = j + 1
        elif ch.isascii() and ch.isalpha():
            j = i + 1
            while j < n and spec[j] == ch:
                j += 1
            out.append(spec[i:j])
            i = j
        else:
            j = i + 1
            while j < n and spec[j] != "'" and not (spec[j].isascii() and spec[j].isalpha()):
                j += 1
            out.append(spec[i:j])
            i = j
    return out


def _number(value: int, width: int, token: str) -> str:
    if width == 1:
        return str(value)
    if width == 2:
        return f"{value:02d}"
    raise EvalError(f"formatdate(): invalid date format verb {token!r}")


def formatdate(spec: str, text: str) -> str:
    stamp = parse_timestamp(text, "formatdate")
    t, out = stamp.wall, []
    for token in _tokens(spec):
        first, width = token[0], len(token)
        if first == "'":
            out.append("'" if token == "''" else token[1:-1].replace("''", "'"))
        elif not (first.isascii() and first.isalpha()):
            out.append(token)
        elif first == "Y":
            if width not in (2, 4):
                raise EvalError(f'formatdate(): invalid date format verb "{token}": year must either be "YY" or "YYYY"')
            out.append(f"{t.year % 100:02d}" if width == 2 else f"{t.year:04d}")
        elif first == "M":
            if width in (3, 4):
                out.append(_MONTHS[t.month - 1][:3] if width == 3 else _MONTHS[t.month - 1])
            else:
                out.append(_number(t.month, width, token))
        elif first == "D":
            out.append(_number(t.day, width, token))
        elif first == "E":
            if width not in (3, 4):
                raise EvalError(f"formatdate(): invalid date format verb {token!r}")
            name = _WEEKDAYS[t.weekday()]
            out.append(name[:3] if width == 3 else name)
        elif first == "h":
            out.append(_number(t.hour, width, token))
        elif first == "H":
            out.append(_number(t.hour % 12 or 12, width, token))
        elif first in "Aa":
            if width != 2:
                raise EvalError(f"formatdate(): invalid date format verb {token!r}")
            meridiem = "AM" if t.hour < 12 else "PM"
            out.append(meridiem if first == "A" else meridiem.lower())
        elif first == "m":
            out.append(_number(t.minute, width, token))
        elif first == "s":
            out.append(_number(t.second, width, token))
        elif first == "Z" and width in (1, 3, 4, 5):
            if width == 1:
                out.append("Z" if stamp.offset == 0 else _offset_text(stamp.offset, True))
            elif width == 3:
                # Go names the zone: UTC for Z; for an offset, the zone of the machine running
                # Terraform when it has that offset. Not knowable here.
                if not stamp.zulu:
                    raise NotExact("formatdate(): ZZZ of a timestamp with an offset depends on Terraform's machine")
                out.append("UTC")
            else:
                out.append(_offset_text(stamp.offset, width == 5))
        else:
            raise EvalError(f'formatdate(): invalid date format verb "{token}"')
    return "".join(out)


# --- timeadd: Go's time.ParseDuration ---------------------------------------------------

_UNITS = {"ns": 1, "us": 1000, "\u00b5s": 1000, "\u03bcs": 1000, "ms": 10**6, "s": 10**9, "m": 60 * 10**9,
          "h": 3600 * 10**9}
_MAX = 1 << 63


def parse_duration(text: str) -> int:
    """Nanoseconds, as Go's time.ParseDuration computes them (its float step for fractions too)."""
    invalid = EvalError(f'timeadd(): time: invalid duration "{text[:40]}"')
    s, neg = text, False
    if s and s[0] in "+-":
        neg, s = s[0] == "-", s[1:]
    if s == "0":
        return 0
    if not s:
        raise invalid
    total = 0
    while s:
        if not (s[0] == "." or "0" <= s[0] <= "9"):
            raise invalid
        i = 0
        value = 0
        while i < len(s) and "0" <= s[i] <= "9":
            if value > _MAX // 10:
                raise invalid
            value = value * 10 + ord(s[i]) - 48
            if value > _MAX:
                raise invalid
            i += 1
        pre = i > 0
        s = s[i:]
        fraction, scale, post = 0, 1.0, False
        if s and s[0] == ".":
            s = s[1:]
            i, overflow = 0, False
            while i < len(s) and "0" <= s[i] <= "9":
                if not overflow:
                    if fraction > (_MAX - 1) // 10:
                        overflow = True
                    else:
                        bigger = fraction * 10 + ord(s[i]) - 48
                        if bigger > _MAX:
                            overflow = True
                        else:
                            fraction, scale = bigger, scale * 10
                i += 1
            post = i > 0
            s = s[i:]
        if not pre and not post:
            raise invalid
        i = 0
        while i < len(s) and not (s[i] == "." or "0" <= s[i] <= "9"):
            i += 1
        if i == 0:
            raise EvalError(f'timeadd(): time: missing unit in duration "{text[:40]}"')
        unit = _UNITS.get(s[:i])
        if unit is None:
            raise EvalError(f'timeadd(): time: unknown unit "{s[:i][:10]}" in duration "{text[:40]}"')
        s = s[i:]
        if value > _MAX // unit:
            raise invalid
        value *= unit
        if fraction > 0:
            value += int(float(fraction) * (float(unit) / scale))  # Go: uint64(float64(f) * (float64(unit) / scale))
            if value > _MAX:
                raise invalid
        total += value
        if total > _MAX:
            raise invalid
    if not neg and total > _MAX - 1:
        raise invalid
    return -total if neg else total


def timeadd(text: str, duration: str) -> str:
    stamp = parse_timestamp(text, "timeadd")
    nanos = stamp.nanos + parse_duration(duration)
    seconds, _ = divmod(nanos, 10**9)  # RFC 3339 output has no fraction: the whole seconds carry
    try:
        wall = stamp.wall + datetime.timedelta(seconds=seconds)
    except OverflowError:
        raise NotExact("timeadd(): a result beyond year 9999 is not evaluated by ecr-lint") from None
    if not 1 <= wall.year <= 9999:
        raise NotExact("timeadd(): a result beyond year 9999 is not evaluated by ecr-lint")
    zone = "Z" if stamp.offset == 0 else _offset_text(stamp.offset, True)
    return (f"{wall.year:04d}-{wall.month:02d}-{wall.day:02d}T{wall.hour:02d}:{wall.minute:02d}:{wall.second:02d}"
            + zone)
