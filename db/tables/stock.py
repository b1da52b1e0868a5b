"""Stock tables: ingredients, products and their lots (the clinic's formulary)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from db.tables._common import decimal_field, empty_dict, json_field, unit_field, utc_field


class IngredientRow(SQLModel, table=True):
    """An ingredient: copied from the reference library at creation, clinic-editable."""

    __tablename__ = "ingredient"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=80, unique=True)
    name: str = Field(max_length=200)
    category: str = Field(default="", max_length=80)
    synonyms: list[Any] = json_field()
    notes: str = Field(default="", sa_type=sa.Text())
    sources: list[Any] = json_field()
    #: Everything else the library knows (forms, bases, IU facts, doses, limits,
    #: cautions …) exactly as ``formulary.library`` documents the entry.
    facts: dict[str, Any] = Field(default_factory=empty_dict, sa_type=sa.JSON(), nullable=False)
    #: ``library`` (seeded, maybe edited) or ``clinic`` (added by the clinic).
    origin: str = Field(default="clinic", max_length=10)
    created_at: datetime = utc_field()
    updated_at: datetime = utc_field()
    deleted_at: datetime | None = utc_field(nullable=True)


class ProductRow(SQLModel, table=True):
    """A stock item: one or more ingredient strengths in a unit of some volume."""

    __tablename__ = "product"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, index=True)
    manufacturer: str = Field(default="", max_length=200)
    volume_value: Decimal | None = decimal_field()
    volume_unit: str | None = unit_field()
    #: ``[{"ingredient_id", "strength": {"value", "unit"}, "form", "per_unit"?}]``
    ingredients: list[dict[str, Any]] = json_field()
    #: ``ampoule``, ``vial``, ``prefilled_syringe`` or ``powder``; None on older rows.
    presentation: str | None = Field(default=None, max_length=20, nullable=True)
    #: GTIN-14 digits (check digit verified), or None.
    gtin: str | None = Field(default=None, max_length=14, nullable=True, index=True)
    retired_reason: str = Field(
        default="", sa_type=sa.Text(), sa_column_kwargs={"server_default": ""}
    )
    created_at: datetime = utc_field()
    updated_at: datetime = utc_field()
    deleted_at: datetime | None = utc_field(nullable=True)


class LotRow(SQLModel, table=True):
    """A received lot of a product, with what is left of it."""

    __tablename__ = "lot"
    __table_args__ = (sa.UniqueConstraint("product_id", "lot_number", name="uq_lot_product"),)

    id: int | None = Field(default=None, primary_key=True)
    product_id: int = Field(foreign_key="product.id", index=True)
    lot_number: str = Field(max_length=80, index=True)
    expiry: date = Field(index=True)
    quantity_value: Decimal = decimal_field(nullable=False)
    quantity_unit: str = Field(max_length=32)
    status: str = Field(default="available", max_length=12)
    supplier: str = Field(default="", max_length=200, sa_column_kwargs={"server_default": ""})
    #: Units (ampoules, vials) counted at receipt; None when received by volume.
    units_received: int | None = Field(default=None, nullable=True)
    received_at: datetime = utc_field()
    updated_at: datetime = utc_field()


class ClinicLimitRow(SQLModel, table=True):
    """A maximum the clinic set on an ingredient, beside the library's own limits.

    The stricter of the clinic's and the library's figure applies. A limit is never
    deleted: retiring it keeps the row with the time and the reason.
    """

    __tablename__ = "clinic_limit"

    id: int | None = Field(default=None, primary_key=True)
    ingredient_id: int = Field(foreign_key="ingredient.id", index=True)
    #: ``session``, ``course`` or ``kg`` (per kilogram of body weight, in one session).
    per: str = Field(max_length=10)
    amount_value: Decimal = decimal_field(nullable=False)
    amount_unit: str = Field(max_length=32)
    #: The form or basis the amount is stated in ("" for the ingredient's default form).
    basis: str = Field(default="", max_length=200)
    source: str = Field(sa_type=sa.Text())
    note: str = Field(default="", sa_type=sa.Text())
    created_at: datetime = utc_field()
    updated_at: datetime = utc_field()
    retired_at: datetime | None = utc_field(nullable=True)
    retired_reason: str = Field(default="", sa_type=sa.Text())
