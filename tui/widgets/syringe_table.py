"""What is in the syringe: every component, its amounts and the lot drawn.

The session screen and the review-and-sign dialog show the same table. The amounts
come from :func:`formulary.preparation.syringe`; this widget only lays them out.
"""

from __future__ import annotations

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text
from textual.widget import Widget

from formulary.preparation import Syringe
from formulary.units import format_amount
from formulary.units.amount import Amount
from formulary.units.display import DISPLAY_SIGNIFICANT


def _amount(value: Amount) -> str:
    return format_amount(value, significant=DISPLAY_SIGNIFICANT)


def syringe_table(
    shown: Syringe, *, warning_style: str = "bold yellow", error_style: str = "bold red"
) -> Table:
    """The rows of ``shown`` as a Rich table (component lines, then their ingredients)."""
    table = Table(expand=True, show_edge=False, pad_edge=False, header_style="bold")
    table.add_column("#", no_wrap=True, width=2)
    table.add_column("Component", ratio=1)
    table.add_column("Amount", no_wrap=True)
    table.add_column("Final conc.", no_wrap=True)
    table.add_column("Lot drawn", ratio=1)
    for line in shown.lines:
        if line.lot is None:
            lot = Text(f"⚠ {line.lot_text}", style=warning_style)
        elif line.lot.state:  # a recalled (or otherwise refused) lot is shown, loudly
            lot = Text(line.lot_text, style=error_style)
        else:
            lot = Text(line.lot_text)
        kind = "" if line.is_product else " (ingredient)"
        # An ingredient added by amount is its own single line.
        alone = not line.is_product and len(line.ingredients) == 1
        table.add_row(
            str(line.position),
            Text(line.name + kind, style="bold"),
            _amount(line.amount),
            _amount(line.ingredients[0].final_concentration) if alone else "",
            lot,
        )
        for ingredient in () if alone else line.ingredients:
            name = ingredient.name + (f" ({ingredient.form})" if ingredient.form else "")
            table.add_row(
                "",
                Text(f"  · {name}"),
                _amount(ingredient.amount),
                _amount(ingredient.final_concentration),
                "",
            )
        if line.problem:
            table.add_row("", Text(f"  amounts unavailable: {line.problem}", style="italic"))
    if shown.final_volume is not None:
        table.add_row("", Text("Final volume", style="bold"), _amount(shown.final_volume))
    return table


class SyringeTable(Widget):
    """Shows a :class:`~formulary.preparation.Syringe` (read-only)."""

    DEFAULT_CSS = """
    SyringeTable { height: auto; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        #: What is shown (None until :meth:`show`).
        self.syringe: Syringe | None = None

    def show(self, shown: Syringe) -> None:
        """Replace the table with ``shown``."""
        self.syringe = shown
        self.refresh(layout=True)

    def render(self) -> RenderableType:
        # Built at each render, at the width of the moment (the lot column wraps).
        if self.syringe is None:
            return ""
        theme = self.app.current_theme
        return syringe_table(
            self.syringe,
            warning_style=f"bold {theme.warning}",
            error_style=f"bold {theme.error}",
        )
