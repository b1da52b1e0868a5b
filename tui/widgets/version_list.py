"""The list of a formulation's versions, newest first (chart and editor alike)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rich.text import Text
from textual.widgets import DataTable

from formulary.records import FormulationVersion
from tui.widgets.table_fill import fill_table

#: The versions list's columns.
VERSION_COLUMNS = ("Version", "Created", "By", "Components", "Used", "Note")


def show_versions(table: DataTable[Any], versions: Iterable[FormulationVersion]) -> None:
    """Fill ``table`` with ``versions``, newest first, keyed by version id."""
    fill_table(
        table,
        VERSION_COLUMNS,
        [
            (
                (
                    f"v{v.version}",
                    v.created_at.astimezone().strftime("%Y-%m-%d"),
                    Text(v.created_by),
                    str(len(v.components)),
                    "yes" if v.locked else "no",
                    Text(v.note),
                ),
                str(v.id),
            )
            for v in sorted(versions, key=lambda v: v.version, reverse=True)
        ],
    )
