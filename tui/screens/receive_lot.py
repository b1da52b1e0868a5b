"""Receive a lot: scan the box (or type), count the units or give the volume, expiry and
supplier, each checked beside its field.

A USB barcode scanner types the box's GS1 DataMatrix / GS1-128 code into the lot
field: the GTIN picks the product, and the lot number and expiry fill themselves in.
A GTIN no product carries offers to create the product (GTIN prefilled). The GS
separator a scanner sends arrives as ``ctrl+]``; the field keeps it as ``<GS>``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.timer import Timer
from textual.widgets import Button, Input, Select, Static

from formulary.records import Product
from tui.screens.patient_form import parse_date
from tui.screens.stock_dialog import StockDialog
from tui.widgets.field_row import FieldRow
from tui.widgets.text_input import TextInput

#: How long the scanner may pause between characters before the code is read.
SCAN_SETTLE_SECONDS = 0.3

BY_COUNT = "count"
BY_VOLUME = "volume"


class ScanInput(TextInput):
    """The lot field: also takes what a barcode scanner types, separators included."""

    FORM_NAME = "the lot form"
    BINDINGS: ClassVar[list[BindingType]] = [
        # A scanner's FNC1/GS is the control character 0x1d, which a terminal delivers
        # as ctrl+]; keep it as a visible placeholder that the GS1 reader understands.
        Binding(
            "ctrl+right_square_bracket",
            "insert_separator",
            "GS",
            show=False,
            id="receive_lot.separator",
        ),
    ]

    def action_insert_separator(self) -> None:
        """Insert the GS1 group separator where the cursor is."""
        self.insert_text_at_cursor("<GS>")


class ReceiveLotScreen(StockDialog):
    """Dismissed with the received :class:`Lot`, or None."""

    DEFAULT_CSS = """
    ReceiveLotScreen #scan-note { color: $success; height: auto; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", id="receive_lot.save", priority=True),
        Binding("escape", "cancel", "Cancel", id="receive_lot.cancel"),
    ]

    def __init__(self, products: Sequence[Product], ingredients: Sequence[Any] = ()) -> None:
        super().__init__()
        self._products = list(products)
        self._ingredients = list(ingredients)
        self._settle: Timer | None = None

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static("Receive a lot", classes="form-title")
            yield FieldRow(
                "Lot (or scan box)",
                ScanInput(id="lot-number", placeholder="scan the 2D code, or type the lot"),
                id="row-number",
            )
            yield Static("", id="scan-note")
            yield FieldRow(
                "Product",
                Select(self._options(), id="lot-product", prompt="the product received"),
                id="row-product",
            )
            yield FieldRow(
                "Expiry", TextInput(id="lot-expiry", placeholder="YYYY-MM-DD"), id="row-expiry"
            )
            yield FieldRow(
                "Received as",
                Select(
                    [("units (ampoules, vials…)", BY_COUNT), ("volume", BY_VOLUME)],
                    value=BY_COUNT,
                    allow_blank=False,
                    id="lot-by",
                ),
                id="row-by",
            )
            yield FieldRow(
                "How many",
                TextInput(id="lot-quantity", placeholder="a count (10), or 50 mL by volume"),
                id="row-quantity",
            )
            yield FieldRow("Supplier", TextInput(id="lot-supplier"), id="row-supplier")
            yield Static("", id="form-error", classes="dialog-error")
            with Horizontal(id="form-buttons", classes="dialog-buttons"):
                yield Button("Receive (ctrl+s)", id="form-save", variant="primary")
                yield Button("Cancel (esc)", id="form-cancel")

    def _options(self) -> list[tuple[str, int]]:
        from formulary.units import format_amount

        out = []
        for p in self._products:
            unit = f" ({format_amount(p.volume_per_unit)} per unit)" if p.volume_per_unit else ""
            out.append((f"{p.name}{unit}", p.id))
        return out

    # -- scanning -------------------------------------------------------------------------

    @on(Input.Changed, "#lot-number")
    def _lot_typed(self) -> None:
        # What an earlier scan said no longer describes the field once it is typed in.
        self.query_one("#scan-note", Static).update("")
        if self._settle is not None:
            self._settle.stop()
        self._settle = self.set_timer(SCAN_SETTLE_SECONDS, self._maybe_scan)

    @on(events.DescendantBlur, "#lot-number")
    def _lot_left(self) -> None:
        # Leaving the lot field (tab, a click) reads a scan waiting for its pause now,
        # while the field still holds it: a reading that came later would move the
        # focus away from the field the user is typing in, and her keys with it.
        if self._settle is not None:
            self._settle.stop()
            self._settle = None
            self._maybe_scan()

    @on(Input.Submitted, "#lot-number")
    def _lot_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self._settle is not None:
            self._settle.stop()
        if not self._linear_gtin(event.value):
            self._maybe_scan()

    def _linear_gtin(self, text: str) -> bool:
        """A box's linear barcode (EAN-13, UPC-A) scanned into the lot field: when a product
        carries that GTIN, choose it and leave the lot to be typed or scanned."""
        from formulary.gs1 import ScanError, normalize_gtin

        digits = text.strip()
        if not (digits.isascii() and digits.isdigit() and len(digits) in (8, 12, 13)):
            return False
        try:
            gtin = normalize_gtin(digits)
        except ScanError:
            return False
        product = next((p for p in self._products if p.gtin == gtin), None)
        if product is None:
            return False
        self.query_one("#lot-product", Select).value = product.id
        lot_field = self.query_one("#lot-number", Input)
        with lot_field.prevent(Input.Changed):
            lot_field.value = ""
        self.query_one("#scan-note", Static).update(
            f"{product.name} (GTIN {gtin}). This barcode has no lot or expiry: type or scan them."
        )
        return True

    def _maybe_scan(self) -> None:
        from formulary.gs1 import looks_like_scan

        self._settle = None
        text = self.query_one("#lot-number", Input).value
        if looks_like_scan(text):
            self.apply_scan(text)

    def apply_scan(self, text: str) -> None:
        """Fill product, lot and expiry from a scanned GS1 code (one message if it cannot)."""
        from formulary.gs1 import ScanError, parse_scan

        row = self.query_one("#row-number", FieldRow)
        note = self.query_one("#scan-note", Static)
        try:
            scan = parse_scan(text)
        except ScanError as exc:
            row.set_error(str(exc)[0].upper() + str(exc)[1:] + ".")
            note.update("")
            return
        row.set_error("")
        lot_field = self.query_one("#lot-number", Input)
        with lot_field.prevent(Input.Changed):
            lot_field.value = scan.lot_number
        if scan.expiry is not None:
            self.query_one("#lot-expiry", Input).value = scan.expiry.isoformat()
        missing = [m for m in scan.missing if not m.startswith("GTIN")]
        said = "Scanned." + (
            f" The code has no {' and no '.join(missing)}: type it." if missing else ""
        )
        if not scan.gtin:
            note.update(said + " Choose the product.")
            return
        product = next((p for p in self._products if p.gtin == scan.gtin), None)
        if product is not None:
            self.query_one("#lot-product", Select).value = product.id
            note.update(f"{said} {product.name}.")
            if lot_field.has_focus:  # never pull the focus from a field being typed in
                self.query_one("#lot-quantity", Input).focus()
            return
        note.update(f"{said} No product has GTIN {scan.gtin}.")
        self._offer_new_product(scan.gtin)

    def _offer_new_product(self, gtin: str) -> None:
        from tui.screens.confirm import ConfirmScreen

        def answered(choice: str | None) -> None:
            if choice is not None:
                self._new_product(gtin)

        self.app.push_screen(
            ConfirmScreen(
                f"No product has GTIN {gtin}",
                "Create the product now? Its GTIN is filled in; the lot and expiry scanned "
                "stay in this form.",
                action="Create product",
                reason=False,
                destructive=False,
            ),
            answered,
        )

    def _new_product(self, gtin: str) -> None:
        from tui.screens.product_form import ProductFormScreen

        def created(product: Product | None) -> None:
            if product is None:
                return
            self._products.append(product)
            select = self.query_one("#lot-product", Select)
            select.set_options(self._options())
            select.value = product.id
            self.query_one("#scan-note", Static).update(f"Product {product.name} created.")
            self.query_one("#lot-quantity", Input).focus()

        self.app.push_screen(ProductFormScreen(self._ingredients, gtin=gtin), created)

    # -- saving ---------------------------------------------------------------------------

    def read(self) -> tuple[dict[str, Any], dict[str, str]]:
        from formulary.gs1 import looks_like_scan
        from formulary.products import parse_count, refuse_expired
        from formulary.units import UnitsError, parse_quantity

        errors: dict[str, str] = {}
        values: dict[str, Any] = {}
        number = self.query_one("#lot-number", Input).value.strip()
        if not number:
            errors["row-number"] = "Required: the number printed on the box."
        elif looks_like_scan(number):
            errors["row-number"] = "This is a whole scanned code: press Enter to read it."
        values["lot_number"] = number
        product = self.query_one("#lot-product", Select).value
        if not isinstance(product, int):
            errors["row-product"] = "Choose the product received."
        values["product_id"] = product
        expiry, message = parse_date(self.query_one("#lot-expiry", Input).value, required=True)
        if message:
            errors["row-expiry"] = message
        elif expiry is not None and (
            refused := refuse_expired(expiry, self.formulary_app.today())
        ):
            errors["row-expiry"] = refused[0].upper() + refused[1:] + "."
        values["expiry"] = expiry
        text = self.query_one("#lot-quantity", Input).value
        if self.query_one("#lot-by", Select).value == BY_COUNT:
            try:
                values["count"] = parse_count(text)
            except ValueError as exc:
                errors["row-quantity"] = str(exc)[0].upper() + str(exc)[1:] + "."
            chosen = next((p for p in self._products if p.id == product), None)
            if chosen is not None and chosen.volume_per_unit is None:
                errors["row-by"] = "This product has no volume per unit: receive it by volume."
        else:
            try:
                values["quantity"] = parse_quantity(text, kind="volume")
            except UnitsError as exc:
                errors["row-quantity"] = str(exc)
        values["supplier"] = self.query_one("#lot-supplier", Input).value.strip()
        return values, errors

    def store_call(self, values: dict[str, Any]) -> Any:
        return self.store.receive_lot(self.user, **values)
