"""Signed-content versions on every signature, and injection points per zone.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02

* ``treatment_session.signed_content_version`` and
  ``session_addendum.signed_content_version``: the definition
  (:mod:`formulary.signed_content`) a signature was made under. Rows signed before
  this revision keep NULL, which means version 1: no signed row is updated (the
  signature guards forbid it, and rightly), and version 1 is exactly what they were
  signed under.
* ``treatment_session.injection_points``: the number of injection points (wheals) per
  zone, ``[{"zone", "points"}]``; NULL for sessions charted before it existed. It is
  covered by signatures of version 2 and later.

Columns are added in place (``ALTER TABLE ... ADD COLUMN``) on both engines; the
tables are never rebuilt, so the triggers guarding signed rows stay as they are.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the three nullable columns."""
    op.add_column(
        "treatment_session", sa.Column("injection_points", sa.JSON(), nullable=True)
    )
    op.add_column(
        "treatment_session", sa.Column("signed_content_version", sa.Integer(), nullable=True)
    )
    op.add_column(
        "session_addendum", sa.Column("signed_content_version", sa.Integer(), nullable=True)
    )
