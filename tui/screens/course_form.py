"""Plan a course: how many sessions, how many days apart, from which date."""

from __future__ import annotations

from datetime import date
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, Static

from tui.screens.patient_form import parse_date
from tui.screens.store_form import StoreFormModal
from tui.widgets.field_row import FieldRow
from tui.widgets.text_input import TextInput

#: What the Store accepts (and a protocol of mesotherapy sessions needs).
MAX_SESSIONS = 100
MAX_INTERVAL_DAYS = 365


def parse_count(text: str, low: int, high: int, what: str) -> tuple[int | None, str]:
    """A whole number from ``low`` to ``high``, or the message saying what to type."""
    text = text.strip()
    if not text:
        return None, f"Required: the number of {what} ({low} to {high})."
    if not text.isdigit() or not low <= int(text) <= high:
        return None, f"Type a whole number of {what} from {low} to {high}."
    return int(text), ""


class CourseFormScreen(StoreFormModal):
    """Dismissed with True once the Store saved the course."""

    DEFAULT_CSS = """
    CourseFormScreen > VerticalScroll { max-height: 90%; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", id="course_form.save", priority=True),
        Binding("escape", "cancel", "Cancel", id="course_form.cancel"),
    ]
    SAVE_BUTTON = "course-save"
    CANCEL_BUTTON = "course-cancel"
    ERROR_LINE = "course-error"

    def __init__(self, patient_id: int, formulation_id: int | None, default_name: str) -> None:
        super().__init__()
        self.patient_id = patient_id
        self.formulation_id = formulation_id
        self.default_name = default_name

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static("Plan a course of sessions", classes="form-title")
            yield Static(
                "Progress on the patient list counts the signed sessions of the newest course.",
                classes="form-hint",
            )
            yield Static("", id="course-error", classes="form-error")
            yield FieldRow(
                "Course name", TextInput(self.default_name, id="c-name"), id="row-c-name"
            )
            yield FieldRow(
                "Sessions planned",
                TextInput("8", id="c-sessions", placeholder=f"1 to {MAX_SESSIONS}"),
                id="row-c-sessions",
            )
            yield FieldRow(
                "Days between",
                TextInput("14", id="c-interval", placeholder=f"1 to {MAX_INTERVAL_DAYS}"),
                id="row-c-interval",
            )
            yield FieldRow(
                "First session on",
                TextInput(
                    self.formulary_app.today().isoformat(), id="c-start", placeholder="YYYY-MM-DD"
                ),
                id="row-c-start",
            )
            with Horizontal(id="course-buttons", classes="dialog-buttons"):
                yield Button("Save (ctrl+s)", id="course-save", variant="primary")
                yield Button("Cancel (esc)", id="course-cancel")

    def read(self) -> tuple[dict[str, Any], dict[str, str]]:
        """The values to save and what is wrong, by field."""

        def text(field_id: str) -> str:
            return self.query_one(f"#{field_id}", Input).value.strip()

        errors: dict[str, str] = {}
        values: dict[str, Any] = {
            "patient_id": self.patient_id,
            "formulation_id": self.formulation_id,
            "name": text("c-name"),
        }
        if not values["name"]:
            errors["row-c-name"] = "Required: a name the chart will show."
        elif len(values["name"]) > 200:
            errors["row-c-name"] = "At most 200 characters."
        count, message = parse_count(text("c-sessions"), 1, MAX_SESSIONS, "sessions")
        values["planned_sessions"] = count
        if message:
            errors["row-c-sessions"] = message
        interval, message = parse_count(text("c-interval"), 1, MAX_INTERVAL_DAYS, "days")
        values["interval_days"] = interval
        if message:
            errors["row-c-interval"] = message
        start, message = parse_date(text("c-start"), required=True)
        values["start_date"] = start
        if message:
            errors["row-c-start"] = message
        elif isinstance(start, date) and start.year < 2000:
            errors["row-c-start"] = "Check the year."
        return values, errors

    def store_call(self, values: dict[str, Any]) -> None:
        """Save through the Store (in the worker thread)."""
        self.store.start_course(self.user, **values)
