"""Printing a syringe label: load the session, render the label, deliver, audit.

A label names the patient, so printing one is recorded like an export: one write
transaction loads the session's chart, renders the PDF, appends an ``export.label``
entry (session, size, copies, the file's SHA-256) and hands the file to ``deliver``;
if delivering fails nothing is audited, and if the commit fails the file is removed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path

from db.audit.chain import append_event
from db.errors import NotFound, ValidationError
from db.loaders import chart as load_chart_rows
from db.store import Actor, Store
from db.store.roles import PREPARERS
from db.tables.people import PatientRow
from db.tables.sessions import SessionRow
from formulary.export.syringe_label import (
    LabelError,
    SyringeLabel,
    label_file_name,
    label_for,
    render_label,
)

#: Audit action of a printed label.
EXPORT_LABEL = "export.label"


@dataclass(frozen=True, slots=True)
class LabelResult:
    """The label that was printed (``files`` is name -> PDF bytes, for ``deliver``)."""

    session_id: int
    label: SyringeLabel
    files: dict[str, bytes]
    audit_seq: int


def print_label(
    store: Store,
    actor: Actor,
    session_id: int,
    deliver: Callable[[LabelResult], Sequence[Path]],
    *,
    size: str,
    zone: tzinfo,
    copies: int = 1,
) -> LabelResult:
    """Render and deliver the syringe label of ``session_id`` (see the module notes).

    ``zone`` is the local time zone the label's times are printed in. Raises
    NotFound for an unknown or deleted session, ValidationError for a bad size or
    copy count.
    """
    delivered: Sequence[Path] = ()
    try:
        with store.transaction(actor, PREPARERS, "print syringe labels") as uow:
            row = uow.session.get(SessionRow, session_id)
            if row is None or row.deleted_at is not None:
                raise NotFound(f"session {session_id} does not exist; check the session number")
            patient = uow.get(PatientRow, row.patient_id, "patient")
            chart = load_chart_rows(uow.session, patient, workstation=store.workstation)
            # Who prepared it, as the chart's exports name them (the session's author).
            record = next((s for s in chart.sessions if s.id == session_id), None)
            preparer = record.prepared_by if record is not None else None
            prepared_by = preparer.full_name if preparer is not None else actor.full_name
            label = label_for(chart, session_id, prepared_by=prepared_by, zone=zone)
            try:
                data = render_label(label, size, copies=copies)
            except LabelError as exc:
                raise ValidationError(str(exc)) from exc
            name = label_file_name(session_id)
            event = append_event(
                uow.session,
                db_id=store.database.db_id,
                user=uow.user,
                workstation=uow.workstation,
                action=EXPORT_LABEL,
                entity="treatment_session",
                entity_id=session_id,
                before=None,
                after={
                    "format": "label",
                    "size": size,
                    "copies": copies,
                    "patient_id": patient.id,
                    "chart_number": patient.chart_number,
                    "files": [{"name": name, "bytes": len(data),
                               "sha256": hashlib.sha256(data).hexdigest()}],
                },
                reason=None,
                now=uow.now,
            )
            result = LabelResult(session_id, label, {name: data}, event.seq)
            delivered = deliver(result)
    except BaseException:
        for path in delivered:
            path.unlink(missing_ok=True)
        raise
    return result
