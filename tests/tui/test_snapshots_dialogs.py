"""SVG snapshots of every dialog (and the screens not in test_snapshots.py) at 120×40.

Each test opens its dialog the way a user does, on the demo clinic, and checks that the
dialog is the screen on top before the picture is taken. Update after a deliberate
change with ``pytest tests/tui/test_snapshots_dialogs.py --snapshot-update`` and look at
the SVGs before committing them. tests/tui/test_snapshot_coverage.py lists which
snapshot shows which screen class.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import DataTable, Input

from tests.tui.demo_data import ADMIN, BUILT_AT, PRACTITIONER, Demo
from tests.tui.fixture_types import MakeApp, SnapCompare, formulary_app
from tests.tui.pilot_helpers import screen_text, settle, sign_in, until
from tui.screens.addendum import AddendumScreen
from tui.screens.compare_versions import CompareVersionsScreen
from tui.screens.confirm import ConfirmScreen
from tui.screens.correct_lot import CorrectLotScreen
from tui.screens.course_form import CourseFormScreen
from tui.screens.export import ExportScreen
from tui.screens.first_run import FirstRunScreen
from tui.screens.formulation_editor import FormulationEditorScreen
from tui.screens.help import HelpScreen
from tui.screens.outcome_form import OutcomeFormScreen
from tui.screens.patient import PatientScreen
from tui.screens.patient_form import PatientFormScreen
from tui.screens.recall import RecallScreen
from tui.screens.receive_lot import ReceiveLotScreen
from tui.screens.recovery_code import RecoveryCodeScreen
from tui.screens.retired_patients import RetiredPatientsScreen
from tui.screens.session import SessionScreen
from tui.screens.sign_session import SignSessionScreen
from tui.screens.stock import StockScreen

SIZE = (120, 40)


@pytest.fixture(autouse=True)
def fixed_times(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Local times in UTC, and what the Store writes during a test stamped at a fixed
    moment: the pictures must not depend on the day or the workstation's zone."""
    import db.store.clock as clock

    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    monkeypatch.setattr(clock, "now", lambda: BUILT_AT)
    yield
    monkeypatch.undo()
    time.tzset()


async def _on_top(pilot: Pilot[None], kind: type[Screen[Any]]) -> Screen[Any]:
    """Wait until a ``kind`` screen is on top and every worker is done; nothing focused
    (a blinking cursor would make the picture depend on timing) and no notification."""
    await until(pilot, lambda: isinstance(pilot.app.screen, kind))
    await settle(pilot)
    pilot.app.clear_notifications()  # they time out: the picture would depend on timing
    screen = pilot.app.screen
    screen.set_focus(None)
    await pilot.pause()
    return screen


async def _chart(pilot: Pilot[None], patient_id: int) -> None:
    """Sign in as the practitioner and open a chart, laid out."""
    await sign_in(pilot)
    formulary_app(pilot).open_patient(patient_id)
    await until(pilot, lambda: isinstance(pilot.app.screen, PatientScreen))
    await settle(pilot)


async def _stock(pilot: Pilot[None]) -> StockScreen:
    """Sign in as the administrator and open the stock screen on the lots tab."""
    await sign_in(pilot, ADMIN[0], ADMIN[2])
    await pilot.press("f5")
    await until(pilot, lambda: isinstance(pilot.app.screen, StockScreen))
    screen = pilot.app.screen
    assert isinstance(screen, StockScreen)
    await until(pilot, lambda: screen.query_one("#lots", DataTable).row_count > 0)
    return screen


async def _highlight_lot(pilot: Pilot[None], screen: StockScreen, lot_number: str) -> None:
    table = screen.query_one("#lots", DataTable)
    table.focus()
    numbers = [str(table.get_row_at(i)[1]) for i in range(table.row_count)]
    table.move_cursor(row=numbers.index(lot_number))
    await pilot.pause()


def test_first_run(snap_compare: SnapCompare, tmp_path: Path, make_app: MakeApp) -> None:
    async def ready(pilot: Pilot[None]) -> None:
        await _on_top(pilot, FirstRunScreen)

    assert snap_compare(make_app(tmp_path / "new.db"), terminal_size=SIZE, run_before=ready)


def test_recovery_code(
    snap_compare: SnapCompare, tmp_path: Path, make_app: MakeApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    import db.store.recovery as recovery

    monkeypatch.setattr(recovery, "new_code", lambda: "ABCDE-FGHIJ-KLMNO-PQRST-UVWXY")

    async def ready(pilot: Pilot[None]) -> None:
        await _on_top(pilot, FirstRunScreen)
        screen = pilot.app.screen
        for field, value in (
            ("#new-username", "boss"),
            ("#new-full-name", "Dr Boss"),
            ("#new-password", "a-long-password"),
            ("#new-password-again", "a-long-password"),
        ):
            screen.query_one(field, Input).value = value
        await pilot.pause(0.3)
        await pilot.click("#create-admin")
        await _on_top(pilot, RecoveryCodeScreen)

    assert snap_compare(make_app(tmp_path / "new.db"), terminal_size=SIZE, run_before=ready)


def test_help(snap_compare: SnapCompare, demo: Demo, make_app: MakeApp) -> None:
    async def ready(pilot: Pilot[None]) -> None:
        await sign_in(pilot)
        await pilot.press("f1")
        await _on_top(pilot, HelpScreen)

    assert snap_compare(make_app(demo.path), terminal_size=SIZE, run_before=ready)


def test_patient_form(snap_compare: SnapCompare, demo: Demo, make_app: MakeApp) -> None:
    async def ready(pilot: Pilot[None]) -> None:
        await sign_in(pilot)
        await pilot.press("ctrl+n")
        await _on_top(pilot, PatientFormScreen)

    assert snap_compare(make_app(demo.path), terminal_size=SIZE, run_before=ready)


def test_patient_form_editing(snap_compare: SnapCompare, demo: Demo, make_app: MakeApp) -> None:
    async def ready(pilot: Pilot[None]) -> None:
        await _chart(pilot, demo.patients["dubois"])
        await pilot.press("ctrl+e")
        await _on_top(pilot, PatientFormScreen)

    assert snap_compare(make_app(demo.path), terminal_size=SIZE, run_before=ready)


def test_outcome_form(snap_compare: SnapCompare, demo: Demo, make_app: MakeApp) -> None:
    async def ready(pilot: Pilot[None]) -> None:
        await _chart(pilot, demo.patients["nguyen"])
        await pilot.press("f7")
        await _on_top(pilot, OutcomeFormScreen)

    assert snap_compare(make_app(demo.path), terminal_size=SIZE, run_before=ready)


def test_course_form(snap_compare: SnapCompare, demo: Demo, make_app: MakeApp) -> None:
    async def ready(pilot: Pilot[None]) -> None:
        await _chart(pilot, demo.patients["moreau"])
        await pilot.press("f8")
        await _on_top(pilot, CourseFormScreen)

    assert snap_compare(make_app(demo.path), terminal_size=SIZE, run_before=ready)


def test_export(snap_compare: SnapCompare, demo: Demo, make_app: MakeApp) -> None:
    async def ready(pilot: Pilot[None]) -> None:
        await _chart(pilot, demo.patients["dubois"])
        await pilot.press("ctrl+x")
        screen = await _on_top(pilot, ExportScreen)
        # The default folder is the user's own: show one that is the same everywhere.
        screen.query_one("#export-folder", Input).value = "/srv/exports"
        await until(pilot, lambda: "DUBOIS" in screen_text(pilot))
        screen.set_focus(None)
        await pilot.pause()

    assert snap_compare(make_app(demo.path), terminal_size=SIZE, run_before=ready)


def test_sign_session(snap_compare: SnapCompare, demo: Demo, make_app: MakeApp) -> None:
    from textual.widgets import Select

    from formulary.records import Technique

    async def ready(pilot: Pilot[None]) -> None:
        await _chart(pilot, demo.patients["dubois"])
        await pilot.press("ctrl+n")
        await until(pilot, lambda: getattr(pilot.app.screen, "_ready", False))
        screen = pilot.app.screen
        assert isinstance(screen, SessionScreen)
        screen.query_one("#zone-vertex", Input).value = "1.5 mL"
        screen.query_one("#zone-mid_scalp", Input).value = "1.5 mL"
        screen.query_one("#s-technique", Select).value = Technique.NAPPAGE
        screen.query_one("#s-gauge", Input).value = "32"
        screen.query_one("#s-pain", Input).value = "2"
        screen.query_one("#s-length", Input).value = "4 mm"
        await settle(pilot)
        await pilot.press("ctrl+g")
        await _on_top(pilot, SignSessionScreen)

    assert snap_compare(make_app(demo.path), terminal_size=SIZE, run_before=ready)


def test_addendum(snap_compare: SnapCompare, demo: Demo, make_app: MakeApp) -> None:
    async def ready(pilot: Pilot[None]) -> None:
        await _chart(pilot, demo.patients["dubois"])
        chart = pilot.app.screen
        assert isinstance(chart, PatientScreen) and chart.chart is not None
        signed = max(
            (s for s in chart.chart.sessions if s.signature is not None),
            key=lambda s: (s.performed_at, s.id),
        )
        pilot.app.push_screen(SessionScreen(demo.patients["dubois"], session_id=signed.id))
        await until(pilot, lambda: getattr(pilot.app.screen, "_ready", False))
        await settle(pilot)
        await pilot.press("ctrl+d")
        await _on_top(pilot, AddendumScreen)

    assert snap_compare(make_app(demo.path), terminal_size=SIZE, run_before=ready)


def test_compare_versions(snap_compare: SnapCompare, demo: Demo, make_app: MakeApp) -> None:
    async def ready(pilot: Pilot[None]) -> None:
        await _chart(pilot, demo.patients["dubois"])
        await pilot.press("ctrl+f")
        await until(pilot, lambda: isinstance(pilot.app.screen, FormulationEditorScreen))
        editor = pilot.app.screen
        assert isinstance(editor, FormulationEditorScreen)
        await until(pilot, lambda: editor.data is not None)
        # A second version to compare with: the same cocktail made up to 4 mL.
        editor.query_one("#f-final", Input).value = "4 mL"
        editor.query_one("#f-note", Input).value = "more diluent"
        await settle(pilot)
        await pilot.press("ctrl+s")
        versions = editor.query_one("#editor-versions", DataTable)
        await until(pilot, lambda: versions.row_count == 2)
        versions.focus()
        await pilot.press("down", "f8")
        await _on_top(pilot, CompareVersionsScreen)

    assert snap_compare(make_app(demo.path), terminal_size=SIZE, run_before=ready)


def test_receive_lot(snap_compare: SnapCompare, demo: Demo, make_app: MakeApp) -> None:
    async def ready(pilot: Pilot[None]) -> None:
        await _stock(pilot)
        await pilot.press("ctrl+r")
        await _on_top(pilot, ReceiveLotScreen)

    assert snap_compare(make_app(demo.path), terminal_size=SIZE, run_before=ready)


def test_correct_lot(snap_compare: SnapCompare, demo: Demo, make_app: MakeApp) -> None:
    async def ready(pilot: Pilot[None]) -> None:
        screen = await _stock(pilot)
        await _highlight_lot(pilot, screen, "BT-2412")
        formulary_app(pilot).run_command("correct_lot")  # Correct lot, in the palette
        await _on_top(pilot, CorrectLotScreen)

    assert snap_compare(make_app(demo.path), terminal_size=SIZE, run_before=ready)


def test_confirm(snap_compare: SnapCompare, demo: Demo, make_app: MakeApp) -> None:
    async def ready(pilot: Pilot[None]) -> None:
        screen = await _stock(pilot)
        await _highlight_lot(pilot, screen, "BT-2412")
        await pilot.press("f7")
        await _on_top(pilot, ConfirmScreen)

    assert snap_compare(make_app(demo.path), terminal_size=SIZE, run_before=ready)


def test_recall(snap_compare: SnapCompare, demo: Demo, make_app: MakeApp) -> None:
    async def ready(pilot: Pilot[None]) -> None:
        screen = await _stock(pilot)
        await _highlight_lot(pilot, screen, "BT-2412")
        await pilot.press("f3")
        await _on_top(pilot, RecallScreen)
        await until(pilot, lambda: "signed session(s)" in screen_text(pilot))

    assert snap_compare(make_app(demo.path), terminal_size=SIZE, run_before=ready)


def test_retired_patients(snap_compare: SnapCompare, demo: Demo, make_app: MakeApp) -> None:
    from db.database import open_database
    from db.store import Store

    database = open_database(demo.path)
    try:
        store = Store(database, "test")
        doctor = store.authenticate(PRACTITIONER[0], PRACTITIONER[2])
        store.delete_patient(doctor, demo.patients["moreau"], "duplicate chart")
    finally:
        database.dispose()

    async def ready(pilot: Pilot[None]) -> None:
        await sign_in(pilot)
        formulary_app(pilot).run_command("restore_patient")
        await _on_top(pilot, RetiredPatientsScreen)
        await until(pilot, lambda: "retired patient(s)" in screen_text(pilot))

    assert snap_compare(make_app(demo.path), terminal_size=SIZE, run_before=ready)
