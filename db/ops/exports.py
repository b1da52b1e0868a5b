"""Chart exports: load, stamp with a fresh checkpoint, render, deliver and audit at once.

One export is one write transaction (so one writer at a time, BEGIN IMMEDIATE on
SQLite, the append lock on PostgreSQL):

1. the patient's chart is loaded inside it, so what is exported is exactly the record
   as of the checkpoint's sequence number;
2. the chain's head is signed into a checkpoint (and appended to the installation's
   checkpoint log) and put on the chart;
3. the renderers in :mod:`formulary.export` turn the stamped chart into files;
4. the caller's ``deliver`` writes the files, still inside the transaction;
5. an ``export.chart`` (or ``export.session``) entry is appended, recording the
   format, each file's name, size and SHA-256 and the checkpoint line; it is the very
   next entry after the checkpoint (a batch's entries follow it in order, written
   together), and the transaction commits. If delivering fails nothing is audited; if
   committing fails, the delivered files are removed again. Either the files exist
   and the export is audited, or neither.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from sqlmodel import col, select

from db.audit.chain import read_head
from db.audit.checkpoint import make_checkpoint
from db.audit.service import signing_key
from db.audit.signatures import check_sessions_of
from db.errors import NotFound, ValidationError
from db.loaders import chart as load_chart_rows
from db.loaders import charts as load_charts
from db.ops.bulk import BulkWriter
from db.store import Actor, Store, UnitOfWork
from db.store.roles import EVERYONE
from db.tables.people import PatientRow
from db.tables.sessions import SessionRow
from formulary.export.formats import BULK_FORMATS, FORMATS, render_files
from formulary.export.selection import SessionNotInChart
from formulary.records import Checkpoint, Patient, PatientChart

#: Audit actions of the exports.
EXPORT_CHART = "export.chart"
EXPORT_SESSION = "export.session"
#: A bulk export checks one FHIR bundle in this many against the models.
VALIDATE_EVERY = 500
#: Charts exported per transaction (and per checkpoint) by :func:`export_all`.
BATCH = 50


@dataclass(frozen=True, slots=True)
class ExportResult:
    """What one export produced (``audit_seq`` is 0 until the entry is appended)."""

    chart_number: str
    patient_id: int
    session_id: int | None
    format: str
    files: dict[str, bytes]
    checkpoint: Checkpoint
    audit_seq: int


#: Writes an export's files (still inside its transaction); returns the paths written,
#: which are removed again if the transaction then fails to commit.
Deliver = Callable[[ExportResult], Sequence[Path]]


def _check_format(fmt: str, allowed: Sequence[str]) -> None:
    if fmt not in allowed:
        raise ValidationError(
            f"cannot export as {fmt!r}; choose one of {', '.join(allowed)}"
        )


def export_chart(
    store: Store,
    actor: Actor,
    chart_number: str,
    fmt: str,
    deliver: Deliver,
    *,
    key_dir: Path | str | None = None,
) -> ExportResult:
    """Export the chart of the patient with ``chart_number`` (see the module notes)."""
    _check_format(fmt, FORMATS)
    patient = store.find_patient(actor, chart_number)  # role check and one clear NotFound
    return _export(store, actor, patient.id, fmt, deliver, None, key_dir)


def export_session(
    store: Store,
    actor: Actor,
    session_id: int,
    fmt: str,
    deliver: Deliver,
    *,
    key_dir: Path | str | None = None,
) -> ExportResult:
    """Export one session's note (its formulation version, course and outcomes)."""
    _check_format(fmt, FORMATS)
    patient = session_patient(store, actor, session_id)
    return _export(store, actor, patient.id, fmt, deliver, session_id, key_dir)


def patients_on_file(store: Store, actor: Actor) -> list[Patient]:
    """Every patient on file (not deleted), in the patient list's order."""
    found: list[Patient] = []
    page = 1000
    while True:
        batch = store.list_patients(actor, "", limit=page, offset=len(found))
        found.extend(batch)
        if len(batch) < page:
            return found


def session_patient(store: Store, actor: Actor, session_id: int) -> Patient:
    """The patient a session belongs to (NotFound for an unknown or deleted session)."""
    with store.reading(actor, EVERYONE, "export sessions") as db:
        row = db.get(SessionRow, session_id)
        if row is None or row.deleted_at is not None:
            raise NotFound(f"session {session_id} does not exist; check the session number")
        patient_id = row.patient_id
    return store.get_patient(actor, patient_id)


def export_all(
    store: Store,
    actor: Actor,
    fmt: str,
    deliver: Deliver,
    *,
    key_dir: Path | str | None = None,
    patients: Sequence[Patient] | None = None,
    batch: int = BATCH,
    before_commit: Callable[[], None] | None = None,
) -> Iterator[ExportResult]:
    """Export every patient's chart, each its own audited export, as a generator.

    Patients are exported in batches of ``batch``: one write transaction and one
    checkpoint per batch (made when the batch is read, so every chart in it is the
    record as of that checkpoint), then per patient the rendered files, an
    ``export.chart`` entry and the delivery. A batch holds the write lock for a
    fraction of a second; paying the checkpoint and the commit once per batch rather
    than once per chart is what makes a clinic-wide export fast. Results are yielded
    as each batch commits (``rich.progress`` friendly); if a batch fails, its files
    are removed and nothing of it is audited. ``patients`` (from
    :func:`patients_on_file`) saves listing them twice. ``before_commit`` runs at the
    end of each batch, inside its transaction (the CLI makes the folder durable there,
    once per batch rather than once per file).
    """
    _check_format(fmt, BULK_FORMATS)
    listed = list(patients) if patients is not None else patients_on_file(store, actor)
    for first in range(0, len(listed), max(1, batch)):
        ids = [p.id for p in listed[first:first + max(1, batch)]]
        # Every bundle is built the same way; checking a sample against the FHIR
        # models (the first, then one in VALIDATE_EVERY) catches a wrong shape
        # without paying the models' cost on every chart.
        sample = {pid for n, pid in enumerate(ids, first) if n % VALIDATE_EVERY == 0}
        yield from _export_many(store, actor, ids, fmt, deliver, key_dir, sample,
                                before_commit=before_commit)


def _export(
    store: Store,
    actor: Actor,
    patient_id: int,
    fmt: str,
    deliver: Deliver,
    session_id: int | None,
    key_dir: Path | str | None,
) -> ExportResult:
    (result,) = _export_many(store, actor, [patient_id], fmt, deliver, key_dir, {patient_id},
                             session_id=session_id, compact=False)
    return result


def _export_many(
    store: Store,
    actor: Actor,
    patient_ids: Sequence[int],
    fmt: str,
    deliver: Deliver,
    key_dir: Path | str | None,
    validate: set[int],
    *,
    session_id: int | None = None,
    compact: bool = True,
    before_commit: Callable[[], None] | None = None,
) -> list[ExportResult]:
    database = store.database
    key = signing_key(database, key_dir)
    delivered: list[Path] = []
    results: list[ExportResult] = []
    try:
        with store.transaction(actor, EVERYONE, "export charts") as uow:
            checkpoint = make_checkpoint(uow.session, database.db_id, key, now=uow.now)
            # A signed session edited behind the application's back is never exported
            # under its original signature (and a fresh checkpoint).
            altered = check_sessions_of(uow.session.connection(), patient_ids)
            if altered:
                raise ValidationError(
                    f"{altered[0]}: the record was changed behind the application's back, "
                    "so it is not exported; nothing was written. Run `formulary audit "
                    "verify` and restore the newest backup"
                )
            loaded = _load_many(store, uow, patient_ids)
            # The batch's entries are chained and written together after its charts
            # (one head read and one insert instead of three statements per chart);
            # we hold the append lock, so the n-th entry is the head's sequence + n.
            connection = uow.session.connection()
            head, _ = read_head(connection)
            entries = BulkWriter(connection, db_id=database.db_id, user=uow.user,
                                 workstation=uow.workstation, now=uow.now)
            for n, (patient_id, chart) in enumerate(zip(patient_ids, loaded, strict=True), 1):
                stamped = replace(chart, exported_at=checkpoint.at, checkpoint=checkpoint)
                if fmt == "pdf" and chart.photos:
                    stamped = replace(stamped, photo_files=_photo_files(store, chart))
                try:
                    files = render_files(stamped, fmt, session_id=session_id,
                                         validate=patient_id in validate, compact=compact)
                except SessionNotInChart as exc:
                    raise NotFound(str(exc)) from exc
                entries.audit(
                    EXPORT_SESSION if session_id is not None else EXPORT_CHART,
                    "treatment_session" if session_id is not None else "patient",
                    session_id if session_id is not None else patient_id,
                    {
                        "format": fmt,
                        "patient_id": patient_id,
                        "chart_number": chart.patient.chart_number,
                        "checkpoint": checkpoint.line,
                        "files": [
                            {"name": name, "bytes": len(data),
                             "sha256": hashlib.sha256(data).hexdigest()}
                            for name, data in files.items()
                        ],
                    },
                )
                result = ExportResult(
                    chart_number=chart.patient.chart_number,
                    patient_id=patient_id,
                    session_id=session_id,
                    format=fmt,
                    files=files,
                    checkpoint=checkpoint,
                    audit_seq=head + n,
                )
                delivered.extend(deliver(result))
                results.append(result)
            entries.flush()
            if read_head(connection)[0] != head + len(results):  # pragma: no cover
                raise RuntimeError("the audit chain moved during an export batch")
            if before_commit is not None:
                before_commit()
    except BaseException:
        for path in delivered:
            path.unlink(missing_ok=True)
        raise
    return results


def _photo_files(store: Store, chart: PatientChart) -> dict[str, bytes]:
    """The bytes of the photos the PDF's before/after pages print, each hash-checked.

    A file that is missing or altered is left out; the PDF prints a notice in its
    place (and ``audit verify`` names it).
    """
    from db.files import ManagedFileError
    from formulary.photos import before_after

    out: dict[str, bytes] = {}
    for _view, first, last in before_after(chart.photos):
        for photo in (first, last):
            if photo.sha256 in out:
                continue
            try:
                out[photo.sha256] = store.files.read(photo.sha256)
            except (ManagedFileError, ValueError):
                continue
    return out


def _load_many(store: Store, uow: UnitOfWork, patient_ids: Sequence[int]) -> list[PatientChart]:
    if len(patient_ids) == 1:
        return [_load(store, uow, patient_ids[0])]
    # One query for the batch's patients (not one each), in the order asked for.
    found = {
        row.id: row
        for row in uow.session.exec(
            select(PatientRow).where(col(PatientRow.id).in_(patient_ids))
        ).all()
        if row.deleted_at is None
    }
    missing = [pid for pid in patient_ids if pid not in found]
    if missing:
        raise NotFound(f"patient {missing[0]} does not exist; pick one from the list")
    rows = [found[pid] for pid in patient_ids]
    charts = load_charts(uow.session, rows, workstation=store.workstation)
    uow.session.expunge_all()  # a batch's rows are not needed again
    return charts


def _load(store: Store, uow: UnitOfWork, patient_id: int) -> PatientChart:
    row = uow.get(PatientRow, patient_id, "patient")
    return load_chart_rows(uow.session, row, workstation=store.workstation)
