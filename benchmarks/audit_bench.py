"""Audit chain figures: seconds to verify a chain of 1,000,000 entries, µs per append.

    python benchmarks/audit_bench.py                      # SQLite, 1,000,000 rows
    python benchmarks/audit_bench.py --rows 100000
    python benchmarks/audit_bench.py --pg postgresql+psycopg://postgres@127.0.0.1:5432/test
    python benchmarks/audit_bench.py --clinic 2000       # verify with the table replay

With ``--clinic N`` a synthetic clinic of N patients is built (as ``init --demo
--patients N`` does) and three things are timed on it: the chain alone, the chain
with the table replay and the signature recomputation (what ``audit verify`` runs),
and the ratio of the two, printed beside the target (at most 3x the chain-only
time).

The chain is generated fast (hashes precomputed by ``chain_rows``, rows bulk-inserted
in batches) and only verification is timed. Appends are timed twice: inside one open
transaction (the cost the Store adds to each write) and one transaction per append
(including the commit, which on SQLite with synchronous=FULL is an fsync). On
PostgreSQL a uniquely named database is created on the server and dropped afterwards.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa
from sqlmodel import Session

from db.audit.chain import append_event, build_entry, chain_rows, read_head
from db.audit.verify import verify_chain
from db.database import Database, open_database
from db.engine import READ_ONLY
from db.tables.audit import AuditEvent

BATCH = 20_000


def entries(count: int) -> Iterator[dict[str, Any]]:
    """Realistic entries: a signed session's before/after images, varying per row."""
    template = build_entry(
        user="dr.ada", workstation="room-1", action="session.sign", entity="session",
        entity_id=1, before={"status": "draft", "total_volume": {"unit": "mL", "value": "4"}},
        after={"status": "signed", "total_volume": {"unit": "mL", "value": "4"}},
        reason=None,
    )
    for n in range(count):
        entry = dict(template)
        entry["entity_id"] = str(n)
        entry["ts_utc"] = f"2026-{1 + n % 12:02d}-{1 + n % 28:02d}T10:00:00.{n % 1_000_000:06d}Z"
        entry["after"] = f'{{"n":{n},"status":"signed","total_volume":{{"unit":"mL","value":"4"}}}}'
        yield entry


def fill(database: Database, count: int) -> float:
    """Bulk-insert a correct chain of ``count`` entries; returns seconds taken."""
    started = time.perf_counter()
    table = AuditEvent.__table__  # type: ignore[attr-defined]
    with database.engine.begin() as conn:
        seq, head = read_head(conn)
        rows = chain_rows(database.db_id, entries(count), start_seq=seq + 1, prev_hash=head)
        while batch := list(itertools.islice(rows, BATCH)):
            conn.execute(table.insert(), batch)
    return time.perf_counter() - started


def time_verify(database: Database, count: int) -> tuple[float, float]:
    """Wall-clock and CPU seconds of one full verification."""
    reader = database.engine.execution_options(**{READ_ONLY: True})
    with reader.connect() as conn:
        started, cpu = time.perf_counter(), time.process_time()
        report = verify_chain(conn, database.db_id)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    if not report.ok or report.rows != count:
        raise SystemExit(f"verification did not pass: {report.summary()}")
    return elapsed, cpu


def time_appends(database: Database, count: int) -> tuple[float, float, float]:
    """µs per append inside one transaction (wall, CPU), and µs per append+commit."""
    def one(session: Session, n: int) -> None:
        append_event(
            session, db_id=database.db_id, user="dr.ada", workstation="room-1",
            action="patient.update", entity="patient", entity_id=n,
            before={"grade": "III"}, after={"grade": "IV"}, reason="re-staged",
        )

    with Session(database.engine) as session:
        started, cpu = time.perf_counter(), time.process_time()
        for n in range(count):
            one(session, n)
        in_tx = (time.perf_counter() - started) / count * 1e6
        in_tx_cpu = (time.process_time() - cpu) / count * 1e6
        session.commit()
    commits = max(1, count // 4)
    started = time.perf_counter()
    for n in range(commits):
        with Session(database.engine) as session:
            one(session, n)
            session.commit()
    per_commit = (time.perf_counter() - started) / commits * 1e6
    return in_tx, in_tx_cpu, per_commit


def _no_seed(_conn: sa.Connection, _db_id: str) -> None:
    """Leave the new database empty: the chain measured is the synthetic one only."""


def run(database: Database, rows: int, appends: int) -> None:
    print(f"engine: {database.dialect}")
    print(f"generated and inserted {rows:,} chained entries in {fill(database, rows):.1f} s")
    wall, cpu = time_verify(database, rows)
    # CPU seconds of this process: on a shared machine the wall clock includes waiting.
    print(f"verify {rows:,} entries: {wall:.2f} s wall clock ({cpu:.2f} s CPU in this process)")
    in_tx, in_tx_cpu, per_commit = time_appends(database, appends)
    print(
        f"append_event inside an open transaction: {in_tx:.0f} µs per append wall clock "
        f"({in_tx_cpu:.0f} µs CPU in this process; {appends:,} appends)"
    )
    print(f"append_event + commit, one transaction each: {per_commit:.0f} µs per append")


#: Verification with the table replay and signatures may take this many times the chain.
RECORDS_TARGET_RATIO = 3.0


def _timed_chain(database: Database, replay: Any | None) -> tuple[float, float, Any]:
    reader = database.engine.execution_options(**{READ_ONLY: True})
    with reader.connect() as conn:
        started, cpu = time.perf_counter(), time.process_time()
        chain = verify_chain(
            conn, database.db_id, on_batch=None if replay is None else replay.feed
        )
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        conn.rollback()
    if not chain.ok:
        raise SystemExit(f"the chain did not verify: {chain.summary()}")
    return wall, cpu, chain


def run_clinic(database: Database, patients: int, *, build: bool = True, repeat: int = 3) -> None:
    """Time verification of a synthetic clinic: chain only, then with tables and signatures.

    The full verification is what ``audit verify`` runs: one walk of the chain that
    also feeds the replay of the after-images, then every audited table compared and
    every signature recomputed. Each is run ``repeat`` times and the fastest kept
    (the machine is shared; the fastest run is the least disturbed one).
    """
    from db.audit.replay import Replay, replay_tables
    from db.audit.signatures import SignatureCheck
    from db.ops.demo_scale import build_synthetic_clinic

    print(f"engine: {database.dialect}")
    if build:
        report = build_synthetic_clinic(database, patients)
        print(f"synthetic clinic of {patients:,} patients built in {report.seconds:.1f} s: "
              + ", ".join(f"{n:,} {k.replace('_', ' ')}" for k, n in report.counts.items()))
    with database.engine.connect() as conn:
        entries = int(conn.execute(sa.text("SELECT count(*) FROM audit_event")).scalar() or 0)
        people = int(conn.execute(sa.text("SELECT count(*) FROM patient")).scalar() or 0)
    print(f"{people:,} patients, {entries:,} audit entries")
    chain_runs: list[tuple[float, float]] = []
    full_runs: list[tuple[float, float]] = []
    rows = signed = 0
    for _ in range(repeat):
        wall, cpu, _chain = _timed_chain(database, None)
        chain_runs.append((wall, cpu))
        replay = Replay()
        wall, cpu, _chain = _timed_chain(database, replay)
        reader = database.engine.execution_options(**{READ_ONLY: True})
        with reader.connect() as conn:
            started, cpu0 = time.perf_counter(), time.process_time()
            check = SignatureCheck(conn)
            tables = replay_tables(conn, replay=replay, signatures=check)
            signatures = check.finish()
            wall += time.perf_counter() - started
            cpu += time.process_time() - cpu0
            conn.rollback()
        if not (tables.ok and signatures.ok):
            raise SystemExit(
                f"records did not verify: {tables.problems[:3]} {signatures.problems[:3]}"
            )
        rows, signed = tables.rows_checked, signatures.sessions_checked
        full_runs.append((wall, cpu))
    chain_wall, chain_cpu = min(chain_runs, key=lambda r: r[1])
    full_wall, full_cpu = min(full_runs, key=lambda r: r[1])
    print(f"chain only: {chain_wall:.2f} s wall ({chain_cpu:.2f} s CPU)")
    print(f"full verify (chain + replay of {rows:,} table rows + {signed:,} signatures): "
          f"{full_wall:.2f} s wall ({full_cpu:.2f} s CPU)")
    ratio = full_cpu / chain_cpu if chain_cpu else float("inf")
    wall_ratio = full_wall / chain_wall if chain_wall else float("inf")
    print(f"full verify = {ratio:.2f}x the chain-only CPU time ({wall_ratio:.2f}x wall); "
          f"target <= {RECORDS_TARGET_RATIO:.0f}x: "
          + ("met" if ratio <= RECORDS_TARGET_RATIO else "NOT met"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--appends", type=int, default=2_000)
    parser.add_argument("--pg", help="PostgreSQL server URL; a scratch database is made there")
    parser.add_argument("--clinic", type=int, metavar="N",
                        help="verify a synthetic clinic of N patients, chain vs. full verify")
    parser.add_argument("--keep", type=Path, metavar="FILE",
                        help="with --clinic: build the clinic in FILE, or reuse FILE if it "
                        "exists (a 20,000-patient clinic takes minutes to build)")
    args = parser.parse_args()
    if args.clinic is not None and args.keep is not None:
        build = not args.keep.exists()
        database = open_database(str(args.keep))
        try:
            run_clinic(database, args.clinic, build=build)
        finally:
            database.dispose()
        return
    if args.clinic is not None:
        with tempfile.TemporaryDirectory() as scratch:
            database = open_database(str(Path(scratch) / "clinic.db"))
            try:
                run_clinic(database, args.clinic)
            finally:
                database.dispose()
        return
    if args.pg is None:
        with tempfile.TemporaryDirectory() as scratch:
            database = open_database(str(Path(scratch) / "bench.db"), seed=_no_seed)
            try:
                run(database, args.rows, args.appends)
            finally:
                database.dispose()
        return
    name = f"formulary_audit_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(args.pg, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        url = sa.make_url(args.pg).set(database=name).render_as_string(hide_password=False)
        database = open_database(url, seed=_no_seed)
        try:
            run(database, args.rows, args.appends)
        finally:
            database.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
