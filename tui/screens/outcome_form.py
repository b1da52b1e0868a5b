"""Record an outcome: density, shaft diameter, scale grade, zone and notes."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, Select, Static

from formulary.records import ScalpZone
from tui.screens.patient_form import parse_date
from tui.screens.store_form import StoreFormModal
from tui.widgets.field_row import FieldRow
from tui.widgets.text_input import TextInput


class OutcomeFormScreen(StoreFormModal):
    """Dismissed with True once the Store saved the outcome."""

    DEFAULT_CSS = """
    OutcomeFormScreen > VerticalScroll { max-height: 90%; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", id="outcome_form.save", priority=True),
        Binding("escape", "cancel", "Cancel", id="outcome_form.cancel"),
    ]
    SAVE_BUTTON = "outcome-save"
    CANCEL_BUTTON = "outcome-cancel"
    ERROR_LINE = "outcome-error"

    def __init__(self, patient_id: int) -> None:
        super().__init__()
        self.patient_id = patient_id

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static("Record an outcome", classes="form-title")
            yield Static("", id="outcome-error", classes="form-error")
            yield FieldRow(
                "Measured on",
                TextInput(
                    self.formulary_app.today().isoformat(), id="o-date", placeholder="YYYY-MM-DD"
                ),
                id="row-o-date",
            )
            yield FieldRow(
                "Zone",
                Select([(z.value.replace("_", " "), z) for z in ScalpZone], id="o-zone"),
                id="row-o-zone",
            )
            yield FieldRow(
                "Density",
                TextInput(id="o-density", placeholder="e.g. 150 hairs/cm2"),
                id="row-o-density",
            )
            yield FieldRow(
                "Shaft diameter",
                TextInput(id="o-diameter", placeholder="e.g. 65 micrometre"),
                id="row-o-diameter",
            )
            yield FieldRow("Scale grade", TextInput(id="o-grade"), id="row-o-grade")
            yield FieldRow("Notes", TextInput(id="o-notes"), id="row-o-notes")
            with Horizontal(id="outcome-buttons", classes="dialog-buttons"):
                yield Button("Save (ctrl+s)", id="outcome-save", variant="primary")
                yield Button("Cancel (esc)", id="outcome-cancel")

    def read(self) -> tuple[dict[str, Any], dict[str, str]]:
        """The values to save and what is wrong, by field."""
        from formulary.units import UnitsError, parse_quantity

        errors: dict[str, str] = {}
        values: dict[str, Any] = {"patient_id": self.patient_id}

        def text(field_id: str) -> str:
            return self.query_one(f"#{field_id}", Input).value.strip()

        day, message = parse_date(text("o-date"), required=True)
        if message:
            errors["row-o-date"] = message
        elif day is not None:
            if day > self.formulary_app.today():
                errors["row-o-date"] = "The date is in the future."
            moment = self.formulary_app.now()
            values["measured_at"] = datetime.combine(day, moment.timetz())
        zone = self.query_one("#o-zone", Select).value
        values["zone"] = zone if isinstance(zone, ScalpZone) else None
        for field_id, row, key, kind in (
            ("o-density", "row-o-density", "density", "density"),
            ("o-diameter", "row-o-diameter", "shaft_diameter", "length"),
        ):
            if text(field_id):
                try:
                    values[key] = parse_quantity(text(field_id), kind=kind)
                except UnitsError as exc:
                    errors[row] = str(exc)
        values["scale_grade"] = text("o-grade")
        values["notes"] = text("o-notes")
        if (
            not errors
            and not any(values.get(k) for k in ("density", "shaft_diameter"))
            and not (values["scale_grade"])
        ):
            errors["row-o-density"] = "Give a density, a diameter or a grade."
        return values, errors

    def store_call(self, values: dict[str, Any]) -> None:
        """Save through the Store (in the worker thread)."""
        self.store.record_outcome(self.user, **values)
