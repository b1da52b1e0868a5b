"""The bulk path's PostgreSQL pieces: COPY text fields and the chain over prepared JSON."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from db.audit.chain import GENESIS_HASH, build_entry, chain_json, chain_rows, entry_json
from db.ops.bulk import copy_field
from tests.ops.conftest import PG_ENV

_AWKWARD = (
    "plain",
    "tab\there",
    "two\nlines",
    "carriage\rreturn",
    "back\\slash and \\N and \\t",
    '{"note":"Nguyễn said \\"ok\\"\\nthen left"}',
    "O'Brien",
    "",
)


def test_the_chain_over_prepared_json_is_the_chain_of_the_entries() -> None:
    entries = [
        build_entry(user="nurse.lind", workstation="ws-1", action="patient.create",
                    entity="patient", entity_id=index, before=None,
                    after={"id": index, "note": text}, reason=text or None,
                    now=datetime(2026, 6, 1, 9, 0, index, tzinfo=UTC))
        for index, text in enumerate(_AWKWARD, start=1)
    ]
    rows = list(chain_rows("db-1", entries, start_seq=41, prev_hash="ab" * 32))
    prepared = [entry_json(entry).encode("utf-8") for entry in entries]
    chained = list(chain_json("db-1", prepared, start_seq=41, prev_hash="ab" * 32))
    assert chained == [(row["seq"], row["prev_hash"], row["hash"]) for row in rows]
    assert chained[0][1] == "ab" * 32 and chained[1][1] == rows[0]["hash"]
    # Another database, or another place in the chain, is another hash.
    assert next(chain_json("db-2", prepared, start_seq=41, prev_hash="ab" * 32)) != chained[0]
    assert next(chain_json("db-1", prepared, start_seq=1, prev_hash=GENESIS_HASH)) != chained[0]


def test_copy_fields_escape_what_copy_gives_a_meaning_to() -> None:
    assert copy_field(None) == "\\N"
    assert copy_field("a\tb\nc\rd\\e") == "a\\tb\\nc\\rd\\\\e"
    assert copy_field(True) == "t" and copy_field(False) == "f"
    assert copy_field(Decimal("1E+3")) == "1000"
    assert copy_field(date(2026, 6, 1)) == "2026-06-01"
    with pytest.raises(TypeError):
        copy_field(1.5)


@pytest.fixture
def pg_connection() -> Iterator[sa.Connection]:
    """A connection to the test server (a temporary table only; nothing is kept)."""
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(f"{PG_ENV} is not set")
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


def test_copy_fields_read_back_as_written(pg_connection: sa.Connection) -> None:
    connection = pg_connection
    connection.exec_driver_sql(
        "CREATE TEMPORARY TABLE copy_probe (n int, t text, b boolean, d date, "
        "ts timestamptz, j json, x text)"
    )
    moment = datetime(2026, 6, 1, 9, 30, 0, 123456, tzinfo=UTC)
    rows: list[tuple[Any, ...]] = [
        (index, text, index % 2 == 0, date(2026, 6, index), moment, '{"v":' + str(index) + "}",
         None)
        for index, text in enumerate(_AWKWARD, start=1)
    ]
    data = "".join("\t".join(copy_field(v) for v in row) + "\n" for row in rows)
    driver = connection.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor, cursor.copy("COPY copy_probe FROM STDIN") as copy:
        copy.write(data.encode("utf-8"))
    back = connection.execute(
        sa.text("SELECT n, t, b, d, ts, j::text, x FROM copy_probe ORDER BY n")
    ).all()
    assert [tuple(r) for r in back] == [
        (n, t, b, d, ts.astimezone(UTC), j, x) for n, t, b, d, ts, j, x in rows
    ]
    connection.rollback()
