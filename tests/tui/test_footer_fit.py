"""The footer keeps every key at 80×24 and 120×40: a second line rather than lost keys."""

from __future__ import annotations

import pytest
from textual.pilot import Pilot

from tests.tui.demo_data import Demo
from tests.tui.fixture_types import MakeApp
from tests.tui.pilot_helpers import screen_text, settle, show_chart, sign_in, until
from tui.screens.formulation_editor import FormulationEditorScreen
from tui.screens.help import HelpScreen
from tui.screens.session import SessionScreen
from tui.widgets.key_footer import KeyFooter


async def footer_lines(pilot: Pilot[None]) -> list[str]:
    """The footer's lines as drawn, once its height has followed its keys."""
    await settle(pilot)
    await pilot.pause(0.2)
    footer = pilot.app.screen.query_one(KeyFooter)
    return screen_text(pilot).splitlines()[-footer.size.height :]


async def assert_every_key_shown(pilot: Pilot[None], where: str) -> None:
    """Each key the footer means to show (all but Theme's kind) is on screen whole."""
    lines = await footer_lines(pilot)
    text = " ".join(lines)
    footer = pilot.app.screen.query_one(KeyFooter)
    for item in footer.items():
        if not item.optional:
            assert f"{item.display} {item.description}" in text, (where, item, lines)
    assert "f1 Help" in text and "^p" in text, (where, lines)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_a_busy_chart_keeps_export_lock_and_help(
    demo: Demo, make_app: MakeApp, size: tuple[int, int]
) -> None:
    app = make_app(demo.path)
    async with app.run_test(size=size) as pilot:
        await sign_in(pilot)
        await show_chart(pilot, demo.patients["moreau"])
        lines = await footer_lines(pilot)
        text = " ".join(lines)
        for key in (
            "^x Export", "^l Lock", "f1 Help", "f6 Consent", "f7 Outcome", "f8 Course"
        ):
            assert key in text, (size, key, lines)
        # Two lines even at 120 columns: every key keeps its whole name.
        assert len(lines) == 2
        # A key on the second line is pressed by a click like one on the first.
        row = next(i for i, line in enumerate(lines) if "f1 Help" in line)
        await pilot.click(KeyFooter, offset=(lines[row].index("f1 Help") + 1, row))
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)


async def test_no_key_is_lost_under_the_palette_at_80_columns(
    demo: Demo, make_app: MakeApp
) -> None:
    app = make_app(demo.path)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot)
        await assert_every_key_shown(pilot, "patients, search")
        # The list has the focus after a chart is closed: its Enter joins the keys.
        app.screen.query_one("#patient-list").focus()
        await assert_every_key_shown(pilot, "patients, list")
        # One line still, as with the search box: Enter in either opens a patient.
        assert len(await footer_lines(pilot)) == 1
        await show_chart(pilot, demo.patients["dubois"])
        await assert_every_key_shown(pilot, "chart")
        await pilot.press("ctrl+n")
        await until(pilot, lambda: isinstance(app.screen, SessionScreen))
        await assert_every_key_shown(pilot, "session")
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("ctrl+f")
        await until(pilot, lambda: isinstance(app.screen, FormulationEditorScreen))
        app.screen.query_one("DataTable").focus()
        await assert_every_key_shown(pilot, "formulation editor, components")
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("f5")
        await settle(pilot)
        await assert_every_key_shown(pilot, "formulary and stock")
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("f6")
        await settle(pilot)
        await assert_every_key_shown(pilot, "audit")
