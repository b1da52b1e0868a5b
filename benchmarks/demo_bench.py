"""How long `formulary init --demo` takes: the 12-patient demo and the synthetic clinic.

    /work/venv/bin/python benchmarks/demo_bench.py                 # 20,000 patients
    /work/venv/bin/python benchmarks/demo_bench.py --patients 2000 --demo

Targets: ``formulary init --demo`` (the 12-patient demo, every signature and checkpoint
real) in under 3 s, median of 3 runs of the whole command after one untimed run that
compiles the bytecode, as installing does (``--demo``; ``--patients 0`` times only that);
20,000 patients with about ten sessions each in under two minutes on SQLite. Prints the
build time, rows and audit entries per second, the time ``formulary audit verify`` needs
to recompute the chain, and the file size. Runs in a temporary directory (database and
checkpoint keys) and removes it.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _children_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _demo_command(folder: Path, runs: int = 3) -> None:
    """`formulary init --demo` as a newcomer runs it: the whole command, median of ``runs``."""
    import statistics
    import subprocess

    root = Path(__file__).resolve().parent.parent
    # A newcomer runs the installed command, whose modules pip compiled to bytecode when
    # it installed them. Run from the source tree, compile them the same way (into a
    # folder of this run's, whatever PYTHONDONTWRITEBYTECODE says): one untimed run first.
    base = {key: value for key, value in os.environ.items()
            if key != "PYTHONDONTWRITEBYTECODE"}
    base["PYTHONPYCACHEPREFIX"] = str(folder / "bytecode")
    subprocess.run(
        [sys.executable, "-m", "tui", "init", "--demo", "--db", str(folder / "warm-up.db")],
        cwd=root, env={**base, "FORMULARY_KEY_DIR": str(folder / "warm-up-keys")},
        check=True, capture_output=True, text=True,
    )
    walls: list[float] = []
    cpus: list[float] = []
    for n in range(runs):
        env = {**base, "FORMULARY_KEY_DIR": str(folder / f"demo-keys-{n}")}
        before_cpu = _children_cpu()
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "tui", "init", "--demo", "--db", str(folder / f"demo-{n}.db")],
            cwd=root, env=env, check=True, capture_output=True, text=True,
        )
        walls.append(time.perf_counter() - started)
        cpus.append(_children_cpu() - before_cpu)
    wall, cpu = statistics.median(walls), statistics.median(cpus)
    print(f"formulary init --demo (12 patients, 60 signed sessions, each checkpointed): "
          f"median {wall:.2f} s wall of {runs} ({', '.join(f'{w:.2f}' for w in walls)}), "
          f"{cpu:.2f} CPU-s -> target < 3 s: {'met' if wall < 3 else 'NOT met'}; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=20_000)
    parser.add_argument("--demo", action="store_true", help="also time the 12-patient demo")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["FORMULARY_KEY_DIR"] = str(Path(tmp) / "keys")
        from db.audit.verify import verify_chain
        from db.database import open_database

        if args.demo:
            _demo_command(Path(tmp))
        if args.patients <= 0:
            return

        from db.ops.demo_scale import build_synthetic_clinic

        path = Path(tmp) / "synthetic.db"
        database = open_database(path)
        cpu = time.process_time()
        children = _children_cpu()
        report = build_synthetic_clinic(database, args.patients)
        cpu = time.process_time() - cpu
        children = _children_cpu() - children
        sessions = report.counts["signed_sessions"]
        print(f"synthetic clinic: {report.counts['patients']} patients, {sessions} signed "
              f"sessions, {report.audit_entries} audit entries")
        print(f"  built in {report.seconds:.1f} s wall ({cpu:.1f} s CPU in this process, "
              f"{children:.1f} s in row-building workers): "
              f"{sessions / report.seconds:,.0f} sessions/s, "
              f"{report.audit_entries / report.seconds:,.0f} audit entries/s"
              f" -> target < 120 s: {'met' if report.seconds < 120 else 'NOT met'}")
        started = time.perf_counter()
        with database.engine.connect() as connection:
            verdict = verify_chain(connection, database.db_id)
        print(f"  audit chain recomputed in {time.perf_counter() - started:.1f} s: "
              f"{verdict.status}, {verdict.rows} entries")
        database.dispose()
        print(f"  database file: {path.stat().st_size / 1e6:.0f} MB")
        print(f"  load average now: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
