"""Retired patients: who, when, by whom and why; enter restores one retired by mistake."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Static

from formulary.export.display import show_local_time
from tui.screens.base import AppModal

if TYPE_CHECKING:
    from db.store import RetiredPatient


class RetiredPatientsScreen(AppModal):
    """The retired patients, the latest retired first; dismissed with the id restored."""

    DEFAULT_CSS = """
    RetiredPatientsScreen > Vertical {
        width: 116; height: 80%; max-height: 100%; border: thick $primary;
    }
    RetiredPatientsScreen DataTable { height: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="retired.close"),
    ]

    class Found(Message):
        """The retired patients read (or why they could not be)."""

        def __init__(self, retired: Sequence[RetiredPatient], reason: str = "") -> None:
            self.retired = retired
            self.reason = reason
            super().__init__()

    class Restored(Message):
        """A patient was restored (``reason``: why not, when it failed)."""

        def __init__(self, patient_id: int, label: str, reason: str = "") -> None:
            self.patient_id = patient_id
            self.label = label
            self.reason = reason
            super().__init__()

    def __init__(self) -> None:
        super().__init__()
        self._retired: list[RetiredPatient] = []

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Retired patients", classes="form-title")
            yield Static("Reading…", id="retired-count")
            yield DataTable(id="retired-table", cursor_type="row", zebra_stripes=True)
            yield Static("", id="retired-error", classes="dialog-error")

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns("Chart", "Patient", "Born", "Retired", "By", "Why")
        self._read()

    @work(thread=True, exclusive=True, group="retired")
    def _read(self) -> None:
        try:
            found = self.store.retired_patients(self.user, limit=200)
        except Exception as exc:
            self.post_message(self.Found([], str(exc) or type(exc).__name__))
            return
        self.post_if_current(self.Found(found))

    @on(Found)
    def _found(self, message: Found) -> None:
        count = self.query_one("#retired-count", Static)
        if message.reason:
            count.update(Text(f"Cannot read the retired patients: {message.reason}"))
            return
        self._retired = list(message.retired)
        table = self.query_one(DataTable)
        table.clear()
        for item in self._retired:
            patient = item.patient
            table.add_row(
                Text(patient.chart_number),
                Text(patient.display_name),
                patient.date_of_birth.isoformat(),
                show_local_time(item.retired_at),
                Text(item.retired_by),
                Text(item.reason),
            )
        count.update(
            f"{len(self._retired)} retired patient(s)."
            + (" Enter restores the highlighted one (retired by mistake)."
               if self._retired else "")
        )
        table.focus()

    @on(DataTable.RowSelected)
    def _restore(self, event: DataTable.RowSelected) -> None:
        from tui.screens.confirm import ConfirmScreen

        if not 0 <= event.cursor_row < len(self._retired):
            return
        patient = self._retired[event.cursor_row].patient
        label = f"{patient.chart_number} {patient.display_name}"

        def confirmed(reason: str | None) -> None:
            if reason:
                self._restore_now(patient.id, label, reason)

        self.app.push_screen(
            ConfirmScreen(
                f"Restore {label}?",
                "Only for a chart retired by mistake: it comes back on the patient list and "
                "in searches, with its sessions as they were. The reason is kept in the "
                "audit trail.",
                action="Restore",
                destructive=False,
            ),
            confirmed,
        )

    @work(thread=True, group="retired-restore")
    def _restore_now(self, patient_id: int, label: str, reason: str) -> None:
        try:
            self.store.restore_patient(self.user, patient_id, reason)
        except Exception as exc:
            self.post_message(self.Restored(patient_id, label, str(exc) or type(exc).__name__))
            return
        self.post_message(self.Restored(patient_id, label))

    @on(Restored)
    def _restored(self, message: Restored) -> None:
        if message.reason:
            self.query_one("#retired-error", Static).update(
                Text(f"{message.label} was not restored: {message.reason}")
            )
            return
        self.notify(f"{message.label} is back on the patient list.", title="Patient restored")
        self.dismiss(message.patient_id)

    def action_close(self) -> None:
        """Back to the patient list."""
        self.dismiss(None)
