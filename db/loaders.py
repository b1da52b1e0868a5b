"""Stored rows to :mod:`formulary.records` objects, and whole patient charts.

Everything the TUI, the safety rules and the exporters see comes through here, so
nothing above ``db`` ever holds a table row.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy.orm.util import identity_key
from sqlmodel import Session, col, select

from db.codec import amount_from_columns, amount_from_json, datetime_from_json
from db.consent_rows import consents_of
from db.tables.formulations import CourseRow, FormulationRow, FormulationVersionRow
from db.tables.installation import InstallationRow
from db.tables.outcomes import OutcomeRow
from db.tables.people import PatientRow, UserRow
from db.tables.photos import PhotoRow
from db.tables.sessions import AddendumRow, SessionLotRow, SessionRow
from db.tables.stock import IngredientRow, LotRow, ProductRow
from formulary import session_fields
from formulary.photos import Photo, PhotoView
from formulary.records import (
    Addendum,
    AdverseEvent,
    Allergy,
    Clinic,
    Component,
    Condition,
    Course,
    FormulationVersion,
    GradeScale,
    IngredientStrength,
    Lot,
    LotStatus,
    LotUse,
    Outcome,
    Override,
    Patient,
    PatientChart,
    Practitioner,
    Presentation,
    Product,
    Role,
    ScalpZone,
    SessionStatus,
    Sex,
    Signature,
    SimpleValue,
    Technique,
    ZoneVolume,
)
from formulary.records import (
    Session as SessionRecord,
)
from formulary.units.amount import Amount


def practitioner(row: UserRow) -> Practitioner:
    """A user row as printed on records."""
    assert row.id is not None
    return Practitioner(row.id, row.username, row.full_name, Role(row.role))


def patient(row: PatientRow) -> Patient:
    """A patient row as a record."""
    assert row.id is not None
    return Patient(
        id=row.id,
        chart_number=row.chart_number,
        family_name=row.family_name,
        given_name=row.given_name,
        date_of_birth=row.date_of_birth,
        sex=Sex(row.sex),
        diagnosis=row.diagnosis,
        grade_scale=GradeScale(row.grade_scale) if row.grade_scale else None,
        grade=row.grade,
        weight_kg=amount_from_columns(row.weight_value, row.weight_unit),
        allergies=tuple(
            Allergy(
                a["substance"],
                a.get("ingredient_id"),
                a.get("reaction", ""),
                a.get("kind", "allergy"),
            )
            for a in row.allergies
        ),
        conditions=tuple(Condition(c["code"], c.get("text", "")) for c in row.conditions),
        consent_on_file=row.consent_on_file,
        consent_date=row.consent_date,
        height_cm=amount_from_columns(row.height_value, row.height_unit),
    )


def product(row: ProductRow, ingredient_names: Mapping[int, str]) -> Product:
    """A product row as a record (ingredient names looked up in ``ingredient_names``)."""
    assert row.id is not None
    strengths = []
    for item in row.ingredients:
        strength = amount_from_json(item["strength"])
        assert strength is not None
        ident = int(item["ingredient_id"])
        strengths.append(
            IngredientStrength(
                ident,
                ingredient_names.get(ident, "?"),
                strength,
                item.get("form", ""),
                amount_from_json(item.get("per_unit")),
            )
        )
    return Product(
        id=row.id,
        name=row.name,
        manufacturer=row.manufacturer,
        volume_per_unit=amount_from_columns(row.volume_value, row.volume_unit),
        ingredients=tuple(strengths),
        presentation=Presentation(row.presentation) if row.presentation else None,
        gtin=row.gtin or "",
        retired_reason=row.retired_reason if row.deleted_at is not None else "",
    )


def lot(row: LotRow) -> Lot:
    """A lot row as a record."""
    assert row.id is not None
    quantity = amount_from_columns(row.quantity_value, row.quantity_unit)
    assert quantity is not None
    return Lot(
        row.id,
        row.product_id,
        row.lot_number,
        row.expiry,
        quantity,
        LotStatus(row.status),
        supplier=row.supplier,
        units_received=row.units_received,
    )


def override(item: dict[str, Any]) -> Override:
    """An override (or acknowledgement) as a session or formulation version stores it."""
    return Override(
        item["rule"],
        item["message"],
        item["severity"],
        item["reason"],
        item["by"],
        datetime_from_json(item["at"]),
        signer_name=str(item.get("signer_name") or ""),
        meaning=str(item.get("meaning") or ""),
    )


def formulation_version(
    version: FormulationVersionRow, formulation: FormulationRow, created_by: str
) -> FormulationVersion:
    """A formulation version row (with its formulation) as a record."""
    assert version.id is not None and formulation.id is not None
    components = []
    for item in version.components:
        amount = amount_from_json(item["amount"])
        assert amount is not None
        components.append(
            Component(
                id=int(item["position"]),
                position=int(item["position"]),
                name=str(item["name"]),
                amount=amount,
                product_id=item.get("product_id"),
                ingredient_id=item.get("ingredient_id"),
            )
        )
    return FormulationVersion(
        id=version.id,
        formulation_id=formulation.id,
        formulation_name=formulation.name,
        version=version.version,
        final_volume=amount_from_columns(version.final_volume_value, version.final_volume_unit),
        components=tuple(components),
        created_at=version.created_at,
        created_by=created_by,
        locked=version.locked,
        note=version.note,
        overrides=tuple(override(o) for o in version.overrides or ()),
    )


def course(row: CourseRow) -> Course:
    """A course row as a record."""
    assert row.id is not None
    return Course(
        row.id, row.patient_id, row.name, row.planned_sessions, row.interval_days, row.start_date
    )


def outcome(row: OutcomeRow) -> Outcome:
    """An outcome row as a record."""
    assert row.id is not None
    return Outcome(
        id=row.id,
        patient_id=row.patient_id,
        measured_at=row.measured_at,
        density=amount_from_columns(row.density_value, row.density_unit),
        shaft_diameter=amount_from_columns(row.diameter_value, row.diameter_unit),
        scale_grade=row.scale_grade,
        zone=ScalpZone(row.zone) if row.zone else None,
        photo_refs=tuple(row.photo_refs),
        notes=row.notes,
        session_id=row.session_id,
    )


#: Records of users already built while loading (by user id and printed name): a batch
#: names the same few people in every session, and a record is frozen, so one is shared.
People = dict[tuple[int, str], Practitioner]


def _person(users: Mapping[int, UserRow], user_id: int, printed: str | None = None,
            people: People | None = None) -> Practitioner:
    """User ``user_id`` as named on a record: ``printed`` (a name bound by a signature)
    or the user's full name; "?" for a user ``users`` does not hold."""
    key = (user_id, printed or "")
    if people is not None:
        known = people.get(key)
        if known is not None:
            return known
    user = users.get(user_id)
    if user is None:
        made = Practitioner(user_id, "?", printed or "?", Role.PRACTITIONER)
    else:
        made = Practitioner(user_id, user.username, printed or user.full_name, Role(user.role))
    if people is not None:
        people[key] = made
    return made


def _signature(
    users: Mapping[int, UserRow],
    signer_id: int | None,
    signer_name: str | None,
    at: datetime | None,
    meaning: str | None,
    content_hash: str | None,
    people: People | None = None,
) -> Signature | None:
    if signer_id is None or at is None or content_hash is None:
        return None
    return Signature(_person(users, signer_id, signer_name, people), at, meaning or "",
                     content_hash)


def session(
    row: SessionRow,
    *,
    version: FormulationVersion | None,
    lots: Mapping[int, LotRow],
    used: Iterable[SessionLotRow],
    addenda: Iterable[AddendumRow],
    users: Mapping[int, UserRow],
    people: People | None = None,
) -> SessionRecord:
    """A session row as a record.

    Signed sessions report the lots actually drawn (``session_lot``); drafts report
    the lots chosen so far. ``people``: the user records built so far in this load.
    """
    assert row.id is not None
    names = {c.position: c.name for c in version.components} if version else {}
    uses: list[LotUse] = []
    used_rows = list(used)
    if row.status == SessionStatus.SIGNED.value and used_rows:
        for u in used_rows:
            lot_row = lots[u.lot_id]
            uses.append(
                LotUse(
                    u.component_position,
                    names.get(u.component_position, "?"),
                    u.lot_id,
                    lot_row.lot_number,
                    lot_row.expiry,
                    amount_from_columns(u.drawn_value, u.drawn_unit),
                )
            )
    else:
        for choice in row.lots:
            chosen_lot = lots.get(int(choice["lot_id"]))
            if chosen_lot is None:
                continue
            position = int(choice["component_position"])
            uses.append(
                LotUse(
                    position,
                    names.get(position, "?"),
                    int(choice["lot_id"]),
                    chosen_lot.lot_number,
                    chosen_lot.expiry,
                    amount_from_json(choice.get("drawn")),
                )
            )
    addendum_records = []
    for a in addenda:
        assert a.id is not None
        signature = _signature(
            users, a.signed_by_id, a.signer_name, a.signed_at, a.signature_meaning,
            a.content_hash, people,
        )
        assert signature is not None
        addendum_records.append(Addendum(a.id, a.text, a.reason, signature))
    attributes, others = session_fields.split(simple_fields(row), SessionRecord)
    return SessionRecord(
        id=row.id,
        patient_id=row.patient_id,
        performed_at=row.performed_at,
        status=SessionStatus(row.status),
        formulation_version_id=row.formulation_version_id,
        course_id=row.course_id,
        technique=Technique(row.technique) if row.technique else None,
        zones=zone_volumes(row),
        **attributes,
        others=others,
        lots=tuple(uses),
        adverse_events=tuple(
            AdverseEvent(e["kind"], e.get("severity", ""), e.get("description", ""))
            for e in row.adverse_events
        ),
        # Who saved the first draft: from the user rows already read (no query of its own).
        prepared_by=_person(users, row.created_by_id, None, people),
        signature=_signature(
            users,
            row.signed_by_id,
            row.signer_name,
            row.signed_at,
            row.signature_meaning,
            row.content_hash,
            people,
        ),
        addenda=tuple(addendum_records),
        overrides=tuple(override(o) for o in row.overrides),
    )


def _required(amount: Amount | None) -> Amount:
    assert amount is not None
    return amount


def ingredient_names(db: Session, ids: Iterable[int] | None = None) -> dict[int, str]:
    """``{ingredient id: name}`` for ``ids`` (all ingredients when None)."""
    query = select(IngredientRow.id, IngredientRow.name)
    if ids is not None:
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        query = query.where(col(IngredientRow.id).in_(wanted))
    return {int(i): str(n) for i, n in db.exec(query).all() if i is not None}


def users_by_id(db: Session) -> dict[int, UserRow]:
    """Every user row by id (a clinic has a handful)."""
    return {u.id: u for u in db.exec(select(UserRow)).all() if u.id is not None}


def versions_by_id(
    db: Session, ids: Iterable[int], users: Mapping[int, UserRow] | None = None
) -> dict[int, FormulationVersion]:
    """Formulation version records for ``ids`` (``users``: all user rows, if at hand)."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    users = users if users is not None else users_by_id(db)
    rows = db.exec(
        select(FormulationVersionRow, FormulationRow)
        .join(FormulationRow, col(FormulationRow.id) == FormulationVersionRow.formulation_id)
        .where(col(FormulationVersionRow.id).in_(wanted))
    ).all()
    out: dict[int, FormulationVersion] = {}
    for version, formulation in rows:
        assert version.id is not None
        creator = users.get(version.created_by_id)
        out[version.id] = formulation_version(
            version, formulation, creator.full_name if creator else "?"
        )
    return out


def sessions(db: Session, rows: list[SessionRow]) -> list[SessionRecord]:
    """Session records for ``rows``, with their lots, addenda and formulation versions."""
    if not rows:
        return []
    if len(rows) == 1:
        return [one_session(db, rows[0])]
    ids = [r.id for r in rows if r.id is not None]
    used = db.exec(select(SessionLotRow).where(col(SessionLotRow.session_id).in_(ids))).all()
    addenda = db.exec(
        select(AddendumRow)
        .where(col(AddendumRow.session_id).in_(ids))
        .order_by(col(AddendumRow.id))
    ).all()
    lot_ids = {u.lot_id for u in used} | {int(c["lot_id"]) for r in rows for c in r.lots}
    lots = (
        {
            lot_row.id: lot_row
            for lot_row in db.exec(select(LotRow).where(col(LotRow.id).in_(sorted(lot_ids)))).all()
            if lot_row.id is not None
        }
        if lot_ids
        else {}
    )
    users = users_by_id(db)
    versions = versions_by_id(db, [r.formulation_version_id for r in rows], users)
    people: People = {}
    out = []
    for row in rows:
        out.append(
            session(
                row,
                version=versions.get(row.formulation_version_id),
                lots=lots,
                used=[u for u in used if u.session_id == row.id],
                addenda=[a for a in addenda if a.session_id == row.id],
                users=users,
                people=people,
            )
        )
    return out


def simple_value(row: SessionRow, declared: session_fields.SessionField) -> SimpleValue:
    """One simple declared field of a session row, read from its declared columns."""
    values = [getattr(row, column) for column in declared.columns]
    if declared.kind is session_fields.Kind.AMOUNT:
        return amount_from_columns(*values)
    value = values[0]
    # A text column added by a later migration is NULL on rows older than it.
    return declared.empty if value is None else value


def declared_amount(row: SessionRow, name: str) -> Amount | None:
    """The quantity field ``name`` of a session row (its columns are generated)."""
    value = simple_value(row, session_fields.field(name))
    assert value is None or isinstance(value, Amount)
    return value


def simple_fields(row: SessionRow) -> dict[str, SimpleValue]:
    """The session's numbers, quantities and texts, by the declaration's columns."""
    return {d.attr: simple_value(row, d) for d in session_fields.simple_fields()}


def zone_volumes(row: SessionRow) -> tuple[ZoneVolume, ...]:
    """The session's volume per zone, with the injection points where they were charted."""
    points = {p["zone"]: int(p["points"]) for p in row.injection_points or ()}
    return tuple(
        ZoneVolume(
            ScalpZone(z["zone"]),
            _required(amount_from_json(z["volume"])),
            points.get(z["zone"]),
        )
        for z in row.zones
    )


def one_session(
    db: Session, row: SessionRow, *, drawn: Sequence[SessionLotRow] | None = None
) -> SessionRecord:
    """The record of one session, by primary-key lookups.

    Inside a Store write the rows it needs are already in the session's identity map,
    so building the returned record costs no queries at all for a draft. ``drawn``:
    the lots the same transaction drew in signing the session just now (it has no
    addenda yet), instead of reading them back.
    """
    signed = row.status == SessionStatus.SIGNED.value
    used: list[SessionLotRow] = []
    addenda: list[AddendumRow] = []
    if drawn is not None:
        used = list(drawn)
    elif signed:
        used = list(
            db.exec(select(SessionLotRow).where(SessionLotRow.session_id == row.id)).all()
        )
        addenda = list(
            db.exec(
                select(AddendumRow)
                .where(AddendumRow.session_id == row.id)
                .order_by(col(AddendumRow.id))
            ).all()
        )
    lots = _by_id(db, LotRow, {u.lot_id for u in used} | {int(c["lot_id"]) for c in row.lots})
    user_ids = {row.created_by_id, row.signed_by_id} | {a.signed_by_id for a in addenda}
    version_row = db.get(FormulationVersionRow, row.formulation_version_id)
    if version_row is not None:
        user_ids.add(version_row.created_by_id)
    users = _by_id(db, UserRow, {u for u in user_ids if u is not None})
    record: FormulationVersion | None = None
    if version_row is not None:
        formulation = db.get(FormulationRow, version_row.formulation_id)
        creator = users.get(version_row.created_by_id)
        if formulation is not None:
            record = formulation_version(
                version_row, formulation, creator.full_name if creator else "?"
            )
    return session(row, version=record, lots=lots, used=used, addenda=addenda, users=users)


def _by_id(db: Session, model: type[R], ids: Iterable[int]) -> dict[int, R]:
    """Rows of ``model`` by id: those the session holds already, the rest in one query.

    The session's identity map holds rows only while something references them, so a
    row read earlier in the same transaction may have to be read again.
    """
    found: dict[int, R] = {}
    missing: list[int] = []
    for ident in ids:
        held: R | None = db.identity_map.get(identity_key(model, ident))
        if held is not None:
            found[ident] = held
        else:
            missing.append(ident)
    if missing:
        query = select(model).where(_table(model).c.id.in_(sorted(missing)))
        for fetched in db.exec(query).all():
            row: Any = fetched
            found[int(row.id)] = fetched
    return found


def clinic(db: Session, workstation: str = "") -> Clinic:
    """The clinic named in the installation row."""
    row = db.exec(select(InstallationRow).order_by(col(InstallationRow.id))).first()
    if row is None:
        return Clinic(name="", workstation=workstation)
    return Clinic(
        name=row.clinic_name,
        address=row.clinic_address,
        workstation=workstation,
        identifier=row.clinic_identifier or row.db_id,
        beyond_use_minutes=row.beyond_use_minutes,
        photo_max_bytes=row.photo_max_bytes,
    )


def photo(row: PhotoRow, users: Mapping[int, UserRow] | None = None) -> Photo:
    """A photo row as a record (``users`` names who attached it, when given)."""
    assert row.id is not None
    by = users.get(row.created_by_id) if users is not None else None
    return Photo(
        id=row.id,
        patient_id=row.patient_id,
        view=PhotoView(row.view),
        taken_on=row.taken_on,
        sha256=row.sha256,
        size_bytes=row.size_bytes,
        media_type=row.media_type,
        width=row.width,
        height=row.height,
        session_id=row.session_id,
        outcome_id=row.outcome_id,
        note=row.note,
        attached_at=row.created_at,
        attached_by=by.full_name or by.username if by is not None else "",
        retired_at=row.retired_at,
        retired_reason=row.retired_reason,
    )


def photos_of(
    db: Session, patient_ids: Sequence[int], users: Mapping[int, UserRow] | None = None
) -> dict[int, list[Photo]]:
    """The photos of each patient (current and retired), by date taken then attach order."""
    if not patient_ids:
        return {}
    rows = db.exec(
        select(PhotoRow)
        .where(col(PhotoRow.patient_id).in_(list(patient_ids)))
        .order_by(col(PhotoRow.taken_on), col(PhotoRow.id))
    ).all()
    out: dict[int, list[Photo]] = {}
    for row in rows:
        out.setdefault(row.patient_id, []).append(photo(row, users))
    return out


def chart(db: Session, patient_row: PatientRow, *, workstation: str = "") -> PatientChart:
    """Everything recorded for one patient, as one :class:`PatientChart`."""
    pid = patient_row.id
    assert pid is not None
    session_rows = list(
        db.exec(
            select(SessionRow)
            .where(SessionRow.patient_id == pid, col(SessionRow.deleted_at).is_(None))
            .order_by(col(SessionRow.performed_at), col(SessionRow.id))
        ).all()
    )
    formulation_rows = db.exec(select(FormulationRow).where(FormulationRow.patient_id == pid)).all()
    version_ids = [
        v.id
        for v in db.exec(
            select(FormulationVersionRow).where(
                col(FormulationVersionRow.formulation_id).in_(
                    [f.id for f in formulation_rows if f.id is not None]
                )
            )
        ).all()
        if v.id is not None
    ]
    versions = versions_by_id(db, version_ids)
    courses = db.exec(
        select(CourseRow).where(CourseRow.patient_id == pid).order_by(col(CourseRow.id))
    ).all()
    outcomes = db.exec(
        select(OutcomeRow)
        .where(OutcomeRow.patient_id == pid, col(OutcomeRow.deleted_at).is_(None))
        .order_by(col(OutcomeRow.measured_at), col(OutcomeRow.id))
    ).all()
    session_records = sessions(db, session_rows)
    named_ids = _named_by(session_records)
    users = users_by_id(db)
    own_consents = tuple(consents_of(db, [pid])[pid])
    # A consent's witness is named in the chart like a signer.
    named_ids |= {i for i, u in users.items()
                  if u.username in {c.witness_username for c in own_consents}}
    product_ids = {
        c.product_id for v in versions.values() for c in v.components if c.product_id is not None
    }
    product_rows = (
        db.exec(select(ProductRow).where(col(ProductRow.id).in_(sorted(product_ids)))).all()
        if product_ids
        else []
    )
    names = ingredient_names(
        db, [int(i["ingredient_id"]) for p in product_rows for i in p.ingredients]
    )
    return PatientChart(
        clinic=clinic(db, workstation),
        patient=patient(patient_row),
        formulation_versions=tuple(
            sorted(versions.values(), key=lambda v: (v.formulation_id, v.version))
        ),
        courses=tuple(course(c) for c in courses),
        sessions=tuple(session_records),
        outcomes=tuple(outcome(o) for o in outcomes),
        practitioners=tuple(practitioner(users[i]) for i in sorted(named_ids) if i in users),
        products=tuple(product(p, names) for p in product_rows),
        photos=tuple(photos_of(db, [pid], users).get(pid, [])),
        consents=own_consents,
    )


def _named_by(records: Iterable[SessionRecord]) -> set[int]:
    """The users a chart's signed record names: who signed each session and addendum,
    and who prepared each signed session (a draft is not part of the record yet)."""
    ids: set[int] = set()
    for s in records:
        if s.signature is not None:
            ids.add(s.signature.signer.id)
            if s.prepared_by is not None:
                ids.add(s.prepared_by.id)
        ids.update(a.signature.signer.id for a in s.addenda)
    return ids


def _by(rows: Iterable[Any], key: str) -> dict[int, list[Any]]:
    grouped: dict[int, list[Any]] = {}
    for row in rows:
        grouped.setdefault(int(getattr(row, key)), []).append(row)
    return grouped


R = TypeVar("R")


def _table(model: type[Any]) -> sa.Table:
    table: sa.Table = model.__table__
    return table


def _plain(db: Session, model: type[R], query: sa.Select[Any]) -> list[R]:
    """The rows of ``query`` (a select of ``model``'s table) as Core rows.

    A Core row has each column as an attribute under the same name as the ORM object
    has, with the same column types applied, which is all the record builders here
    read; so it stands in for the model (typed as one for them).
    """
    # On the session's connection (same transaction): the ORM's result machinery
    # costs as much again even for plain rows.
    return cast(list[R], db.connection().execute(query).all())


def charts(
    db: Session, patient_rows: Sequence[PatientRow], *, workstation: str = ""
) -> list[PatientChart]:
    """The charts of many patients at once: the same records as :func:`chart`.

    A dozen ``IN`` queries for the whole batch instead of a dozen per patient, and
    the rows every chart shares (users, the clinic, lots, products, ingredient names)
    read once: what lets a clinic-wide export load thousands of charts a minute.
    """
    pids = [int(p.id) for p in patient_rows if p.id is not None]
    if not pids:
        return []
    # The many rows (sessions, draws, outcomes, courses, addenda) are read as Core
    # rows: every column an attribute, as on the ORM object, without building ORM
    # instances and their identity map (half of a batch's load time otherwise).
    session_rows = _plain(db, SessionRow, sa.select(_table(SessionRow))
        .where(col(SessionRow.patient_id).in_(pids), col(SessionRow.deleted_at).is_(None))
        .order_by(col(SessionRow.performed_at), col(SessionRow.id)))
    formulation_rows = db.exec(
        select(FormulationRow).where(col(FormulationRow.patient_id).in_(pids))
    ).all()
    formulation_patient = {f.id: f.patient_id for f in formulation_rows}
    version_rows = db.exec(
        select(FormulationVersionRow).where(
            col(FormulationVersionRow.formulation_id).in_(
                [f.id for f in formulation_rows if f.id is not None])
        )
    ).all() if formulation_rows else []
    users = users_by_id(db)
    versions = versions_by_id(
        db, [v.id for v in version_rows if v.id is not None]
        + [r.formulation_version_id for r in session_rows], users)
    courses = _by(_plain(db, CourseRow, sa.select(_table(CourseRow))
                         .where(col(CourseRow.patient_id).in_(pids))
                         .order_by(col(CourseRow.id))), "patient_id")
    outcomes = _by(_plain(db, OutcomeRow, sa.select(_table(OutcomeRow))
        .where(col(OutcomeRow.patient_id).in_(pids), col(OutcomeRow.deleted_at).is_(None))
        .order_by(col(OutcomeRow.measured_at), col(OutcomeRow.id))), "patient_id")
    sids = [r.id for r in session_rows if r.id is not None]
    used = _by(_plain(db, SessionLotRow, sa.select(_table(SessionLotRow))
                      .where(col(SessionLotRow.session_id).in_(sids))),
               "session_id") if sids else {}
    addenda = _by(_plain(db, AddendumRow, sa.select(_table(AddendumRow))
                         .where(col(AddendumRow.session_id).in_(sids))
                         .order_by(col(AddendumRow.id))), "session_id") if sids else {}
    lot_ids = {u.lot_id for us in used.values() for u in us} | {
        int(c["lot_id"]) for r in session_rows for c in r.lots}
    lots = {
        row.id: row
        for row in (db.exec(select(LotRow).where(col(LotRow.id).in_(sorted(lot_ids)))).all()
                    if lot_ids else [])
        if row.id is not None
    }
    product_ids = {c.product_id for v in versions.values() for c in v.components
                   if c.product_id is not None}
    products = {
        p.id: p
        for p in (db.exec(select(ProductRow).where(col(ProductRow.id).in_(sorted(product_ids))))
                  .all() if product_ids else [])
    }
    names = ingredient_names(
        db, [int(i["ingredient_id"]) for p in products.values() for i in p.ingredients])
    the_clinic = clinic(db, workstation)
    consents = consents_of(db, pids)
    sessions_of = _by(session_rows, "patient_id")
    versions_of: dict[int, list[FormulationVersion]] = {}
    for version in versions.values():
        owner = formulation_patient.get(version.formulation_id)
        if owner is not None:
            versions_of.setdefault(int(owner), []).append(version)
    photos_by_patient = photos_of(db, pids, users)
    people: People = {}  # the batch's staff, each built once
    out = []
    for row in patient_rows:
        pid = int(row.id) if row.id is not None else -1
        records = [
            session(s, version=versions.get(s.formulation_version_id), lots=lots,
                    used=used.get(int(s.id), []) if s.id is not None else [],
                    addenda=addenda.get(int(s.id), []) if s.id is not None else [],
                    users=users, people=people)
            for s in sessions_of.get(pid, [])
        ]
        named_ids = _named_by(records)
        witnesses = {c.witness_username for c in consents.get(pid, [])}
        if witnesses:  # a consent's witness is named in the chart like a signer
            named_ids |= {i for i, u in users.items() if u.username in witnesses}
        own_versions = versions_of.get(pid, [])
        own_products = sorted({c.product_id for v in own_versions for c in v.components
                               if c.product_id is not None})
        out.append(PatientChart(
            clinic=the_clinic,
            patient=patient(row),
            formulation_versions=tuple(
                sorted(own_versions, key=lambda v: (v.formulation_id, v.version))),
            courses=tuple(course(c) for c in courses.get(pid, [])),
            sessions=tuple(records),
            outcomes=tuple(outcome(o) for o in outcomes.get(pid, [])),
            practitioners=tuple(practitioner(users[i]) for i in sorted(named_ids)
                                if i in users),
            products=tuple(product(products[i], names) for i in own_products if i in products),
            photos=tuple(photos_by_patient.get(pid, [])),
            consents=tuple(consents.get(pid, [])),
        ))
    return out
