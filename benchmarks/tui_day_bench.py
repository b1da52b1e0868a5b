"""A simulated treatment-room day in one app run (on demand; prints figures, asserts nothing).

    python benchmarks/tui_day_bench.py [--patients 2000] [--opens 1000] [--searches 200]
                                       [--sessions 30] [--keep DIR] [--no-idle-settle]

The app is never restarted: one practitioner signs in, then opens ``--opens`` charts,
types ``--searches`` searches and records ``--sessions`` sessions (through the same
Store the app holds, from a worker thread, as the session screen's worker does), with a
short pause between patients as in a real day. Search keystrokes are timed from the key
arriving to the first frame painted with the answer, as in ``tui_bench.py``.

Target: the 99th-percentile keystroke under 50 ms at the end of the day as at the
start. ``--no-idle-settle`` switches off the app's idle heap settle, to see what it buys.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import gc
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from tui_bench import TYPING_GAP, _build, _percentile  # noqa: E402

#: Words typed into the patient search (prefixes of names, chart numbers, dates).
WORDS = ("mar", "martin1", "c-0100", "1975-03", "ber", "dubois5", "zz", "lef", "simon2")
#: Charts opened between two pauses, and the pause (seconds): a patient leaves, the
#: next one sits down.
OPENS_PER_PATIENT_BREAK = 25
BREAK_SECONDS = 4.0


def _summary(label: str, values: list[float]) -> str:
    return (
        f"{label}: median {statistics.median(values) * 1000:.1f} ms, 90th "
        f"{_percentile(values, 90) * 1000:.1f} ms, 99th {_percentile(values, 99) * 1000:.1f} "
        f"ms, worst {max(values) * 1000:.1f} ms ({len(values)} keystrokes; target 99th < 50 ms)"
    )


async def _day(path: Path, busy: int, args: argparse.Namespace) -> None:
    from datetime import UTC, datetime, timedelta
    from decimal import Decimal

    from textual import events
    from textual.widgets import Input, Static

    from db.store import LotChoice, SessionDraft
    from formulary.records import ScalpZone, Technique, ZoneVolume
    from formulary.units.amount import Amount
    from tests.tui.pilot_helpers import sign_in
    from tui.app import FormularyApp
    from tui.keymap import Settings
    from tui.screens.patient import PatientScreen

    app = FormularyApp(path, settings=Settings(idle_lock_minutes=15))
    if args.no_idle_settle:
        app.heap.threshold = sys.maxsize
    frames: list[float] = []
    display = app._display

    def timed_display(screen: object, renderable: object) -> None:
        if renderable is not None:
            frames.append(time.perf_counter())
        display(screen, renderable)  # type: ignore[arg-type]

    app._display = timed_display  # type: ignore[method-assign]

    async with app.run_test(size=(120, 40)) as pilot:

        async def until(condition: Callable[[], bool], limit: float = 30.0) -> None:
            deadline = time.perf_counter() + limit
            while not condition():
                if time.perf_counter() > deadline:
                    raise TimeoutError("the app did not answer in time")
                await asyncio.sleep(0.0005)

        async def key_to_frame(key: str, shown: Callable[[], bool]) -> float:
            assert app._driver is not None
            before = time.perf_counter()
            app._driver.send_message(events.Key(key, key if len(key) == 1 else None))
            await until(shown)
            ready = time.perf_counter()
            await until(lambda: bool(frames) and frames[-1] > ready)
            return frames[bisect.bisect_right(frames, ready)] - before

        await until(lambda: bool(app.screen.query("#username")), 120)
        await sign_in(pilot, "bench", "bench-password-1")
        await until(lambda: app.user is not None)
        await app.workers.wait_for_complete()
        await pilot.pause(2)
        store = app.store
        doctor = app.user

        def patients_widgets() -> tuple[Static, Input]:
            return (
                app.screen.query_one("#patient-count", Static),
                app.screen.query_one("#patient-search", Input),
            )

        async def type_search(word: str) -> list[float]:
            count, search = patients_widgets()
            search.value = ""
            await until(lambda: "in total" in str(count.render()))
            await pilot.pause(TYPING_GAP)
            timings = []
            for i, char in enumerate(word, start=1):
                timings.append(
                    await key_to_frame(
                        char, lambda p=word[:i]: f"matching {p!r}" in str(count.render())
                    )
                )
                await asyncio.sleep(TYPING_GAP)
            return timings

        async def search_round(searches: int) -> list[float]:
            timings: list[float] = []
            for n in range(searches):
                timings += await type_search(WORDS[n % len(WORDS)])
            return timings

        morning = await search_round(args.window)
        print(_summary("start of the day", morning), flush=True)
        print(f"  morning done; {_heap_note(app)}", flush=True)

        searches_left = args.searches
        sessions_left = args.sessions
        every_search = max(1, args.opens // max(1, args.searches))
        every_session = max(1, args.opens // max(1, args.sessions))
        started = time.perf_counter()
        for n in range(args.opens):
            count, search = patients_widgets()
            if n % every_search == 0 and searches_left:
                await type_search(WORDS[n % len(WORDS)])
                searches_left -= 1
            chart = f"C-{n % args.patients:06d}"
            search.value = chart
            await until(lambda c=chart, w=count: f"matching {c!r}" in str(w.render()))
            await pilot.press("enter")
            await until(
                lambda: isinstance(app.screen, PatientScreen) and app.screen.chart is not None
            )
            await pilot.pause(TYPING_GAP)
            app.pop_screen()
            await until(lambda: type(app.screen).__name__ == "PatientsScreen")
            if n % every_session == 0 and sessions_left:
                sessions_left -= 1
                number = args.sessions - sessions_left
                draft = SessionDraft(
                    patient_id=busy,
                    formulation_version_id=_version_of(store, doctor, busy),
                    performed_at=datetime.now(UTC) - timedelta(minutes=number),
                    technique=Technique.NAPPAGE,
                    total_volume=Amount(Decimal(1), "mL"),
                    zones=(ZoneVolume(ScalpZone.VERTEX, Amount(Decimal(1), "mL")),),
                    lots=(LotChoice(1, _lot_of(store, doctor)),),
                )

                def record(d: Any = draft) -> None:
                    saved = store.save_session_draft(doctor, d)
                    store.sign_session(doctor, saved.id, "bench-password-1", acknowledge=True)

                await asyncio.to_thread(record)
            if n % OPENS_PER_PATIENT_BREAK == OPENS_PER_PATIENT_BREAK - 1:
                await pilot.pause(BREAK_SECONDS)
            if n % 200 == 199:
                print(
                    f"  … {n + 1} charts opened ({time.perf_counter() - started:.0f} s); "
                    f"{_heap_note(app)}",
                    flush=True,
                )
        await pilot.pause(BREAK_SECONDS)
        evening = await search_round(args.window)
    print(_summary("start of the day", morning))
    print(_summary("end of the day  ", evening))
    drift = _percentile(evening, 99) - _percentile(morning, 99)
    print(f"99th-percentile drift over the day: {drift * 1000:+.1f} ms")
    print(
        f"day: {args.opens} charts opened, {args.searches} searches, {args.sessions} sessions "
        f"recorded; {_heap_note(app)}; idle settle {'off' if args.no_idle_settle else 'on'}"
    )


def _heap_note(app: Any) -> str:
    return (
        f"{len(gc.get_objects(generation=2))} unfrozen old objects, "
        f"{gc.get_freeze_count()} frozen, {app.heap.settles} idle settles"
    )


def _version_of(store: Any, actor: Any, patient_id: int) -> int:
    chart = store.load_chart(actor, patient_id)
    return int(chart.formulation_versions[-1].id)


def _lot_of(store: Any, actor: Any) -> int:
    return int(store.list_lots(actor)[0].id)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=2_000)
    parser.add_argument("--opens", type=int, default=1_000)
    parser.add_argument("--searches", type=int, default=200)
    parser.add_argument("--sessions", type=int, default=30)
    parser.add_argument("--window", type=int, default=12, help="searches timed at each end")
    parser.add_argument("--keep", type=Path, help="folder to keep (and reuse) the clinic in")
    parser.add_argument("--no-idle-settle", action="store_true")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp())
    path = folder / f"bench-{args.patients}-10.db"
    marker = path.with_suffix(".busy")
    if not (path.exists() and marker.exists()):
        path.unlink(missing_ok=True)
        print(f"building {args.patients} patients through the Store …", flush=True)
        marker.write_text(str(_build(path, args.patients, 10)))
    asyncio.run(_day(path, int(marker.read_text()), args))


if __name__ == "__main__":
    main()
