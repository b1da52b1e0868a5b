"""SVG snapshots of each main screen at 120×40 on the demo clinic.

Update after a deliberate change with ``pytest tests/tui/test_snapshots.py --snapshot-update``
and look at the SVGs before committing them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from functools import partial

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input

from tests.tui.demo_data import ADMIN, Demo
from tests.tui.fixture_types import MakeApp, SnapCompare, formulary_app
from tests.tui.pilot_helpers import screen_text, settle, sign_in, until
from tui.widgets.patient_list import PatientList

SIZE = (120, 40)
#: The smallest terminal the app is laid out for: the main screens are shown at it too.
SMALL = (80, 24)


@pytest.fixture(autouse=True)
def utc_display(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Local times are shown in the workstation's zone: pin it so snapshots agree."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def _cells(pilot: Pilot[None], selector: str) -> str:
    """Every cell of a table on screen, as one string."""
    widget = pilot.app.screen.query_one(selector)
    if isinstance(widget, PatientList):
        return " ".join(c for r in range(widget.row_count) for c in widget.row_cells(r))
    table = pilot.app.screen.query_one(selector, DataTable)
    if table.virtual_size.height < table.row_count + int(table.show_header):
        return ""  # rows added but not laid out yet: the picture would catch them half-drawn
    return " ".join(str(c) for r in range(table.row_count) for c in table.get_row_at(r))


def _still(pilot: Pilot[None]) -> None:
    """No focused text field: a blinking cursor would make the picture depend on timing."""
    pilot.app.screen.set_focus(None)


def test_sign_in(snap_compare: SnapCompare, demo: Demo, make_app: MakeApp) -> None:
    async def ready(pilot: Pilot[None]) -> None:
        await until(pilot, lambda: bool(pilot.app.screen.query("#username")))
        _still(pilot)

    assert snap_compare(make_app(demo.path), terminal_size=SIZE, run_before=ready)


async def _patients_shown(pilot: Pilot[None]) -> None:
    await sign_in(pilot)
    await until(pilot, lambda: "session 3 of 8" in _cells(pilot, "#patient-list"))
    _still(pilot)


def test_patients(snap_compare: SnapCompare, demo: Demo, make_app: MakeApp) -> None:
    assert snap_compare(make_app(demo.path), terminal_size=SIZE, run_before=_patients_shown)


def test_patients_80x24(snap_compare: SnapCompare, demo: Demo, make_app: MakeApp) -> None:
    assert snap_compare(make_app(demo.path), terminal_size=SMALL, run_before=_patients_shown)


def _overview_laid_out(pilot: Pilot[None]) -> bool:
    """The chart is shown and its session table has laid out its rows."""
    tables = pilot.app.screen.query("#overview-sessions").results(DataTable)
    table = next(tables, None)
    return table is not None and 0 < table.row_count < table.virtual_size.height


async def _chart_shown(pilot: Pilot[None], demo: Demo) -> None:
    await sign_in(pilot)
    formulary_app(pilot).open_patient(demo.patients["dubois"])
    await until(pilot, lambda: _overview_laid_out(pilot))
    _still(pilot)


def test_patient_overview(snap_compare: SnapCompare, demo: Demo, make_app: MakeApp) -> None:
    shown = partial(_chart_shown, demo=demo)
    assert snap_compare(make_app(demo.path), terminal_size=SIZE, run_before=shown)


def test_patient_overview_80x24(snap_compare: SnapCompare, demo: Demo, make_app: MakeApp) -> None:
    shown = partial(_chart_shown, demo=demo)
    assert snap_compare(make_app(demo.path), terminal_size=SMALL, run_before=shown)


async def _session_shown(pilot: Pilot[None], demo: Demo) -> None:
    await sign_in(pilot)
    formulary_app(pilot).open_patient(demo.patients["dubois"])
    await settle(pilot)
    await until(pilot, lambda: _overview_laid_out(pilot))
    await pilot.press("ctrl+n")
    await until(pilot, lambda: getattr(pilot.app.screen, "_ready", False))
    screen = pilot.app.screen
    screen.query_one("#zone-vertex", Input).value = "1.5 mL"
    screen.query_one("#zone-mid_scalp", Input).value = "1 mL"
    await until(pilot, lambda: "saved at" in str(screen.query_one("#session-status").render()))
    _still(pilot)


def test_session_recording(snap_compare: SnapCompare, demo: Demo, make_app: MakeApp) -> None:
    shown = partial(_session_shown, demo=demo)
    assert snap_compare(make_app(demo.path), terminal_size=SIZE, run_before=shown)


def test_session_recording_80x24(snap_compare: SnapCompare, demo: Demo, make_app: MakeApp) -> None:
    shown = partial(_session_shown, demo=demo)
    assert snap_compare(make_app(demo.path), terminal_size=SMALL, run_before=shown)


async def _editor_shown(pilot: Pilot[None], demo: Demo, drawn: str) -> None:
    await sign_in(pilot)
    formulary_app(pilot).open_patient(demo.patients["dubois"])
    await settle(pilot)
    await until(pilot, lambda: _overview_laid_out(pilot))
    await pilot.press("ctrl+f")
    await until(pilot, lambda: "v1" in _cells(pilot, "#editor-versions"))
    # The safety rules answer 0.4 s after the last edit: their warnings are shown.
    await until(pilot, lambda: getattr(pilot.app.screen, "findings", None) is not None)
    # The lowest table in view has its header drawn with its final column widths.
    await until(pilot, lambda: drawn in screen_text(pilot))
    _still(pilot)


def test_formulation_editor(snap_compare: SnapCompare, demo: Demo, make_app: MakeApp) -> None:
    # The version table is in view at 120x40.
    shown = partial(_editor_shown, demo=demo, drawn="Version  Created     By")
    assert snap_compare(make_app(demo.path), terminal_size=SIZE, run_before=shown)


def test_formulation_editor_80x24(
    snap_compare: SnapCompare, demo: Demo, make_app: MakeApp
) -> None:
    # At 80x24 the component table fills the view (the versions are below it).
    shown = partial(_editor_shown, demo=demo, drawn="Amount     Per session  In final mix")
    assert snap_compare(make_app(demo.path), terminal_size=SMALL, run_before=shown)


async def _stock_shown(pilot: Pilot[None]) -> None:
    await sign_in(pilot, ADMIN[0], ADMIN[2])
    await pilot.press("f5")
    await until(pilot, lambda: "BT-2301" in _cells(pilot, "#lots"))
    # Drawn with the column widths of its rows, not only filled: the table measures new
    # rows when it is next idle, and a picture taken before shows header-wide columns.
    await until(pilot, lambda: "BT-2301" in screen_text(pilot))
    _still(pilot)


def test_stock_lots(snap_compare: SnapCompare, demo: Demo, make_app: MakeApp) -> None:
    assert snap_compare(make_app(demo.path), terminal_size=SIZE, run_before=_stock_shown)


def test_stock_lots_80x24(snap_compare: SnapCompare, demo: Demo, make_app: MakeApp) -> None:
    assert snap_compare(make_app(demo.path), terminal_size=SMALL, run_before=_stock_shown)


async def _audit_shown(pilot: Pilot[None]) -> None:
    await sign_in(pilot, ADMIN[0], ADMIN[2])
    await pilot.press("f6")
    await settle(pilot)
    # Sign-ins are stamped with the real clock: show only the demo's own entries.
    await until(pilot, lambda: bool(pilot.app.screen.query("#filter-action")))
    pilot.app.screen.query_one("#filter-action", Input).value = "lot."
    await until(
        pilot,
        lambda: (
            "lot.set_status" in _cells(pilot, "#audit-table")
            and "receive" in _cells(pilot, "#audit-table")
            and "patient" not in _cells(pilot, "#audit-table")
        ),
    )
    _still(pilot)


def test_audit(snap_compare: SnapCompare, demo: Demo, make_app: MakeApp) -> None:
    assert snap_compare(make_app(demo.path), terminal_size=SIZE, run_before=_audit_shown)


def test_audit_80x24(snap_compare: SnapCompare, demo: Demo, make_app: MakeApp) -> None:
    assert snap_compare(make_app(demo.path), terminal_size=SMALL, run_before=_audit_shown)


def test_lock(snap_compare: SnapCompare, demo: Demo, make_app: MakeApp) -> None:
    async def ready(pilot: Pilot[None]) -> None:
        await sign_in(pilot)
        formulary_app(pilot).open_patient(demo.patients["dubois"])
        await settle(pilot)
        await until(pilot, lambda: _overview_laid_out(pilot))
        await pilot.press("ctrl+l")
        await until(pilot, lambda: bool(pilot.app.screen.query("#unlock-password")))
        _still(pilot)

    assert snap_compare(make_app(demo.path), terminal_size=SIZE, run_before=ready)


@pytest.mark.parametrize("size", [SIZE, (80, 24)], ids=["120x40", "80x24"])
def test_override_sign_dialog(
    snap_compare: SnapCompare, demo: Demo, make_app: MakeApp, size: tuple[int, int]
) -> None:
    from formulary.safety import Finding, Findings, Severity
    from tui.screens.override_sign import OverrideSignScreen

    findings = Findings(
        (
            Finding(
                "allergy",
                Severity.BLOCK,
                "the patient is allergic to lidocaine (component 2)",
                "remove it or override with a reason",
                component_id=2,
            ),
        )
    )

    async def ready(pilot: Pilot[None]) -> None:
        await sign_in(pilot)
        await settle(pilot)
        pilot.app.push_screen(OverrideSignScreen(findings))
        await until(pilot, lambda: isinstance(pilot.app.screen, OverrideSignScreen))
        await settle(pilot)
        _still(pilot)

    assert snap_compare(make_app(demo.path), terminal_size=size, run_before=ready)
