"""SVG snapshots of the photo screens at 120×40: the list, the attach dialog, the compare
screen (in its fallback rendering: pictures are never drawn in tests) and the photo size
limit dialog. Update with ``--snapshot-update`` and look at the SVGs before committing."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date

import pytest
from textual.pilot import Pilot

from db.database import open_database
from db.store import Store
from tests.photos import images
from tests.tui.demo_data import ADMIN, BUILT_AT, PRACTITIONER, Demo
from tests.tui.fixture_types import MakeApp, SnapCompare, formulary_app
from tests.tui.pilot_helpers import settle, sign_in, until
from tests.tui.test_snapshots_dialogs import _on_top
from tui import photo_display
from tui.screens.attach_photo import AttachPhotoScreen
from tui.screens.patient import PatientScreen
from tui.screens.photo_limit import PhotoLimitScreen
from tui.screens.photos import ComparePhotosScreen, PhotosScreen

SIZE = (120, 40)


@pytest.fixture(autouse=True)
def fixed_times(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """UTC local times and a fixed Store clock; pictures never drawn (the fallback)."""
    import db.store.clock as clock

    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    monkeypatch.setattr(clock, "now", lambda: BUILT_AT)
    monkeypatch.setattr(photo_display, "_detected", None)
    yield
    monkeypatch.undo()
    time.tzset()


def _with_photos(demo: Demo) -> int:
    """Three photos of the first demo patient (two vertex dates, one frontal)."""
    database = open_database(demo.path)
    try:
        store = Store(database)
        store.files.create()
        doctor = store.authenticate(PRACTITIONER[0], PRACTITIONER[2])
        pid = demo.patients["dubois"]
        outcome = store.list_outcomes(doctor, pid)[0].id
        for data, view, taken in (
            (images.jpeg(64, 96, color=(150, 90, 60)), "vertex", date(2026, 1, 12)),
            (images.png(80, 80), "frontal", date(2026, 1, 12)),
            (images.jpeg(64, 96, color=(60, 90, 150)), "vertex", date(2026, 4, 20)),
        ):
            store.attach_photo(doctor, data, patient_id=pid, view=view, taken_on=taken,
                               outcome_id=outcome)
        return pid
    finally:
        database.dispose()


async def _photo_list(pilot: Pilot[None], patient_id: int) -> None:
    await sign_in(pilot)
    formulary_app(pilot).open_patient(patient_id)
    await until(pilot, lambda: isinstance(pilot.app.screen, PatientScreen))
    await settle(pilot)
    await pilot.press("f9")
    await _on_top(pilot, PhotosScreen)


def test_photo_list(snap_compare: SnapCompare, demo: Demo, make_app: MakeApp) -> None:
    pid = _with_photos(demo)

    async def ready(pilot: Pilot[None]) -> None:
        await _photo_list(pilot, pid)

    assert snap_compare(make_app(demo.path), terminal_size=SIZE, run_before=ready)


def test_attach_photo(snap_compare: SnapCompare, demo: Demo, make_app: MakeApp) -> None:
    pid = _with_photos(demo)

    async def ready(pilot: Pilot[None]) -> None:
        await _photo_list(pilot, pid)
        await pilot.press("ctrl+n")
        await _on_top(pilot, AttachPhotoScreen)

    assert snap_compare(make_app(demo.path), terminal_size=SIZE, run_before=ready)


def test_compare_photos(snap_compare: SnapCompare, demo: Demo, make_app: MakeApp) -> None:
    pid = _with_photos(demo)

    async def ready(pilot: Pilot[None]) -> None:
        await _photo_list(pilot, pid)
        await pilot.press("f5")
        await _on_top(pilot, ComparePhotosScreen)

    assert snap_compare(make_app(demo.path), terminal_size=SIZE, run_before=ready)


def test_photo_limit(snap_compare: SnapCompare, demo: Demo, make_app: MakeApp) -> None:
    from tests.tui.clinic_helpers import open_users

    async def ready(pilot: Pilot[None]) -> None:
        await sign_in(pilot, ADMIN[0], ADMIN[2])
        await open_users(pilot)
        await settle(pilot)
        await pilot.press("f7")
        await _on_top(pilot, PhotoLimitScreen)

    assert snap_compare(make_app(demo.path), terminal_size=SIZE, run_before=ready)
