"""Reading the audit trail for the audit screen (writing it is the unit of work's job)."""

from __future__ import annotations

import json
from datetime import datetime

from sqlmodel import col, select

from db.audit.canonical import format_utc
from db.codec import datetime_from_json
from db.store._base import AUDIT_READERS, Actor, StoreBase
from db.store.inputs import AuditEntry
from db.tables.audit import AuditEvent


def _entry(event: AuditEvent) -> AuditEntry:
    return AuditEntry(
        seq=event.seq,
        at=datetime_from_json(event.ts_utc),
        user=event.user_name,
        workstation=event.workstation,
        action=event.action,
        entity=event.entity,
        entity_id=event.entity_id,
        before=json.loads(event.before) if event.before is not None else None,
        after=json.loads(event.after) if event.after is not None else None,
        reason=event.reason,
        hash=event.hash,
    )


class AuditReadsStore(StoreBase):
    """The audit screen's queries."""

    def audit_events(
        self,
        actor: Actor,
        *,
        entity: str | None = None,
        entity_id: int | str | None = None,
        user: str | None = None,
        action_prefix: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        before_seq: int | None = None,
        limit: int = 200,
        patient_id: int | None = None,
    ) -> list[AuditEntry]:
        """Audit entries matching every filter given, newest first.

        ``patient_id`` keeps the entries about that patient: their record, their
        sessions (and the lots drawn and addenda), formulations, courses and outcomes
        (read through the ``audit_event.patient_id`` index). Page backwards by passing
        the smallest ``seq`` seen as ``before_seq``.
        """
        with self._read(actor, AUDIT_READERS, "read the audit trail") as db:
            query = select(AuditEvent)
            if patient_id is not None:
                query = query.where(AuditEvent.patient_id == patient_id)
            if entity is not None:
                query = query.where(AuditEvent.entity == entity)
            if entity_id is not None:
                query = query.where(AuditEvent.entity_id == str(entity_id))
            if user is not None:
                query = query.where(AuditEvent.user_name == user)
            if action_prefix:
                query = query.where(col(AuditEvent.action).startswith(action_prefix))
            # ts_utc is fixed-width ISO text, so text order is time order.
            if since is not None:
                query = query.where(col(AuditEvent.ts_utc) >= format_utc(since))
            if until is not None:
                query = query.where(col(AuditEvent.ts_utc) < format_utc(until))
            if before_seq is not None:
                query = query.where(col(AuditEvent.seq) < before_seq)
            query = query.order_by(col(AuditEvent.seq).desc()).limit(max(1, min(limit, 5000)))
            return [_entry(e) for e in db.exec(query).all()]
