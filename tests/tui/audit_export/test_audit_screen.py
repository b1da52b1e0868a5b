"""The audit screen as a user drives it: list, filters, before/after, verification."""

from __future__ import annotations

import sqlite3

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, ProgressBar

from db.store import AuditEntry
from tests.tui.audit_export.clinic import ADMIN, ASSISTANT, AUDITOR, DOCTOR, Clinic, open_store
from tests.tui.audit_export.pilot import settle, sign_in, visible_text
from tests.tui.fixture_types import MakeApp
from tui.screens.audit import AuditScreen
from tui.screens.patients import PatientsScreen


async def open_audit(pilot: Pilot[None], who: tuple[str, str, str] = DOCTOR) -> AuditScreen:
    await sign_in(pilot, who)
    assert isinstance(pilot.app.screen, PatientsScreen)
    await pilot.press("f6")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, AuditScreen)
    return screen


def rows(screen: AuditScreen) -> list[tuple[str, ...]]:
    table = screen.query_one("#audit-table", DataTable)
    return [tuple(str(c) for c in table.get_row_at(i)) for i in range(table.row_count)]


def store_entries(clinic: Clinic, action: str) -> list[AuditEntry]:
    store = open_store(clinic.path)
    try:
        admin = store.authenticate(ADMIN[0], ADMIN[2])
        return store.audit_events(admin, action_prefix=action)
    finally:
        store.database.dispose()


async def test_newest_first_with_before_and_after_side_by_side(
    clinic: Clinic, make_app: MakeApp
) -> None:
    app = make_app(clinic.path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_audit(pilot)
        listed = rows(screen)
        # The sign-in just made is the newest entry; the seeded history follows.
        assert [r[0] for r in listed] == [str(n) for n in range(clinic.entries + 1, 0, -1)]
        assert listed[0][2:5] == ("drmartin", "auth.login", "app_user 2")
        text = visible_text(pilot)
        assert f"Showing all {clinic.entries + 1} entries." in text
        assert "no record was changed" in text

        await pilot.press("down")  # the re-grading of Dubois
        await pilot.pause()
        text = visible_text(pilot)
        assert "Entry 10 · 2026-10-01 08:08:00 UTC · drmartin at desk-1 · patient.update" in text
        assert "Reason: graded again at the consultation; consent signed" in text
        assert "Before" in text and "After" in text
        grade = next(line for line in text.splitlines() if '"III vertex"' in line)
        assert grade.split()[:2] == ["~", "grade"] and '"III"' in grade
        assert "4 field(s) changed" in text

        await pilot.press("ctrl+t")  # only what changed
        await pilot.pause()
        text = visible_text(pilot)
        assert "chart_number" not in text and "consent_on_file" in text


async def test_filters_by_user_action_patient_and_date(clinic: Clinic, make_app: MakeApp) -> None:
    app = make_app(clinic.path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_audit(pilot)

        async def apply(**values: str) -> list[str]:
            for field in ("patient", "user", "action", "from", "to"):
                screen.query_one(f"#filter-{field}", Input).value = values.get(field, "")
            screen.query_one("#filter-patient", Input).focus()
            await pilot.press("enter")
            await settle(pilot)
            return [r[0] for r in rows(screen)]

        assert await apply(user="admin") == ["5", "4", "3"]
        assert await apply(action="patient.") == ["10", "9", "8", "7"]
        assert await apply(patient="C-2001") == ["9", "7"]
        assert "Showing all 2 entries matching patient C-2001." in visible_text(pilot)
        assert await apply(patient="C-2001", action="patient.add") == ["9"]
        assert await apply(**{"from": "2026-10-02"}) == [str(clinic.entries + 1)]
        assert await apply(**{"to": "2026-10-01", "user": "drmartin"}) == ["10", "9", "8", "7", "6"]

        before = [r[0] for r in rows(screen)]
        assert await apply(**{"from": "1 Oct"}) == before  # refused: nothing reloaded
        text = visible_text(pilot)
        assert "'1 Oct' is not a date; type it as YYYY-MM-DD." in text

        await apply(patient="C-9999")
        assert "no patient has chart number C-9999" in visible_text(pilot)

        await pilot.press("ctrl+u")
        await settle(pilot)
        assert len(rows(screen)) == clinic.entries + 1
        assert screen.query_one("#filter-from", Input).value == ""


async def test_verify_reports_intact_and_is_itself_audited(
    clinic: Clinic, make_app: MakeApp
) -> None:
    app = make_app(clinic.path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_audit(pilot)
        await pilot.press("f8")
        await settle(pilot)
        text = visible_text(pilot)
        n = clinic.entries + 1
        assert f"Audit trail intact: {n} entries; {n} after the newest checkpoint (there is" in text
        bar = screen.query_one("#verify-progress", ProgressBar)
        assert bar.total == bar.progress == n
        # The verification is the newest entry, on screen and in the Store.
        assert rows(screen)[0][2:5] == ("drmartin", "audit.verify", "audit_event")
    recorded = store_entries(clinic, "audit.verify")
    assert len(recorded) == 1
    assert recorded[0].user == "drmartin" and recorded[0].workstation == "desk-1"
    assert recorded[0].after is not None
    assert recorded[0].after["status"] == "ok" and recorded[0].after["rows"] == clinic.entries + 1


async def test_verify_counts_entries_after_the_newest_checkpoint(
    clinic: Clinic, make_app: MakeApp
) -> None:
    from db.audit.service import checkpoint_database

    store = open_store(clinic.path)
    checkpoint_database(store.database)  # signs seq 10 into the installation's log
    store.database.dispose()
    app = make_app(clinic.path)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_audit(pilot)
        await pilot.press("f8")
        await settle(pilot)
        # The first checkpoint pins the key (one entry); the sign-in follows it.
        n = clinic.entries + 2
        assert f"Audit trail intact: {n} entries; 1 after the newest checkpoint." in visible_text(
            pilot
        )


async def test_verify_names_the_first_altered_entry(clinic: Clinic, make_app: MakeApp) -> None:
    with sqlite3.connect(clinic.path) as raw:  # an attacker behind the Store's back
        raw.execute("DROP TRIGGER audit_event_no_update")
        raw.execute("UPDATE audit_event SET user_name = 'mallory' WHERE seq = 7")
    app = make_app(clinic.path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_audit(pilot)
        await pilot.press("f8")
        await settle(pilot)
        text = visible_text(pilot)
        assert "ALTERED at entry 7: seq 7: the stored hash does not match the row's contents" in (
            text
        )
        assert screen.query_one("#verify-result").has_class("danger")
    recorded = store_entries(clinic, "audit.verify")
    assert recorded[0].after is not None and recorded[0].after["first_bad_seq"] == 7


async def test_palette_command_opens_the_screen_and_verifies(
    clinic: Clinic, make_app: MakeApp
) -> None:
    app = make_app(clinic.path)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"verify audit trail")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot, rounds=5)
        assert isinstance(app.screen, AuditScreen)
        assert f"Audit trail intact: {clinic.entries + 1} entries" in visible_text(pilot)


async def test_auditor_reads_and_verifies_assistant_is_refused(
    clinic: Clinic, make_app: MakeApp
) -> None:
    app = make_app(clinic.path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_audit(pilot, AUDITOR)
        assert rows(screen)[0][2:4] == ("audit", "auth.login")
        await pilot.press("f8")
        await settle(pilot)
        assert "Audit trail intact" in visible_text(pilot)
    app = make_app(clinic.path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_audit(pilot, ASSISTANT)
        assert rows(screen) == []
        assert "open to administrators, practitioners and auditors; you are assistant" in (
            visible_text(pilot)
        )
        await pilot.press("f8")
        await settle(pilot)
    assert [e.user for e in store_entries(clinic, "audit.verify")] == ["audit"]


async def test_a_verification_that_cannot_run_says_why_and_keeps_the_list(
    clinic: Clinic, make_app: MakeApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    import db.audit.service

    def cannot_run(*args: object, **kwargs: object) -> None:
        raise OSError("the installation's checkpoint log cannot be read")

    monkeypatch.setattr(db.audit.service, "verify_database", cannot_run)
    app = make_app(clinic.path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_audit(pilot)
        before = rows(screen)
        await pilot.press("f8")
        await settle(pilot)
        text = visible_text(pilot)
        assert (
            "Verification could not run: the installation's checkpoint log cannot be read" in text
        )
        assert screen.query_one("#verify-result").has_class("danger")
        assert not screen.query_one("#verify-progress", ProgressBar).display
        assert rows(screen) == before  # the entries already shown stay shown
