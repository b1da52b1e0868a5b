"""Treatment sessions: drafts, signing (with stock deduction), addenda, recalls.

Signing binds the signer's printed name, the UTC time and the meaning of the
signature to a SHA-256 over the canonical JSON of the session as signed (every
field, the lots drawn, and the formulation version's content). A signed session
never changes again: corrections are addenda, each signed the same way.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Collection
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import text as sa_text
from sqlmodel import col, select

from db import loaders
from db.codec import (
    amount_from_columns,
    amount_from_json,
    amount_to_json,
    columns_of,
)
from db.errors import (
    AlreadyRecorded,
    CheckpointFailed,
    Immutable,
    NotFound,
    ValidationError,
)
from db.store import safety
from db.store import validate as check
from db.store._base import (
    EVERYONE,
    PREPARERS,
    SIGNERS,
    Actor,
    UnitOfWork,
    require_reason,
    require_role,
    snapshot,
)
from db.store.inputs import RecallHit, SessionDraft, SigningCheck
from db.store.signing import (
    RunCredential,
    SigningRun,
    addendum_signed_content,
    signature_hash,
    signed_content,
    signed_content_definition,
)
from db.store.signing_runs import SigningRunsStore
from db.tables.formulations import CourseRow, FormulationRow, FormulationVersionRow
from db.tables.people import PatientRow
from db.tables.sessions import AddendumRow, SessionLotRow, SessionRow
from db.tables.stock import LotRow, ProductRow
from formulary import limits
from formulary import session_fields as fields
from formulary.records import ScalpZone, SessionStatus, Technique
from formulary.records import Session as SessionRecord
from formulary.safety import Findings
from formulary.safety.volumes import in_ml, over_prepared
from formulary.signed_content import CURRENT
from formulary.units import UnitsError, format_amount
from formulary.units.amount import Amount
from formulary.units.parse import strip_decimal

#: Meaning of a session signature unless the caller says otherwise.
ADMINISTERED_BY = "administered by"
#: Meaning of an addendum signature unless the caller says otherwise.
AMENDED_BY = "amended by"
#: How far in the future a session time may be (clock drift between workstations).
FUTURE_TOLERANCE = timedelta(minutes=10)


def _simple_columns(draft: SessionDraft) -> dict[str, Any]:
    """The stored columns of the draft's numbers, quantities and texts, each checked.

    Driven by the declaration (formulary.session_fields): a range, a length limit or a
    quantity check lives there and nowhere else.
    """
    unknown = sorted(set(draft.others) - {f.attr for f in fields.others_of(SessionDraft)})
    if unknown:
        raise ValidationError(
            f"{unknown[0]!r} is not a session field; see formulary/session_fields.py"
        )
    out: dict[str, Any] = {}
    for declared in fields.simple_fields():
        try:
            if declared.kind is fields.Kind.AMOUNT:
                amount = declared.amount_of(draft)
                if amount is not None:
                    check.amount(amount, declared.label)
                out.update(zip(declared.columns, columns_of(amount), strict=True))
            elif declared.kind is fields.Kind.TEXT:
                limit = declared.max_length or check.MAX_TEXT
                text = declared.text_of(draft)
                # Session text is free text (notes, post-care): line breaks stay.
                out[declared.columns[0]] = check.text(
                    text, declared.label, limit=limit, multiline=True
                )
            else:
                value = declared.of(draft)
                if (problem := declared.problem(value)) is not None:
                    raise ValidationError(problem)
                out[declared.columns[0]] = value
        except TypeError as exc:
            raise ValidationError(str(exc)) from None
    return out


def _in_ml(amount: Amount, what: str) -> Decimal:
    try:
        return in_ml(amount)
    except UnitsError:
        raise ValidationError(
            f"the {what} ({format_amount(amount)}) is not a volume; give it in mL"
        ) from None


#: Audit entity/action recording the idempotency key of a headless recording.
IDEMPOTENCY_ENTITY = "idempotency_key"
IDEMPOTENCY_ACTION = "session.idempotency_key"


def _refuse_repeat(uow: UnitOfWork, key: str) -> None:
    # Inside the write transaction, so two retries racing each other see one another.
    found = uow.session.execute(
        sa_text(
            "SELECT after FROM audit_event WHERE entity = :entity AND entity_id = :key"
            " ORDER BY seq LIMIT 1"
        ),
        {"entity": IDEMPOTENCY_ENTITY, "key": key},
    ).scalar()
    if found is not None:
        session_id = int(json.loads(found)["session_id"])
        raise AlreadyRecorded(
            f"already recorded as session {session_id} (idempotency key {key!r}); "
            "nothing was written again",
            session_id,
        )


class SessionsStore(SigningRunsStore):
    """Sessions, signatures and addenda."""

    # -- drafts ---------------------------------------------------------------------------

    def _apply_draft(self, uow: UnitOfWork, row: SessionRow, draft: SessionDraft) -> None:
        uow.get(PatientRow, draft.patient_id, "patient")
        version = uow.get(
            FormulationVersionRow, draft.formulation_version_id, "formulation version"
        )
        formulation = uow.session.get(FormulationRow, version.formulation_id)
        if formulation is None or formulation.patient_id != draft.patient_id:
            raise ValidationError("that formulation version belongs to another patient")
        if draft.course_id is not None:
            course = uow.get(CourseRow, draft.course_id, "course")
            if course.patient_id != draft.patient_id:
                raise ValidationError("that course belongs to another patient")
        if draft.performed_at.tzinfo is None:
            raise ValidationError("the session time needs a time zone")
        try:
            limits.check_date(draft.performed_at, "the session time")
            if draft.total_volume is not None:
                limits.check_amount(draft.total_volume, "the total volume")
            for zone in draft.zones:
                limits.check_amount(zone.volume, f"the volume of zone {zone.zone.value}")
        except limits.OutOfRange as exc:
            raise ValidationError(str(exc)) from exc
        simple = _simple_columns(draft)
        positions = {int(c["position"]) for c in version.components}
        zones: list[dict[str, Any]] = []
        points: list[dict[str, Any]] = []
        for zone in draft.zones:
            name = ScalpZone(zone.zone).value
            if any(z["zone"] == name for z in zones):
                raise ValidationError(f"the zone {name} is listed twice; give one volume per zone")
            check.amount(zone.volume, f"volume in the {name} zone")
            zones.append({"zone": name, "volume": amount_to_json(zone.volume)})
            problem = fields.INJECTION_POINTS.problem(zone.points, f" in the {name} zone")
            if problem is not None:
                raise ValidationError(problem)
            if zone.points is not None:
                points.append({"zone": name, "points": zone.points})
        lots: list[dict[str, Any]] = []
        found = uow.get_many(LotRow, (choice.lot_id for choice in draft.lots))
        for choice in draft.lots:
            if choice.component_position not in positions:
                raise ValidationError(
                    f"component {choice.component_position} is not in formulation version "
                    f"{version.version}"
                )
            if any(c["component_position"] == choice.component_position for c in lots):
                raise ValidationError(
                    f"component {choice.component_position} has two lots; choose one"
                )
            if choice.lot_id not in found:
                raise NotFound(f"lot {choice.lot_id} does not exist; pick one from the list")
            if choice.drawn is not None:
                check.amount(choice.drawn, "amount drawn")
            lots.append(
                {
                    "component_position": choice.component_position,
                    "lot_id": choice.lot_id,
                    "drawn": amount_to_json(choice.drawn),
                }
            )
        row.patient_id = draft.patient_id
        row.formulation_version_id = draft.formulation_version_id
        row.course_id = draft.course_id
        row.performed_at = draft.performed_at
        row.technique = Technique(draft.technique).value if draft.technique else None
        for column, value in simple.items():
            setattr(row, column, value)
        row.zones = zones
        row.injection_points = points
        row.lots = lots
        row.adverse_events = [
            {
                "kind": check.text(e.kind, "adverse event", limit=200, required=True),
                "severity": check.text(e.severity, "severity", limit=50),
                "description": check.text(
                    e.description, "adverse event description", limit=2000, multiline=True
                ),
            }
            for e in draft.adverse_events
        ]
        if draft.overrides:
            # An override is a signature made while signing (password, printed name,
            # meaning); a draft cannot bring one of its own.
            raise ValidationError(
                "a draft cannot carry safety overrides: they are given, with the password, "
                "when the session is signed"
            )
        row.overrides = []

    def save_session_draft(
        self, actor: Actor, draft: SessionDraft, session_id: int | None = None
    ) -> SessionRecord:
        """Create a draft session, or save changes to one. Signed sessions are refused."""
        with self._write(actor, PREPARERS, "prepare sessions") as uow:
            if session_id is None:
                row = SessionRow(created_at=uow.now, updated_at=uow.now, created_by_id=actor.id)  # type: ignore[call-arg]
                self._apply_draft(uow, row, draft)
                uow.add(row, "session.create_draft")
            else:
                row = uow.get(SessionRow, session_id, "session", for_update=True)
                self._refuse_signed(row)
                before = snapshot(row)
                self._apply_draft(uow, row, draft)
                if uow.differs(row, before):
                    row.updated_at = uow.now
                    uow.update(row, before, "session.update_draft", None)
            return loaders.sessions(uow.session, [row])[0]

    @staticmethod
    def _refuse_signed(row: SessionRow) -> None:
        if row.status == SessionStatus.SIGNED.value:
            raise Immutable(
                f"session {row.id} is signed and cannot change; add a signed addendum instead"
            )

    def discard_draft(self, actor: Actor, session_id: int, reason: str) -> None:
        """Discard a draft (soft delete); signed sessions cannot be discarded."""
        why = require_reason(reason, "discard a draft")
        with self._write(actor, PREPARERS, "discard drafts") as uow:
            row = uow.get(SessionRow, session_id, "session", for_update=True)
            self._refuse_signed(row)
            before = snapshot(row)
            row.deleted_at = uow.now
            row.updated_at = uow.now
            uow.update(row, before, "session.discard_draft", why)

    # -- signing --------------------------------------------------------------------------

    def sign_session(
        self,
        actor: Actor,
        session_id: int,
        password: str,
        meaning: str = ADMINISTERED_BY,
        *,
        acknowledge: bool | Collection[str] = False,
        override_reason: str | None = None,
        run: SigningRun | None = None,
    ) -> SessionRecord:
        """Sign a draft: check it, draw its lots, lock its formulation version, sign it.

        The password is checked again (a failure counts toward the lockout); within a
        signing ``run`` of the same signer (:meth:`begin_signing_run`) it is compared
        with the one the run verified instead, and the audit entry says so. Refused
        unless every product component has a lot of its product with enough stock, the
        zone volumes add up to the total volume, and the total is no more than the syringe
        held (:mod:`formulary.safety.volumes`). The safety rules then run
        (:meth:`check_session` shows their findings beforehand): warnings need
        ``acknowledge``, blocks (an expired, quarantined or recalled lot, a dose over a
        limit, an allergy …) an ``override_reason`` from a practitioner or admin, else
        :class:`~db.store.safety.SafetyBlocked` and nothing is signed. What was
        overridden or acknowledged is saved with the session and audited.
        """
        require_role(actor, SIGNERS, "sign sessions")
        meaning = check.text(meaning, "signature meaning", limit=100, required=True)
        credential = self._signature_credential(actor, password, run)
        with self._write(actor, SIGNERS, "sign sessions") as uow:
            row = uow.get(SessionRow, session_id, "session", for_update=True)
            self._refuse_signed(row)
            drawn = self._sign(
                uow,
                actor,
                row,
                meaning,
                acknowledge=acknowledge,
                override_reason=override_reason,
                credential=credential,
            )
            signed = loaders.one_session(uow.session, row, drawn=drawn)
        self._signed_in_run(credential)
        try:
            self._checkpoint("session")
        except CheckpointFailed as exc:
            exc.saved = signed  # signed and saved: callers must show it so
            raise
        return signed

    def record_session(
        self,
        actor: Actor,
        draft: SessionDraft,
        password: str,
        meaning: str = ADMINISTERED_BY,
        *,
        acknowledge: bool | Collection[str] = False,
        override_reason: str | None = None,
        idempotency_key: str | None = None,
        run: SigningRun | None = None,
    ) -> SessionRecord:
        """Create and sign a session in one transaction (the headless ``session record``).

        The same checks and safety rules as :meth:`sign_session`; when anything refuses,
        nothing at all is written (no draft is left behind). With ``idempotency_key`` a
        retry never records twice: a key already used raises
        :class:`~db.errors.AlreadyRecorded` naming the session recorded the first time.
        ``run``: as for :meth:`sign_session`.
        """
        require_role(actor, SIGNERS, "sign sessions")
        meaning = check.text(meaning, "signature meaning", limit=100, required=True)
        if idempotency_key is not None:
            idempotency_key = check.text(
                idempotency_key, "idempotency key", limit=100, required=True
            )
        credential = self._signature_credential(actor, password, run)
        with self._write(actor, SIGNERS, "sign sessions") as uow:
            if idempotency_key is not None:
                _refuse_repeat(uow, idempotency_key)
            row = SessionRow(created_at=uow.now, updated_at=uow.now, created_by_id=actor.id)  # type: ignore[call-arg]
            self._apply_draft(uow, row, draft)
            uow.add(row, "session.create_draft")
            drawn = self._sign(
                uow,
                actor,
                row,
                meaning,
                acknowledge=acknowledge,
                override_reason=override_reason,
                credential=credential,
            )
            if idempotency_key is not None:
                uow.audit(
                    IDEMPOTENCY_ACTION,
                    IDEMPOTENCY_ENTITY,
                    idempotency_key,
                    None,
                    {"session_id": row.id},
                    None,
                )
            signed = loaders.one_session(uow.session, row, drawn=drawn)
        self._signed_in_run(credential)
        try:
            self._checkpoint("session")
        except CheckpointFailed as exc:
            exc.saved = signed  # signed and saved: callers must show it so
            raise
        return signed

    def _sign(
        self,
        uow: UnitOfWork,
        actor: Actor,
        row: SessionRow,
        meaning: str,
        *,
        acknowledge: bool | Collection[str],
        override_reason: str | None,
        credential: RunCredential | None = None,
    ) -> list[SessionLotRow]:
        """Check, draw, lock and sign ``row``; the lots drawn (for the record returned)."""
        run_note = self._run_note(uow, actor, credential)
        version = uow.get(
            FormulationVersionRow,
            row.formulation_version_id,
            "formulation version",
            for_update=True,
        )
        self._check_complete(uow, row, version)
        draws = self._resolve_draws(uow, row, version)
        self._check_stock(draws)
        findings = safety.session_findings(uow.session, row)
        overrides = safety.decide(
            uow, actor, findings, acknowledge=acknowledge, override_reason=override_reason
        )
        before = snapshot(row)
        row.overrides = [*row.overrides, *(safety.override_json(o) for o in overrides)]
        row.lots = [
            {"component_position": p, "lot_id": lot.id, "drawn": amount_to_json(amount)}
            for p, lot, amount in draws
        ]
        drawn = self._draw_stock(uow, row, draws)
        if not version.locked:
            version_before = snapshot(version)
            version.locked = True
            uow.update(version, version_before, "formulation_version.lock", None)
        signer = actor.full_name
        row.status = SessionStatus.SIGNED.value
        row.signed_by_id = actor.id
        row.signer_name = signer
        row.signed_at = uow.now
        row.signature_meaning = meaning
        row.updated_at = uow.now
        row.signed_content_version = CURRENT.number
        row.content_hash = signature_hash(
            signed_content(row, version, CURRENT), signer, uow.now, meaning
        )
        reason = "; ".join(p for p in (safety.audit_reason(overrides), run_note) if p) or None
        uow.update(row, before, "session.sign", reason)
        return drawn

    def check_session_draft(self, actor: Actor, draft: SessionDraft) -> Findings:
        """The safety findings a draft would raise if signed now (nothing saved)."""
        with self._read(actor, PREPARERS, "check sessions") as db:
            # A unit of work over the read session runs the same input checks as a
            # save; the row is never added, so nothing is written.
            uow = UnitOfWork(
                db, db_id=self.database.db_id, user=actor.username, workstation=self.workstation
            )
            row = SessionRow(created_at=uow.now, updated_at=uow.now, created_by_id=actor.id)  # type: ignore[call-arg]
            self._apply_draft(uow, row, draft)
            return safety.session_findings(db, row)

    def check_signing(self, actor: Actor, draft: SessionDraft) -> SigningCheck:
        """What recording and signing ``draft`` now would meet (nothing saved).

        The safety findings of :meth:`check_session_draft`, and the refusal no
        acknowledgement or override gets past: the same completeness, lot and stock
        checks :meth:`record_session` makes before the safety rules, so that a check
        and a recording never disagree.
        """
        with self._read(actor, PREPARERS, "check sessions") as db:
            uow = UnitOfWork(
                db, db_id=self.database.db_id, user=actor.username, workstation=self.workstation
            )
            row = SessionRow(created_at=uow.now, updated_at=uow.now, created_by_id=actor.id)  # type: ignore[call-arg]
            self._apply_draft(uow, row, draft)
            findings = safety.session_findings(db, row)
            try:
                version = uow.get(
                    FormulationVersionRow, row.formulation_version_id, "formulation version"
                )
                self._check_complete(uow, row, version)
                # A read-only connection cannot lock rows; signing locks them itself.
                self._check_stock(self._resolve_draws(uow, row, version, for_update=False))
            except (ValidationError, NotFound) as exc:
                return SigningCheck(findings, str(exc))
            return SigningCheck(findings, None)

    def check_session(self, actor: Actor, session_id: int) -> Findings:
        """The safety findings signing this session would raise now (nothing saved)."""
        with self._read(actor, PREPARERS, "check sessions") as db:
            row = db.get(SessionRow, session_id)
            if row is None or row.deleted_at is not None:
                raise NotFound(f"session {session_id} does not exist; pick one from the list")
            return safety.session_findings(db, row)

    def _check_complete(
        self, uow: UnitOfWork, row: SessionRow, version: FormulationVersionRow
    ) -> None:
        if row.performed_at > uow.now + FUTURE_TOLERANCE:
            raise ValidationError("the session time is in the future; correct it before signing")
        if row.technique is None:
            raise ValidationError("choose the technique before signing")
        stated = loaders.declared_amount(row, "total_volume")
        if stated is None:
            raise ValidationError("enter the total volume injected before signing")
        if not row.zones:
            raise ValidationError("enter the volume given in each scalp zone before signing")
        zone_amounts = [amount_from_json(z["volume"]) for z in row.zones]
        # Compared exactly in mL: 500 mcL in each of two zones is the 1 mL total.
        total_ml = sum(
            (_in_ml(a, "zone volume") for a in zone_amounts if a is not None), Decimal(0)
        )
        if total_ml != _in_ml(stated, "total volume"):
            total = Amount(strip_decimal(total_ml), "mL")
            raise ValidationError(
                f"the zone volumes add up to {format_amount(total)} but the total volume is "
                f"{format_amount(stated)}; make them agree"
            )
        # More than the syringe held cannot have been injected: one figure is wrong, and
        # no override makes it right (a draft may hold it while it is being corrected).
        over = over_prepared(stated, safety.prepared(version))
        if over is not None:
            raise ValidationError(over.message())

    def _resolve_draws(
        self,
        uow: UnitOfWork,
        row: SessionRow,
        version: FormulationVersionRow,
        *,
        for_update: bool = True,
    ) -> list[tuple[int, LotRow, Amount]]:
        chosen = {int(c["component_position"]): c for c in row.lots}
        found = uow.get_many(
            LotRow, (int(c["lot_id"]) for c in row.lots), for_update=for_update
        )
        draws: list[tuple[int, LotRow, Amount]] = []
        for component in version.components:
            position = int(component["position"])
            product_id = component.get("product_id")
            choice = chosen.pop(position, None)
            if product_id is None:
                if choice is not None:
                    raise ValidationError(
                        f"component {position} ({component['name']}) is not a stock product; "
                        "remove its lot"
                    )
                continue
            if choice is None:
                raise ValidationError(
                    f"choose the lot used for component {position} ({component['name']})"
                )
            lot = found.get(int(choice["lot_id"]))
            if lot is None:
                raise NotFound(f"lot {choice['lot_id']} does not exist; pick one from the list")
            label = f"lot {lot.lot_number}"
            if lot.product_id != product_id:
                raise ValidationError(
                    f"{label} is not a lot of {component['name']}; choose one of its lots"
                )
            # Expired, quarantined and recalled lots are safety findings: they block
            # unless a practitioner overrides them with a reason (see sign_session).
            drawn = amount_from_json(choice.get("drawn")) or amount_from_json(component["amount"])
            assert drawn is not None
            if drawn.unit != lot.quantity_unit:
                product = uow.session.get(ProductRow, lot.product_id)
                name = product.name if product else component["name"]
                raise ValidationError(
                    f"{label} of {name} is counted in {lot.quantity_unit}; give the amount "
                    f"drawn in {lot.quantity_unit}"
                )
            draws.append((position, lot, drawn))
        if chosen:
            raise ValidationError(
                f"lots are chosen for components {sorted(chosen)} that the formulation lacks"
            )
        return draws

    @staticmethod
    def _per_lot(
        draws: list[tuple[int, LotRow, Amount]],
    ) -> tuple[dict[int, Decimal], dict[int, LotRow]]:
        per_lot: dict[int, Decimal] = defaultdict(Decimal)
        lots: dict[int, LotRow] = {}
        for _, lot, amount in draws:
            assert lot.id is not None
            per_lot[lot.id] += amount.value
            lots[lot.id] = lot
        return per_lot, lots

    def _check_stock(self, draws: list[tuple[int, LotRow, Amount]]) -> None:
        # Stock cannot go below zero, whatever is overridden: a count that is wrong is
        # corrected by adjusting the lot, not by signing past it.
        per_lot, lots = self._per_lot(draws)
        for lot_id, needed in per_lot.items():
            lot = lots[lot_id]
            if lot.quantity_value < needed:
                raise ValidationError(
                    f"lot {lot.lot_number} holds {lot.quantity_value} {lot.quantity_unit}, "
                    f"less than the {needed} {lot.quantity_unit} drawn; receive or choose "
                    "another lot"
                )

    def _draw_stock(
        self, uow: UnitOfWork, row: SessionRow, draws: list[tuple[int, LotRow, Amount]]
    ) -> list[SessionLotRow]:
        self._check_stock(draws)
        per_lot, lots = self._per_lot(draws)
        assert row.id is not None
        drawn: list[SessionLotRow] = []
        for position, lot, amount in draws:
            value, unit = columns_of(amount)
            drawn.append(
                SessionLotRow(
                    session_id=row.id,
                    component_position=position,
                    lot_id=lot.id,  # type: ignore[arg-type]
                    drawn_value=value,
                    drawn_unit=unit,
                )
            )
        uow.add_all(drawn, "session_lot.draw")
        changed: list[tuple[LotRow, dict[str, Any]]] = []
        for lot_id, needed in per_lot.items():
            lot = lots[lot_id]
            changed.append((lot, snapshot(lot)))
            lot.quantity_value = lot.quantity_value - needed
            lot.updated_at = uow.now
        uow.update_all(changed, "lot.draw", f"session {row.id}")
        return drawn

    def add_addendum(
        self,
        actor: Actor,
        session_id: int,
        text: str,
        reason: str,
        password: str,
        meaning: str = AMENDED_BY,
    ) -> SessionRecord:
        """Append a signed correction to a signed session (the session stays unchanged)."""
        require_role(actor, SIGNERS, "sign addenda")
        why = require_reason(reason, "add an addendum")
        body = check.text(
            text, "addendum text", limit=10000, required=True, multiline=True
        )
        meaning = check.text(meaning, "signature meaning", limit=100, required=True)
        self.verify_password(actor, password)
        with self._write(actor, SIGNERS, "sign addenda") as uow:
            row = uow.get(SessionRow, session_id, "session")
            if row.status != SessionStatus.SIGNED.value:
                raise ValidationError(
                    f"session {session_id} is still a draft; edit it instead of adding an addendum"
                )
            content = addendum_signed_content(row, body, why, CURRENT)
            digest = signature_hash(content, actor.full_name, uow.now, meaning)
            uow.add(
                AddendumRow(
                    session_id=session_id,
                    text=body,
                    reason=why,
                    signed_by_id=actor.id,
                    signer_name=actor.full_name,
                    signed_at=uow.now,
                    signature_meaning=meaning,
                    content_hash=digest,
                    signed_content_version=CURRENT.number,
                ),
                "session.addendum",
                why,
            )
            signed = loaders.sessions(uow.session, [row])[0]
        self._checkpoint("addendum")
        return signed

    def verify_signatures(self, actor: Actor, session_id: int) -> list[str]:
        """Problems with a session's signature and its addenda (empty when all verify)."""
        with self._read(actor, EVERYONE, "read sessions") as db:
            row = db.get(SessionRow, session_id)
            if row is None:
                raise NotFound(f"session {session_id} does not exist")
            if row.status != SessionStatus.SIGNED.value:
                return [f"session {session_id} is not signed"]
            problems = []
            version = db.get(FormulationVersionRow, row.formulation_version_id)
            assert version is not None
            assert row.signer_name and row.signed_at and row.signature_meaning
            # Each signature is recomputed under the definition it was made under.
            try:
                expected = signature_hash(
                    signed_content(row, version),
                    row.signer_name,
                    row.signed_at,
                    row.signature_meaning,
                )
            except ValueError as exc:
                problems.append(f"session {session_id}: {exc}")
            else:
                if expected != row.content_hash:
                    problems.append(f"session {session_id}: content differs from what was signed")
            for a in db.exec(select(AddendumRow).where(AddendumRow.session_id == session_id)).all():
                try:
                    definition = signed_content_definition(a.signed_content_version)
                except ValueError as exc:
                    problems.append(f"addendum {a.id}: {exc}")
                    continue
                content = addendum_signed_content(row, a.text, a.reason, definition)
                if signature_hash(content, a.signer_name, a.signed_at, a.signature_meaning) != (
                    a.content_hash
                ):
                    problems.append(f"addendum {a.id}: content differs from what was signed")
            return problems

    # -- reads ----------------------------------------------------------------------------

    def get_session(self, actor: Actor, session_id: int) -> SessionRecord:
        """One session (draft or signed) with its lots and addenda."""
        with self._read(actor, EVERYONE, "read sessions") as db:
            row = db.get(SessionRow, session_id)
            if row is None or row.deleted_at is not None:
                raise NotFound(f"session {session_id} does not exist")
            return loaders.sessions(db, [row])[0]

    def list_sessions(self, actor: Actor, patient_id: int) -> list[SessionRecord]:
        """A patient's sessions (drafts and signed), oldest first."""
        with self._read(actor, EVERYONE, "read sessions") as db:
            rows = list(
                db.exec(
                    select(SessionRow)
                    .where(
                        SessionRow.patient_id == patient_id, col(SessionRow.deleted_at).is_(None)
                    )
                    .order_by(col(SessionRow.performed_at), col(SessionRow.id))
                ).all()
            )
            return loaders.sessions(db, rows)

    def recall(self, actor: Actor, lot_number: str) -> list[RecallHit]:
        """Every signed session (and its patient) that drew from a lot with this number."""
        with self._read(actor, EVERYONE, "search recalls") as db:
            rows = db.exec(
                select(SessionLotRow, LotRow, SessionRow, PatientRow)
                .join(LotRow, col(LotRow.id) == SessionLotRow.lot_id)
                .join(SessionRow, col(SessionRow.id) == SessionLotRow.session_id)
                .join(PatientRow, col(PatientRow.id) == SessionRow.patient_id)
                .where(LotRow.lot_number == lot_number.strip())
                .order_by(col(SessionRow.performed_at), col(SessionRow.id))
            ).all()
            products = {p.id: p.name for p in db.exec(select(ProductRow)).all()}
            hits = []
            for used, lot, session, patient in rows:
                assert lot.id is not None and session.id is not None and patient.id is not None
                hits.append(
                    RecallHit(
                        lot_id=lot.id,
                        lot_number=lot.lot_number,
                        product_name=products.get(lot.product_id, "?"),
                        session_id=session.id,
                        performed_at=session.performed_at,
                        patient_id=patient.id,
                        chart_number=patient.chart_number,
                        patient_name=f"{patient.family_name.upper()}, {patient.given_name}",
                        drawn=amount_from_columns(used.drawn_value, used.drawn_unit),
                        zones=tuple(ScalpZone(z["zone"]) for z in session.zones),
                    )
                )
            return hits
