"""Exports from a real database: loaded, stamped, rendered, delivered and audited."""

from __future__ import annotations

import io
import json
import re
import stat
from pathlib import Path

import pytest
from fhir.resources.R4B.bundle import Bundle
from pypdf import PdfReader
from sqlmodel import Session, col, select

from db.audit.checkpoint import find_checkpoints
from db.audit.service import verify_database
from db.database import Database
from db.errors import NotFound, ValidationError
from db.ops.exports import EXPORT_CHART, EXPORT_SESSION, export_all, export_chart, export_session
from db.tables.audit import AuditEvent
from tests.export_db.clinic import Clinic, resource_types
from tui.export_files import to_folder

pytestmark = pytest.mark.storage


def events(database: Database) -> list[AuditEvent]:
    with Session(database.engine) as db:
        return list(db.exec(select(AuditEvent).order_by(col(AuditEvent.seq))).all())


def bare(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.mark.parametrize("fmt", ["pdf", "csv", "fhir", "json"])
def test_export_is_stamped_audited_and_verifiable(
    clinic: Clinic, database: Database, tmp_path: Path, fmt: str
) -> None:
    out = tmp_path / "out"
    result = export_chart(clinic.store, clinic.doctor, "C-0001", fmt, to_folder(out))
    written = sorted(out.iterdir())
    assert [p.name for p in written] == sorted(result.files)
    for path in written:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert path.read_bytes() == result.files[path.name]
    # The export is the entry right after the checkpoint it prints.
    last = events(database)[-1]
    assert last.seq == result.audit_seq == result.checkpoint.seq + 1
    assert last.action == EXPORT_CHART and last.user_name == "drmartin"
    after = json.loads(last.after or "{}")
    assert after["checkpoint"] == result.checkpoint.line and after["format"] == fmt
    assert {f["name"] for f in after["files"]} == set(result.files)
    # Every written file carries a checkpoint line that verifies against the database.
    for path in written:
        found = find_checkpoints(path.read_bytes().decode("utf-8", errors="replace"))
        if path.suffix == ".csv":
            assert found == []
            continue
        assert [c.line for c in found] == [result.checkpoint.line], path.name
    check = verify_database(database, user="tester", checkpoint_files=written_with_lines(written))
    assert check.report.status == "ok", check.report.summary()
    assert check.report.checkpoints_checked >= 1


def written_with_lines(paths: list[Path]) -> list[Path]:
    return [p for p in paths if p.suffix != ".csv"]


def test_pdf_from_the_database_has_every_field(clinic: Clinic, tmp_path: Path) -> None:
    result = export_chart(clinic.store, clinic.doctor, "C-0001", "pdf", to_folder(tmp_path))
    reader = PdfReader(io.BytesIO(result.files["C-0001.pdf"]))
    text = re.sub(r"\s+", " ", "\n".join(p.extract_text() for p in reader.pages))
    for fragment in (
        "MÜLLER, José", "C-0001", "Procaine", "urticaria", "Apixaban 5 mg",
        "Scalp cocktail, version 1",
        "Dutasteride 0.1 mg 0.05 mg/mL", "Dexpanthenol 125 mg 62.5 mg/mL",
        "Biotin 2.5 mg 1.25 mg/mL",
        "Session 1 of 6 (Induction)", "Session 3 of 6 (Induction)",
        "Technique nappage", "Needle 30 G x 4 mm", "Depth 1.5 mm", "Total volume 2 mL",
        "vertex frontal total", "1.2 mL 0.8 mL 2 mL",
        "DUT-µ1 2099-12-31 1 mL", "Adverse events bruising, mild, vertex",
        "Pain score 3/10", "Post-care No washing for 24 h",
        "Signed: Dr Ana Martín-Pérez (drmartin)", "meaning: administered by",
        "Addendum, reason: late entry. Bruise resolved by day 3.",
        "Measured Zone Density Shaft diameter Grade", "130 hairs/cm2", "55 micrometres",
        "Page 1 of",
    ):
        assert fragment in text, fragment
    assert bare(result.checkpoint.line) in bare(text)
    assert len(reader.pages[0].images) + sum(len(p.images) for p in reader.pages[1:]) == 1


def test_session_export(clinic: Clinic, database: Database, tmp_path: Path) -> None:
    session_id = clinic.session_ids[1]
    result = export_session(clinic.store, clinic.doctor, session_id, "fhir", to_folder(tmp_path))
    assert list(result.files) == [f"C-0001-session-{session_id}.fhir.json"]
    bundle = Bundle.model_validate_json(next(iter(result.files.values())))
    kinds = resource_types(bundle)
    assert kinds.count("MedicationAdministration") == 1
    assert kinds.count("Provenance") == 3  # the signature, the addendum and the consent
    last = events(database)[-1]
    assert last.action == EXPORT_SESSION and last.entity_id == str(session_id)


def test_refusals_write_and_audit_nothing(
    clinic: Clinic, database: Database, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    before = len(events(database))
    with pytest.raises(NotFound, match="C-9999"):
        export_chart(clinic.store, clinic.doctor, "C-9999", "pdf", to_folder(out))
    with pytest.raises(ValidationError, match="choose one of pdf, csv, fhir, json"):
        export_chart(clinic.store, clinic.doctor, "C-0001", "docx", to_folder(out))
    with pytest.raises(NotFound, match="session 424242"):
        export_session(clinic.store, clinic.doctor, 424242, "pdf", to_folder(out))

    def broken(_result: object) -> list[Path]:
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space"):
        export_chart(clinic.store, clinic.doctor, "C-0001", "json", broken)
    assert len(events(database)) == before
    assert not out.exists() or list(out.iterdir()) == []


def test_every_patient_bundle_validates(clinic: Clinic, tmp_path: Path) -> None:
    results = list(export_all(clinic.store, clinic.admin, "fhir", to_folder(tmp_path)))
    assert sorted(r.chart_number for r in results) == sorted(clinic.chart_numbers)
    for result in results:
        (data,) = result.files.values()
        bundle = Bundle.model_validate_json(data)
        assert bundle.type == "document"
        assert resource_types(bundle)[0] == "Composition"
    seqs = [r.audit_seq for r in results]
    # One batch: one checkpoint, then one export entry per patient right after it.
    assert len({r.checkpoint.line for r in results}) == 1
    assert seqs == list(range(results[0].checkpoint.seq + 1,
                              results[0].checkpoint.seq + 1 + len(results)))


def test_export_all_takes_a_checkpoint_per_batch(clinic: Clinic, tmp_path: Path) -> None:
    results = list(export_all(clinic.store, clinic.admin, "json", to_folder(tmp_path),
                              batch=1))
    assert len({r.checkpoint.seq for r in results}) == len(results) == 2
    for result in results:
        assert result.audit_seq == result.checkpoint.seq + 1
