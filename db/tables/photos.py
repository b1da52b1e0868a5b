"""Clinical photographs: one row per attached file (the file itself is in db.files)."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from db.tables._common import utc_field


class PhotoRow(SQLModel, table=True):
    """A photograph of one view, taken on one date, attached to a session or an outcome.

    ``sha256`` names the stripped copy in the managed-file folder; the row (and so the
    hash) is in the audit trail. A photo attached in error is retired with a reason,
    never deleted: the row, its file and its audit entries stay.
    """

    __tablename__ = "photo"
    __table_args__ = (sa.Index("ix_photo_patient_view", "patient_id", "view", "taken_on"),)

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id")
    session_id: int | None = Field(default=None, foreign_key="treatment_session.id")
    outcome_id: int | None = Field(default=None, foreign_key="outcome.id")
    view: str = Field(max_length=20)
    taken_on: date
    sha256: str = Field(max_length=64, index=True)
    size_bytes: int
    media_type: str = Field(max_length=40)
    width: int
    height: int
    note: str = Field(default="", max_length=500)
    created_at: datetime = utc_field()
    created_by_id: int = Field(foreign_key="app_user.id")
    retired_at: datetime | None = utc_field(nullable=True)
    retired_reason: str = Field(default="", sa_type=sa.Text())
    retired_by_id: int | None = Field(default=None, foreign_key="app_user.id")
