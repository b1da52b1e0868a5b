"""The patient list: one row per patient with course progress and next due date."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import DataTable

from formulary.records import PatientSummary

COLUMNS = ("Chart", "Name", "Date of birth", "Course", "Next due")
#: Fixed widths of the columns filled in later (no re-measuring 100 rows per cell).
_WIDTHS = {"Course": 22, "Next due": 20}


def course_progress(summary: PatientSummary) -> str:
    """``session 3 of 8`` (the next session to give), ``course complete`` or ``no course``."""
    course = summary.course
    if course is None:
        return "no course"
    if summary.sessions_done >= course.planned_sessions:
        return f"course complete ({course.planned_sessions})"
    return f"session {summary.sessions_done + 1} of {course.planned_sessions}"


def is_overdue(summary: PatientSummary, today: date) -> bool:
    """True when the next session was due before today."""
    return summary.next_due is not None and summary.next_due < today


class PatientList(DataTable[Text | str]):
    """Shows the summaries it is given; emits :class:`PatientList.Selected`."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open", id="patient_list.open"),
    ]

    class Selected(Message):
        """The user chose a patient (enter or click)."""

        def __init__(self, patient_id: int) -> None:
            self.patient_id = patient_id
            super().__init__()

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self._ids: list[int] = []
        #: What the rows were last built from: an identical answer is not redrawn.
        self._shown: tuple[tuple[PatientSummary, ...], date, bool] | None = None

    def on_mount(self) -> None:
        for label in COLUMNS:
            self.add_column(label, key=label, width=_WIDTHS.get(label))

    def show(
        self, summaries: Sequence[PatientSummary], today: date, *, with_progress: bool = True
    ) -> None:
        """Replace the rows with ``summaries`` (already ordered and limited).

        Without progress the course cells stay blank until :meth:`show_progress`.
        An answer identical to the one on screen (coming back from a chart, a keystroke
        that does not change the matches) keeps the rows, the cursor, any progress
        already filled in (refreshed by the next :meth:`show_progress`) and the rendered
        lines: rebuilding and redrawing the table is most of a keystroke's cost.
        """
        shown = (tuple(summaries), today, with_progress)
        if shown == self._shown:
            return
        warning = self.app.current_theme.warning or "yellow"
        blank = (Text(""), Text(""))
        self.clear()
        self._ids = []
        for summary in summaries:
            patient = summary.patient
            # Text cells: a str cell is parsed as markup on every render.
            self.add_row(
                Text(patient.chart_number),
                Text(patient.display_name),
                Text(patient.date_of_birth.isoformat()),
                *(self._progress_cells(summary, today, warning) if with_progress else blank),
                key=str(patient.id),
            )
            self._ids.append(patient.id)
        self._shown = shown

    def show_progress(self, summaries: Sequence[PatientSummary], today: date) -> None:
        """Fill in the course and next-due cells of rows already shown."""
        warning = self.app.current_theme.warning or "yellow"
        shown = set(self._ids)
        for summary in summaries:
            if summary.patient.id not in shown:
                continue
            course, due = self._progress_cells(summary, today, warning)
            key = str(summary.patient.id)
            self.update_cell(key, "Course", course)
            self.update_cell(key, "Next due", due)

    @staticmethod
    def _progress_cells(summary: PatientSummary, today: date, warning: str) -> tuple[Text, Text]:
        due = Text("")
        if summary.next_due is not None:
            overdue = is_overdue(summary, today)
            due = Text(
                summary.next_due.isoformat() + (" overdue" if overdue else ""),
                style=f"bold {warning}" if overdue else "",
            )
        return Text(course_progress(summary)), due

    @property
    def patient_ids(self) -> list[int]:
        """The ids of the patients shown, top to bottom."""
        return list(self._ids)

    def action_open(self) -> None:
        """Open the highlighted patient."""
        if self._ids and 0 <= self.cursor_row < len(self._ids):
            self.post_message(self.Selected(self._ids[self.cursor_row]))

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.post_message(self.Selected(int(event.row_key.value)))
