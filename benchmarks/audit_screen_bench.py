"""Benchmark of the audit screen's reads on a long trail (run on demand; prints figures).

    python benchmarks/audit_screen_bench.py [--entries 100000] [--patients 500]

1. First page: the newest 100 entries, no filter (what opening the screen waits for).
   Target: < 100 ms whatever the length of the trail.
2. One patient's first page: one query on the ``audit_event.patient_id`` index (a
   patient with few entries on a long trail used to mean scanning 10,000 entries).
   Target: < 100 ms whatever the length of the trail.
3. Verification: re-hashing every entry, entries per second (runs in a worker; the
   screen stays responsive meanwhile).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def build(path: Path, entries: int, patients: int) -> None:
    from sqlmodel import Session

    from db.audit.chain import append_event
    from db.database import open_database

    database = open_database(path, seed=lambda connection, db_id: None)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with Session(database.engine) as session:
        for n in range(entries):
            pid = n % patients + 1
            append_event(
                session, db_id=database.db_id, user=f"user{n % 5}", workstation="bench",
                action="outcome.create", entity="outcome", entity_id=n,
                before=None, after={"patient_id": pid, "density_value": str(100 + n % 60)},
                reason=None, now=start + timedelta(seconds=n),
            )
            if n % 5000 == 4999:
                session.commit()
        session.commit()
    database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--patients", type=int, default=500)
    args = parser.parse_args()

    from db.audit.service import verify_database
    from db.database import open_database
    from db.store import Actor, Store
    from formulary.records import Role
    from tui.audit_query import AuditFilter, PatientScope, fetch_page

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        began = time.perf_counter()
        build(path, args.entries, args.patients)
        print(f"built {args.entries:,} entries in {time.perf_counter() - began:.1f} s")
        store = Store(open_database(path), "bench")
        auditor = Actor(0, "bench", "Bench", Role.AUDITOR)

        began = time.perf_counter()
        page = fetch_page(store, auditor, AuditFilter(), None, None)
        took = (time.perf_counter() - began) * 1000
        print(f"first page, no filter: {len(page.entries)} entries in {took:.1f} ms"
              " (target < 100 ms)")

        scope = PatientScope(patient_id=7)
        began = time.perf_counter()
        page = fetch_page(store, auditor, AuditFilter(chart_number="bench"), scope, None)
        took = (time.perf_counter() - began) * 1000
        print(f"first page of one patient (1 entry in {args.patients}): "
              f"{len(page.entries)} entries in {took:.1f} ms (target < 100 ms)")

        import os

        os.environ.setdefault("FORMULARY_KEY_DIR", str(Path(tmp) / "keys"))
        began = time.perf_counter()
        result = verify_database(store.database, user="bench", record=False)
        took = time.perf_counter() - began
        print(f"verification: {result.report.rows:,} entries in {took:.2f} s "
              f"({result.report.rows / took:,.0f} entries/s)")
        store.database.dispose()


if __name__ == "__main__":
    main()
