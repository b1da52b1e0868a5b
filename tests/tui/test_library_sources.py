"""Where the app shows library facts, it shows what kind of source they rest on."""

from __future__ import annotations

from textual.widgets import DataTable

from tests.tui.demo_data import ADMIN, Demo
from tests.tui.fixture_types import MakeApp
from tests.tui.pilot_helpers import settle, sign_in, until
from tui.screens.formulation_editor import FormulationEditorScreen
from tui.screens.stock import StockScreen


def _rows(table: DataTable[object]) -> dict[str, list[str]]:
    rows = [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]
    return {row[0]: row for row in rows}


async def test_ingredients_show_their_source_kinds(demo: Demo, make_app: MakeApp) -> None:
    app = make_app(demo.path)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, ADMIN[0], ADMIN[2])
        await pilot.press("f5")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, StockScreen)
        table = screen.query_one("#ingredients", DataTable)
        await until(pilot, lambda: table.row_count > 50)
        rows = _rows(table)
        assert rows["Lidocaine hydrochloride"][4] == "label, paper"
        assert rows["Procaine hydrochloride"][4] == "label, SmPC, paper"
        for name in ("Niacinamide", "Riboflavin", "Coenzyme Q10", "Epidermal growth factor (EGF)"):
            assert rows[name][4] == "secondary web pages only", name


async def test_the_editor_marks_an_ingredient_on_secondary_sources_only(
    demo: Demo, make_app: MakeApp
) -> None:
    app = make_app(demo.path)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot)
        app.open_patient(demo.patients["dubois"])
        await settle(pilot)
        await pilot.press("ctrl+f")
        await until(pilot, lambda: getattr(app.screen, "data", None) is not None)
        screen = app.screen
        assert isinstance(screen, FormulationEditorScreen)
        await pilot.press(*"niacinamide")
        await pilot.press("down", "enter")
        await pilot.press(*"10 mg", "enter")
        await until(pilot, lambda: any(c.name == "Niacinamide" for c in screen.components))
        table = screen.query_one("#editor-table", DataTable)
        cells = [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]
        (line,) = [row for row in cells if row[1].strip() == "· Niacinamide"]
        assert line[5] == "facts from secondary web pages only"
        biotin = [row for row in cells if row[1].strip() == "· Biotin"]
        assert biotin and all(row[5] == "" for row in biotin)
