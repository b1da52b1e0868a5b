"""Consent templates (versioned) and patients' signed consents (revision 0009)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from db.tables._common import utc_field


class ConsentTemplateRow(SQLModel, table=True):
    """A clinic consent template; its text lives in numbered, immutable versions."""

    __tablename__ = "consent_template"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, unique=True)
    current_version: int = Field(default=1)
    created_at: datetime = utc_field()
    updated_at: datetime = utc_field()
    #: Set when retired: no new consent may be signed on it; signed ones stay valid.
    retired_at: datetime | None = utc_field(nullable=True)
    retired_reason: str = Field(default="", sa_type=sa.Text())


class ConsentTemplateVersionRow(SQLModel, table=True):
    """One version of a template: its exact text and that text's SHA-256. Never changed."""

    __tablename__ = "consent_template_version"
    __table_args__ = (
        sa.UniqueConstraint("template_id", "version", name="uq_consent_template_version"),
    )

    id: int | None = Field(default=None, primary_key=True)
    template_id: int = Field(foreign_key="consent_template.id", index=True)
    version: int
    text: str = Field(sa_type=sa.Text())
    sha256: str = Field(max_length=64)
    created_at: datetime = utc_field()
    #: None for the default template seeded when the database was created.
    created_by_id: int | None = Field(default=None, foreign_key="app_user.id", nullable=True)


class ConsentRow(SQLModel, table=True):
    """A patient's consent: the version's text and hash, the typed name, the witness.

    Only the withdrawal columns ever change after it is written (the guards refuse
    anything else); ``record_hash`` binds what was signed.
    """

    __tablename__ = "consent"

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    #: None: a consent for sessions outside any course.
    course_id: int | None = Field(default=None, foreign_key="course.id", nullable=True)
    template_version_id: int = Field(foreign_key="consent_template_version.id")
    #: The template version's text as signed, copied, and its SHA-256.
    text: str = Field(sa_type=sa.Text())
    text_sha256: str = Field(max_length=64)
    #: The patient's full name as they typed it (their signature).
    typed_name: str = Field(max_length=200)
    witness_id: int = Field(foreign_key="app_user.id")
    witness_name: str = Field(max_length=200)
    signed_at: datetime = utc_field()
    #: The scanned paper form kept in the managed folder, by SHA-256 (None: no form).
    form_sha256: str | None = Field(default=None, max_length=64, nullable=True)
    form_name: str = Field(default="", max_length=255)
    #: SHA-256 over the canonical JSON of what was signed (db.store.consent).
    record_hash: str = Field(max_length=64)
    withdrawn_at: datetime | None = utc_field(nullable=True)
    withdrawn_by_id: int | None = Field(default=None, foreign_key="app_user.id", nullable=True)
    withdrawn_reason: str = Field(default="", sa_type=sa.Text())
