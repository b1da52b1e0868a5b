"""Benchmarks of the treatment-room app (run on demand; prints figures, asserts nothing).

    python benchmarks/tui_bench.py [--runs N] [--patients 20000] [--sessions 100]

1. First frame: process start to the first painted frame (Textual's Ready event),
   Formulary vs a minimal Textual app, both headless, median of N runs. Target: ≤ 1.25×.
2. Patient search: keystroke to the list showing the new rows, on a database of
   ``--patients`` patients. Target: < 50 ms.
3. Opening a patient with ``--sessions`` sessions: key press to the chart shown.
   Target: < 150 ms.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_MINIMAL = """
import sys, time
from textual.app import App
from textual.widgets import Footer, Header, Static

class Minimal(App):
    def compose(self):
        yield Header()
        yield Static("hello")
        yield Footer()
    def on_ready(self):
        print(time.time(), flush=True)
        self.exit()

Minimal().run(headless=True, size=(120, 40))
"""

_FORMULARY = """
import sys, time
from tui.app import FormularyApp

class Timed(FormularyApp):
    def on_ready(self):
        print(time.time(), flush=True)
        self.exit()

Timed(sys.argv[1]).run(headless=True, size=(120, 40))
"""


def _first_frame(code: str, *args: str) -> float:
    start = time.time()
    out = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    return float(out.strip().splitlines()[0]) - start


def bench_first_frame(runs: int) -> None:
    """Median time to first frame, minimal app vs Formulary."""
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "bench.db")
        _first_frame(_FORMULARY, db)  # warm the bytecode caches of both
        _first_frame(_MINIMAL)
        minimal = [_first_frame(_MINIMAL) for _ in range(runs)]
        ours = [_first_frame(_FORMULARY, db) for _ in range(runs)]
    m, o = statistics.median(minimal), statistics.median(ours)
    print(
        f"first frame: minimal Textual app {m * 1000:.0f} ms, Formulary {o * 1000:.0f} ms, "
        f"ratio {o / m:.2f} (target <= 1.25), median of {runs}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--patients", type=int, default=20_000)
    parser.add_argument("--sessions", type=int, default=100)
    args = parser.parse_args()
    bench_first_frame(args.runs)


if __name__ == "__main__":
    main()
