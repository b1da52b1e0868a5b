"""A writer process for the crash and concurrency tests.

``python -m tests.storage.writer URL USER PASSWORD PATIENT VERSION LOT COUNT``
records and signs COUNT sessions (0: until killed), printing ``ok <session id>``
only after each signing transaction has committed.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from decimal import Decimal

from db.database import open_database
from db.store import LotChoice, SessionDraft, Store
from formulary.records import ScalpZone, Technique, ZoneVolume
from formulary.units.amount import Amount


def main(argv: list[str]) -> int:
    url, user, password, patient, version, lot, count = argv
    database = open_database(url, create=False)
    store = Store(database, workstation=f"writer-{user}")
    actor = store.authenticate(user, password)
    done = 0
    half = Amount(Decimal("0.5"), "mL")
    while int(count) == 0 or done < int(count):
        draft = SessionDraft(
            patient_id=int(patient),
            formulation_version_id=int(version),
            performed_at=datetime.now(UTC),
            technique=Technique.PAPULE,
            total_volume=Amount(Decimal("1"), "mL"),
            zones=(ZoneVolume(ScalpZone.VERTEX, half), ZoneVolume(ScalpZone.OCCIPITAL, half)),
            lots=(LotChoice(1, int(lot)),),
            notes=f"written by {user} #{done}",
        )
        saved = store.save_session_draft(actor, draft)
        store.sign_session(actor, saved.id, password)
        print(f"ok {saved.id}", flush=True)
        done += 1
    database.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
