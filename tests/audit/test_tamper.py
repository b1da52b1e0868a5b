"""Tampering behind the Store's back, with plain SQL and the guards dropped, as an
attacker with database access would: every edit, deletion, insertion, reordering,
truncation and rollback is detected (truncation and rollback need a checkpoint)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from db.audit.chain import append_event, compute_hash, read_head
from db.audit.checkpoint import make_checkpoint
from db.audit.keys import InstallationKey, load_or_create_key
from db.audit.verify import VerifyReport, verify_chain
from formulary.records import Checkpoint
from tests.audit.conftest import ChainDB

pytestmark = pytest.mark.storage

N = 12
COLUMNS = (
    "seq, ts_utc, user_name, workstation, action, entity, entity_id, before, after,"
    " reason, prev_hash, hash"
)


def append(db: ChainDB, count: int, start: int = 1) -> None:
    with Session(db.engine) as session:
        for n in range(start, start + count):
            append_event(
                session,
                db_id=db.db_id,
                user=f"user{n % 3}",
                workstation="room-1",
                action="session.sign",
                entity="session",
                entity_id=n,
                before={"status": "draft"},
                after={"status": "signed", "n": n},
                reason="signed at the chair" if n % 2 else None,
            )
        session.commit()


def verify(db: ChainDB, checkpoints: Iterable[Checkpoint] = ()) -> VerifyReport:
    with db.engine.connect() as conn:
        return verify_chain(conn, db.db_id, list(checkpoints), batch_size=5)


def checkpoint(db: ChainDB, key: InstallationKey) -> Checkpoint:
    with db.engine.connect() as conn:
        return make_checkpoint(conn, db.db_id, key)


@pytest.fixture
def chain(chain_db: ChainDB) -> ChainDB:
    append(chain_db, N)
    assert verify(chain_db).ok
    return chain_db


@pytest.fixture
def key(chain_db: ChainDB, tmp_path: Path) -> InstallationKey:
    return load_or_create_key(chain_db.db_id, tmp_path / "keys")


def assert_altered_at(report: VerifyReport, seq: int) -> None:
    assert report.status == "altered", report
    assert report.exit_code == 2
    assert report.first_bad_seq == seq, report.problem
    assert f"seq {seq}" in (report.problem or "")


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("ts_utc", "2020-01-01T00:00:00.000000Z"),
        ("user_name", "mallory"),
        ("workstation", "laptop"),
        ("action", "session.void"),
        ("entity", "patient"),
        ("entity_id", "999"),
        ("entity_id", None),
        ("before", '{"status":"signed"}'),
        ("after", '{"n":5,"status":"draft"}'),
        ("after", None),
        ("reason", "typo fixed"),
        ("reason", None),
        ("prev_hash", "f" * 64),
        ("hash", "e" * 64),
    ],
)
def test_editing_any_field_is_detected_at_that_row(
    chain: ChainDB, column: str, value: str | None
) -> None:
    chain.attack(f"UPDATE audit_event SET {column} = :v WHERE seq = 5", params={"v": value})
    assert_altered_at(verify(chain), 5)


def test_deleting_a_middle_row_is_detected(chain: ChainDB) -> None:
    chain.attack("DELETE FROM audit_event WHERE seq = 5")
    report = verify(chain)
    assert_altered_at(report, 5)
    assert "missing" in (report.problem or "")


def test_deleting_the_first_row_is_detected(chain: ChainDB) -> None:
    chain.attack("DELETE FROM audit_event WHERE seq = 1")
    assert_altered_at(verify(chain), 1)


def test_deleting_the_tail_is_caught_by_a_checkpoint(chain: ChainDB, key: InstallationKey) -> None:
    cp = checkpoint(chain, key)
    chain.attack("DELETE FROM audit_event WHERE seq > 9")
    report = verify(chain, [cp])
    assert report.status == "truncated" and report.exit_code == 3
    assert report.checkpoint == cp
    assert "ends at seq 9" in (report.problem or "") and f"seq {N}" in (report.problem or "")


def test_without_a_checkpoint_the_unprotected_tail_is_stated(chain: ChainDB) -> None:
    chain.attack("DELETE FROM audit_event WHERE seq > 9")
    report = verify(chain)
    assert report.ok  # the hash chain alone cannot see a shortened tail …
    assert report.newest_checkpoint_seq is None
    assert report.rows_after_checkpoint == 9  # … which is why verify always says so
    assert "9 entries lie after the newest checkpoint (there is none)" in report.summary()


def test_emptying_the_table_is_caught_by_a_checkpoint(chain: ChainDB, key: InstallationKey) -> None:
    cp = checkpoint(chain, key)
    pg = chain.dialect == "postgresql"
    chain.attack("TRUNCATE audit_event" if pg else "DELETE FROM audit_event")
    report = verify(chain, [cp])
    assert report.status == "truncated" and "ends at seq 0" in (report.problem or "")


def _forge_row(db: ChainDB, seq: int, prev_hash: str) -> dict[str, object]:
    entry = {
        "ts_utc": "2026-01-01T00:00:00.000000Z",
        "user": "mallory",
        "workstation": "room-1",
        "action": "session.sign",
        "entity": "session",
        "entity_id": "77",
        "before": None,
        "after": '{"status":"signed"}',
        "reason": None,
    }
    return {
        "seq": seq,
        "ts_utc": entry["ts_utc"],
        "user_name": entry["user"],
        "workstation": entry["workstation"],
        "action": entry["action"],
        "entity": entry["entity"],
        "entity_id": entry["entity_id"],
        "before": entry["before"],
        "after": entry["after"],
        "reason": entry["reason"],
        "prev_hash": prev_hash,
        "hash": compute_hash(db.db_id, seq, prev_hash, entry),
    }


_INSERT = (
    f"INSERT INTO audit_event ({COLUMNS}) VALUES (:seq, :ts_utc, :user_name, :workstation,"
    " :action, :entity, :entity_id, :before, :after, :reason, :prev_hash, :hash)"
)


def test_inserting_a_well_forged_row_in_the_middle_is_detected(chain: ChainDB) -> None:
    # The attacker knows the recipe and the database id, renumbers the rows after
    # seq 4 and slips in a row whose own hash is right: the next row no longer links.
    prev = chain.rows()[3].hash
    chain.attack(
        "UPDATE audit_event SET seq = seq + 1000 WHERE seq >= 5",
        "UPDATE audit_event SET seq = seq - 999 WHERE seq >= 1005",
        _INSERT,
        params=_forge_row(chain, 5, prev),
    )
    assert [r.seq for r in chain.rows()] == list(range(1, N + 2))
    report = verify(chain)
    assert_altered_at(report, 6)
    assert "prev_hash" in (report.problem or "")


def test_appending_a_forged_row_counts_as_unprotected(chain: ChainDB, key: InstallationKey) -> None:
    cp = checkpoint(chain, key)
    with chain.engine.connect() as conn:
        seq, head = read_head(conn)
    chain.attack(_INSERT, params=_forge_row(chain, seq + 1, head))
    report = verify(chain, [cp])
    # A correctly forged row after the newest checkpoint is indistinguishable from a
    # real one; verify reports how many such rows there are so a person can look.
    assert report.ok and report.rows_after_checkpoint == 1


def test_stray_rows_below_seq_1_are_detected(chain: ChainDB) -> None:
    chain.attack(_INSERT, params=_forge_row(chain, 0, "0" * 64))
    assert_altered_at(verify(chain), 0)


def test_swapping_two_rows_contents_is_detected(chain: ChainDB) -> None:
    rows = {r.seq: r for r in chain.rows()}
    fields = [c.strip() for c in COLUMNS.split(",")][1:]
    sets = ", ".join(f"{f} = :{f}" for f in fields)
    # hash is unique: park row 4's hash before giving it row 7's.
    chain.attack(
        "UPDATE audit_event SET hash = 'parked' WHERE seq = 4",
        f"UPDATE audit_event SET {sets} WHERE seq = 7",
        params={f: getattr(rows[4], f) for f in fields},
    )
    chain.attack(
        f"UPDATE audit_event SET {sets} WHERE seq = 4",
        params={f: getattr(rows[7], f) for f in fields},
    )
    assert_altered_at(verify(chain), 4)


def test_swapping_two_rows_sequence_numbers_is_detected(chain: ChainDB) -> None:
    chain.attack(
        "UPDATE audit_event SET seq = 1000 WHERE seq = 4",
        "UPDATE audit_event SET seq = 4 WHERE seq = 5",
        "UPDATE audit_event SET seq = 5 WHERE seq = 1000",
    )
    assert_altered_at(verify(chain), 4)


def _rewrite_from(db: ChainDB, start: int) -> None:
    """Recompute every hash from ``start`` on, as an attacker covering an edit would."""
    rows = db.rows()
    prev = rows[start - 2].hash if start > 1 else "0" * 64
    statements: list[tuple[str, dict[str, object]]] = []
    for row in rows[start - 1 :]:
        entry = {
            "ts_utc": row.ts_utc,
            "user": row.user_name,
            "workstation": row.workstation,
            "action": row.action,
            "entity": row.entity,
            "entity_id": row.entity_id,
            "before": row.before,
            "after": row.after,
            "reason": row.reason,
        }
        digest = compute_hash(db.db_id, row.seq, prev, entry)
        statements.append(
            (
                "UPDATE audit_event SET prev_hash = :p, hash = :h WHERE seq = :s",
                {"p": prev, "h": digest, "s": row.seq},
            )
        )
        prev = digest
    with db.engine.begin() as conn:
        from db.audit.guards import install_guards, remove_guards

        remove_guards(conn)
        for sql, params in statements:
            conn.execute(sa.text(sql), params)
        install_guards(conn)


def test_an_edit_covered_by_rehashing_is_caught_by_a_checkpoint(
    chain: ChainDB, key: InstallationKey
) -> None:
    early = checkpoint(chain, key)
    assert early.seq == N
    chain.attack("UPDATE audit_event SET user_name = 'mallory' WHERE seq = 5")
    _rewrite_from(chain, 5)
    assert verify(chain).ok  # without a checkpoint a full rewrite is self-consistent
    report = verify(chain, [early])
    assert report.status == "truncated" and report.exit_code == 3
    assert report.checkpoint == early and "rolled back or rewritten" in (report.problem or "")


def test_rollback_to_an_older_copy_is_caught_by_a_checkpoint(
    chain: ChainDB, key: InstallationKey
) -> None:
    # The database goes back to its state at seq 8 (restored copy), then life goes on:
    # new entries get the same seq numbers with different contents.
    cp = checkpoint(chain, key)
    chain.attack("DELETE FROM audit_event WHERE seq > 8")
    append(chain, 6, start=100)
    assert verify(chain).ok
    report = verify(chain, [cp])
    assert report.status == "truncated" and report.exit_code == 3
    assert f"at seq {N}" in (report.problem or "")


def test_verifying_against_another_database_id_fails_at_the_first_row(chain: ChainDB) -> None:
    with chain.engine.connect() as conn:
        assert_altered_at(verify_chain(conn, "someone-else", []), 1)


def test_the_first_problem_in_sequence_order_is_named(chain: ChainDB) -> None:
    chain.attack(
        "UPDATE audit_event SET reason = 'x' WHERE seq = 9",
        "UPDATE audit_event SET reason = 'y' WHERE seq = 3",
    )
    assert_altered_at(verify(chain), 3)


def test_progress_is_reported_per_batch(chain: ChainDB) -> None:
    seen: list[tuple[int, int]] = []
    with chain.engine.connect() as conn:
        verify_chain(conn, chain.db_id, progress=lambda done, total: seen.append((done, total)))
        verify_chain(
            conn,
            chain.db_id,
            batch_size=5,
            progress=lambda done, total: seen.append((done, total)),
        )
    assert seen == [(12, 12), (5, 12), (10, 12), (12, 12)]


def test_deleting_more_than_a_whole_batch_is_detected(chain: ChainDB) -> None:
    # Batches are seq ranges of 5: (5, 10] comes back empty, yet seq 12 still exists.
    chain.attack("DELETE FROM audit_event WHERE seq BETWEEN 6 AND 11")
    report = verify(chain)
    assert_altered_at(report, 6)
    assert "the next row is seq 12" in (report.problem or "")


def test_a_non_text_value_is_reported_not_crashed_on(chain: ChainDB) -> None:
    if chain.dialect != "sqlite":
        pytest.skip("only SQLite lets a text column hold a blob")
    chain.attack("UPDATE audit_event SET user_name = X'00ff' WHERE seq = 3")
    report = verify(chain)
    assert_altered_at(report, 3)
    assert "not text" in (report.problem or "")
