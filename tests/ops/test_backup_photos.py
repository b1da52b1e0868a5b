"""Backups carry the photo files; restore brings them back, each checked by SHA-256."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from db.database import open_database
from db.ops.backup import files_folder_of, manifest_path_of
from db.store import PatientFields, Store
from formulary.records import Sex
from tests.photos import images
from tui.cli.main import app

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def _env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORMULARY_KEY_DIR", str(tmp_path / "keys"))
    monkeypatch.delenv("FORMULARY_FILES_DIR", raising=False)
    monkeypatch.delenv("FORMULARY_DB", raising=False)


def run(*args: str, stdin: str = PASSWORD + "\n") -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), input=stdin)
    return result.exit_code, result.stdout, result.stderr


def _clinic_with_photos(location: Path) -> list[str]:
    code, _, err = run("init", "--db", str(location), "--admin", "admin", "--password-stdin",
                       stdin=f"{PASSWORD}\n{PASSWORD}\n")
    assert code == 0, err
    database = open_database(location)
    try:
        store = Store(database)
        admin = store.authenticate("admin", PASSWORD)
        patient = store.create_patient(admin, PatientFields(
            chart_number="B-1", family_name="Back", given_name="Bea",
            date_of_birth=date(1970, 1, 1), sex=Sex.FEMALE))
        outcome = store.record_outcome(admin, patient_id=patient.id,
                                       measured_at=datetime.now(UTC), scale_grade="I")
        return [
            store.attach_photo(admin, data, patient_id=patient.id, view=view,
                               taken_on=date(2026, 5, 1), outcome_id=outcome.id).sha256
            for data, view in ((images.jpeg(), "frontal"), (images.png(), "vertex"))
        ]
    finally:
        database.dispose()


def test_backup_and_restore_round_trip_the_photo_files(tmp_path: Path) -> None:
    live = tmp_path / "clinic" / "formulary.db"
    live.parent.mkdir()
    hashes = _clinic_with_photos(live)
    dest = tmp_path / "backups" / "monday.db"
    dest.parent.mkdir()
    code, out, err = run("backup", str(dest), "--db", str(live), "--user", "admin",
                         "--password-stdin")
    assert code == 0, err
    assert "2 photo file(s) copied" in out
    manifest = json.loads(manifest_path_of(dest).read_text())
    assert manifest["version"] == 2
    assert sorted(f["sha256"] for f in manifest["files"]) == sorted(hashes)
    assert sorted(p.name for p in files_folder_of(dest).iterdir()) == sorted(hashes)

    # Lose every photo of the live clinic, then restore in place.
    shutil.rmtree(live.with_name(live.name + ".files"))
    code, out, _ = run("audit", "verify", "--db", str(live))
    assert code == 4 and "folder" in out and "missing" in out
    code, out, err = run("restore", str(dest), "--db", str(live), "--user", "admin",
                         "--password-stdin")
    assert code == 0, err
    assert "2 photo file(s) restored" in out
    folder = live.with_name(live.name + ".files")
    assert sorted(p.name for p in folder.iterdir()) == sorted(hashes)
    code, out, _ = run("audit", "verify", "--db", str(live))
    assert code == 0, out
    assert "2 stored files re-hashed and intact" in out

    # On another machine: a new location, files beside it.
    elsewhere = tmp_path / "new" / "copy.db"
    code, out, err = run("restore", str(dest), "--db", str(elsewhere), "--user", "admin",
                         "--password-stdin")
    assert code == 0, err
    assert sorted(p.name for p in elsewhere.with_name("copy.db.files").iterdir()) == sorted(
        hashes
    )


def test_a_damaged_photo_in_the_backup_is_refused_before_anything_changes(
    tmp_path: Path,
) -> None:
    live = tmp_path / "formulary.db"
    hashes = _clinic_with_photos(live)
    dest = tmp_path / "b.db"
    code, _, err = run("backup", str(dest), "--db", str(live), "--user", "admin",
                       "--password-stdin")
    assert code == 0, err
    (files_folder_of(dest) / hashes[0]).write_bytes(b"swapped")
    before = live.read_bytes()
    code, _, err = run("restore", str(dest), "--db", str(live), "--user", "admin",
                       "--password-stdin")
    assert code != 0 and "photo file" in err and err.count("\n") == 1
    assert live.read_bytes() == before


def test_a_photo_already_damaged_is_named_by_the_backup(tmp_path: Path) -> None:
    live = tmp_path / "formulary.db"
    hashes = _clinic_with_photos(live)
    (live.with_name("formulary.db.files") / hashes[1]).unlink()
    dest = tmp_path / "b.db"
    code, out, err = run("backup", str(dest), "--db", str(live), "--user", "admin",
                         "--password-stdin")
    assert code == 0, err
    assert "1 photo file(s) were already missing" in out
    manifest = json.loads(manifest_path_of(dest).read_text())
    assert manifest["files_missing"] == [hashes[1]]
