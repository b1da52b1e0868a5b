"""Administered treatment sessions, the lots they drew from, and signed addenda."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from db.tables._common import decimal_field, json_field, unit_field, utc_field


class SessionRow(SQLModel, table=True):
    """One session: a draft while being prepared, immutable once signed."""

    __tablename__ = "treatment_session"
    __table_args__ = (sa.Index("ix_session_patient_time", "patient_id", "performed_at"),)

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id")
    formulation_version_id: int = Field(foreign_key="formulation_version.id", index=True)
    course_id: int | None = Field(default=None, foreign_key="course.id")
    session_number: int | None = None
    performed_at: datetime = utc_field()
    status: str = Field(default="draft", max_length=10)
    technique: str | None = Field(default=None, max_length=20)
    needle_gauge: int | None = None
    needle_length_value: Decimal | None = decimal_field()
    needle_length_unit: str | None = unit_field()
    depth_value: Decimal | None = decimal_field()
    depth_unit: str | None = unit_field()
    total_volume_value: Decimal | None = decimal_field()
    total_volume_unit: str | None = unit_field()
    #: ``[{"zone", "volume": {"value", "unit"}}]``
    zones: list[dict[str, Any]] = json_field()
    #: Planned draws: ``[{"component_position", "lot_id", "drawn": {"value", "unit"} | None}]``
    lots: list[dict[str, Any]] = json_field()
    #: Injection points (wheals) per zone: ``[{"zone", "points"}]``; None: not recorded
    #: (sessions from before revision 0005).
    injection_points: list[dict[str, Any]] | None = Field(
        default=None, sa_type=sa.JSON(), nullable=True
    )
    anaesthesia: str = Field(default="", max_length=500)
    pain_score: int | None = None
    #: ``[{"kind", "severity", "description"}]``
    adverse_events: list[dict[str, Any]] = json_field()
    post_care: str = Field(default="", sa_type=sa.Text())
    notes: str = Field(default="", sa_type=sa.Text())
    #: ``[{"rule", "message", "severity", "reason", "by", "at"}]``
    overrides: list[dict[str, Any]] = json_field()
    created_at: datetime = utc_field()
    created_by_id: int = Field(foreign_key="app_user.id")
    updated_at: datetime = utc_field()
    signed_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    signer_name: str | None = Field(default=None, max_length=200)
    signed_at: datetime | None = utc_field(nullable=True)
    signature_meaning: str | None = Field(default=None, max_length=100)
    content_hash: str | None = Field(default=None, max_length=64)
    #: The signed-content definition the signature was made under
    #: (:mod:`formulary.signed_content`); None: version 1 (signed before 0005).
    signed_content_version: int | None = None
    deleted_at: datetime | None = utc_field(nullable=True)


class SessionLotRow(SQLModel, table=True):
    """A lot that supplied a component of a signed session (what recalls search)."""

    __tablename__ = "session_lot"

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="treatment_session.id", index=True)
    component_position: int
    lot_id: int = Field(foreign_key="lot.id", index=True)
    drawn_value: Decimal | None = decimal_field()
    drawn_unit: str | None = unit_field()


class AddendumRow(SQLModel, table=True):
    """A signed correction to a signed session."""

    __tablename__ = "session_addendum"

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="treatment_session.id", index=True)
    text: str = Field(sa_type=sa.Text())
    reason: str = Field(max_length=500)
    signed_by_id: int = Field(foreign_key="app_user.id")
    signer_name: str = Field(max_length=200)
    signed_at: datetime = utc_field()
    signature_meaning: str = Field(max_length=100)
    content_hash: str = Field(max_length=64)
    #: The signed-content definition the signature was made under; None: version 1.
    signed_content_version: int | None = None
