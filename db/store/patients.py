"""Patients: chart headers, allergies, conditions; soft deletion."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlmodel import col, select

from db import loaders
from db.codec import columns_of
from db.errors import Conflict, NotFound, ValidationError
from db.store import patient_search as search_query
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
from db.store.inputs import PatientFields, RetiredPatient
from db.tables.audit import AuditEvent
from db.tables.formulations import CourseRow
from db.tables.people import PatientRow, PatientWeightRow
from db.tables.sessions import SessionRow
from formulary.body import BodyMeasureError, Weight, height_of, weight_of
from formulary.records import (
    Allergy,
    Condition,
    Course,
    GradeScale,
    Patient,
    PatientChart,
    PatientSummary,
    SessionStatus,
    Sex,
    WeightEntry,
)
from formulary.schedule import summarize
from formulary.text import same_key
from formulary.units.amount import Amount


class _SignedMark(NamedTuple):
    """The three columns of a signed session the schedule reads."""

    course_id: int | None
    performed_at: datetime
    status: SessionStatus = SessionStatus.SIGNED


def _allergy_json(a: Allergy) -> dict[str, Any]:
    return {
        "substance": check.text(a.substance, "allergy substance", limit=200, required=True),
        "ingredient_id": a.ingredient_id,
        "reaction": check.text(a.reaction, "allergy reaction", limit=500),
        "kind": "intolerance" if a.kind.strip().casefold() == "intolerance" else "allergy",
    }


def _condition_json(c: Condition) -> dict[str, Any]:
    return {
        "code": check.text(c.code, "condition", limit=100, required=True),
        "text": check.text(c.text, "condition text", limit=500),
    }


def _apply(row: PatientRow, fields: PatientFields, today: date) -> None:
    row.chart_number = check.text(fields.chart_number, "chart number", limit=40, required=True)
    row.family_name = check.text(fields.family_name, "family name", limit=120, required=True)
    row.given_name = check.text(fields.given_name, "given name", limit=120, required=True)
    if not isinstance(fields.date_of_birth, date):
        raise ValidationError("the date of birth must be a date (YYYY-MM-DD)")
    if fields.date_of_birth > today:
        raise ValidationError("the date of birth is in the future; check the year")
    check.moment(fields.date_of_birth, "the date of birth")
    row.date_of_birth = fields.date_of_birth
    row.sex = Sex(fields.sex).value
    row.diagnosis = check.text(fields.diagnosis, "diagnosis", limit=500)
    row.grade_scale = GradeScale(fields.grade_scale).value if fields.grade_scale else None
    row.grade = check.text(fields.grade, "grade", limit=20)
    if fields.height is not None:
        check.amount(fields.height, "height", physical=False)
        if fields.height.unit != "cm":
            raise ValidationError("give the height in cm")
        try:
            height_of(fields.height.value)
        except BodyMeasureError as exc:
            raise ValidationError(str(exc)) from exc
    row.height_value, row.height_unit = columns_of(fields.height)
    row.allergies = [_allergy_json(a) for a in fields.allergies]
    row.conditions = [_condition_json(c) for c in fields.conditions]
    if fields.consent_date is not None and fields.consent_date > today:
        raise ValidationError("the consent date is in the future; check it")
    if fields.consent_date is not None and not fields.consent_on_file:
        raise ValidationError("a consent date is given but consent is not marked on file")
    row.consent_on_file = bool(fields.consent_on_file)
    row.consent_date = fields.consent_date
    row.family_key = check.search_key(row.family_name)
    row.given_key = check.search_key(row.given_name)
    row.search_key = check.search_key(row.family_name, row.given_name, row.chart_number)


def _is_new_weight(uow: UnitOfWork, row: PatientRow, fields: PatientFields) -> bool:
    """True unless the update hands back a weight already on file.

    Without a date: the chart's latest weight, as an untouched form field returns it.
    With one: the same weight already measured that day (a form saved twice, a command
    repeated) adds nothing to the history.
    """
    assert fields.weight is not None
    try:
        typed = weight_of(fields.weight.value, fields.weight.unit).kg.value
    except BodyMeasureError:
        return True  # let _record_weight say what is wrong
    if fields.weight_measured_on is None:
        return row.weight_value is None or typed != row.weight_value
    same_day = uow.session.exec(
        select(col(PatientWeightRow.weight_value)).where(
            PatientWeightRow.patient_id == row.id,
            PatientWeightRow.measured_on == fields.weight_measured_on,
        )
    ).all()
    return typed not in same_day


def _checked_weight(weight: Amount) -> Weight:
    check.amount(weight, "weight", physical=False)
    try:
        return weight_of(weight.value, weight.unit)
    except BodyMeasureError as exc:
        raise ValidationError(str(exc)) from exc


def _weight_entry(row: PatientWeightRow) -> WeightEntry:
    assert row.id is not None
    return WeightEntry(
        id=row.id,
        patient_id=row.patient_id,
        measured_on=row.measured_on,
        weight_kg=Amount(row.weight_value, row.weight_unit),
        entered=Amount(row.entered_value, row.entered_unit),
        recorded_at=row.recorded_at,
        recorded_by=row.recorded_by,
    )


def _record_weight(
    uow: UnitOfWork,
    row: PatientRow,
    weight: Amount,
    measured_on: date | None,
    reason: str | None,
) -> None:
    """Add one measurement to ``row``'s history; the latest by date becomes the chart's."""
    checked = _checked_weight(weight)
    when = measured_on or uow.now.date()
    check.moment(when, "the weight's measurement date")
    if when > uow.now.date():
        raise ValidationError("the weight's measurement date is in the future; check it")
    if when < row.date_of_birth:
        raise ValidationError("the weight's measurement date is before the date of birth")
    assert row.id is not None
    entry = PatientWeightRow(
        patient_id=row.id,
        measured_on=when,
        weight_value=checked.kg.value,
        weight_unit="kg",
        entered_value=checked.entered.value,
        entered_unit=checked.entered.unit,
        recorded_at=uow.now,
        recorded_by=uow.user,
    )
    uow.add(entry, "patient.weight_record", reason)
    latest = uow.session.exec(
        select(PatientWeightRow)
        .where(PatientWeightRow.patient_id == row.id)
        .order_by(col(PatientWeightRow.measured_on).desc(), col(PatientWeightRow.id).desc())
        .limit(1)
    ).one()
    row.weight_value, row.weight_unit = columns_of(Amount(latest.weight_value, "kg"))


class _DryRun(Exception):
    """Raised inside a unit of work to roll a checked dry run back."""


class PatientsStore(StoreBase):
    """Patient chart headers."""

    def _patient_for_change(self, uow: UnitOfWork, patient_id: int) -> PatientRow:
        return uow.get(PatientRow, patient_id, "patient", for_update=True)

    def _check_chart_free(self, uow: UnitOfWork, chart_number: str, patient_id: int | None) -> None:
        # Whatever the case or spacing (formulary.text.same_key): a chart number is read
        # aloud and typed again, so C-001 and c-001 are one chart (the column's unique
        # index still guards the exact spelling). The search key holds the chart number
        # case-folded, so it finds every candidate whatever the engine's lower() knows.
        wanted = same_key(chart_number)
        candidates = uow.session.exec(
            select(PatientRow).where(
                sa.or_(
                    sa.func.lower(PatientRow.chart_number) == sa.func.lower(chart_number),
                    search_query.containing(
                        col(PatientRow.search_key), check.search_key(chart_number)
                    ),
                ),
                PatientRow.id != patient_id if patient_id is not None else sa.true(),
            )
        ).all()
        others = [r for r in candidates if same_key(r.chart_number) == wanted]
        if others:
            other = others[0]
            raise Conflict(
                f"chart number {chart_number} already belongs to another patient"
                + (f" (as {other.chart_number})" if other.chart_number != chart_number else "")
                + (" (deleted)" if other.deleted_at is not None else "")
                + "; chart numbers are never reused, whatever their case or spacing: "
                "choose another"
            )

    def create_patient(self, actor: Actor, fields: PatientFields) -> Patient:
        """Add a patient."""
        with self._write(actor, PREPARERS, "add patients") as uow:
            return self._insert_patient(uow, fields)

    def _insert_patient(self, uow: UnitOfWork, fields: PatientFields) -> Patient:
        row = PatientRow(created_at=uow.now, updated_at=uow.now)  # type: ignore[call-arg]
        _apply(row, fields, uow.now.date())
        self._check_chart_free(uow, row.chart_number, None)
        if fields.weight is not None:
            # The first measurement is the latest: the row carries it from the start.
            row.weight_value, row.weight_unit = columns_of(_checked_weight(fields.weight).kg)
        uow.add(row, "patient.create")
        if fields.weight is not None:
            _record_weight(uow, row, fields.weight, fields.weight_measured_on, None)
        return loaders.patient(row)

    def add_patients(
        self,
        actor: Actor,
        patients: Sequence[PatientFields],
        *,
        labels: Sequence[str] = (),
        dry_run: bool = False,
    ) -> list[Patient]:
        """Add many patients in one transaction: all of them, or none (a CSV import).

        A refusal names the patient by ``labels[i]`` (e.g. ``"patients.csv:4"``) when
        given. ``dry_run`` runs every check a real run would and writes nothing.
        """
        added: list[Patient] = []
        try:
            with self._write(actor, PREPARERS, "add patients") as uow:
                for index, fields in enumerate(patients):
                    label = labels[index] if index < len(labels) else f"patient {index + 1}"
                    try:
                        added.append(self._insert_patient(uow, fields))
                    except (ValidationError, Conflict, NotFound) as exc:
                        raise type(exc)(f"{label} ({fields.chart_number}): {exc}") from None
                if dry_run:
                    raise _DryRun
        except _DryRun:
            pass
        return added

    def update_patient(
        self, actor: Actor, patient_id: int, fields: PatientFields, reason: str
    ) -> Patient:
        """Replace a patient's editable fields; needs a reason. No change, no audit entry."""
        why = require_reason(reason, "change a patient's chart")
        with self._write(actor, PREPARERS, "change patients") as uow:
            row = self._patient_for_change(uow, patient_id)
            before = snapshot(row)
            _apply(row, fields, uow.now.date())
            self._check_chart_free(uow, row.chart_number, patient_id)
            if fields.weight is not None and _is_new_weight(uow, row, fields):
                _record_weight(uow, row, fields.weight, fields.weight_measured_on, why)
            if uow.differs(row, before):
                row.updated_at = uow.now
                uow.update(row, before, "patient.update", why)
            return loaders.patient(row)

    def record_weight(
        self,
        actor: Actor,
        patient_id: int,
        weight: Amount,
        measured_on: date | None = None,
        reason: str | None = None,
    ) -> Patient:
        """Add a measured weight (kg or lb, stored as exact kg) to the patient's history.

        The entry with the latest ``measured_on`` (today when None) is the weight the
        safety rules use; an older measurement goes into the history only.
        """
        with self._write(actor, PREPARERS, "record weights") as uow:
            row = self._patient_for_change(uow, patient_id)
            before = snapshot(row)
            _record_weight(uow, row, weight, measured_on, (reason or "").strip() or None)
            if uow.differs(row, before):
                row.updated_at = uow.now
                uow.update(row, before, "patient.weight_latest", None)
            return loaders.patient(row)

    def weight_history(self, actor: Actor, patient_id: int) -> list[WeightEntry]:
        """Every weight measured for the patient, the latest first."""
        with self._read(actor, EVERYONE, "read patients") as db:
            return [
                _weight_entry(r)
                for r in db.exec(
                    select(PatientWeightRow)
                    .where(PatientWeightRow.patient_id == patient_id)
                    .order_by(
                        col(PatientWeightRow.measured_on).desc(), col(PatientWeightRow.id).desc()
                    )
                ).all()
            ]

    def delete_patient(self, actor: Actor, patient_id: int, reason: str) -> None:
        """Soft-delete a patient (kept for the record, hidden from lists); needs a reason."""
        why = require_reason(reason, "delete a patient")
        with self._write(actor, SIGNERS, "delete patients") as uow:
            row = self._patient_for_change(uow, patient_id)
            before = snapshot(row)
            row.deleted_at = uow.now
            row.updated_at = uow.now
            uow.update(row, before, "patient.delete", why)

    def restore_patient(self, actor: Actor, patient_id: int, reason: str) -> Patient:
        """Bring back a patient retired by mistake (audited ``patient.restore``); needs a reason.

        The chart comes back as it was, with its sessions: a retired chart number is never
        given to anyone else, so it is still the patient's.
        """
        why = require_reason(reason, "restore a patient")
        with self._write(actor, SIGNERS, "restore patients") as uow:
            row = uow.session.get(PatientRow, patient_id, with_for_update=True)
            if row is None:
                raise NotFound(f"patient {patient_id} does not exist")
            if row.deleted_at is None:
                raise ValidationError(
                    f"{row.chart_number} is not retired; there is nothing to restore"
                )
            before = snapshot(row)
            row.deleted_at = None
            row.updated_at = uow.now
            uow.update(row, before, "patient.restore", why)
            return loaders.patient(row)

    def retired_patients(
        self, actor: Actor, search: str = "", *, limit: int = 50
    ) -> list[RetiredPatient]:
        """Retired patients matching every word of ``search`` (name, chart number or
        YYYY-MM-DD), the most recently retired first, each with when, by whom and why."""
        words = check.search_key(search).split()
        with self._read(actor, EVERYONE, "list patients") as db:
            query = select(PatientRow).where(col(PatientRow.deleted_at).is_not(None))
            for word in words:
                query = query.where(search_query.word_condition(
                    word, col(PatientRow.search_key), col(PatientRow.date_of_birth)))
            rows = db.exec(
                query.order_by(col(PatientRow.deleted_at).desc(), col(PatientRow.id).desc())
                .limit(limit)
            ).all()
            why: dict[int, tuple[str, str]] = {}
            ids = [r.id for r in rows if r.id is not None]
            if ids:
                # The latest patient.delete entry of each (read through the patient index).
                for patient_id, user, reason in db.exec(
                    select(AuditEvent.patient_id, AuditEvent.user_name, AuditEvent.reason)
                    .where(col(AuditEvent.patient_id).in_(ids),
                           AuditEvent.action == "patient.delete")
                    .order_by(col(AuditEvent.seq))
                ).all():
                    if patient_id is not None:
                        why[patient_id] = (user, reason or "")
            out = []
            for row in rows:
                assert row.id is not None and row.deleted_at is not None
                user, reason = why.get(row.id, ("", ""))
                out.append(RetiredPatient(loaders.patient(row), row.deleted_at, user, reason))
            return out

    def _edit_lists(
        self, actor: Actor, patient_id: int, action: str, reason: str | None, edit: Any
    ) -> Patient:
        with self._write(actor, PREPARERS, "change patients") as uow:
            row = self._patient_for_change(uow, patient_id)
            before = snapshot(row)
            edit(row)
            row.updated_at = uow.now
            uow.update(row, before, action, reason)
            return loaders.patient(row)

    def add_allergy(self, actor: Actor, patient_id: int, allergy: Allergy) -> Patient:
        """Record an allergy (to a library ingredient when ``ingredient_id`` is set)."""
        item = _allergy_json(allergy)

        def edit(row: PatientRow) -> None:
            if any(
                a["substance"].casefold() == item["substance"].casefold() for a in row.allergies
            ):
                raise Conflict(f"{item['substance']} is already recorded as an allergy")
            row.allergies = [*row.allergies, item]

        return self._edit_lists(actor, patient_id, "patient.add_allergy", None, edit)

    def remove_allergy(self, actor: Actor, patient_id: int, substance: str, reason: str) -> Patient:
        """Remove a recorded allergy; needs a reason."""
        why = require_reason(reason, "remove an allergy")

        def edit(row: PatientRow) -> None:
            kept = [a for a in row.allergies if a["substance"].casefold() != substance.casefold()]
            if len(kept) == len(row.allergies):
                raise NotFound(f"no allergy to {substance} is recorded for this patient")
            row.allergies = kept

        return self._edit_lists(actor, patient_id, "patient.remove_allergy", why, edit)

    def add_condition(self, actor: Actor, patient_id: int, condition: Condition) -> Patient:
        """Record a condition or contraindication (e.g. ``pregnancy``)."""
        item = _condition_json(condition)

        def edit(row: PatientRow) -> None:
            if any(c["code"].casefold() == item["code"].casefold() for c in row.conditions):
                raise Conflict(f"{item['code']} is already recorded for this patient")
            row.conditions = [*row.conditions, item]

        return self._edit_lists(actor, patient_id, "patient.add_condition", None, edit)

    def remove_condition(self, actor: Actor, patient_id: int, code: str, reason: str) -> Patient:
        """Remove a recorded condition; needs a reason."""
        why = require_reason(reason, "remove a condition")

        def edit(row: PatientRow) -> None:
            kept = [c for c in row.conditions if c["code"].casefold() != code.casefold()]
            if len(kept) == len(row.conditions):
                raise NotFound(f"no condition {code} is recorded for this patient")
            row.conditions = kept

        return self._edit_lists(actor, patient_id, "patient.remove_condition", why, edit)

    # -- reads ------------------------------------------------------------------------

    def get_patient(self, actor: Actor, patient_id: int) -> Patient:
        """One patient (NotFound when missing or deleted)."""
        with self._read(actor, EVERYONE, "read patients") as db:
            row = db.get(PatientRow, patient_id)
            if row is None or row.deleted_at is not None:
                raise NotFound(f"patient {patient_id} does not exist; search for the patient")
            return loaders.patient(row)

    def find_patient(self, actor: Actor, chart_number: str, *, retired: bool = False) -> Patient:
        """The patient with this chart number (with ``retired``: among retired patients)."""
        wanted = chart_number.strip()
        deleted = col(PatientRow.deleted_at)
        with self._read(actor, EVERYONE, "read patients") as db:
            rows = db.exec(
                select(PatientRow).where(
                    sa.func.lower(PatientRow.chart_number) == sa.func.lower(wanted),
                    deleted.is_not(None) if retired else deleted.is_(None),
                )
            ).all()
            # The exact spelling first: a database from before chart numbers were unique
            # whatever their case may hold C-001 beside c-001.
            exact = [r for r in rows if r.chart_number == wanted]
            if exact or len(rows) == 1:
                return loaders.patient((exact or rows)[0])
            if not rows:
                raise NotFound(
                    f"no retired patient has chart number {chart_number}" if retired
                    else f"no patient has chart number {chart_number}"
                )
            raise NotFound(
                f"no patient has chart number {wanted} exactly; did you mean "
                + " or ".join(r.chart_number for r in rows)
                + "? type it as shown"
            )

    def list_patients(
        self, actor: Actor, search: str = "", *, limit: int = 50, offset: int = 0
    ) -> list[Patient]:
        """Patients matching every word of ``search`` (name, chart number or YYYY-MM-DD).

        Sorted by family then given name; ``limit``/``offset`` page through results.
        """
        words = check.search_key(search).split()
        with self._read(actor, EVERYONE, "list patients") as db:
            if self.database.dialect != "postgresql":
                query = search_query.sqlite_query(words, limit, offset)
                return [loaders.patient(r) for r in db.exec(query).all()]
            query = search_query.postgresql_query(words, limit, offset)
            if search_query.needs_probe(words):
                # A word with no trigram walks the list's first entries; when they do
                # not fill the page, the bigram index finds it (db.store.patient_search).
                ids = list(db.exec(search_query.postgresql_probe(words, limit, offset)).all())
                if search_query.probe_answers(ids, limit, offset):
                    query = search_query.rows_by_ids(ids)
                else:
                    query = search_query.postgresql_query(words, limit, offset, walk=False)
            return [loaders.patient(r) for r in db.exec(query).all()]

    def patient_summaries(self, actor: Actor, patients: Sequence[Patient]) -> list[PatientSummary]:
        """Course progress and next due date of each of ``patients``, in their order.

        Two queries for the whole list (courses, then the signed sessions' course and
        date) instead of reading every chart: the patient list asks for a screenful
        while the practitioner types.
        """
        ids = sorted({p.id for p in patients})
        courses: defaultdict[int, list[Course]] = defaultdict(list)
        marks: defaultdict[int, list[_SignedMark]] = defaultdict(list)
        if ids:
            with self._read(actor, EVERYONE, "read courses") as db:
                for course_row in db.exec(
                    select(CourseRow)
                    .where(col(CourseRow.patient_id).in_(ids))
                    .order_by(col(CourseRow.id))
                ).all():
                    courses[course_row.patient_id].append(loaders.course(course_row))
                for patient_id, course_id, performed_at in db.exec(
                    select(
                        SessionRow.patient_id, SessionRow.course_id, SessionRow.performed_at
                    ).where(
                        col(SessionRow.patient_id).in_(ids),
                        col(SessionRow.deleted_at).is_(None),
                        SessionRow.status == SessionStatus.SIGNED.value,
                    )
                ).all():
                    marks[patient_id].append(_SignedMark(course_id, performed_at))
        return [summarize(p, courses[p.id], marks[p.id]) for p in patients]

    def count_patients(self, actor: Actor) -> int:
        """How many patients are on file (not deleted)."""
        with self._read(actor, EVERYONE, "list patients") as db:
            query = (
                select(sa.func.count())
                .select_from(PatientRow)
                .where(col(PatientRow.deleted_at).is_(None))
            )
            return int(db.exec(query).one())

    def load_chart(self, actor: Actor, patient_id: int) -> PatientChart:
        """Everything recorded for one patient, for the chart screen and the exports."""
        with self._read(actor, EVERYONE, "read charts") as db:
            row = db.get(PatientRow, patient_id)
            if row is None or row.deleted_at is not None:
                raise NotFound(f"patient {patient_id} does not exist; search for the patient")
            return loaders.chart(db, row, workstation=self.workstation)
