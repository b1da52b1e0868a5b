"""``formulary formulation list|show`` and ``course list``: the ids a session file needs.

From an empty database (the library and one administrator): a patient, a product, a
formulation and a course are made through the Store, then found with the read
commands, and a session recorded with the ids they printed shows in the course's
progress.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from db.database import open_database
from db.store import ComponentSpec, PatientFields, Store, StrengthSpec
from formulary.records import Sex
from formulary.units.amount import Amount
from tests.consent_helpers import sign_consent
from tui.cli.main import app

PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class Chart:
    location: str
    formulation_id: int
    retired_id: int
    course_id: int
    old_course_id: int
    start: date


def ml(text: str) -> Amount:
    return Amount(Decimal(text), "mL")


@pytest.fixture
def chart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Chart]:
    """An empty clinic, then C-1 with two formulations (one retired) and two courses."""
    location = str(tmp_path / "clinic.db")
    database = open_database(location)
    try:
        store = Store(database)
        admin = store.create_first_admin("admin", "Ada Admin", PASSWORD)
        biotin = next(i.id for i in store.list_ingredients(admin, "biotin") if i.key == "biotin")
        dexpanthenol = next(
            i.id for i in store.list_ingredients(admin, "dexpanthenol") if i.key == "dexpanthenol"
        )
        product = store.create_product(
            admin, name="Biotin 5 mg/mL", volume_per_unit=ml("2"),
            ingredients=[StrengthSpec(biotin, Amount(Decimal(5), "mg/mL"))],
        )
        store.receive_lot(admin, product_id=product.id, lot_number="B-77",
                          expiry=date(2099, 1, 1), quantity=ml("100"))
        patient = store.create_patient(
            admin, PatientFields("C-1", "Doe", "Jane", date(1980, 1, 2), Sex.FEMALE))
        store.create_patient(
            admin, PatientFields("C-2", "Roe", "Rick", date(1979, 3, 4), Sex.MALE))
        components = [
            ComponentSpec("Biotin 5 mg/mL", ml("1"), product_id=product.id),
            ComponentSpec("Dexpanthenol", Amount(Decimal(50), "mg"), ingredient_id=dexpanthenol),
        ]
        first = store.save_formulation(
            admin, patient_id=patient.id, name="Hair cocktail", components=components,
            final_volume=ml("2"), note="first visit",
        )
        retired = store.save_formulation(
            admin, patient_id=patient.id, name="Old mix", components=components[:1],
            final_volume=ml("1"),
        )
        store.delete_formulation(admin, retired.formulation_id, "replaced by the hair cocktail")
        start = date.today() - timedelta(days=3)
        old = store.start_course(admin, patient_id=patient.id, name="Last year",
                                 planned_sessions=2, interval_days=28,
                                 start_date=date(2025, 1, 6))
        course = store.start_course(admin, patient_id=patient.id, name="Spring course",
                                    planned_sessions=6, interval_days=14, start_date=start,
                                    formulation_id=first.formulation_id)
        sign_consent(store, admin, PASSWORD, patient, course.id)
    finally:
        database.dispose()
    monkeypatch.setenv("FORMULARY_DB", location)
    monkeypatch.setenv("FORMULARY_KEY_DIR", str(tmp_path / "keys"))
    monkeypatch.setenv("FORMULARY_USER", "admin")
    monkeypatch.setenv("FORMULARY_PASSWORD", PASSWORD)
    yield Chart(location, first.formulation_id, retired.formulation_id,
                course.id, old.id, start)


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def audit_actions(location: str) -> list[str]:
    with closing(sqlite3.connect(f"file:{location}?mode=ro", uri=True)) as conn:
        return [a for (a,) in conn.execute("SELECT action FROM audit_event ORDER BY seq")]


def without_sign_ins(actions: list[str]) -> list[str]:
    return [a for a in actions if not a.startswith("auth.")]


def record_session(tmp_path: Path, **fields: Any) -> tuple[int, str, str]:
    data = {
        "patient": "C-1",
        "performed_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
        "technique": "nappage",
        "total_volume": "2 mL",
        "zones": {"vertex": "2 mL"},
        **fields,
    }
    path = tmp_path / "session.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return run("session", "record", str(path), "--acknowledge", "--json")


def test_formulation_list_prints_the_ids_and_positions(chart: Chart) -> None:
    before = without_sign_ins(audit_actions(chart.location))
    code, out, err = run("formulation", "list", "C-1")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith(f"formulation {chart.formulation_id}: Hair cocktail, version 1 ")
    assert "formulation_version_id" in lines[0]
    assert lines[1].split()[:4] == ["1", "Biotin", "5", "mg/mL"]
    assert "1 mL" in lines[1] and "(product " in lines[1]
    assert lines[2].split()[:3] == ["2", "Dexpanthenol", "50"] and "(ingredient added)" in lines[2]
    assert lines[3].split() == ["total", "volume", "2", "mL"]
    assert "Old mix" not in out  # retired: only with --retired
    code, out, _ = run("formulation", "list", "C-1", "--retired")
    assert code == 0 and f"formulation {chart.retired_id}: Old mix" in out and "[retired]" in out
    code, out, _ = run("formulation", "list", "C-2")
    assert (code, out) == (0, "C-2 has no formulation yet.\n")
    # Reading writes nothing (sign-ins aside).
    assert without_sign_ins(audit_actions(chart.location)) == before


def test_formulation_list_json_uses_the_session_files_names(chart: Chart) -> None:
    code, out, err = run("formulation", "list", "C-1", "--retired", "--json")
    assert code == 0, err
    listed = json.loads(out)
    assert [(f["formulation_id"], f["name"], f["retired"]) for f in listed] == [
        (chart.formulation_id, "Hair cocktail", False), (chart.retired_id, "Old mix", True)]
    first = listed[0]
    assert set(first) == {
        "formulation_id", "name", "formulation_version_id", "version", "retired", "used",
        "final_volume", "note", "created_at", "created_by", "components"}
    assert first["version"] == 1 and first["used"] is False
    assert first["final_volume"] == "2 mL" and first["note"] == "first visit"
    assert first["created_by"] == "Ada Admin"
    assert [(c["position"], c["name"], c["amount"]) for c in first["components"]] == [
        (1, "Biotin 5 mg/mL", "1 mL"), (2, "Dexpanthenol", "50 mg")]
    assert first["components"][1]["product_id"] is None
    assert first["components"][1]["ingredient_id"] is not None


def test_formulation_show_in_full_and_by_version(chart: Chart) -> None:
    code, out, err = run("formulation", "show", str(chart.formulation_id))
    assert code == 0, err
    assert out.startswith(f"formulation {chart.formulation_id}: Hair cocktail, version 1 ")
    assert "by Ada Admin" in out and "note: first visit" in out
    assert "lots[].component is the position" in out
    assert "Biotin" in out and "5 mg" in out  # biotin per session: 1 mL of 5 mg/mL
    assert "versions: 1 (id " in out
    code, out, err = run("formulation", "show", str(chart.formulation_id), "--json")
    assert code == 0, err
    shown = json.loads(out)
    assert shown["current"] is True and shown["ingredients_unavailable"] is None
    per_session = {i["ingredient"]: i["per_session"] for i in shown["ingredients"]}
    assert per_session["Biotin"] == "5 mg" and per_session["Dexpanthenol"] == "50 mg"
    assert [v["version"] for v in shown["versions"]] == [1]
    by_id = json.loads(run("formulation", "show", "--version-id",
                           str(shown["formulation_version_id"]), "--json")[1])
    assert by_id == shown


def test_the_ids_printed_record_a_session_and_the_course_counts_it(
    chart: Chart, tmp_path: Path
) -> None:
    code, out, err = run("course", "list", "C-1")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split()[:5] == [str(chart.old_course_id), "Last", "year", "0", "of"]
    assert "next: session 1 of 2, due 2025-01-06 (OVERDUE)" in lines[0]
    assert lines[1].startswith(f"{chart.course_id:>5}* Spring course")
    assert f"0 of 6 done  every 14 days from {chart.start}" in lines[1]
    assert f"next: session 1 of 6, due {chart.start} (OVERDUE)" in lines[1]
    assert lines[-1].startswith("* the current course")
    listed = json.loads(run("formulation", "list", "C-1", "--json")[1])
    position = next(c["position"] for c in listed[0]["components"] if c["product_id"])
    code, out, err = record_session(
        tmp_path, formulation_id=listed[0]["formulation_id"], course_id=chart.course_id,
        session_number=1, lots=[{"component": position, "lot": "B-77"}],
    )
    assert code == 0, err
    assert json.loads(out)["recorded"] is True
    code, out, err = run("course", "list", "C-1", "--json")
    assert code == 0, err
    courses = json.loads(out)
    assert set(courses[0]) == {
        "course_id", "name", "planned_sessions", "interval_days", "start_date",
        "sessions_done", "next_session_number", "next_due", "overdue", "last_session",
        "complete", "current"}
    spring = courses[1]
    today = date.today()
    performed = (datetime.now(UTC) - timedelta(hours=1)).astimezone().date()
    assert spring["course_id"] == chart.course_id and spring["current"] is True
    assert (spring["sessions_done"], spring["next_session_number"]) == (1, 2)
    assert spring["last_session"] in (performed.isoformat(), today.isoformat())
    assert spring["next_due"] == (date.fromisoformat(spring["last_session"])
                                  + timedelta(days=14)).isoformat()
    assert spring["overdue"] is False and spring["complete"] is False
    assert courses[0]["current"] is False and courses[0]["sessions_done"] == 0
    # The version used is locked: the list says so, and a change makes version 2.
    listed = json.loads(run("formulation", "list", "C-1", "--json")[1])
    assert listed[0]["used"] is True
    first_version = listed[0]["formulation_version_id"]
    database = open_database(chart.location)
    try:
        store = Store(database)
        admin = store.authenticate("admin", PASSWORD)
        current = store.get_formulation_version(admin, first_version)
        store.save_formulation(
            admin, patient_id=store.find_patient(admin, "C-1").id, name="Hair cocktail",
            components=[ComponentSpec(c.name, c.amount, product_id=c.product_id,
                                      ingredient_id=c.ingredient_id)
                        for c in current.components[:1]],
            final_volume=ml("1"), formulation_id=chart.formulation_id,
        )
    finally:
        database.dispose()
    listed = json.loads(run("formulation", "list", "C-1", "--json")[1])
    assert listed[0]["version"] == 2 and listed[0]["used"] is False
    assert listed[0]["formulation_version_id"] != first_version
    assert [c["position"] for c in listed[0]["components"]] == [1]
    code, out, err = run("formulation", "show", str(chart.formulation_id), "--version", "1")
    assert code == 0, err
    assert out.splitlines()[0].endswith("used in a signed session)  [current: 2]")
    assert f"versions: 1 (id {first_version}, used), 2 (id " in out
    old = json.loads(run("formulation", "show", "--version-id", str(first_version), "--json")[1])
    assert (old["version"], old["current"], len(old["components"])) == (1, False, 2)
    code, out, _ = run("course", "list", "C-2")
    assert (code, out) == (0, "C-2 has no course planned.\n")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("formulation", "list", "NOPE"), "no patient has chart number NOPE"),
        (("course", "list", "NOPE"), "no patient has chart number NOPE"),
        (("formulation", "show", "999"), "formulation 999 does not exist"),
        (("formulation", "show", "--version-id", "999"), "formulation version 999 does not exist"),
        (("formulation", "show", "1", "--version", "7"),
         "formulation 1 has no version 7 (its versions: 1)"),
        (("formulation", "show"), "give the formulation's id (formulary formulation list"),
        (("formulation", "show", "1", "--version-id", "1"), "not both"),
    ],
)
def test_unknown_chart_or_id_is_one_line_and_exit_2(
    chart: Chart, args: tuple[str, ...], expected: str
) -> None:
    code, out, err = run(*args)
    assert code == 2, (out, err)
    assert out == ""
    assert err.startswith("formulary: ") and err.count("\n") == 1 and expected in err
    assert "Traceback" not in err
