"""Stock set-up: product presentation, GTIN and retirement reason; lot supplier and
count received; clinic limits beside the library's.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# Exact decimals are stored as text on every engine (see db.types.DecimalText).
DECIMAL_TEXT = sa.String(64)


def upgrade() -> None:
    """Add the new columns (existing rows keep working: every one is optional) and
    the clinic_limit table. No existing row changes, so no signature or audit hash
    is touched."""
    with op.batch_alter_table("product") as batch:
        batch.add_column(sa.Column("presentation", sa.String(20), nullable=True))
        batch.add_column(sa.Column("gtin", sa.String(14), nullable=True))
        batch.add_column(
            sa.Column("retired_reason", sa.Text(), nullable=False, server_default="")
        )
    op.create_index("ix_product_gtin", "product", ["gtin"], unique=False)
    with op.batch_alter_table("lot") as batch:
        batch.add_column(
            sa.Column("supplier", sa.String(200), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("units_received", sa.Integer(), nullable=True))
    op.create_table(
        "clinic_limit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ingredient_id", sa.Integer(), nullable=False),
        sa.Column("per", sa.String(10), nullable=False),
        sa.Column("amount_value", DECIMAL_TEXT, nullable=False),
        sa.Column("amount_unit", sa.String(32), nullable=False),
        sa.Column("basis", sa.String(200), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retired_reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["ingredient_id"], ["ingredient.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_clinic_limit_ingredient_id", "clinic_limit", ["ingredient_id"], unique=False
    )


def downgrade() -> None:
    """Refused: dropping a clinical record is never an automatic step."""
    raise RuntimeError("Formulary migrations do not go backwards; restore a backup instead")
