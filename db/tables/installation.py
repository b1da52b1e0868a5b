"""The one row that identifies this database (its id goes into every audit hash)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from db.tables._common import utc_field


class InstallationRow(SQLModel, table=True):
    """Identity of this database: a random UUID fixed at creation."""

    __tablename__ = "installation"

    id: int | None = Field(default=None, primary_key=True)
    db_id: str = Field(max_length=36, unique=True)
    created_at: datetime = utc_field()
    clinic_name: str = Field(default="", max_length=200)
    clinic_address: str = Field(default="", max_length=500)
    # Names the clinic in exports (empty: derived from db_id, see db.loaders.clinic).
    clinic_identifier: str = Field(
        default="", max_length=64, sa_column_kwargs={"server_default": ""}
    )
    # How long a prepared syringe may be used; printed on its label.
    beyond_use_minutes: int = Field(default=60, sa_column_kwargs={"server_default": "60"})
    # The largest photo file accepted (formulary.photos.DEFAULT_MAX_BYTES by default).
    photo_max_bytes: int = Field(
        default=26_214_400, sa_column_kwargs={"server_default": "26214400"}
    )
