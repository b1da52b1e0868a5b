"""Indexes for the patient list on a chain's shared server: search pages and course progress.

Revision ID: 0012
Revises: 0009
Create Date: 2026-12-02

* ``ix_session_signed_progress`` (both engines): a patient's live sessions by status,
  with their course and date. The patient list shows each listed patient's course
  progress and next due date (``Store.patient_summaries``): with this index that read
  is answered from the index alone, a few entries per patient, instead of fetching
  every session row (each over a kilobyte) of a page of patients.
* ``ix_patient_list`` (PostgreSQL): the live patients in list order (family name,
  given name, id) with the search key and date of birth beside each entry. A search
  word that many patients share walks it in order and stops after a page; the
  filter is read from the index, not from the table, so a word shared by few
  patients that the planner took for a common one still costs one pass over a small
  index (a few megabytes for 200,000 patients) rather than a walk through the
  table. Rare words keep the trigram index (0006). SQLite has no included columns
  and scans its patient table for a filtered list, which is quick for one clinic.

Indexes only: no row changes, so no signature or audit hash is touched.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the two indexes (the second on PostgreSQL only)."""
    op.create_index(
        "ix_session_signed_progress",
        "treatment_session",
        # deleted_at too, though always NULL here: SQLite reads a query's every column
        # from the index only when the index holds it, even one its WHERE settles.
        ["patient_id", "status", "course_id", "performed_at", "deleted_at"],
        sqlite_where=sa.text("deleted_at IS NULL"),
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.create_index(
            "ix_patient_list",
            "patient",
            ["family_key", "given_key", "id"],
            postgresql_include=["search_key", "date_of_birth"],
            postgresql_where=sa.text("deleted_at IS NULL"),
        )


def downgrade() -> None:
    """Refused: Formulary migrations do not go backwards."""
    raise RuntimeError("Formulary migrations do not go backwards; restore a backup instead")
