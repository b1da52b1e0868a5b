"""Administered treatment sessions, the lots they drew from, and signed addenda.

The columns of a session's simple fields (whole numbers, quantities, text) are made
from their declaration in :mod:`formulary.session_fields`; the rest are written here.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

import sqlalchemy as sa
from sqlmodel import Field, SQLModel
from sqlmodel.main import SQLModelMetaclass

from db.tables._common import decimal_field, json_field, unit_field, utc_field
from formulary import session_fields

#: Text fields up to this length are VARCHAR columns, longer ones TEXT.
VARCHAR_LIMIT = 500


class _SessionHead(SQLModel):
    """The first columns of a session: who, when, what was given, how (written here)."""

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id")
    formulation_version_id: int = Field(foreign_key="formulation_version.id", index=True)
    course_id: int | None = Field(default=None, foreign_key="course.id")
    performed_at: datetime = utc_field()
    status: str = Field(default="draft", max_length=10)
    technique: str | None = Field(default=None, max_length=20)


def simple_columns(declared: session_fields.SessionField) -> dict[str, tuple[Any, Any]]:
    """The stored columns of a simple declared field: name to (Python type, Field).

    A whole number is a nullable INTEGER; a quantity a value/unit pair (exact decimal
    text and the canonical unit); text a VARCHAR of its length (TEXT beyond
    :data:`VARCHAR_LIMIT`), never NULL, empty when not charted.
    """
    if declared.kind is session_fields.Kind.INT:
        return {declared.columns[0]: (int | None, Field(default=None))}
    if declared.kind is session_fields.Kind.AMOUNT:
        value, unit = declared.columns
        return {value: (Decimal | None, decimal_field()), unit: (str | None, unit_field())}
    limit = declared.max_length
    if limit is not None and limit <= VARCHAR_LIMIT:
        return {declared.columns[0]: (str, Field(default="", max_length=limit))}
    return {declared.columns[0]: (str, Field(default="", sa_type=sa.Text()))}


def _declared_columns(base: type[SQLModel]) -> type[SQLModel]:
    """``base`` with a column for every simple declared field, made from the declaration.

    So a whole number, a quantity or a text added to formulary.session_fields has its
    column here without a line written; only its migration is written by hand.
    """
    annotations: dict[str, Any] = {}
    namespace: dict[str, Any] = {"__module__": __name__, "__annotations__": annotations}
    for declared in session_fields.simple_fields():
        for column, (python_type, spec) in simple_columns(declared).items():
            annotations[column] = python_type
            namespace[column] = spec
    return cast(type[SQLModel], SQLModelMetaclass("_DeclaredColumns", (base,), namespace))


if TYPE_CHECKING:
    # Typed code reads the generated columns through the declaration
    # (db.loaders.simple_fields, declared_amount), never as attributes.
    _DeclaredColumns = _SessionHead
else:
    _DeclaredColumns = _declared_columns(_SessionHead)


class SessionRow(_DeclaredColumns, table=True):
    """One session: a draft while being prepared, immutable once signed.

    Its columns: the head above, then one or two per simple declared field
    (:func:`simple_columns`, in declaration order), then the structured fields and the
    bookkeeping below.
    """

    __tablename__ = "treatment_session"
    __table_args__ = (
        sa.Index("ix_session_patient_time", "patient_id", "performed_at"),
        # The patient list's course progress, read from the index alone (migration 0012).
        sa.Index("ix_session_signed_progress", "patient_id", "status", "course_id",
                 "performed_at", "deleted_at", sqlite_where=sa.text("deleted_at IS NULL"),
                 postgresql_where=sa.text("deleted_at IS NULL")),
    )

    #: ``[{"zone", "volume": {"value", "unit"}}]``
    zones: list[dict[str, Any]] = json_field()
    #: Planned draws: ``[{"component_position", "lot_id", "drawn": {"value", "unit"} | None}]``
    lots: list[dict[str, Any]] = json_field()
    #: Injection points (wheals) per zone: ``[{"zone", "points"}]``; None: not recorded
    #: (sessions from before revision 0005).
    injection_points: list[dict[str, Any]] | None = Field(
        default=None, sa_type=sa.JSON(), nullable=True
    )
    #: ``[{"kind", "severity", "description"}]``
    adverse_events: list[dict[str, Any]] = json_field()
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
