"""The formulary: ingredients (clinic-editable), products, lots and stock levels."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlmodel import col, select

from db import loaders
from db.codec import amount_to_json, columns_of
from db.errors import Conflict, NotFound, ValidationError
from db.seed import plain
from db.store import validate as check
from db.store._base import (
    EVERYONE,
    PREPARERS,
    SIGNERS,
    Actor,
    StoreBase,
    UnitOfWork,
    require_reason,
    snapshot,
)
from db.store.inputs import IngredientFields, StoredIngredient, StrengthSpec
from db.tables.stock import IngredientRow, LotRow, ProductRow
from formulary.records import Lot, LotStatus, Product
from formulary.units.amount import Amount


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
    row.notes = check.text(fields.notes, "notes", limit=5000)
    row.sources = [check.text(s, "source", limit=1000, required=True) for s in fields.sources]
    row.facts = plain(dict(fields.facts))


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
            _apply_ingredient(row, fields)
            row.deleted_at = None
            if uow.differs(row, before):
                row.updated_at = uow.now
                uow.update(row, before, "ingredient.update", why)
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

    # -- products -----------------------------------------------------------------------

    def create_product(
        self,
        actor: Actor,
        *,
        name: str,
        ingredients: Sequence[StrengthSpec],
        volume_per_unit: Amount | None = None,
        manufacturer: str = "",
    ) -> Product:
        """Add a stock product: one or more ingredient strengths per unit of volume."""
        if not ingredients:
            raise ValidationError("a product needs at least one ingredient with its strength")
        with self._write(actor, SIGNERS, "edit the formulary") as uow:
            items: list[dict[str, Any]] = []
            seen: set[int] = set()
            for spec in ingredients:
                uow.get(IngredientRow, spec.ingredient_id, "ingredient")
                if spec.ingredient_id in seen:
                    raise ValidationError("an ingredient is listed twice in the product")
                seen.add(spec.ingredient_id)
                check.amount(spec.strength, "strength")
                items.append(
                    {
                        "ingredient_id": spec.ingredient_id,
                        "strength": amount_to_json(spec.strength),
                        "form": check.text(spec.form, "form", limit=200),
                    }
                )
            if volume_per_unit is not None:
                check.amount(volume_per_unit, "volume per unit")
            value, unit = columns_of(volume_per_unit)
            row = ProductRow(
                name=check.text(name, "product name", limit=200, required=True),
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

    def delete_product(self, actor: Actor, product_id: int, reason: str) -> None:
        """Retire a product (soft delete); its lots stay on record; needs a reason."""
        why = require_reason(reason, "retire a product")
        with self._write(actor, SIGNERS, "edit the formulary") as uow:
            row = uow.get(ProductRow, product_id, "product", for_update=True)
            before = snapshot(row)
            row.deleted_at = uow.now
            row.updated_at = uow.now
            uow.update(row, before, "product.delete", why)

    def list_products(self, actor: Actor) -> list[Product]:
        """Every product not retired, by name."""
        with self._read(actor, EVERYONE, "read the formulary") as db:
            rows = db.exec(
                select(ProductRow)
                .where(col(ProductRow.deleted_at).is_(None))
                .order_by(col(ProductRow.name), col(ProductRow.id))
            ).all()
            names = loaders.ingredient_names(db)
            return [loaders.product(r, names) for r in rows]

    def get_product(self, actor: Actor, product_id: int) -> Product:
        """One product."""
        with self._read(actor, EVERYONE, "read the formulary") as db:
            row = db.get(ProductRow, product_id)
            if row is None:
                raise NotFound(f"product {product_id} does not exist")
            return loaders.product(row, loaders.ingredient_names(db))

    # -- lots -------------------------------------------------------------------------

    def receive_lot(
        self,
        actor: Actor,
        *,
        product_id: int,
        lot_number: str,
        expiry: date,
        quantity: Amount,
    ) -> Lot:
        """Record a received lot. ``quantity`` is in the product's volume unit if it has one."""
        check.amount(quantity, "quantity received")
        number = check.text(lot_number, "lot number", limit=80, required=True)
        with self._write(actor, PREPARERS, "receive stock") as uow:
            product = uow.get(ProductRow, product_id, "product")
            if product.volume_unit is not None and quantity.unit != product.volume_unit:
                raise ValidationError(
                    f"{product.name} is stocked in {product.volume_unit}; give the quantity "
                    f"received in {product.volume_unit}, not {quantity.unit}"
                )
            existing = uow.session.exec(
                select(LotRow).where(LotRow.product_id == product_id, LotRow.lot_number == number)
            ).first()
            if existing is not None:
                raise Conflict(
                    f"lot {number} of {product.name} is already received; adjust its stock instead"
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
                received_at=uow.now,
                updated_at=uow.now,
            )
            uow.add(row, "lot.receive")
            return loaders.lot(row)

    def _lot_for_change(self, uow: UnitOfWork, lot_id: int) -> LotRow:
        return uow.get(LotRow, lot_id, "lot", for_update=True)

    def set_lot_status(self, actor: Actor, lot_id: int, status: LotStatus, reason: str) -> Lot:
        """Quarantine, recall or release a lot; needs a reason."""
        why = require_reason(reason, "change a lot's status")
        with self._write(actor, SIGNERS, "change lot status") as uow:
            row = self._lot_for_change(uow, lot_id)
            before = snapshot(row)
            row.status = LotStatus(status).value
            if uow.differs(row, before):
                row.updated_at = uow.now
                uow.update(row, before, "lot.set_status", why)
            return loaders.lot(row)

    def adjust_stock(self, actor: Actor, lot_id: int, delta: Amount, reason: str) -> Lot:
        """Correct a lot's quantity on hand by ``delta`` (negative to remove); needs a reason."""
        why = require_reason(reason, "adjust stock")
        check.amount(delta, "adjustment", positive=False)
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
