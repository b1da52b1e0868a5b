"""The canonical JSON text of stored rows, straight from the driver's values.

Verification re-serialises every row of every audited table (the table replay) and
the signed content of every signed session. Going through SQLAlchemy's typed rows
and the general canonical encoder costs tens of microseconds a row; this module
reads rows as the driver returns them (``sqlalchemy.text``, no result processing),
converts only the columns whose stored form differs from their canonical form
(SQLite's timestamps, decimals kept as text, JSON text, 0/1 booleans) and joins
each column's canonical text in sorted-key order, quoting text with the encoder
:func:`db.audit.canonical.dumps_plain` itself uses.

It is a fast path, never the judge: a text that does not match what the audit trail
or a signature expects is recomputed by the exact, general path
(:func:`db.ops.bulk.plain_image_json`, :func:`db.audit.canonical.canonical_json`)
before anything is reported. A row this module cannot convert raises ``_Slow``
(callers then take the general path for that row).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from json.encoder import encode_basestring as quote
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from db.audit.canonical import dumps_plain, format_utc
from db.images import REDACTED
from db.types import DecimalText, UTCDateTime

#: Rows per keyset page.
PAGE = 10_000


class Slow(Exception):
    """This value needs the general path (an unusual type or a corrupted value)."""


#: A column's stored value to its canonical JSON text (NULL is handled before).
Piece = Callable[[Any], str]


def _scalar(value: Any) -> str:
    # Integer and text columns: the value as it is (anything else: the general path).
    kind = type(value)
    if kind is str:
        return quote(value)
    if kind is int:
        return int.__repr__(value)
    raise Slow


def _timestamp(value: Any) -> str:
    if type(value) is str:
        # SQLAlchemy stores SQLite timestamps as 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC wall
        # time); the canonical form is 'YYYY-MM-DDTHH:MM:SS.ffffffZ'. fromisoformat
        # rejects an impossible date, which the general path would also refuse.
        if len(value) != 26 or value[10] != " ":
            raise Slow
        datetime.fromisoformat(value)
        return f'"{value[:10]}T{value[11:]}Z"'
    if type(value) is not datetime:
        raise Slow
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return '"' + format_utc(value) + '"'


def _date(value: Any) -> str:
    kind = type(value)
    if kind is str:
        if len(value) != 10:
            raise Slow
        date.fromisoformat(value)
        return f'"{value}"'
    if kind is date:
        return f'"{value.isoformat()}"'
    raise Slow


#: Canonical text of decimal column texts already seen: volumes, depths and weights
#: take a few hundred values in a whole clinic. Bounded; cleared when full.
_DECIMAL_SEEN: dict[str, str] = {}
_SEEN_MAX = 200_000


def _decimal(value: Any) -> str:
    if type(value) is not str:
        raise Slow
    found = _DECIMAL_SEEN.get(value)
    if found is not None:
        return found
    number = Decimal(value)
    if not number.is_finite():
        raise Slow
    text = '"' + format(number, "f") + '"'
    if len(_DECIMAL_SEEN) >= _SEEN_MAX:
        _DECIMAL_SEEN.clear()
    _DECIMAL_SEEN[value] = text
    return text


def _boolean(value: Any) -> str:
    kind = type(value)
    if kind is bool or kind is int:
        return "true" if value else "false"
    raise Slow


#: Canonical text of JSON column texts already seen: a clinic's zones, lots and
#: adverse events repeat endlessly. Bounded; cleared when full.
_JSON_SEEN: dict[str, str] = {}


def _json(value: Any) -> str:
    if type(value) is str:
        found = _JSON_SEEN.get(value)
        if found is not None:
            return found
        text = dumps_plain(json.loads(value))
        if len(_JSON_SEEN) >= _SEEN_MAX:
            _JSON_SEEN.clear()
        _JSON_SEEN[value] = text
        return text
    if type(value) in (list, dict, int, bool):
        return dumps_plain(value)
    raise Slow


def _piece(column: sa.Column[Any]) -> Piece:
    kind = column.type
    if isinstance(kind, UTCDateTime | sa.DateTime):
        return _timestamp
    if isinstance(kind, DecimalText):
        return _decimal
    if isinstance(kind, sa.JSON):
        return _json
    if isinstance(kind, sa.Boolean):
        return _boolean
    if isinstance(kind, sa.Date):
        return _date
    return _scalar


@dataclass(frozen=True, slots=True)
class RowShape:
    """How to turn one table's driver rows into canonical JSON text, worked out once.

    Columns are taken in the order of their sorted names (canonical JSON's order).
    """

    table: sa.Table
    keys: tuple[str, ...]  # sorted
    order: tuple[int, ...]  # the driver row's index of each sorted key
    pieces: tuple[Piece, ...]
    prefixes: tuple[str, ...]  # '{"a":', ',"b":', …
    key_index: int  # in the driver row
    select: sa.TextClause
    first: sa.TextClause
    some: sa.TextClause  # the rows whose key is in :keys
    #: Each column's canonical JSON text, in sorted-key order; :class:`Slow` when unsure.
    values: Callable[[Sequence[Any]], list[str]]
    #: The canonical JSON of the row's image; :class:`Slow` when unsure.
    text: Callable[[Sequence[Any]], str]
    #: The canonical JSON of the row's image from its :attr:`values`.
    joined: Callable[[Sequence[str]], str]


def _compile(
    table: str, order: Sequence[int], pieces: Sequence[Piece], prefixes: Sequence[str]
) -> tuple[
    Callable[[Sequence[Any]], list[str]],
    Callable[[Sequence[Any]], str],
    Callable[[Sequence[str]], str],
]:
    """The three per-row functions of a shape, as straight-line code.

    Looping over twenty or thirty columns with a call per column is most of the cost
    of verifying a large clinic; one expression per column is several times faster:
    NULL tested in place, text and integers quoted in place, a decimal or JSON text
    seen before looked up in place (the piece function still does the work, and fills
    the cache, the first time), and the object's text joined once from its parts (the
    key prefixes are literals) instead of concatenated pair by pair. The code is
    generated from our own table metadata only (column positions, piece functions and
    the ``repr`` of column names), never from data.
    """
    names: dict[str, Any] = {
        "quote": quote, "int_repr": int.__repr__,
        "decimals": _DECIMAL_SEEN, "json_seen": _JSON_SEEN,
    }
    parts = []
    for n, (index, piece) in enumerate(zip(order, pieces, strict=True)):
        names[f"p{n}"] = piece
        v = f"v{n}"
        if piece is _scalar:
            value = (
                f"quote({v}) if type({v}) is str else int_repr({v}) if type({v}) is int "
                f"else p{n}({v})"
            )
        elif piece is _decimal:
            # Keys are only ever str: a value of another type is never found.
            value = f"decimals.get({v}) or p{n}({v})"
        elif piece is _json:
            # PostgreSQL returns JSON parsed (unhashable): looked up only when text.
            value = f"(json_seen.get({v}) or p{n}({v})) if type({v}) is str else p{n}({v})"
        else:
            value = f"p{n}({v})"
        parts.append(f"('null' if ({v} := r[{index}]) is None else {value})")
    body_values = "def values(r):\n    return [" + ", ".join(parts) + "]\n"
    body_text = (
        "def text(r):\n    return ''.join(("
        + ", ".join(f"{prefix!r}, {part}" for prefix, part in zip(prefixes, parts, strict=True))
        + ", '}'))\n"
    )
    body_joined = (
        "def joined(c):\n    return ''.join(("
        + ", ".join(f"{prefix!r}, c[{n}]" for n, prefix in enumerate(prefixes))
        + ", '}'))\n"
    )
    code = compile(body_values + body_text + body_joined, f"<rowtext {table}>", "exec")
    exec(code, names)  # noqa: S102 - generated from our metadata, see above
    return names["values"], names["text"], names["joined"]


def subset_text(shape: RowShape, values: Sequence[str], names: Iterable[str]) -> str:
    """Canonical JSON of the object of the columns ``names`` of a row's ``values``."""
    where = shape_positions(shape)
    return "{" + ",".join(quote(n) + ":" + values[where[n]] for n in sorted(names)) + "}"


def subset_joiner(shape: RowShape, names: Iterable[str]) -> Callable[[Sequence[str]], str]:
    """:func:`subset_text` for one set of columns, compiled once: values to the text.

    Used per signed session (its signed fields), so it is straight-line code like the
    shape's own functions; generated from our metadata only (column names and
    positions).
    """
    where = shape_positions(shape)
    ordered = sorted(names)
    prefixes = [("{" if n == 0 else ",") + quote(name) + ":" for n, name in enumerate(ordered)]
    parts = ", ".join(
        f"{prefix!r}, c[{where[name]}]" for prefix, name in zip(prefixes, ordered, strict=True)
    )
    code = f"def joined(c):\n    return ''.join(({parts}, '}}'))\n" if ordered else (
        "def joined(c):\n    return '{}'\n"
    )
    found: dict[str, Any] = {}
    exec(compile(code, f"<rowtext {shape.table.name} subset>", "exec"), found)  # noqa: S102
    joined: Callable[[Sequence[str]], str] = found["joined"]
    return joined


_POSITIONS: dict[str, dict[str, int]] = {}


def shape_positions(shape: RowShape) -> dict[str, int]:
    """Column name to its position in :meth:`RowShape.values`."""
    found = _POSITIONS.get(shape.table.name)
    if found is None:
        found = {name: i for i, name in enumerate(shape.keys)}
        _POSITIONS[shape.table.name] = found
    return found


_SHAPES: dict[tuple[str, str], RowShape] = {}


def shape_of(table: sa.Table, key: str = "id") -> RowShape:
    """The :class:`RowShape` of ``table`` (paged by its integer column ``key``)."""
    found = _SHAPES.get((table.name, key))
    if found is not None:
        return found
    if any(name == table.name for name, _ in REDACTED):
        raise ValueError(f"{table.name} has redacted columns: use the general path")
    stored = [c.key for c in table.columns]
    keys = tuple(sorted(stored))
    order = tuple(stored.index(k) for k in keys)
    by_key = {c.key: c for c in table.columns}
    pieces = tuple(_piece(by_key[k]) for k in keys)
    prefixes = tuple(("{" if i == 0 else ",") + quote(k) + ":" for i, k in enumerate(keys))
    values, text, joined = _compile(table.name, order, pieces, prefixes)
    # Names come from our own metadata, never from input.
    columns = ", ".join(f'"{k}"' for k in stored)
    shape = RowShape(
        table=table,
        keys=keys,
        order=order,
        pieces=pieces,
        prefixes=prefixes,
        key_index=stored.index(key),
        select=sa.text(
            f'SELECT {columns} FROM "{table.name}" WHERE "{key}" > :last'  # noqa: S608
            f' ORDER BY "{key}" LIMIT {PAGE}'
        ),
        first=sa.text(
            f'SELECT {columns} FROM "{table.name}" ORDER BY "{key}" LIMIT {PAGE}'  # noqa: S608
        ),
        some=sa.text(
            f'SELECT {columns} FROM "{table.name}" WHERE "{key}" IN :keys'  # noqa: S608
        ).bindparams(sa.bindparam("keys", expanding=True)),
        values=values,
        text=text,
        joined=joined,
    )
    _SHAPES[(table.name, key)] = shape
    return shape


def pages(conn: Connection, shape: RowShape) -> Iterator[Sequence[Sequence[Any]]]:
    """The table's rows as the driver returns them, in pages ordered by the key.

    Read with a DBAPI cursor on ``conn``'s own connection and transaction (begun here
    if it was not, as ``conn.execute`` would), so each row is the driver's plain
    tuple: the values are the same ones a ``sqlalchemy.text`` query returns (it
    processes no column), without a ``Row`` built around each. It matters beyond the
    copy: the garbage collector untracks a tuple of plain values at its first
    collection, while a page of ``Row`` objects is promoted and walked again by every
    full collection while the replay runs.
    """
    if not conn.in_transaction():
        conn.begin()
    first = _driver_sql(conn, shape.first)
    following = _driver_sql(conn, shape.select)
    cursor = conn.connection.cursor()
    try:
        cursor.execute(first[0], first[1]({}))
        rows = cursor.fetchall()
        while rows:
            yield rows
            if len(rows) < PAGE:
                return
            last = rows[-1][shape.key_index]
            cursor.execute(following[0], following[1]({"last": last}))
            rows = cursor.fetchall()
    finally:
        cursor.close()


def _driver_sql(
    conn: Connection, clause: sa.TextClause
) -> tuple[str, Callable[[dict[str, Any]], Any]]:
    """``clause`` in the driver's own SQL and parameter style, and its parameters' maker."""
    compiled = clause.compile(dialect=conn.dialect)
    order = compiled.positiontup

    def parameters(values: dict[str, Any]) -> Any:
        bound = compiled.construct_params(values)
        return bound if order is None else tuple(bound[name] for name in order)

    return compiled.string, parameters
