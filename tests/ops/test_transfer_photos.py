"""``export json`` carries the photo files (the photo records are their manifest);
``import`` brings them back, each checked against its SHA-256, or imports nothing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from db.database import open_database
from db.store import Store
from tests.ops.test_backup_photos import PASSWORD, _clinic_with_photos, _env, run

__all__ = ["_env"]


def _new_clinic(location: Path) -> None:
    code, _, err = run("init", "--db", str(location), "--admin", "admin", "--password-stdin",
                       stdin=f"{PASSWORD}\n{PASSWORD}\n")
    assert code == 0, err


def _photos(location: Path) -> list[str]:
    database = open_database(location)
    try:
        store = Store(database)
        admin = store.authenticate("admin", PASSWORD)
        patient = store.find_patient(admin, "B-1")
        return sorted(p.sha256 for p in store.list_photos(admin, patient.id))
    finally:
        database.dispose()


@pytest.fixture
def exported(tmp_path: Path) -> tuple[Path, list[str]]:
    live = tmp_path / "a" / "formulary.db"
    live.parent.mkdir()
    hashes = _clinic_with_photos(live)
    out = tmp_path / "x" / "clinic.json"
    out.parent.mkdir()
    code, stdout, err = run("export", "json", "--output", str(out), "--db", str(live),
                            "--user", "admin", "--password-stdin")
    assert code == 0, err
    assert "2 photo file(s)" in stdout
    document = json.loads(out.read_text())
    assert sorted(p["sha256"] for p in document["records"]["photos"]) == sorted(hashes)
    assert sorted(p.name for p in (tmp_path / "x" / "clinic.json.files").iterdir()) == sorted(
        hashes
    )
    return out, sorted(hashes)


def test_export_then_import_round_trips_the_photos(
    exported: tuple[Path, list[str]], tmp_path: Path
) -> None:
    out, hashes = exported
    target = tmp_path / "b" / "formulary.db"
    target.parent.mkdir()
    _new_clinic(target)
    code, stdout, err = run("import", str(out), "--db", str(target), "--user", "admin",
                            "--password-stdin")
    assert code == 0, err
    assert "2 photos" in stdout
    assert _photos(target) == hashes
    assert sorted(p.name for p in (target.parent / "formulary.db.files").iterdir()) == hashes
    code, stdout, _ = run("audit", "verify", "--db", str(target))
    assert code == 0, stdout


def test_import_without_the_files_imports_nothing(
    exported: tuple[Path, list[str]], tmp_path: Path
) -> None:
    out, _ = exported
    shutil.rmtree(out.with_name(out.name + ".files"))
    target = tmp_path / "c" / "formulary.db"
    target.parent.mkdir()
    _new_clinic(target)
    code, _, err = run("import", str(out), "--db", str(target), "--user", "admin",
                       "--password-stdin")
    assert code == 2 and "nothing was imported" in err and err.count("\n") == 1
    database = open_database(target)
    try:
        with database.engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT count(*) FROM patient").scalar() == 0
            assert connection.exec_driver_sql("SELECT count(*) FROM photo").scalar() == 0
    finally:
        database.dispose()
    assert list((target.parent / "formulary.db.files").iterdir()) == []


def test_a_swapped_file_in_the_export_is_refused(
    exported: tuple[Path, list[str]], tmp_path: Path
) -> None:
    out, hashes = exported
    (out.with_name(out.name + ".files") / hashes[0]).write_bytes(b"not the photo")
    target = tmp_path / "d" / "formulary.db"
    target.parent.mkdir()
    _new_clinic(target)
    code, _, err = run("import", str(out), "--db", str(target), "--user", "admin",
                       "--password-stdin")
    assert code == 2 and "no longer matches" in err
    assert list((target.parent / "formulary.db.files").iterdir()) == []


def test_a_damaged_live_photo_stops_the_export(tmp_path: Path) -> None:
    live = tmp_path / "formulary.db"
    hashes = _clinic_with_photos(live)
    (tmp_path / "formulary.db.files" / hashes[0]).write_bytes(b"x")
    out = tmp_path / "clinic.json"
    code, _, err = run("export", "json", "--output", str(out), "--db", str(live),
                       "--user", "admin", "--password-stdin")
    assert code == 4 and "audit verify" in err and err.count("\n") == 1
    assert not out.exists() and not (tmp_path / "clinic.json.files").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
