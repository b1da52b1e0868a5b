"""Tables filled with their column widths measured at once, not when next idle."""

from __future__ import annotations

from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import DataTable

from tui.widgets.table_fill import cell_width, column_widths, fill_table


def test_widths_are_the_widest_of_header_and_cells() -> None:
    rows: list[tuple[str | Text, ...]] = [("v1", Text("dr.lee")), ("v12", "")]
    assert column_widths(("Version", "By"), rows) == [7, 6]
    assert cell_width(Text("two\nlines here")) == 10
    assert cell_width("é中") == 3  # a wide character takes two cells


async def test_columns_have_their_final_widths_before_the_table_is_idle() -> None:
    class Host(App[None]):
        def compose(self) -> ComposeResult:
            yield DataTable()

    async with Host().run_test() as pilot:
        table = pilot.app.query_one(DataTable)
        fill_table(table, ("User", "State"), [(("sam", Text("active")), "1")])
        await pilot.pause()
        fill_table(table, ("User", "State"), [(("sam", Text("deactivated")), "1")])
        # No pause: what a picture taken now would draw.
        assert [c.get_render_width(table) for c in table.ordered_columns] == [
            4 + 2 * table.cell_padding,
            11 + 2 * table.cell_padding,
        ]
        assert table.get_row_at(0)[1].plain == "deactivated"
