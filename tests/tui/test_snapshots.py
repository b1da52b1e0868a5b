"""SVG snapshots of each main screen at 120×40 on the demo clinic.

Update after a deliberate change with ``pytest tests/tui/test_snapshots.py --snapshot-update``
and look at the SVGs before committing them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from tests.tui.demo_data import ADMIN, Demo
from tests.tui.pilot_helpers import settle, sign_in

SIZE = (120, 40)


@pytest.fixture(autouse=True)
def utc_display(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Local times are shown in the workstation's zone: pin it so snapshots agree."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_sign_in(snap_compare, demo: Demo, make_app) -> None:
    async def ready(pilot: Pilot[None]) -> None:
        await settle(pilot)

    assert snap_compare(make_app(demo.path), terminal_size=SIZE, run_before=ready)


def test_patients(snap_compare, demo: Demo, make_app) -> None:
    async def ready(pilot: Pilot[None]) -> None:
        await sign_in(pilot)
        await settle(pilot)

    assert snap_compare(make_app(demo.path), terminal_size=SIZE, run_before=ready)


def test_patient_overview(snap_compare, demo: Demo, make_app) -> None:
    async def ready(pilot: Pilot[None]) -> None:
        await sign_in(pilot)
        pilot.app.open_patient(demo.patients["dubois"])  # type: ignore[attr-defined]
        await settle(pilot)

    assert snap_compare(make_app(demo.path), terminal_size=SIZE, run_before=ready)


def test_session_recording(snap_compare, demo: Demo, make_app) -> None:
    async def ready(pilot: Pilot[None]) -> None:
        await sign_in(pilot)
        pilot.app.open_patient(demo.patients["dubois"])  # type: ignore[attr-defined]
        await settle(pilot)
        await pilot.press("ctrl+n")
        await settle(pilot, rounds=4)
        screen = pilot.app.screen
        screen.query_one("#zone-vertex", Input).value = "1.5 mL"
        screen.query_one("#zone-mid_scalp", Input).value = "1 mL"
        await settle(pilot)

    assert snap_compare(make_app(demo.path), terminal_size=SIZE, run_before=ready)


def test_formulation_editor(snap_compare, demo: Demo, make_app) -> None:
    async def ready(pilot: Pilot[None]) -> None:
        await sign_in(pilot)
        pilot.app.open_patient(demo.patients["dubois"])  # type: ignore[attr-defined]
        await settle(pilot)
        await pilot.press("ctrl+f")
        await settle(pilot, rounds=4)

    assert snap_compare(make_app(demo.path), terminal_size=SIZE, run_before=ready)


def test_formulary_lots(snap_compare, demo: Demo, make_app) -> None:
    async def ready(pilot: Pilot[None]) -> None:
        await sign_in(pilot, ADMIN[0], ADMIN[2])
        await pilot.press("f5")
        await settle(pilot)

    assert snap_compare(make_app(demo.path), terminal_size=SIZE, run_before=ready)


def test_audit(snap_compare, demo: Demo, make_app) -> None:
    async def ready(pilot: Pilot[None]) -> None:
        await sign_in(pilot, ADMIN[0], ADMIN[2])
        await pilot.press("f6")
        await settle(pilot)
        # Sign-ins are stamped with the real clock: show only the demo's own entries.
        pilot.app.screen.query_one("#filter-action", Input).value = "lot."
        await settle(pilot)

    assert snap_compare(make_app(demo.path), terminal_size=SIZE, run_before=ready)


def test_lock(snap_compare, demo: Demo, make_app) -> None:
    async def ready(pilot: Pilot[None]) -> None:
        await sign_in(pilot)
        pilot.app.open_patient(demo.patients["dubois"])  # type: ignore[attr-defined]
        await settle(pilot)
        await pilot.press("ctrl+l")
        await settle(pilot)

    assert snap_compare(make_app(demo.path), terminal_size=SIZE, run_before=ready)
