"""The patient list: one row per patient with course progress and next due date."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import ClassVar, NamedTuple

from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from formulary.records import PatientSummary
from formulary.schedule import progress_text

COLUMNS = ("Chart", "Name", "Date of birth", "Course", "Next due")
#: Fixed widths of the columns filled in later, so that they never jump.
_FIXED_WIDTHS = {"Date of birth": 13, "Course": 22, "Next due": 20}
#: The widest a chart number or a name column grows; longer values are cut with "…".
_MAX_WIDTH = 40


def course_progress(summary: PatientSummary) -> str:
    """``session 3 of 8`` (the next session to give), ``course complete`` or ``no course``."""
    if summary.course is None:
        return "no course"
    return progress_text(summary.course, summary.sessions_done)


def is_overdue(summary: PatientSummary, today: date) -> bool:
    """True when the next session was due before today."""
    return summary.next_due is not None and summary.next_due < today


class _Row(NamedTuple):
    patient_id: int
    chart: str
    name: str
    born: str
    course: str = ""
    due: str = ""
    overdue: bool = False


class PatientList(ScrollView, can_focus=True):
    """Shows the summaries it is given; emits :class:`PatientList.Selected`.

    Drawn line by line (Textual's line API): a search keystroke replaces a hundred
    rows and repaints only the screenful in view, each line built once and cached.
    Textual's DataTable, used before, re-measured and re-rendered its cells on every
    answer and was most of a keystroke's time on a 20,000-patient list.
    """

    ALLOW_SELECT = False
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open", id="patient_list.open"),
        Binding("up", "cursor_up", "Up", show=False, id="patient_list.up"),
        Binding("down", "cursor_down", "Down", show=False, id="patient_list.down"),
        Binding("pageup", "page_up", "Page up", show=False, id="patient_list.page_up"),
        Binding("pagedown", "page_down", "Page down", show=False, id="patient_list.page_down"),
        Binding("home", "first", "First", show=False, id="patient_list.first"),
        Binding("end", "last", "Last", show=False, id="patient_list.last"),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "patient-list--header",
        "patient-list--cursor",
        "patient-list--stripe",
        "patient-list--overdue",
    }
    DEFAULT_CSS = """
    PatientList {
        background: $surface;
        color: $foreground;
        overflow-x: hidden;
        & > .patient-list--header {
            text-style: bold;
            background: $panel;
            color: $foreground;
        }
        & > .patient-list--stripe {
            background: $surface-lighten-1 50%;
        }
        &:dark > .patient-list--stripe {
            background: $surface-darken-1 40%;
        }
        & > .patient-list--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        &:focus > .patient-list--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: $block-cursor-text-style;
        }
        & > .patient-list--overdue {
            color: $warning;
            text-style: bold;
        }
    }
    """

    cursor_row: reactive[int] = reactive(0)

    class Selected(Message):
        """The user chose a patient (enter, a click on the highlighted row, a double click)."""

        def __init__(self, patient_id: int) -> None:
            self.patient_id = patient_id
            super().__init__()

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._rows: list[_Row] = []
        self._widths: list[int] = [len(label) for label in COLUMNS]
        #: What the rows were last built from: an identical answer is not redrawn.
        self._shown: tuple[tuple[PatientSummary, ...], date, bool] | None = None
        self._lines: LRUCache[tuple[int, bool, bool, int], Strip] = LRUCache(256)

    # -- what is shown ------------------------------------------------------------------

    def show(
        self, summaries: Sequence[PatientSummary], today: date, *, with_progress: bool = True
    ) -> None:
        """Replace the rows with ``summaries`` (already ordered and limited).

        Without progress the course cells stay blank until :meth:`show_progress`.
        An answer identical to the one on screen (coming back from a chart, a keystroke
        that does not change the matches) keeps the rows, the cursor and any progress
        already filled in (refreshed by the next :meth:`show_progress`).
        """
        shown = (tuple(summaries), today, with_progress)
        if shown == self._shown:
            return
        self._shown = shown
        rows = []
        for summary in summaries:
            patient = summary.patient
            row = _Row(
                patient.id,
                patient.chart_number,
                patient.display_name,
                patient.date_of_birth.isoformat(),
            )
            rows.append(self._with_progress(row, summary, today) if with_progress else row)
        self._rows = rows
        self._widths = [
            _FIXED_WIDTHS.get(label)
            or min(_MAX_WIDTH, max([len(label), *(len(str(r[i + 1])) for r in rows)]))
            for i, label in enumerate(COLUMNS)
        ]
        self.cursor_row = 0
        self._changed()

    def show_progress(self, summaries: Sequence[PatientSummary], today: date) -> None:
        """Fill in the course and next-due cells of rows already shown."""
        by_id = {s.patient.id: s for s in summaries}
        self._rows = [
            self._with_progress(row, by_id[row.patient_id], today)
            if row.patient_id in by_id
            else row
            for row in self._rows
        ]
        self._changed()

    @staticmethod
    def _with_progress(row: _Row, summary: PatientSummary, today: date) -> _Row:
        due, overdue = "", False
        if summary.next_due is not None:
            overdue = is_overdue(summary, today)
            due = summary.next_due.isoformat() + (" overdue" if overdue else "")
        return row._replace(course=course_progress(summary), due=due, overdue=overdue)

    def _changed(self) -> None:
        self._lines.clear()
        self.virtual_size = Size(self.size.width, len(self._rows) + 1)
        self.refresh()

    @property
    def patient_ids(self) -> list[int]:
        """The ids of the patients shown, top to bottom."""
        return [row.patient_id for row in self._rows]

    @property
    def row_count(self) -> int:
        """How many patients are listed."""
        return len(self._rows)

    def row_cells(self, index: int) -> tuple[str, ...]:
        """The text of row ``index``'s cells, left to right, as shown."""
        row = self._rows[index]
        return (row.chart, row.name, row.born, row.course, row.due)

    # -- drawing ------------------------------------------------------------------------

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._lines.clear()
        self.refresh()

    def on_resize(self, _event: events.Resize) -> None:
        self._changed()

    def _cells_line(self, cells: Sequence[str], base: Style, due_style: Style | None) -> Text:
        line = Text(style=base, no_wrap=True, overflow="crop", end="")
        last = len(cells) - 1
        for i, (cell, width) in enumerate(zip(cells, self._widths, strict=True)):
            if len(cell) > width:
                cell = cell[: width - 1] + "…"
            padded = f" {cell.ljust(width)} "
            line.append(padded, style=due_style if i == last and due_style else None)
        return line

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if y == 0:
            return self._line(-1, False, self._header_line, width)
        index = int(self.scroll_offset.y) + y - 1
        if index >= len(self._rows):
            return Strip.blank(width, self.rich_style)
        return self._line(index, index == self.cursor_row, self._row_line, width)

    def _line(
        self, index: int, cursor: bool, build: Callable[[int, bool], Text], width: int
    ) -> Strip:
        key = (index, cursor, self.has_focus, width)
        strip = self._lines.get(key)
        if strip is None:
            text = build(index, cursor)
            segments = list(text.render(self.app.console))
            style = text.style if isinstance(text.style, Style) else Style.parse(text.style)
            strip = Strip(segments).adjust_cell_length(width, self.rich_style + style)
            self._lines[key] = strip
        return strip

    def _header_line(self, _index: int, _cursor: bool) -> Text:
        style = self.rich_style + self.get_component_rich_style("patient-list--header")
        return self._cells_line(COLUMNS, style, None)

    def _row_line(self, index: int, cursor: bool) -> Text:
        row = self._rows[index]
        style = self.rich_style
        if index % 2:
            style += self.get_component_rich_style("patient-list--stripe")
        if cursor:
            style += self.get_component_rich_style("patient-list--cursor")
        due_style = None
        if row.overdue:
            due_style = style + self.get_component_rich_style("patient-list--overdue")
        return self._cells_line(self.row_cells(index), style, due_style)

    # -- moving and choosing --------------------------------------------------------------

    def validate_cursor_row(self, row: int) -> int:
        return max(0, min(row, len(self._rows) - 1))

    def watch_cursor_row(self, _old: int, row: int) -> None:
        visible = max(1, self.size.height - 1)  # the header line stays
        top = int(self.scroll_offset.y)
        if row < top:
            self.scroll_to(y=row, animate=False)
        elif row >= top + visible:
            self.scroll_to(y=row - visible + 1, animate=False)
        self.refresh()

    def _on_focus(self, _event: events.Focus) -> None:
        self.refresh()

    def _on_blur(self, _event: events.Blur) -> None:
        self.refresh()

    def action_cursor_up(self) -> None:
        """Highlight the patient above."""
        self.cursor_row -= 1

    def action_cursor_down(self) -> None:
        """Highlight the patient below."""
        self.cursor_row += 1

    def action_page_up(self) -> None:
        """One screenful up."""
        self.cursor_row -= max(1, self.size.height - 1)

    def action_page_down(self) -> None:
        """One screenful down."""
        self.cursor_row += max(1, self.size.height - 1)

    def action_first(self) -> None:
        """Highlight the first patient."""
        self.cursor_row = 0

    def action_last(self) -> None:
        """Highlight the last patient."""
        self.cursor_row = len(self._rows) - 1

    def action_open(self) -> None:
        """Open the highlighted patient."""
        if 0 <= self.cursor_row < len(self._rows):
            self.post_message(self.Selected(self._rows[self.cursor_row].patient_id))

    def on_click(self, event: events.Click) -> None:
        if event.y < 1:
            return  # the header
        index = int(self.scroll_offset.y) + event.y - 1
        if not 0 <= index < len(self._rows):
            return
        if index == self.cursor_row or event.chain > 1:
            self.cursor_row = index
            self.action_open()
        else:
            self.cursor_row = index
