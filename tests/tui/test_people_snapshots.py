"""SVG snapshots of the users screen and the patient/user dialogs, at 120×40 and 80×24.

Update after a deliberate change with
``pytest tests/tui/test_people_snapshots.py --snapshot-update`` and look at the SVGs.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input

from tests.tui.demo_data import ADMIN, Demo
from tests.tui.fixture_types import MakeApp, SnapCompare, formulary_app
from tests.tui.pilot_helpers import settle, sign_in, until
from tui.screens.form_guard import DiscardChangesScreen
from tui.screens.patient_form import PatientFormScreen
from tui.screens.users import ResetPasswordScreen, UserFormScreen, UsersScreen

SIZES = [pytest.param((120, 40), id="120x40"), pytest.param((80, 24), id="80x24")]


@pytest.fixture(autouse=True)
def utc_display(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Local times are shown in the workstation's zone: pin it so snapshots agree."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


async def _users(pilot: Pilot[None]) -> UsersScreen:
    await sign_in(pilot, ADMIN[0], ADMIN[2])
    formulary_app(pilot).open_users()
    await until(pilot, lambda: isinstance(pilot.app.screen, UsersScreen))
    screen = pilot.app.screen
    assert isinstance(screen, UsersScreen)
    await until(pilot, lambda: screen.query_one("#users", DataTable).row_count > 0)
    return screen


def _still(pilot: Pilot[None]) -> None:
    """No blinking cursor: the picture must not depend on timing."""
    pilot.app.screen.set_focus(None)


@pytest.mark.parametrize("size", SIZES)
def test_users_screen(
    snap_compare: SnapCompare, demo: Demo, make_app: MakeApp, size: tuple[int, int]
) -> None:
    async def ready(pilot: Pilot[None]) -> None:
        await _users(pilot)
        await settle(pilot)

    assert snap_compare(make_app(demo.path), terminal_size=size, run_before=ready)


@pytest.mark.parametrize("size", SIZES)
def test_add_user_form(
    snap_compare: SnapCompare, demo: Demo, make_app: MakeApp, size: tuple[int, int]
) -> None:
    async def ready(pilot: Pilot[None]) -> None:
        await _users(pilot)
        await pilot.press("ctrl+n")
        await until(pilot, lambda: isinstance(pilot.app.screen, UserFormScreen))
        await pilot.press("ctrl+s")  # empty: every message beside its field
        await settle(pilot)
        _still(pilot)

    assert snap_compare(make_app(demo.path), terminal_size=size, run_before=ready)


@pytest.mark.parametrize("size", SIZES)
def test_reset_password_form(
    snap_compare: SnapCompare, demo: Demo, make_app: MakeApp, size: tuple[int, int]
) -> None:
    async def ready(pilot: Pilot[None]) -> None:
        await _users(pilot)
        await pilot.press("f6")
        await until(pilot, lambda: isinstance(pilot.app.screen, ResetPasswordScreen))
        await settle(pilot)
        _still(pilot)

    assert snap_compare(make_app(demo.path), terminal_size=size, run_before=ready)


@pytest.mark.parametrize("size", SIZES)
def test_new_patient_form(
    snap_compare: SnapCompare, demo: Demo, make_app: MakeApp, size: tuple[int, int]
) -> None:
    async def ready(pilot: Pilot[None]) -> None:
        await sign_in(pilot)
        await pilot.press("ctrl+n")
        await until(pilot, lambda: isinstance(pilot.app.screen, PatientFormScreen))
        form = pilot.app.screen
        form.query_one("#f-weight", Input).value = "154 lb"
        form.query_one("#f-dob", Input).value = "1986-02-30"
        await pilot.press("ctrl+s")
        await settle(pilot)
        _still(pilot)

    assert snap_compare(make_app(demo.path), terminal_size=size, run_before=ready)


@pytest.mark.parametrize("size", SIZES)
def test_discard_question(
    snap_compare: SnapCompare, demo: Demo, make_app: MakeApp, size: tuple[int, int]
) -> None:
    async def ready(pilot: Pilot[None]) -> None:
        await sign_in(pilot)
        await pilot.press("ctrl+n")
        await until(pilot, lambda: isinstance(pilot.app.screen, PatientFormScreen))
        await settle(pilot)
        await pilot.press(*"C-7")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(pilot.app.screen, DiscardChangesScreen))
        await settle(pilot)
        _still(pilot)

    assert snap_compare(make_app(demo.path), terminal_size=size, run_before=ready)
