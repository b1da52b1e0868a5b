"""Patients' cocktails (versioned) and courses of sessions."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlmodel import col, select

from db import loaders
from db.codec import amount_to_json, columns_of
from db.errors import NotFound, ValidationError
from db.store import safety
from db.store import validate as check
from db.store._base import (
    EVERYONE,
    PREPARERS,
    SIGNERS,
    Actor,
    StoreBase,
    UnitOfWork,
    require_reason,
    snapshot,
)
from db.store.inputs import ComponentSpec
from db.tables.formulations import CourseRow, FormulationRow, FormulationVersionRow
from db.tables.people import PatientRow, UserRow
from db.tables.stock import IngredientRow, ProductRow
from formulary.records import Course, FormulationVersion
from formulary.safety import Findings
from formulary.units.amount import Amount


def _components(uow: UnitOfWork, components: Sequence[ComponentSpec]) -> list[dict[str, Any]]:
    if not components:
        raise ValidationError("a formulation needs at least one component")
    out = []
    for position, spec in enumerate(components, start=1):
        if (spec.product_id is None) == (spec.ingredient_id is None):
            raise ValidationError(
                f"component {position} must name either a product or an ingredient, not both"
            )
        if spec.product_id is not None:
            product = uow.get(ProductRow, spec.product_id, "product")
            if product.volume_unit is not None and spec.amount.unit != product.volume_unit:
                raise ValidationError(
                    f"component {position} ({product.name}) is drawn by volume; "
                    f"give its amount in {product.volume_unit}"
                )
        if spec.ingredient_id is not None:
            uow.get(IngredientRow, spec.ingredient_id, "ingredient")
        check.amount(spec.amount, f"amount of component {position}")
        out.append(
            {
                "position": position,
                "name": check.text(
                    spec.name, f"name of component {position}", limit=200, required=True
                ),
                "amount": amount_to_json(spec.amount),
                "product_id": spec.product_id,
                "ingredient_id": spec.ingredient_id,
            }
        )
    return out


def version_record(uow_or_db: Any, version: FormulationVersionRow) -> FormulationVersion:
    """The record of a version row (looks up its formulation and author)."""
    formulation = uow_or_db.get(FormulationRow, version.formulation_id)
    author = uow_or_db.get(UserRow, version.created_by_id)
    return loaders.formulation_version(version, formulation, author.full_name if author else "?")


class FormulationsStore(StoreBase):
    """Formulations and courses."""

    if TYPE_CHECKING:
        # Provided by UsersStore in the composed Store: an override is a signature.
        def verify_password(
            self, actor: Actor, password: str, *, purpose: str = "signature"
        ) -> None: ...

    def save_formulation(
        self,
        actor: Actor,
        *,
        patient_id: int,
        name: str,
        components: Sequence[ComponentSpec],
        final_volume: Amount | None = None,
        note: str = "",
        formulation_id: int | None = None,
        acknowledge: bool | Collection[str] = False,
        override_reason: str | None = None,
        override_password: str | None = None,
    ) -> FormulationVersion:
        """Create a formulation, or save a change to one; returns the current version.

        A version never used in a signed session is edited in place; once used it is
        locked and saving a change makes version n+1. Saving identical content changes
        nothing and writes no audit entry.

        The safety rules run on the new content first: warnings must be acknowledged
        (``acknowledge``) and blocks overridden (``override_reason``, practitioner or
        admin), else :class:`~db.store.safety.SafetyBlocked` lists the findings and
        nothing is saved. What was overridden is audited with the version.

        An override is a signature: with ``override_reason`` the practitioner's
        ``override_password`` is checked first (a wrong one is refused, audited as
        ``auth.override_failed`` and counts toward the lockout), and each finding
        overridden is recorded with their printed name, the time and the meaning.
        """
        if (override_reason or "").strip():
            if not override_password:
                raise ValidationError(
                    "an override is a signature: give your password with the reason"
                )
            self.verify_password(actor, override_password, purpose="override")
        with self._write(actor, SIGNERS, "prescribe formulations") as uow:
            uow.get(PatientRow, patient_id, "patient")
            items = _components(uow, components)
            if final_volume is not None:
                check.amount(final_volume, "final volume")
            findings = safety.formulation_findings(
                uow.session, patient_id, items, final_volume, formulation_id
            )
            overrides = safety.decide(
                uow, actor, findings, acknowledge=acknowledge, override_reason=override_reason
            )
            # Kept with the version: they are what allowed this content to be saved.
            signed = [safety.override_json(o) for o in overrides]
            fv_value, fv_unit = columns_of(final_volume)
            clean_name = check.text(name, "formulation name", limit=200, required=True)
            clean_note = check.text(note, "note", limit=1000, multiline=True)
            if formulation_id is None:
                formulation = uow.add(
                    FormulationRow(
                        patient_id=patient_id,
                        name=clean_name,
                        current_version=1,
                        created_at=uow.now,
                        updated_at=uow.now,
                    ),
                    "formulation.create",
                )
                assert formulation.id is not None
                version = uow.add(
                    FormulationVersionRow(
                        formulation_id=formulation.id,
                        version=1,
                        final_volume_value=fv_value,
                        final_volume_unit=fv_unit,
                        components=items,
                        note=clean_note,
                        created_at=uow.now,
                        created_by_id=actor.id,
                        overrides=signed,
                    ),
                    "formulation_version.create",
                )
                safety.audit_formulation(uow, version, overrides)
                return version_record(uow.session, version)
            formulation = uow.get(FormulationRow, formulation_id, "formulation", for_update=True)
            if formulation.patient_id != patient_id:
                raise ValidationError("that formulation belongs to another patient")
            current = uow.session.exec(
                select(FormulationVersionRow)
                .where(
                    FormulationVersionRow.formulation_id == formulation_id,
                    FormulationVersionRow.version == formulation.current_version,
                )
                .with_for_update()
            ).one()
            if formulation.name != clean_name:
                before = snapshot(formulation)
                formulation.name = clean_name
                formulation.updated_at = uow.now
                uow.update(formulation, before, "formulation.rename", None)
            same = (
                current.components == items
                and current.final_volume_value == fv_value
                and current.final_volume_unit == fv_unit
                and current.note == clean_note
            )
            if same:
                return version_record(uow.session, current)
            if not current.locked:
                before = snapshot(current)
                current.components = items
                current.final_volume_value = fv_value
                current.final_volume_unit = fv_unit
                current.note = clean_note
                current.created_at = uow.now
                current.created_by_id = actor.id
                current.overrides = signed
                uow.update(current, before, "formulation_version.update", None)
                safety.audit_formulation(uow, current, overrides)
                return version_record(uow.session, current)
            assert formulation.id is not None
            version = uow.add(
                FormulationVersionRow(
                    formulation_id=formulation.id,
                    version=current.version + 1,
                    final_volume_value=fv_value,
                    final_volume_unit=fv_unit,
                    components=items,
                    note=clean_note,
                    created_at=uow.now,
                    created_by_id=actor.id,
                    overrides=signed,
                ),
                "formulation_version.create",
            )
            before = snapshot(formulation)
            formulation.current_version = version.version
            formulation.updated_at = uow.now
            uow.update(formulation, before, "formulation.new_version", None)
            safety.audit_formulation(uow, version, overrides)
            return version_record(uow.session, version)

    def check_formulation(
        self,
        actor: Actor,
        *,
        patient_id: int,
        components: Sequence[ComponentSpec],
        final_volume: Amount | None = None,
        formulation_id: int | None = None,
    ) -> Findings:
        """The safety findings the formulation would raise if saved now (nothing saved).

        ``formulation_id`` names the formulation being edited (its course's per-course
        limits are then projected), None for a new one.
        """
        with self._read(actor, PREPARERS, "check formulations") as db:
            # A unit of work over the read session, for the same input checks as a save;
            # it writes nothing.
            uow = UnitOfWork(
                db, db_id=self.database.db_id, user=actor.username, workstation=self.workstation
            )
            uow.get(PatientRow, patient_id, "patient")
            items = _components(uow, components)
            return safety.formulation_findings(
                db, patient_id, items, final_volume, formulation_id
            )

    def delete_formulation(self, actor: Actor, formulation_id: int, reason: str) -> None:
        """Retire a formulation (soft delete; used versions stay on the sessions)."""
        why = require_reason(reason, "retire a formulation")
        with self._write(actor, SIGNERS, "retire formulations") as uow:
            row = uow.get(FormulationRow, formulation_id, "formulation", for_update=True)
            before = snapshot(row)
            row.deleted_at = uow.now
            row.updated_at = uow.now
            uow.update(row, before, "formulation.delete", why)

    def list_formulations(self, actor: Actor, patient_id: int) -> list[FormulationVersion]:
        """The current version of each of a patient's formulations."""
        with self._read(actor, EVERYONE, "read formulations") as db:
            rows = db.exec(
                select(FormulationVersionRow)
                .join(
                    FormulationRow, col(FormulationRow.id) == FormulationVersionRow.formulation_id
                )
                .where(
                    FormulationRow.patient_id == patient_id,
                    col(FormulationRow.deleted_at).is_(None),
                    col(FormulationVersionRow.version) == col(FormulationRow.current_version),
                )
                .order_by(col(FormulationRow.id))
            ).all()
            return [version_record(db, r) for r in rows]

    def formulation_history(self, actor: Actor, formulation_id: int) -> list[FormulationVersion]:
        """Every version of one formulation, oldest first."""
        with self._read(actor, EVERYONE, "read formulations") as db:
            rows = db.exec(
                select(FormulationVersionRow)
                .where(FormulationVersionRow.formulation_id == formulation_id)
                .order_by(col(FormulationVersionRow.version))
            ).all()
            if not rows:
                raise NotFound(f"formulation {formulation_id} does not exist")
            return [version_record(db, r) for r in rows]

    def get_formulation_version(self, actor: Actor, version_id: int) -> FormulationVersion:
        """One formulation version."""
        with self._read(actor, EVERYONE, "read formulations") as db:
            row = db.get(FormulationVersionRow, version_id)
            if row is None:
                raise NotFound(f"formulation version {version_id} does not exist")
            return version_record(db, row)

    # -- courses ------------------------------------------------------------------------

    def start_course(
        self,
        actor: Actor,
        *,
        patient_id: int,
        name: str,
        planned_sessions: int,
        interval_days: int,
        start_date: date,
        formulation_id: int | None = None,
    ) -> Course:
        """Plan a course of sessions for a patient."""
        check.moment(start_date, "the course's start date")
        if not 1 <= planned_sessions <= 100:
            raise ValidationError("planned sessions must be between 1 and 100")
        if not 1 <= interval_days <= 365:
            raise ValidationError("the interval must be between 1 and 365 days")
        with self._write(actor, PREPARERS, "plan courses") as uow:
            uow.get(PatientRow, patient_id, "patient")
            if formulation_id is not None:
                formulation = uow.get(FormulationRow, formulation_id, "formulation")
                if formulation.patient_id != patient_id:
                    raise ValidationError("that formulation belongs to another patient")
            row = uow.add(
                CourseRow(
                    patient_id=patient_id,
                    formulation_id=formulation_id,
                    name=check.text(name, "course name", limit=200, required=True),
                    planned_sessions=planned_sessions,
                    interval_days=interval_days,
                    start_date=start_date,
                    created_at=uow.now,
                ),
                "course.create",
            )
            return loaders.course(row)

    def list_courses(self, actor: Actor, patient_id: int) -> list[Course]:
        """A patient's courses."""
        with self._read(actor, EVERYONE, "read courses") as db:
            rows = db.exec(
                select(CourseRow)
                .where(CourseRow.patient_id == patient_id)
                .order_by(col(CourseRow.id))
            ).all()
            return [loaders.course(r) for r in rows]
