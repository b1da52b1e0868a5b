"""Printing a consent from the app (consent screen, f4): the PDF and its audit entry, or neither.

The PDF is written into the export folder before the ``export.consent`` entry commits
(as ``formulary consent pdf`` does). A full disk leaves no file, partial or whole, and
no entry, and the user reads one notice saying what went wrong and what to do; a
commit that fails after the file was written takes the file away again.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from pypdf import PdfReader
from textual.pilot import Pilot

from tests.tui.demo_data import Demo
from tests.tui.fixture_types import MakeApp, formulary_app
from tests.tui.pilot_helpers import screen_text, settle, sign_in, until
from tui.screens.consent import ConsentScreen

SIZE = (120, 40)


@pytest.fixture(autouse=True)
def export_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """The app's export folder (the documents folder) is a fresh one under the test's."""
    documents = tmp_path / "documents"
    documents.mkdir()
    monkeypatch.setenv("HOME", str(documents))
    monkeypatch.setenv("XDG_DOCUMENTS_DIR", str(documents))
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield documents
    monkeypatch.undo()
    time.tzset()


def actions(db: Path) -> list[str]:
    """The audit trail's actions, read beside the app."""
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        return [str(a) for (a,) in conn.execute("SELECT action FROM audit_event ORDER BY seq")]


def notices(pilot: Pilot[None]) -> list[tuple[str, str, str]]:
    """The notices the app has shown (title, message, severity), oldest first."""
    return [(n.title, n.message, n.severity) for n in pilot.app._notifications]


def everything_in(folder: Path) -> list[str]:
    """Every name in ``folder``, temporary files included."""
    return sorted(p.name for p in folder.iterdir())


async def _consents(pilot: Pilot[None], demo: Demo) -> ConsentScreen:
    await sign_in(pilot)
    formulary_app(pilot).open_patient(demo.patients["dubois"])
    await until(pilot, lambda: "Course" in screen_text(pilot))
    await settle(pilot)
    await pilot.press("f6")
    await until(pilot, lambda: isinstance(pilot.app.screen, ConsentScreen)
                and pilot.app.screen.data is not None)
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ConsentScreen)
    return screen


class _FullDisk:
    """``os`` as ``tui.export_files`` sees it on a full disk: the fsync of the data fails.

    The temporary file is made and written first, as on a real disk that fills up.
    """

    def __getattr__(self, name: str) -> Any:
        return getattr(os, name)

    @staticmethod
    def fsync(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


async def test_f4_writes_the_pdf_and_one_entry(
    demo: Demo, make_app: MakeApp, export_folder: Path
) -> None:
    app = make_app(demo.path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _consents(pilot, demo)
        consent = screen.selected()
        assert consent is not None
        before = actions(demo.path)
        await pilot.press("f4")
        await until(pilot, lambda: notices(pilot))
        target = export_folder / f"consent-{consent.id}.pdf"
        assert notices(pilot) == [("Consent PDF", f"Wrote {target}", "information")]
        assert everything_in(export_folder) == [target.name]
        assert target.stat().st_mode & 0o777 == 0o600
        text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(target.read_bytes())).pages)
        assert consent.text_sha256 in text.replace("\n", "")
        assert actions(demo.path)[len(before):] == ["export.consent"]


async def test_a_full_disk_leaves_no_pdf_no_entry_and_says_what_to_do(
    demo: Demo, make_app: MakeApp, export_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tui.export_files as export_files

    app = make_app(demo.path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _consents(pilot, demo)
        consent = screen.selected()
        assert consent is not None
        before = actions(demo.path)
        with monkeypatch.context() as patch:
            patch.setattr(export_files, "os", _FullDisk())
            await pilot.press("f4")
            await until(pilot, lambda: notices(pilot))
            await settle(pilot)
        target = export_folder / f"consent-{consent.id}.pdf"
        # One notice: what went wrong, that nothing happened, and what to do.
        assert notices(pilot) == [(
            "Consent PDF not written",
            f"Cannot write {target} (No space left on device). Nothing was written and the "
            f"print was not recorded; free some space on the disk holding {export_folder}, "
            "then press f4 again.",
            "error",
        )]
        assert everything_in(export_folder) == []  # not even the temporary file
        assert actions(demo.path) == before

        # With room again, the same key prints it.
        pilot.app.clear_notifications()
        await pilot.press("f4")
        await until(pilot, lambda: notices(pilot))
        assert notices(pilot) == [("Consent PDF", f"Wrote {target}", "information")]
        assert everything_in(export_folder) == [target.name]
        assert actions(demo.path)[len(before):] == ["export.consent"]


async def test_a_failed_commit_takes_the_written_pdf_away(
    demo: Demo, make_app: MakeApp, export_folder: Path
) -> None:
    app = make_app(demo.path)
    async with app.run_test(size=SIZE) as pilot:
        await _consents(pilot, demo)
        before = actions(demo.path)
        engine = formulary_app(pilot).store.database.engine
        written: list[list[str]] = []

        def full(_conn: Any) -> None:
            # The PDF is in place by now: the commit is what fails.
            written.append(everything_in(export_folder))
            raise sa.exc.OperationalError(
                "COMMIT", None, sqlite3.OperationalError("database or disk is full"))

        sa.event.listen(engine, "commit", full)
        try:
            await pilot.press("f4")
            await until(pilot, lambda: notices(pilot))
        finally:
            sa.event.remove(engine, "commit", full)
        assert written and written[0] and written[0][0].startswith("consent-")
        ((title, message, severity),) = notices(pilot)
        assert title == "Consent PDF not written" and severity == "error"
        assert "database or disk is full" in message and "nothing was saved" in message
        assert everything_in(export_folder) == []
        assert actions(demo.path) == before
