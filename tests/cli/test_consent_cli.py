"""``formulary consent ...`` from an empty database: sign, show, withdraw, pdf, templates.

Every refusal is one line on stderr with exit status 2 and writes nothing.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from db.database import open_database
from db.store import PatientFields, Store
from formulary.consent import DEFAULT_TEMPLATE_TEXT
from formulary.records import Role, Sex
from tui.cli.root import app

PASSWORD = "correct horse battery"


@dataclass
class Clinic:
    location: str
    store: Store


@pytest.fixture
def clinic(tmp_path: Path) -> Iterator[Clinic]:
    location = str(tmp_path / "clinic.db")
    database = open_database(location)  # what `formulary init` makes: no demo
    store = Store(database, workstation="test-ws")
    admin = store.create_first_admin("admin", "Ada Admin", PASSWORD)
    store.create_user(admin, "drlee", "Dr Lee Park", Role.PRACTITIONER, PASSWORD)
    store.create_user(admin, "sam", "Sam Assistant", Role.ASSISTANT, PASSWORD)
    store.create_patient(admin, PatientFields("C-1", "Dubois", "Zoé", date(1985, 5, 6),
                                              Sex.FEMALE))
    try:
        yield Clinic(location, store)
    finally:
        database.dispose()


def run(clinic: Clinic, *args: str, user: str = "drlee",
        password: str = PASSWORD) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        app, ["consent", *args, "--db", clinic.location, "--user", user],
        env={"FORMULARY_PASSWORD": password, "FORMULARY_DB": ""},
    )
    return result.exit_code, result.stdout, result.stderr


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("formulary: "), err
    assert "Traceback" not in err
    return lines[0]


def exports(clinic: Clinic) -> list[tuple[str, str | None, int | None, dict[str, Any]]]:
    """The audit trail's export entries: action, entity id, patient index, after-image."""
    from sqlmodel import Session, select

    from db.tables.audit import AuditEvent

    with Session(clinic.store.database.engine) as db:
        rows = db.exec(select(AuditEvent).order_by(AuditEvent.seq)).all()  # type: ignore[arg-type]
    return [(r.action, r.entity_id, r.patient_id, json.loads(r.after or "{}"))
            for r in rows if r.action.startswith("export.")]


def count_consents(clinic: Clinic) -> int:
    admin = clinic.store.authenticate("admin", PASSWORD)
    return len(clinic.store.consents(admin, clinic.store.find_patient(admin, "C-1").id))


def test_sign_show_withdraw_from_an_empty_database(clinic: Clinic) -> None:
    code, out, err = run(clinic, "sign", "C-1", "--typed-name", "zoe dubois", "--json")
    assert code == 0, err
    signed = json.loads(out)
    assert signed["status"] == "signed" and signed["typed_name"] == "zoe dubois"
    assert signed["witness"] == "drlee" and len(signed["text_sha256"]) == 64
    code, out, _ = run(clinic, "show", "C-1")
    assert code == 0 and f"consent {signed['id']}" in out and "signed" in out
    code, out, _ = run(clinic, "show", "C-1", "--id", str(signed["id"]))
    assert code == 0 and "# Consent to scalp mesotherapy" in out
    assert signed["text_sha256"] in out
    code, out, err = run(clinic, "withdraw", str(signed["id"]), "--reason", "moving abroad")
    assert code == 0, err
    assert "WITHDRAWN" in out and "moving abroad" in out
    code, _, err = run(clinic, "withdraw", str(signed["id"]), "--reason", "again")
    assert code == 2 and "already withdrawn" in one_line(err)


def test_a_wrong_name_says_how_to_type_it_and_writes_nothing(clinic: Clinic) -> None:
    code, _, err = run(clinic, "sign", "C-1", "--typed-name", "Jane Doe")
    line = one_line(err)
    assert code == 2 and "does not match the patient's name Zoé Dubois" in line
    assert "case, accents" in line
    assert count_consents(clinic) == 0


def test_a_wrong_password_is_refused(clinic: Clinic) -> None:
    code, _, err = run(clinic, "sign", "C-1", "--typed-name", "Zoé Dubois",
                       password="not the password")
    assert code == 2 and one_line(err)
    assert count_consents(clinic) == 0


def test_bad_input_is_one_line_exit_2(clinic: Clinic) -> None:
    cases = [
        (("sign", "C-1", "--typed-name", "Zoé Dubois", "--template", "99"),
         "consent template 99 does not exist"),
        (("sign", "C-404", "--typed-name", "Zoé Dubois"), "no patient has chart number C-404"),
        (("sign", "C-1"), "--typed-name"),
        (("sign", "C-1", "--typed-name", "Zoé Dubois", "--course", "7"), "course 7"),
        (("withdraw", "5", "--reason", "x"), "consent 5 does not exist"),
        (("withdraw", "5"), "--reason"),
        (("show", "C-1", "--id", "3"), "consent 3 is not one of chart C-1's"),
        (("template", "retire", "1"), "--reason"),
    ]
    for args, expected in cases:
        code, _, err = run(clinic, *args)
        assert code == 2, (args, err)
        assert expected in one_line(err), (args, err)
    code, _, err = run(clinic, "sign", "C-1", "--typed-name", "Zoé Dubois", user="sam")
    assert code == 2 and "cannot witness consents" in one_line(err)
    assert count_consents(clinic) == 0


def test_templates_are_managed_by_administrators(clinic: Clinic, tmp_path: Path) -> None:
    code, out, _ = run(clinic, "template", "list", user="admin")
    assert code == 0 and "Scalp mesotherapy for hair loss" in out and "v1" in out
    edited = tmp_path / "edited.md"
    edited.write_text(DEFAULT_TEMPLATE_TEXT + "\nAsk us anything.\n", encoding="utf-8")
    code, out, err = run(clinic, "template", "edit", "1", "--file", str(edited), user="admin")
    assert code == 0 and "v2" in out, err
    code, _, err = run(clinic, "template", "edit", "1", "--file", str(edited))
    assert code == 2 and "drlee is a practitioner and cannot manage consent templates" in (
        one_line(err))
    short = tmp_path / "short.md"
    short.write_text("Sign here.", encoding="utf-8")
    code, _, err = run(clinic, "template", "add", "Short", "--file", str(short), user="admin")
    assert code == 2 and "does not name these known effects" in one_line(err)
    code, _, err = run(clinic, "template", "add", "Missing", "--file",
                       str(tmp_path / "nope.md"), user="admin")
    assert code == 2 and "does not exist" in one_line(err)
    code, out, err = run(clinic, "template", "add", "Second", user="admin")
    assert code == 0, err
    code, _, err = run(clinic, "sign", "C-1", "--typed-name", "Zoé Dubois")
    assert code == 2 and "choose one with --template" in one_line(err)
    code, out, _ = run(clinic, "template", "show", "1", "--version", "1")
    assert code == 0 and "Ask us anything" not in out
    code, out, err = run(clinic, "template", "retire", "2", "--reason", "duplicate",
                         user="admin")
    assert code == 0, err
    code, out, err = run(clinic, "sign", "C-1", "--typed-name", "Zoé Dubois", "--json")
    assert code == 0 and json.loads(out)["template_version"] == 2, err


def test_the_consent_pdf_carries_the_text_the_name_and_the_hash(
    clinic: Clinic, tmp_path: Path
) -> None:
    code, out, _ = run(clinic, "sign", "C-1", "--typed-name", "Zoé Dubois", "--json")
    signed = json.loads(out)
    target = tmp_path / "consent.pdf"
    code, out, err = run(clinic, "pdf", str(signed["id"]), "--out", str(target))
    assert code == 0, err
    assert target.stat().st_mode & 0o777 == 0o600
    reader = PdfReader(io.BytesIO(target.read_bytes()))
    text = re.sub(r"\s+", "", "".join(page.extract_text() for page in reader.pages))
    for expected in ("Consenttotreatment", "DUBOIS,Zoé", "Temporaryshedding", "Bruising",
                     "Alternatives", "Typedname", "ZoéDubois", "DrLeePark",
                     signed["text_sha256"]):
        assert expected in text, expected
    # The entry names the file as written (not the name the app would have proposed).
    [(action, _, _, after)] = exports(clinic)
    assert action == "export.consent" and after["files"][0]["name"] == "consent.pdf"
    assert after["files"][0]["sha256"] == hashlib.sha256(target.read_bytes()).hexdigest()
    code, _, err = run(clinic, "pdf", str(signed["id"]), "--out", str(target))
    assert code == 2 and "already exists" in one_line(err)
    assert len(exports(clinic)) == 1


def test_a_scanned_form_is_kept_by_its_hash_and_copied_back(
    clinic: Clinic, tmp_path: Path
) -> None:
    import hashlib
    import stat

    scan = tmp_path / "paper-consent.pdf"
    scan.write_bytes(b"%PDF-1.4 scanned paper consent\n" * 100)
    code, _, err = run(clinic, "sign", "C-1", "--typed-name", "Zoé Dubois", "--form",
                       str(tmp_path / "missing.pdf"))
    assert code == 2 and "does not exist" in one_line(err)
    assert count_consents(clinic) == 0
    code, out, err = run(clinic, "sign", "C-1", "--typed-name", "Zoé Dubois", "--form",
                         str(scan), "--json")
    assert code == 0, err
    signed = json.loads(out)
    digest = hashlib.sha256(scan.read_bytes()).hexdigest()
    assert signed["form_sha256"] == digest and signed["form_name"] == "paper-consent.pdf"
    kept = Path(clinic.location + ".files") / digest
    assert kept.read_bytes() == scan.read_bytes()
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert stat.S_IMODE(kept.parent.stat().st_mode) == 0o700
    copy = tmp_path / "copy.pdf"
    before = exports(clinic)
    code, _, err = run(clinic, "form", str(signed["id"]), "--out", str(copy))
    assert code == 0 and copy.read_bytes() == scan.read_bytes(), err
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    # Reading the patient's scan out is an export of their data: audited like one.
    [(action, entity_id, patient_id, after)] = exports(clinic)[len(before):]
    patient = clinic.store.find_patient(clinic.store.authenticate("admin", PASSWORD), "C-1")
    assert (action, entity_id, patient_id) == ("export.consent_form", str(signed["id"]),
                                               patient.id)
    assert after["files"] == [{"name": "copy.pdf", "bytes": len(scan.read_bytes()),
                               "sha256": digest}]
    assert after["chart_number"] == "C-1" and after["form_name"] == "paper-consent.pdf"
    before = exports(clinic)
    kept.chmod(0o600)
    kept.write_bytes(b"swapped")
    code, _, err = run(clinic, "form", str(signed["id"]), "--out", str(copy), "--force")
    assert code == 2 and "no longer matches its recorded SHA-256" in one_line(err)
    assert exports(clinic) == before and copy.read_bytes() == scan.read_bytes()


def test_a_consent_form_not_written_leaves_no_entry_and_a_failed_entry_no_file(
    clinic: Clinic, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    import sqlalchemy as sa

    import db.engine as engines
    import tui.export_files as export_files

    scan = tmp_path / "paper-consent.pdf"
    scan.write_bytes(b"%PDF-1.4 scanned paper consent\n" * 100)
    code, out, err = run(clinic, "sign", "C-1", "--typed-name", "Zoé Dubois", "--form",
                         str(scan), "--json")
    assert code == 0, err
    consent_id = str(json.loads(out)["id"])
    folder = tmp_path / "out"
    folder.mkdir()
    before = exports(clinic)

    class FullDisk:
        """``os`` as the file writer sees it on a full disk: the data's fsync fails."""

        def __getattr__(self, name: str) -> Any:
            return getattr(os, name)

        @staticmethod
        def fsync(_fd: int) -> None:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with monkeypatch.context() as patch:
        patch.setattr(export_files, "os", FullDisk())
        code, _, err = run(clinic, "form", consent_id, "--out", str(folder / "form.pdf"))
    assert code == 6 and "No space left on device" in one_line(err)
    assert list(folder.iterdir()) == [] and exports(clinic) == before

    real = engines.make_engine

    def full_database(location: Any) -> sa.Engine:
        engine = real(location)

        @sa.event.listens_for(engine, "commit")
        def _no_room(_conn: Any) -> None:
            if list(folder.iterdir()):  # the scan's copy is written: its entry fails
                raise sa.exc.OperationalError(
                    "COMMIT", None, Exception("database or disk is full"))

        return engine

    with monkeypatch.context() as patch:
        patch.setattr(engines, "make_engine", full_database)
        code, _, err = run(clinic, "form", consent_id, "--out", str(folder / "form.pdf"))
    assert code == 2 and "database or disk is full" in one_line(err)
    assert list(folder.iterdir()) == [] and exports(clinic) == before
