"""The export screen: the choices of `formulary export chart`, written files, the
checkpoint line, overwrite protection and the export's own audit entry."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Select

from db.store import AuditEntry
from tests.tui.audit_export.clinic import ADMIN, Clinic, open_store
from tests.tui.audit_export.pilot import settle, sign_in, visible_text
from tests.tui.fixture_types import MakeApp, formulary_app
from tui.screens.confirm import ConfirmScreen
from tui.screens.export import ExportScreen, planned_files


def exports_recorded(clinic: Clinic) -> list[AuditEntry]:
    store = open_store(clinic.path)
    try:
        admin = store.authenticate(ADMIN[0], ADMIN[2])
        return store.audit_events(admin, action_prefix="export.")
    finally:
        store.database.dispose()


async def open_export_from_chart(
    pilot: Pilot[None], clinic: Clinic, folder: Path, fmt: str
) -> ExportScreen:
    await sign_in(pilot)
    formulary_app(pilot).open_patient(clinic.patients["moreau"])
    await settle(pilot)
    await pilot.press("ctrl+x")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ExportScreen)
    assert screen.query_one("#export-chart", Input).value == "C-2001"
    screen.query_one("#export-format", Select).value = fmt
    screen.query_one("#export-folder", Input).value = str(folder)
    await settle(pilot)
    return screen


async def test_export_from_the_chart_writes_files_and_shows_the_checkpoint(
    clinic: Clinic, make_app: MakeApp, tmp_path: Path
) -> None:
    out = tmp_path / "exports"
    app = make_app(clinic.path)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_export_from_chart(pilot, clinic, out, "csv")
        text = visible_text(pilot)
        assert "MOREAU, Claire, born 1984-03-12" in text  # the chart number was looked up
        assert "Will write: C-2001-sessions.csv, C-2001-session_components.csv" in text
        await pilot.press("ctrl+s")
        await settle(pilot, rounds=5)
        text = visible_text(pilot)
        assert "Exported. Written:" in text
        # A long temporary path wraps across lines inside the bordered box on screen:
        # compare without the line breaks and the box's side borders.
        unwrapped = "".join(text.replace("│", " ").replace("▏", " ").replace("▕", " ").split())
        for path in planned_files(out, "C-2001", "csv"):
            assert "".join(str(path).split()) in unwrapped
            assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert "FORMULARY-CHECKPOINT" in text
    (entry,) = exports_recorded(clinic)
    assert entry.action == "export.chart" and entry.user == "drmartin"
    assert entry.after is not None
    assert entry.after["format"] == "csv" and entry.after["chart_number"] == "C-2001"
    assert entry.after["checkpoint"] in text.replace("\n", "") or entry.after[
        "checkpoint"
    ].split()[0] in text
    assert sorted(f["name"] for f in entry.after["files"]) == sorted(
        p.name for p in planned_files(out, "C-2001", "csv")
    )


async def test_existing_files_are_kept_unless_the_user_says_replace(
    clinic: Clinic, make_app: MakeApp, tmp_path: Path
) -> None:
    out = tmp_path / "exports"
    out.mkdir()
    (target,) = planned_files(out, "C-2001", "pdf")
    target.write_text("kept")
    app = make_app(clinic.path)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_export_from_chart(pilot, clinic, out, "pdf")
        assert "1 of these already exist" in visible_text(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert str(target) in str(app.screen.query_one("#confirm-message").render())
        await pilot.press("escape")  # cancel
        await settle(pilot)
        assert isinstance(app.screen, ExportScreen)
        assert "Nothing was exported: the existing files were kept." in visible_text(pilot)
        assert target.read_text() == "kept"
        assert exports_recorded(clinic) == []

        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.click("#confirm-ok")
        await settle(pilot, rounds=5)
        assert "Exported. Written:" in visible_text(pilot)
    assert target.read_bytes().startswith(b"%PDF")
    assert [e.after["format"] for e in exports_recorded(clinic) if e.after] == ["pdf"]


async def test_palette_export_without_a_chart_asks_for_the_chart_number(
    clinic: Clinic, make_app: MakeApp, tmp_path: Path
) -> None:
    app = make_app(clinic.path)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"export chart")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ExportScreen)
        screen.query_one("#export-folder", Input).value = str(tmp_path)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "Type a chart number." in visible_text(pilot)

        screen.query_one("#export-chart", Input).value = "C-9999"
        await settle(pilot)
        assert "no patient has chart number C-9999" in visible_text(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "Not exported: no patient has chart number C-9999" in visible_text(pilot)

        screen.query_one("#export-chart", Input).value = "C-2002"
        screen.query_one("#export-format", Select).value = "fhir"
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot, rounds=5)
        assert "Exported. Written:" in visible_text(pilot)
    bundle = json.loads((tmp_path / "C-2002.fhir.json").read_text())
    assert bundle["resourceType"] == "Bundle"
    assert [e.entity_id for e in exports_recorded(clinic)] == [str(clinic.patients["dubois"])]


async def test_a_file_appearing_during_the_export_is_never_replaced(
    clinic: Clinic, make_app: MakeApp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "exports"
    out.mkdir()
    (target,) = planned_files(out, "C-2001", "json")
    target.write_text("written by someone else")
    # The screen's look before exporting misses it, as if it appeared just after.
    monkeypatch.setattr("tui.screens.export.planned_files", lambda *args: [])
    app = make_app(clinic.path)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_export_from_chart(pilot, clinic, out, "json")
        await pilot.press("ctrl+s")
        await settle(pilot, rounds=5)
        text = visible_text(pilot)
        assert "Not exported:" in text and "nothing was replaced" in text
    assert target.read_text() == "written by someone else"
    assert exports_recorded(clinic) == []


async def test_after_an_export_its_own_files_are_not_called_already_existing(
    clinic: Clinic, make_app: MakeApp, tmp_path: Path
) -> None:
    out = tmp_path / "exports"
    app = make_app(clinic.path)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_export_from_chart(pilot, clinic, out, "pdf")
        await pilot.press("ctrl+s")
        await settle(pilot, rounds=5)
        text = visible_text(pilot)
        assert "Exported. Written:" in text
        assert "already exist" not in text
        assert "Written just now; exporting again asks before replacing them." in text
        # Exporting again still asks first.
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(pilot.app.screen, ConfirmScreen)
