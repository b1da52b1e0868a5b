"""Users of the app and the patients they treat."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from db.tables._common import decimal_field, json_field, unit_field, utc_field


class UserRow(SQLModel, table=True):
    """A person who signs in. Never deleted and never reused: deactivated instead."""

    __tablename__ = "app_user"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=100)
    #: NFKC + casefold of ``username``: the key uniqueness and login compare on.
    username_key: str = Field(max_length=100, unique=True)
    full_name: str = Field(max_length=200)
    role: str = Field(max_length=20)
    password_hash: str = Field(max_length=200)
    active: bool = Field(default=True)
    failed_logins: int = Field(default=0)
    locked: bool = Field(default=False)
    created_at: datetime = utc_field()
    updated_at: datetime = utc_field()


class PatientRow(SQLModel, table=True):
    """A patient's chart header. Deletion is soft (``deleted_at``)."""

    __tablename__ = "patient"
    __table_args__ = (sa.Index("ix_patient_name", "family_key", "given_key"),)

    id: int | None = Field(default=None, primary_key=True)
    chart_number: str = Field(max_length=40, unique=True)
    family_name: str = Field(max_length=120)
    given_name: str = Field(max_length=120)
    #: NFKC + casefold + accents stripped, for fast case-insensitive prefix search.
    family_key: str = Field(max_length=120)
    given_key: str = Field(max_length=120)
    #: ``family given chart`` normalised: what free-text search scans.
    search_key: str = Field(max_length=400)
    date_of_birth: date = Field(index=True)
    sex: str = Field(max_length=10)
    diagnosis: str = Field(default="", max_length=500)
    grade_scale: str | None = Field(default=None, max_length=10)
    grade: str = Field(default="", max_length=20)
    #: The latest entry of the weight history (``patient_weight``), in kg: what the
    #: safety rules read. Kept here so a chart loads without a second query.
    weight_value: Decimal | None = decimal_field()
    weight_unit: str | None = unit_field()
    height_value: Decimal | None = decimal_field()
    height_unit: str | None = unit_field()
    #: ``[{"substance", "ingredient_id", "reaction"}]``
    allergies: list[dict[str, Any]] = json_field()
    #: ``[{"code", "text"}]``
    conditions: list[dict[str, Any]] = json_field()
    consent_on_file: bool = Field(default=False)
    consent_date: date | None = Field(default=None)
    created_at: datetime = utc_field()
    updated_at: datetime = utc_field()
    deleted_at: datetime | None = utc_field(nullable=True)


class PatientWeightRow(SQLModel, table=True):
    """One measured body weight. Never changed or deleted: a new measurement is a new row."""

    __tablename__ = "patient_weight"
    __table_args__ = (sa.Index("ix_patient_weight_patient", "patient_id", "measured_on"),)

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id")
    measured_on: date
    #: Exact kilograms (a weight typed in pounds is converted without rounding).
    weight_value: Decimal = decimal_field(nullable=False)
    weight_unit: str = Field(default="kg", max_length=32)
    #: What was typed (``lb`` or ``kg``), kept to show the measurement as taken.
    entered_value: Decimal = decimal_field(nullable=False)
    entered_unit: str = Field(default="kg", max_length=32)
    recorded_at: datetime = utc_field()
    recorded_by: str = Field(max_length=100)
