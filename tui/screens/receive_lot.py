"""Receive a lot: product, lot number, expiry and quantity, each checked beside its field."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Input, Select, Static

from formulary.records import Lot, Product
from tui.screens.base import AppModal
from tui.screens.patient_form import parse_date
from tui.widgets.field_row import FieldRow


class ReceiveLotScreen(AppModal):
    """Dismissed with the received :class:`Lot`, or None."""

    DEFAULT_CSS = """
    ReceiveLotScreen { align: center middle; }
    ReceiveLotScreen > VerticalScroll {
        width: 100; max-width: 98%; height: auto; max-height: 90%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    ReceiveLotScreen #lot-buttons { height: 3; margin-top: 1; }
    ReceiveLotScreen #lot-buttons Button { margin-right: 2; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", id="receive_lot.save", priority=True),
        Binding("escape", "cancel", "Cancel", id="receive_lot.cancel"),
    ]

    class Done(Message):
        """The Store answered."""

        def __init__(self, lot: Lot | None, reason: str = "") -> None:
            self.lot = lot
            self.reason = reason
            super().__init__()

    def __init__(self, products: Sequence[Product]) -> None:
        super().__init__()
        self._products = list(products)

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static("Receive a lot", classes="form-title")
            yield FieldRow(
                "Product",
                Select([(p.name, p.id) for p in self._products], id="lot-product"),
                id="row-product",
            )
            yield FieldRow("Lot number", Input(id="lot-number"), id="row-number")
            yield FieldRow(
                "Expiry", Input(id="lot-expiry", placeholder="YYYY-MM-DD"), id="row-expiry"
            )
            yield FieldRow(
                "Quantity", Input(id="lot-quantity", placeholder="e.g. 50 mL"), id="row-quantity"
            )
            yield Static("", id="lot-error", classes="form-error")
            with Horizontal(id="lot-buttons"):
                yield Button("Receive (ctrl+s)", id="lot-save", variant="primary")
                yield Button("Cancel (esc)", id="lot-cancel")

    def _errors(self) -> tuple[dict[str, str], dict[str, Any]]:
        from formulary.units import UnitsError, parse_quantity

        errors: dict[str, str] = {}
        values: dict[str, Any] = {}
        product = self.query_one("#lot-product", Select).value
        if not isinstance(product, int):
            errors["row-product"] = "Choose the product received."
        values["product_id"] = product
        number = self.query_one("#lot-number", Input).value.strip()
        if not number:
            errors["row-number"] = "Required: the number printed on the box."
        values["lot_number"] = number
        expiry, message = parse_date(self.query_one("#lot-expiry", Input).value, required=True)
        if message:
            errors["row-expiry"] = message
        elif expiry is not None and expiry < date.today():
            errors["row-expiry"] = "This lot is already expired; do not receive it."
        values["expiry"] = expiry
        try:
            values["quantity"] = parse_quantity(
                self.query_one("#lot-quantity", Input).value, kind="volume"
            )
        except UnitsError as exc:
            errors["row-quantity"] = str(exc)
        return errors, values

    @on(Button.Pressed, "#lot-save")
    def action_save(self) -> None:
        """Check, then record the lot through the Store."""
        errors, values = self._errors()
        for row in self.query(FieldRow):
            row.set_error(errors.get(row.id or "", ""))
        if errors:
            self.query_one("#lot-error", Static).update("Correct the fields marked beside them.")
            return
        self.query_one("#lot-save", Button).disabled = True
        self._receive(values)

    @work(thread=True, exclusive=True, group="receive-lot")
    def _receive(self, values: dict[str, Any]) -> None:
        try:
            lot = self.store.receive_lot(self.user, **values)
        except Exception as exc:
            self.post_message(self.Done(None, str(exc) or type(exc).__name__))
            return
        self.post_message(self.Done(lot))

    @on(Done)
    def _done(self, message: Done) -> None:
        if message.lot is not None:
            self.dismiss(message.lot)
            return
        self.query_one("#lot-save", Button).disabled = False
        self.query_one("#lot-error", Static).update(f"Not received: {message.reason}")

    @on(Button.Pressed, "#lot-cancel")
    def action_cancel(self) -> None:
        """Close without receiving anything."""
        self.dismiss(None)
