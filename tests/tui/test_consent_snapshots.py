"""SVG snapshots of the consent screens and dialogs (demo clinic), at 120×40.

Update after a deliberate change with
``pytest tests/tui/test_consent_snapshots.py --snapshot-update`` and look at the SVGs.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable

from tests.tui.demo_data import ADMIN, Demo
from tests.tui.fixture_types import MakeApp, SnapCompare, formulary_app
from tests.tui.pilot_helpers import screen_text, settle, sign_in, until
from tui.screens.consent import ConsentScreen, ConsentSignScreen, ConsentWithdrawScreen
from tui.screens.consent_templates import ConsentTemplateFormScreen, ConsentTemplatesScreen

SIZE = (120, 40)


@pytest.fixture(autouse=True)
def utc_display(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Local times are shown in the workstation's zone: pin it so snapshots agree."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def _still(pilot: Pilot[None]) -> None:
    """No blinking cursor: the picture must not depend on timing."""
    pilot.app.screen.set_focus(None)


async def _consents(pilot: Pilot[None], demo: Demo, patient: str) -> ConsentScreen:
    await sign_in(pilot)
    formulary_app(pilot).open_patient(demo.patients[patient])
    await until(pilot, lambda: "Course" in screen_text(pilot))
    await settle(pilot)
    await pilot.press("f6")
    await until(pilot, lambda: isinstance(pilot.app.screen, ConsentScreen)
                and pilot.app.screen.data is not None)
    await settle(pilot, rounds=3)
    screen = pilot.app.screen
    assert isinstance(screen, ConsentScreen)
    return screen


def test_consent_screen(snap_compare: SnapCompare, demo: Demo, make_app: MakeApp) -> None:
    async def ready(pilot: Pilot[None]) -> None:
        screen = await _consents(pilot, demo, "dubois")
        assert screen.query_one("#consents", DataTable).row_count == 1
        _still(pilot)

    assert snap_compare(make_app(demo.path), terminal_size=SIZE, run_before=ready)


def test_consent_sign_dialog(snap_compare: SnapCompare, demo: Demo, make_app: MakeApp) -> None:
    async def ready(pilot: Pilot[None]) -> None:
        await _consents(pilot, demo, "nguyen")
        assert "NO CONSENT ON FILE" in screen_text(pilot)
        await pilot.press("ctrl+n")
        await until(pilot, lambda: isinstance(pilot.app.screen, ConsentSignScreen))
        await until(pilot, lambda: "The procedure" in screen_text(pilot))
        await settle(pilot, rounds=3)
        _still(pilot)

    assert snap_compare(make_app(demo.path), terminal_size=SIZE, run_before=ready)


def test_consent_withdraw_dialog(
    snap_compare: SnapCompare, demo: Demo, make_app: MakeApp
) -> None:
    async def ready(pilot: Pilot[None]) -> None:
        await _consents(pilot, demo, "dubois")
        await pilot.press("f3")
        await until(pilot, lambda: isinstance(pilot.app.screen, ConsentWithdrawScreen))
        await settle(pilot)
        _still(pilot)

    assert snap_compare(make_app(demo.path), terminal_size=SIZE, run_before=ready)


async def _templates(pilot: Pilot[None]) -> None:
    await sign_in(pilot, ADMIN[0], ADMIN[2])
    formulary_app(pilot).run_command("consent_templates")
    await until(pilot, lambda: isinstance(pilot.app.screen, ConsentTemplatesScreen)
                and "Scalp mesotherapy" in screen_text(pilot))
    await settle(pilot, rounds=3)


def test_consent_templates_screen(
    snap_compare: SnapCompare, demo: Demo, make_app: MakeApp
) -> None:
    async def ready(pilot: Pilot[None]) -> None:
        await _templates(pilot)
        _still(pilot)

    assert snap_compare(make_app(demo.path), terminal_size=SIZE, run_before=ready)


def test_consent_template_form(
    snap_compare: SnapCompare, demo: Demo, make_app: MakeApp
) -> None:
    async def ready(pilot: Pilot[None]) -> None:
        await _templates(pilot)
        await pilot.press("ctrl+e")
        await until(pilot, lambda: isinstance(pilot.app.screen, ConsentTemplateFormScreen))
        await settle(pilot, rounds=3)
        _still(pilot)

    assert snap_compare(make_app(demo.path), terminal_size=SIZE, run_before=ready)
