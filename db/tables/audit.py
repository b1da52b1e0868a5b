"""The ``audit_event`` table: one row per audited change, hash-chained.

Rows are only ever inserted (by :func:`db.audit.chain.append_event`); triggers
installed by :func:`db.audit.guards.install_guards` refuse UPDATE and DELETE.
Everything that enters the hash is stored as text exactly as it was hashed
(timestamps, before/after images as canonical JSON), so verification recomputes
the same bytes without re-formatting anything.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, String, Text
from sqlmodel import Field, SQLModel

# On SQLite an INTEGER PRIMARY KEY is the rowid itself: seq lookups and ordered
# scans need no separate index. Elsewhere a 64-bit integer.
_SEQ_TYPE = BigInteger().with_variant(Integer(), "sqlite")


class AuditEvent(SQLModel, table=True):
    """One entry of the append-only audit chain."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_patient", "patient_id", "seq"),)

    # Assigned as max(seq)+1 while the append lock is held; never autoincrement,
    # so that a gap always means a deleted row.
    seq: int = Field(sa_column=Column(_SEQ_TYPE, primary_key=True, autoincrement=False))
    ts_utc: str = Field(sa_column=Column(String(32), nullable=False))
    user_name: str = Field(sa_column=Column(String(200), nullable=False))
    workstation: str = Field(sa_column=Column(String(200), nullable=False))
    action: str = Field(sa_column=Column(String(100), nullable=False))
    entity: str = Field(sa_column=Column(String(100), nullable=False))
    entity_id: str | None = Field(default=None, sa_column=Column(String(100), nullable=True))
    before: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    after: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    prev_hash: str = Field(sa_column=Column(String(64), nullable=False))
    hash: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    #: The patient the entry is about (db.audit.subject); an index for the audit
    #: screen's patient filter, derived from the hashed fields and not hashed itself.
    patient_id: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
