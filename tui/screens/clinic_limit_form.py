"""A clinic limit on one ingredient: per session, per course or per kg, with its source.

It sits beside the library's published limits; the stricter one applies.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, Select, Static

from tui.screens.guarded_form import GuardedForm
from tui.widgets.field_row import FieldRow

PERS = (("per session", "session"), ("per course", "course"), ("per kg, in one session", "kg"))


class ClinicLimitScreen(GuardedForm):
    """Dismissed with the stored :class:`db.store.ClinicLimit`, or None."""

    DEFAULT_CSS = """
    ClinicLimitScreen { align: center middle; }
    ClinicLimitScreen > VerticalScroll {
        width: 100; max-width: 98%; height: auto; max-height: 95%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    ClinicLimitScreen #form-buttons { height: 3; margin-top: 1; }
    ClinicLimitScreen #form-buttons Button { margin-right: 2; }
    ClinicLimitScreen #form-error { color: $error; height: auto; }
    ClinicLimitScreen .hint { color: $text-muted; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", id="clinic_limit.save", priority=True),
        Binding("escape", "cancel", "Cancel", id="clinic_limit.cancel"),
    ]

    def __init__(self, ingredient: Any, published: str = "") -> None:
        super().__init__()
        self._ingredient = ingredient
        self._published = published

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(f"Clinic limit on {self._ingredient.name}", classes="form-title")
            yield Static(
                self._published or "The library publishes no limit for it.", classes="hint"
            )
            yield FieldRow(
                "Counted",
                Select(PERS, value="session", allow_blank=False, id="cl-per"),
                id="row-cl-per",
            )
            yield FieldRow(
                "At most", Input(id="cl-amount", placeholder="e.g. 200 mg"), id="row-cl-amount"
            )
            yield FieldRow(
                "Stated as (form)",
                Input(id="cl-basis", placeholder="the form or basis (needed for IU)"),
                id="row-cl-basis",
            )
            yield FieldRow(
                "Source",
                Input(id="cl-source", placeholder="label, guideline, clinic protocol and date"),
                id="row-cl-source",
            )
            yield FieldRow(
                "Note", Input(id="cl-note", placeholder="when it applies"), id="row-cl-note"
            )
            yield Static("", id="form-error")
            with Horizontal(id="form-buttons"):
                yield Button("Save (ctrl+s)", id="form-save", variant="primary")
                yield Button("Cancel (esc)", id="form-cancel")

    def first_field(self) -> Input | Select[Any] | None:
        return self.query_one("#cl-amount", Input)

    def _text(self, ident: str) -> str:
        return self.query_one(f"#{ident}", Input).value.strip()

    def read(self) -> tuple[dict[str, Any], dict[str, str]]:
        from db.store import ClinicLimitFields
        from formulary.units import UnitsError, parse_quantity

        errors: dict[str, str] = {}
        amount = None
        try:
            amount = parse_quantity(self._text("cl-amount"), kind="dose")
        except UnitsError as exc:
            errors["row-cl-amount"] = str(exc)
        source = self._text("cl-source")
        if not source:
            errors["row-cl-source"] = "Required: where the figure comes from."
        if errors or amount is None:
            return {}, errors
        fields = ClinicLimitFields(
            per=str(self.query_one("#cl-per", Select).value),
            amount=amount,
            source=source,
            basis=self._text("cl-basis"),
            note=self._text("cl-note"),
        )
        return {"fields": fields}, {}

    def store_call(self, values: dict[str, Any]) -> Any:
        return self.store.add_clinic_limit(self.user, self._ingredient.id, values["fields"])
