"""A consent's scanned paper form travels with backups like a photo, checked by SHA-256."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from db.database import open_database
from db.ops.backup import files_folder_of, manifest_path_of
from db.store import PatientFields, Store
from formulary.records import Sex
from tui.cli.root import app

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def _env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORMULARY_KEY_DIR", str(tmp_path / "keys"))
    monkeypatch.delenv("FORMULARY_FILES_DIR", raising=False)
    monkeypatch.delenv("FORMULARY_DB", raising=False)


def run(*args: str, stdin: str = PASSWORD + "\n") -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_backup_and_restore_bring_back_the_scanned_consent_form(tmp_path: Path) -> None:
    live = tmp_path / "clinic" / "formulary.db"
    live.parent.mkdir()
    code, _, err = run("init", "--db", str(live), "--admin", "admin", "--password-stdin",
                       stdin=f"{PASSWORD}\n{PASSWORD}\n")
    assert code == 0, err
    scan = tmp_path / "signed-paper.pdf"
    scan.write_bytes(b"%PDF-1.4 the paper consent, scanned\n" * 40)
    database = open_database(live)
    try:
        store = Store(database)
        admin = store.authenticate("admin", PASSWORD)
        patient = store.create_patient(admin, PatientFields(
            chart_number="B-1", family_name="Back", given_name="Bea",
            date_of_birth=date(1970, 1, 1), sex=Sex.FEMALE))
        template = store.consent_templates(admin)[0]
        signed = store.sign_consent(admin, patient_id=patient.id, template_id=template.id,
                                    typed_name="Bea Back", password=PASSWORD, form=scan)
    finally:
        database.dispose()
    assert signed.form_sha256 is not None
    dest = tmp_path / "backups" / "monday.db"
    dest.parent.mkdir()
    code, _, err = run("backup", str(dest), "--db", str(live), "--user", "admin",
                       "--password-stdin")
    assert code == 0, err
    manifest = json.loads(manifest_path_of(dest).read_text())
    assert [f["sha256"] for f in manifest["files"]] == [signed.form_sha256]
    assert (files_folder_of(dest) / signed.form_sha256).read_bytes() == scan.read_bytes()

    shutil.rmtree(live.with_name(live.name + ".files"))
    code, out, _ = run("audit", "verify", "--db", str(live))
    assert code == 4 and "missing" in out
    code, _, err = run("restore", str(dest), "--db", str(live), "--force", "--user", "admin",
                       "--password-stdin")
    assert code == 0, err
    kept = live.with_name(live.name + ".files") / signed.form_sha256
    assert kept.read_bytes() == scan.read_bytes()
    code, out, _ = run("audit", "verify", "--db", str(live))
    assert code == 0, out
