"""Loading many charts at once gives exactly the charts loaded one by one."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import Session, col, select

from db.database import Database
from db.loaders import chart, charts
from db.store.inputs import SessionDraft
from db.tables.people import PatientRow
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
