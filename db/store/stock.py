"""The formulary: ingredients (clinic-editable), products, lots and stock levels."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlmodel import col, select

from db import loaders
from db.codec import amount_from_columns, amount_to_json, columns_of
from db.errors import Conflict, NotFound, ValidationError
from db.seed import plain
from db.store import validate as check
from db.store._base import (
    ADMINS,
    EVERYONE,
    PREPARERS,
    SIGNERS,
    Actor,
    StoreBase,
    UnitOfWork,
    require_reason,
    snapshot,
)
from db.store.inputs import (
    ClinicLimit,
    ClinicLimitFields,
    IngredientFields,
    ProductFields,
    StoredIngredient,
    StrengthSpec,
)
from db.tables.formulations import FormulationVersionRow
from db.tables.stock import ClinicLimitRow, IngredientRow, LotRow, ProductRow
from formulary.gs1 import ScanError, normalize_gtin
from formulary.lot_status import (
    AFTER_LIFTED_RECALL,
    lift_refusal,
    lifted_reason,
    status_change_refusal,
)
from formulary.products import labelled_strength, quantity_for_count
from formulary.records import Lot, LotStatus, Presentation, Product
from formulary.safety.context import IngredientFacts
from formulary.safety.documents import facts_from_document
from formulary.text import same_key
from formulary.units import format_amount, unit_kind
from formulary.units.amount import Amount
from formulary.units.catalog import KIND_GROUPS
from formulary.units.errors import UnitsError

#: What a clinic limit may be counted over (see formulary.safety.context.LimitPer).
LIMIT_PERS = ("session", "course", "kg")


def _stored_ingredient(row: IngredientRow) -> StoredIngredient:
    assert row.id is not None
    return StoredIngredient(
        id=row.id,
        key=row.key,
        name=row.name,
        category=row.category,
        synonyms=tuple(str(s) for s in row.synonyms),
        notes=row.notes,
        origin=row.origin,
        sources=tuple(str(s) for s in row.sources),
        facts=dict(row.facts),
    )


def _free_product_name(uow: UnitOfWork, name: str, product_id: int | None) -> str:
    """The product name checked and trimmed, refused when a live product has it already.

    Lots are received by product name, so two live products whose names differ only in
    case or spacing would make every such lookup ambiguous.
    """
    clean = check.text(name, "product name", limit=200, required=True)
    wanted = same_key(clean)
    for other in uow.session.exec(
        select(ProductRow).where(col(ProductRow.deleted_at).is_(None))
    ).all():
        if other.id != product_id and same_key(other.name) == wanted:
            raise Conflict(
                f"product {other.id} is already called {other.name!r}; choose another name "
                "(names differing only in case or spacing are the same), or retire that product"
            )
    return clean


def _same_lot(
    uow: UnitOfWork, product_id: int, number: str, lot_id: int | None
) -> LotRow | None:
    """Another lot of the product whose number is ``number`` whatever its case or spacing.

    A lot number is read off the box and typed, so A1 and a1 of one product are one
    lot, not two stocks to draw from (:func:`formulary.text.same_key`, as chart numbers).
    """
    wanted = same_key(number)
    rows = uow.session.exec(select(LotRow).where(LotRow.product_id == product_id)).all()
    return next(
        (r for r in rows if r.id != lot_id and same_key(r.lot_number) == wanted), None
    )


def _readd(uow: UnitOfWork, row: IngredientRow, fields: IngredientFields) -> IngredientRow:
    """A retired ingredient (the live ones were checked before) added again."""
    if row.origin != "clinic":
        raise Conflict(
            f"{row.name} (key {row.key}) is a library ingredient that was retired; it "
            "cannot be added as a clinic ingredient under its key: give the new one "
            "another name"
        )
    before = snapshot(row)
    _apply_ingredient(row, fields)
    row.deleted_at = None
    row.updated_at = uow.now
    uow.update(row, before, "ingredient.update", "added again after it was retired")
    return row


def _apply_ingredient(row: IngredientRow, fields: IngredientFields) -> None:
    key = check.text(fields.key, "ingredient key", limit=80, required=True).lower()
    if not all(ch.isalnum() or ch in "-_." for ch in key):
        raise ValidationError(
            f"the ingredient key {key!r} may hold only letters, digits, '-', '_' and '.'"
        )
    row.key = key
    row.name = check.text(fields.name, "ingredient name", limit=200, required=True)
    row.category = check.text(fields.category, "category", limit=80)
    row.synonyms = [check.text(s, "synonym", limit=200, required=True) for s in fields.synonyms]
    row.notes = check.text(fields.notes, "notes", limit=5000, multiline=True)
    row.sources = [
        check.text(s, "source", limit=1000, required=True, multiline=True) for s in fields.sources
    ]
    row.facts = plain(dict(fields.facts))


class _DryRun(Exception):
    """Raised inside a unit of work to roll a checked dry run back."""


def ingredient_document_facts(row: IngredientRow) -> IngredientFacts:
    """The rules' view of an ingredient row (its library document and own columns)."""
    document = {
        **(row.facts if isinstance(row.facts, dict) else {}),
        "key": row.key,
        "name": row.name,
        "category": row.category,
        "synonyms": list(row.synonyms),
        "sources": list(row.sources),
    }
    return facts_from_document(document, row.id)


def _form_names(facts: IngredientFacts) -> list[str]:
    names = [s.form for s in facts.forms]
    for substance in facts.forms:
        names.extend(b.label for b in substance.bases)
    return list(dict.fromkeys(n for n in names if n))


def _names_form(facts: IngredientFacts, form: str) -> bool:
    """True when ``form`` is one of the ingredient's forms or a basis of one."""
    if facts.substance_for(form) is not None:
        return True
    wanted = " ".join(form.split()).casefold()
    return any(
        wanted in (b.key.casefold(), " ".join(b.label.split()).casefold())
        for substance in facts.forms
        for b in substance.bases
    )


def _check_form(row: IngredientRow, form: str, amount: Amount) -> None:
    """Refuse a form the ingredient does not have, and an IU figure without its form."""
    facts = ingredient_document_facts(row)
    if form and facts.forms and not _names_form(facts, form):
        raise ValidationError(
            f"{row.name} has no form {form!r}: use one of {', '.join(_form_names(facts))}"
        )
    if unit_kind(amount.unit) not in ("iu", "iu_concentration"):
        return
    with_iu = [s.form for s in facts.forms if s.iu_bases]
    if not with_iu:
        raise ValidationError(
            f"{row.name} has no International Unit defined; state its amount in mg or "
            "give the ingredient a form with its IU factor"
        )
    if not form:
        raise ValidationError(
            f"an amount of {row.name} in IU means nothing without its form: name one of "
            f"{', '.join(with_iu)}"
        )
    chosen = facts.substance_for(form)
    if chosen is not None and not chosen.iu_bases:
        raise ValidationError(
            f"{row.name} ({form}) has no IU factor; use one of {', '.join(with_iu)}"
        )


def _clinic_limit(row: ClinicLimitRow, ingredient_name: str) -> ClinicLimit:
    assert row.id is not None
    amount = amount_from_columns(row.amount_value, row.amount_unit)
    assert amount is not None
    return ClinicLimit(
        id=row.id,
        ingredient_id=row.ingredient_id,
        ingredient_name=ingredient_name,
        per=row.per,
        amount=amount,
        source=row.source,
        basis=row.basis,
        note=row.note,
        retired_reason=row.retired_reason if row.retired_at is not None else "",
    )


def _apply_limit(row: ClinicLimitRow, ingredient: IngredientRow, fields: ClinicLimitFields) -> None:
    if fields.per not in LIMIT_PERS:
        raise ValidationError(
            f"a limit is counted per session, per course or per kg, not {fields.per!r}"
        )
    source = check.text(fields.source, "source", limit=1000, multiline=True)
    if not source:
        raise ValidationError(
            "a limit needs its source (a label, a guideline, the clinic's protocol and its "
            "date): a figure nobody can trace is not kept"
        )
    check.amount(fields.amount, "limit")
    if unit_kind(fields.amount.unit) not in KIND_GROUPS["dose"]:
        raise ValidationError(
            "a limit is an amount such as 300 mg, 2 mmol or 400 international units, "
            f"not {format_amount(fields.amount)}"
        )
    basis = check.text(fields.basis, "basis", limit=200)
    _check_form(ingredient, basis, fields.amount)
    value, unit = columns_of(fields.amount)
    assert value is not None and unit is not None
    row.per = fields.per
    row.amount_value = value
    row.amount_unit = unit
    row.basis = basis
    row.source = source
    row.note = check.text(fields.note, "note", limit=2000, multiline=True)


class StockStore(StoreBase):
    """Ingredients, products and lots."""

    # -- ingredients --------------------------------------------------------------------

    def upsert_ingredient(
        self, actor: Actor, fields: IngredientFields, reason: str | None = None
    ) -> StoredIngredient:
        """Add an ingredient, or edit the one with the same key (editing needs a reason)."""
        with self._write(actor, SIGNERS, "edit the formulary") as uow:
            key = fields.key.strip().lower()
            row = uow.session.exec(
                select(IngredientRow).where(IngredientRow.key == key).with_for_update()
            ).first()
            if row is None:
                row = IngredientRow(created_at=uow.now, updated_at=uow.now, origin="clinic")  # type: ignore[call-arg]
                _apply_ingredient(row, fields)
                uow.add(row, "ingredient.create")
                return _stored_ingredient(row)
            why = require_reason(reason, f"edit the ingredient {row.name}")
            before = snapshot(row)
            if row.origin == "library" and plain(dict(fields.facts)) != before["facts"]:
                raise ValidationError(
                    f"{row.name} is a library ingredient: its facts are read-only; set a "
                    "clinic limit beside them instead"
                )
            _apply_ingredient(row, fields)
            row.deleted_at = None
            if uow.differs(row, before):
                row.updated_at = uow.now
                uow.update(row, before, "ingredient.update", why)
            return _stored_ingredient(row)

    def add_clinic_ingredient(self, actor: Actor, fields: IngredientFields) -> StoredIngredient:
        """Add an ingredient the library lacks; refused when its key, name or a synonym
        already names an ingredient (library or clinic).

        A clinic ingredient retired earlier under the same key is brought back with the
        fields given (keys are never reused, and products of it still point at that row);
        a retired library ingredient is refused with how to find it.
        """
        with self._write(actor, SIGNERS, "edit the formulary") as uow:
            wanted = {check.search_key(n) for n in (fields.name, *fields.synonyms) if n.strip()}
            rows = uow.session.exec(
                select(IngredientRow).where(col(IngredientRow.deleted_at).is_(None))
            ).all()
            for row in rows:
                names = {check.search_key(n) for n in (row.name, *map(str, row.synonyms))}
                if row.key == fields.key.strip().lower() or wanted & names:
                    raise Conflict(
                        f"{row.name} (key {row.key}, {row.origin}) is already in the formulary; "
                        "use it, or give the new ingredient another name"
                    )
            key = fields.key.strip().lower()
            retired = uow.session.exec(
                select(IngredientRow).where(IngredientRow.key == key).with_for_update()
            ).first()
            if retired is not None:
                return _stored_ingredient(_readd(uow, retired, fields))
            row = IngredientRow(created_at=uow.now, updated_at=uow.now, origin="clinic")  # type: ignore[call-arg]
            _apply_ingredient(row, fields)
            uow.add(row, "ingredient.create")
            return _stored_ingredient(row)

    def delete_ingredient(self, actor: Actor, ingredient_id: int, reason: str) -> None:
        """Retire an ingredient (soft delete); needs a reason."""
        why = require_reason(reason, "retire an ingredient")
        with self._write(actor, SIGNERS, "edit the formulary") as uow:
            row = uow.get(IngredientRow, ingredient_id, "ingredient", for_update=True)
            before = snapshot(row)
            row.deleted_at = uow.now
            row.updated_at = uow.now
            uow.update(row, before, "ingredient.delete", why)

    def list_ingredients(self, actor: Actor, search: str = "") -> list[StoredIngredient]:
        """Ingredients (not retired) whose name, key or synonym contains ``search``."""
        with self._read(actor, EVERYONE, "read the formulary") as db:
            rows = db.exec(
                select(IngredientRow)
                .where(col(IngredientRow.deleted_at).is_(None))
                .order_by(col(IngredientRow.name))
            ).all()
            wanted = check.search_key(search)
            out = []
            for row in rows:
                hay = check.search_key(row.name, row.key, *[str(s) for s in row.synonyms])
                if not wanted or all(w in hay for w in wanted.split()):
                    out.append(_stored_ingredient(row))
            return out

    def get_ingredient(self, actor: Actor, ingredient_id: int) -> StoredIngredient:
        """One ingredient."""
        with self._read(actor, EVERYONE, "read the formulary") as db:
            row = db.get(IngredientRow, ingredient_id)
            if row is None:
                raise NotFound(f"ingredient {ingredient_id} does not exist")
            return _stored_ingredient(row)

    # -- clinic limits ------------------------------------------------------------------

    def add_clinic_limit(
        self, actor: Actor, ingredient_id: int, fields: ClinicLimitFields
    ) -> ClinicLimit:
        """Set a clinic maximum on an ingredient (library or clinic), with its source.

        It sits beside the library's figures; the stricter one applies.
        """
        with self._write(actor, SIGNERS, "set clinic limits") as uow:
            ingredient = uow.get(IngredientRow, ingredient_id, "ingredient")
            row = ClinicLimitRow(  # type: ignore[call-arg]
                ingredient_id=ingredient_id, created_at=uow.now, updated_at=uow.now
            )
            _apply_limit(row, ingredient, fields)
            uow.add(row, "clinic_limit.create")
            return _clinic_limit(row, ingredient.name)

    def update_clinic_limit(
        self, actor: Actor, limit_id: int, fields: ClinicLimitFields, reason: str
    ) -> ClinicLimit:
        """Change a clinic limit; needs a reason."""
        why = require_reason(reason, "change a clinic limit")
        with self._write(actor, SIGNERS, "set clinic limits") as uow:
            row = uow.get(ClinicLimitRow, limit_id, "clinic limit", for_update=True)
            if row.retired_at is not None:
                raise ValidationError("this clinic limit is retired; add a new one instead")
            ingredient = uow.get(IngredientRow, row.ingredient_id, "ingredient")
            before = snapshot(row)
            _apply_limit(row, ingredient, fields)
            if uow.differs(row, before):
                row.updated_at = uow.now
                uow.update(row, before, "clinic_limit.update", why)
            return _clinic_limit(row, ingredient.name)

    def retire_clinic_limit(self, actor: Actor, limit_id: int, reason: str) -> ClinicLimit:
        """Stop applying a clinic limit (the row stays, with the reason)."""
        why = require_reason(reason, "retire a clinic limit")
        with self._write(actor, SIGNERS, "set clinic limits") as uow:
            row = uow.get(ClinicLimitRow, limit_id, "clinic limit", for_update=True)
            if row.retired_at is not None:
                raise ValidationError("this clinic limit is already retired")
            before = snapshot(row)
            row.retired_at = uow.now
            row.retired_reason = why
            row.updated_at = uow.now
            uow.update(row, before, "clinic_limit.retire", why)
            ingredient = uow.session.get(IngredientRow, row.ingredient_id)
            return _clinic_limit(row, ingredient.name if ingredient else "?")

    def list_clinic_limits(
        self, actor: Actor, ingredient_id: int | None = None, *, include_retired: bool = False
    ) -> list[ClinicLimit]:
        """Clinic limits (of one ingredient, or all), by ingredient then counting."""
        with self._read(actor, EVERYONE, "read the formulary") as db:
            query = select(ClinicLimitRow)
            if ingredient_id is not None:
                query = query.where(ClinicLimitRow.ingredient_id == ingredient_id)
            if not include_retired:
                query = query.where(col(ClinicLimitRow.retired_at).is_(None))
            rows = db.exec(query.order_by(col(ClinicLimitRow.id))).all()
            names = loaders.ingredient_names(db)
            found = [_clinic_limit(r, names.get(r.ingredient_id, "?")) for r in rows]
            return sorted(found, key=lambda c: (c.ingredient_name.casefold(), c.per, c.id))

    # -- products -----------------------------------------------------------------------

    def _strength_items(
        self,
        uow: UnitOfWork,
        specs: Sequence[StrengthSpec],
        presentation: Presentation | None,
        volume: Amount | None,
    ) -> tuple[list[dict[str, Any]], set[int]]:
        """The product's ingredient lines as stored, each checked against its ingredient."""
        if not specs:
            raise ValidationError("a product needs at least one ingredient with its strength")
        items: list[dict[str, Any]] = []
        seen: set[int] = set()
        for spec in specs:
            ingredient = uow.get(IngredientRow, spec.ingredient_id, "ingredient")
            if spec.ingredient_id in seen:
                raise ValidationError(f"{ingredient.name} is listed twice in the product")
            seen.add(spec.ingredient_id)
            check.amount(spec.strength, f"strength of {ingredient.name}")
            form = check.text(spec.form, "form", limit=200)
            item: dict[str, Any] = {"ingredient_id": spec.ingredient_id, "form": form}
            if presentation is None:
                item["strength"] = amount_to_json(spec.strength)
                items.append(item)
                continue
            try:
                labelled = labelled_strength(spec.strength, presentation, volume)
            except UnitsError as exc:
                raise ValidationError(f"{ingredient.name}: {exc}") from None
            item["strength"] = amount_to_json(labelled.concentration)
            if labelled.per_unit is not None:
                item["per_unit"] = amount_to_json(labelled.per_unit)
            _check_form(ingredient, form, labelled.concentration)
            items.append(item)
        return items, seen

    def _apply_product(self, uow: UnitOfWork, row: ProductRow, fields: ProductFields) -> set[int]:
        presentation = Presentation(fields.presentation)
        check.amount(fields.volume_per_unit, "volume per unit")
        if unit_kind(fields.volume_per_unit.unit) != "volume":
            raise ValidationError(
                "the volume per unit must be a volume such as 5 mL, "
                f"not {format_amount(fields.volume_per_unit)}"
            )
        items, seen = self._strength_items(
            uow, fields.ingredients, presentation, fields.volume_per_unit
        )
        try:
            gtin = normalize_gtin(fields.gtin)
        except ScanError as exc:
            raise ValidationError(str(exc)) from None
        if gtin:
            other = uow.session.exec(
                select(ProductRow).where(
                    ProductRow.gtin == gtin, col(ProductRow.deleted_at).is_(None)
                )
            ).first()
            if other is not None and other.id != row.id:
                raise Conflict(
                    f"GTIN {gtin} is already {other.name}'s; check the box, or retire that "
                    "product first"
                )
        value, unit = columns_of(fields.volume_per_unit)
        row.name = _free_product_name(uow, fields.name, row.id)
        row.manufacturer = check.text(fields.manufacturer, "manufacturer", limit=200)
        row.presentation = presentation.value
        row.gtin = gtin or None
        row.volume_value = value
        row.volume_unit = unit
        row.ingredients = items
        return seen

    def create_product(
        self,
        actor: Actor,
        *,
        name: str,
        ingredients: Sequence[StrengthSpec],
        volume_per_unit: Amount | None = None,
        manufacturer: str = "",
    ) -> Product:
        """Add a stock product: one or more ingredient strengths per unit of volume.

        The short form kept for scripts and tests; :meth:`add_product` records the
        presentation and GTIN as well and checks strengths against the presentation.
        """
        with self._write(actor, SIGNERS, "edit the formulary") as uow:
            items, seen = self._strength_items(uow, ingredients, None, volume_per_unit)
            if volume_per_unit is not None:
                check.amount(volume_per_unit, "volume per unit")
            value, unit = columns_of(volume_per_unit)
            row = ProductRow(
                name=_free_product_name(uow, name, None),
                manufacturer=check.text(manufacturer, "manufacturer", limit=200),
                volume_value=value,
                volume_unit=unit,
                ingredients=items,
                created_at=uow.now,
                updated_at=uow.now,
            )
            uow.add(row, "product.create")
            names = loaders.ingredient_names(uow.session, seen)
            return loaders.product(row, names)

    def add_product(self, actor: Actor, fields: ProductFields) -> Product:
        """Add a product as its box describes it (presentation, unit volume, GTIN,
        ingredient strengths); one audited transaction."""
        with self._write(actor, SIGNERS, "edit the formulary") as uow:
            row = ProductRow(created_at=uow.now, updated_at=uow.now)  # type: ignore[call-arg]
            seen = self._apply_product(uow, row, fields)
            uow.add(row, "product.create")
            return loaders.product(row, loaders.ingredient_names(uow.session, seen))

    def add_products(
        self,
        actor: Actor,
        products: Sequence[ProductFields],
        *,
        labels: Sequence[str] = (),
        dry_run: bool = False,
    ) -> list[Product]:
        """Add many products in one transaction: all of them, or none.

        A refusal names the product by ``labels[i]`` (e.g. ``"line 4"``) when given.
        ``dry_run`` checks everything exactly as a real run would and writes nothing.
        """
        added: list[Product] = []
        try:
            with self._write(actor, SIGNERS, "edit the formulary") as uow:
                for index, fields in enumerate(products):
                    label = labels[index] if index < len(labels) else f"product {index + 1}"
                    row = ProductRow(created_at=uow.now, updated_at=uow.now)  # type: ignore[call-arg]
                    try:
                        seen = self._apply_product(uow, row, fields)
                    except (ValidationError, Conflict, NotFound) as exc:
                        raise type(exc)(f"{label} ({fields.name}): {exc}") from None
                    uow.add(row, "product.create")
                    added.append(loaders.product(row, loaders.ingredient_names(uow.session, seen)))
                if dry_run:
                    raise _DryRun
        except _DryRun:
            pass
        return added

    def update_product(
        self, actor: Actor, product_id: int, fields: ProductFields, reason: str
    ) -> Product:
        """Edit a product; needs a reason.

        Once a lot was received or a formulation names the product, what is in it
        (presentation, unit volume, ingredients, strengths) is fixed: stock and charts
        already count with it. Its name, manufacturer and GTIN may still change.
        """
        why = require_reason(reason, "edit a product")
        with self._write(actor, SIGNERS, "edit the formulary") as uow:
            row = uow.get(ProductRow, product_id, "product", for_update=True)
            before = snapshot(row)
            seen = self._apply_product(uow, row, fields)
            fixed = ("presentation", "volume_value", "volume_unit", "ingredients")
            after = snapshot(row)
            if any(before[k] != after[k] for k in fixed) and self._product_in_use(uow, row):
                raise ValidationError(
                    f"{before['name']} already has lots or is in a formulation, so what is in "
                    "it cannot change; retire it and add the corrected product"
                )
            if uow.differs(row, before):
                row.updated_at = uow.now
                uow.update(row, before, "product.update", why)
            return loaders.product(row, loaders.ingredient_names(uow.session, seen))

    @staticmethod
    def _product_in_use(uow: UnitOfWork, row: ProductRow) -> bool:
        lot = uow.session.exec(select(LotRow.id).where(LotRow.product_id == row.id)).first()
        if lot is not None:
            return True
        versions = uow.session.exec(select(FormulationVersionRow.components)).all()
        return any(
            isinstance(item, dict) and item.get("product_id") == row.id
            for components in versions
            for item in (components or ())
        )

    def retire_product(self, actor: Actor, product_id: int, reason: str) -> None:
        """Retire a product (never deleted): it leaves the lists, its lots stay on
        record; needs a reason."""
        why = require_reason(reason, "retire a product")
        with self._write(actor, SIGNERS, "edit the formulary") as uow:
            row = uow.get(ProductRow, product_id, "product", for_update=True)
            before = snapshot(row)
            row.deleted_at = uow.now
            row.updated_at = uow.now
            row.retired_reason = why
            uow.update(row, before, "product.delete", why)

    def delete_product(self, actor: Actor, product_id: int, reason: str) -> None:
        """Retire a product (soft delete); the older name of :meth:`retire_product`."""
        self.retire_product(actor, product_id, reason)

    def list_products(self, actor: Actor, *, include_retired: bool = False) -> list[Product]:
        """Every product (not retired unless ``include_retired``), by name."""
        with self._read(actor, EVERYONE, "read the formulary") as db:
            query = select(ProductRow)
            if not include_retired:
                query = query.where(col(ProductRow.deleted_at).is_(None))
            rows = db.exec(query.order_by(col(ProductRow.name), col(ProductRow.id))).all()
            names = loaders.ingredient_names(db)
            return [loaders.product(r, names) for r in rows]

    def get_product(self, actor: Actor, product_id: int) -> Product:
        """One product."""
        with self._read(actor, EVERYONE, "read the formulary") as db:
            row = db.get(ProductRow, product_id)
            if row is None:
                raise NotFound(f"product {product_id} does not exist")
            return loaders.product(row, loaders.ingredient_names(db))

    def product_by_gtin(self, actor: Actor, gtin: str) -> Product | None:
        """The product (not retired) whose box carries ``gtin``, or None."""
        try:
            wanted = normalize_gtin(gtin)
        except ScanError as exc:
            raise ValidationError(str(exc)) from None
        if not wanted:
            return None
        with self._read(actor, EVERYONE, "read the formulary") as db:
            row = db.exec(
                select(ProductRow).where(
                    ProductRow.gtin == wanted, col(ProductRow.deleted_at).is_(None)
                )
            ).first()
            return None if row is None else loaders.product(row, loaders.ingredient_names(db))

    # -- lots -------------------------------------------------------------------------

    def receive_lot(
        self,
        actor: Actor,
        *,
        product_id: int,
        lot_number: str,
        expiry: date,
        quantity: Amount | None = None,
        count: int | None = None,
        supplier: str = "",
    ) -> Lot:
        """Record a received lot, by volume or by count of units.

        ``quantity`` is in the product's volume unit if it has one; ``count`` (instead)
        is how many ampoules, vials or syringes arrived: 10 of 5 mL is 50 mL on hand.
        """
        if (quantity is None) == (count is None):
            raise ValidationError(
                "give either the quantity received (such as 50 mL) or the count of units"
            )
        if quantity is not None:
            check.amount(quantity, "quantity received", physical=False)
        check.moment(expiry, "the expiry date")
        number = check.text(lot_number, "lot number", limit=80, required=True)
        who = check.text(supplier, "supplier", limit=200)
        with self._write(actor, PREPARERS, "receive stock") as uow:
            product = uow.get(ProductRow, product_id, "product")
            volume = amount_from_columns(product.volume_value, product.volume_unit)
            if count is not None:
                if volume is None:
                    raise ValidationError(
                        f"{product.name} has no volume per unit recorded; receive it by volume"
                    )
                try:
                    quantity = quantity_for_count(count, volume)
                except ValueError as exc:
                    raise ValidationError(str(exc)) from None
            assert quantity is not None
            if product.volume_unit is not None and quantity.unit != product.volume_unit:
                raise ValidationError(
                    f"{product.name} is stocked in {product.volume_unit}; give the quantity "
                    f"received in {product.volume_unit}, not {quantity.unit}"
                )
            existing = _same_lot(uow, product_id, number, None)
            if existing is not None:
                spelt = f" (as {existing.lot_number})" if existing.lot_number != number else ""
                raise Conflict(
                    f"lot {number} of {product.name} is already received{spelt}; adjust its "
                    "stock instead"
                )
            value, unit = columns_of(quantity)
            assert value is not None and unit is not None
            row = LotRow(
                product_id=product_id,
                lot_number=number,
                expiry=expiry,
                quantity_value=value,
                quantity_unit=unit,
                status=LotStatus.AVAILABLE.value,
                supplier=who,
                units_received=count,
                received_at=uow.now,
                updated_at=uow.now,
            )
            uow.add(row, "lot.receive")
            return loaders.lot(row)

    def correct_lot(
        self,
        actor: Actor,
        lot_id: int,
        *,
        reason: str,
        lot_number: str | None = None,
        expiry: date | None = None,
        supplier: str | None = None,
    ) -> Lot:
        """Correct what was typed when a lot was received: its number, expiry or supplier.

        For a typing mistake (the box says B7, B1 was typed): the lot stays the same lot,
        with the sessions that drew from it, which then show, label and recall it under
        the corrected number. Needs a reason; audited as ``lot.correct`` with the row
        before and after. Its quantity is corrected with :meth:`adjust_stock`, its status
        with :meth:`set_lot_status`.
        """
        why = require_reason(reason, "correct a lot")
        number = (
            None if lot_number is None
            else check.text(lot_number, "lot number", limit=80, required=True)
        )
        if expiry is not None:
            check.moment(expiry, "the expiry date")
        who = None if supplier is None else check.text(supplier, "supplier", limit=200)
        if number is None and expiry is None and who is None:
            raise ValidationError(
                "nothing to correct: give the lot number, the expiry date or the supplier"
            )
        with self._write(actor, SIGNERS, "correct lots") as uow:
            row = self._lot_for_change(uow, lot_id)
            label = self._lot_label(uow, row)
            if number is not None:
                twin = _same_lot(uow, row.product_id, number, row.id)
                if twin is not None:
                    raise Conflict(
                        f"{label} cannot become {number}: that product has lot "
                        f"{twin.lot_number} already (lot numbers differing only in case or "
                        "spacing are the same lot)"
                    )
            before = snapshot(row)
            if number is not None:
                row.lot_number = number
            if expiry is not None:
                row.expiry = expiry
            if who is not None:
                row.supplier = who
            if not uow.differs(row, before):
                raise ValidationError(f"{label} already reads so; nothing was changed")
            row.updated_at = uow.now
            uow.update(row, before, "lot.correct", why)
            return loaders.lot(row)

    def _lot_for_change(self, uow: UnitOfWork, lot_id: int) -> LotRow:
        return uow.get(LotRow, lot_id, "lot", for_update=True)

    @staticmethod
    def _lot_label(uow: UnitOfWork, row: LotRow) -> str:
        product = uow.session.get(ProductRow, row.product_id)
        return f"lot {row.lot_number} of {product.name if product else f'product {row.product_id}'}"

    def set_lot_status(self, actor: Actor, lot_id: int, status: LotStatus, reason: str) -> Lot:
        """Quarantine, recall or release a lot; needs a reason.

        A recall is final: a recalled lot is neither released nor quarantined
        (:func:`formulary.lot_status.status_change_refusal`); an administrator lifts a
        recall recorded by mistake with :meth:`lift_recall`.
        """
        why = require_reason(reason, "change a lot's status")
        wanted = LotStatus(status)
        with self._write(actor, SIGNERS, "change lot status") as uow:
            row = self._lot_for_change(uow, lot_id)
            refusal = status_change_refusal(
                self._lot_label(uow, row), LotStatus(row.status), wanted
            )
            if refusal is not None:
                raise ValidationError(refusal)
            before = snapshot(row)
            row.status = wanted.value
            if uow.differs(row, before):
                row.updated_at = uow.now
                uow.update(row, before, "lot.set_status", why)
            return loaders.lot(row)

    def lift_recall(self, actor: Actor, lot_id: int, reason: str) -> Lot:
        """Lift a recall recorded by mistake (administrators); needs a reason.

        The lot goes to quarantine, not back to the shelf: it is drawn from again only
        once someone has checked it and released it (:meth:`set_lot_status`). Audited
        ``lot.set_status`` with the status before and after, the reason beginning
        "recall lifted:" (:func:`formulary.lot_status.lifted_reason`).
        """
        why = require_reason(reason, "lift a recall")
        with self._write(actor, ADMINS, "lift a recall") as uow:
            row = self._lot_for_change(uow, lot_id)
            refusal = lift_refusal(self._lot_label(uow, row), LotStatus(row.status))
            if refusal is not None:
                raise ValidationError(refusal)
            before = snapshot(row)
            row.status = AFTER_LIFTED_RECALL.value
            row.updated_at = uow.now
            uow.update(row, before, "lot.set_status", lifted_reason(why))
            return loaders.lot(row)

    def adjust_stock(self, actor: Actor, lot_id: int, delta: Amount, reason: str) -> Lot:
        """Correct a lot's quantity on hand by ``delta`` (negative to remove); needs a reason."""
        why = require_reason(reason, "adjust stock")
        check.amount(delta, "adjustment", positive=False, physical=False)
        if delta.value == 0:
            raise ValidationError("the adjustment is zero; give the amount to add or remove")
        with self._write(actor, SIGNERS, "adjust stock") as uow:
            row = self._lot_for_change(uow, lot_id)
            if delta.unit != row.quantity_unit:
                raise ValidationError(
                    f"lot {row.lot_number} is counted in {row.quantity_unit}; "
                    f"give the adjustment in {row.quantity_unit}"
                )
            left = row.quantity_value + delta.value
            if left < 0:
                raise ValidationError(
                    f"lot {row.lot_number} holds {row.quantity_value} {row.quantity_unit}; "
                    "it cannot go below zero"
                )
            before = snapshot(row)
            row.quantity_value = left
            row.updated_at = uow.now
            uow.update(row, before, "lot.adjust", why)
            return loaders.lot(row)

    def get_lot(self, actor: Actor, lot_id: int) -> Lot:
        """One lot."""
        with self._read(actor, EVERYONE, "read stock") as db:
            row = db.get(LotRow, lot_id)
            if row is None:
                raise NotFound(f"lot {lot_id} does not exist")
            return loaders.lot(row)

    def list_lots(
        self, actor: Actor, product_id: int | None = None, *, include_empty: bool = False
    ) -> list[Lot]:
        """Lots (of one product, or all), soonest expiry first."""
        with self._read(actor, EVERYONE, "read stock") as db:
            query = select(LotRow)
            if product_id is not None:
                query = query.where(LotRow.product_id == product_id)
            rows = db.exec(query.order_by(col(LotRow.expiry), col(LotRow.id))).all()
            return [loaders.lot(r) for r in rows if include_empty or r.quantity_value > 0]

    def lots_for_product(self, actor: Actor, product_id: int, on: date) -> list[Lot]:
        """Lots that may be drawn on ``on``: available, unexpired, in stock; first expiry first."""
        with self._read(actor, EVERYONE, "read stock") as db:
            rows = db.exec(
                select(LotRow)
                .where(
                    LotRow.product_id == product_id,
                    LotRow.status == LotStatus.AVAILABLE.value,
                    col(LotRow.expiry) >= on,
                )
                .order_by(col(LotRow.expiry), col(LotRow.id))
            ).all()
            return [loaders.lot(r) for r in rows if r.quantity_value > 0]
