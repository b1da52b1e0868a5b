"""A small clinic with a fixed history, built through the Store, for the audit and export
screens' tests and snapshots.

Every time stamp comes from a stepping clock and the workstation name is fixed, so the
audit trail reads the same on every machine (the ingredient library is not seeded: its
entries would carry the real time and host name).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from unittest.mock import patch

from formulary.records import Allergy, GradeScale, Role, Sex

if TYPE_CHECKING:
    from db.store import Store

ADMIN = ("admin", "Ada Admin", "admin-password-1")
DOCTOR = ("drmartin", "Dr Claire Martin", "martin-password-1")
AUDITOR = ("audit", "Ines Auditor", "auditor-password-1")
ASSISTANT = ("assist", "Sam Assistant", "assist-password-1")

WORKSTATION = "desk-1"
#: The first entry's time; every transaction is one minute after the one before.
STARTED_AT = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Clinic:
    """Where the database is and the ids tests refer to."""

    path: Path
    patients: dict[str, int]
    entries: int


@contextmanager
def stepping_clock(start: datetime = STARTED_AT) -> Iterator[None]:
    """Make the Store's clock tick one minute per transaction (and the new database's
    first entry, ``installation.create``, come from this clock and workstation too)."""
    import db.seed as seed
    import db.store.clock as clock

    ticks = [start - timedelta(minutes=1)]

    def now() -> datetime:
        ticks[0] += timedelta(minutes=1)
        return ticks[0]

    with (
        patch.object(clock, "now", now),
        patch.object(seed, "utcnow", now),
        patch.object(seed, "workstation_name", lambda: WORKSTATION),
    ):
        yield


def open_store(path: Path) -> Store:
    """The Store on ``path`` as the clinic's workstation (no library seeding)."""
    from db.database import open_database
    from db.store import Store

    return Store(open_database(path, seed=lambda connection, db_id: None), WORKSTATION)


def build_clinic(path: Path) -> Clinic:
    """Create the clinic database at ``path`` and close it."""
    from db.store import PatientFields

    with stepping_clock(STARTED_AT - timedelta(minutes=1)):
        store = open_store(path)
        admin = store.create_first_admin(*ADMIN)
        store.create_user(admin, DOCTOR[0], DOCTOR[1], Role.PRACTITIONER, DOCTOR[2])
        store.create_user(admin, AUDITOR[0], AUDITOR[1], Role.AUDITOR, AUDITOR[2])
        store.create_user(admin, ASSISTANT[0], ASSISTANT[1], Role.ASSISTANT, ASSISTANT[2])
        doctor = store.authenticate(DOCTOR[0], DOCTOR[2])
        moreau = PatientFields(
            chart_number="C-2001", family_name="Moreau", given_name="Claire",
            date_of_birth=date(1984, 3, 12), sex=Sex.FEMALE,
            diagnosis="female pattern hair loss", grade_scale=GradeScale.LUDWIG, grade="I-2",
        )
        dubois = PatientFields(
            chart_number="C-2002", family_name="Dubois", given_name="Marc",
            date_of_birth=date(1979, 7, 30), sex=Sex.MALE,
            diagnosis="androgenetic alopecia", grade_scale=GradeScale.NORWOOD, grade="III",
        )
        patients = {
            "moreau": store.create_patient(doctor, moreau).id,
            "dubois": store.create_patient(doctor, dubois).id,
        }
        store.add_allergy(doctor, patients["moreau"], Allergy("lidocaine", reaction="urticaria"))
        store.update_patient(
            doctor, patients["dubois"], replace(dubois, grade="III vertex", consent_on_file=True,
                                                consent_date=date(2026, 9, 30)),
            "graded again at the consultation; consent signed",
        )
        entries = len(store.audit_events(admin, limit=5000))
        store.database.dispose()
    return Clinic(path=path, patients=patients, entries=entries)
