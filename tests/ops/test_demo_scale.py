"""The synthetic clinic (``init --demo --patients N``): bulk rows that the Store accepts."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa

from db.audit.verify import verify_chain
from db.ops.demo_scale import build_synthetic_clinic
from db.ops.recall import recall_lot
from db.store import PatientFields, Store
from formulary.records import Sex
from tests.ops.conftest import DEMO_ADMIN

TODAY = date(2026, 6, 1)


@pytest.mark.storage
def test_a_small_synthetic_clinic_is_complete_signed_and_audited(
    new_location: Callable[[], str], open_db: Callable[..., Any]
) -> None:
    database = open_db(new_location(), create=True)
    report = build_synthetic_clinic(database, 25, today=TODAY, seed=7)
    counts = report.counts
    assert counts["patients"] == 25
    assert 25 * 8 * 0.5 <= counts["signed_sessions"] <= 25 * 12
    with database.engine.connect() as conn:
        def count(sql: str) -> int:
            return int(conn.execute(sa.text(sql)).scalar_one())

        assert count("SELECT count(*) FROM treatment_session WHERE status = 'signed'") == (
            counts["signed_sessions"])
        rows = sum(count(f"SELECT count(*) FROM {t}") for t in (
            "patient", "formulation", "formulation_version", "course", "treatment_session",
            "session_lot", "outcome"))
        # One audit entry per generated row (plus accounts, stock and the lot draws).
        assert count("SELECT count(*) FROM audit_event WHERE reason LIKE 'synthetic%'") >= rows
        verdict = verify_chain(conn, database.db_id)
        assert verdict.ok, verdict.problem
        assert count("SELECT count(*) FROM lot WHERE CAST(quantity_value AS REAL) < 0") == 0
    store = Store(database)
    admin = store.authenticate(DEMO_ADMIN.username, DEMO_ADMIN.password)
    patient = store.list_patients(admin)[3]
    sessions = store.list_sessions(admin, patient.id)
    assert sessions and all(store.verify_signatures(admin, s.id) == [] for s in sessions)
    hits = recall_lot(store, admin, sessions[0].lots[0].lot_number)
    assert patient.chart_number in {p.chart_number for p in hits.patients}
    # The Store carries on after the bulk ids (PostgreSQL sequences were moved on).
    more = store.create_patient(admin, PatientFields("NEW-1", "Doe", "Jane", date(1990, 1, 1),
                                                     Sex.FEMALE))
    assert more.id > 25


def test_the_synthetic_clinic_is_deterministic(open_db: Callable[..., Any], tmp_path: Any) -> None:
    def build(name: str) -> list[tuple[Any, ...]]:
        database = open_db(tmp_path / name, create=True)
        build_synthetic_clinic(database, 12, today=TODAY, seed=11)
        with database.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.text(
                "SELECT id, patient_id, performed_at, zones, lots, content_hash "
                "FROM treatment_session ORDER BY id"))]

    assert build("a.db") == build("b.db")


def test_init_demo_patients_from_the_command_line(
    cli: Callable[..., Any], tmp_path: Any
) -> None:
    location = tmp_path / "synthetic.db"
    result = cli(["init", "--demo", "--patients", "10", "--today", "2026-06-01", "--json",
                  "--db", str(location)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["counts"]["patients"] == 10
    assert [u["username"] for u in data["logins"]] == ["admin", "dr.okafor", "nurse.lind"]
    assert data["checkpoint"].startswith("FORMULARY-CHECKPOINT v1")


def test_patients_without_demo_is_refused(cli: Callable[..., Any], tmp_path: Any) -> None:
    result = cli(["init", "--patients", "10", "--db", str(tmp_path / "x.db")])
    assert result.exit_code != 0
    assert "add --demo" in result.stderr


@pytest.mark.storage
def test_worker_processes_build_the_same_clinic_as_one_process(
    new_location: Callable[[], str], open_db: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch
) -> None:
    # On PostgreSQL the workers' rows go in with COPY: the same rows, chain and signatures.
    import db.ops.demo_scale as scale

    monkeypatch.setattr(scale, "PATIENTS_PER_BATCH", 10)

    def build(name: str) -> tuple[Any, ...]:
        database = open_db(new_location(), create=True)
        build_synthetic_clinic(database, 35, today=TODAY, seed=5)
        with database.engine.connect() as conn:
            sessions = [tuple(r) for r in conn.execute(sa.text(
                "SELECT id, patient_id, performed_at, zones, lots, content_hash, created_at "
                "FROM treatment_session ORDER BY id"))]
            assert verify_chain(conn, database.db_id).ok
            lots = conn.execute(sa.text("SELECT count(*) FROM session_lot")).scalar_one()
            # The audit screen's patient index: derived in the workers from their own
            # rows, by the serial path from the database; the same either way.
            trail = [tuple(r) for r in conn.execute(sa.text(
                "SELECT action, entity, entity_id, patient_id FROM audit_event "
                "WHERE reason LIKE 'synthetic%' ORDER BY seq"))]
            schema = _schema(conn)
        store = Store(database)
        admin = store.authenticate(DEMO_ADMIN.username, DEMO_ADMIN.password)
        assert all(store.verify_signatures(admin, s[0]) == [] for s in sessions[::17])
        # The Store carries on after the bulk ids (PostgreSQL sequences were moved on).
        more = store.create_patient(admin, PatientFields("NEW-1", "Doe", "Jane",
                                                         date(1990, 1, 1), Sex.FEMALE))
        assert more.id == 36
        return sessions, int(lots), trail, schema

    assert scale._workers(open_db(new_location(), create=True), 35) > 1
    parallel = build("parallel.db")
    monkeypatch.setattr(scale, "_workers", lambda _database, _patients: 1)
    assert build("serial.db") == parallel


@pytest.mark.storage
def test_the_planner_has_statistics_once_built(
    new_location: Callable[[], str], open_db: Callable[..., Any]
) -> None:
    # On PostgreSQL the builder analyses what it loaded: a search planned on empty
    # statistics scans 200,000 patients where an index answers in milliseconds.
    database = open_db(new_location(), create=True)
    build_synthetic_clinic(database, 3, today=TODAY)
    if database.dialect != "postgresql":
        return
    with database.engine.connect() as conn:
        analysed = conn.execute(
            sa.text(
                "SELECT relname FROM pg_stat_user_tables WHERE last_analyze IS NOT NULL "
                "AND relname IN ('patient', 'treatment_session', 'course')"
            )
        ).scalars()
        assert sorted(analysed) == ["course", "patient", "treatment_session"]


def _schema(conn: sa.Connection) -> list[tuple[Any, ...]]:
    """Every index and constraint, as the server would recreate them."""
    if conn.dialect.name == "sqlite":
        return [tuple(r) for r in conn.execute(sa.text(
            "SELECT type, name, sql FROM sqlite_master ORDER BY type, name"))]
    indexes = conn.execute(sa.text(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
        "ORDER BY indexname"))
    constraints = conn.execute(sa.text(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), convalidated "
        "FROM pg_constraint WHERE connamespace = current_schema()::regnamespace "
        "ORDER BY 1, 2"))
    return [tuple(r) for r in indexes] + [tuple(r) for r in constraints]



def test_copy_lines_made_from_the_image_are_those_of_the_row(
    new_location: Callable[[], str], open_db: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch
) -> None:
    # PostgreSQL's workers make each row's COPY text from its audit image (formatted
    # once for both); it must be the text the row's own values make.
    from db.ops.bulk import BulkWriter, copy_line, copy_line_of_image

    checked: list[str] = []
    real = BulkWriter.insert_plain

    def insert_plain(self: BulkWriter, table: sa.Table, values: Any, action: str,
                     after_json: str, image: Any = None) -> None:
        assert image is not None
        assert copy_line_of_image(table, values, image) == copy_line(table, values)
        checked.append(table.name)
        real(self, table, values, action, after_json, image)

    monkeypatch.setattr(BulkWriter, "insert_plain", insert_plain)
    build_synthetic_clinic(open_db(new_location(), create=True), 6, today=TODAY, seed=3)
    assert {"patient", "patient_weight", "formulation", "formulation_version", "course",
            "treatment_session", "session_lot", "outcome"} <= set(checked)
