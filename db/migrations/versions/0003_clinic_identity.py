"""Clinic identity and the syringe label's beyond-use time on the installation row.

``clinic_identifier`` names the clinic in export identifier systems and resource ids
(empty: derived from the database id); ``beyond_use_minutes`` is how long a prepared
syringe may be used (printed on its label). Neither is signed content.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the two clinic settings with defaults, so existing rows stay valid."""
    with op.batch_alter_table("installation") as batch:
        batch.add_column(
            sa.Column("clinic_identifier", sa.String(64), nullable=False, server_default="")
        )
        batch.add_column(
            sa.Column("beyond_use_minutes", sa.Integer(), nullable=False, server_default="60")
        )


def downgrade() -> None:
    """Drop the two settings again."""
    with op.batch_alter_table("installation") as batch:
        batch.drop_column("beyond_use_minutes")
        batch.drop_column("clinic_identifier")
