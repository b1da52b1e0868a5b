"""Printing a consent for the patient: load it, render the PDF, audit the print.

A consent PDF names the patient, so printing one is recorded like an export: one
transaction loads the consent and the patient's chart, renders the PDF, appends an
``export.consent`` entry (consent, patient, the file's SHA-256) and has the caller's
``deliver`` write the file before the entry commits (``formulary consent pdf`` and the
app's consent screen, f4): a file and its entry, or neither.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import tzinfo
from pathlib import Path

from db.audit.chain import append_event
from db.errors import NotFound
from db.loaders import chart as load_chart_rows
from db.store import Actor, Store
from db.store.roles import EVERYONE
from db.tables.consent import ConsentRow
from db.tables.people import PatientRow
from formulary.export.consent_pdf import render_consent_pdf

#: Audit action of a printed consent.
EXPORT_CONSENT = "export.consent"


def consent_file_name(consent_id: int) -> str:
    """The file name the app proposes for a consent's PDF."""
    return f"consent-{consent_id}.pdf"


def consent_pdf(store: Store, actor: Actor, consent_id: int, *,
                deliver: Callable[[bytes], Path], zone: tzinfo | None = None) -> bytes:
    """The PDF of consent ``consent_id`` (any signed-in user), its printing audited.

    ``deliver`` writes the bytes (returning the file it wrote, whose name the entry
    records) inside the transaction, before the ``export.consent`` entry commits, as
    chart exports do: if writing fails nothing is audited, and if the commit fails the
    file is removed again. It is
    required: a print recorded for a file its caller might not write would be a false
    entry.
    """
    from dataclasses import replace

    delivered: Path | None = None
    try:
        with store.transaction(actor, EVERYONE, "print consents") as uow:
            row = uow.session.get(ConsentRow, consent_id)
            if row is None:
                raise NotFound(f"consent {consent_id} does not exist; list a patient's "
                               "consents with 'formulary consent show CHART'")
            patient = uow.get(PatientRow, row.patient_id, "patient")
            chart = load_chart_rows(uow.session, patient, workstation=store.workstation)
            consent = next(c for c in chart.consents if c.id == consent_id)
            course = next((c.name for c in chart.courses if c.id == consent.course_id), "")
            data = render_consent_pdf(replace(chart, exported_at=uow.now), consent,
                                      course_name=course, zone=zone)
            # Written first, so that the entry names the file as it was written (the
            # user may have chosen another name than the proposed one).
            delivered = deliver(data)
            append_event(
                uow.session, db_id=store.database.db_id, user=uow.user,
                workstation=uow.workstation, action=EXPORT_CONSENT, entity="consent",
                entity_id=consent_id, before=None,
                after={"format": "pdf", "patient_id": patient.id,
                       "chart_number": patient.chart_number,
                       "files": [{"name": delivered.name, "bytes": len(data),
                                  "sha256": hashlib.sha256(data).hexdigest()}]},
                reason=None, now=uow.now,
            )
    except BaseException:
        if delivered is not None:
            delivered.unlink(missing_ok=True)
        raise
    return data
