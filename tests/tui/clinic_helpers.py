"""A new clinic driven through the app: `formulary init`, users and patients by the screens.

Reusable by any app test that starts from an empty database (no demo):

- :func:`init_clinic` runs ``formulary init --admin`` on a fresh file;
- :func:`open_users` opens the users screen through the command palette;
- :func:`create_user` adds an account through the users screen's form;
- :func:`add_patient` fills the new patient form (weight in kg or lb, allergies) and saves.
"""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Input, Select
from typer.testing import CliRunner

from formulary.records import Role, Sex
from tests.tui.pilot_helpers import settle, until

#: The first administrator :func:`init_clinic` creates.
ADMIN = ("admin", "Ada Admin", "admin-first-day-1")


def init_clinic(path: Path, admin: tuple[str, str, str] = ADMIN) -> Path:
    """``formulary init --admin`` on ``path`` (no demo): an empty clinic with one admin."""
    from tui.cli.main import app

    username, full_name, password = admin
    result = CliRunner().invoke(
        app,
        ["init", "--db", str(path), "--admin", username, "--full-name", full_name,
         "--password-stdin"],
        input=password + "\n",
    )
    assert result.exit_code == 0, result.output
    return path


async def type_into(pilot: Pilot[None], selector: str, text: str) -> None:
    """Focus the field ``selector`` on the current screen and type ``text`` as keys."""
    field = pilot.app.screen.query_one(selector, Input)
    field.focus()
    await pilot.pause()
    field.value = ""
    await pilot.press(*[c if c != " " else "space" for c in text])


async def open_users(pilot: Pilot[None]) -> None:
    """Open the users screen the way an administrator does: the command palette."""
    from tui.screens.users import UsersScreen

    await pilot.press("ctrl+p")
    await pilot.pause()
    await pilot.press(*"Users")
    await pilot.pause(0.3)
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(pilot.app.screen, UsersScreen))


async def create_user(
    pilot: Pilot[None], username: str, full_name: str, role: Role, password: str
) -> None:
    """On the users screen: ctrl+n, fill the form, ctrl+s; waits until it is listed."""
    from tui.screens.users import UserFormScreen, UsersScreen

    screen = pilot.app.screen
    assert isinstance(screen, UsersScreen)
    await pilot.press("ctrl+n")
    await until(pilot, lambda: isinstance(pilot.app.screen, UserFormScreen))
    form = pilot.app.screen
    await type_into(pilot, "#u-username", username)
    await type_into(pilot, "#u-full-name", full_name)
    form.query_one("#u-role", Select).value = role
    await type_into(pilot, "#u-password", password)
    await type_into(pilot, "#u-password2", password)
    await pilot.press("ctrl+s")
    await until(pilot, lambda: pilot.app.screen is screen)
    await until(pilot, lambda: any(u.username == username for u in screen.users))


async def add_patient(
    pilot: Pilot[None],
    chart: str,
    family: str,
    given: str,
    born: str,
    *,
    sex: Sex = Sex.FEMALE,
    weight: str = "",
    allergies: str = "",
    weighed_on: str = "",
) -> None:
    """From the patient list: ctrl+n, type the form (weight like ``154 lb``), ctrl+s.

    Waits until the new chart is open.
    """
    from tui.screens.patient import PatientScreen
    from tui.screens.patient_form import PatientFormScreen

    await pilot.press("ctrl+n")
    await until(pilot, lambda: isinstance(pilot.app.screen, PatientFormScreen))
    form = pilot.app.screen
    # The form focuses its first field: the chart number is typed straight in.
    await pilot.press(*chart)
    await type_into(pilot, "#f-family", family)
    await type_into(pilot, "#f-given", given)
    await type_into(pilot, "#f-dob", born)
    form.query_one("#f-sex", Select).value = sex
    if weight:
        await type_into(pilot, "#f-weight", weight)
    if weighed_on:
        await type_into(pilot, "#f-weighed", weighed_on)
    if allergies:
        await type_into(pilot, "#f-allergies", allergies)
    await pilot.press("ctrl+s")
    await settle(pilot)
    if pilot.app.screen is form:  # refused: say why, as the form does
        from tui.widgets.field_row import FieldRow

        problems = {r.id: r.error for r in form.query(FieldRow) if r.error}
        error = form.query_one("#form-error").render()
        raise AssertionError(f"the patient form refused: {problems} {error}")
    await until(pilot, lambda: isinstance(pilot.app.screen, PatientScreen))
    await settle(pilot)
