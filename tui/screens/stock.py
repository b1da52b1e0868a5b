"""Formulary and stock: ingredients, products, lots; receive, quarantine, recall, look up."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import DataTable, Header, Input, TabbedContent, TabPane

from formulary.records import Lot, LotStatus, Product
from formulary.units import format_amount
from tui.screens.base import AppScreen
from tui.styles import STYLES
from tui.widgets.key_footer import KeyFooter

#: Lots expiring within this many days are highlighted.
EXPIRY_WARNING_DAYS = 30


def expiry_cell(lot: Lot, today: date, warning: str, danger: str) -> Text:
    """The expiry date, in the danger colour once expired, warning colour within 30 days."""
    if lot.expiry < today:
        return Text(f"{lot.expiry} EXPIRED", style=f"bold {danger}")
    if lot.expiry <= today + timedelta(days=EXPIRY_WARNING_DAYS):
        return Text(f"{lot.expiry} ({(lot.expiry - today).days} d)", style=f"bold {warning}")
    return Text(lot.expiry.isoformat())


class StockScreen(AppScreen):
    """What the clinic stocks and what it may draw from."""

    CSS_PATH = STYLES / "stock.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="stock.back"),
        Binding("ctrl+r", "receive_lot", "Receive lot", id="stock.receive"),
        Binding("f7", "quarantine_lot", "Quarantine", id="stock.quarantine"),
        Binding("f8", "recall_lot", "Recall", id="stock.recall"),
        Binding("f9", "release_lot", "Release", id="stock.release"),
        Binding("f3", "who_received", "Who received", id="stock.who_received"),
    ]

    class Loaded(Message):
        """Stock was read."""

        def __init__(
            self, ingredients: Sequence[Any], products: Sequence[Product], lots: Sequence[Lot]
        ) -> None:
            self.ingredients = ingredients
            self.products = products
            self.lots = lots
            super().__init__()

    class Failed(Message):
        """A read or a change failed."""

        def __init__(self, reason: str) -> None:
            self.reason = reason
            super().__init__()

    def __init__(self) -> None:
        super().__init__()
        self._lots: list[Lot] = []
        self._products: dict[int, Product] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(id="stock-tabs", initial="tab-lots"):
            with TabPane("Ingredients", id="tab-ingredients"):
                yield Input(id="ingredient-filter", placeholder="Filter ingredients…")
                yield DataTable(id="ingredients", cursor_type="row", zebra_stripes=True)
            with TabPane("Products", id="tab-products"):
                yield DataTable(id="products", cursor_type="row", zebra_stripes=True)
            with TabPane("Lots", id="tab-lots"):
                yield DataTable(id="lots", cursor_type="row", zebra_stripes=True)
        yield KeyFooter()

    def on_mount(self) -> None:
        self.title = "Formulary and stock"
        self.query_one("#ingredients", DataTable).add_columns(
            "Ingredient", "Category", "Synonyms", "Origin"
        )
        self.query_one("#products", DataTable).add_columns(
            "Product", "Manufacturer", "Volume per unit", "Contains"
        )
        self.query_one("#lots", DataTable).add_columns(
            "Product", "Lot", "Expiry", "On hand", "Status"
        )
        self.reload()

    def reload(self) -> None:
        """Read ingredients, products and lots again."""
        self._load(self.query_one("#ingredient-filter", Input).value)

    @work(thread=True, exclusive=True, group="stock")
    def _load(self, ingredient_filter: str) -> None:
        try:
            ingredients = self.store.list_ingredients(self.user, ingredient_filter.strip())
            products = self.store.list_products(self.user)
            lots = self.store.list_lots(self.user, include_empty=True)
        except Exception as exc:
            self.post_message(self.Failed(str(exc) or type(exc).__name__))
            return
        self.post_message(self.Loaded(ingredients, products, lots))

    @on(Input.Changed, "#ingredient-filter")
    def _filter(self) -> None:
        self.reload()

    @on(Failed)
    def _failed(self, message: Failed) -> None:
        self.notify(message.reason, title="Stock", severity="error", timeout=10)

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        ingredients = self.query_one("#ingredients", DataTable)
        ingredients.clear()
        for i in message.ingredients:
            ingredients.add_row(
                Text(i.name), Text(i.category), Text(", ".join(i.synonyms[:4])), Text(i.origin)
            )
        self._products = {p.id: p for p in message.products}
        products = self.query_one("#products", DataTable)
        products.clear()
        for p in message.products:
            contains = ", ".join(
                f"{s.ingredient_name} {format_amount(s.strength)}" for s in p.ingredients
            )
            products.add_row(
                Text(p.name),
                Text(p.manufacturer),
                format_amount(p.volume_per_unit) if p.volume_per_unit else "",
                Text(contains),
                key=str(p.id),
            )
        self._show_lots(message.lots)

    def _show_lots(self, lots: Sequence[Lot]) -> None:
        theme = self.app.current_theme
        today = self.formulary_app.today()
        table = self.query_one("#lots", DataTable)
        keep = table.cursor_row
        table.clear()
        self._lots = list(lots)
        for lot in self._lots:
            product = self._products.get(lot.product_id)
            status = Text(lot.status.value)
            if lot.status is not LotStatus.AVAILABLE:
                status.stylize(f"bold {theme.error}")
            table.add_row(
                Text(product.name if product else f"product {lot.product_id}"),
                Text(lot.lot_number),
                expiry_cell(lot, today, theme.warning or "yellow", theme.error or "red"),
                format_amount(lot.quantity_on_hand),
                status,
                key=str(lot.id),
            )
        if self._lots:
            table.move_cursor(row=min(keep, len(self._lots) - 1))

    def _selected_lot(self) -> Lot | None:
        table = self.query_one("#lots", DataTable)
        if self.query_one(TabbedContent).active != "tab-lots" or not self._lots:
            self.notify("Choose a lot on the Lots tab first.", severity="warning")
            return None
        return self._lots[table.cursor_row]

    # -- actions ----------------------------------------------------------------------

    def action_back(self) -> None:
        """Back to where you came from."""
        self.app.pop_screen()

    def action_receive_lot(self) -> None:
        """Record a lot that arrived."""
        from tui.screens.receive_lot import ReceiveLotScreen

        def received(lot: Lot | None) -> None:
            if lot is not None:
                self.notify(f"Lot {lot.lot_number} received.", title="Stock")
                self.reload()

        self.app.push_screen(ReceiveLotScreen(list(self._products.values())), received)

    def _change_status(self, status: LotStatus, verb: str) -> None:
        from tui.screens.confirm import ConfirmScreen

        lot = self._selected_lot()
        if lot is None:
            return
        product = self._products.get(lot.product_id)
        name = product.name if product else "this product"

        def confirmed(reason: str | None) -> None:
            if reason:
                self._set_status(lot.id, status, reason)

        self.app.push_screen(
            ConfirmScreen(
                f"{verb.title()} lot {lot.lot_number}?",
                f"{name}, lot {lot.lot_number} (expires {lot.expiry}) will be marked "
                f"{status.value}. "
                + (
                    "It can no longer be drawn from."
                    if status is not LotStatus.AVAILABLE
                    else "It may be drawn from again."
                ),
                action=verb.title(),
            ),
            confirmed,
        )

    @work(thread=True, group="stock-change")
    def _set_status(self, lot_id: int, status: LotStatus, reason: str) -> None:
        try:
            self.store.set_lot_status(self.user, lot_id, status, reason)
        except Exception as exc:
            self.post_message(self.Failed(str(exc) or type(exc).__name__))
            return
        self.app.call_from_thread(self.reload)

    def action_quarantine_lot(self) -> None:
        """Set the highlighted lot aside (no draws) while it is checked."""
        self._change_status(LotStatus.QUARANTINED, "quarantine")

    def action_recall_lot(self) -> None:
        """Mark the highlighted lot recalled (no draws, ever)."""
        self._change_status(LotStatus.RECALLED, "recall")

    def action_release_lot(self) -> None:
        """Make a quarantined lot available again."""
        self._change_status(LotStatus.AVAILABLE, "release")

    def action_who_received(self) -> None:
        """Recall lookup: every patient who received the highlighted lot."""
        from tui.screens.recall import RecallScreen

        lot = self._selected_lot()
        if lot is not None:
            self.app.push_screen(RecallScreen(lot))
