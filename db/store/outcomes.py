"""Outcomes: density, shaft diameter, grade and photo references per visit."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import col, select

from db import loaders
from db.codec import columns_of
from db.errors import ValidationError
from db.store import validate as check
from db.store._base import EVERYONE, PREPARERS, Actor, StoreBase, require_reason, snapshot
from db.tables.outcomes import OutcomeRow
from db.tables.people import PatientRow
from db.tables.sessions import SessionRow
from formulary.records import Outcome, ScalpZone
from formulary.units.amount import Amount


class OutcomesStore(StoreBase):
    """Measured results."""

    def record_outcome(
        self,
        actor: Actor,
        *,
        patient_id: int,
        measured_at: datetime,
        density: Amount | None = None,
        shaft_diameter: Amount | None = None,
        scale_grade: str = "",
        zone: ScalpZone | None = None,
        photo_refs: Sequence[str] = (),
        notes: str = "",
        session_id: int | None = None,
    ) -> Outcome:
        """Record a measurement (at least one of density, diameter, grade or photo)."""
        if density is None and shaft_diameter is None and not scale_grade and not photo_refs:
            raise ValidationError("record at least a density, a diameter, a grade or a photo")
        if measured_at.tzinfo is None:
            raise ValidationError("the measurement time needs a time zone")
        check.moment(measured_at, "the measurement time")
        for label, value in (("density", density), ("shaft diameter", shaft_diameter)):
            if value is not None:
                check.amount(value, label)
        with self._write(actor, PREPARERS, "record outcomes") as uow:
            uow.get(PatientRow, patient_id, "patient")
            if session_id is not None:
                session = uow.get(SessionRow, session_id, "session")
                if session.patient_id != patient_id:
                    raise ValidationError("that session belongs to another patient")
            d_value, d_unit = columns_of(density)
            s_value, s_unit = columns_of(shaft_diameter)
            row = uow.add(
                OutcomeRow(
                    patient_id=patient_id,
                    session_id=session_id,
                    measured_at=measured_at,
                    density_value=d_value,
                    density_unit=d_unit,
                    diameter_value=s_value,
                    diameter_unit=s_unit,
                    scale_grade=check.text(scale_grade, "grade", limit=20),
                    zone=ScalpZone(zone).value if zone else None,
                    photo_refs=[
                        check.text(p, "photo reference", limit=500, required=True)
                        for p in photo_refs
                    ],
                    notes=check.text(notes, "notes", limit=2000, multiline=True),
                    created_at=uow.now,
                    created_by_id=actor.id,
                ),
                "outcome.create",
            )
            return loaders.outcome(row)

    def delete_outcome(self, actor: Actor, outcome_id: int, reason: str) -> None:
        """Withdraw a measurement recorded in error (soft delete); needs a reason."""
        why = require_reason(reason, "withdraw an outcome")
        with self._write(actor, PREPARERS, "withdraw outcomes") as uow:
            row = uow.get(OutcomeRow, outcome_id, "outcome", for_update=True)
            before = snapshot(row)
            row.deleted_at = uow.now
            uow.update(row, before, "outcome.delete", why)

    def list_outcomes(self, actor: Actor, patient_id: int) -> list[Outcome]:
        """A patient's outcomes, oldest first."""
        with self._read(actor, EVERYONE, "read outcomes") as db:
            rows = db.exec(
                select(OutcomeRow)
                .where(OutcomeRow.patient_id == patient_id, col(OutcomeRow.deleted_at).is_(None))
                .order_by(col(OutcomeRow.measured_at), col(OutcomeRow.id))
            ).all()
            return [loaders.outcome(r) for r in rows]
