"""Add an ingredient the library lacks: name, synonyms, category, class, its form with
the molar mass, and an IU factor (with its source) where an IU applies."""

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


class ClinicIngredientScreen(StockDialog):
    """Dismissed with the stored ingredient, or None."""

    FORM_NAME = "the ingredient form"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", id="clinic_ingredient.save", priority=True),
        Binding("escape", "cancel", "Cancel", id="clinic_ingredient.cancel"),
    ]

    def __init__(self, ingredient: Any = None) -> None:
        super().__init__()
        #: The clinic ingredient edited (None: a new one).
        self._ingredient = ingredient
        facts = ingredient.facts if ingredient is not None else {}
        forms = facts.get("forms") if isinstance(facts, dict) else None
        self._forms: list[Any] = list(forms) if isinstance(forms, list) else []

    def _prefill(self) -> dict[str, str]:
        i = self._ingredient
        if i is None:
            return {}
        first = self._forms[0] if self._forms and isinstance(self._forms[0], dict) else {}
        iu = (first.get("iu_bases") or [{}])[0] if first else {}
        classes = i.facts.get("classes", []) if isinstance(i.facts, dict) else []
        return {
            "ci-name": i.name,
            "ci-synonyms": "; ".join(i.synonyms),
            "ci-classes": "; ".join(str(c) for c in classes),
            "ci-form": str(first.get("label") or ""),
            "ci-molar-mass": str(first.get("molar_mass") or ""),
            "ci-iu": str(iu.get("mass_per_iu_mg") or ""),
            "ci-iu-source": str(iu.get("source") or ""),
            "ci-source": "; ".join(i.sources),
        }

    def on_mount(self) -> None:
        for ident, value in self._prefill().items():
            self.query_one(f"#{ident}", Input).value = value
        self.mark_pristine()

    def compose(self) -> ComposeResult:
        from formulary.library.model import CATEGORIES

        i = self._ingredient
        with VerticalScroll():
            yield Static(
                f"Edit {i.name}" if i is not None else "New clinic ingredient",
                classes="form-title",
            )
            yield FieldRow("Name", TextInput(id="ci-name"), id="row-ci-name")
            yield FieldRow(
                "Synonyms",
                TextInput(id="ci-synonyms", placeholder="other names, separated by ;"),
                id="row-ci-synonyms",
            )
            yield FieldRow(
                "Category",
                Select(
                    [(c.replace("_", " "), c) for c in CATEGORIES],
                    value=i.category if i is not None and i.category in CATEGORIES else "other",
                    allow_blank=False,
                    id="ci-category",
                ),
                id="row-ci-category",
            )
            yield FieldRow(
                "Classes",
                TextInput(
                    id="ci-classes", placeholder="groups an allergy may name; separated by ;"
                ),
                id="row-ci-classes",
            )
            yield Static("Its form (the salt or base the strengths are stated in):", classes="hint")
            yield FieldRow(
                "Form", TextInput(id="ci-form", placeholder="e.g. adenosine"), id="row-ci-form"
            )
            yield FieldRow(
                "Molar mass",
                TextInput(id="ci-molar-mass", placeholder="g/mol, e.g. 267.24 (optional)"),
                id="row-ci-molar-mass",
            )
            yield FieldRow(
                "mg per IU",
                TextInput(id="ci-iu", placeholder="only where an IU is defined (optional)"),
                id="row-ci-iu",
            )
            yield FieldRow(
                "IU source",
                TextInput(id="ci-iu-source", placeholder="pharmacopoeia, label"),
                id="row-ci-iu-source",
            )
            yield FieldRow(
                "Source",
                TextInput(id="ci-source", placeholder="where these facts come from"),
                id="row-ci-source",
            )
            yield Static("", id="form-error", classes="dialog-error")
            with Horizontal(id="form-buttons", classes="dialog-buttons"):
                yield Button("Save (ctrl+s)", id="form-save", variant="primary")
                yield Button("Cancel (esc)", id="form-cancel")

    def _text(self, ident: str) -> str:
        return self.query_one(f"#{ident}", Input).value.strip()

    def read(self) -> tuple[dict[str, Any], dict[str, str]]:
        from db.store import IngredientFields
        from formulary.clinic_ingredients import (
            MOLAR_MASS_RANGE,
            ClinicForm,
            ingredient_document,
            ingredient_key,
            parse_positive,
        )

        errors: dict[str, str] = {}
        name = self._text("ci-name")
        key = ""
        try:
            key = ingredient_key(name)
        except ValueError as exc:
            errors["row-ci-name"] = str(exc)[0].upper() + str(exc)[1:] + "."
        if self._ingredient is not None:
            key = self._ingredient.key  # the key never changes: records link to it
        mass = None
        if self._text("ci-molar-mass"):
            try:
                mass = parse_positive(
                    self._text("ci-molar-mass"), "molar mass", limits=MOLAR_MASS_RANGE
                )
            except ValueError as exc:
                errors["row-ci-molar-mass"] = str(exc)
        per_iu = None
        if self._text("ci-iu"):
            try:
                per_iu = parse_positive(self._text("ci-iu"), "mg per IU")
            except ValueError as exc:
                errors["row-ci-iu"] = str(exc)
            if not self._text("ci-iu-source"):
                errors["row-ci-iu-source"] = "An IU factor needs its source."
        form = self._text("ci-form")
        if (mass is not None or per_iu is not None) and not form:
            errors["row-ci-form"] = "Name the form the molar mass or IU is for."
        if errors:
            return {}, errors
        forms = [ClinicForm(form, mass, per_iu, self._text("ci-iu-source"))] if form else []
        try:
            facts = ingredient_document(
                forms, classes=[c for c in self._text("ci-classes").split(";") if c.strip()]
            )
        except ValueError as exc:
            return {}, {"row-ci-form": str(exc)}
        if self._forms[1:]:  # forms added headless beyond the first stay as they are
            facts["forms"] = [*facts["forms"], *self._forms[1:]]
        if self._ingredient is not None and isinstance(self._ingredient.facts, dict):
            kept = {k: v for k, v in self._ingredient.facts.items() if k not in facts}
            facts = {**kept, **facts, "limits": self._ingredient.facts.get("limits", [])}
        category = self.query_one("#ci-category", Select).value
        fields = IngredientFields(
            key=key,
            name=name,
            category=str(category),
            synonyms=tuple(s.strip() for s in self._text("ci-synonyms").split(";") if s.strip()),
            sources=(self._text("ci-source"),) if self._text("ci-source") else (),
            facts=facts,
        )
        return {"fields": fields}, {}

    def action_save(self) -> None:
        """Check, then save; an edit asks for the reason first."""
        if defer_until_typed(self, self.action_save):
            return
        if self._ingredient is None:
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
                f"Save the changes to {self._ingredient.name}?",
                "The audit trail keeps what it was, what it is now and why.",
                action="Save",
            ),
            confirmed,
        )

    def store_call(self, values: dict[str, Any]) -> Any:
        if self._ingredient is not None:
            return self.store.upsert_ingredient(self.user, values["fields"], values["reason"])
        return self.store.add_clinic_ingredient(self.user, values["fields"])
