"""Reading one large JSON document a value at a time, with the standard library only.

``formulary import`` reads a whole clinic (hundreds of megabytes) without holding it:
:class:`JsonStream` walks the document's outer structure itself (objects' members,
arrays' items) and hands each inner value, such as one record, to the standard
library's decoder (``json.JSONDecoder.raw_decode``, the C scanner) as soon as that
value is in its buffer. Memory is one chunk of text plus the value being read.

The bytes are UTF-8 (an initial byte-order mark is skipped), decoded incrementally,
and hashed as they are read (:attr:`JsonStream.sha256`). Errors are
:class:`JsonStreamError` with the standard decoder's wording and position (line,
column, character offset in the whole document), so a caller reports them as
``json.loads`` would have.
"""

from __future__ import annotations

import codecs
import hashlib
import json
from collections.abc import Iterator
from typing import Any, BinaryIO

#: Bytes read at a time (doubled while one value does not fit).
CHUNK = 1 << 20
#: A decoding error this close to the end of the buffer may only mean "read more".
_NEAR_END = 16
_WHITESPACE = " \t\n\r"


class JsonStreamError(ValueError):
    """The document is not valid JSON (the message is the decoder's, with its position)."""


class JsonStream:
    """A cursor over one JSON document read from a binary file (see the module notes)."""

    def __init__(self, handle: BinaryIO, *, chunk: int = CHUNK) -> None:
        self._handle = handle
        self._chunk = chunk
        self._decoder = codecs.getincrementaldecoder("utf-8")("surrogatepass")
        self._json = json.JSONDecoder()
        self._hash = hashlib.sha256()
        self._buf = ""
        self._pos = 0
        self._eof = False
        self._started = False
        self._dropped = 0  # characters dropped from the front of the buffer
        self._dropped_lines = 0  # line breaks among them
        self._last_break = -1  # offset of the last dropped line break

    # -- reading ---------------------------------------------------------------------

    @property
    def sha256(self) -> str:
        """SHA-256 (hex) of the bytes read so far (the whole file after :meth:`finish`)."""
        return self._hash.hexdigest()

    def _fill(self, at_least: int = 0) -> bool:
        """Read more text into the buffer; False at the end of the file."""
        if self._eof:
            return False
        if self._pos:
            dropped = self._buf[:self._pos]
            breaks = dropped.count("\n")
            if breaks:
                self._dropped_lines += breaks
                self._last_break = self._dropped + dropped.rindex("\n")
            self._dropped += self._pos
            self._buf = self._buf[self._pos:]
            self._pos = 0
        data = self._handle.read(max(self._chunk, at_least))
        self._hash.update(data)
        try:
            text = self._decoder.decode(data, final=not data)
        except UnicodeDecodeError as exc:
            raise self._error(f"not UTF-8 text ({exc.reason})", len(self._buf)) from exc
        if not self._started and (text or not data):
            self._started = True
            text = text.removeprefix("\ufeff")
        self._buf += text
        if not data:
            self._eof = True
        return True

    def _error(self, message: str, index: int) -> JsonStreamError:
        where = self._dropped + index
        line = self._dropped_lines + self._buf.count("\n", 0, index) + 1
        before = self._buf.rfind("\n", 0, index)
        start = self._dropped + before if before >= 0 else self._last_break
        column = where - start
        return JsonStreamError(f"{message}: line {line} column {column} (char {where})")

    def _next_char(self) -> str:
        """The next character that is not whitespace, left unread ("" at the end)."""
        while True:
            buf, pos = self._buf, self._pos
            while pos < len(buf) and buf[pos] in _WHITESPACE:
                pos += 1
            self._pos = pos
            if pos < len(buf):
                return buf[pos]
            if not self._fill():
                return ""

    def _expect(self, char: str, message: str) -> None:
        if self._next_char() != char:
            raise self._error(message, self._pos)
        self._pos += 1

    # -- the document's structure ----------------------------------------------------

    def peek(self) -> str:
        """The first character of the next value (``{``, ``[``, ``"`` …; "" at the end)."""
        return self._next_char()

    def value(self) -> Any:
        """Read one whole value (any JSON) and return it as ``json.loads`` would.

        Raises ``RecursionError`` for a value nested too deeply for the decoder.
        """
        want = 0
        while True:
            if not self._next_char():
                raise self._error("Expecting value", self._pos)
            try:
                found, end = self._json.raw_decode(self._buf, self._pos)
            except json.JSONDecodeError as exc:
                incomplete = (exc.msg.startswith("Unterminated string")
                              or exc.pos >= len(self._buf) - _NEAR_END)
                if incomplete and not self._eof:
                    want = 2 * max(want, len(self._buf) - self._pos)
                    self._fill(want)
                    continue
                raise self._error(exc.msg, exc.pos) from None
            if end > len(self._buf) - _NEAR_END and not self._eof:
                # A number near the end of the buffer may go on in the next chunk
                # ("-0" of "-0.5e3"): read on until the end is not in doubt.
                want = 2 * max(want, len(self._buf) - self._pos)
                self._fill(want)
                continue
            self._pos = end
            return found

    def members(self) -> Iterator[str]:
        """The keys of the object that comes next, one at a time.

        After each key the stream stands at the member's value, which the caller must
        read (:meth:`value`, or :meth:`members` / :meth:`items` for a nested
        container) before asking for the next key.
        """
        self._expect("{", "Expecting value")
        if self._next_char() == "}":
            self._pos += 1
            return
        while True:
            if self._next_char() != '"':
                raise self._error("Expecting property name enclosed in double quotes",
                                  self._pos)
            key = self.value()
            self._expect(":", "Expecting ':' delimiter")
            yield key
            char = self._next_char()
            self._pos += 1
            if char == "}":
                return
            if char != ",":
                raise self._error("Expecting ',' delimiter", self._pos - 1)

    def items(self) -> Iterator[int]:
        """The positions of the items of the array that comes next, one at a time.

        After each position the stream stands at the item, which the caller must read
        before asking for the next.
        """
        self._expect("[", "Expecting value")
        if self._next_char() == "]":
            self._pos += 1
            return
        index = 0
        while True:
            yield index
            index += 1
            char = self._next_char()
            self._pos += 1
            if char == "]":
                return
            if char != ",":
                raise self._error("Expecting ',' delimiter", self._pos - 1)

    def finish(self) -> None:
        """Check that nothing but whitespace follows the document (reads to the end)."""
        if self._next_char():
            raise self._error("Extra data", self._pos)
