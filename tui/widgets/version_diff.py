"""Two formulation versions in one table: each component and ingredient, old beside new."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.widgets import DataTable

from formulary.export.ingredients import ingredient_table
from formulary.records import FormulationVersion, PatientChart
from formulary.units import format_amount
from formulary.units.amount import Amount
from formulary.units.display import DISPLAY_SIGNIFICANT


@dataclass(frozen=True, slots=True)
class DiffRow:
    """One line of the comparison; ``kind`` is section, component, ingredient or total."""

    kind: str
    name: str
    left: tuple[str, str] = ("", "")
    right: tuple[str, str] = ("", "")

    @property
    def change(self) -> str:
        """``added``, ``removed``, ``changed`` or empty (a section has none)."""
        if self.kind == "section" or self.left == self.right:
            return ""
        if not any(self.left):
            return "added"
        if not any(self.right):
            return "removed"
        return "changed"


def _shown(amount: Amount | None) -> str:
    return format_amount(amount, significant=DISPLAY_SIGNIFICANT) if amount else ""


def diff_rows(
    left: FormulationVersion, right: FormulationVersion, chart: PatientChart
) -> list[DiffRow]:
    """Components (by name) and ingredients (by ingredient and form), old then new.

    The ingredient amounts are worked out from the chart's product strengths; when a
    version's cannot be, the reason is given in place of its lines.
    """
    rows = [DiffRow("section", "Components")]
    amounts = [{c.name: c.amount for c in v.components} for v in (left, right)]
    names = [c.name for c in sorted(left.components, key=lambda c: c.position)]
    names += [
        c.name
        for c in sorted(right.components, key=lambda c: c.position)
        if c.name not in amounts[0]
    ]
    for name in names:
        rows.append(
            DiffRow(
                "component",
                name,
                (_shown(amounts[0].get(name)), ""),
                (_shown(amounts[1].get(name)), ""),
            )
        )
    rows.append(
        DiffRow(
            "total",
            "Final volume",
            (_shown(left.final_volume), ""),
            (_shown(right.final_volume), ""),
        )
    )
    rows.append(DiffRow("section", "Each ingredient: per session, in the final mix"))
    tables = [ingredient_table(chart, v) for v in (left, right)]
    lines = [{(line.ingredient_id, line.form): line for line in table.lines} for table in tables]
    keys = list(lines[0]) + [key for key in lines[1] if key not in lines[0]]
    for key in keys:
        sides = [side.get(key) for side in lines]
        line = sides[0] or sides[1]
        assert line is not None
        cells = [
            (_shown(s.amount_per_session), _shown(s.final_concentration)) if s else ("", "")
            for s in sides
        ]
        name = line.ingredient_name + (f" ({line.form})" if line.form else "")
        rows.append(DiffRow("ingredient", name, cells[0], cells[1]))
    for version, table in zip((left, right), tables, strict=True):
        if table.problem:
            rows.append(DiffRow("section", f"v{version.version}: {table.problem}"))
    return rows


class VersionDiffTable(DataTable[str | Text]):
    """Shows :func:`diff_rows` with the changed lines marked."""

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = True

    def show(
        self, left: FormulationVersion, right: FormulationVersion, chart: PatientChart
    ) -> None:
        """Replace the table with ``left`` compared to ``right``."""
        self.clear(columns=True)
        self.add_columns(
            "",
            f"v{left.version}",
            f"v{left.version} in mix",
            f"v{right.version}",
            f"v{right.version} in mix",
            "",
        )
        warning = self.app.current_theme.warning or "yellow"
        for row in diff_rows(left, right, chart):
            if row.kind == "section":
                self.add_row(Text(row.name, style="bold underline"), "", "", "", "", "")
                continue
            style = f"bold {warning}" if row.change else ""
            indent = "  " if row.kind == "ingredient" else ""
            self.add_row(
                Text(indent + row.name, style="bold" if row.kind == "total" else ""),
                *(Text(cell) for cell in row.left),
                *(Text(cell, style=style) for cell in row.right),
                Text(row.change, style=style),
            )
