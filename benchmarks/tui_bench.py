"""Benchmarks of the treatment-room app (run on demand; prints figures, asserts nothing).

    python benchmarks/tui_bench.py [--runs N] [--patients 20000] [--sessions 100]

1. First frame: process start to the first painted frame (Textual's Ready event),
   Formulary vs a minimal Textual app, both headless, median of N runs; and process
   start to the sign-in form on screen, ready for typing. Target for both: ≤ 1.25×
   the minimal app's first frame. Then the same in a real terminal (tmux, when it is
   installed): the ``formulary`` command as a user types it, from launch to the
   Username and Password fields visible in the pane, against a minimal Textual app's
   first text visible.
2. Patient search: keystroke to the list showing the new rows, on a database of
   ``--patients`` patients. Target: < 50 ms.
3. Opening a patient with ``--sessions`` sessions: key press to the chart shown.
   Target: < 150 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: Seconds between keystrokes: a fast typist (about 100 words a minute).
TYPING_GAP = 0.12
sys.path.insert(0, str(ROOT))

from tui.frame_rate import use_app_frame_rate  # noqa: E402

# The app as the `formulary` command runs it: tui.cli.main.run sets the frame rate
# before Textual is imported, and so does every benchmark that imports this module.
use_app_frame_rate()

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
from tui.frame_rate import use_app_frame_rate
use_app_frame_rate()
from tui.app import FormularyApp

class Timed(FormularyApp):
    def on_ready(self):
        print(time.time(), flush=True)
        self.set_interval(0.005, self._signin_shown)

    def _signin_shown(self):
        if type(self.screen).__name__ in ("SignInScreen", "FirstRunScreen"):
            print(time.time(), flush=True)
            self.exit()

Timed(sys.argv[1]).run(headless=True, size=(120, 40))
"""


def _timestamps(code: str, *args: str) -> list[float]:
    """Seconds from process start to each timestamp the child prints."""
    start = time.time()
    out = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    return [float(line) - start for line in out.strip().splitlines()]


def compile_checkout() -> None:
    """Write this checkout's bytecode beforehand, as installing the package does.

    The minimal app's Textual is read from the bytecode its installer wrote. Where
    PYTHONDONTWRITEBYTECODE is set (some shells, containers, CI), Formulary's own
    modules would instead be compiled from source at every launch, about 10 ms that no
    installed ``formulary`` spends; the comparison would then be unfair to it.
    """
    import compileall

    for package in ("tui", "db", "formulary"):
        compileall.compile_dir(ROOT / package, quiet=1)
    print("bytecode of this checkout compiled beforehand (as an installed package has it)")


def bench_first_frame(runs: int) -> None:
    """Median time to first frame, minimal app vs Formulary (and to the sign-in form)."""
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "bench.db")
        _timestamps(_FORMULARY, db)  # creates the database; warms the bytecode caches
        _timestamps(_MINIMAL)
        minimal: list[float] = []
        ours: list[float] = []
        form: list[float] = []
        for _ in range(runs):  # interleaved, so that machine load hits both alike
            minimal.append(_timestamps(_MINIMAL)[0])
            frame, signin = _timestamps(_FORMULARY, db)[:2]
            ours.append(frame)
            form.append(signin)
    m, o, f = statistics.median(minimal), statistics.median(ours), statistics.median(form)
    print(
        f"first frame: minimal Textual app {m * 1000:.0f} ms, Formulary {o * 1000:.0f} ms, "
        f"ratio {o / m:.2f} (target <= 1.25), median of {runs}"
    )
    print(
        f"sign-in form on screen (database opened in a worker): {f * 1000:.0f} ms "
        f"({f / m:.2f} x the minimal app's first frame; target <= 1.25)"
    )


_MINIMAL_TERMINAL = """
from textual.app import App
from textual.widgets import Footer, Header, Static

class Minimal(App):
    def compose(self):
        yield Header()
        yield Static("hello")
        yield Footer()

Minimal().run()
"""


#: A tmux server of the benchmark's own (its socket), so no one else's sessions are touched.
_TMUX = ["tmux", "-L", "formulary-bench"]


def _pane_shows(command: list[str], words: tuple[str, ...], env: dict[str, str]) -> float:
    """Seconds from launching ``command`` in a new tmux pane to all ``words`` visible in it."""
    import os
    import shlex

    session = f"bench-{os.getpid()}"
    line = " ".join(shlex.quote(part) for part in command)
    started = time.perf_counter()
    subprocess.run(
        [*_TMUX, "new-session", "-d", "-s", session, "-x", "120", "-y", "40", line],
        check=True,
        env=env,
        cwd=ROOT,
    )
    try:
        while True:
            shown = subprocess.run(
                [*_TMUX, "capture-pane", "-p", "-t", session],
                capture_output=True,
                text=True,
                check=False,
            ).stdout
            if all(word in shown for word in words):
                return time.perf_counter() - started
            if time.perf_counter() - started > 60:
                raise TimeoutError(f"{words} never appeared; the pane shows:\n{shown}")
            time.sleep(0.003)
    finally:
        subprocess.run([*_TMUX, "kill-session", "-t", session], check=False)


def bench_terminal(runs: int) -> None:
    """The ``formulary`` command in tmux: launch to the sign-in form, vs a minimal app."""
    import os
    import shutil

    if shutil.which("tmux") is None:
        print("real terminal: tmux is not installed; skipped")
        return
    # `python -m tui` from this checkout is the `formulary` command of this checkout (the
    # installed script may point at another one).
    launch = [sys.executable, "-m", "tui"]
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "FORMULARY_KEY_DIR": str(Path(tmp) / "keys"),
            "XDG_CONFIG_HOME": str(Path(tmp) / "config"),
            "XDG_STATE_HOME": str(Path(tmp) / "state"),
            "TERM": "xterm-256color",
        }
        db = Path(tmp) / "clinic.db"
        subprocess.run(
            [*launch, "init", "--db", str(db), "--admin", "admin", "--password-stdin"],
            input="admin-password-1\n",
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        minimal_script = Path(tmp) / "minimal.py"
        minimal_script.write_text(_MINIMAL_TERMINAL)
        minimal_cmd = [sys.executable, str(minimal_script)]
        ours_cmd = [*launch, "--db", str(db)]
        # One idle session keeps the server up between runs (it exits with its last one).
        subprocess.run(
            [*_TMUX, "new-session", "-d", "-s", "keep", "sleep 600"], check=True, env=env
        )
        try:
            _pane_shows(minimal_cmd, ("hello",), env)  # warm the caches
            _pane_shows(ours_cmd, ("Username", "Password"), env)
            minimal: list[float] = []
            ours: list[float] = []
            for _ in range(runs):  # interleaved, so that machine load hits both alike
                minimal.append(_pane_shows(minimal_cmd, ("hello",), env))
                ours.append(_pane_shows(ours_cmd, ("Username", "Password"), env))
        finally:
            subprocess.run([*_TMUX, "kill-server"], check=False)
    m, o = statistics.median(minimal), statistics.median(ours)
    ratio = o / m
    print(
        f"real terminal (tmux 120x40): minimal Textual app's first frame {m * 1000:.0f} ms, "
        f"`formulary` sign-in form {o * 1000:.0f} ms, ratio {ratio:.2f} (target <= 1.25: "
        f"{'met' if ratio <= 1.25 else 'NOT met'}), median of {runs}; load average "
        f"{os.getloadavg()[0]:.1f}"
    )


def _build(path: Path, patients: int, sessions: int) -> int:
    """A clinic of ``patients`` patients, one of them with ``sessions`` signed sessions.

    Built through the Store like the app would (slow: minutes for 20,000 patients); the
    file is kept and reused by later runs. Returns the id of the busy patient.
    """
    from datetime import UTC, date, datetime, timedelta
    from decimal import Decimal

    from db.database import open_database
    from db.store import ComponentSpec, LotChoice, PatientFields, SessionDraft, Store, StrengthSpec
    from formulary.records import Role, ScalpZone, Sex, Technique, ZoneVolume
    from formulary.units.amount import Amount

    store = Store(open_database(path))
    admin = store.create_first_admin("admin", "Ada Admin", "admin-password-1")
    store.create_user(admin, "bench", "Dr Bench", Role.PRACTITIONER, "bench-password-1")
    doctor = store.authenticate("bench", "bench-password-1")
    ml = lambda text: Amount(Decimal(text), "mL")  # noqa: E731
    biotin = next(i for i in store.list_ingredients(admin) if i.key == "biotin")
    product = store.create_product(
        admin,
        name="Biotin 5 mg/mL",
        ingredients=[StrengthSpec(biotin.id, Amount(Decimal(5), "mg/mL"))],
        volume_per_unit=ml("2"),
    )
    lot = store.receive_lot(
        admin,
        product_id=product.id,
        lot_number="B-1",
        expiry=date(2035, 1, 1),
        quantity=ml("100000"),
    )
    families = [
        "Martin",
        "Bernard",
        "Dubois",
        "Thomas",
        "Robert",
        "Richard",
        "Petit",
        "Durand",
        "Leroy",
        "Moreau",
        "Simon",
        "Laurent",
        "Lefebvre",
        "Michel",
    ]
    given = ["Claire", "Marc", "Linh", "Pablo", "Ada", "Jean", "Sofia", "Omar", "Ines", "Li"]
    busy = 0
    started = time.perf_counter()
    for n in range(patients):
        pid = store.create_patient(
            doctor,
            PatientFields(
                chart_number=f"C-{n:06d}",
                family_name=f"{families[n % 14]}{n // 140}",
                given_name=given[n % 10],
                date_of_birth=date(1950 + n % 50, 1 + n % 12, 1 + n % 28),
                sex=Sex.FEMALE if n % 2 else Sex.MALE,
            ),
        ).id
        busy = busy or pid
        if n and n % 2000 == 0:
            print(f"  … {n} patients ({time.perf_counter() - started:.0f} s)", flush=True)
    version = store.save_formulation(
        doctor,
        patient_id=busy,
        name="Bench cocktail",
        components=[ComponentSpec("Biotin 5 mg/mL", ml("1"), product_id=product.id)],
        final_volume=ml("1"),
    )
    course = store.start_course(
        doctor,
        patient_id=busy,
        name="Long course",
        planned_sessions=100,
        interval_days=7,
        start_date=date(2020, 1, 1),
    )
    # Signing needs the busy patient's consent, for the course and outside it (the day
    # bench signs sessions without a course): the consent rule, docs/consent.md.
    signer = store.get_patient(doctor, busy)
    for scope in (course.id, None):
        store.sign_consent(doctor, patient_id=busy,
                           template_id=store.consent_templates(doctor)[0].id,
                           typed_name=f"{signer.given_name} {signer.family_name}",
                           password="bench-password-1", course_id=scope)
    for n in range(sessions):
        draft = SessionDraft(
            patient_id=busy,
            formulation_version_id=version.id,
            performed_at=datetime(2020, 1, 1, 10, tzinfo=UTC) + timedelta(days=7 * n),
            course_id=course.id,
            session_number=n + 1,
            technique=Technique.NAPPAGE,
            total_volume=ml("1"),
            zones=(ZoneVolume(ScalpZone.VERTEX, ml("1")),),
            lots=(LotChoice(1, lot.id),),
        )
        saved = store.save_session_draft(doctor, draft)
        store.sign_session(doctor, saved.id, "bench-password-1")
    store.database.dispose()
    return busy


#: Who signs in for the measurements, and the chart opened (the busy patient's).
BENCH_LOGIN = ("bench", "bench-password-1")
BENCH_CHART = "C-000000"


async def _measure_app(
    path: Path | str,
    busy: int,
    rounds: int,
    *,
    login: tuple[str, str] = BENCH_LOGIN,
    chart: str = BENCH_CHART,
) -> tuple[list[float], list[float]]:
    """Keystroke to painted frame, for search keystrokes and for opening the busy chart.

    Keys are delivered the way the terminal driver delivers them (one ``Key`` event per
    key, no Pilot waits in between), and each figure ends at the first frame the screen
    composes after the answer is in the widgets: what the practitioner sees.
    """
    import bisect

    from textual import events
    from textual.widgets import Input, Static

    from tui.app import FormularyApp
    from tui.keymap import Settings
    from tui.screens.patient import PatientScreen
    from tui.widgets.session_table import SessionTable

    app = FormularyApp(path, settings=Settings())
    searches: list[float] = []
    opens: list[float] = []
    frames: list[float] = []
    display = app._display

    def timed_display(screen: object, renderable: object) -> None:
        if renderable is not None:
            frames.append(time.perf_counter())
        display(screen, renderable)  # type: ignore[arg-type]

    app._display = timed_display  # type: ignore[method-assign]

    async with app.run_test(size=(120, 40)) as pilot:

        async def until(condition, limit: float = 10.0) -> None:
            deadline = time.perf_counter() + limit
            while not condition():
                if time.perf_counter() > deadline:
                    raise TimeoutError("the app did not answer in time")
                await asyncio.sleep(0.0005)

        async def key_to_frame(key: str, shown) -> float:
            """Seconds from ``key`` arriving to the first frame painted once ``shown()``."""
            assert app._driver is not None
            before = time.perf_counter()
            app._driver.send_message(events.Key(key, key if len(key) == 1 else None))
            await until(shown)
            ready = time.perf_counter()
            await until(lambda: bool(frames) and frames[-1] > ready)
            return frames[bisect.bisect_right(frames, ready)] - before

        await until(
            lambda: (
                type(app.screen).__name__ == "SignInScreen" and bool(app.screen.query("#username"))
            ),
            120,
        )
        from tests.tui.pilot_helpers import sign_in

        await sign_in(pilot, *login)
        await until(lambda: app.user is not None, 30)
        await app.workers.wait_for_complete()
        await pilot.pause()
        count = app.screen.query_one("#patient-count", Static)
        search = app.screen.query_one("#patient-search", Input)
        for word in ["mar", "martin1", "c-0100", "1975-03", "ber", "dubois5", "zz"] * rounds:
            search.value = ""
            await until(lambda: "in total" in str(count.render()))
            await pilot.pause(TYPING_GAP)
            for i, char in enumerate(word, start=1):
                searches.append(
                    await key_to_frame(
                        char, lambda p=word[:i]: f"matching {p!r}" in str(count.render())
                    )
                )
                await asyncio.sleep(TYPING_GAP)

        def chart_shown() -> bool:
            screen = app.screen
            if not (isinstance(screen, PatientScreen) and screen.chart is not None):
                return False
            tables = screen.query("#overview-sessions").results(SessionTable)
            table = next(tables, None)
            # Rows laid out, not merely added: the frame after this one shows them.
            return (
                table is not None
                and table.row_count > 0
                and table.virtual_size.height > table.row_count
            )

        search.value = chart
        await until(lambda: f"matching {chart!r}" in str(count.render()))
        for _ in range(rounds * 3):
            await pilot.pause(TYPING_GAP)
            opens.append(await key_to_frame("enter", chart_shown))
            await pilot.pause(TYPING_GAP)
            app.pop_screen()
            await until(lambda: type(app.screen).__name__ == "PatientsScreen")
    return searches, opens


def _measure_store(
    path: Path | str, busy: int, rounds: int, *, login: tuple[str, str] = BENCH_LOGIN
) -> tuple[float, float]:
    """The Store's share: the same searches and chart reads without the app."""
    from db.database import open_database
    from db.store import Store

    store = Store(open_database(path))
    actor = store.authenticate(*login)
    searches = []
    for word in ["mar", "martin1", "c-0100", "1975-03", "ber", "dubois5", "zz"] * rounds:
        for i in range(1, len(word) + 1):
            before = time.perf_counter()
            store.list_patients(actor, word[:i], limit=100)
            searches.append(time.perf_counter() - before)
    charts = []
    for _ in range(rounds * 3):
        before = time.perf_counter()
        store.load_chart(actor, busy)
        charts.append(time.perf_counter() - before)
    store.database.dispose()
    return statistics.median(searches), statistics.median(charts)


def bench_data(patients: int, sessions: int, rounds: int, keep: Path | None) -> None:
    """Search keystrokes on a big list; opening a patient with many sessions."""
    import asyncio as _asyncio

    folder = keep or Path(tempfile.mkdtemp())
    path = folder / f"bench-{patients}-{sessions}.db"
    marker = path.with_suffix(".busy")
    if not (path.exists() and marker.exists()):
        path.unlink(missing_ok=True)
        print(f"building {patients} patients and {sessions} sessions through the Store …")
        started = time.perf_counter()
        marker.write_text(str(_build(path, patients, sessions)))
        print(f"  built in {time.perf_counter() - started:.0f} s ({path})")
    busy = int(marker.read_text())
    store_search, store_chart = _measure_store(path, busy, rounds)
    print(
        f"  of which the Store: list_patients median {store_search * 1000:.1f} ms, "
        f"load_chart ({sessions} sessions) median {store_chart * 1000:.1f} ms"
    )
    searches, opens = _asyncio.run(_measure_app(path, busy, rounds))
    print(
        f"search keystroke → list updated ({patients} patients): median "
        f"{statistics.median(searches) * 1000:.1f} ms, 90th percentile "
        f"{_percentile(searches, 90) * 1000:.1f} ms, worst {max(searches) * 1000:.1f} ms "
        f"(target < 50 ms; {len(searches)} keystrokes)"
    )
    print(
        f"open a patient with {sessions} sessions → chart shown: median "
        f"{statistics.median(opens) * 1000:.1f} ms, first of the sign-in "
        f"{opens[0] * 1000:.1f} ms, worst {max(opens) * 1000:.1f} ms "
        f"(target < 150 ms; {len(opens)} opens)"
    )


def _percentile(values: list[float], percent: int) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(percent / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--patients", type=int, default=20_000)
    parser.add_argument("--sessions", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="folder to keep (and reuse) the big database in")
    parser.add_argument("--skip-first-frame", action="store_true")
    parser.add_argument("--first-frame-only", action="store_true")
    args = parser.parse_args()
    if not args.skip_first_frame:
        compile_checkout()
        bench_first_frame(args.runs)
        bench_terminal(args.runs)
    if args.first_frame_only:
        return
    bench_data(args.patients, args.sessions, args.rounds, args.keep)


if __name__ == "__main__":
    main()
