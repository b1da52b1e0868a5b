"""``export all --format ndjson``: the whole clinic as FHIR Bulk Data files, streamed.

The layout is the FHIR Bulk Data Access one: one newline-delimited JSON file per
resource type (``Patient.ndjson``, ``MedicationAdministration.ndjson`` …), each line
one resource, and an output manifest (``manifest.json``) in the shape of the Bulk
Data status response (``transactionTime``, ``request``, ``requiresAccessToken``,
``output`` with ``type``/``url``/``count``, ``error``) whose ``extension`` carries the
audit checkpoint line, the FHIR version and each file's SHA-256.

The export reads the clinic in one read-only transaction (a snapshot: repeatable read
on PostgreSQL, a read transaction on SQLite) that also signs the checkpoint, so the
files are exactly the record as of the checkpoint's sequence number, however long the
export runs and whatever is written meanwhile. Charts are loaded, converted and
written one at a time, so memory does not grow with the clinic. Resources every chart
shares (the clinic's Organization, the Practitioners) are written once.

When every file is written, one ``export.bulk`` entry is appended (format, patients,
files with sizes and SHA-256, the checkpoint line) and the files are moved into place
inside that write transaction: either the files exist and the export is audited, or
neither. Unsigned drafts are left out, as in the document bundles.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from sqlmodel import Session, col, select

from db.audit.chain import append_event
from db.audit.checkpoint import make_checkpoint
from db.audit.service import signing_key
from db.loaders import charts as load_charts
from db.store import Actor, Store
from db.store.roles import EVERYONE
from db.tables.people import PatientRow
from formulary.export.fhir_bundle import (
    FHIR_VERSION,
    chart_resources,
    ndjson_lines,
    validate_resource,
)
from formulary.records import Checkpoint

#: Audit action of a bulk export.
EXPORT_BULK = "export.bulk"
#: The manifest's file name.
MANIFEST = "manifest.json"
#: Charts loaded per round of queries (memory stays this many charts).
LOAD_BATCH = 100
#: One chart in this many has its resources checked against the FHIR models.
VALIDATE_EVERY = 500
#: Resource types written, in this order (Bulk Data lists files by type).
RESOURCE_TYPES = (
    "Patient", "Organization", "Practitioner", "AllergyIntolerance", "Condition",
    "Medication", "MedicationAdministration", "Provenance", "Observation",
)
#: Resource types every chart of the clinic shares; each is written once.
_SHARED = frozenset({"Organization", "Practitioner"})


class Staging(Protocol):
    """Where a bulk export's files go (``tui.export_files.StagedFolder``)."""

    def open(self, name: str) -> BinaryIO:
        """A temporary file that becomes ``name`` on :meth:`publish`."""
        ...

    def publish(self) -> Sequence[Path]:
        """Sync and move every file into place; the paths written."""
        ...

    def discard(self) -> None:
        """Remove every file, published or not."""
        ...


@dataclass(frozen=True, slots=True)
class BulkResult:
    """What a bulk export wrote."""

    patients: int
    counts: dict[str, int]
    files: list[Path]
    checkpoint: Checkpoint
    audit_seq: int


def file_name(resource_type: str) -> str:
    """The NDJSON file of one resource type (``Patient.ndjson``)."""
    return f"{resource_type}.ndjson"


def bulk_file_names() -> list[str]:
    """Every file a bulk export may write (those with no resources are left out)."""
    return [file_name(t) for t in RESOURCE_TYPES] + [MANIFEST]


class _Writer:
    """Counts, hashes and writes NDJSON lines into one staged file per resource type."""

    def __init__(self, staging: Staging) -> None:
        self.staging = staging
        self.handles: dict[str, BinaryIO] = {}
        self.hashes: dict[str, Any] = {}  # hashlib objects
        self.sizes: dict[str, int] = {}
        self.counts: dict[str, int] = {}
        self.shared_seen: set[str] = set()

    def write(self, kind: str, resource_id: str, line: bytes) -> None:
        if kind in _SHARED:
            key = f"{kind}/{resource_id}"
            if key in self.shared_seen:
                return
            self.shared_seen.add(key)
        handle = self.handles.get(kind)
        if handle is None:
            handle = self.handles[kind] = self.staging.open(file_name(kind))
            self.hashes[kind] = hashlib.sha256()
            self.sizes[kind] = 0
            self.counts[kind] = 0
        handle.write(line)
        self.hashes[kind].update(line)
        self.sizes[kind] += len(line)
        self.counts[kind] += 1

    def order(self) -> list[str]:
        known = [t for t in RESOURCE_TYPES if t in self.counts]
        return known + sorted(t for t in self.counts if t not in RESOURCE_TYPES)


def _snapshot(db: Session) -> None:
    # One consistent view for the whole export: PostgreSQL's default (read committed)
    # would let a long export see rows committed after its checkpoint.
    if db.get_bind().dialect.name == "postgresql":
        db.connection(execution_options={"isolation_level": "REPEATABLE READ"})


def _patient_ids(db: Session) -> list[int]:
    rows = db.exec(
        select(PatientRow.id)
        .where(col(PatientRow.deleted_at).is_(None))
        .order_by(col(PatientRow.id))
    ).all()
    return [int(r) for r in rows if r is not None]


def export_ndjson(
    store: Store,
    actor: Actor,
    staging: Staging,
    *,
    key_dir: Path | str | None = None,
    progress: Callable[[int, int], None] | None = None,
    request: str = "formulary export all --format ndjson",
) -> BulkResult:
    """Write every patient's resources as FHIR Bulk Data NDJSON (see the module notes).

    ``progress(done, total)`` is called after each chart. On any failure the staged
    files are discarded and nothing is audited.
    """
    database = store.database
    key = signing_key(database, key_dir)
    writer = _Writer(staging)
    try:
        with store.reading(actor, EVERYONE, "export the clinic") as db:
            _snapshot(db)
            checkpoint = make_checkpoint(db, database.db_id, key)
            ids = _patient_ids(db)
            for first in range(0, len(ids), LOAD_BATCH):
                batch = ids[first:first + LOAD_BATCH]
                rows = db.exec(select(PatientRow).where(col(PatientRow.id).in_(batch))
                               .order_by(col(PatientRow.id))).all()
                charts = load_charts(db, rows, workstation=store.workstation)
                db.expunge_all()  # the identity map holds nothing we still need
                for n, chart in enumerate(charts, first):
                    chart = replace(chart, exported_at=checkpoint.at, checkpoint=checkpoint)
                    if n % VALIDATE_EVERY == 0:
                        for _, resource in chart_resources(chart, relative=True):
                            validate_resource(resource)
                    for kind, resource_id, line in ndjson_lines(chart):
                        writer.write(kind, resource_id, line)
                del charts
                if progress is not None:
                    progress(min(first + LOAD_BATCH, len(ids)), len(ids))
        manifest = _manifest(writer, checkpoint, request)
        staging.open(MANIFEST).write(manifest)
        files = _files_entry(writer, manifest)
        with store.transaction(actor, EVERYONE, "export the clinic") as uow:
            event = append_event(
                uow.session,
                db_id=database.db_id,
                user=uow.user,
                workstation=uow.workstation,
                action=EXPORT_BULK,
                entity="installation",
                entity_id=None,
                before=None,
                after={
                    "format": "ndjson",
                    "patients": len(ids),
                    "fhir_version": FHIR_VERSION,
                    "checkpoint": checkpoint.line,
                    "files": files,
                },
                reason=None,
                now=uow.now,
            )
            written = list(staging.publish())
    except BaseException:
        staging.discard()
        raise
    return BulkResult(
        patients=len(ids),
        counts={t: writer.counts[t] for t in writer.order()},
        files=written,
        checkpoint=checkpoint,
        audit_seq=event.seq,
    )


def _manifest(writer: _Writer, checkpoint: Checkpoint, request: str) -> bytes:
    import json

    body = {
        "transactionTime": checkpoint.at.isoformat().replace("+00:00", "Z"),
        "request": request,
        "requiresAccessToken": False,
        "output": [
            {"type": t, "url": file_name(t), "count": writer.counts[t]}
            for t in writer.order()
        ],
        "error": [],
        "extension": {
            "fhirVersion": FHIR_VERSION,
            "checkpoint": checkpoint.line,
            "sha256": {file_name(t): writer.hashes[t].hexdigest() for t in writer.order()},
        },
    }
    return (json.dumps(body, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _files_entry(writer: _Writer, manifest: bytes) -> list[dict[str, object]]:
    files: list[dict[str, object]] = [
        {"name": file_name(t), "bytes": writer.sizes[t], "resources": writer.counts[t],
         "sha256": writer.hashes[t].hexdigest()}
        for t in writer.order()
    ]
    files.append({"name": MANIFEST, "bytes": len(manifest),
                  "sha256": hashlib.sha256(manifest).hexdigest()})
    return files


def iter_ndjson(path: Path) -> Iterator[dict[str, object]]:
    """The resources of one NDJSON file, one line at a time (for readers and tests)."""
    import json

    with path.open("rb") as handle:
        for number, line in enumerate(handle, 1):
            if line.strip():
                data = json.loads(line)
                if not isinstance(data, dict):
                    raise ValueError(f"{path.name} line {number} is not a JSON object")
                yield data

