"""Measured results: density, shaft diameter, grade, photo references."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlmodel import Field, SQLModel

from db.tables._common import decimal_field, json_field, unit_field, utc_field


class OutcomeRow(SQLModel, table=True):
    """One measurement of a patient's result at a visit."""

    __tablename__ = "outcome"

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    session_id: int | None = Field(default=None, foreign_key="treatment_session.id")
    measured_at: datetime = utc_field()
    density_value: Decimal | None = decimal_field()
    density_unit: str | None = unit_field()
    diameter_value: Decimal | None = decimal_field()
    diameter_unit: str | None = unit_field()
    scale_grade: str = Field(default="", max_length=20)
    zone: str | None = Field(default=None, max_length=20)
    photo_refs: list[str] = json_field()
    notes: str = Field(default="", max_length=2000)
    created_at: datetime = utc_field()
    created_by_id: int = Field(foreign_key="app_user.id")
    deleted_at: datetime | None = utc_field(nullable=True)
