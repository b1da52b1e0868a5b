"""Printing a syringe label from the database: who prepared it, audited, the CLI."""

from __future__ import annotations

import io
import json
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader
from sqlmodel import Session, col, select

from db.database import Database
from db.errors import NotFound, PermissionDenied, ValidationError
from db.ops.label import EXPORT_LABEL, print_label
from db.tables.audit import AuditEvent
from formulary.records import Role
from tests.export_db.clinic import PASSWORD, Clinic
from tui.export_files import to_file

pytestmark = pytest.mark.storage
ZONE = ZoneInfo("America/New_York")


def test_label_names_the_preparer_and_is_audited(
    clinic: Clinic, database: Database, tmp_path: Path
) -> None:
    session_id = clinic.session_ids[0]
    clinic.store.set_clinic_settings(clinic.admin, beyond_use_minutes=45)
    path = tmp_path / "label.pdf"
    result = print_label(clinic.store, clinic.doctor, session_id, to_file(path),
                         size="4x6", zone=ZONE)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = " ".join(PdfReader(io.BytesIO(path.read_bytes())).pages[0].extract_text().split())
    # The session's author (the assistant) prepared it, not the doctor printing the label.
    assert "by Maja Lind, RN" in text and "Martín-Pérez" not in text
    assert f"SESSION-{session_id}" in text and "C-0001" in text
    assert (result.label.beyond_use - result.label.prepared_at).total_seconds() == 45 * 60
    assert result.label.prepared_at.tzinfo is ZONE
    with Session(database.engine) as db:
        last = db.exec(select(AuditEvent).order_by(col(AuditEvent.seq).desc())).first()
    assert last is not None and last.seq == result.audit_seq and last.action == EXPORT_LABEL
    assert json.loads(last.after or "{}")["size"] == "4x6"


def test_bad_requests_are_refused_and_audit_nothing(
    clinic: Clinic, database: Database, tmp_path: Path
) -> None:
    with Session(database.engine) as db:
        before = len(db.exec(select(AuditEvent)).all())
    with pytest.raises(NotFound, match="session 999999"):
        print_label(clinic.store, clinic.doctor, 999_999, to_file(tmp_path / "x.pdf"),
                    size="62x29", zone=ZONE)
    with pytest.raises(ValidationError, match="label size"):
        print_label(clinic.store, clinic.doctor, clinic.session_ids[0],
                    to_file(tmp_path / "x.pdf"), size="A7", zone=ZONE)
    auditor = clinic.store.create_user(clinic.admin, "aud", "Audrey", Role.AUDITOR, PASSWORD)
    with pytest.raises(PermissionDenied):
        print_label(clinic.store, clinic.store.authenticate(auditor.username, PASSWORD),
                    clinic.session_ids[0], to_file(tmp_path / "x.pdf"), size="62x29",
                    zone=ZONE)
    assert not (tmp_path / "x.pdf").exists()
    with Session(database.engine) as db:
        actions = [e.action for e in db.exec(select(AuditEvent)).all()[before:]]
    assert EXPORT_LABEL not in actions


def test_cli_label(clinic: Clinic, database: Database, tmp_path: Path,
                   cli: Callable[..., Any]) -> None:
    location = str(database.path) if database.path else database.url
    session_id = clinic.session_ids[1]
    out = tmp_path / "labels"
    out.mkdir()
    run = cli(["label", str(session_id), "-o", str(out), "--size", "a4-24", "--copies", "2",
               "--db", location, "--user", "drmartin", "--password-stdin", "--json"],
              input=f"{PASSWORD}\n")
    assert run.exit_code == 0, run.output
    report = json.loads(run.output)
    assert report["code"] == f"SESSION-{session_id}"
    assert (out / f"session-{session_id}-label.pdf").exists()
    again = cli(["label", str(session_id), "-o", str(out), "--db", location,
                 "--user", "drmartin", "--password-stdin"], input=f"{PASSWORD}\n")
    assert again.exit_code == 2 and "--force" in again.output
    bad = cli(["label", str(session_id), "--size", "huge", "--db", location,
               "--user", "drmartin", "--password-stdin"], input=f"{PASSWORD}\n")
    assert bad.exit_code == 2 and "unknown label size" in bad.output
    missing = cli(["label", "999999", "-o", str(tmp_path / "m.pdf"), "--db", location,
                   "--user", "drmartin", "--password-stdin"], input=f"{PASSWORD}\n")
    assert missing.exit_code != 0 and "session 999999" in missing.output
    assert "Traceback" not in missing.output
