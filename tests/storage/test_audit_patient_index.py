"""The audit trail indexed by patient: filled on append, backfilled by migration 0008
without changing a single hash, and agreeing with a scan of every entry's images."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from db.audit.verify import verify_chain
from db.database import open_database
from db.store import Actor, Store
from formulary.records import Role

from .conftest import PASSWORD
from .helpers import World
from .test_signed_content_versions import FIXTURE_USER, _unpack

pytestmark = pytest.mark.storage


def _scan(store: Store, actor: Actor, patient_id: int) -> list[int]:
    """Every entry about the patient, found by reading every entry's images."""
    sessions = {s.id for s in store.list_sessions(actor, patient_id)}
    formulations = {v.formulation_id for v in store.list_formulations(actor, patient_id)}
    found = []
    for e in store.audit_events(actor, limit=5000):
        images = [i for i in (e.before, e.after) if i]
        if (
            (e.entity == "patient" and e.entity_id == str(patient_id))
            or (e.entity == "treatment_session" and e.entity_id in {str(s) for s in sessions})
            or any(
                i.get("patient_id") == patient_id
                or i.get("session_id") in sessions
                or i.get("formulation_id") in formulations
                for i in images
            )
        ):
            found.append(e.seq)
    return found


def _chain(engine: sa.Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as connection:
        return [tuple(r) for r in connection.execute(sa.text(
            "SELECT seq, ts_utc, action, entity, entity_id, before, after, prev_hash, hash "
            "FROM audit_event ORDER BY seq"
        ))]


def test_migration_fills_the_index_without_changing_a_hash(tmp_path: Path) -> None:
    path = _unpack(tmp_path)
    raw = sa.create_engine(f"sqlite:///{path}")
    before = _chain(raw)
    raw.dispose()
    database = open_database(path)  # 0001 -> head, 0008 backfills patient_id
    try:
        # Every hashed field and hash as it was (later migrations may append entries).
        assert _chain(database.engine)[: len(before)] == before
        with database.engine.connect() as connection:
            report = verify_chain(connection, database.db_id)
            filled = connection.execute(sa.text(
                "SELECT count(*) FROM audit_event WHERE patient_id IS NOT NULL"
            )).scalar_one()
        assert report.ok, report
        assert filled > 100
        store = Store(database)
        actor = store.authenticate(*FIXTURE_USER)
        patients = [p.id for p in store.list_patients(actor)]
        assert len(patients) == 12
        for patient_id in patients:
            indexed = [e.seq for e in store.audit_events(actor, patient_id=patient_id,
                                                         limit=5000)]
            assert indexed == _scan(store, actor, patient_id)
            assert indexed
    finally:
        database.dispose()


def test_entries_are_indexed_as_they_are_appended(
    store: Store, users: dict[Role, Actor]
) -> None:
    lee = users[Role.PRACTITIONER]
    world = World(store, lee)
    other = World(store, lee, chart="C-2")
    session = store.sign_session(lee, store.save_session_draft(lee, world.draft()).id, PASSWORD)
    store.add_addendum(lee, session.id, "calm scalp", "late entry", PASSWORD)
    store.sign_session(lee, store.save_session_draft(lee, other.draft()).id, PASSWORD)
    mine = store.audit_events(lee, patient_id=world.patient.id, limit=5000)
    assert [e.seq for e in mine] == _scan(store, lee, world.patient.id)
    actions = {e.action for e in mine}
    assert {"patient.create", "session.sign", "session_lot.draw", "session.addendum",
            "formulation_version.create"} <= actions
    assert all(json.dumps(e.after or {}).find('"lot_number"') < 0 for e in mine)
    with store.database.engine.connect() as connection:
        assert verify_chain(connection, store.database.db_id).ok
