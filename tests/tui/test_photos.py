"""Photographs in the app, from an empty database (``formulary init``): attach, compare,
open in viewer, a missing folder, bad input; the compare screen's fallback rendering."""

from __future__ import annotations

import io
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from textual.pilot import Pilot
from textual.widgets import Input, Select, Static

from db.database import open_database
from db.store import Store
from formulary.photos import PhotoView
from tests.photos import images
from tests.tui.clinic_helpers import add_patient, type_into
from tests.tui.pilot_helpers import screen_text, settle, sign_in, until
from tests.tui.stock_helpers import ADMIN_NAME, ADMIN_PASSWORD, empty_clinic
from tui import photo_display
from tui.app import FormularyApp
from tui.keymap import Settings


@pytest.fixture
def picked() -> Iterator[Path]:
    """A folder with a short absolute path for the photos the dialog is given.

    The path is typed into the dialog key by key (about 60 ms a key here), and a test's
    ``tmp_path`` is some 70 characters long: this one is about 16.
    """
    folder = Path(tempfile.mkdtemp(prefix="ph-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder)


def _store_photos(db: Path) -> list[tuple[str, str, str]]:
    database = open_database(db)
    try:
        store = Store(database)
        admin = store.authenticate(ADMIN_NAME, ADMIN_PASSWORD)
        patient = store.find_patient(admin, "N-1")
        return [(p.view.value, p.taken_on.isoformat(), p.sha256)
                for p in store.list_photos(admin, patient.id)]
    finally:
        database.dispose()


async def _new_patient_with_outcome(pilot: Pilot[None]) -> None:
    from tui.screens.outcome_form import OutcomeFormScreen
    from tui.screens.patient import PatientScreen

    await sign_in(pilot, ADMIN_NAME, ADMIN_PASSWORD)
    await add_patient(pilot, "N-1", "Novak", "Nina", "1988-03-04")
    chart = pilot.app.screen
    await pilot.press("f7")
    await until(pilot, lambda: isinstance(pilot.app.screen, OutcomeFormScreen))
    await type_into(pilot, "#o-grade", "Ludwig I")
    await pilot.press("ctrl+s")
    await until(pilot, lambda: pilot.app.screen is chart)
    await settle(pilot)
    assert isinstance(chart, PatientScreen)


async def _attach(pilot: Pilot[None], path: Path, view: PhotoView, taken: str) -> None:
    from tui.screens.attach_photo import AttachPhotoScreen

    await pilot.press("ctrl+n")
    await until(pilot, lambda: isinstance(pilot.app.screen, AttachPhotoScreen))
    form = pilot.app.screen
    assert form.focused is form.query_one("#photo-file", Input), "the first field has focus"
    await type_into(pilot, "#photo-file", str(path))
    form.query_one("#photo-view", Select).value = view
    await type_into(pilot, "#photo-date", taken)
    await pilot.press("ctrl+s")


def _app(db: Path) -> FormularyApp:
    return FormularyApp(db, settings=Settings())


async def test_attach_two_dates_and_compare_them(
    tmp_path: Path, picked: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tui.screens.photos import ComparePhotosScreen, PhotosScreen

    opened: list[Path] = []
    monkeypatch.setattr(photo_display, "open_in_viewer", lambda p: opened.append(p))
    db = empty_clinic(tmp_path)
    first = picked / "IMG_1.jpg"
    first.write_bytes(images.jpeg(64, 96, color=(200, 40, 40), orientation=6))
    second = picked / "IMG_2.HEIC"
    second.write_bytes(images.heic(64, 96))
    app = _app(db)
    async with app.run_test(size=(120, 40)) as pilot:
        await _new_patient_with_outcome(pilot)
        await pilot.press("f9")
        await until(pilot, lambda: isinstance(pilot.app.screen, PhotosScreen))
        screen = pilot.app.screen
        assert isinstance(screen, PhotosScreen)
        photos: PhotosScreen = screen
        assert "No photos yet" in screen_text(pilot)
        await _attach(pilot, first, PhotoView.VERTEX, "2026-01-05")
        await until(pilot, lambda: pilot.app.screen is photos and len(photos.photos) == 1)
        await _attach(pilot, second, PhotoView.VERTEX, "2026-04-05")
        await until(pilot, lambda: pilot.app.screen is photos and len(photos.photos) == 2)
        stored = _store_photos(db)
        assert [(v, d) for v, d, _ in stored] == [("vertex", "2026-01-05"),
                                                 ("vertex", "2026-04-05")]
        folder = db.with_name(db.name + ".files")
        for _, _, sha in stored:
            data = (folder / sha).read_bytes()
            assert not images.has_location_or_camera(data)
            with Image.open(io.BytesIO(data)) as back:
                assert back.size == ((96, 64) if sha == stored[0][2] else (64, 96))

        await pilot.press("f5")
        await until(pilot, lambda: isinstance(pilot.app.screen, ComparePhotosScreen))
        await settle(pilot)
        text = screen_text(pilot)
        assert "Before: Vertex, 2026-01-05" in text and "After: Vertex, 2026-04-05" in text
        assert text.count("This terminal does not draw pictures") == 2
        assert "Press F5 to open this photo" in text and "Press F6" in text
        await pilot.press("f6")
        await until(pilot, lambda: bool(opened))
        copy = opened[0]
        assert copy.read_bytes() == (folder / stored[1][2]).read_bytes()
        assert stat.S_IMODE(copy.stat().st_mode) == 0o600
        assert stat.S_IMODE(copy.parent.stat().st_mode) == 0o700
        # Another date on the left: the panel follows.
        compare = pilot.app.screen
        left = compare.query_one("#compare-left", Select)
        left.value = photos.photos[1].id
        await settle(pilot)
        assert screen_text(pilot).count("Vertex, 2026-04-05") == 2


async def test_bad_file_and_missing_folder_in_the_dialog(tmp_path: Path, picked: Path) -> None:
    from tui.screens.attach_photo import AttachPhotoScreen
    from tui.screens.photos import PhotosScreen

    db = empty_clinic(tmp_path)
    text_file = picked / "notes.jpg"
    text_file.write_text("a shopping list, not a photo")
    good = picked / "good.png"
    good.write_bytes(images.png())
    app = _app(db)
    async with app.run_test(size=(120, 40)) as pilot:
        await _new_patient_with_outcome(pilot)
        await pilot.press("f9")
        await until(pilot, lambda: isinstance(pilot.app.screen, PhotosScreen))
        photos = pilot.app.screen
        await _attach(pilot, text_file, PhotoView.FRONTAL, "2026-01-05")
        await settle(pilot)
        form = pilot.app.screen
        assert isinstance(form, AttachPhotoScreen)
        error = str(form.query_one("#photo-error", Static).render())
        assert "not an image" in error
        assert _store_photos(db) == []
        # The folder disappears: the dialog says so and offers to create it.
        folder = db.with_name(db.name + ".files")
        folder.rmdir()
        await type_into(pilot, "#photo-file", str(good))
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "does not exist" in str(form.query_one("#photo-error", Static).render())
        assert form.has_class("-folder-missing")
        await pilot.click("#photo-create-folder")
        await until(pilot, lambda: pilot.app.screen is photos)
        assert folder.is_dir() and len(_store_photos(db)) == 1


async def test_a_terminal_that_draws_pictures_gets_the_images(
    tmp_path: Path, picked: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With graphics found (forced here), each side mounts a textual-image widget built
    from the stored bytes (read and checked in a worker), not the fallback text."""
    from textual_image.widget import Image as ImageWidget

    from tui.screens.photos import ComparePhotosScreen, PhotosScreen

    monkeypatch.setattr(photo_display, "_detected", "kitty")
    db = empty_clinic(tmp_path)
    first = picked / "a.jpg"
    first.write_bytes(images.jpeg(64, 48, color=(10, 200, 10)))
    second = picked / "b.png"
    second.write_bytes(images.png(48, 64))
    app = _app(db)
    async with app.run_test(size=(120, 40)) as pilot:
        await _new_patient_with_outcome(pilot)
        await pilot.press("f9")
        await until(pilot, lambda: isinstance(pilot.app.screen, PhotosScreen))
        screen = pilot.app.screen
        assert isinstance(screen, PhotosScreen)
        listing: PhotosScreen = screen
        await _attach(pilot, first, PhotoView.TRICHOSCOPY, "2026-02-01")
        await until(pilot, lambda: pilot.app.screen is listing and len(listing.photos) == 1)
        await _attach(pilot, second, PhotoView.TRICHOSCOPY, "2026-03-01")
        await until(pilot, lambda: pilot.app.screen is listing and len(listing.photos) == 2)
        await pilot.press("f5")
        await until(pilot, lambda: isinstance(pilot.app.screen, ComparePhotosScreen))
        compare = pilot.app.screen
        await until(pilot, lambda: len(compare.query(ImageWidget)) == 2)
        assert "does not draw pictures" not in screen_text(pilot)
