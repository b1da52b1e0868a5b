"""Signing a consent through the app: from an open chart, f6, ctrl+n, name, password."""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets import Input

from tests.tui.clinic_helpers import type_into
from tests.tui.pilot_helpers import screen_text, settle, until


async def sign_consent_in_app(pilot: Pilot[None], typed_name: str, password: str) -> None:
    """From the patient chart: open the consent screen, sign with the patient, come back."""
    from tui.screens.consent import ConsentScreen, ConsentSignScreen
    from tui.screens.patient import PatientScreen

    chart = pilot.app.screen
    assert isinstance(chart, PatientScreen)
    await pilot.press("f6")
    await until(pilot, lambda: isinstance(pilot.app.screen, ConsentScreen)
                and pilot.app.screen.data is not None)
    await pilot.press("ctrl+n")
    await until(pilot, lambda: isinstance(pilot.app.screen, ConsentSignScreen))
    dialog = pilot.app.screen
    # The typed name field has the focus: the patient types at once.
    assert isinstance(pilot.app.focused, Input) and pilot.app.focused.id == "c-typed-name"
    await type_into(pilot, "#c-typed-name", typed_name)
    dialog.query_one("#c-password", Input).value = password
    await pilot.press("ctrl+s")
    await until(pilot, lambda: isinstance(pilot.app.screen, ConsentScreen))
    await until(pilot, lambda: "Signed and in force" in screen_text(pilot))
    await pilot.press("escape")
    await until(pilot, lambda: pilot.app.screen is chart)
    await settle(pilot)
