"""Recall lookup: every patient who received a lot, with when and how much."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Static

from formulary.export.display import show_local_time
from formulary.records import Lot
from formulary.units import format_amount
from tui.screens.base import AppModal


class RecallScreen(AppModal):
    """Who received lot ``lot``; enter opens the patient's chart."""

    DEFAULT_CSS = """
    RecallScreen > Vertical { width: 110; height: 80%; max-height: 100%; border: thick $error; }
    RecallScreen DataTable { height: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="recall.close"),
    ]

    class Found(Message):
        """The sessions that drew from the lot."""

        def __init__(self, hits: Sequence[Any], reason: str = "") -> None:
            self.hits = hits
            self.reason = reason
            super().__init__()

    def __init__(self, lot: Lot) -> None:
        super().__init__()
        self.lot = lot
        self._patients: list[int] = []

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(
                Text(f"Who received lot {self.lot.lot_number} (expiry {self.lot.expiry})"),
                classes="form-title",
            )
            yield Static("Searching…", id="recall-count")
            yield DataTable(id="recall-table", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns(
            "Chart", "Patient", "Session", "Product", "Drawn", "Zones"
        )
        self._search()

    @work(thread=True, exclusive=True, group="recall")
    def _search(self) -> None:
        try:
            hits = self.store.recall(self.user, self.lot.lot_number)
        except Exception as exc:
            self.post_message(self.Found([], str(exc) or type(exc).__name__))
            return
        self.post_if_current(self.Found([h for h in hits if h.lot_id == self.lot.id]))

    @on(Found)
    def _found(self, message: Found) -> None:
        count = self.query_one("#recall-count", Static)
        if message.reason:
            count.update(Text(f"Lookup failed: {message.reason}"))
            return
        table = self.query_one(DataTable)
        self._patients = []
        for hit in message.hits:
            table.add_row(
                Text(hit.chart_number),
                Text(hit.patient_name),
                show_local_time(hit.performed_at),
                Text(hit.product_name),
                format_amount(hit.drawn) if hit.drawn else "",
                ", ".join(z.value.replace("_", " ") for z in hit.zones),
            )
            self._patients.append(hit.patient_id)
        patients = len(set(self._patients))
        count.update(
            f"{len(message.hits)} signed session(s), {patients} patient(s)."
            + (" Enter opens the chart." if message.hits else "")
        )
        table.focus()

    @on(DataTable.RowSelected)
    def _open(self, event: DataTable.RowSelected) -> None:
        if 0 <= event.cursor_row < len(self._patients):
            patient_id = self._patients[event.cursor_row]
            self.dismiss(None)
            self.formulary_app.open_patient(patient_id)

    def action_close(self) -> None:
        """Back to the stock list."""
        self.dismiss(None)
