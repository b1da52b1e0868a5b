"""Verification's fast path (driver values straight to canonical text) never disagrees.

``audit verify`` serialises every audited row and every signed session from the
driver's values (:mod:`db.audit.rowtext`); only rows whose fast text does not match
the audit trail go through the general serialiser. These tests hold the two equal on
a generated clinic on both engines, and for random values of every column kind.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session

from db.audit import rowtext
from db.audit.canonical import canonical_json
from db.audit.replay import (
    _compiled_test,
    _image_test,
    _is_image,
    audited_tables,
    replay_tables,
)
from db.audit.signatures import SignatureCheck, check_signatures
from db.database import Database
from db.ops.bulk import plain_image_json
from db.ops.demo_scale import build_synthetic_clinic
from db.tables.sessions import SessionRow
from db.types import DecimalText, UTCDateTime

pytestmark = pytest.mark.storage


def _clinic(database: Database) -> None:
    # Accounts, products and lots through the Store, sessions signed by its recipe.
    build_synthetic_clinic(database, 6)


def test_fast_text_equals_the_general_serialiser_for_every_row(
    database: Database,
) -> None:
    _clinic(database)
    compared = 0
    with database.engine.connect() as conn:
        for table in audited_tables():
            try:
                shape = rowtext.shape_of(table)
            except ValueError:
                continue  # secret columns: always the general path
            typed = {
                str(row._mapping["id"]): plain_image_json(table, dict(row._mapping))
                for row in conn.execute(sa.select(table))
            }
            for page in rowtext.pages(conn, shape):
                for row in page:
                    assert shape.text(row) == typed[str(row[shape.key_index])], table.name
                    compared += 1
    assert compared > 100


def test_every_signature_is_cleared_by_the_fast_path(
    database: Database,
) -> None:
    _clinic(database)
    with database.engine.connect() as conn:
        check = SignatureCheck(conn)
        tables = replay_tables(conn, signatures=check)
        report = check.finish()
        alone = check_signatures(conn)
    assert tables.ok
    assert report.ok and report.sessions_checked > 10
    assert check.unsure == []  # none needed the Store's own recipe
    assert alone.ok and alone.sessions_checked == report.sessions_checked


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63) | st.text(),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=st.text(),
    number=st.integers(-(2**63), 2**63 - 1),
    decimal=st.decimals(allow_nan=False, allow_infinity=False, places=None),
    moment=st.datetimes(
        min_value=datetime(1900, 1, 1), max_value=datetime(2100, 12, 31), timezones=st.just(UTC)
    ),
    flag=st.booleans(),
    value=_json_values,
)
def test_each_piece_equals_canonical_json(
    text: str,
    number: int,
    decimal: Decimal,
    moment: datetime,
    flag: bool,
    value: Any,
) -> None:
    surrogate = any(0xD800 <= ord(c) <= 0xDFFF for c in text)
    if not surrogate:
        assert rowtext._scalar(text) == canonical_json(text)
    assert rowtext._scalar(number) == canonical_json(number)
    assert rowtext._decimal(format(decimal, "f")) == canonical_json(decimal)
    assert rowtext._decimal(str(decimal)) == canonical_json(Decimal(str(decimal)))
    stored = moment.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    assert rowtext._timestamp(stored) == canonical_json(moment)
    assert rowtext._timestamp(moment) == canonical_json(moment)
    assert rowtext._date(moment.date().isoformat()) == canonical_json(moment.date())
    assert rowtext._boolean(int(flag)) == canonical_json(flag)
    dumped = json.dumps(value)
    if "\\ud8" not in dumped.lower() and "\\udc" not in dumped.lower():
        assert rowtext._json(dumped) == canonical_json(json.loads(dumped))
        if value is not None and not isinstance(value, str):
            assert rowtext._json(value) == canonical_json(value)


def test_unusual_values_go_to_the_general_path() -> None:
    for piece, value in (
        (rowtext._scalar, 1.5),
        (rowtext._scalar, b"bytes"),
        (rowtext._timestamp, "2026-01-01"),
        (rowtext._timestamp, "2026-02-30 10:00:00.000000"),
        (rowtext._date, "2026-1-1"),
        (rowtext._decimal, "NaN"),
        (rowtext._decimal, 5),
        (rowtext._boolean, "yes"),
        (rowtext._json, 1.5),
    ):
        with pytest.raises((rowtext.Slow, ValueError, ArithmeticError)):
            piece(value)


# -- the generated code equals the piece-by-piece definition --------------------------

_SESSIONS: sa.Table = SessionRow.__table__  # type: ignore[attr-defined]
_probe_metadata = sa.MetaData()
#: A table with a column of every kind, declared out of sorted order (the shape sorts).
_PROBE = sa.Table(
    "fast_path_probe",
    _probe_metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("zeta_text", sa.String),
    sa.Column("amount", DecimalText),
    sa.Column("at", UTCDateTime),
    sa.Column("plain_at", sa.DateTime),
    sa.Column("doc", sa.JSON),
    sa.Column("flag", sa.Boolean),
    sa.Column("day", sa.Date),
    sa.Column("count", sa.Integer),
)

_decimal_texts = st.decimals(allow_nan=False, allow_infinity=False, places=None).flatmap(
    lambda d: st.sampled_from([format(d, "f"), str(d)])
)
_moments = st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31))
_anything = (
    st.none()
    | st.text(max_size=30)
    | st.integers(-(2**70), 2**70)
    | st.booleans()
    | st.floats()
    | st.binary(max_size=8)
    | _decimal_texts
    | st.decimals(places=None).map(str)
    | _moments.map(lambda m: m.strftime("%Y-%m-%d %H:%M:%S.%f"))
    | _moments
    | _moments.map(lambda m: m.replace(tzinfo=UTC))
    | st.dates().map(lambda d: d.isoformat())
    | st.dates()
    | _json_values.map(json.dumps)
    | _json_values
)


def _by_pieces(shape: rowtext.RowShape, row: Any) -> list[str]:
    """The definition the generated code must keep: each column's piece, one by one."""
    return [
        "null" if row[index] is None else piece(row[index])
        for index, piece in zip(shape.order, shape.pieces, strict=True)
    ]


_REFUSED = (rowtext.Slow, ValueError, TypeError, ArithmeticError)


# As SQLAlchemy stores them on SQLite (the year zero-padded).
_sqlite_moments = _moments.map(lambda m: m.isoformat(" ", "microseconds"))
#: Per column: the values its piece takes (mostly), NULL or anything at all.
_PROBE_VALUES = {
    "id": st.integers(-(2**63), 2**63),
    "zeta_text": st.text(),
    "amount": _decimal_texts,
    "at": _sqlite_moments | _moments.map(lambda m: m.replace(tzinfo=UTC)),
    "plain_at": _sqlite_moments | _moments,
    "doc": _json_values.map(json.dumps) | _json_values,
    "flag": st.booleans() | st.integers(0, 1),
    "day": st.dates().map(lambda d: d.isoformat()) | st.dates(),
    "count": st.integers(),
}
_probe_rows = st.tuples(
    *(
        st.sampled_from([_PROBE_VALUES[c.key]] * 8 + [st.none(), _anything]).flatmap(
            lambda values: values
        )
        for c in _PROBE.c
    )
)


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(row=_probe_rows)
def test_generated_row_code_equals_the_pieces_one_by_one(row: tuple[Any, ...]) -> None:
    shape = rowtext.shape_of(_PROBE)
    try:
        expected: list[str] | None = _by_pieces(shape, row)
    except _REFUSED:
        expected = None
    for _ in range(2):  # the second time, decimal and JSON texts come from the caches
        if expected is None:
            with pytest.raises(_REFUSED):
                shape.values(row)
            with pytest.raises(_REFUSED):
                shape.text(row)
            continue
        assert shape.values(row) == expected
        text = "".join(map(str.__add__, shape.prefixes, expected)) + "}"
        assert shape.text(row) == text
        assert shape.joined(expected) == text


@settings(max_examples=200)
@given(data=st.data())
def test_subset_joiner_equals_subset_text(data: st.DataObject) -> None:
    table = data.draw(st.sampled_from([_PROBE, _SESSIONS]))
    shape = rowtext.shape_of(table)
    names = data.draw(st.sets(st.sampled_from(shape.keys)))
    values = data.draw(
        st.lists(st.text(max_size=6), min_size=len(shape.keys), max_size=len(shape.keys))
    )
    assert rowtext.subset_joiner(shape, names)(values) == rowtext.subset_text(
        shape, values, names
    )


def test_a_cached_text_never_answers_for_a_value_of_another_type() -> None:
    shape = rowtext.shape_of(_PROBE)
    names = [c.key for c in _PROBE.c]
    good = dict.fromkeys(names)
    good.update(id=1, amount="5", doc="[1]")
    assert shape.values(tuple(good.values()))  # "5" and "[1]" are now cached
    for column, other in (
        ("amount", 5), ("amount", b"5"), ("amount", Decimal("5")), ("amount", 5.0),
        ("doc", b"[1]"), ("doc", 1.0),
    ):
        row = tuple({**good, column: other}.values())
        try:
            expected: list[str] | None = _by_pieces(shape, row)
        except _REFUSED:
            expected = None
        if expected is None:
            with pytest.raises(_REFUSED):
                shape.values(row)
        else:
            assert shape.values(row) == expected


# -- the feed's image test equals the loop it replaces --------------------------------


@settings(max_examples=400)
@given(data=st.data())
def test_compiled_image_test_equals_the_loop(data: st.DataObject) -> None:
    table = data.draw(st.sampled_from([_PROBE, *audited_tables()]))
    test = _image_test(table)
    prefix, tokens = test
    if data.draw(st.booleans()):
        # Keys in order with values between, some dropped, repeated or swapped.
        keys = list(tokens[1:])
        for _ in range(data.draw(st.integers(0, 2))):
            if keys:
                ends = st.sampled_from([0, len(keys) - 1])
                at = data.draw(ends | st.integers(0, len(keys) - 1))
                change = data.draw(st.sampled_from(["drop", "repeat", "swap"]))
                if change == "drop":
                    del keys[at]
                elif change == "repeat":
                    keys.insert(data.draw(st.integers(0, len(keys))), keys[at])
                else:
                    keys[at], keys[-1] = keys[-1], keys[at]
        pieces = [data.draw(st.text(max_size=3)) + key for key in keys]
    else:
        pieces = data.draw(
            st.lists(st.sampled_from(tokens) | st.text(max_size=4) | st.just('"'), max_size=40)
        )
    text = data.draw(st.sampled_from([prefix, prefix, "", prefix[:-1]])) + "".join(pieces)
    assert _compiled_test(test)(text) is _is_image(text, test)


def test_compiled_image_test_passes_real_images_and_refuses_a_missing_key() -> None:
    shape = rowtext.shape_of(_PROBE)
    test = _image_test(_PROBE)
    row = (1, "z", "1.50", None, None, '{"a":[1]}', 1, "2026-01-02", 7)
    image = shape.text(row)
    assert _compiled_test(test)(image) and _is_image(image, test)
    for name in shape.keys[1:]:
        broken = image.replace(f'"{name}":', f'"{name}_":')
        assert not _compiled_test(test)(broken) and not _is_image(broken, test)


# -- the signature fast path spells the Store's payload for any signer and meaning ----


def test_signature_fast_path_equals_the_store_recipe_for_any_signer_and_meaning(
    database: Database,
) -> None:
    from db.audit.signatures import _typed
    from db.store.signing import signature_hash, signed_content
    from db.tables.formulations import FormulationVersionRow

    _clinic(database)
    columns = list(_SESSIONS.c.keys())
    at = {name: columns.index(name) for name in (
        "id", "signer_name", "signature_meaning", "content_hash")}
    select = sa.text(
        "SELECT " + ", ".join(f'"{c}"' for c in columns)
        + " FROM treatment_session WHERE content_hash IS NOT NULL ORDER BY id LIMIT 1"
    )

    @settings(max_examples=60, deadline=None)
    @given(signer=st.text(), meaning=st.text())
    def check_one(signer: str, meaning: str) -> None:
        if any(0xD800 <= ord(c) <= 0xDFFF for c in signer + meaning):
            return  # not storable as UTF-8: neither path hashes it
        with database.engine.connect() as conn:
            check = SignatureCheck(conn)
            raw = conn.execute(select).one()
            stored = _typed(conn, SessionRow, int(raw[at["id"]]))
            stored.signer_name, stored.signature_meaning = signer, meaning
            with Session(bind=conn) as orm:
                version = orm.get(FormulationVersionRow, stored.formulation_version_id)
            assert version is not None
            expected = signature_hash(
                signed_content(stored, version), signer, stored.signed_at, meaning
            )
            row = list(raw)
            row[at["signer_name"]], row[at["signature_meaning"]] = signer, meaning
            row[at["content_hash"]] = expected
            assert check._matches(row, check.sessions.values(row))
            row[at["content_hash"]] = raw[at["content_hash"]]
            changed = (signer, meaning) != (
                raw[at["signer_name"]], raw[at["signature_meaning"]]
            )
            assert check._matches(row, check.sessions.values(row)) is not changed
            conn.rollback()

    check_one()
