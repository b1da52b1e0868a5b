"""Mark SQLite files as Formulary's: ``PRAGMA application_id``.

SQLite keeps a 32-bit application id in the file header for exactly this purpose
(``file`` and other tools read it too). Formulary's is :data:`db.marker.APPLICATION_ID`
(``0x464F524D``, "FORM"). New databases get it as they are created (this migration
runs for them too); older ones when they are migrated to this revision. Opening a
SQLite file whose application id is another number is refused, whatever tables it
holds; a file at this revision or later without the id is refused too.

No row changes, so no signature or audit hash is touched. PostgreSQL has no file
header: a database there is recognised by its schema and installation row.

Revision ID: 0011
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

from db.marker import APPLICATION_ID

revision = "0011"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Write the application id into a SQLite file's header."""
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        # A literal: PRAGMA takes no bound parameters. The value is our constant.
        bind.exec_driver_sql(f"PRAGMA application_id = {APPLICATION_ID:d}")


def downgrade() -> None:
    """Refused: Formulary migrations do not go backwards."""
    raise RuntimeError("Formulary migrations do not go backwards; restore a backup instead")
