"""Appending to the chain: links, hashes, serialization, guards (every engine)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from db.audit.chain import (
    GENESIS_HASH,
    append_event,
    compute_hash,
    entry_of,
    read_head,
)
from db.audit.verify import verify_chain
from tests.audit.conftest import ChainDB

pytestmark = pytest.mark.storage


def _append(session: Session | sa.Connection, db: ChainDB, n: int, **over: object) -> None:
    fields: dict[str, object] = {
        "user": "dr.ada",
        "workstation": "room-1",
        "action": "patient.create",
        "entity": "patient",
        "entity_id": n,
        "before": None,
        "after": {"chart": f"C{n}", "dose": Decimal("0.5")},
        "reason": None,
    }
    fields.update(over)
    append_event(session, db_id=db.db_id, **fields)  # type: ignore[arg-type]


def test_first_entry_links_to_genesis_and_each_to_its_predecessor(chain_db: ChainDB) -> None:
    with Session(chain_db.engine) as session:
        for n in range(1, 4):
            _append(session, chain_db, n)
        session.commit()
    rows = chain_db.rows()
    assert [r.seq for r in rows] == [1, 2, 3]
    assert rows[0].prev_hash == GENESIS_HASH
    assert rows[1].prev_hash == rows[0].hash and rows[2].prev_hash == rows[1].hash
    assert rows[0].after == '{"chart":"C1","dose":"0.5"}'
    assert rows[0].entity_id == "1"
    assert rows[0].ts_utc.endswith("Z") and len(rows[0].ts_utc) == 27


def test_stored_hash_is_the_documented_recipe(chain_db: ChainDB) -> None:
    when = datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=timezone(timedelta(hours=-5)))
    with Session(chain_db.engine) as session:
        event = append_event(
            session,
            db_id=chain_db.db_id,
            user="u",
            workstation="w",
            action="auth.login",
            entity="user",
            entity_id="u",
            before=None,
            after=None,
            reason="ok",
            now=when,
        )
        session.commit()
        assert event.ts_utc == "2026-03-04T10:06:07.890123Z"
        assert event.hash == compute_hash(chain_db.db_id, 1, GENESIS_HASH, entry_of(event))
    # Independent re-implementation of docs/audit.md, byte for byte.
    import hashlib

    entry = (
        '{"action":"auth.login","after":null,"before":null,"entity":"user","entity_id":"u",'
        '"reason":"ok","ts_utc":"2026-03-04T10:06:07.890123Z","user":"u","workstation":"w"}'
    )
    message = f"FORMULARY-AUDIT-v1\x00{chain_db.db_id}\x001\x00{'0' * 64}\x00{entry}"
    assert chain_db.rows()[0].hash == hashlib.sha256(message.encode()).hexdigest()


def test_append_does_not_commit(chain_db: ChainDB) -> None:
    with Session(chain_db.engine) as session:
        _append(session, chain_db, 1)
        session.rollback()
    assert chain_db.rows() == []


def test_append_on_a_core_connection(chain_db: ChainDB) -> None:
    with chain_db.engine.begin() as conn:
        _append(conn, chain_db, 1)
        _append(conn, chain_db, 2)
    with chain_db.engine.connect() as conn:
        assert read_head(conn)[0] == 2
        assert verify_chain(conn, chain_db.db_id).ok


@pytest.mark.parametrize(
    ("over", "words"),
    [
        ({"user": ""}, "non-empty user"),
        ({"workstation": ""}, "non-empty workstation"),
        ({"action": "create"}, "dotted verb"),
        ({"action": "Patient.Create"}, "dotted verb"),
        ({"entity": "pa\x00tient"}, "NUL"),
        ({"user": "x" * 201}, "at most 200"),
        ({"after": {"dose": 0.5}}, "float"),
        ({"entity_id": True}, "not a bool"),
    ],
)
def test_bad_entries_are_refused_and_nothing_is_written(
    chain_db: ChainDB, over: dict[str, object], words: str
) -> None:
    with Session(chain_db.engine) as session:
        with pytest.raises(ValueError, match=words):
            _append(session, chain_db, 1, **over)
        session.commit()
    assert chain_db.rows() == []


def test_naive_time_is_refused(chain_db: ChainDB) -> None:
    with Session(chain_db.engine) as session, pytest.raises(ValueError, match="time zone"):
        _append(session, chain_db, 1, now=datetime(2026, 1, 1))


def test_guards_refuse_update_and_delete(chain_db: ChainDB) -> None:
    with Session(chain_db.engine) as session:
        _append(session, chain_db, 1)
        session.commit()
    for statement in (
        "UPDATE audit_event SET user_name = 'mallory'",
        "DELETE FROM audit_event",
    ):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"), chain_db.engine.begin() as c:
            c.execute(sa.text(statement))
    if chain_db.dialect == "postgresql":
        with pytest.raises(sa.exc.DatabaseError, match="append-only"), chain_db.engine.begin() as c:
            c.execute(sa.text("TRUNCATE audit_event"))
    assert len(chain_db.rows()) == 1


def test_concurrent_writers_never_fork_or_skip(chain_db: ChainDB) -> None:
    writers, each = 4, 15
    errors: list[BaseException] = []
    start = threading.Barrier(writers)

    def work(w: int) -> None:
        try:
            start.wait()
            for i in range(each):
                with Session(chain_db.engine) as session:
                    _append(session, chain_db, w * 100 + i, workstation=f"room-{w}")
                    session.commit()
        except BaseException as exc:  # surfaced below, with the thread's error
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    rows = chain_db.rows()
    assert [r.seq for r in rows] == list(range(1, writers * each + 1))
    assert len({r.prev_hash for r in rows}) == len(rows)  # no two rows share a parent
    with chain_db.engine.connect() as conn:
        report = verify_chain(conn, chain_db.db_id)
    assert report.ok and report.rows == writers * each


def test_many_appends_in_one_transaction(chain_db: ChainDB) -> None:
    with Session(chain_db.engine) as session:
        for n in range(1, 21):
            _append(session, chain_db, n, now=datetime(2026, 1, 1, tzinfo=UTC))
        session.commit()
    with chain_db.engine.connect() as conn:
        assert verify_chain(conn, chain_db.db_id).rows == 20


def test_the_worked_example_in_the_docs_is_what_the_code_computes() -> None:
    from pathlib import Path

    docs = (Path(__file__).resolve().parents[2] / "docs" / "audit.md").read_text()
    entry = {
        "ts_utc": "2026-03-04T10:06:07.890123Z", "user": "dr.ada", "workstation": "room-1",
        "action": "patient.update", "entity": "patient", "entity_id": "42",
        "before": '{"grade":"III"}', "after": '{"grade":"IV"}', "reason": "re-staged",
    }
    digest = compute_hash("60a789e2-e96b-4641-8769-576c518f4ebf", 1, GENESIS_HASH, entry)
    assert f"hash       = {digest}" in docs
