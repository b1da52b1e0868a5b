"""How fast the ingredient library loads and answers; target: first load < 20 ms.

Run from the repository root:  python benchmarks/library_bench.py

Figures are given as wall time and as CPU time of this process: on a shared,
busy machine the wall time mostly measures waiting for a core, so the verdict uses
CPU time (the cost the library itself adds).
"""

from __future__ import annotations

import contextlib
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from formulary.library import LibraryError, load_library  # noqa: E402

LOAD_TARGET_MS = 20.0

_FRESH_PROCESS = """
import time
w0, c0 = time.perf_counter(), time.process_time()
from formulary.library import load_library
w1, c1 = time.perf_counter(), time.process_time()
load_library()
w2, c2 = time.perf_counter(), time.process_time()
print((w1 - w0) * 1000, (c1 - c0) * 1000, (w2 - w1) * 1000, (c2 - c1) * 1000)
"""


def fresh_process(runs: int = 7) -> list[float]:
    """Medians (ms) in new interpreters: import wall, import CPU, load wall, load CPU."""
    samples: list[list[float]] = [[], [], [], []]
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", _FRESH_PROCESS],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        for column, value in zip(samples, out, strict=True):
            column.append(float(value))
    return [statistics.median(column) for column in samples]


def per_call_us(action: Callable[[], object], calls: int) -> tuple[float, float]:
    """Wall and CPU microseconds per call."""
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(calls):
        action()
    return (
        (time.perf_counter() - wall) / calls * 1e6,
        (time.process_time() - cpu) / calls * 1e6,
    )


def _miss() -> None:
    with contextlib.suppress(LibraryError):
        load_library().find("minoxidyl")


def _reload() -> None:
    load_library.cache_clear()
    load_library()


def main() -> int:
    import_wall, import_cpu, load_wall, load_cpu = fresh_process()
    reload_wall, reload_cpu = per_call_us(_reload, 15)
    lib = load_library()
    names = [i.name for i in lib.all()]

    def find_all() -> None:
        for name in names:
            lib.find(name)

    def show(label: str, wall: float, cpu: float, unit: str) -> None:
        print(f"{label:<34}{wall:10.2f} {unit} wall {cpu:10.2f} {unit} CPU")

    print(f"entries: {len(lib.all())}")
    show("import formulary.library (fresh)", import_wall, import_cpu, "ms")
    show("first load_library() (fresh)", load_wall, load_cpu, "ms")
    show("load_library() uncached, warm", reload_wall / 1000, reload_cpu / 1000, "ms")
    show("load_library() cached", *per_call_us(load_library, 10000), "us")
    hit_wall, hit_cpu = per_call_us(find_all, 200)
    show("find(name), hit", hit_wall / len(names), hit_cpu / len(names), "us")
    show("find(), miss with suggestions", *per_call_us(_miss, 200), "us")
    show("search('vit')", *per_call_us(lambda: lib.search("vit"), 500), "us")
    show("search('l')", *per_call_us(lambda: lib.search("l"), 500), "us")
    ok = load_cpu < LOAD_TARGET_MS
    verdict = "OK" if ok else "OVER TARGET"
    print(f"target: first load < {LOAD_TARGET_MS:g} ms CPU -> {verdict}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
