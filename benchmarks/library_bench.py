"""How fast the ingredient library loads and answers; target: load < 20 ms.

Run from the repository root:  python benchmarks/library_bench.py
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
t0 = time.perf_counter()
from formulary.library import load_library
t1 = time.perf_counter()
load_library()
t2 = time.perf_counter()
print((t1 - t0) * 1000, (t2 - t1) * 1000)
"""


def fresh_process(runs: int = 7) -> tuple[float, float]:
    """Median import and first-load times (ms) in new interpreters."""
    imports, loads = [], []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", _FRESH_PROCESS],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        imports.append(float(out[0]))
        loads.append(float(out[1]))
    return statistics.median(imports), statistics.median(loads)


def per_call_us(action: Callable[[], object], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        action()
    return (time.perf_counter() - start) / calls * 1e6


def _miss() -> None:
    with contextlib.suppress(LibraryError):
        load_library().find("minoxidyl")


def main() -> int:
    import_ms, first_load_ms = fresh_process()
    reloads = []
    for _ in range(15):
        load_library.cache_clear()
        start = time.perf_counter()
        load_library()
        reloads.append((time.perf_counter() - start) * 1000)
    lib = load_library()
    names = [i.name for i in lib.all()]

    def find_all() -> None:
        for name in names:
            lib.find(name)

    print(f"entries                         {len(lib.all())}")
    print(f"import formulary.library        {import_ms:7.2f} ms  (fresh process, median of 7)")
    print(f"first load_library()            {first_load_ms:7.2f} ms  (fresh process, median of 7)")
    print(f"load_library() again, uncached  {statistics.median(reloads):7.2f} ms  (median of 15)")
    print(f"load_library() cached           {per_call_us(load_library, 10000):7.2f} us")
    print(f"find(name), hit                 {per_call_us(find_all, 200) / len(names):7.2f} us")
    print(f"find(), miss with suggestions   {per_call_us(_miss, 200):7.2f} us")
    print(f"search('vit')                   {per_call_us(lambda: lib.search('vit'), 500):7.2f} us")
    print(f"search('l')                     {per_call_us(lambda: lib.search('l'), 500):7.2f} us")
    ok = first_load_ms < LOAD_TARGET_MS
    verdict = "OK" if ok else "OVER TARGET"
    print(f"target: first load < {LOAD_TARGET_MS:g} ms -> {verdict}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
