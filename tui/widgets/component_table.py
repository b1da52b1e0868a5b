"""A formulation version's components and what each ingredient comes to per session."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from formulary.records import FormulationVersion
from formulary.units import format_amount


class ComponentTable(DataTable[str | Text]):
    """Read-only view of one version: components, then per-ingredient lines."""

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = True
        self.add_columns("#", "Component", "Amount", "Per session", "In final mix")

    def show(self, version: FormulationVersion | None) -> None:
        """Replace the rows with ``version`` (None: no formulation yet)."""
        self.clear()
        if version is None:
            return
        for component in sorted(version.components, key=lambda c: c.position):
            self.add_row(
                str(component.position),
                Text(component.name, style="bold"),
                format_amount(component.amount),
                "",
                "",
            )
        for line in version.ingredient_lines:
            name = line.ingredient_name + (f" ({line.form})" if line.form else "")
            self.add_row(
                "",
                Text("  · " + name),
                "",
                format_amount(line.amount_per_session),
                format_amount(line.final_concentration) if line.final_concentration else "",
            )
        if version.final_volume is not None:
            self.add_row(
                "", Text("Total volume", style="bold"), format_amount(version.final_volume), "", ""
            )
