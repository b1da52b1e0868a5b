"""The demo clinic (through the Store) and lot recalls over it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from db.audit.verify import verify_chain
from db.errors import NotFound
from db.ops.recall import recall_lot
from db.store import Store
from formulary.records import LotStatus, SessionStatus
from tests.ops.conftest import DEMO_ADMIN


def _count(database: Any, sql: str) -> int:
    with database.engine.connect() as conn:
        return int(conn.execute(sa.text(sql)).scalar_one())


def test_the_demo_clinic_has_what_it_promises(demo_copy: Path, open_db: Callable[..., Any]) -> None:
    database = open_db(demo_copy)
    store = Store(database)
    admin = store.authenticate(DEMO_ADMIN.username, DEMO_ADMIN.password)
    assert len(store.list_users(admin)) == 3
    assert {u.role.value for u in store.list_users(admin)} == {"admin", "practitioner",
                                                              "assistant"}
    patients = store.list_patients(admin)
    assert len(patients) == 12
    assert {p.sex.value for p in patients} == {"male", "female"}
    assert {p.grade_scale.value for p in patients if p.grade_scale} == {"norwood", "ludwig"}
    assert not any(c.code == "pregnancy" for p in patients for c in p.conditions)
    assert {a.substance for p in patients for a in p.allergies} == {"procaine", "cobalt"}
    sessions = [s for p in patients for s in store.list_sessions(admin, p.id)]
    assert len(sessions) == 60
    assert all(s.status is SessionStatus.SIGNED for s in sessions)
    assert all(s.needle_gauge == 30 and s.needle_length is not None for s in sessions)
    assert all(store.verify_signatures(admin, s.id) == [] for s in sessions)
    assert _count(database, "SELECT count(*) FROM outcome") >= 24
    assert _count(database, "SELECT count(*) FROM formulation_version") > 12  # step-ups
    lots = store.list_lots(admin, include_empty=True)
    assert [lot.status for lot in lots].count(LotStatus.QUARANTINED) == 1
    today = datetime.now(UTC).date()
    assert any(today <= lot.expiry <= today + timedelta(days=31) for lot in lots)
    with database.engine.connect() as conn:
        report = verify_chain(conn, database.db_id)
    assert report.ok, report.problem
    assert report.rows == _count(database, "SELECT count(*) FROM audit_event")


def _ground_truth(store: Store, actor: Any, lot_number: str) -> dict[str, set[int]]:
    """Patients (chart) -> sessions that used the lot, from the session records themselves."""
    truth: dict[str, set[int]] = {}
    for patient in store.list_patients(actor):
        for session in store.list_sessions(actor, patient.id):
            if any(use.lot_number == lot_number for use in session.lots):
                truth.setdefault(patient.chart_number, set()).add(session.id)
    return truth


@pytest.mark.parametrize("lot_number", ["BCX-1187", "DXP24-0815", "DUT250902"])
def test_recall_finds_every_patient_and_session_including_mixes(
    demo_copy: Path, open_db: Callable[..., Any], lot_number: str
) -> None:
    store = Store(open_db(demo_copy))
    admin = store.authenticate(DEMO_ADMIN.username, DEMO_ADMIN.password)
    report = recall_lot(store, admin, lot_number)
    found = {p.chart_number: {s.session_id for s in p.sessions} for p in report.patients}
    truth = _ground_truth(store, admin, lot_number)
    assert truth, "the demo uses every one of these lots"
    assert found == truth
    # Each of these lots went into cocktails with other products (a mix).
    some = next(iter(truth.values()))
    session = store.get_session(admin, next(iter(some)))
    assert len(session.lots) > 1


def test_recall_of_a_multi_ingredient_vial_reaches_its_patients(
    demo_copy: Path, open_db: Callable[..., Any]
) -> None:
    store = Store(open_db(demo_copy))
    admin = store.authenticate(DEMO_ADMIN.username, DEMO_ADMIN.password)
    report = recall_lot(store, admin, "BCX-1187")
    assert report.lots[0].product_name == "Hair B-complex 5 mL vial"
    assert report.session_count == sum(len(p.sessions) for p in report.patients) > 0
    data = report.to_json()
    assert data["patients"][0]["sessions"][0]["drawn"]["unit"] == "mL"


def test_recall_of_an_unknown_lot_says_so(demo_copy: Path, open_db: Callable[..., Any]) -> None:
    store = Store(open_db(demo_copy))
    admin = store.authenticate(DEMO_ADMIN.username, DEMO_ADMIN.password)
    with pytest.raises(NotFound, match="did you mean BCX-1187"):
        recall_lot(store, admin, "bcx-1187")


def test_recall_of_an_unused_lot_is_empty_not_an_error(
    demo_copy: Path, open_db: Callable[..., Any]
) -> None:
    store = Store(open_db(demo_copy))
    admin = store.authenticate(DEMO_ADMIN.username, DEMO_ADMIN.password)
    report = recall_lot(store, admin, "MNX-0925-C")  # the quarantined lot
    assert report.lots[0].status == "quarantined"
    assert report.patients == ()


def test_lots_recall_command_prints_json(demo_copy: Path, cli: Callable[..., Any]) -> None:
    import json

    result = cli(["lots", "recall", "BCX-1187", "--json", "--db", str(demo_copy),
                  "--user", DEMO_ADMIN.username, "--password-stdin"],
                 input=DEMO_ADMIN.password + "\n")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["lot_number"] == "BCX-1187"
    assert data["patient_count"] == len(data["patients"]) > 0


def test_demo_refuses_a_database_that_has_accounts(
    demo_copy: Path, cli: Callable[..., Any]
) -> None:
    result = cli(["init", "--demo", "--db", str(demo_copy)])
    assert result.exit_code != 0
    assert "already set up" in result.stderr
