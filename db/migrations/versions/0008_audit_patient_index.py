"""Index the audit trail by patient: ``audit_event.patient_id`` and its index.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02

The audit screen's patient filter used to read every entry's images. Each entry now
records which patient it is about (:mod:`db.audit.subject`), filled on append; this
migration adds the column and fills it for the entries already written.

The column is not part of the hashed entry (the hash covers time, user,
workstation, action, entity, entity id, images and reason, exactly as before), so
no hash changes and the chain verifies as it did. The append-only guards are lifted
for the backfill's UPDATE, inside this migration's transaction, and put back before
it commits: no other writer can run in between.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from db.audit.guards import install_guards, remove_guards
from db.audit.subject import fill_patients

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

#: Entries read (and updated) per step of the backfill.
_BATCH = 5000


def upgrade() -> None:
    """Add the column and its index, then fill it for every existing entry."""
    op.add_column("audit_event", sa.Column("patient_id", sa.Integer(), nullable=True))
    op.create_index("ix_audit_event_patient", "audit_event", ["patient_id", "seq"])
    connection = op.get_bind()
    remove_guards(connection)
    update = sa.text("UPDATE audit_event SET patient_id = :patient WHERE seq = :seq")
    after = 0
    while True:
        rows = connection.execute(
            sa.text(
                "SELECT seq, entity, entity_id, before, after FROM audit_event "
                "WHERE seq > :after ORDER BY seq LIMIT :n"
            ),
            {"after": after, "n": _BATCH},
        ).all()
        if not rows:
            break
        entries = [
            {"seq": r[0], "entity": r[1], "entity_id": r[2], "before": r[3], "after": r[4]}
            for r in rows
        ]
        fill_patients(connection, entries)
        found = [
            {"patient": e["patient_id"], "seq": e["seq"]}
            for e in entries
            if e["patient_id"] is not None
        ]
        if found:
            connection.execute(update, found)
        after = int(rows[-1][0])
    install_guards(connection)
