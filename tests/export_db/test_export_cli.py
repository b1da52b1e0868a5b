"""``formulary export chart|session|all`` end to end through the CLI."""

from __future__ import annotations

import json
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle

from db.database import Database
from db.store import Store
from tests.export_db.clinic import PASSWORD, Clinic, build_clinic

pytestmark = pytest.mark.storage


@pytest.fixture
def run(
    cli: Callable[..., Any], location: str, clinic: Clinic, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Any]:
    monkeypatch.setenv("FORMULARY_PASSWORD", PASSWORD)
    clinic.store.database.dispose()

    def go(*args: str) -> Any:
        return cli(["--db", location, "export", *args, "--user", "drmartin"])

    return go


def test_chart_pdf_to_a_file(run: Callable[..., Any], tmp_path: Path) -> None:
    target = tmp_path / "note.pdf"
    result = run("chart", "C-0001", "--format", "pdf", "-o", str(target))
    assert result.exit_code == 0, result.output
    assert target.read_bytes().startswith(b"%PDF")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert "checkpoint: FORMULARY-CHECKPOINT v1" in result.output
    again = run("chart", "C-0001", "--format", "pdf", "-o", str(target))
    assert again.exit_code == 2
    assert "already exists; pass --force to replace it" in again.output
    forced = run("chart", "C-0001", "--format", "pdf", "-o", str(target), "--force")
    assert forced.exit_code == 0, forced.output


def test_chart_csv_into_a_folder_with_json_report(
    run: Callable[..., Any], tmp_path: Path
) -> None:
    result = run("chart", "C-0002", "--format", "csv", "-o", str(tmp_path / "csv"), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    names = sorted(Path(p).name for p in report["files"])
    assert names == ["C-0002-manifest.txt", "C-0002-session_components.csv",
                     "C-0002-sessions.csv"]
    (export,) = report["exports"]
    manifest = (tmp_path / "csv" / "C-0002-manifest.txt").read_text()
    assert export["checkpoint"] in manifest.splitlines()


def test_session_json(run: Callable[..., Any], clinic: Clinic, tmp_path: Path) -> None:
    session_id = clinic.session_ids[0]
    result = run("session", str(session_id), "--format", "json", "-o", str(tmp_path))
    assert result.exit_code == 0, result.output
    doc = json.loads((tmp_path / f"C-0001-session-{session_id}.json").read_text())
    assert [s["id"] for s in doc["chart"]["sessions"]] == [session_id]


def test_all_fhir_with_progress_and_no_overwrite(
    run: Callable[..., Any], tmp_path: Path
) -> None:
    out = tmp_path / "all"
    result = run("all", "--format", "fhir", "-o", str(out))
    assert result.exit_code == 0, result.output
    files = sorted(out.iterdir())
    assert [f.name for f in files] == ["C-0001.fhir.json", "C-0002.fhir.json"]
    for path in files:
        Bundle.model_validate_json(path.read_bytes())
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "exported 2 patient(s) as fhir" in result.output
    again = run("all", "--format", "fhir", "-o", str(out))
    assert again.exit_code == 2 and "already exist" in again.output
    assert run("all", "--format", "fhir", "-o", str(out), "--force").exit_code == 0


#: Charts per batch in the test below (the CLI's batches are larger; the bound is the same).
SMALL_BATCH = 2


@pytest.mark.parametrize("fmt", ["fhir", "csv", "json"])
def test_all_keeps_no_more_than_a_batch_of_exports_alive(
    cli: Callable[..., Any], location: str, database: Database, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, fmt: str,
) -> None:
    import gc

    import db.ops.exports as exports

    build_clinic(Store(database, workstation="test-ws"), patients=7)
    database.dispose()
    monkeypatch.setenv("FORMULARY_PASSWORD", PASSWORD)
    real = exports.export_all
    alive: list[int] = []

    def counted(*args: Any, **kwargs: Any) -> Any:
        # Seven patients in batches of two: four batches. Each result carries its
        # chart's rendered files, so the results alive are the export's memory.
        for result in real(*args, **{**kwargs, "batch": SMALL_BATCH}):
            alive.append(sum(isinstance(o, exports.ExportResult) for o in gc.get_objects()))
            yield result

    monkeypatch.setattr(exports, "export_all", counted)
    result = cli(["--db", location, "export", "all", "--format", fmt,
                  "-o", str(tmp_path / "all"), "--user", "drmartin"])
    assert result.exit_code == 0, result.output
    assert "exported 7 patient(s)" in result.output
    assert len(alive) == 7
    # The batch being written and the result the loop has just finished with: the
    # same after the seventh patient as after the second, not one more per patient.
    assert max(alive) <= SMALL_BATCH + 1, alive


def test_clear_errors(run: Callable[..., Any], tmp_path: Path) -> None:
    missing = run("chart", "C-9999", "-o", str(tmp_path / "x.pdf"))
    assert missing.exit_code == 2 and "no patient has chart number C-9999" in missing.output
    bad = run("chart", "C-0001", "--format", "docx")
    assert bad.exit_code == 2 and "choose one of pdf, csv, fhir, json" in bad.output
    pdf_all = run("all", "--format", "pdf", "-o", str(tmp_path / "a"))
    assert pdf_all.exit_code == 2 and "export all writes fhir, csv, json" in pdf_all.output
    assert not (tmp_path / "x.pdf").exists()


def test_asks_before_replacing_at_a_terminal(
    run: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Any,
    location: str,
) -> None:
    import tui.cli.export as export_cli

    target = tmp_path / "chart.json"
    target.write_bytes(b"old")
    monkeypatch.setattr(export_cli, "_interactive", lambda: True)
    args = ["--db", location, "export", "chart", "C-0001", "--format", "json", "-o",
            str(target), "--user", "drmartin"]
    declined = cli(args, input="n\n")
    assert declined.exit_code == 2 and target.read_bytes() == b"old"
    accepted = cli(args, input="y\n")
    assert accepted.exit_code == 0, accepted.output
    assert json.loads(target.read_bytes())["chart"]["patient"]["chart_number"] == "C-0001"
