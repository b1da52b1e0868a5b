"""A clinic limit on one ingredient: per session, per course or per kg, with its source.

It sits beside the library's published limits; the stricter one applies.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, Select, Static

from tui.screens.base import defer_until_typed
from tui.screens.stock_dialog import StockDialog
from tui.widgets.field_row import FieldRow
from tui.widgets.text_input import TextInput

PERS = (("per session", "session"), ("per course", "course"), ("per kg, in one session", "kg"))


class ClinicLimitScreen(StockDialog):
    """Dismissed with the stored :class:`db.store.ClinicLimit`, or None."""

    FORM_NAME = "the clinic limit form"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", id="clinic_limit.save", priority=True),
        Binding("escape", "cancel", "Cancel", id="clinic_limit.cancel"),
    ]

    def __init__(self, ingredient: Any, published: str = "", *, limit: Any = None) -> None:
        super().__init__()
        self._ingredient = ingredient
        self._published = published
        self._limit = limit

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            c = self._limit
            yield Static(f"Clinic limit on {self._ingredient.name}", classes="form-title")
            yield Static(
                self._published or "The library publishes no limit for it.", classes="hint"
            )
            yield FieldRow(
                "Counted",
                Select(PERS, value=c.per if c else "session", allow_blank=False, id="cl-per"),
                id="row-cl-per",
            )
            yield FieldRow(
                "At most",
                TextInput(_shown(c.amount) if c else "", id="cl-amount", placeholder="e.g. 200 mg"),
                id="row-cl-amount",
            )
            yield FieldRow(
                "Stated as (form)",
                TextInput(
                    c.basis if c else "",
                    id="cl-basis",
                    placeholder="the form or basis (needed for IU)",
                ),
                id="row-cl-basis",
            )
            yield FieldRow(
                "Source",
                TextInput(
                    c.source if c else "",
                    id="cl-source",
                    placeholder="label, guideline, clinic protocol and date",
                ),
                id="row-cl-source",
            )
            yield FieldRow(
                "Note",
                TextInput(c.note if c else "", id="cl-note", placeholder="when it applies"),
                id="row-cl-note",
            )
            yield Static("", id="form-error", classes="dialog-error")
            with Horizontal(id="form-buttons", classes="dialog-buttons"):
                yield Button("Save (ctrl+s)", id="form-save", variant="primary")
                yield Button("Cancel (esc)", id="form-cancel")

    FIRST_FIELD = "#cl-amount"

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

    def action_save(self) -> None:
        """Check, then save; a change to a limit asks for the reason first."""
        if defer_until_typed(self, self.action_save):
            return
        if self._limit is None:
            super().action_save()
            return
        values, errors = self.read()
        self.show_errors(errors)
        if errors:
            return
        from tui.screens.confirm import ConfirmScreen

        def confirmed(reason: str | None) -> None:
            if reason:
                self.query_one(f"#{self.SAVE_BUTTON}", Button).disabled = True
                self._save({**values, "reason": reason})

        self.app.push_screen(
            ConfirmScreen(
                f"Change the clinic limit on {self._ingredient.name}?",
                "The audit trail keeps the old figure, the new one and why.",
                action="Save",
            ),
            confirmed,
        )

    def store_call(self, values: dict[str, Any]) -> Any:
        if self._limit is not None:
            return self.store.update_clinic_limit(
                self.user, self._limit.id, values["fields"], values["reason"]
            )
        return self.store.add_clinic_limit(self.user, self._ingredient.id, values["fields"])


def _shown(amount: Any) -> str:
    from formulary.units import format_amount

    return format_amount(amount)
