"""Patients: a weight history (kg, with the date measured) and an optional height.

Each patient's single recorded weight becomes the first entry of their history,
dated the day the chart was last changed (the last day it can have been entered),
and each new entry is audited like any other insert, so the trail still replays to
the tables.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

from db.audit.chain import append_event
from db.types import DecimalText, UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

DECIMAL_TEXT = sa.String(64)
MIGRATION_USER = "system"


def _as_date(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return datetime.fromisoformat(str(value)).date()


def upgrade() -> None:
    """Add the height columns and the weight history; carry each weight over."""
    with op.batch_alter_table("patient") as batch:
        batch.add_column(sa.Column("height_value", DECIMAL_TEXT, nullable=True))
        batch.add_column(sa.Column("height_unit", sa.String(32), nullable=True))
    op.create_table(
        "patient_weight",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("measured_on", sa.Date(), nullable=False),
        sa.Column("weight_value", DECIMAL_TEXT, nullable=False),
        sa.Column("weight_unit", sa.String(32), nullable=False),
        sa.Column("entered_value", DECIMAL_TEXT, nullable=False),
        sa.Column("entered_unit", sa.String(32), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(100), nullable=False),
        sa.ForeignKeyConstraint(["patient_id"], ["patient.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_patient_weight_patient", "patient_weight", ["patient_id", "measured_on"], unique=False
    )
    _carry_weights_over()


def _carry_weights_over() -> None:
    connection = op.get_bind()
    db_id = connection.execute(sa.text("SELECT db_id FROM installation")).scalar()
    patient = sa.table(
        "patient",
        sa.column("id", sa.Integer()),
        sa.column("weight_value", DecimalText()),
        sa.column("weight_unit", sa.String()),
        sa.column("updated_at", UTCDateTime()),
    )
    weighed = connection.execute(
        sa.select(patient.c.id, patient.c.weight_value, patient.c.weight_unit, patient.c.updated_at)
        .where(patient.c.weight_value.is_not(None), patient.c.weight_unit.is_not(None))
        .order_by(patient.c.id)
    ).all()
    if not weighed or db_id is None:
        return
    now = datetime.now(UTC)
    table = sa.table(
        "patient_weight",
        sa.column("id", sa.Integer()),
        sa.column("patient_id", sa.Integer()),
        sa.column("measured_on", sa.Date()),
        sa.column("weight_value", DecimalText()),
        sa.column("weight_unit", sa.String()),
        sa.column("entered_value", DecimalText()),
        sa.column("entered_unit", sa.String()),
        sa.column("recorded_at", UTCDateTime()),
        sa.column("recorded_by", sa.String()),
    )
    for number, (patient_id, value, unit, updated_at) in enumerate(weighed, start=1):
        kg = Decimal(value)
        measured_on = _as_date(updated_at)
        connection.execute(
            table.insert().values(
                id=number,
                patient_id=patient_id,
                measured_on=measured_on,
                weight_value=kg,
                weight_unit=unit,
                entered_value=kg,
                entered_unit=unit,
                recorded_at=now,
                recorded_by=MIGRATION_USER,
            )
        )
        append_event(
            connection,
            db_id=str(db_id),
            user=MIGRATION_USER,
            workstation="migration 0002",
            action="patient.weight_record",
            entity="patient_weight",
            entity_id=number,
            before=None,
            after={
                "id": number,
                "patient_id": patient_id,
                "measured_on": measured_on,
                "weight_value": kg,
                "weight_unit": unit,
                "entered_value": kg,
                "entered_unit": unit,
                "recorded_at": now,
                "recorded_by": MIGRATION_USER,
            },
            reason="weight history begun from the chart's single recorded weight",
            now=now,
        )
    if connection.dialect.name == "postgresql":
        # Explicit ids above: move the sequence past them for the Store's inserts.
        connection.execute(
            sa.text(
                "SELECT setval(pg_get_serial_sequence('patient_weight', 'id'), "
                "(SELECT MAX(id) FROM patient_weight))"
            )
        )


def downgrade() -> None:
    """Drop the weight history and the height columns (the latest weight stays)."""
    op.drop_index("ix_patient_weight_patient", table_name="patient_weight")
    op.drop_table("patient_weight")
    with op.batch_alter_table("patient") as batch:
        batch.drop_column("height_unit")
        batch.drop_column("height_value")
