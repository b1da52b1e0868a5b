"""The syringe label from the session screen (F9 and the palette), and scanning it back."""

from __future__ import annotations

import errno
import io
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from textual.pilot import Pilot
from textual.widgets import Input, Static

from tests.tui.demo_data import Demo
from tests.tui.fixture_types import MakeApp, SnapCompare, formulary_app, screen_of
from tests.tui.pilot_helpers import screen_text, settle, sign_in, until
from tui.app import FormularyApp
from tui.screens.label_dialog import LabelDialog
from tui.screens.patients import PatientsScreen
from tui.screens.session import SessionScreen

SIZE = (120, 40)


@pytest.fixture(autouse=True)
def fixed_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """The default label folder comes from HOME; local times from TZ: pin both."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_DOCUMENTS_DIR", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


async def _saved_session(app: FormularyApp, pilot: Pilot[None], demo: Demo) -> SessionScreen:
    await sign_in(pilot)
    app.open_patient(demo.patients["dubois"])
    await settle(pilot)
    await pilot.press("ctrl+n")
    await settle(pilot, rounds=4)
    screen = app.screen
    assert isinstance(screen, SessionScreen)
    await pilot.press("ctrl+s")
    await until(pilot, lambda: screen.session_id is not None)
    return screen


async def test_f9_prints_the_label_of_the_open_session(
    demo: Demo, make_app: MakeApp, tmp_path: Path
) -> None:
    app = make_app(demo.path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _saved_session(app, pilot, demo)
        await pilot.press("f9")
        await until(pilot, lambda: isinstance(app.screen, LabelDialog))
        dialog = app.screen
        assert app.focused is dialog.query_one("#label-size")
        target = tmp_path / "label.pdf"
        dialog.query_one("#label-path", Input).value = str(target)
        dialog.query_one("#label-copies", Input).value = "0"
        await pilot.pause()
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "Print 1 to 240 copies." in screen_text(pilot) and not target.exists()
        dialog.query_one("#label-copies", Input).value = "1"
        await pilot.pause()
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "Label written" in screen_text(pilot))
        text = PdfReader(io.BytesIO(target.read_bytes())).pages[0].extract_text()
        assert f"SESSION-{screen.session_id}" in text and "Use before" in text
        assert "Session not yet signed" in " ".join(
            page.extract_text() for page in PdfReader(io.BytesIO(target.read_bytes())).pages)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen


class _FullDisk:
    """``os`` as ``tui.export_files`` sees it on a full disk: the fsync of the data fails."""

    def __getattr__(self, name: str) -> Any:
        return getattr(os, name)

    @staticmethod
    def fsync(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


async def test_a_full_disk_prints_nothing_records_nothing_and_says_what_to_do(
    demo: Demo, make_app: MakeApp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tui.export_files as export_files

    app = make_app(demo.path)
    async with app.run_test(size=SIZE) as pilot:
        await _saved_session(app, pilot, demo)
        await pilot.press("f9")
        await until(pilot, lambda: isinstance(app.screen, LabelDialog))
        dialog = app.screen
        folder = tmp_path / "labels"
        folder.mkdir()
        target = folder / "label.pdf"
        dialog.query_one("#label-path", Input).value = str(target)
        await pilot.pause()
        before = _label_entries(demo.path)
        with monkeypatch.context() as patch:
            patch.setattr(export_files, "os", _FullDisk())
            await pilot.press("ctrl+s")
            await until(pilot, lambda: "Not printed" in screen_text(pilot))
        result = dialog.query_one("#label-result", Static)
        assert result.has_class("danger")
        shown = str(result.render())
        assert "No space left on device" in shown
        assert "the label was not recorded" in shown
        assert f"free some space on the disk holding {folder}" in shown
        assert "Errno" not in shown
        assert list(folder.iterdir()) == []  # not even the temporary file
        assert _label_entries(demo.path) == before


def _label_entries(path: Path) -> int:
    import sqlite3

    with sqlite3.connect(path) as conn:
        found = conn.execute(
            "SELECT count(*) FROM audit_event WHERE action LIKE 'export.label%'"
        ).fetchone()
    return int(found[0])


async def test_escape_asks_before_losing_typed_choices(
    demo: Demo, make_app: MakeApp, tmp_path: Path
) -> None:
    app = make_app(demo.path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _saved_session(app, pilot, demo)
        app.run_command("print_label")  # the palette's "Print syringe label"
        await until(pilot, lambda: isinstance(app.screen, LabelDialog))
        app.screen.query_one("#label-copies", Input).value = "3"
        await pilot.pause()
        await pilot.press("escape")
        await settle(pilot)
        assert "Close without printing?" in screen_text(pilot)
        await pilot.press("escape")  # cancel the question: the dialog stays
        await settle(pilot)
        assert isinstance(app.screen, LabelDialog)
        assert app.screen.query_one("#label-copies", Input).value == "3"
        app.screen.dismiss(None)
        await settle(pilot)
        assert screen_of(app) is screen


async def test_scanning_the_barcode_in_the_patient_search_opens_the_session(
    demo: Demo, make_app: MakeApp
) -> None:
    app = make_app(demo.path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _saved_session(app, pilot, demo)
        session_id = screen.session_id
        while not isinstance(app.screen, PatientsScreen):
            app.pop_screen()
            await settle(pilot)
        search = app.screen.query_one("#patient-search", Input)
        search.focus()
        await pilot.press(*f"SESSION-{session_id}", "enter")  # a scanner types, then Enter
        await until(pilot, lambda: isinstance(screen_of(app), SessionScreen))
        opened = screen_of(app)
        assert isinstance(opened, SessionScreen)
        assert opened.session_id == session_id
        assert opened.patient_id == demo.patients["dubois"]


async def test_an_unknown_scanned_session_says_so(demo: Demo, make_app: MakeApp) -> None:
    app = make_app(demo.path)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot)
        await until(pilot, lambda: isinstance(app.screen, PatientsScreen))
        app.screen.query_one("#patient-search", Input).focus()
        await pilot.press(*"SESSION-987654", "enter")
        await until(pilot, lambda: any("987654" in f"{n.title} {n.message}"
                                       for n in app._notifications))
        assert isinstance(app.screen, PatientsScreen)


def test_label_dialog_snapshot(snap_compare: SnapCompare, demo: Demo, make_app: MakeApp) -> None:
    async def ready(pilot: Pilot[None]) -> None:
        await _saved_session(formulary_app(pilot), pilot, demo)
        await pilot.press("f9")
        await until(pilot, lambda: isinstance(pilot.app.screen, LabelDialog))
        pilot.app.screen.query_one("#label-path", Input).value = "/labels/session-label.pdf"
        pilot.app.screen.set_focus(None)
        await settle(pilot)

    assert snap_compare(make_app(demo.path), terminal_size=SIZE, run_before=ready)

