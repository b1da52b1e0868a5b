"""The clinical safety rules inside the Store: building their input, applying the outcome.

The rules themselves are pure (:mod:`formulary.safety`). Here the Store gathers what
they read from its own rows, in the same transaction as the change they guard: the
patient, the clinic's ingredients (library facts, clinic-edited forms and limits),
the products, the lots chosen and the course's earlier signed sessions. A finding
that blocks needs an override by a practitioner or admin with a written reason; a
warning needs an acknowledgement. What was overridden or acknowledged is saved with
the session (``Session.overrides``) and lands in the audit entry of the change.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from db import loaders
from db.codec import amount_from_columns, amount_from_json
from db.errors import ValidationError
from db.store._base import Actor, UnitOfWork
from db.tables.formulations import CourseRow, FormulationVersionRow
from db.tables.people import PatientRow
from db.tables.sessions import SessionRow
from db.tables.stock import ClinicLimitRow, IngredientRow, LotRow, ProductRow
from formulary import session_fields
from formulary.records import Component, Override, Product, SessionStatus
from formulary.safety import (
    Findings,
    IngredientFacts,
    Limit,
    LotDraw,
    PreviousSession,
    SafetyContext,
    SafetyError,
    check_formulation,
    check_session,
    merge_limits,
    resolve,
)
from formulary.safety.build import administered, contributions
from formulary.safety.documents import facts_from_document, limits_from_documents
from formulary.safety.overrides import ACKNOWLEDGED
from formulary.safety.volumes import Prepared, prepared_from
from formulary.units.amount import Amount


class SafetyBlocked(ValidationError):
    """The safety findings stop the change; ``findings`` lists them all.

    A :class:`ValidationError`: callers that show input errors show this one too.
    """

    def __init__(self, message: str, findings: Findings) -> None:
        super().__init__(message)
        self.findings = findings


def ingredient_facts(db: Session) -> tuple[dict[int, IngredientFacts], tuple[Limit, ...]]:
    """The clinic's ingredients as the rules see them, by row id, and their limits.

    Each row keeps its library document (clinic edits included) in ``facts`` beside
    its own name, synonyms and category columns; the rules read all of it, so a limit
    or a form the clinic corrected is the one that counts.

    Read on every check (every signature runs one), but parsed only when a row's stored
    text differs from what was parsed before: the parse is a pure function of exactly
    those columns, so a row edited in any way is parsed afresh.
    """
    table = IngredientRow.__table__  # type: ignore[attr-defined]
    stored = db.execute(
        sa.select(
            table.c.id,
            table.c.key,
            table.c.name,
            table.c.category,
            sa.cast(table.c.synonyms, sa.Text),
            sa.cast(table.c.sources, sa.Text),
            sa.cast(table.c.facts, sa.Text),
        ).where(table.c.deleted_at.is_(None))
    ).all()
    facts: dict[int, IngredientFacts] = {}
    limits: list[Limit] = []
    for row in stored:
        key = tuple(row)
        parsed = _PARSED.get(key)
        if parsed is None:
            parsed = _parse_ingredient(*key)
            if len(_PARSED) >= _PARSED_MAX:
                _PARSED.clear()  # rows edited many times over: start afresh
            _PARSED[key] = parsed
        facts[row[0]] = parsed[0]
        limits.extend(parsed[1])
    return facts, merge_limits(limits, _clinic_limits(db, facts))


#: Parsed ingredient rows, by their stored columns (see :func:`ingredient_facts`).
_PARSED: dict[tuple[Any, ...], tuple[IngredientFacts, tuple[Limit, ...]]] = {}
_PARSED_MAX = 4096


def _parse_ingredient(
    row_id: int,
    key: str,
    name: str,
    category: str,
    synonyms: str | None,
    sources: str | None,
    facts_text: str | None,
) -> tuple[IngredientFacts, tuple[Limit, ...]]:
    stored_facts = json.loads(facts_text) if facts_text is not None else None
    document = {
        **(stored_facts if isinstance(stored_facts, dict) else {}),
        "key": key,
        "name": name,
        "category": category,
        "synonyms": list(json.loads(synonyms) if synonyms is not None else []),
        "sources": list(json.loads(sources) if sources is not None else []),
    }
    found = facts_from_document(document, row_id)
    items = document.get("limits")
    return found, limits_from_documents(key, items if isinstance(items, list) else (), found.forms)


def _clinic_limits(db: Session, facts: Mapping[int, IngredientFacts]) -> tuple[Limit, ...]:
    """The clinic's own limits in force (not retired), each citing its source."""
    found: list[Limit] = []
    rows = db.exec(
        select(ClinicLimitRow)
        .where(col(ClinicLimitRow.retired_at).is_(None))
        .order_by(col(ClinicLimitRow.id))
    ).all()
    for row in rows:
        ingredient = facts.get(row.ingredient_id)
        if ingredient is None:
            continue  # the ingredient was retired: nothing of it can be given
        document = {
            "amount": {"value": str(row.amount_value), "unit": row.amount_unit},
            "per": row.per,
            "basis": row.basis,
            "source": f"clinic limit: {row.source}",
            "note": row.note,
        }
        found.extend(limits_from_documents(ingredient.key, [document], ingredient.forms))
    return tuple(found)


class _Products:
    """The products one check reads, each loaded once, and the ingredient names once.

    A session's mix and its course's earlier mixes mostly share their products.
    """

    def __init__(self, db: Session, facts: Mapping[int, IngredientFacts]) -> None:
        self._db = db
        self._loaded: dict[int, Product | None] = {}
        # The names the check has already read with the ingredients' facts; a retired
        # ingredient a product still names is looked up when a product needs it.
        self._names: dict[int, str] = {ident: f.name for ident, f in facts.items()}

    def of(self, ids: Iterable[int]) -> dict[int, Product]:
        wanted = set(ids)
        missing = sorted(wanted - self._loaded.keys())
        if missing:
            rows = self._db.exec(select(ProductRow).where(col(ProductRow.id).in_(missing))).all()
            named = {int(item["ingredient_id"]) for row in rows for item in row.ingredients}
            if unnamed := named - self._names.keys():
                self._names.update(loaders.ingredient_names(self._db, unnamed))
            self._loaded.update(dict.fromkeys(missing))
            for row in rows:
                assert row.id is not None
                self._loaded[row.id] = loaders.product(row, self._names)
        return {i: p for i in wanted if (p := self._loaded[i]) is not None}


def _components(items: Sequence[Mapping[str, Any]]) -> tuple[Component, ...]:
    out = []
    for item in items:
        amount = amount_from_json(item["amount"])
        assert amount is not None
        position = int(item["position"])
        out.append(
            Component(
                id=position,
                position=position,
                name=str(item["name"]),
                amount=amount,
                product_id=item.get("product_id"),
                ingredient_id=item.get("ingredient_id"),
            )
        )
    return tuple(out)


def _mix(
    products_of: _Products,
    components: tuple[Component, ...],
    facts: Mapping[int, IngredientFacts],
) -> tuple[Any, ...]:
    products = products_of.of(c.product_id for c in components if c.product_id is not None)
    broken = contributions(components, products, facts)
    return broken.contributions, broken.problems


def _course_of(db: Session, patient_id: int, formulation_id: int | None) -> CourseRow | None:
    """The patient's latest course planned with this formulation, if any."""
    if formulation_id is None:
        return None
    return db.exec(
        select(CourseRow)
        .where(CourseRow.patient_id == patient_id, CourseRow.formulation_id == formulation_id)
        .order_by(col(CourseRow.start_date).desc(), col(CourseRow.id).desc())
    ).first()


def formulation_context(
    db: Session,
    patient_id: int,
    items: Sequence[Mapping[str, Any]],
    final_volume: Amount | None,
    formulation_id: int | None = None,
) -> SafetyContext:
    """What the rules read when a formulation (its component JSON items) is saved.

    When a course is planned with this formulation, its per-course limits are
    projected over the course's planned sessions after the ones already given.
    """
    patient = loaders.patient(db.get(PatientRow, patient_id))  # type: ignore[arg-type]
    facts, limits = ingredient_facts(db)
    components = _components(items)
    products = _Products(db, facts)
    given, problems = _mix(products, components, facts)
    course_row = _course_of(db, patient_id, formulation_id)
    course_id = course_row.id if course_row is not None else None
    return SafetyContext(
        patient=patient,
        components=components,
        ingredients={f.key: f for f in facts.values()},
        contributions=given,
        problems=problems,
        limits=limits,
        final_volume=final_volume,
        course=loaders.course(course_row) if course_row is not None else None,
        previous_sessions=_previous_sessions(db, course_id, None, facts, products),
    )


def _previous_sessions(
    db: Session,
    course_id: int | None,
    exclude_id: int | None,
    facts: Mapping[int, IngredientFacts],
    products: _Products,
) -> tuple[PreviousSession, ...]:
    """The course's signed sessions other than ``exclude_id``, with what they gave."""
    if course_id is None:
        return ()
    # Only the columns the doses need, not whole session rows: a course's every
    # signature reads all its earlier ones.
    table = SessionRow.__table__  # type: ignore[attr-defined]
    total_volume = session_fields.field("total_volume")
    others = db.execute(
        sa.select(
            table.c.formulation_version_id,
            table.c.performed_at,
            *(table.c[column] for column in total_volume.columns),
        ).where(
            table.c.course_id == course_id,
            table.c.status == SessionStatus.SIGNED.value,
            table.c.deleted_at.is_(None),
            table.c.id != exclude_id,
        )
    ).all()
    earlier = []
    # The sessions of a course mostly share one or two versions: mix each once.
    mixes: dict[int, Any] = {}
    for version_id, performed_at, *volume in others:
        version = db.get(FormulationVersionRow, version_id)
        if version is None:
            continue
        assert version.id is not None
        if version.id not in mixes:
            mixes[version.id] = _mix(products, _components(version.components), facts)[0]
        given = mixes[version.id]
        doses = administered(
            given,
            amount_from_columns(version.final_volume_value, version.final_volume_unit),
            amount_from_columns(*volume),
        )
        earlier.append(PreviousSession(performed_at.date(), doses))
    return tuple(earlier)


def _draws(db: Session, row: SessionRow, components: tuple[Component, ...]) -> tuple[LotDraw, ...]:
    amounts = {c.id: c.amount for c in components}
    draws = []
    for choice in row.lots:
        lot_row = db.get(LotRow, int(choice["lot_id"]))
        if lot_row is None:
            continue
        position = int(choice["component_position"])
        drawn = amount_from_json(choice.get("drawn")) or amounts.get(position)
        draws.append(LotDraw(position, loaders.lot(lot_row), drawn))
    return tuple(draws)


def session_context(db: Session, row: SessionRow) -> SafetyContext:
    """What the rules read when a session is signed (or checked before signing)."""
    patient = loaders.patient(db.get(PatientRow, row.patient_id))  # type: ignore[arg-type]
    version = db.get(FormulationVersionRow, row.formulation_version_id)
    assert version is not None
    facts, limits = ingredient_facts(db)
    components = _components(version.components)
    products = _Products(db, facts)
    given, problems = _mix(products, components, facts)
    course_row = db.get(CourseRow, row.course_id) if row.course_id is not None else None
    zones = loaders.zone_volumes(row)
    return SafetyContext(
        patient=patient,
        components=components,
        ingredients={f.key: f for f in facts.values()},
        contributions=given,
        problems=problems,
        limits=limits,
        final_volume=amount_from_columns(version.final_volume_value, version.final_volume_unit),
        session_date=row.performed_at.date(),
        total_volume=loaders.declared_amount(row, "total_volume"),
        zones=zones,
        lots=_draws(db, row, components),
        course=loaders.course(course_row) if course_row is not None else None,
        previous_sessions=_previous_sessions(db, row.course_id, row.id, facts, products),
    )


def prepared(version: FormulationVersionRow) -> Prepared | None:
    """What the syringe of a session given from ``version`` held: its final volume, or
    without one the volume of the products drawn (:mod:`formulary.safety.volumes`)."""
    return prepared_from(
        amount_from_columns(version.final_volume_value, version.final_volume_unit),
        _components(version.components),
    )


def formulation_findings(
    db: Session,
    patient_id: int,
    items: Sequence[Mapping[str, Any]],
    final_volume: Amount | None,
    formulation_id: int | None = None,
) -> Findings:
    """The findings on a formulation before it is saved."""
    return check_formulation(
        formulation_context(db, patient_id, items, final_volume, formulation_id)
    )


def session_findings(db: Session, row: SessionRow) -> Findings:
    """The findings on a session before it is signed, the consent rule included.

    The consent rule (:func:`formulary.consent.consent_finding`) reads the patient's
    consents as they stand now: signing needs one signed and not withdrawn for the
    session's course (or, outside any course, one given outside any course).
    """
    from db.consent_rows import consents_of
    from formulary.consent import consent_finding

    findings = check_session(session_context(db, row))
    course = db.get(CourseRow, row.course_id) if row.course_id is not None else None
    missing = consent_finding(
        consents_of(db, [row.patient_id])[row.patient_id],
        row.patient_id,
        row.course_id,
        course.name if course is not None else "",
        None,  # as the records stand in this transaction
    )
    return findings if missing is None else Findings.of((*findings, missing))


def decide(
    uow: UnitOfWork,
    actor: Actor,
    findings: Findings,
    *,
    acknowledge: bool | Collection[str],
    override_reason: str | None,
) -> tuple[Override, ...]:
    """The overrides and acknowledgements to record, or :class:`SafetyBlocked`."""
    try:
        return resolve(
            findings,
            by=actor.username,
            signer_name=actor.full_name,
            role=actor.role,
            at=uow.now,
            acknowledge=acknowledge,
            override_reason=override_reason,
        )
    except SafetyError as exc:
        raise SafetyBlocked(str(exc), exc.findings) from None


def override_json(override: Override) -> dict[str, Any]:
    """An override as the session row stores it."""
    from db.codec import datetime_to_json

    return {
        "rule": override.rule,
        "message": override.message,
        "severity": override.severity,
        "reason": override.reason,
        "by": override.by,
        "signer_name": override.signer_name,
        "meaning": override.meaning,
        "at": datetime_to_json(override.at),
    }


def audit_reason(overrides: Sequence[Override]) -> str | None:
    """The reason an audited change carries when it proceeded past findings."""
    if not overrides:
        return None
    blocks = [o for o in overrides if o.severity == "block"]
    warnings = len(overrides) - len(blocks)
    if blocks:
        rules = ", ".join(sorted({o.rule for o in blocks}))
        return f"safety override ({rules}): {blocks[0].reason}"
    counted = f"{warnings} safety warning{'s' if warnings != 1 else ''} acknowledged"
    # A warning acknowledged with a written reason (one that needs it) carries it.
    reason = overrides[0].reason
    return counted if reason == ACKNOWLEDGED else f"{counted}: {reason}"


def audit_formulation(
    uow: UnitOfWork, version: FormulationVersionRow, overrides: Sequence[Override]
) -> None:
    """Audit what a formulation save overrode or acknowledged (nothing when clean).

    The version row has no place for them, so the entry carries them in its reason:
    one line per finding with severity, rule, message, reason, the signature (printed
    name, username and meaning) and when.
    """
    if not overrides:
        return
    lines = [audit_reason(overrides) or ""]
    lines += [
        f"{o.severity.upper()} {o.rule}: {o.message} | {o.reason} | "
        f"{o.signed_by} ({o.by}), {o.meaning} | {o.at.isoformat()}"
        for o in overrides
    ]
    uow.audit(
        "formulation_version.safety_override",
        "formulation_version",
        version.id,
        None,
        None,
        "\n".join(lines),
    )
