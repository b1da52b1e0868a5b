"""Initial schema: users, patients, formulary, formulations, sessions, outcomes, audit.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from db.audit.guards import install_guards
from db.guards import install_signature_guards

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Exact decimals are stored as text on every engine (see db.types.DecimalText).
DECIMAL_TEXT = sa.String(64)


def upgrade() -> None:
    """Create every table of the first release and this database's identity row."""
    op.create_table(
        "audit_event",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("ts_utc", sa.String(32), nullable=False),
        sa.Column("user_name", sa.String(200), nullable=False),
        sa.Column("workstation", sa.String(200), nullable=False),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("entity", sa.String(100), nullable=False),
        sa.Column("entity_id", sa.String(100), nullable=True),
        sa.Column("before", sa.Text(), nullable=True),
        sa.Column("after", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False, unique=True),
    )
    op.create_index("ix_audit_event_entity", "audit_event", ["entity", "entity_id"])
    install_guards(op.get_bind())
    op.create_table(
        "app_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(100), nullable=False),
        sa.Column("username_key", sa.String(100), nullable=False),
        sa.Column("full_name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("username_key"),
    )
    op.create_table(
        "ingredient",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(80), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("category", sa.String(80), nullable=False),
        sa.Column("synonyms", sa.JSON(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("sources", sa.JSON(), nullable=False),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.Column("origin", sa.String(10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    op.create_table(
        "installation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("db_id", sa.String(36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("clinic_name", sa.String(200), nullable=False),
        sa.Column("clinic_address", sa.String(500), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("db_id"),
    )
    op.create_table(
        "patient",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chart_number", sa.String(40), nullable=False),
        sa.Column("family_name", sa.String(120), nullable=False),
        sa.Column("given_name", sa.String(120), nullable=False),
        sa.Column("family_key", sa.String(120), nullable=False),
        sa.Column("given_key", sa.String(120), nullable=False),
        sa.Column("search_key", sa.String(400), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=False),
        sa.Column("sex", sa.String(10), nullable=False),
        sa.Column("diagnosis", sa.String(500), nullable=False),
        sa.Column("grade_scale", sa.String(10), nullable=True),
        sa.Column("grade", sa.String(20), nullable=False),
        sa.Column("weight_value", DECIMAL_TEXT, nullable=True),
        sa.Column("weight_unit", sa.String(32), nullable=True),
        sa.Column("allergies", sa.JSON(), nullable=False),
        sa.Column("conditions", sa.JSON(), nullable=False),
        sa.Column("consent_on_file", sa.Boolean(), nullable=False),
        sa.Column("consent_date", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("chart_number"),
    )
    op.create_index("ix_patient_date_of_birth", "patient", ["date_of_birth"], unique=False)
    op.create_index("ix_patient_name", "patient", ["family_key", "given_key"], unique=False)
    op.create_table(
        "product",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("manufacturer", sa.String(200), nullable=False),
        sa.Column("volume_value", DECIMAL_TEXT, nullable=True),
        sa.Column("volume_unit", sa.String(32), nullable=True),
        sa.Column("ingredients", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_product_name", "product", ["name"], unique=False)
    op.create_table(
        "formulation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("current_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patient.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_formulation_patient_id", "formulation", ["patient_id"], unique=False)
    op.create_table(
        "lot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("lot_number", sa.String(80), nullable=False),
        sa.Column("expiry", sa.Date(), nullable=False),
        sa.Column("quantity_value", DECIMAL_TEXT, nullable=False),
        sa.Column("quantity_unit", sa.String(32), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["product.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("product_id", "lot_number", name="uq_lot_product"),
    )
    op.create_index("ix_lot_expiry", "lot", ["expiry"], unique=False)
    op.create_index("ix_lot_lot_number", "lot", ["lot_number"], unique=False)
    op.create_index("ix_lot_product_id", "lot", ["product_id"], unique=False)
    op.create_table(
        "course",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("formulation_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("planned_sessions", sa.Integer(), nullable=False),
        sa.Column("interval_days", sa.Integer(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["formulation_id"],
            ["formulation.id"],
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patient.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_course_patient_id", "course", ["patient_id"], unique=False)
    op.create_table(
        "formulation_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("formulation_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("final_volume_value", DECIMAL_TEXT, nullable=True),
        sa.Column("final_volume_unit", sa.String(32), nullable=True),
        sa.Column("components", sa.JSON(), nullable=False),
        sa.Column("note", sa.String(1000), nullable=False),
        sa.Column("locked", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["app_user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["formulation_id"],
            ["formulation.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("formulation_id", "version", name="uq_formulation_version"),
    )
    op.create_index(
        "ix_formulation_version_formulation_id",
        "formulation_version",
        ["formulation_id"],
        unique=False,
    )
    op.create_table(
        "treatment_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("formulation_version_id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=True),
        sa.Column("session_number", sa.Integer(), nullable=True),
        sa.Column("performed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("technique", sa.String(20), nullable=True),
        sa.Column("needle_gauge", sa.Integer(), nullable=True),
        sa.Column("needle_length_value", DECIMAL_TEXT, nullable=True),
        sa.Column("needle_length_unit", sa.String(32), nullable=True),
        sa.Column("depth_value", DECIMAL_TEXT, nullable=True),
        sa.Column("depth_unit", sa.String(32), nullable=True),
        sa.Column("total_volume_value", DECIMAL_TEXT, nullable=True),
        sa.Column("total_volume_unit", sa.String(32), nullable=True),
        sa.Column("zones", sa.JSON(), nullable=False),
        sa.Column("lots", sa.JSON(), nullable=False),
        sa.Column("anaesthesia", sa.String(500), nullable=False),
        sa.Column("pain_score", sa.Integer(), nullable=True),
        sa.Column("adverse_events", sa.JSON(), nullable=False),
        sa.Column("post_care", sa.Text(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("overrides", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signed_by_id", sa.Integer(), nullable=True),
        sa.Column("signer_name", sa.String(200), nullable=True),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("signature_meaning", sa.String(100), nullable=True),
        sa.Column("content_hash", sa.String(64), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["course.id"],
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["app_user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["formulation_version_id"],
            ["formulation_version.id"],
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patient.id"],
        ),
        sa.ForeignKeyConstraint(
            ["signed_by_id"],
            ["app_user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_session_patient_time", "treatment_session", ["patient_id", "performed_at"], unique=False
    )
    op.create_index(
        "ix_treatment_session_formulation_version_id",
        "treatment_session",
        ["formulation_version_id"],
        unique=False,
    )
    op.create_table(
        "outcome",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.Column("measured_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("density_value", DECIMAL_TEXT, nullable=True),
        sa.Column("density_unit", sa.String(32), nullable=True),
        sa.Column("diameter_value", DECIMAL_TEXT, nullable=True),
        sa.Column("diameter_unit", sa.String(32), nullable=True),
        sa.Column("scale_grade", sa.String(20), nullable=False),
        sa.Column("zone", sa.String(20), nullable=True),
        sa.Column("photo_refs", sa.JSON(), nullable=False),
        sa.Column("notes", sa.String(2000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["app_user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patient.id"],
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["treatment_session.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_outcome_patient_id", "outcome", ["patient_id"], unique=False)
    op.create_table(
        "session_addendum",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("signed_by_id", sa.Integer(), nullable=False),
        sa.Column("signer_name", sa.String(200), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signature_meaning", sa.String(100), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["treatment_session.id"],
        ),
        sa.ForeignKeyConstraint(
            ["signed_by_id"],
            ["app_user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        ("ix_session_addendum_session_id"), "session_addendum", ["session_id"], unique=False
    )
    op.create_table(
        "session_lot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("component_position", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("drawn_value", DECIMAL_TEXT, nullable=True),
        sa.Column("drawn_unit", sa.String(32), nullable=True),
        sa.ForeignKeyConstraint(
            ["lot_id"],
            ["lot.id"],
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["treatment_session.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_session_lot_lot_id", "session_lot", ["lot_id"], unique=False)
    op.create_index("ix_session_lot_session_id", "session_lot", ["session_id"], unique=False)

    install_signature_guards(op.get_bind())

    installation = sa.table(
        "installation",
        sa.column("db_id", sa.String()),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("clinic_name", sa.String()),
        sa.column("clinic_address", sa.String()),
    )
    now = datetime.now(UTC)
    if op.get_bind().dialect.name == "sqlite":
        now = now.replace(tzinfo=None)  # stored as UTC wall time, like db.types.UTCDateTime
    op.bulk_insert(
        installation,
        [{"db_id": str(uuid.uuid4()), "created_at": now, "clinic_name": "", "clinic_address": ""}],
    )


def downgrade() -> None:
    """Refused: dropping a clinical record is never an automatic step."""
    raise RuntimeError("Formulary migrations do not go backwards; restore a backup instead")
