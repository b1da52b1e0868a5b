"""Clinical photographs (issue 15, part 2) and the clinic's photo size limit.

Revision ID: 0010
Revises: 0011 (numbers reserved per helper; consent's 0009 lands after this one and follows it)
Create Date: 2026-12-02

* ``photo``: one row per attached photograph: the patient, the session or outcome it
  belongs to, the view, the date taken, and the SHA-256, size, media type and pixel
  size of the stripped copy kept in the managed-file folder (``db/files.py``). Retired
  (withdrawn with a reason), never deleted.
* ``installation.photo_max_bytes``: the largest file accepted (default 25 MB).

New table and a new column with a default: no existing row changes, and nothing a
signature covers (formulary.signed_content) is touched.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the photo table and add the clinic setting."""
    op.create_table(
        "photo",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.Column("outcome_id", sa.Integer(), nullable=True),
        sa.Column("view", sa.String(20), nullable=False),
        sa.Column("taken_on", sa.Date(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("media_type", sa.String(40), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retired_reason", sa.Text(), nullable=False),
        sa.Column("retired_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["patient_id"], ["patient.id"]),
        sa.ForeignKeyConstraint(["session_id"], ["treatment_session.id"]),
        sa.ForeignKeyConstraint(["outcome_id"], ["outcome.id"]),
        sa.ForeignKeyConstraint(["created_by_id"], ["app_user.id"]),
        sa.ForeignKeyConstraint(["retired_by_id"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_photo_patient_view", "photo", ["patient_id", "view", "taken_on"])
    op.create_index("ix_photo_sha256", "photo", ["sha256"])
    with op.batch_alter_table("installation") as batch:
        batch.add_column(
            sa.Column(
                "photo_max_bytes", sa.Integer(), nullable=False, server_default="26214400"
            )
        )


def downgrade() -> None:
    """Refused: dropping a clinical record is never an automatic step."""
    raise RuntimeError("Formulary migrations do not go backwards; restore a backup instead")
