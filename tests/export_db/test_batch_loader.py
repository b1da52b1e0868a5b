"""Loading many charts at once gives exactly the charts loaded one by one."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, select

from db.database import Database
from db.loaders import chart, charts
from db.store.inputs import SessionDraft
from db.tables.people import PatientRow
from formulary.records import Role
from tests.export_db.clinic import Clinic

pytestmark = pytest.mark.storage


def test_batch_equals_one_by_one(clinic: Clinic, database: Database) -> None:
    store = clinic.store
    patient = store.find_patient(clinic.admin, clinic.chart_numbers[1])
    signed = store.list_sessions(clinic.admin, patient.id)[0]
    store.save_session_draft(clinic.doctor, SessionDraft(  # a draft too
        patient_id=patient.id, formulation_version_id=signed.formulation_version_id,
        performed_at=datetime.now(UTC).replace(microsecond=0), notes="draft"))
    with Session(database.engine) as db:
        rows = list(db.exec(select(PatientRow).order_by(col(PatientRow.id))).all())
        one_by_one = [chart(db, r, workstation="ws") for r in rows]
        together = charts(db, rows, workstation="ws")
    assert together == one_by_one
    assert all(c.sessions for c in together)
    with Session(database.engine) as db:
        assert charts(db, []) == []


def test_who_prepared_each_session_comes_with_the_user_rows_already_read(
    clinic: Clinic, database: Database
) -> None:
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    with Session(database.engine) as db:
        rows = list(db.exec(select(PatientRow).order_by(col(PatientRow.id))).all())
        sa.event.listen(database.engine, "before_cursor_execute", count)
        try:
            together = charts(db, rows)
            for_all = len(statements)
            statements.clear()
            charts(db, rows[:1])
            for_one = len(statements)
        finally:
            sa.event.remove(database.engine, "before_cursor_execute", count)
    # One query per kind of row for the whole batch: naming the preparers adds none.
    assert for_all == for_one
    for loaded in together:
        first, *others = loaded.sessions
        assert first.prepared_by is not None and others
        assert (first.prepared_by.username, first.prepared_by.full_name) == (
            "mlind", "Maja Lind, RN")
        assert first.prepared_by.role is Role.ASSISTANT
        assert {s.prepared_by.username for s in others if s.prepared_by} == {"drmartin"}
        assert {s.signature.signer.username for s in loaded.sessions if s.signature} == {
            "drmartin"}
        # Named by the signed record, so the FHIR bundle has her Practitioner.
        assert {p.username for p in loaded.practitioners} == {"drmartin", "mlind"}
    one = clinic.store.get_session(clinic.doctor, clinic.session_ids[0])
    assert one.prepared_by == together[0].sessions[0].prepared_by
