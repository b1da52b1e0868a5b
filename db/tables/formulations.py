"""Patients' cocktails (versioned) and their planned courses."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from db.tables._common import decimal_field, json_field, unit_field, utc_field


class FormulationRow(SQLModel, table=True):
    """A named cocktail of one patient; its content lives in numbered versions."""

    __tablename__ = "formulation"

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    name: str = Field(max_length=200)
    current_version: int = Field(default=1)
    created_at: datetime = utc_field()
    updated_at: datetime = utc_field()
    deleted_at: datetime | None = utc_field(nullable=True)


class FormulationVersionRow(SQLModel, table=True):
    """One version of a formulation. Locked (never changed again) once used."""

    __tablename__ = "formulation_version"
    __table_args__ = (
        sa.UniqueConstraint("formulation_id", "version", name="uq_formulation_version"),
    )

    id: int | None = Field(default=None, primary_key=True)
    formulation_id: int = Field(foreign_key="formulation.id", index=True)
    version: int
    final_volume_value: Decimal | None = decimal_field()
    final_volume_unit: str | None = unit_field()
    #: ``[{"position", "name", "amount": {"value", "unit"}, "product_id", "ingredient_id"}]``
    components: list[dict[str, Any]] = json_field()
    note: str = Field(default="", max_length=1000)
    locked: bool = Field(default=False)
    created_at: datetime = utc_field()
    created_by_id: int = Field(foreign_key="app_user.id")
    #: The safety findings overridden (signed) or acknowledged to save this content,
    #: as ``treatment_session.overrides``; None for versions saved before the column.
    overrides: list[dict[str, Any]] | None = Field(
        default=None, sa_type=sa.JSON(), nullable=True
    )


class CourseRow(SQLModel, table=True):
    """A planned series of sessions for a patient."""

    __tablename__ = "course"

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    formulation_id: int | None = Field(default=None, foreign_key="formulation.id")
    name: str = Field(max_length=200)
    planned_sessions: int
    interval_days: int
    start_date: date
    created_at: datetime = utc_field()
