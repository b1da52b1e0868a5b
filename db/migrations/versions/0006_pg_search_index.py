"""PostgreSQL: a trigram index for the patient search.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02

The patient list searches ``patient.search_key`` for every typed word anywhere in it
(``LIKE '%word%'``). SQLite scans the table, which is quick for one clinic; a chain's
shared PostgreSQL server holds hundreds of thousands of patients, where a scan per
keystroke is not. ``pg_trgm``'s GIN index answers such patterns from the index.

``pg_trgm`` ships with PostgreSQL and is a trusted extension (PostgreSQL 13+): the
database owner, who runs migrations, may create it. Where it cannot be created (an
older server, a server built without contrib), the index is left out and the search
works as before, by scanning: the migration says so in the server log and goes on,
because a missing index is a speed problem, not a records problem. SQLite: nothing.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_log = logging.getLogger(__name__)


def upgrade() -> None:
    """Create pg_trgm (if it can) and the trigram index on patient.search_key."""
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    savepoint = bind.begin_nested()
    try:
        bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except sa.exc.DBAPIError as exc:
        savepoint.rollback()
        _log.warning("pg_trgm is not available (%s); the patient search will scan", exc)
        return
    savepoint.commit()
    op.create_index(
        "ix_patient_search_trgm",
        "patient",
        ["search_key"],
        postgresql_using="gin",
        postgresql_ops={"search_key": "gin_trgm_ops"},
    )


def downgrade() -> None:
    """Drop the index (the extension may serve others and stays)."""
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_patient_search_trgm", table_name="patient", if_exists=True)
