"""SVG snapshots of the Clinic details dialog: an administrator's at 120×40 (with a
refused identifier beside its field) and 80×24, a practitioner's read-only view.

Update with ``--snapshot-update`` on these ids and look at the SVGs before committing.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from textual.pilot import Pilot

from db.database import open_database
from db.store import Store
from tests.tui.clinic_helpers import type_into
from tests.tui.demo_data import ADMIN, BUILT_AT, PRACTITIONER, Demo
from tests.tui.fixture_types import MakeApp, SnapCompare, formulary_app
from tests.tui.pilot_helpers import settle, sign_in
from tests.tui.test_snapshots_dialogs import _on_top
from tui.screens.clinic_details import ClinicDetailsScreen

SIZES = [pytest.param((120, 40), id="120x40"), pytest.param((80, 24), id="80x24")]


@pytest.fixture(autouse=True)
def fixed_times(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """UTC local times and a fixed Store clock: the picture must not depend on them."""
    import db.store.clock as clock

    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    monkeypatch.setattr(clock, "now", lambda: BUILT_AT)
    yield
    monkeypatch.undo()
    time.tzset()


def _named(demo: Demo) -> None:
    """The demo clinic with its details set (an identifier of its own: the default, the
    database id, differs from one copy to the next)."""
    database = open_database(demo.path)
    try:
        store = Store(database)
        admin = store.authenticate(ADMIN[0], ADMIN[2])
        store.update_clinic(admin, name="Hair Clinic North", address="1 Main Street, Springfield",
                            identifier="north-clinic", beyond_use_minutes=90)
    finally:
        database.dispose()


async def _open(pilot: Pilot[None], user: tuple[str, str, str]) -> None:
    await sign_in(pilot, user[0], user[2])
    formulary_app(pilot).run_command("clinic_details")
    await _on_top(pilot, ClinicDetailsScreen)


@pytest.mark.parametrize("size", SIZES)
def test_clinic_details(
    snap_compare: SnapCompare, demo: Demo, make_app: MakeApp, size: tuple[int, int]
) -> None:
    _named(demo)

    async def ready(pilot: Pilot[None]) -> None:
        await _open(pilot, ADMIN)
        if size == (120, 40):  # a refusal beside its field
            await type_into(pilot, "#c-identifier", "north clinic")
            await pilot.press("ctrl+s")
            await settle(pilot)
        await _on_top(pilot, ClinicDetailsScreen)

    assert snap_compare(make_app(demo.path), terminal_size=size, run_before=ready)


def test_clinic_details_read_only(
    snap_compare: SnapCompare, demo: Demo, make_app: MakeApp
) -> None:
    _named(demo)

    async def ready(pilot: Pilot[None]) -> None:
        await _open(pilot, PRACTITIONER)

    assert snap_compare(make_app(demo.path), terminal_size=(120, 40), run_before=ready)
