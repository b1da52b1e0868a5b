"""The streaming JSON reader reads what json.loads reads and refuses what it refuses."""

from __future__ import annotations

import hashlib
import io
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from db.ops.json_stream import JsonStream, JsonStreamError

SCALARS = (st.none() | st.booleans() | st.integers(-10**30, 10**30)
           | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12))
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner,
                                                                  max_size=4),
    max_leaves=20,
)


def walk(stream: JsonStream, depth: int = 0) -> Any:
    """Read a value through the streaming structure down to ``depth`` 2, then whole."""
    first = stream.peek()
    if depth < 2 and first == "{":
        return {key: walk(stream, depth + 1) for key in stream.members()}
    if depth < 2 and first == "[":
        return [walk(stream, depth + 1) for _ in stream.items()]
    return stream.value()


def read_all(text: str, chunk: int) -> Any:
    stream = JsonStream(io.BytesIO(text.encode("utf-8", "surrogatepass")), chunk=chunk)
    found = walk(stream)
    stream.finish()
    return found


@settings(max_examples=200)
@given(value=VALUES, chunk=st.integers(1, 9), indent=st.sampled_from([None, 1, 3]))
def test_what_json_writes_is_read_back_whatever_the_chunk_size(
    value: Any, chunk: int, indent: int | None
) -> None:
    text = json.dumps(value, indent=indent, ensure_ascii=indent is None)
    assert read_all(text, chunk) == json.loads(text)


EDITS = st.sampled_from(list('{}[],:"\\ 1e-.tnx\n'))


@settings(max_examples=400)
@given(value=VALUES, chunk=st.integers(1, 9), data=st.data())
def test_a_damaged_document_is_refused_with_the_standard_message(
    value: Any, chunk: int, data: st.DataObject
) -> None:
    text = json.dumps({"a": value, "records": {"x": [value, 1]}}, indent=1)
    at = data.draw(st.integers(0, len(text)), label="at")
    edit = data.draw(st.sampled_from(["delete", "insert", "cut"]), label="edit")
    if edit == "delete":
        text = text[:at] + text[at + 1:]
    elif edit == "insert":
        text = text[:at] + data.draw(EDITS, label="char") + text[at:]
    else:
        text = text[:at]
    try:
        expected = json.loads(text)
    except json.JSONDecodeError as exc:
        with pytest.raises(JsonStreamError) as refused:
            read_all(text, chunk)
        assert str(refused.value) == str(exc)
    else:
        assert read_all(text, chunk) == expected


def test_the_hash_covers_every_byte_and_a_byte_order_mark_is_skipped() -> None:
    raw = b"\xef\xbb\xbf" + json.dumps({"records": {"x": list(range(1000))}}).encode() + b"\n"
    stream = JsonStream(io.BytesIO(raw), chunk=7)
    assert walk(stream) == {"records": {"x": list(range(1000))}}
    stream.finish()
    assert stream.sha256 == hashlib.sha256(raw).hexdigest()


def test_text_that_is_not_utf8_is_refused_by_position() -> None:
    stream = JsonStream(io.BytesIO(b'{"a": "caf\xe9"}'), chunk=4)
    with pytest.raises(JsonStreamError, match="not UTF-8"):
        walk(stream)


def test_a_long_string_across_many_chunks() -> None:
    text = json.dumps({"records": {"x": ["é" * 100_000, "b"]}})
    assert read_all(text, 3) == json.loads(text)
