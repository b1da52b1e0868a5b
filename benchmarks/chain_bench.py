"""A chain's shared PostgreSQL server (run on demand; prints figures beside targets).

    python benchmarks/chain_bench.py [--url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
                                     [--patients 200000] [--database NAME] [--rounds 3]
                                     [--rebuild] [--drop]

1. Builds the synthetic clinic of ``--patients`` patients in its own database on the
   server (``--database``, default ``formulary_chain_<N>``; kept and reused, ``--rebuild``
   starts afresh, ``--drop`` drops it at the end), with the bulk path (COPY). Target:
   200,000 patients in under 10 minutes. Prints wall time and CPU time: this process,
   its row-building workers and the PostgreSQL backends that served the build.
2. The reads a list and a chart make, straight from the Store: the patient search per
   keystroke, the course progress of a page of 100 patients, a chart. Also the plan
   PostgreSQL chooses for a search word (the pg_trgm index, not a scan).
3. The app on that database (as ``tui_bench.py`` measures it): search keystroke to the
   painted list, target 90th percentile < 50 ms; opening a chart, target < 150 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from tui_bench import _measure_app, _percentile  # noqa: E402

#: Any database on the server: only used to create (and drop) the benchmark's own.
DEFAULT_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
WORDS = ("mar", "martin", "sy-0100", "1975-03", "ber", "nguyen", "zz")


def _database_url(server: str, name: str, rebuild: bool) -> tuple[str, bool]:
    """The benchmark database's URL on ``server``, and whether it must be built."""
    import sqlalchemy as sa

    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            exists = connection.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
            ).first()
            if exists and rebuild:
                connection.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
                exists = None
            if not exists:
                connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    finally:
        admin.dispose()
    url = sa.make_url(server).set(database=name).render_as_string(hide_password=False)
    return url, not exists


def _drop(server: str, name: str) -> None:
    import sqlalchemy as sa

    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()
    print(f"dropped database {name}")


def _backend_cpu(database: object) -> float:
    """CPU seconds of the server processes serving ``database``'s pooled connections.

    Read from /proc, so only for a server on this machine (0 otherwise); the server's
    background processes (WAL writer, checkpointer, autovacuum) are not counted.
    """
    import sqlalchemy as sa

    engine = database.engine  # type: ignore[attr-defined]
    with engine.connect() as connection:
        pids = [
            row[0]
            for row in connection.execute(
                sa.text(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                    "AND backend_type = 'client backend'"
                )
            )
        ]
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


def build(url: str, patients: int) -> None:
    """The synthetic clinic through the bulk path, timed (wall and CPU)."""
    import resource

    from db.database import open_database
    from db.ops.demo_scale import build_synthetic_clinic

    def children_cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime

    started = time.perf_counter()
    cpu, workers_cpu = time.process_time(), children_cpu()
    load = os.getloadavg()[0]
    database = open_database(url)
    last = [started]

    def say(message: str) -> None:
        if time.perf_counter() - last[0] > 15:
            last[0] = time.perf_counter()
            print(f"  … {message} ({last[0] - started:.0f} s)", flush=True)

    report = build_synthetic_clinic(database, patients, progress=say)
    took = time.perf_counter() - started
    cpu, workers_cpu = time.process_time() - cpu, children_cpu() - workers_cpu
    server_cpu = _backend_cpu(database)
    database.dispose()
    verdict = "met" if took < 600 else "NOT met"
    print(
        f"built {patients} patients, {report.counts['signed_sessions']} signed sessions, "
        f"{report.audit_entries} audit entries in {took / 60:.1f} min wall "
        f"(target for 200,000 patients: < 10 min: {verdict}); CPU {cpu:.0f} s in this "
        f"process, {workers_cpu:.0f} s in the row-building workers, {server_cpu:.0f} s in "
        f"the PostgreSQL backends; load average {load:.1f} at the start, "
        f"{os.getloadavg()[0]:.1f} at the end, {os.cpu_count()} cores"
    )


def store_reads(url: str, rounds: int) -> tuple[int, str]:
    """Median Store times for a search keystroke, a page's summaries and a chart."""
    import sqlalchemy as sa

    from db.database import open_database
    from db.ops.demo_data import USERS
    from db.store import Store
    from db.store.patient_search import postgresql_query

    database = open_database(url)
    store = Store(database)
    doctor = next(u for u in USERS if u.role.value == "practitioner")
    actor = store.authenticate(doctor.username, doctor.password)
    searches: list[float] = []
    summaries: list[float] = []
    for word in WORDS * rounds:
        for i in range(1, len(word) + 1):
            before = time.perf_counter()
            page = store.list_patients(actor, word[:i], limit=100)
            searches.append(time.perf_counter() - before)
            before = time.perf_counter()
            store.patient_summaries(actor, page)
            summaries.append(time.perf_counter() - before)
    first = store.list_patients(actor, "sy-000001", limit=1)[0]
    charts = []
    for _ in range(rounds * 3):
        before = time.perf_counter()
        store.load_chart(actor, first.id)
        charts.append(time.perf_counter() - before)
    with database.engine.connect() as connection:
        plan = "\n".join(
            row[0]
            for row in connection.execute(
                sa.text("EXPLAIN SELECT id FROM patient WHERE search_key LIKE '%martin%'")
            )
        )
        # A word with no three letters in a row, after its probe: the bigram index.
        compiled = postgresql_query(["zz"], 100, 0, walk=False).compile(database.engine)
        bigram_plan = "\n".join(
            row[0] for row in connection.exec_driver_sql(f"EXPLAIN {compiled}", compiled.params)
        )
    database.dispose()
    print(
        f"Store: search median {statistics.median(searches) * 1000:.1f} ms, 90th "
        f"{_percentile(searches, 90) * 1000:.1f} ms; course progress of a 100-patient page "
        f"median {statistics.median(summaries) * 1000:.1f} ms; chart median "
        f"{statistics.median(charts) * 1000:.1f} ms"
    )
    uses_index = "ix_patient_search_trgm" in plan
    print(f"search plan uses the trigram index: {'yes' if uses_index else 'NO'}")
    uses_bigrams = "ix_patient_search_bigrams" in bigram_plan
    print(f"'zz' (no trigram) uses the bigram index: {'yes' if uses_bigrams else 'NO'}")
    return first.id, first.chart_number


def app_reads(url: str, patient_id: int, chart: str, rounds: int) -> None:
    """Keystroke and chart-open figures of the app on the chain's database."""
    from db.ops.demo_data import USERS

    doctor = next(u for u in USERS if u.role.value == "practitioner")
    searches, opens = asyncio.run(
        _measure_app(url, patient_id, rounds, login=(doctor.username, doctor.password), chart=chart)
    )
    print(
        f"app: search keystroke median {statistics.median(searches) * 1000:.1f} ms, 90th "
        f"percentile {_percentile(searches, 90) * 1000:.1f} ms (target < 50 ms; "
        f"{len(searches)} keystrokes)"
    )
    print(
        f"app: open a chart median {statistics.median(opens) * 1000:.1f} ms, worst "
        f"{max(opens) * 1000:.1f} ms (target < 150 ms; {len(opens)} opens)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=DEFAULT_SERVER, help="a database on the server")
    parser.add_argument("--patients", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database", help="the benchmark's database (default formulary_chain_N)")
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--drop", action="store_true", help="drop the database at the end")
    parser.add_argument("--build-only", action="store_true")
    args = parser.parse_args()
    # The checkpoint keys of benchmark clinics stay out of the user's key folder.
    os.environ.setdefault(
        "FORMULARY_KEY_DIR", str(Path(tempfile.gettempdir()) / "chain-bench-keys")
    )
    name = args.database or f"formulary_chain_{args.patients}"
    url, fresh = _database_url(args.url, name, args.rebuild)
    try:
        if fresh:
            print(f"building the synthetic clinic of {args.patients} patients on PostgreSQL …")
            build(url, args.patients)
        if not args.build_only:
            patient_id, chart = store_reads(url, args.rounds)
            app_reads(url, patient_id, chart, args.rounds)
    finally:
        if args.drop:
            _drop(args.url, name)


if __name__ == "__main__":
    main()
