"""[ and ] step through a screen's tabs from wherever the focus is (a table, mostly)."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import TabbedContent

from tests.tui.clinic_helpers import ADMIN, init_clinic
from tests.tui.fixture_types import MakeApp
from tests.tui.new_clinic import clinic_app, new_clinic, open_chart
from tests.tui.pilot_helpers import screen_text, settle, sign_in, until
from tui.screens.patient import PatientScreen
from tui.screens.stock import StockScreen


def _active(app_screen: object) -> str:
    assert isinstance(app_screen, (StockScreen, PatientScreen))
    return str(app_screen.query_one(TabbedContent).active)


async def test_brackets_step_through_the_stock_tabs(tmp_path: Path, make_app: MakeApp) -> None:
    app = make_app(init_clinic(tmp_path / "clinic.db"))
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, ADMIN[0], ADMIN[2])
        await pilot.press("f5")
        await until(pilot, lambda: isinstance(app.screen, StockScreen))
        await settle(pilot)
        assert _active(app.screen) == "tab-lots"
        assert "Next tab" in screen_text(pilot)  # the footer names the key
        await pilot.press("right_square_bracket")
        await until(pilot, lambda: _active(app.screen) == "tab-limits")
        await pilot.press("right_square_bracket")  # wraps around to the first
        await until(pilot, lambda: _active(app.screen) == "tab-ingredients")
        await pilot.press("left_square_bracket")
        await until(pilot, lambda: _active(app.screen) == "tab-limits")
        await pilot.press("left_square_bracket", "left_square_bracket")
        await until(pilot, lambda: _active(app.screen) == "tab-products")
        # On the Products tab, ctrl+n is a new product (not a lot).
        assert "Products" in screen_text(pilot)


async def test_brackets_step_through_the_chart_tabs(tmp_path: Path) -> None:
    app = clinic_app(new_clinic(tmp_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await open_chart(pilot)
        assert isinstance(app.screen, PatientScreen)
        assert _active(app.screen) == "tab-overview"
        await pilot.press("right_square_bracket")
        await until(pilot, lambda: _active(app.screen) == "tab-formulation")
        await pilot.press("right_square_bracket")
        await until(pilot, lambda: _active(app.screen) == "tab-sessions")
        await pilot.press("left_square_bracket", "left_square_bracket")
        await until(pilot, lambda: _active(app.screen) == "tab-overview")
