"""Properties of the chain, on every engine: any sequence of entries verifies, and
any single-field change anywhere is detected at exactly the changed row."""

from __future__ import annotations

from datetime import UTC
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session

from db.audit.chain import append_event, build_entry, chain_rows
from db.audit.guards import install_guards, remove_guards
from db.audit.verify import verify_chain
from db.tables.audit import AuditEvent
from tests.audit.conftest import ChainDB

pytestmark = pytest.mark.storage

_fixture_ok = settings(
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    deadline=None,
)

# PostgreSQL text cannot hold NUL and UTF-8 cannot hold lone surrogates: the append
# path refuses both (tested elsewhere), so the properties range over everything else.
_chars = st.characters(codec="utf-8", exclude_characters="\x00")
_name = st.text(_chars, min_size=1, max_size=30)
_free = st.none() | st.text(_chars, max_size=60)
_action = st.from_regex(r"[a-z][a-z0-9_]{0,8}(\.[a-z][a-z0-9_]{0,8}){1,2}", fullmatch=True)
_leaf = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(_chars, max_size=20)
    | st.decimals(allow_nan=False, allow_infinity=False)
)
_image = st.none() | st.dictionaries(
    st.text(_chars, max_size=10),
    st.recursive(_leaf, lambda inner: st.lists(inner, max_size=3), max_leaves=6),
    max_size=4,
)

_entry = st.fixed_dictionaries(
    {
        "user": _name,
        "workstation": _name,
        "action": _action,
        "entity": _name,
        "entity_id": st.none() | st.integers(0, 10**12) | st.text(_chars, min_size=1, max_size=20),
        "before": _image,
        "after": _image,
        "reason": _free,
        "now": st.datetimes(timezones=st.just(UTC)),
    }
)

_COLUMNS = (
    "ts_utc",
    "user_name",
    "workstation",
    "action",
    "entity",
    "entity_id",
    "before",
    "after",
    "reason",
    "prev_hash",
    "hash",
    "seq",
)
_NULLABLE = {"entity_id", "before", "after", "reason"}


def _reset(db: ChainDB) -> None:
    with db.engine.begin() as conn:
        remove_guards(conn)
        conn.execute(sa.text("DELETE FROM audit_event"))
        install_guards(conn)


def _load(db: ChainDB, entries: list[dict[str, Any]]) -> None:
    built = [build_entry(**e) for e in entries]
    with db.engine.begin() as conn:
        rows = list(chain_rows(db.db_id, built))
        if rows:
            conn.execute(AuditEvent.__table__.insert(), rows)  # type: ignore[attr-defined]


def _verify(db: ChainDB) -> Any:
    with db.engine.connect() as conn:
        return verify_chain(conn, db.db_id, batch_size=7)


@_fixture_ok
@given(st.lists(_entry, max_size=12))
def test_any_sequence_of_appends_verifies(chain_db: ChainDB, entries: list[dict[str, Any]]) -> None:
    _reset(chain_db)
    with Session(chain_db.engine) as session:
        for e in entries:
            append_event(session, db_id=chain_db.db_id, **e)
        session.commit()
    report = _verify(chain_db)
    assert report.ok and report.rows == len(entries) == report.head_seq


@_fixture_ok
@given(st.lists(_entry, min_size=1, max_size=12), st.data())
def test_any_single_field_change_is_detected_at_that_seq(
    chain_db: ChainDB, entries: list[dict[str, Any]], data: st.DataObject
) -> None:
    _reset(chain_db)
    _load(chain_db, entries)
    assert _verify(chain_db).ok
    seq = data.draw(st.integers(1, len(entries)), label="seq")
    column = data.draw(st.sampled_from(_COLUMNS), label="column")
    with chain_db.engine.connect() as conn:
        old = conn.execute(
            sa.text(f"SELECT {column} FROM audit_event WHERE seq = :s"), {"s": seq}
        ).scalar()
    if column == "seq":
        new: Any = seq + 1_000_000
    elif column in ("prev_hash", "hash"):
        new = data.draw(st.from_regex(r"[0-9a-f]{64}", fullmatch=True).filter(lambda v: v != old))
    else:
        pool: st.SearchStrategy[str | None] = st.text(_chars, max_size=30)
        if column in _NULLABLE:
            pool = st.none() | pool
        new = data.draw(pool.filter(lambda v: v != old), label="new")
    with chain_db.engine.begin() as conn:
        remove_guards(conn)
        conn.execute(
            sa.text(f"UPDATE audit_event SET {column} = :v WHERE seq = :s"), {"v": new, "s": seq}
        )
        install_guards(conn)
    report = _verify(chain_db)
    assert report.status == "altered" and report.first_bad_seq == seq, report
