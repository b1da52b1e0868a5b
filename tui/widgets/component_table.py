"""A formulation version's components and what each ingredient comes to per session."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from formulary.export.ingredients import ingredient_table
from formulary.records import FormulationVersion, PatientChart
from formulary.units import format_amount
from formulary.units.display import DISPLAY_SIGNIFICANT


class ComponentTable(DataTable[str | Text]):
    """Read-only view of one version: components, then per-ingredient lines."""

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = True
        self.add_columns("#", "Component", "Amount", "Per session", "In final mix")

    def show(self, version: FormulationVersion | None, chart: PatientChart) -> None:
        """Replace the rows with ``version`` of ``chart`` (None: no formulation yet).

        The ingredient lines are worked out from the components and the labelled
        strengths of the chart's products (the database keeps the recipe, not results).
        """
        self.clear()
        if version is None:
            return
        table = ingredient_table(chart, version)
        for component in sorted(version.components, key=lambda c: c.position):
            self.add_row(
                str(component.position),
                Text(component.name, style="bold"),
                format_amount(component.amount),
                "",
                "",
            )
        for line in table.lines:
            name = line.ingredient_name + (f" ({line.form})" if line.form else "")
            self.add_row(
                "",
                Text("  · " + name),
                "",
                format_amount(line.amount_per_session, significant=DISPLAY_SIGNIFICANT),
                format_amount(line.final_concentration, significant=DISPLAY_SIGNIFICANT)
                if line.final_concentration
                else "",
            )
        if table.problem:
            self.add_row(
                "",
                Text(f"  per-ingredient amounts unavailable: {table.problem}", style="italic"),
                "",
                "",
                "",
            )
        if version.final_volume is not None:
            self.add_row(
                "", Text("Total volume", style="bold"), format_amount(version.final_volume), "", ""
            )
