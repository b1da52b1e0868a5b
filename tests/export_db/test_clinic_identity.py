"""Clinic-scoped identity: an identifier per clinic, set by an administrator, in every id."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from db.database import Database, open_database
from db.errors import PermissionDenied, ValidationError
from db.ops.exports import export_chart
from db.store import Store
from db.tables.audit import AuditEvent
from tests.export_db.clinic import PASSWORD, Clinic, build_clinic
from tui.export_files import to_folder

pytestmark = pytest.mark.storage


def full_urls(clinic: Clinic, chart_number: str, out: Path) -> set[str]:
    result = export_chart(clinic.store, clinic.doctor, chart_number, "fhir", to_folder(out))
    (data,) = result.files.values()
    return {e["fullUrl"] for e in json.loads(data)["entry"]}


def test_the_default_identifier_is_the_database_id(clinic: Clinic, database: Database) -> None:
    assert clinic.store.clinic(clinic.doctor).identifier == database.db_id


def test_two_databases_with_the_same_chart_numbers_share_no_full_url(
    clinic: Clinic, tmp_path: Path
) -> None:
    other_db = open_database(str(tmp_path / "other.db"))
    try:
        other = build_clinic(Store(other_db, workstation="test-ws"))
        assert other.chart_numbers == clinic.chart_numbers
        for number in clinic.chart_numbers:
            one = full_urls(clinic, number, tmp_path / "one")
            two = full_urls(other, number, tmp_path / "two")
            assert one and two and one.isdisjoint(two)
        # Even given the same name by hand, the ids follow the identifier, not the name.
        clinic.store.set_clinic_settings(clinic.admin, identifier="north")
        other.store.set_clinic_settings(other.admin, identifier="south")
        number = clinic.chart_numbers[0]
        assert full_urls(clinic, number, tmp_path / "n").isdisjoint(
            full_urls(other, number, tmp_path / "s"))
    finally:
        other_db.dispose()


def test_changing_the_identifier_is_for_admins_and_audited(
    clinic: Clinic, database: Database, tmp_path: Path
) -> None:
    before = full_urls(clinic, clinic.chart_numbers[0], tmp_path / "a")
    with pytest.raises(PermissionDenied):
        clinic.store.set_clinic_settings(clinic.doctor, identifier="mine")
    with pytest.raises(ValidationError, match="letters, digits"):
        clinic.store.set_clinic_settings(clinic.admin, identifier="has space")
    with pytest.raises(ValidationError, match="beyond-use"):
        clinic.store.set_clinic_settings(clinic.admin, beyond_use_minutes=0)
    clinic.store.set_clinic_settings(clinic.admin, identifier="clinic-7",
                                     beyond_use_minutes=90)
    shown = clinic.store.clinic(clinic.doctor)
    assert (shown.identifier, shown.beyond_use_minutes) == ("clinic-7", 90)
    with Session(database.engine) as db:
        last = db.exec(select(AuditEvent).order_by(col(AuditEvent.seq).desc())).first()
    assert last is not None and last.action == "installation.set_clinic_settings"
    assert last.user_name == "admin" and "clinic-7" in (last.after or "")
    after = full_urls(clinic, clinic.chart_numbers[0], tmp_path / "b")
    assert before.isdisjoint(after)


def test_cli_init_and_clinic_set(
    tmp_path: Path, cli: Callable[..., object], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = str(tmp_path / "new.db")
    bad = cli(["init", "--db", path, "--admin", "boss", "--clinic-id", "a b",
               "--password-stdin"], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert bad.exit_code == 2 and "--clinic-id" in bad.output  # type: ignore[attr-defined]
    assert not Path(path).exists()
    made = cli(["init", "--db", path, "--admin", "boss", "--clinic-id", "zurich-sud",
                "--password-stdin"], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert made.exit_code == 0, made.output  # type: ignore[attr-defined]
    shown = cli(["clinic", "show", "--db", path, "--user", "boss", "--password-stdin",
                 "--json"], input=f"{PASSWORD}\n")
    data = json.loads(shown.output)  # type: ignore[attr-defined]
    assert data["identifier"] == "zurich-sud" and data["beyond_use_minutes"] == 60
    changed = cli(["clinic", "set", "--db", path, "--user", "boss", "--password-stdin",
                   "--identifier", "zurich-2", "--beyond-use-minutes", "120"],
                  input=f"{PASSWORD}\n")
    assert changed.exit_code == 0, changed.output  # type: ignore[attr-defined]
    assert "identifier zurich-2, beyond-use 120 min" in changed.output  # type: ignore[attr-defined]
    # All or nothing: a refused identifier leaves the new name unwritten too.
    refused = cli(["clinic", "set", "--db", path, "--user", "boss", "--password-stdin",
                   "--name", "Zurich Sud", "--identifier", "a b"], input=f"{PASSWORD}\n")
    assert refused.exit_code == 2  # type: ignore[attr-defined]
    assert "letters, digits" in refused.output  # type: ignore[attr-defined]
    shown = cli(["clinic", "show", "--db", path, "--user", "boss", "--password-stdin",
                 "--json"], input=f"{PASSWORD}\n")
    data = json.loads(shown.output)  # type: ignore[attr-defined]
    assert data["name"] == "" and data["identifier"] == "zurich-2"


def test_update_clinic_audits_only_the_parts_that_change(
    clinic: Clinic, database: Database
) -> None:
    def actions() -> list[str]:
        with Session(database.engine) as db:
            rows = db.exec(select(AuditEvent).order_by(col(AuditEvent.seq))).all()
        return [e.action for e in rows if e.action.startswith("installation.")]

    before = actions()
    with pytest.raises(PermissionDenied):
        clinic.store.update_clinic(clinic.doctor, name="Mine")
    with pytest.raises(ValidationError, match="out of range"):
        clinic.store.update_clinic(clinic.admin, name="North", photo_limit_bytes=1)
    assert actions() == before and clinic.store.clinic(clinic.admin).name != "North"
    clinic.store.update_clinic(clinic.admin, name="North", address="1 Main St",
                               beyond_use_minutes=75, photo_limit_bytes=10 * 2**20)
    assert actions()[len(before):] == [
        "installation.set_clinic", "installation.set_clinic_settings",
        "installation.set_photo_limit",
    ]
    shown = clinic.store.clinic(clinic.doctor)
    assert (shown.name, shown.address, shown.beyond_use_minutes, shown.photo_max_bytes) == (
        "North", "1 Main St", 75, 10 * 2**20)
    # The same values again: nothing changes, nothing is audited.
    after = actions()
    clinic.store.update_clinic(clinic.admin, name="North", beyond_use_minutes=75)
    assert actions() == after
