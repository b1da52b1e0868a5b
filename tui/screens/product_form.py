"""Add or edit a product as its box describes it: presentation, unit volume, GTIN and
each ingredient with its strength (checked by the strict parser as it is entered)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.suggester import SuggestFromList
from textual.widgets import Button, Input, Select, Static

from formulary.records import Presentation, Product
from tui.screens.base import defer_until_typed
from tui.screens.stock_dialog import StockDialog
from tui.widgets.field_row import FieldRow
from tui.widgets.text_input import TextInput

#: Ingredient lines offered at once (a multi-ingredient vial rarely lists more).
LINES = 4


def ingredient_index(ingredients: Sequence[Any]) -> dict[str, list[Any]]:
    """Each ingredient's key, name and synonyms (folded) → the ingredients they name."""
    index: dict[str, list[Any]] = {}
    for ingredient in ingredients:
        for name in {ingredient.key, ingredient.name, *ingredient.synonyms}:
            key = " ".join(str(name).split()).casefold()
            if key and ingredient not in index.setdefault(key, []):
                index[key].append(ingredient)
    return index


class ProductFormScreen(StockDialog):
    """Dismissed with the saved :class:`Product`, or None."""

    DEFAULT_CSS = """
    ProductFormScreen > VerticalScroll { width: 110; }
    ProductFormScreen .line { height: auto; width: 1fr; }
    ProductFormScreen .line Input { width: 1fr; }
    ProductFormScreen .line .strength { width: 16; }
    """
    FORM_NAME = "the product form"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", id="product_form.save", priority=True),
        Binding("escape", "cancel", "Cancel", id="product_form.cancel"),
    ]

    def __init__(
        self,
        ingredients: Sequence[Any],
        *,
        product: Product | None = None,
        gtin: str = "",
    ) -> None:
        super().__init__()
        self._ingredients = list(ingredients)
        self._index = ingredient_index(self._ingredients)
        #: What the ingredient fields suggest as the user types.
        self._names = sorted(
            {i.name for i in self._ingredients} | {i.key for i in self._ingredients}
        )
        self._product = product
        self._gtin = gtin
        self._reason = ""

    def compose(self) -> ComposeResult:
        p = self._product
        title = f"Edit {p.name}" if p else "New product"
        suggester = SuggestFromList(self._names, case_sensitive=False)
        with VerticalScroll():
            yield Static(title, classes="form-title")
            yield FieldRow("Name", TextInput(p.name if p else "", id="p-name"), id="row-name")
            yield FieldRow(
                "Manufacturer",
                TextInput(p.manufacturer if p else "", id="p-manufacturer"),
                id="row-manufacturer",
            )
            yield FieldRow(
                "Presentation",
                Select(
                    [(pr.label, pr) for pr in Presentation],
                    value=p.presentation if p and p.presentation else Select.NULL,
                    id="p-presentation",
                    prompt="ampoule, vial, syringe, powder",
                ),
                id="row-presentation",
            )
            volume = ""
            if p and p.volume_per_unit:
                from formulary.units import format_amount

                volume = format_amount(p.volume_per_unit)
            yield FieldRow(
                "Volume per unit",
                TextInput(volume, id="p-volume", placeholder="5 mL (powder: made up to)"),
                id="row-volume",
            )
            yield FieldRow(
                "GTIN (optional)",
                TextInput(p.gtin if p else self._gtin, id="p-gtin", placeholder="13 or 14 digits"),
                id="row-gtin",
            )
            yield Static(
                "Ingredients: name or key, strength (5 mg/mL, 0.5 % w/v; powder: 20 mg per "
                "vial), form (needed for IU/mL).",
                classes="hint",
            )
            lines = list(p.ingredients) if p else []
            for n in range(1, LINES + 1):
                line = lines[n - 1] if n <= len(lines) else None
                strength = ""
                if line is not None:
                    from formulary.units import format_amount

                    strength = format_amount(line.per_unit or line.strength)
                yield FieldRow(
                    f"Ingredient {n}",
                    Horizontal(
                        TextInput(
                            line.ingredient_name if line else "",
                            id=f"i-name-{n}",
                            placeholder="ingredient",
                            suggester=suggester,
                        ),
                        TextInput(
                            strength,
                            id=f"i-strength-{n}",
                            placeholder="strength",
                            classes="strength",
                        ),
                        TextInput(line.form if line else "", id=f"i-form-{n}", placeholder="form"),
                        classes="line",
                    ),
                    id=f"row-line-{n}",
                )
            yield Static("", id="form-error", classes="dialog-error")
            with Horizontal(id="form-buttons", classes="dialog-buttons"):
                yield Button("Save (ctrl+s)", id="form-save", variant="primary")
                yield Button("Cancel (esc)", id="form-cancel")

    def _text(self, ident: str) -> str:
        return self.query_one(f"#{ident}", Input).value.strip()

    def read(self) -> tuple[dict[str, Any], dict[str, str]]:
        from db.store import ProductFields, StrengthSpec
        from formulary.gs1 import ScanError, normalize_gtin
        from formulary.products import parse_strength, parse_unit_volume
        from formulary.units import UnitsError

        errors: dict[str, str] = {}
        name = self._text("p-name")
        if not name:
            errors["row-name"] = "Required: the product's name."
        chosen = self.query_one("#p-presentation", Select).value
        presentation = chosen if isinstance(chosen, Presentation) else None
        if presentation is None:
            errors["row-presentation"] = "Choose how it arrives."
        volume = None
        try:
            volume = parse_unit_volume(self._text("p-volume"), presentation or Presentation.VIAL)
        except UnitsError as exc:
            errors["row-volume"] = str(exc)
        gtin = ""
        try:
            gtin = normalize_gtin(self._text("p-gtin"))
        except ScanError as exc:
            errors["row-gtin"] = str(exc)
        specs = []
        lines_typed = 0
        for n in range(1, LINES + 1):
            typed = self._text(f"i-name-{n}")
            strength_text = self._text(f"i-strength-{n}")
            form = self._text(f"i-form-{n}")
            if not (typed or strength_text or form):
                continue
            lines_typed += 1
            row = f"row-line-{n}"
            found = self._index.get(" ".join(typed.split()).casefold(), [])
            if not typed:
                errors[row] = "Name the ingredient."
                continue
            if not found:
                errors[row] = self._unknown(typed)
                continue
            if len(found) > 1:
                errors[row] = f"{typed!r} names {len(found)} ingredients; type its key."
                continue
            if presentation is None or volume is None:
                continue
            try:
                label = parse_strength(strength_text, presentation, volume)
            except UnitsError as exc:
                errors[row] = str(exc)
                continue
            specs.append(StrengthSpec(found[0].id, label.per_unit or label.concentration, form))
        # A line typed but not read (the volume or presentation is wrong) is not missing.
        if (
            not lines_typed
            and "row-line-1" not in errors
            and not errors.keys() & {f"row-line-{n}" for n in range(2, LINES + 1)}
        ):
            errors["row-line-1"] = "A product has at least one ingredient with its strength."
        if errors or presentation is None or volume is None:
            return {}, errors
        fields = ProductFields(
            name=name,
            presentation=presentation,
            volume_per_unit=volume,
            ingredients=tuple(specs),
            manufacturer=self._text("p-manufacturer"),
            gtin=gtin,
        )
        return {"fields": fields}, {}

    def _unknown(self, typed: str) -> str:
        # The suggestion shown as the user types is taken with →; Tab leaves the field
        # with only what was typed, which looks like a missing ingredient.
        folded = " ".join(typed.split()).casefold()
        close = [n for n in self._names if n.casefold().startswith(folded)]
        if close:
            return f"No ingredient {typed!r}; did you mean {close[0]}? (→ takes a suggestion)"
        return f"No ingredient {typed!r}: add it on the Ingredients tab."

    def action_save(self) -> None:
        """Check, then save; an edit asks for the reason first."""
        if defer_until_typed(self, self.action_save):
            return
        if self._product is None:
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
                f"Save the changes to {self._product.name}?",
                "The audit trail keeps what it was, what it is now and why.",
                action="Save",
            ),
            confirmed,
        )

    def store_call(self, values: dict[str, Any]) -> Any:
        if self._product is None:
            return self.store.add_product(self.user, values["fields"])
        return self.store.update_product(
            self.user, self._product.id, values["fields"], values["reason"]
        )
