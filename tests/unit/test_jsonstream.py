"""The streaming JSON cursor: the same values and the same errors as json.loads, whatever the window."""

from __future__ import annotations

import io
import json
import os

import pytest
from hypothesis import given, settings, strategies as st

from ecr_lint.loaders.jsonstream import Cursor, NotUtf8, StreamError

# A longer, random run: ECR_LINT_STREAM_EXAMPLES=5000 pytest tests/unit/test_jsonstream.py
EXAMPLES = os.environ.get("ECR_LINT_STREAM_EXAMPLES")
SETTINGS = settings(max_examples=int(EXAMPLES or 300), deadline=None, derandomize=EXAMPLES is None)

scalars = st.none() | st.booleans() | st.integers(-10**20, 10**20) | \
    st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12)
documents = st.recursive(scalars, lambda inner: st.lists(inner, max_size=5) |
                         st.dictionaries(st.text(max_size=6), inner, max_size=5), max_leaves=30)
layouts = st.fixed_dictionaries({"indent": st.sampled_from([None, 0, 1, 2, "\t"]),
                                 "ensure_ascii": st.booleans()})


def walk(cursor: Cursor, depth: int):
    """Decode with the cursor: objects and arrays down to `depth` piece by piece, the rest whole."""
    if depth and cursor.peek() == "{":
        found = {}
        for key in cursor.members():
            found[key] = walk(cursor, depth - 1)
        return found
    if depth and cursor.peek() == "[":
        return [walk(cursor, depth - 1) for _ in cursor.elements()]
    return cursor.value()


def read(data: bytes, chunk: int, depth: int):
    cursor = Cursor(io.BytesIO(data), chunk=chunk)
    found = walk(cursor, depth)
    cursor.finish()
    return found, cursor


@SETTINGS
@given(documents, layouts, st.integers(1, 40), st.integers(0, 4), st.booleans())
def test_values_equal_json_loads(document, layout, chunk, depth, bom):
    text = json.dumps(document, **layout)
    data = (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")
    assert read(data, chunk, depth)[0] == json.loads(text)


@SETTINGS
@given(documents, st.integers(1, 40), st.integers(0, 4), st.data())
def test_errors_equal_json_loads(document, chunk, depth, data):
    text = json.dumps(document, indent=data.draw(st.sampled_from([None, 1])), ensure_ascii=False)
    cut = data.draw(st.integers(0, len(text)))
    how = data.draw(st.sampled_from(["cut", "stray", "lost", "after"]))
    text = {
        "cut": text[:cut],
        "stray": text[:cut] + data.draw(st.sampled_from(list(',:]}{["x 1\n'))) + text[cut:],
        "lost": text[:cut] + text[cut + 1:],
        "after": text + data.draw(st.sampled_from(["", " ", "\n", "1", "{}", ","])),
    }[how]
    try:
        expected = json.loads(text)
    except json.JSONDecodeError as exc:
        with pytest.raises(StreamError) as caught:
            read(text.encode("utf-8"), chunk, depth)
        assert (caught.value.message, caught.value.line) == (exc.msg, exc.lineno)
        if how == "cut" or exc.pos >= len(text.rstrip()):
            assert caught.value.at_end  # the start of a valid document: it was cut short
        elif len(text[exc.pos:].strip()) > 16 and not exc.msg.startswith("Unterminated string"):
            assert not caught.value.at_end  # more follows the error: it is wrong, not short
    else:
        assert read(text.encode("utf-8"), chunk, depth)[0] == expected


@SETTINGS
@given(st.lists(documents, max_size=8), st.integers(1, 40), st.booleans())
def test_locate_gives_byte_offsets_and_lines(elements, chunk, bom):
    text = json.dumps(elements, indent=1, ensure_ascii=False)
    prefix = b"\xef\xbb\xbf" if bom else b""
    data = prefix + text.encode("utf-8")
    cursor = Cursor(io.BytesIO(data), chunk=chunk)
    for _ in cursor.elements():
        start = cursor.start
        first, line = cursor.locate(start)
        value = cursor.value()
        end, _ = cursor.locate(cursor.end)
        assert json.loads(data[first:end].decode("utf-8")) == value
        assert line == data[:first].count(b"\n") + 1
    cursor.finish()


def test_the_window_stays_small_on_a_long_array():
    text = json.dumps([{"address": f"aws_x.y[{i}]", "values": {"name": "é" * 50}} for i in range(20000)])
    cursor = Cursor(io.BytesIO(text.encode("utf-8")), chunk=4096)
    assert sum(1 for _ in (cursor.value() for _ in cursor.elements())) == 20000
    assert len(text) > 2_000_000 and cursor.widest < 3 * 4096


def test_a_value_larger_than_the_window_is_read_whole():
    document = {"big": ["x" * 1000] * 500, "after": 1}
    assert read(json.dumps(document).encode(), 16, 1)[0] == document


@pytest.mark.parametrize("data,offset", [
    (b'{"a": "\xff"}', 7),
    (b'\xef\xbb\xbf{"a": "\xc3"}', 10),
    (b'["' + "é".encode() * 10 + b'\xe9"]', 22),
    (b'["\xe2\x82', 2),  # cut inside a character at the end of the file
])
def test_bytes_that_are_not_utf8_are_reported_with_their_offset(data, offset):
    with pytest.raises(NotUtf8) as caught:
        read(data, 3, 2)
    assert caught.value.offset == offset


def test_locate_refuses_to_go_back():
    cursor = Cursor(io.BytesIO(b"[1, 2]"))
    list(cursor.value() for _ in cursor.elements())
    cursor.locate(5)
    with pytest.raises(RuntimeError):
        cursor.locate(2)


def test_skipping_a_large_value_walks_it_instead_of_decoding_it_whole():
    drift = {"resource_drift": [{"address": f"aws_x.y[{i}]", "change": {"before": {"n": "x" * 100}}}
                                for i in range(5000)], "next": 1}
    cursor = Cursor(io.BytesIO(json.dumps(drift).encode()), chunk=4096)
    keys = []
    for key in cursor.members():
        keys.append(key)
        if key == "resource_drift":
            cursor.skip()
        else:
            assert cursor.value() == 1
    cursor.finish()
    assert keys == ["resource_drift", "next"] and cursor.widest < 3 * 4096


def test_an_error_in_the_middle_is_reported_without_reading_the_rest():
    text = '[{"a": 1}, {"a": 1 "b": 2}, ' + ", ".join(['{"a": 1}'] * 20000) + "]"
    cursor = Cursor(io.BytesIO(text.encode()), chunk=4096)
    with pytest.raises(StreamError) as caught:
        [cursor.value() for _ in cursor.elements()]
    assert (caught.value.message, caught.value.at_end) == ("Expecting ',' delimiter", False)
    assert cursor.widest < 3 * 4096
