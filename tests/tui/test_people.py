"""Users and patients in a new clinic: from `formulary init` (no demo), by the screens only."""

from __future__ import annotations

from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from textual.screen import Screen
from textual.widgets import DataTable, Input

from db.database import open_database
from db.store import Actor, Store
from formulary.records import Role
from formulary.units.amount import Amount
from tests.tui.clinic_helpers import (
    ADMIN,
    add_patient,
    create_user,
    init_clinic,
    open_users,
    type_into,
)
from tests.tui.fixture_types import MakeApp
from tests.tui.pilot_helpers import screen_text, settle, sign_in, until
from tui.app import FormularyApp
from tui.screens.form_guard import DiscardChangesScreen
from tui.screens.patient import PatientScreen
from tui.screens.patient_form import PatientFormScreen
from tui.screens.patients import PatientsScreen
from tui.screens.users import ResetPasswordScreen, UsersScreen
from tui.widgets.field_row import FieldRow


@pytest.fixture
def clinic(tmp_path: Path) -> Path:
    """A clinic just made with `formulary init --admin` (no demo, no patients)."""
    return init_clinic(tmp_path / "clinic.db")


def _is_on_top(app: FormularyApp, kind: type[Screen[Any]]) -> bool:
    return isinstance(app.screen, kind)


def _store(path: Path) -> tuple[Store, Actor]:
    database = open_database(path, create=False)
    store = Store(database, "test")
    return store, store.authenticate(ADMIN[0], ADMIN[2])


async def test_admin_manages_users_in_the_app(clinic: Path, make_app: MakeApp) -> None:
    app = make_app(clinic)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, ADMIN[0], ADMIN[2])
        await open_users(pilot)
        await create_user(
            pilot, "dr.martin", "Dr Claire Martin", Role.PRACTITIONER, "martin-pw-2026"
        )
        await create_user(pilot, "sam", "Sam Assistant", Role.ASSISTANT, "sam-pw-2026!")
        screen = app.screen
        assert isinstance(screen, UsersScreen)
        text = screen_text(pilot)
        assert "Dr Claire Martin" in text and "assistant" in text
        # Deactivate the assistant: f3 asks for a reason, the audit keeps it.
        screen.query_one("#users", DataTable).move_cursor(
            row=[u.username for u in screen.users].index("sam")
        )
        await pilot.press("f3")
        await pilot.pause()
        await pilot.press(*"left the clinic".replace(" ", "_"))
        await pilot.press("enter")
        await until(pilot, lambda: not next(u for u in screen.users if u.username == "sam").active)
        # The table measures its new rows when next idle: wait for the word to be drawn.
        await until(pilot, lambda: "deactivated" in screen_text(pilot))
        # Reset the practitioner's password.
        screen.query_one("#users", DataTable).move_cursor(
            row=[u.username for u in screen.users].index("dr.martin")
        )
        await pilot.press("f6")
        await until(pilot, lambda: isinstance(app.screen, ResetPasswordScreen))
        await type_into(pilot, "#r-password", "martin-new-pw-1")
        await type_into(pilot, "#r-password2", "martin-new-pw-1")
        await type_into(pilot, "#r-reason", "forgotten")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: app.screen is screen)
    store, admin = _store(clinic)
    try:
        users = {u.username: u for u in store.list_users(admin)}
        assert users["dr.martin"].role is Role.PRACTITIONER and users["dr.martin"].active
        assert users["sam"].role is Role.ASSISTANT and not users["sam"].active
        assert store.authenticate("dr.martin", "martin-new-pw-1").username == "dr.martin"
        actions = {(e.action, e.reason) for e in store.audit_events(admin, entity="app_user")}
        assert ("user.deactivate", "left_the_clinic") in actions
        assert any(a == "user.reset_password" and r == "forgotten" for a, r in actions)
    finally:
        store.database.dispose()


async def test_user_form_messages_follow_the_corrections(clinic: Path, make_app: MakeApp) -> None:
    from tui.screens.users import UserFormScreen

    app = make_app(clinic)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, ADMIN[0], ADMIN[2])
        await open_users(pilot)
        await pilot.press("ctrl+n")
        await until(pilot, lambda: _is_on_top(app, UserFormScreen))
        form = app.screen
        await type_into(pilot, "#u-password", "short")
        await pilot.press("ctrl+s")
        await settle(pilot)

        def errors() -> dict[str, str]:
            return {row.id or "": row.error for row in form.query(FieldRow) if row.error}

        assert set(errors()) == {
            "row-u-username", "row-u-full-name", "row-u-role", "row-u-password"
        }
        # Still too short: the message stays; long enough: it goes.
        await type_into(pilot, "#u-password", "short7")
        await settle(pilot)
        assert errors()["row-u-password"] == "At least 8 characters."
        await type_into(pilot, "#u-password", "long-enough-pw")
        await settle(pilot)
        assert "row-u-password" not in errors()
        # The second password differs, but says so only when the form is saved again.
        assert "row-u-password2" not in errors()
        await type_into(pilot, "#u-username", "dr.lee")
        await settle(pilot)
        assert set(errors()) == {"row-u-full-name", "row-u-role"}


async def test_a_practitioner_cannot_reach_the_users_screen(
    clinic: Path, make_app: MakeApp
) -> None:
    store, admin = _store(clinic)
    store.create_user(admin, "dr.martin", "Dr Claire Martin", Role.PRACTITIONER, "martin-pw-2026")
    store.database.dispose()
    app = make_app(clinic)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, "dr.martin", "martin-pw-2026")
        assert not app.command_available("users")
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Users")
        await pilot.pause(0.5)
        assert "reset a password" not in screen_text(pilot)
        await pilot.press("escape")
        app.run_command("users")
        await settle(pilot)
        assert not isinstance(app.screen, UsersScreen)
        assert isinstance(app.screen, PatientsScreen)


async def test_new_patient_with_weight_in_pounds_and_an_allergy(
    clinic: Path, make_app: MakeApp
) -> None:
    app = make_app(clinic)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, ADMIN[0], ADMIN[2])
        await add_patient(
            pilot, "N-1", "Petit", "Jeanne", "1980-12-31",
            weight="154 lb", weighed_on="2026-11-02", allergies="lidocaine (urticaria)",
        )
        assert "PETIT, Jeanne" in screen_text(pilot)
        chart_screen = app.screen
        assert isinstance(chart_screen, PatientScreen) and chart_screen.chart is not None
        patient_id = chart_screen.chart.patient.id
        # Edit: one more weight, one more allergy, and the reason the audit keeps.
        await pilot.press("ctrl+e")
        await until(pilot, lambda: isinstance(app.screen, PatientFormScreen))
        form = app.screen
        await until(pilot, lambda: "154 lb" in str(form.query_one("#weight-history").render()))
        await type_into(pilot, "#f-weight", "70 kg")
        await type_into(pilot, "#f-allergies", "lidocaine (urticaria); latex")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert form.query_one("#row-reason", FieldRow).error.startswith("Give a reason")
        await type_into(pilot, "#f-reason", "latex allergy reported")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, PatientScreen))
    store, admin = _store(clinic)
    try:
        patient = store.get_patient(admin, patient_id)
        assert patient.weight_kg == Amount(Decimal("70"), "kg")
        assert [a.substance for a in patient.allergies] == ["lidocaine", "latex"]
        history = store.weight_history(admin, patient_id)
        assert [h.entered for h in history] == [
            Amount(Decimal("70"), "kg"), Amount(Decimal("154"), "lb")
        ]
        assert history[1].weight_kg == Amount(Decimal("69.85322498"), "kg")
        update = [e for e in store.audit_events(admin, entity="patient")
                  if e.action == "patient.update"]
        assert update[-1].reason == "latex allergy reported"
        assert update[-1].after is not None and "latex" in str(update[-1].after["allergies"])
    finally:
        store.database.dispose()


async def test_forms_take_the_first_keys_and_ask_before_discarding(
    clinic: Path, make_app: MakeApp
) -> None:
    app = make_app(clinic)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, ADMIN[0], ADMIN[2])
        await pilot.press("ctrl+n")
        await until(pilot, lambda: isinstance(app.screen, PatientFormScreen))
        form = app.screen
        await pilot.press(*"C-9")  # no click first: the chart number has the focus
        assert form.query_one("#f-chart", Input).value == "C-9"
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, DiscardChangesScreen))
        await pilot.press("escape")  # keep editing: nothing lost
        await until(pilot, lambda: app.screen is form)
        assert form.query_one("#f-chart", Input).value == "C-9"
        # A date of the right shape that does not exist is named as such.
        await type_into(pilot, "#f-dob", "1986-02-30")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert form.query_one("#row-dob", FieldRow).error == (
            "February 1986 has no day 30; check the day."
        )
        assert form.query_one("#row-family", FieldRow).error.startswith("Required")
        # A year outside what a chart holds is named beside the field, not refused by the
        # Store after saving at the top of the form (out of view).
        await type_into(pilot, "#f-dob", "0001-05-06")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert form.query_one("#row-dob", FieldRow).error == (
            "This date is in the year 1; dates must lie between 1900 and 2100: check the year."
        )
        # The message goes once the field is filled in.
        await type_into(pilot, "#f-family", "Roux")
        assert form.query_one("#row-family", FieldRow).error == ""
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, DiscardChangesScreen))
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, PatientsScreen))
        # An untouched form closes at once.
        await pilot.press("ctrl+n")
        await until(pilot, lambda: isinstance(app.screen, PatientFormScreen))
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, PatientsScreen))


async def test_course_outcome_and_export_dialogs_focus_their_first_field(
    clinic: Path, make_app: MakeApp
) -> None:
    from tui.screens.course_form import CourseFormScreen
    from tui.screens.export import ExportScreen
    from tui.screens.outcome_form import OutcomeFormScreen

    app = make_app(clinic)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, ADMIN[0], ADMIN[2])
        await add_patient(pilot, "F-1", "Focus", "Flora", "1975-03-04", weight="61 kg")
        chart = app.screen
        for key, kind, first in (
            ("f8", CourseFormScreen, "c-name"),
            ("f7", OutcomeFormScreen, "o-date"),
            ("ctrl+x", ExportScreen, "export-chart"),
        ):
            await pilot.press(key)
            await until(pilot, partial(_is_on_top, app, kind))
            await settle(pilot)
            assert app.focused is not None and app.focused.id == first, kind
            # Opened and left untouched: Escape closes at once.
            await pilot.press("escape")
            await until(pilot, lambda: app.screen is chart)
        # Typed into: Escape asks first.
        await pilot.press("f7")
        await until(pilot, lambda: isinstance(app.screen, OutcomeFormScreen))
        await settle(pilot)
        await pilot.press("backspace")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, DiscardChangesScreen))
        await pilot.press("d")
        await until(pilot, lambda: app.screen is chart)


async def test_a_locked_account_is_named_as_locked_on_the_lock_screen(
    clinic: Path, make_app: MakeApp
) -> None:
    """After five wrong passwords the right one says locked, and who can unlock."""
    from tui.screens.lock import LockScreen

    store, admin = _store(clinic)
    store.create_user(admin, "dr.martin", "Dr Claire Martin", Role.PRACTITIONER, "martin-pw-2026")
    store.database.dispose()
    app = make_app(clinic)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, "dr.martin", "martin-pw-2026")
        app.action_lock()
        await until(pilot, lambda: isinstance(app.screen, LockScreen))
        for _ in range(5):
            await type_into(pilot, "#unlock-password", "wrong-pw")
            await pilot.press("enter")
            await settle(pilot)
        await type_into(pilot, "#unlock-password", "martin-pw-2026")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, LockScreen)
        text = " ".join(str(app.screen.query_one("#unlock-error").render()).split())
        assert "locked after 5 wrong passwords" in text and "An administrator must" in text
        assert "Wrong password" not in text
