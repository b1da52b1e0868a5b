"""Formulary and stock: ingredients, products, lots; receive, quarantine, recall, look up."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Header, Input, TabbedContent, TabPane

from formulary.library import secondary_only, sources_summary
from formulary.preparation import lot_state
from formulary.records import Lot, LotStatus, Product
from formulary.units import format_amount
from tui.messages import Loaded, WorkerFailed
from tui.screens.base import AppScreen
from tui.styles import STYLES
from tui.tab_keys import step_tab, tab_bindings
from tui.widgets.key_footer import KeyFooter
from tui.widgets.table_fill import fill_table
from tui.widgets.text_input import TextInput

if TYPE_CHECKING:
    from db.store import ClinicLimit, StoredIngredient

#: Lots expiring within this many days are highlighted.
EXPIRY_WARNING_DAYS = 30


def expiry_cell(lot: Lot, today: date, warning: str, danger: str) -> Text:
    """The expiry date, in the danger colour once expired, warning colour within 30 days."""
    if lot.expiry < today:
        return Text(f"{lot.expiry} EXPIRED", style=f"bold {danger}")
    if lot.expiry <= today + timedelta(days=EXPIRY_WARNING_DAYS):
        return Text(f"{lot.expiry} ({(lot.expiry - today).days} d)", style=f"bold {warning}")
    return Text(lot.expiry.isoformat())


def presentation_text(product: Product) -> str:
    """``ampoule of 5 mL``, ``powder made up to 5 mL``, or the volume alone."""
    volume = format_amount(product.volume_per_unit) if product.volume_per_unit else ""
    if product.presentation is None:
        return volume
    joint = "made up to" if product.presentation.value == "powder" else "of"
    return f"{product.presentation.label} {joint} {volume}".strip()


def contains_text(product: Product) -> str:
    """Each ingredient with its strength (a powder's amount per vial first)."""
    parts = []
    for s in product.ingredients:
        strength = format_amount(s.strength)
        if s.per_unit is not None:
            strength = f"{format_amount(s.per_unit)}/vial = {strength}"
        form = f" ({s.form})" if s.form else ""
        parts.append(f"{s.ingredient_name}{form} {strength}")
    return ", ".join(parts)


def clip(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters, ending with an ellipsis when cut."""
    if len(text) <= width:
        return text
    return text[: max(width - 1, 0)].rstrip() + "…"


#: Long names are cut in the tables (the edit form shows them whole).
NAME_WIDTH = 24
#: The free-text column that takes what room is left is never cut below this.
MIN_FREE_WIDTH = 12


def fit_rows(
    headers: Sequence[str], rows: Sequence[Sequence[str]], free: int, width: int
) -> list[list[str]]:
    """Rows whose column ``free`` is cut so that the columns before it and it fit in
    ``width`` cells (each column has 2 cells of padding, the table a scroll bar); the
    columns after it may scroll off."""
    used = sum(
        max(len(headers[c]), *(len(r[c]) for r in rows)) + 2 for c in range(free)
    )  # fmt: skip
    room = max(MIN_FREE_WIDTH, width - used - 2 - 2)
    return [[clip(cell, room) if c == free else cell for c, cell in enumerate(r)] for r in rows]


def published_limits(ingredient: Any) -> str:
    """The library's limits on an ingredient, as one line for the limit dialog."""
    items = ingredient.facts.get("limits") if isinstance(ingredient.facts, dict) else None
    shown = []
    for item in items or ():
        if not isinstance(item, dict) or not isinstance(item.get("amount"), dict):
            continue
        amount = item["amount"]
        shown.append(
            f"{amount.get('value')} {amount.get('unit')} per {item.get('per')}"
            + (f" ({item.get('source')})" if item.get("source") else "")
        )
    if not shown:
        return ""
    return "Published: " + "; ".join(shown) + ". The stricter of these and yours applies."


#: Products: what tells boxes apart first; the free text after it is cut to fit.
PRODUCT_COLUMNS = ("Product", "Presentation", "GTIN", "Contains", "Manufacturer")
#: Clinic limits: the figure and its source first; basis and note after.
LIMIT_COLUMNS = ("Ingredient", "At most", "Per", "Source", "Basis", "Note")
#: Lots: which box, then whether it may be used.
LOT_COLUMNS = ("Product", "Lot", "Expiry", "On hand", "Status", "Supplier")


@dataclass(frozen=True, slots=True)
class _Stock:
    """What the stock screen shows, read in one go."""

    ingredients: Sequence[StoredIngredient]
    products: Sequence[Product]
    lots: Sequence[Lot]
    limits: Sequence[ClinicLimit]


class StockScreen(AppScreen):
    """What the clinic stocks and what it may draw from."""

    CSS_PATH = STYLES / "stock.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="stock.back"),
        Binding("ctrl+r", "receive_lot", "Receive lot", id="stock.receive"),
        Binding("ctrl+n", "new", "New", id="stock.new"),
        Binding("ctrl+e", "edit_product", "Edit", id="stock.edit"),
        Binding("f6", "retire", "Retire", id="stock.retire"),
        Binding("ctrl+t", "clinic_limit", "Clinic limit", id="stock.limit"),
        Binding("f7", "quarantine_lot", "Quarantine", id="stock.quarantine"),
        Binding("f8", "recall_lot", "Recall", id="stock.recall"),
        Binding("f9", "release_lot", "Release", id="stock.release"),
        Binding("f3", "who_received", "Who received", id="stock.who_received"),
        *tab_bindings("stock", show=True),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._lots: list[Lot] = []
        self._products: dict[int, Product] = {}
        self._ingredients: list[Any] = []
        self._all_ingredients: list[Any] = []
        self._limits: list[Any] = []

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(id="stock-tabs", initial="tab-lots"):
            with TabPane("Ingredients", id="tab-ingredients"):
                yield TextInput(id="ingredient-filter", placeholder="Filter ingredients…")
                yield DataTable(id="ingredients", cursor_type="row", zebra_stripes=True)
            with TabPane("Products", id="tab-products"):
                yield DataTable(id="products", cursor_type="row", zebra_stripes=True)
            with TabPane("Lots", id="tab-lots"):
                yield DataTable(id="lots", cursor_type="row", zebra_stripes=True)
            with TabPane("Clinic limits", id="tab-limits"):
                yield DataTable(id="limits", cursor_type="row", zebra_stripes=True)
        yield KeyFooter()

    def on_mount(self) -> None:
        self.title = "Formulary and stock"
        self.query_one("#ingredients", DataTable).add_columns(
            "Ingredient", "Category", "Synonyms", "Origin", "Sources"
        )
        self.query_one("#products", DataTable).add_columns(*PRODUCT_COLUMNS)
        fill_table(self.query_one("#lots", DataTable), LOT_COLUMNS, [])
        self.query_one("#limits", DataTable).add_columns(*LIMIT_COLUMNS)
        self.reload()

    def reload(self) -> None:
        """Read ingredients, products and lots again."""
        self._load(self.query_one("#ingredient-filter", Input).value)

    @work(thread=True, exclusive=True, group="stock")
    def _load(self, ingredient_filter: str) -> None:
        try:
            ingredients = self.store.list_ingredients(self.user, "")
            products = self.store.list_products(self.user)
            lots = self.store.list_lots(self.user, include_empty=True)
            limits = self.store.list_clinic_limits(self.user)
        except Exception as exc:
            self.post_message(WorkerFailed.of(exc))
            return
        self.post_if_current(Loaded(_Stock(ingredients, products, lots, limits)))

    @on(Input.Changed, "#ingredient-filter")
    def _filter(self) -> None:
        self._show_ingredients()

    def _show_ingredients(self) -> None:
        from formulary.safety.terms import words

        wanted = words(self.query_one("#ingredient-filter", Input).value)
        table = self.query_one("#ingredients", DataTable)
        table.clear()
        warning = f"bold {self.app.current_theme.warning}"
        self._ingredients = []
        for i in self._all_ingredients:
            hay = " ".join(words(" ".join((i.name, i.key, *i.synonyms))))
            if wanted and not all(w in hay for w in wanted):
                continue
            self._ingredients.append(i)
            # The kinds of source the facts rest on; secondary-only facts stand out.
            table.add_row(
                Text(i.name),
                Text(i.category),
                Text(", ".join(i.synonyms[:4])),
                Text(i.origin),
                Text(
                    sources_summary(i.sources), style=warning if secondary_only(i.sources) else ""
                ),
            )

    @on(WorkerFailed)
    def _failed(self, message: WorkerFailed) -> None:
        self.notify(message.reason, title="Stock", severity="error", timeout=10)

    @on(Loaded)
    def _loaded(self, message: Loaded[_Stock]) -> None:
        stock = message.data
        self._all_ingredients = list(stock.ingredients)
        self._show_ingredients()
        self._products = {p.id: p for p in stock.products}
        self._limits = list(stock.limits)
        self._show_products()
        self._show_lots(stock.lots)
        self._show_limits()

    def on_resize(self) -> None:
        # The cut free-text columns follow the terminal's width.
        self._show_products()
        self._show_limits()

    def _show_products(self) -> None:
        table = self.query_one("#products", DataTable)
        keep = table.cursor_row
        table.clear()
        cells = [
            [clip(p.name, NAME_WIDTH), presentation_text(p), p.gtin, contains_text(p),
             p.manufacturer]
            for p in self._products.values()
        ]  # fmt: skip
        if not cells:
            return
        for p, row in zip(
            self._products.values(),
            fit_rows(PRODUCT_COLUMNS, cells, 3, self.size.width),
            strict=True,
        ):
            table.add_row(*map(Text, row), key=str(p.id))
        table.move_cursor(row=min(keep, len(cells) - 1))

    def _show_limits(self) -> None:
        table = self.query_one("#limits", DataTable)
        keep = table.cursor_row
        table.clear()
        cells = [
            [clip(c.ingredient_name, NAME_WIDTH), format_amount(c.amount), c.per,
             c.source, c.basis or "", c.note]
            for c in self._limits
        ]  # fmt: skip
        if not cells:
            return
        for c, row in zip(
            self._limits, fit_rows(LIMIT_COLUMNS, cells, 3, self.size.width), strict=True
        ):
            table.add_row(*map(Text, row), key=str(c.id))
        table.move_cursor(row=min(keep, len(cells) - 1))

    def _show_lots(self, lots: Sequence[Lot]) -> None:
        theme = self.app.current_theme
        today = self.formulary_app.today()
        table = self.query_one("#lots", DataTable)
        keep = table.cursor_row
        self._lots = list(lots)
        rows: list[tuple[Sequence[Text | str], str | None]] = []
        for lot in self._lots:
            product = self._products.get(lot.product_id)
            state = lot_state(lot, today)
            status = Text(state)
            if state != LotStatus.AVAILABLE.value:
                status.stylize(f"bold {theme.error}")
            cells = (
                Text(product.name if product else f"product {lot.product_id}"),
                Text(lot.lot_number),
                expiry_cell(lot, today, theme.warning or "yellow", theme.error or "red"),
                format_amount(lot.quantity_on_hand),
                status,
                Text(lot.supplier),
            )
            rows.append((cells, str(lot.id)))
        fill_table(table, LOT_COLUMNS, rows)
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

    def action_step_tab(self, step: int) -> None:
        """The next or previous tab (ingredients, products, lots, clinic limits)."""
        step_tab(self.query_one(TabbedContent), step)

    def action_receive_lot(self) -> None:
        """Record a lot that arrived."""
        from tui.screens.receive_lot import ReceiveLotScreen

        def received(lot: Lot | None) -> None:
            if lot is not None:
                self.notify(f"Lot {lot.lot_number} received.", title="Stock")
                self.query_one(TabbedContent).active = "tab-lots"
                self.reload()

        self.app.push_screen(
            ReceiveLotScreen(list(self._products.values()), self._all_ingredients), received
        )

    def _tab(self) -> str:
        return str(self.query_one(TabbedContent).active)

    def _selected(self, table_id: str, items: Sequence[Any], what: str) -> Any:
        table = self.query_one(f"#{table_id}", DataTable)
        if not items or table.cursor_row < 0 or table.cursor_row >= len(items):
            self.notify(f"Choose {what} first.", severity="warning")
            return None
        return items[table.cursor_row]

    def _selected_product(self) -> Product | None:
        if self._tab() != "tab-products":
            self.notify("Choose a product on the Products tab first.", severity="warning")
            return None
        found: Product | None = self._selected(
            "products", list(self._products.values()), "a product"
        )
        return found

    def action_new(self) -> None:
        """Add what the tab lists: a product, a clinic ingredient, a lot or a clinic limit."""
        tab = self._tab()
        if tab == "tab-ingredients":
            self.action_new_ingredient()
        elif tab == "tab-lots":
            self.action_receive_lot()
        elif tab == "tab-limits":
            self.query_one(TabbedContent).active = "tab-ingredients"
            self.notify("Choose the ingredient, then ctrl+t sets its clinic limit.", title="Stock")
        else:
            self.action_new_product()

    def action_new_product(self) -> None:
        """Add a product as its box describes it."""
        from tui.screens.product_form import ProductFormScreen

        def saved(product: Product | None) -> None:
            if product is not None:
                self.notify(f"Product {product.name} added.", title="Stock")
                self.reload()

        self.app.push_screen(ProductFormScreen(self._all_ingredients), saved)

    def action_new_ingredient(self) -> None:
        """Add an ingredient the library lacks."""
        from tui.screens.clinic_ingredient_form import ClinicIngredientScreen

        def saved(ingredient: Any) -> None:
            if ingredient is not None:
                self.notify(f"Ingredient {ingredient.name} added.", title="Stock")
                self.reload()

        self.app.push_screen(ClinicIngredientScreen(), saved)

    def action_edit_product(self) -> None:
        """Edit what the tab highlights: a product, a clinic ingredient or a clinic limit."""
        from tui.screens.product_form import ProductFormScreen

        tab = self._tab()
        if tab == "tab-ingredients":
            self._edit_ingredient()
            return
        if tab == "tab-limits":
            self._edit_limit()
            return
        product = self._selected_product()
        if product is None:
            return

        def saved(updated: Product | None) -> None:
            if updated is not None:
                self.notify(f"Product {updated.name} saved.", title="Stock")
                self.reload()

        self.app.push_screen(ProductFormScreen(self._all_ingredients, product=product), saved)

    def _edit_ingredient(self) -> None:
        from tui.screens.clinic_ingredient_form import ClinicIngredientScreen

        ingredient = self._selected("ingredients", self._ingredients, "an ingredient")
        if ingredient is None:
            return
        if ingredient.origin != "clinic":
            self.notify(
                f"{ingredient.name} is a library ingredient: its facts are read-only. Set a "
                "clinic limit (ctrl+t) beside them.",
                severity="warning",
            )
            return

        def saved(changed: Any) -> None:
            if changed is not None:
                self.notify(f"Ingredient {changed.name} saved.", title="Stock")
                self.reload()

        self.app.push_screen(ClinicIngredientScreen(ingredient), saved)

    def _edit_limit(self) -> None:
        from tui.screens.clinic_limit_form import ClinicLimitScreen

        limit = self._selected("limits", self._limits, "a clinic limit")
        if limit is None:
            return
        ingredient = next((i for i in self._all_ingredients if i.id == limit.ingredient_id), None)
        if ingredient is None:
            self.notify("Its ingredient is retired; retire the limit instead.", severity="warning")
            return

        def saved(changed: Any) -> None:
            if changed is not None:
                self.notify(f"Clinic limit on {changed.ingredient_name} saved.", title="Stock")
                self.reload()

        self.app.push_screen(
            ClinicLimitScreen(ingredient, published_limits(ingredient), limit=limit), saved
        )

    def action_clinic_limit(self) -> None:
        """Set a clinic limit on the highlighted ingredient."""
        from tui.screens.clinic_limit_form import ClinicLimitScreen

        if self._tab() != "tab-ingredients":
            self.notify("Choose an ingredient on the Ingredients tab first.", severity="warning")
            return
        ingredient = self._selected("ingredients", self._ingredients, "an ingredient")
        if ingredient is None:
            return

        def saved(limit: Any) -> None:
            if limit is not None:
                self.notify(f"Clinic limit on {limit.ingredient_name} set.", title="Stock")
                self.reload()

        self.app.push_screen(ClinicLimitScreen(ingredient, published_limits(ingredient)), saved)

    def action_retire(self) -> None:
        """Retire the highlighted product, clinic ingredient or clinic limit (with a reason)."""
        from tui.screens.confirm import ConfirmScreen

        tab = self._tab()
        if tab == "tab-products":
            product = self._selected_product()
            if product is None:
                return
            title, message = (
                f"Retire {product.name}?",
                "It leaves the lists and cannot be added to formulations; its lots and every "
                "record that used it stay.",
            )
            call = ("retire_product", product.id)
        elif tab == "tab-limits":
            limit = self._selected("limits", self._limits, "a clinic limit")
            if limit is None:
                return
            title, message = (
                f"Retire the clinic limit on {limit.ingredient_name}?",
                "It no longer applies; the library's published limits still do.",
            )
            call = ("retire_clinic_limit", limit.id)
        elif tab == "tab-ingredients":
            ingredient = self._selected("ingredients", self._ingredients, "an ingredient")
            if ingredient is None:
                return
            if ingredient.origin != "clinic":
                self.notify(
                    f"{ingredient.name} is a library ingredient: it stays. Set a clinic "
                    "limit (ctrl+t) to restrict it.",
                    severity="warning",
                )
                return
            title, message = (
                f"Retire {ingredient.name}?",
                "It leaves the lists; records that used it stay.",
            )
            call = ("delete_ingredient", ingredient.id)
        else:
            self.notify("Lots are not retired: quarantine (f7) or recall (f8) one.")
            return

        def confirmed(reason: str | None) -> None:
            if reason:
                self._retire(call[0], call[1], reason)

        self.app.push_screen(ConfirmScreen(title, message, action="Retire"), confirmed)

    @work(thread=True, group="stock-change")
    def _retire(self, method: str, ident: int, reason: str) -> None:
        try:
            getattr(self.store, method)(self.user, ident, reason)
        except Exception as exc:
            self.post_message(WorkerFailed.of(exc))
            return
        self.app.call_from_thread(self.notify, "Retired.", title="Stock")
        self.app.call_from_thread(self.reload)

    def _lot_label(self, lot: Lot) -> str:
        product = self._products.get(lot.product_id)
        return f"lot {lot.lot_number} of {product.name if product else f'product {lot.product_id}'}"

    def _refuse(self, refusal: str, hint: str = "") -> None:
        text = refusal[0].upper() + refusal[1:] + "."
        self.notify(f"{text} {hint}".strip(), title="Stock", severity="error", timeout=10)

    def _change_status(self, status: LotStatus, verb: str) -> None:
        from formulary.lot_status import status_change_refusal
        from tui.screens.confirm import ConfirmScreen

        lot = self._selected_lot()
        if lot is None:
            return
        # The Store's rule (a recall is final), said before a reason is asked for.
        refusal = status_change_refusal(self._lot_label(lot), lot.status, status)
        if refusal is not None:
            self._refuse(
                refusal, "An administrator finds Lift a recall in the command palette (ctrl+p)."
            )
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
                    "It may be drawn from again."
                    if status is LotStatus.AVAILABLE
                    else "It can no longer be drawn from."
                    if status is LotStatus.QUARANTINED
                    else "A recall is final: it is never drawn from again (an administrator "
                    "can lift a recall recorded by mistake)."
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
            self.post_message(WorkerFailed.of(exc))
            return
        self.app.call_from_thread(self.reload)

    def action_quarantine_lot(self) -> None:
        """Set the highlighted lot aside (no draws) while it is checked."""
        self._change_status(LotStatus.QUARANTINED, "quarantine")

    def action_recall_lot(self) -> None:
        """Mark the highlighted lot recalled (no draws, ever)."""
        self._change_status(LotStatus.RECALLED, "recall")

    def action_release_lot(self) -> None:
        """Make a quarantined lot available again (a recalled lot stays recalled)."""
        self._change_status(LotStatus.AVAILABLE, "release")

    def action_lift_recall(self) -> None:
        """Lift the highlighted lot's recall, recorded by mistake (administrators).

        The lot goes to quarantine until it is checked and released (f9).
        """
        from formulary.lot_status import lift_refusal
        from tui.screens.confirm import ConfirmScreen

        lot = self._selected_lot()
        if lot is None:
            return
        label = self._lot_label(lot)
        refusal = lift_refusal(label, lot.status)
        if refusal is not None:
            self._refuse(refusal)
            return

        def confirmed(reason: str | None) -> None:
            if reason:
                self._lift(lot.id, reason)

        self.app.push_screen(
            ConfirmScreen(
                f"Lift the recall of lot {lot.lot_number}?",
                f"Only for a recall recorded by mistake: {label} (expires {lot.expiry}) "
                "goes to quarantine, not back to the shelf; release it (f9) once it is "
                "checked. The reason is kept in the audit trail.",
                action="Lift recall",
            ),
            confirmed,
        )

    @work(thread=True, group="stock-change")
    def _lift(self, lot_id: int, reason: str) -> None:
        try:
            self.store.lift_recall(self.user, lot_id, reason)
        except Exception as exc:
            self.post_message(WorkerFailed.of(exc))
            return
        self.app.call_from_thread(
            self.notify, "Recall lifted: the lot is quarantined until released.", title="Stock"
        )
        self.app.call_from_thread(self.reload)

    def action_correct_lot(self) -> None:
        """Correct what was typed when the highlighted lot was received: its number, expiry
        or supplier (administrators and practitioners; with a reason)."""
        from db.store.roles import SIGNERS
        from tui.screens.correct_lot import CorrectLotScreen

        lot = self._selected_lot()
        if lot is None:
            return
        if self.user.role not in SIGNERS:
            self._refuse(
                "only administrators and practitioners correct a lot",
                "Ask one of them to correct it.",
            )
            return

        def corrected(changed: Lot | None) -> None:
            if changed is not None:
                self.notify(f"Lot {changed.lot_number} corrected.", title="Stock")
                self.reload()

        self.app.push_screen(CorrectLotScreen(lot, self._lot_label(lot)), corrected)

    def action_who_received(self) -> None:
        """Recall lookup: every patient who received the highlighted lot."""
        from tui.screens.recall import RecallScreen

        lot = self._selected_lot()
        if lot is not None:
            self.app.push_screen(RecallScreen(lot))
