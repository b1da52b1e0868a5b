"""How long recording a session takes through the Store, against bare sqlite3.

Run: ``python benchmarks/store_bench.py [--sessions 200] [--patients 20000]``

Prints, from one run on one machine:

* ms per recorded session through the Store (draft saved, then signed: two audited
  transactions, stock drawn, signature hashed), without the argon2id password check;
* ms for the argon2id password check a signature adds (argon2-cffi defaults);
* ms per session for bare ``sqlite3`` writing the same rows (session, lot drawn,
  stock update, audit rows without hashing) with the same pragmas and commits;
* ms per ``list_patients`` search among ``--patients`` patients.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from db import auth
from db.database import open_database
from db.store import (
    ComponentSpec,
    IngredientFields,
    LotChoice,
    PatientFields,
    SessionDraft,
    Store,
    StrengthSpec,
)
from formulary.records import ScalpZone, Sex, Technique, ZoneVolume
from formulary.units.amount import Amount

PASSWORD = "benchmark password"


def ml(text: str) -> Amount:
    return Amount(Decimal(text), "mL")


def store_sessions(directory: Path, count: int) -> tuple[float, float, float, Store]:
    db = open_database(directory / "store.db")
    store = Store(db, "bench")
    admin = store.create_first_admin("admin", "Ada Admin", PASSWORD)
    patient = store.create_patient(
        admin, PatientFields("B-1", "Bench", "Mark", date(1980, 1, 1), Sex.MALE)
    )
    # Signing needs the patient's consent (the consent rule, docs/consent.md).
    store.sign_consent(admin, patient_id=patient.id,
                       template_id=store.consent_templates(admin)[0].id,
                       typed_name="Mark Bench", password=PASSWORD)
    ing = store.upsert_ingredient(admin, IngredientFields(key="bench-biotin", name="Biotin"))
    product = store.create_product(
        admin,
        name="Biotin",
        ingredients=[StrengthSpec(ing.id, Amount(Decimal(5), "mg/mL"))],
        volume_per_unit=ml("2"),
    )
    lot = store.receive_lot(
        admin,
        product_id=product.id,
        lot_number="B1",
        expiry=date(2099, 1, 1),
        quantity=ml("100000"),
    )
    version = store.save_formulation(
        admin,
        patient_id=patient.id,
        name="Mix",
        components=[ComponentSpec("Biotin", ml("1"), product_id=product.id)],
    )
    # Time the Store's own work: the argon2id check is timed separately below.
    real_verify = store.verify_password
    store.verify_password = lambda actor, password: None  # type: ignore[method-assign]
    timings = []
    cpu = []
    for i in range(count):
        draft = SessionDraft(
            patient_id=patient.id,
            formulation_version_id=version.id,
            performed_at=datetime.now(UTC),
            technique=Technique.NAPPAGE,
            needle_gauge=32,
            total_volume=ml("1"),
            zones=(
                ZoneVolume(ScalpZone.VERTEX, ml("0.5")),
                ZoneVolume(ScalpZone.FRONTAL, ml("0.5")),
            ),
            lots=(LotChoice(1, lot.id),),
            notes=f"session {i}",
        )
        start, start_cpu = time.perf_counter(), time.process_time()
        saved = store.save_session_draft(admin, draft)
        store.sign_session(admin, saved.id, PASSWORD)
        timings.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    store.verify_password = real_verify  # type: ignore[method-assign]
    digest = auth.hash_password(PASSWORD)
    checks = []
    for _ in range(5):
        start = time.perf_counter()
        auth.verify_password(digest, PASSWORD)
        checks.append(time.perf_counter() - start)
    return (
        statistics.median(timings) * 1000,
        statistics.median(cpu) * 1000,
        statistics.median(checks) * 1000,
        store,
    )


def bare_sessions(directory: Path, count: int) -> tuple[float, float]:
    connection = sqlite3.connect(directory / "bare.db", isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON"):
        connection.execute(f"PRAGMA {pragma}")
    connection.executescript(
        """
        CREATE TABLE lot (id INTEGER PRIMARY KEY, quantity TEXT NOT NULL);
        CREATE TABLE s (id INTEGER PRIMARY KEY, patient_id INT, version_id INT, performed_at TEXT,
            status TEXT, technique TEXT, gauge INT, total TEXT, zones TEXT, lots TEXT, notes TEXT,
            signer TEXT, signed_at TEXT, hash TEXT);
        CREATE TABLE sl (id INTEGER PRIMARY KEY, session_id INT REFERENCES s(id),
            lot_id INT REFERENCES lot(id), drawn TEXT);
        CREATE TABLE audit (seq INTEGER PRIMARY KEY, action TEXT, entity TEXT, entity_id TEXT,
            before TEXT, after TEXT);
        INSERT INTO lot VALUES (1, '100000');
        """
    )
    zones = '[{"zone":"vertex","volume":{"unit":"mL","value":"0.5"}}]'
    timings = []
    cpu = []
    for i in range(count):
        start, start_cpu = time.perf_counter(), time.process_time()
        # Two transactions, as the Store does: save the draft, then sign it.
        connection.execute("BEGIN IMMEDIATE")
        cur = connection.execute(
            "INSERT INTO s (patient_id, version_id, performed_at, status, technique, gauge, total,"
            " zones, lots, notes) VALUES (1, 1, ?, 'draft', 'nappage', 32, '1', ?, '[]', ?)",
            (datetime.now(UTC).isoformat(), zones, f"session {i}"),
        )
        sid = cur.lastrowid
        connection.execute(
            "INSERT INTO audit (action, entity, entity_id, after) VALUES "
            "('session.create_draft', 's', ?, '{}')",
            (sid,),
        )
        connection.execute("COMMIT")
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("INSERT INTO sl (session_id, lot_id, drawn) VALUES (?, 1, '1')", (sid,))
        connection.execute("UPDATE lot SET quantity = CAST(quantity AS INTEGER) - 1 WHERE id = 1")
        connection.execute(
            "UPDATE s SET status='signed', signer='Ada', signed_at=?, hash='x' WHERE id=?",
            (datetime.now(UTC).isoformat(), sid),
        )
        for action in ("session_lot.draw", "lot.draw", "session.sign"):
            connection.execute(
                "INSERT INTO audit (action, entity, entity_id, before, after) "
                "VALUES (?, 's', ?, '{}', '{}')",
                (action, sid),
            )
        connection.execute("COMMIT")
        timings.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    connection.close()
    return statistics.median(timings) * 1000, statistics.median(cpu) * 1000


def search_timings(store: Store, patients: int) -> tuple[float, float]:
    from sqlalchemy import insert

    from db.store.validate import search_key
    from db.tables.people import PatientRow

    admin = store.authenticate("admin", PASSWORD)
    now = datetime.now(UTC)
    families = ["Smith", "Müller", "García", "Nguyen", "Kowalski", "O'Brien", "Rossi", "Dubois"]
    rows = []
    for i in range(patients):
        family, given = f"{families[i % len(families)]}{i // 8}", f"Given{i}"
        rows.append(
            {
                "chart_number": f"Z-{i:06d}",
                "family_name": family,
                "given_name": given,
                "family_key": search_key(family),
                "given_key": search_key(given),
                "search_key": search_key(family, given, f"Z-{i:06d}"),
                "date_of_birth": date(1950 + i % 50, 1 + i % 12, 1 + i % 28),
                "sex": "female",
                "diagnosis": "",
                "grade": "",
                "allergies": [],
                "conditions": [],
                "consent_on_file": False,
                "created_at": now,
                "updated_at": now,
            }
        )
    # Setup only: bulk-load the patients directly (not audited), to time the search.
    with store.database.engine.begin() as connection:
        connection.execute(insert(PatientRow), rows)
    queries = ["muller 1", "Z-01234", "garcia12", "1975-03-04", "zzz-no-match", ""]
    timings = []
    for _ in range(5):
        for q in queries:
            start = time.perf_counter()
            store.list_patients(admin, q, limit=50)
            timings.append(time.perf_counter() - start)
    start = time.perf_counter()
    store.count_patients(admin)
    return statistics.median(timings) * 1000, max(timings) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=200)
    parser.add_argument("--patients", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        store_ms, store_cpu, argon_ms, store = store_sessions(directory, args.sessions)
        bare_ms, bare_cpu = bare_sessions(directory, args.sessions)
        search_median, search_max = search_timings(store, args.patients)
        store.database.dispose()
    print(f"sessions recorded: {args.sessions} (SQLite, WAL, synchronous=FULL)")
    print(
        f"Store, per recorded session (draft + sign), median: {store_ms:.2f} ms "
        f"wall, {store_cpu:.2f} ms CPU"
    )
    print(f"  + argon2id password check at signing (defaults):  {argon_ms:.2f} ms wall")
    print(
        f"bare sqlite3, same rows and commits, median:         {bare_ms:.2f} ms "
        f"wall, {bare_cpu:.2f} ms CPU"
    )
    print(
        f"Store / bare: {store_ms / bare_ms:.1f}x wall, {store_cpu / max(bare_cpu, 1e-6):.1f}x CPU"
    )
    print(
        f"list_patients among {args.patients} patients: median {search_median:.2f} ms, "
        f"max {search_max:.2f} ms"
    )


if __name__ == "__main__":
    main()
