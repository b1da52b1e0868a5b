"""Export speed: one patient's PDF chart note with 50 sessions (target under 0.5 s).

Run from the repository root:  python benchmarks/export_bench.py [--sessions 50] [--runs 7]

Prints the first render in a fresh process (fpdf2, fonts and matplotlib imported on
the way) and the median of warm renders, wall and CPU seconds; the target is judged
on the warm median. Also prints the CSV and FHIR renderers for the same chart.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from formulary.export.csv_export import render_csv
from formulary.export.fhir_bundle import render_fhir
from formulary.export.pdf_note import render_pdf
from tests.export.fixtures import build_chart

PDF_TARGET_S = 0.5


def timed(fn: Callable[[], object]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    chart = build_chart(sessions=args.sessions, outcomes=8)

    first_wall, first_cpu = timed(lambda: render_pdf(chart))
    warm = [timed(lambda: render_pdf(chart)) for _ in range(args.runs)]
    wall = statistics.median(w for w, _ in warm)
    cpu = statistics.median(c for _, c in warm)
    size = len(render_pdf(chart))
    verdict = "meets" if wall < PDF_TARGET_S else "MISSES"
    print(f"pdf, {args.sessions} sessions, {size / 1024:.0f} KiB")
    print(f"  first render (imports included): {first_wall:.3f} s wall, {first_cpu:.3f} s cpu")
    print(f"  warm median of {args.runs}:        {wall:.3f} s wall, {cpu:.3f} s cpu"
          f"  -> {verdict} the {PDF_TARGET_S} s target")
    for name, render in (("csv", render_csv), ("fhir", render_fhir)):
        render(chart)
        runs = [timed(lambda r=render: r(chart)) for _ in range(args.runs)]  # type: ignore[misc]
        print(f"{name}, {args.sessions} sessions: warm median "
              f"{statistics.median(w for w, _ in runs):.3f} s wall, "
              f"{statistics.median(c for _, c in runs):.3f} s cpu")


if __name__ == "__main__":
    main()
