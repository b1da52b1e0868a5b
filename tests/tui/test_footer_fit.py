"""The footer keeps every key at 80×24 and 120×40: a second line rather than lost keys."""

from __future__ import annotations

import pytest

from tests.tui.demo_data import Demo
from tests.tui.fixture_types import MakeApp
from tests.tui.pilot_helpers import screen_text, settle, show_chart, sign_in
from tui.screens.help import HelpScreen
from tui.widgets.key_footer import KeyFooter


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_a_busy_chart_keeps_export_lock_and_help(
    demo: Demo, make_app: MakeApp, size: tuple[int, int]
) -> None:
    app = make_app(demo.path)
    async with app.run_test(size=size) as pilot:
        await sign_in(pilot)
        await show_chart(pilot, demo.patients["moreau"])
        await settle(pilot)
        await pilot.pause(0.2)
        footer = app.screen.query_one(KeyFooter)
        lines = screen_text(pilot).splitlines()[-footer.size.height :]
        text = " ".join(lines)
        for key in ("^x Export", "^l Lock", "f1 Help", "f7 Outcome", "f8 Course"):
            assert key in text, (size, key, lines)
        assert footer.size.height == (2 if size[0] == 80 else 1)
        # A key on the second line is pressed by a click like one on the first.
        row = next(i for i, line in enumerate(lines) if "f1 Help" in line)
        await pilot.click(KeyFooter, offset=(lines[row].index("f1 Help") + 1, row))
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
