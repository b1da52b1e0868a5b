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

from db.audit import rowtext
from db.audit.canonical import canonical_json
from db.audit.replay import audited_tables, replay_tables
from db.audit.signatures import SignatureCheck, check_signatures
from db.database import Database
from db.ops.bulk import plain_image_json
from db.ops.demo_scale import build_synthetic_clinic

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
