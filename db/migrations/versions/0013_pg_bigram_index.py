"""PostgreSQL: a bigram index for search words with no three letters in a row.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03

The trigram index (0006) answers ``LIKE '%word%'`` from the index only when the word
has three letters or digits in a row: pg_trgm splits at anything else. A word of two
characters ('zz'), or one whose letters the dash splits ('c-0'), has nothing to look
up, and on a chain's server of 200,000 patients each such keystroke scanned every
patient (45 ms). ``formulary_bigrams`` gives the distinct two-character pieces of a
text; ``ix_patient_search_bigrams`` is a GIN index of them for the live patients, so
the Store can narrow such a word to the patients whose key has all its bigrams
(``@>``) and then check the word itself. It needs no extension. Building it takes a few
seconds for 200,000 patients.

An index and a function only: no row changes, so no signature or audit hash is touched.
SQLite: nothing (it scans one clinic's patients).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

#: IMMUTABLE (the same text always gives the same pieces), so it may index; its COST
#: tells the planner to test the cheap LIKE first when both filter one row.
BIGRAMS_FUNCTION = """
CREATE OR REPLACE FUNCTION formulary_bigrams(key text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE COST 1000
AS $$
    SELECT coalesce(array_agg(DISTINCT substr(key, i, 2)), '{}')
    FROM generate_series(1, length(key) - 1) AS i
$$
"""


def upgrade() -> None:
    """Create the function and the index (PostgreSQL only)."""
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    bind.execute(sa.text(BIGRAMS_FUNCTION))
    bind.execute(
        sa.text(
            "CREATE INDEX ix_patient_search_bigrams ON patient "
            "USING gin (formulary_bigrams(search_key)) WHERE deleted_at IS NULL"
        )
    )


def downgrade() -> None:
    """Refused: Formulary migrations do not go backwards."""
    raise RuntimeError("Formulary migrations do not go backwards; restore a backup instead")
