"""Consent: clinic consent templates (versioned) and patients' signed consents.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02

* ``consent_template``: a clinic template (name, current version, retired).
* ``consent_template_version``: one version's exact Markdown text and its SHA-256;
  never changed or deleted (triggers refuse it).
* ``consent``: a patient's consent for a course (or none): the version's text as
  signed and its hash, the typed name, the witness, the UTC time, the scanned form's
  SHA-256, a record hash over all of it; only the withdrawal columns may be filled in
  later, once (triggers refuse every other change and any delete).

New tables only: no existing row changes, so no session signature or audit hash is
touched. The patient's old yes/no ``consent_on_file`` / ``consent_date`` columns stay
as they were (they are not in any signed content); they no longer decide anything
(docs/consent.md, "The old consent mark").
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0010"
branch_labels = None
depends_on = None

# What a signed consent keeps unchanged forever (frozen here, not imported: a
# migration must keep meaning what it meant when released).
_SIGNED = ("patient_id", "course_id", "template_version_id", "text", "text_sha256",
           "typed_name", "witness_id", "witness_name", "signed_at", "form_sha256",
           "form_name", "record_hash")

_SQLITE = (
    """CREATE TRIGGER consent_template_version_no_update
    BEFORE UPDATE ON consent_template_version
    BEGIN SELECT RAISE(ABORT, 'a consent template version cannot change: save a new version');
    END""",
    """CREATE TRIGGER consent_template_version_no_delete
    BEFORE DELETE ON consent_template_version
    BEGIN SELECT RAISE(ABORT, 'a consent template version cannot be deleted'); END""",
    "CREATE TRIGGER consent_no_update BEFORE UPDATE ON consent "
    "WHEN OLD.withdrawn_at IS NOT NULL OR "
    + " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in _SIGNED)
    + " BEGIN SELECT RAISE(ABORT, 'a signed consent cannot change: withdraw it'); END",
    """CREATE TRIGGER consent_no_delete BEFORE DELETE ON consent
    BEGIN SELECT RAISE(ABORT, 'a signed consent cannot be deleted: withdraw it'); END""",
)

_POSTGRESQL = (
    """CREATE OR REPLACE FUNCTION formulary_refuse_consent_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_TABLE_NAME = 'consent' AND TG_OP = 'UPDATE' AND OLD.withdrawn_at IS NULL
            AND ROW(""" + ", ".join(f"NEW.{c}" for c in _SIGNED) + """)
            IS NOT DISTINCT FROM ROW(""" + ", ".join(f"OLD.{c}" for c in _SIGNED) + """) THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION 'signed consent records cannot change (% on %): withdraw it',
            TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
    END
    $$""",
    """CREATE TRIGGER consent_template_version_guard
    BEFORE UPDATE OR DELETE ON consent_template_version
    FOR EACH ROW EXECUTE FUNCTION formulary_refuse_consent_change()""",
    """CREATE TRIGGER consent_guard BEFORE UPDATE OR DELETE ON consent
    FOR EACH ROW EXECUTE FUNCTION formulary_refuse_consent_change()""",
)


def upgrade() -> None:
    """Create the three tables and their guards."""
    op.create_table(
        "consent_template",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("current_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retired_reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "consent_template_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("template_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["template_id"], ["consent_template.id"]),
        sa.ForeignKeyConstraint(["created_by_id"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("template_id", "version", name="uq_consent_template_version"),
    )
    op.create_index("ix_consent_template_version_template_id", "consent_template_version",
                    ["template_id"], unique=False)
    op.create_table(
        "consent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=True),
        sa.Column("template_version_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("text_sha256", sa.String(64), nullable=False),
        sa.Column("typed_name", sa.String(200), nullable=False),
        sa.Column("witness_id", sa.Integer(), nullable=False),
        sa.Column("witness_name", sa.String(200), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("form_sha256", sa.String(64), nullable=True),
        sa.Column("form_name", sa.String(255), nullable=False),
        sa.Column("record_hash", sa.String(64), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_by_id", sa.Integer(), nullable=True),
        sa.Column("withdrawn_reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["patient_id"], ["patient.id"]),
        sa.ForeignKeyConstraint(["course_id"], ["course.id"]),
        sa.ForeignKeyConstraint(["template_version_id"], ["consent_template_version.id"]),
        sa.ForeignKeyConstraint(["witness_id"], ["app_user.id"]),
        sa.ForeignKeyConstraint(["withdrawn_by_id"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_consent_patient_id", "consent", ["patient_id"], unique=False)
    statements = _SQLITE if op.get_bind().dialect.name == "sqlite" else _POSTGRESQL
    for statement in statements:
        op.execute(sa.text(statement))


def downgrade() -> None:
    """Refused: dropping a clinical record is never an automatic step."""
    raise RuntimeError("Formulary migrations do not go backwards; restore a backup instead")
