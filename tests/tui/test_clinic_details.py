"""The clinic's details in the app, from an empty database (``formulary init``, one admin).

The administrator opens *Clinic details* from the command palette, sees what the new
clinic holds, types a name, address, identifier and beyond-use time and saves; the
Store holds them and the audit trail has each part. Bad input is named beside its field
and nothing is saved; a practitioner sees the details read-only and cannot save; Escape
with typed data asks first.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Button, Input

from db.database import open_database
from db.store import Actor, Store
from formulary.clinic import DEFAULT_BEYOND_USE_MINUTES, MAX_BEYOND_USE_MINUTES
from formulary.photos import DEFAULT_MAX_BYTES
from formulary.records import Clinic, Role
from tests.tui.clinic_helpers import ADMIN, init_clinic, open_users, type_into
from tests.tui.fixture_types import MakeApp, user_of
from tests.tui.pilot_helpers import screen_text, settle, sign_in, until
from tui.app import FormularyApp
from tui.screens.clinic_details import READ_ONLY, ClinicDetailsScreen
from tui.screens.form_guard import DiscardChangesScreen
from tui.screens.patients import PatientsScreen
from tui.widgets.field_row import FieldRow

DOCTOR = ("dr.ito", "Dr Kenji Ito", "ito-password-1")


@pytest.fixture
def clinic(tmp_path: Path) -> Path:
    """A new clinic: ``formulary init`` with one administrator, nothing else."""
    return init_clinic(tmp_path / "clinic.db")


def _with_doctor(path: Path) -> None:
    database = open_database(path, create=False)
    try:
        store = Store(database, "test")
        admin = store.authenticate(ADMIN[0], ADMIN[2])
        store.create_user(admin, DOCTOR[0], DOCTOR[1], Role.PRACTITIONER, DOCTOR[2])
    finally:
        database.dispose()


def _records(path: Path) -> tuple[Clinic, list[str], str]:
    """What the Store holds: the clinic, the installation's audit actions, the db id."""
    database = open_database(path, create=False)
    try:
        store = Store(database, "test")
        admin = store.authenticate(ADMIN[0], ADMIN[2])
        actions = [e.action for e in store.audit_events(admin, action_prefix="installation.")]
        return store.clinic(admin), actions, database.db_id
    finally:
        database.dispose()


async def _open_from_palette(pilot: Pilot[None]) -> ClinicDetailsScreen:
    await pilot.press("ctrl+p")
    await pilot.pause()
    await pilot.press(*_keys("Clinic details"))
    await pilot.pause(0.3)
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(pilot.app.screen, ClinicDetailsScreen))
    screen = pilot.app.screen
    assert isinstance(screen, ClinicDetailsScreen)
    await until(pilot, lambda: screen.shown is not None)
    return screen


def _keys(text: str) -> list[str]:
    return [c if c != " " else "space" for c in text]


def _notices(app: FormularyApp) -> list[str]:
    """What the app told the user in its notifications, as "title: message"."""
    return [f"{n.title}: {n.message}" for n in app._notifications]


def _value(screen: ClinicDetailsScreen, ident: str) -> str:
    return screen.query_one(f"#{ident}", Input).value


def _errors(screen: ClinicDetailsScreen) -> dict[str, str]:
    return {row.id or "": row.error for row in screen.query(FieldRow) if row.error}


async def test_an_administrator_sets_the_new_clinics_details(
    clinic: Path, make_app: MakeApp
) -> None:
    _, actions_before, db_id = _records(clinic)
    app = make_app(clinic)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, ADMIN[0], ADMIN[2])
        screen = await _open_from_palette(pilot)
        # A new clinic: no name yet, the default identifier (the database id), the
        # default beyond-use time and photo limit.
        assert _value(screen, "c-name") == "" and _value(screen, "c-address") == ""
        assert _value(screen, "c-identifier") == ""
        assert db_id in screen.query_one("#c-identifier", Input).placeholder
        assert _value(screen, "c-beyond-use") == str(DEFAULT_BEYOND_USE_MINUTES)
        assert _value(screen, "c-photo-mb") == str(DEFAULT_MAX_BYTES // 2**20)
        assert app.focused is screen.query_one("#c-name", Input)
        # The first field has the focus: the name is typed straight in.
        await pilot.press(*_keys("Hair Clinic North"))
        await type_into(pilot, "#c-address", "1 Main Street, Springfield")
        await type_into(pilot, "#c-identifier", "north-clinic")
        await type_into(pilot, "#c-beyond-use", "90")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, PatientsScreen))
        assert _notices(app) == [
            "Clinic details: Clinic details saved: name, address, identifier, beyond-use time."
        ]
        saved = app.store.clinic(user_of(app))
        assert (saved.name, saved.address, saved.identifier, saved.beyond_use_minutes) == (
            "Hair Clinic North", "1 Main Street, Springfield", "north-clinic", 90)
        assert saved.photo_max_bytes == DEFAULT_MAX_BYTES  # untouched, not written
        # Opened again, it shows what was saved.
        screen = await _open_from_palette(pilot)
        assert _value(screen, "c-name") == "Hair Clinic North"
        assert _value(screen, "c-identifier") == "north-clinic"
        assert _value(screen, "c-beyond-use") == "90"
        # Only the identifier changes: only that part is written and audited.
        await type_into(pilot, "#c-identifier", "north-2")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, PatientsScreen))
    shown, actions, _ = _records(clinic)
    assert shown.identifier == "north-2" and shown.name == "Hair Clinic North"
    new = actions[: len(actions) - len(actions_before)]
    # Newest first: the identifier alone, then the name and address and the settings.
    assert new == [
        "installation.set_clinic_settings",
        "installation.set_clinic_settings",
        "installation.set_clinic",
    ]


async def _bad(
    pilot: Pilot[None], screen: ClinicDetailsScreen, field: str, text: str
) -> dict[str, str]:
    await type_into(pilot, f"#{field}", text)
    await pilot.press("ctrl+s")
    await settle(pilot)
    assert pilot.app.screen is screen  # still open, what was typed still there
    assert _value(screen, field) == text
    return _errors(screen)


async def test_bad_input_is_named_beside_its_field_and_nothing_is_saved(
    clinic: Path, make_app: MakeApp
) -> None:
    before, actions_before, _ = _records(clinic)
    app = make_app(clinic)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, ADMIN[0], ADMIN[2])
        screen = await _open_from_palette(pilot)
        await type_into(pilot, "#c-name", "Hair Clinic North")
        errors = await _bad(pilot, screen, "c-identifier", "north clinic")
        assert list(errors) == ["row-c-identifier"]
        assert errors["row-c-identifier"].startswith(
            "Clinic identifier 'north clinic' is not allowed: use 1 to 64 letters, digits")
        await type_into(pilot, "#c-identifier", "north")
        errors = await _bad(pilot, screen, "c-beyond-use", "0")
        assert errors == {"row-c-beyond-use": "Beyond-use time 0 min is out of range: give "
                          f"1 to {MAX_BEYOND_USE_MINUTES} minutes (45 days)."}
        errors = await _bad(pilot, screen, "c-beyond-use", "an hour")
        assert errors == {"row-c-beyond-use": "Type the beyond-use time as a whole number: "
                          f"1 to {MAX_BEYOND_USE_MINUTES} minutes (45 days)."}
        errors = await _bad(pilot, screen, "c-photo-mb", "500")
        assert list(errors) == ["row-c-beyond-use", "row-c-photo-mb"]
        assert errors["row-c-photo-mb"] == (
            "Photo limit 500 MB is out of range: give 1 to 200 MB.")
        # Corrected, the message goes as the field changes.
        await type_into(pilot, "#c-beyond-use", "45")
        assert "row-c-beyond-use" not in _errors(screen)
    after, actions, _ = _records(clinic)
    assert after == before and actions == actions_before


async def test_a_practitioner_sees_the_details_read_only(
    clinic: Path, make_app: MakeApp
) -> None:
    _with_doctor(clinic)
    before, actions_before, db_id = _records(clinic)
    app = make_app(clinic)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, DOCTOR[0], DOCTOR[2])
        assert app.user is not None and app.user.role == Role.PRACTITIONER
        screen = await _open_from_palette(pilot)
        text = screen_text(pilot)
        assert READ_ONLY in text
        assert f"{db_id} (the database id)" in text
        assert str(DEFAULT_BEYOND_USE_MINUTES) in text
        assert not screen.query(Input)  # nothing to type into
        assert not screen.query("#clinic-save")
        assert [b.id for b in screen.query(Button)] == ["clinic-cancel"]
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen
        assert _notices(app) == [f"Clinic details: {READ_ONLY}"]
        await pilot.press("escape")  # nothing typed: closes at once
        await until(pilot, lambda: isinstance(app.screen, PatientsScreen))
    after, actions, _ = _records(clinic)
    assert after == before and actions == actions_before


async def test_escape_with_typed_data_asks_first(clinic: Path, make_app: MakeApp) -> None:
    before, _, _ = _records(clinic)
    app = make_app(clinic)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, ADMIN[0], ADMIN[2])
        screen = await _open_from_palette(pilot)
        await pilot.press("escape")  # nothing typed: closes
        await until(pilot, lambda: isinstance(app.screen, PatientsScreen))
        screen = await _open_from_palette(pilot)
        await pilot.press(*"Hair")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, DiscardChangesScreen))
        await pilot.press("escape")  # keep editing
        await until(pilot, lambda: app.screen is screen)
        assert _value(screen, "c-name") == "Hair"
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, DiscardChangesScreen))
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, PatientsScreen))
    after, _, _ = _records(clinic)
    assert after == before


async def test_f8_on_the_users_screen_opens_it(clinic: Path, make_app: MakeApp) -> None:
    from tui.screens.users import UsersScreen

    app = make_app(clinic)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, ADMIN[0], ADMIN[2])
        await open_users(pilot)
        await pilot.press("f8")
        await until(pilot, lambda: isinstance(app.screen, ClinicDetailsScreen))
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, UsersScreen))


def test_the_store_writes_all_or_nothing(clinic: Path) -> None:
    """One Store call: a refused identifier leaves the new name unwritten too."""
    from db.errors import ValidationError

    database = open_database(clinic, create=False)
    try:
        store = Store(database, "test")
        admin: Actor = store.authenticate(ADMIN[0], ADMIN[2])
        with pytest.raises(ValidationError, match="letters, digits"):
            store.update_clinic(admin, name="Hair Clinic", identifier="a b")
        assert store.clinic(admin).name == ""
    finally:
        database.dispose()
