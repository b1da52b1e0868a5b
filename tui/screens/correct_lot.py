"""Correct a lot: what was typed when it was received (its number, expiry or supplier).

For a typing mistake (the box says B8, B7 was typed): the lot stays the same lot, with
its stock, status and the sessions that drew from it. The fields open with what the
lot holds; only those changed are sent to :meth:`db.store.Store.correct_lot`, with the
reason the audit trail keeps. The Store's refusal (a number another lot of the product
has, nothing changed, not allowed) is shown on the dialog's error line.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, Static

from formulary.records import Lot
from tui.screens.patient_form import parse_date
from tui.screens.stock_dialog import StockDialog
from tui.widgets.field_row import FieldRow
from tui.widgets.text_input import TextInput


class CorrectLotScreen(StockDialog):
    """Dismissed with the corrected :class:`Lot`, or None."""

    FORM_NAME = "the lot correction"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", id="correct_lot.save", priority=True),
        Binding("escape", "cancel", "Cancel", id="correct_lot.cancel"),
    ]

    def __init__(self, lot: Lot, label: str) -> None:
        super().__init__()
        self._lot = lot
        #: "lot B7 of Biotin 5 mg/mL ampoule", as the stock screen names it.
        self._label = label

    def compose(self) -> ComposeResult:
        lot = self._lot
        with VerticalScroll():
            yield Static("Correct a lot", classes="form-title")
            yield Static(
                f"What was typed when {self._label} was received. It stays the same lot, "
                "with its stock and the sessions that drew from it.",
                id="correct-note",
            )
            yield FieldRow(
                "Lot number", TextInput(value=lot.lot_number, id="lot-number"), id="row-number"
            )
            yield FieldRow(
                "Expiry",
                TextInput(value=lot.expiry.isoformat(), id="lot-expiry", placeholder="YYYY-MM-DD"),
                id="row-expiry",
            )
            yield FieldRow(
                "Supplier", TextInput(value=lot.supplier, id="lot-supplier"), id="row-supplier"
            )
            yield FieldRow(
                "Reason",
                TextInput(id="lot-reason", placeholder="what was wrong (kept in the audit trail)"),
                id="row-reason",
            )
            yield Static("", id="form-error", classes="dialog-error")
            with Horizontal(id="form-buttons", classes="dialog-buttons"):
                yield Button("Correct (ctrl+s)", id="form-save", variant="primary")
                yield Button("Cancel (esc)", id="form-cancel")

    def read(self) -> tuple[dict[str, Any], dict[str, str]]:
        lot = self._lot
        errors: dict[str, str] = {}
        values: dict[str, Any] = {}
        number = self.query_one("#lot-number", Input).value.strip()
        if not number:
            errors["row-number"] = "Required: the number printed on the box."
        elif number != lot.lot_number:
            values["lot_number"] = number
        expiry, message = parse_date(self.query_one("#lot-expiry", Input).value, required=True)
        if message:
            errors["row-expiry"] = message
        elif expiry is not None and expiry != lot.expiry:
            values["expiry"] = expiry
        supplier = self.query_one("#lot-supplier", Input).value.strip()
        if supplier != lot.supplier:
            values["supplier"] = supplier
        reason = self.query_one("#lot-reason", Input).value.strip()
        if not reason:
            errors["row-reason"] = "Required: what was typed wrong (the audit trail keeps it)."
        values["reason"] = reason
        return values, errors

    def store_call(self, values: dict[str, Any]) -> Any:
        return self.store.correct_lot(self.user, self._lot.id, **values)
