"""What the audit screen looks like at 120×40 on the fixed-history clinic."""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets import Input

from tests.tui.audit_export.clinic import Clinic
from tests.tui.audit_export.pilot import settle, sign_in
from tests.tui.fixture_types import MakeApp, SnapCompare

SIZE = (120, 40)


async def steady(pilot: Pilot[None]) -> None:
    """Every worker done and handled, the mouse parked where it highlights nothing."""
    await settle(pilot, rounds=5)
    await pilot.hover("#audit-note", offset=(0, 0))
    await settle(pilot)


def test_audit_screen_shows_an_update_side_by_side(
    clinic: Clinic, make_app: MakeApp, snap_compare: SnapCompare
) -> None:
    async def open_and_highlight(pilot: Pilot[None]) -> None:
        await sign_in(pilot)
        await pilot.press("f6")
        await settle(pilot)
        await pilot.press("down")  # entry 10: Dubois re-graded, with its reason
        await steady(pilot)

    assert snap_compare(make_app(clinic.path), terminal_size=SIZE, run_before=open_and_highlight)


def test_audit_screen_filtered_to_one_patient(
    clinic: Clinic, make_app: MakeApp, snap_compare: SnapCompare
) -> None:
    async def filter_patient(pilot: Pilot[None]) -> None:
        await sign_in(pilot)
        await pilot.press("f6")
        await settle(pilot)
        pilot.app.screen.query_one("#filter-patient", Input).value = "C-2001"
        pilot.app.screen.query_one("#filter-patient", Input).focus()
        await pilot.press("enter")
        await steady(pilot)

    assert snap_compare(make_app(clinic.path), terminal_size=SIZE, run_before=filter_patient)
