"""``formulary photo add|list|export|retire|folder`` from an empty database (``init``)."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from db.database import open_database
from db.store import PatientFields, Store
from formulary.records import Sex
from tests.photos import images
from tui.cli.main import app

PASSWORD = "correct horse battery"


def run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), input=stdin)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def clinic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, int]]:
    """``formulary init`` then one patient with one outcome (the id is yielded)."""
    location = str(tmp_path / "clinic.db")
    monkeypatch.setenv("FORMULARY_DB", location)
    monkeypatch.setenv("FORMULARY_KEY_DIR", str(tmp_path / "keys"))
    monkeypatch.delenv("FORMULARY_FILES_DIR", raising=False)
    code, _, err = run("init", "--admin", "admin", "--password-stdin",
                       stdin=f"{PASSWORD}\n{PASSWORD}\n")
    assert code == 0, err
    monkeypatch.setenv("FORMULARY_USER", "admin")
    monkeypatch.setenv("FORMULARY_PASSWORD", PASSWORD)
    database = open_database(location)
    try:
        store = Store(database)
        admin = store.authenticate("admin", PASSWORD)
        patient = store.create_patient(admin, PatientFields(
            chart_number="P-7", family_name="Roux", given_name="Ana",
            date_of_birth=date(1980, 2, 3), sex=Sex.FEMALE))
        outcome = store.record_outcome(admin, patient_id=patient.id,
                                       measured_at=datetime.now(UTC), scale_grade="II")
    finally:
        database.dispose()
    yield location, outcome.id


def test_add_list_export_retire(clinic: tuple[str, int], tmp_path: Path) -> None:
    location, outcome = clinic
    folder = Path(location + ".files")
    assert folder.is_dir() and stat.S_IMODE(folder.stat().st_mode) == 0o700, "init made it"
    source = tmp_path / "IMG_0001.jpg"
    source.write_bytes(images.jpeg(orientation=6))
    code, out, err = run("photo", "add", str(source), "--patient", "P-7", "--view", "vertex",
                         "--taken", "2026-11-20", "--outcome", str(outcome), "--json")
    assert code == 0, err
    added = json.loads(out)
    stored = folder / added["sha256"]
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert not images.has_location_or_camera(stored.read_bytes())
    code, out, err = run("photo", "list", "P-7")
    assert code == 0 and "vertex" in out and added["sha256"][:12] in out
    code, out, err = run("photo", "export", "P-7", "--to", str(tmp_path / "out"))
    assert code == 0, err
    exported = Path(out.strip())
    assert exported.name == f"P-7_vertex_2026-11-20_photo{added['id']}.jpg"
    assert exported.read_bytes() == stored.read_bytes()
    code, out, err = run("photo", "export", "P-7", "--to", str(tmp_path / "out"))
    assert code == 2 and "already exists" in err and err.count("\n") == 1
    code, _, err = run("photo", "retire", str(added["id"]))
    assert code == 2 and "--reason" in err
    code, out, err = run("photo", "retire", str(added["id"]), "--reason", "wrong patient")
    assert code == 0, err
    code, out, _ = run("photo", "list", "P-7", "--json")
    assert json.loads(out)[0]["retired_reason"] == "wrong patient"
    code, out, _ = run("audit", "verify")
    assert code == 0, out


def test_bad_inputs_are_one_line_and_save_nothing(
    clinic: tuple[str, int], tmp_path: Path
) -> None:
    location, outcome = clinic
    text = tmp_path / "notes.jpg"
    text.write_text("not a photo at all")
    base = ["--patient", "P-7", "--view", "frontal", "--taken", "2026-11-20",
            "--outcome", str(outcome)]
    cases = [
        ([str(text), *base], 2, "not an image"),
        ([str(tmp_path / "missing.jpg"), *base], 2, "does not exist"),
        ([str(text), "--patient", "P-7", "--view", "frontal", "--taken", "2026-11-20"], 2,
         "--session N or --outcome N"),
        ([str(text), *base[:4], "--taken", "20/11/2026", "--outcome", "1"], 2, "YYYY-MM-DD"),
        ([str(text), "--patient", "P-7", "--view", "sideways", "--taken", "2026-11-20",
          "--outcome", str(outcome)], 2, "unknown view"),
    ]
    for args, code_expected, words in cases:
        code, _, err = run("photo", "add", *args)
        assert code == code_expected and words in err and err.count("\n") == 1, err
    code, _, err = run("clinic", "set", "--photo-limit-mb", "1")
    assert code == 0, err
    big = tmp_path / "big.png"
    big.write_bytes(b"\x89PNG" + b"\0" * (1024 * 1024 + 10))
    code, _, err = run("photo", "add", str(big), *base)
    assert code == 2 and "larger than the clinic's photo limit of 1.0 MB" in err
    Path(location + ".files").rmdir()
    good = tmp_path / "good.png"
    good.write_bytes(images.png())
    code, _, err = run("photo", "add", str(good), *base)
    assert code == 6 and "photo folder --create" in err and err.count("\n") == 1
    code, _, err = run("photo", "folder")
    assert code == 6 and "does not exist" in err
    code, out, err = run("photo", "folder", "--create")
    assert code == 0 and "0 stored file(s)" in out
    code, out, _ = run("photo", "list", "P-7")
    assert "no photos" in out


def test_tampered_photo_fails_verify_and_export(clinic: tuple[str, int], tmp_path: Path) -> None:
    location, outcome = clinic
    source = tmp_path / "a.png"
    source.write_bytes(images.png())
    code, out, err = run("photo", "add", str(source), "--patient", "P-7", "--view", "left",
                         "--taken", "2026-11-20", "--outcome", str(outcome), "--json")
    assert code == 0, err
    stored = Path(location + ".files") / json.loads(out)["sha256"]
    stored.write_bytes(images.png(color=(0, 0, 0)))
    code, out, _ = run("audit", "verify")
    assert code == 4 and "file ALTERED" in out
    code, _, err = run("photo", "export", "P-7", "--to", str(tmp_path / "x"))
    assert code == 4 and "no longer matches" in err and err.count("\n") == 1
    assert not (tmp_path / "x").exists() or not any((tmp_path / "x").iterdir())


def test_chart_pdf_and_fhir_carry_the_photos(clinic: tuple[str, int], tmp_path: Path) -> None:
    import io

    from fhir.resources.R4B.bundle import Bundle
    from pypdf import PdfReader

    _, outcome = clinic
    for n, (view, taken) in enumerate((("frontal", "2026-01-10"), ("frontal", "2026-06-10"))):
        source = tmp_path / f"p{n}.jpg"
        source.write_bytes(images.jpeg(60, 80, color=(40 * n, 80, 120)))
        code, _, err = run("photo", "add", str(source), "--patient", "P-7", "--view", view,
                           "--taken", taken, "--outcome", str(outcome))
        assert code == 0, err
    note = tmp_path / "note.pdf"
    code, _, err = run("export", "chart", "P-7", "--format", "pdf", "--output", str(note))
    assert code == 0, err
    pdf = PdfReader(io.BytesIO(note.read_bytes()))
    pages = [p.extract_text() for p in pdf.pages]
    page = next(i for i, t in enumerate(pages) if "Photographs: Frontal, before and after" in t)
    assert "Before: 2026-01-10" in pages[page] and "After: 2026-06-10" in pages[page]
    assert len(pdf.pages[page].images) == 2
    bundle = tmp_path / "bundle.json"
    code, _, err = run("export", "chart", "P-7", "--format", "fhir", "--output", str(bundle))
    assert code == 0, err
    data = bundle.read_bytes()
    Bundle.model_validate_json(data)
    media = [e["resource"] for e in json.loads(data)["entry"]
             if e["resource"]["resourceType"] == "Media"]
    assert [m["createdDateTime"] for m in media] == ["2026-01-10", "2026-06-10"]
