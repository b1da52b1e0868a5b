"""Filling a DataTable whose columns are exactly as wide as their widest cell.

Textual's DataTable measures rows added to it when it is next idle, and draws them
with the widths it had until then (at first the headers' widths). Measuring here,
as the rows are given, makes what is drawn independent of when the table is idle:
a status that grows from ``active`` to ``deactivated`` is never drawn cut.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import DataTable

#: One cell: plain text, or text with styles.
Cell = str | Text


def cell_width(cell: Cell) -> int:
    """Terminal cells taken by the widest line of ``cell``."""
    plain = cell.plain if isinstance(cell, Text) else cell
    return max((cell_len(line) for line in plain.splitlines()), default=0)


def column_widths(headers: Sequence[str], rows: Sequence[Sequence[Cell]]) -> list[int]:
    """For each column, the widest of its header and its cells."""
    return [
        max([cell_len(header), *(cell_width(row[i]) for row in rows)])
        for i, header in enumerate(headers)
    ]


def fill_table(
    table: DataTable[Any],
    headers: Sequence[str],
    rows: Iterable[tuple[Sequence[Cell], str | None]],
) -> None:
    """Replace every column and row of ``table``; ``rows`` are (cells, row key) pairs.

    The cursor goes back to the first row: callers that keep it move it afterwards.
    """
    given = list(rows)
    widths = column_widths(headers, [cells for cells, _ in given])
    table.clear(columns=True)
    for header, width in zip(headers, widths, strict=True):
        table.add_column(header, width=width)
    for cells, key in given:
        table.add_row(*cells, key=key)
