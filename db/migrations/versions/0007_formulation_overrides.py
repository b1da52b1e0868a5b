"""Safety overrides signed when a formulation version was saved.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02

* ``formulation_version.overrides``: the findings a practitioner overrode (a signature:
  password checked, printed name, time and meaning) or acknowledged to save this
  version's content, ``[{"rule", "message", "severity", "reason", "by", "signer_name",
  "meaning", "at"}]``. NULL for versions saved before it existed (their overrides are
  in the audit trail's ``formulation_version.safety_override`` entries).

The column is added in place (``ALTER TABLE ... ADD COLUMN``) on both engines; no row
changes, and what a session signature covers of its formulation version is a fixed
list of fields (formulary.signed_content) that does not include it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the nullable column."""
    op.add_column("formulation_version", sa.Column("overrides", sa.JSON(), nullable=True))


def downgrade() -> None:
    """Refused: dropping a clinical record is never an automatic step."""
    raise RuntimeError("Formulary migrations do not go backwards; restore a backup instead")
