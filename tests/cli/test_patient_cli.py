"""``formulary patient add|update|list`` and ``import-csv patients`` from an empty database."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from db.database import open_database
from db.store import Store
from db.tables.people import PatientRow, PatientWeightRow
from tui.cli.main import app

PASSWORD = "correct horse battery"


@pytest.fixture
def clinic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An empty clinic: the library and one administrator, nothing else."""
    location = str(tmp_path / "clinic.db")
    database = open_database(location)
    Store(database).create_first_admin("admin", "Ada Admin", PASSWORD)
    database.dispose()
    monkeypatch.setenv("FORMULARY_DB", location)
    monkeypatch.setenv("FORMULARY_KEY_DIR", str(tmp_path / "keys"))
    monkeypatch.setenv("FORMULARY_USER", "admin")
    monkeypatch.setenv("FORMULARY_PASSWORD", PASSWORD)
    yield location


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def rows(location: str, model: type) -> int:
    from sqlmodel import Session, func, select

    database = open_database(location)
    try:
        with Session(database.engine) as db:
            return int(db.exec(select(func.count()).select_from(model)).one())
    finally:
        database.dispose()


def test_add_update_list_with_weight_in_pounds(clinic: str) -> None:
    code, out, err = run(
        "patient", "add", "--chart", "P-1", "--family", "Roux", "--given", "Ana",
        "--born", "1980-02-03", "--sex", "female", "--weight", "154 lb",
        "--weighed-on", "2026-11-30", "--allergy", "lidocaine (rash)", "--json",
    )
    assert code == 0, err
    added = json.loads(out)
    assert Decimal(added["weight_kg"]) == Decimal("154") * Decimal("0.45359237")
    assert added["allergies"] == [{"substance": "lidocaine", "reaction": "rash"}]
    # Without --reason: one line naming the flag, exit 2, nothing changed.
    code, out, err = run("patient", "update", "P-1", "--add-allergy", "latex")
    assert code == 2 and err.count("\n") == 1 and "--reason" in err
    code, out, err = run(
        "patient", "update", "P-1", "--weight", "70 kg", "--add-allergy", "latex",
        "--reason", "latex allergy reported",
    )
    assert code == 0, err
    assert "70 kg" in out and "lidocaine; latex" in out
    assert rows(clinic, PatientWeightRow) == 2
    code, out, _ = run("patient", "list", "roux")
    assert code == 0 and "P-1" in out and "70 kg" in out


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--born", "1986-02-30"), "--born: 1986-02-30 does not exist"),
        (("--weight", "70 mg"), "--weight: 'mg' is not a unit of weight"),
        (("--weight", "80 kgs"), "--weight: 'kgs' is not a unit of weight; use kg or lb"),
        (("--weight", "176 lbz"), "--weight: 'lbz' is not a unit of weight; use kg or lb"),
        (("--sex", "z"), "--sex: 'z'"),
        (("--weighed-on", "2026-01-01"), "--weighed-on needs --weight"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    clinic: str, args: tuple[str, ...], expected: str
) -> None:
    base = {"--chart": "P-9", "--family": "Bad", "--given": "Input", "--born": "1980-01-01",
            "--sex": "female"}
    for flag, value in zip(args[::2], args[1::2], strict=True):
        base[flag] = value
    code, _, err = run("patient", "add", *[x for kv in base.items() for x in kv])
    assert code == 2
    assert err.startswith("formulary: ") and err.count("\n") == 1 and expected in err
    assert rows(clinic, PatientRow) == 0


def test_import_csv_patients_all_or_nothing(clinic: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "Chart Number;Family Name;Given Name;Date of Birth;Sex;Weight;Allergies\n"
        "Q-1;Dupont;Luc;1970-01-01;male;180 lb;latex\n"
        "Q-2;Marti;Eva;1986-02-30;female;70 kg;\n"
        "Q-3;Lee;Kim;1990-05-05;x;70 mg;\n",
        encoding="utf-8",
    )
    code, _, err = run("import-csv", "patients", str(bad))
    assert code == 2
    lines = err.splitlines()
    assert f"{bad}:3: column date_of_birth:" in lines[0]
    assert any(f"{bad}:4: column sex:" in line for line in lines)
    assert any(f"{bad}:4: column weight:" in line for line in lines)
    assert lines[-1].startswith("formulary: nothing imported (3 problem(s)")
    assert rows(clinic, PatientRow) == 0
    good = tmp_path / "good.csv"
    good.write_text(
        "chart_number,family_name,given_name,date_of_birth,sex,weight,weighed_on,allergies\n"
        "Q-1,Dupont,Luc,1970-01-01,male,180 lb,2026-11-01,latex (rash); lidocaine\n"
        "Q-2,Marti,Eva,1986-02-28,female,,,\n",
        encoding="utf-8",
    )
    code, out, err = run("import-csv", "patients", str(good), "--dry-run")
    assert code == 0, err
    assert "would import 2 patient(s)" in out and rows(clinic, PatientRow) == 0
    code, out, err = run("import-csv", "patients", str(good))
    assert code == 0 and "imported 2 patient(s)" in out
    assert rows(clinic, PatientRow) == 2 and rows(clinic, PatientWeightRow) == 1
    # Again: the chart numbers are taken; the refusal names the line, nothing is added.
    code, _, err = run("import-csv", "patients", str(good))
    assert code == 2 and f"{good}:2 (Q-1)" in err and "already belongs" in err
    assert rows(clinic, PatientRow) == 2
    # The CSV import goes through the Store: a chart number differing only in case or
    # spacing (here within the file) and a control character are refused as typed ones.
    twins = tmp_path / "twins.csv"
    twins.write_text(
        "chart_number,family_name,given_name,date_of_birth,sex\n"
        "R 1,Roux,Ida,1990-01-02,female\n"
        "r  1,Roux,Lea,1991-01-02,female\n",
        encoding="utf-8",
    )
    code, _, err = run("import-csv", "patients", str(twins))
    assert code == 2 and f"{twins}:3 (r  1)" in err and "already belongs" in err
    control = tmp_path / "control.csv"
    control.write_text(
        "chart_number,family_name,given_name,date_of_birth,sex\n"
        "R-2,Ro\x1bux,Ida,1990-01-02,female\n",
        encoding="utf-8",
    )
    code, _, err = run("import-csv", "patients", str(control))
    assert code == 2 and "control character (U+001B)" in err
    assert rows(clinic, PatientRow) == 2


def audit_actions(location: str) -> list[str]:
    """The audit trail's actions, sign-ins left out (every command signs in)."""
    import sqlite3
    from contextlib import closing

    with closing(sqlite3.connect(f"file:{location}?mode=ro", uri=True)) as conn:
        return [a for (a,) in conn.execute("SELECT action FROM audit_event ORDER BY seq")
                if not a.startswith("auth.")]


def test_an_update_that_changes_nothing_says_so_and_writes_nothing(clinic: str) -> None:
    code, _, err = run(
        "patient", "add", "--chart", "P-2", "--family", "Lee", "--given", "Kim",
        "--born", "1975-06-07", "--sex", "male", "--weight", "80 kg", "--weighed-on",
        "2026-11-02", "--height", "180 cm", "--diagnosis", "AGA", "--grade-scale", "norwood",
        "--grade", "III", "--allergy", "latex", "--condition", "keloid",
    )
    assert code == 0, err
    before = (audit_actions(clinic), rows(clinic, PatientWeightRow))
    same = [
        ("--family", "Lee", "--given", " Kim ", "--sex", "m", "--born", "1975-06-07"),
        ("--diagnosis", "AGA", "--grade-scale", "Norwood", "--grade", "III"),
        ("--height", "180.0 cm", "--weight", "80 kg"),  # the latest weight, unchanged
        ("--weight", "80 kg", "--weighed-on", "2026-11-02"),  # in the history that day
        (),
    ]
    for options in same:
        code, out, err = run("patient", "update", "P-2", *options, "--reason", "checked")
        assert (code, err) == (0, ""), options
        assert out == "Nothing changed: P-2 already has these values; nothing saved.\n", options
    code, out, err = run("patient", "update", "P-2", "--grade", "III", "--reason", "x", "--json")
    assert code == 0 and json.loads(out)["changed"] is False and json.loads(out)["grade"] == "III"
    assert (audit_actions(clinic), rows(clinic, PatientWeightRow)) == before
    # A real change is saved and audited as before.
    code, out, err = run("patient", "update", "P-2", "--grade", "IV", "--reason", "progressed",
                         "--json")
    assert code == 0 and json.loads(out)["changed"] is True and json.loads(out)["grade"] == "IV"
    assert audit_actions(clinic) == [*before[0], "patient.update"]


def test_a_weight_in_an_unknown_spelling_is_refused_on_update(clinic: str) -> None:
    code, _, err = run("patient", "add", "--chart", "P-3", "--family", "Roe", "--given", "Al",
                       "--born", "1970-01-01", "--sex", "male")
    assert code == 0, err
    before = audit_actions(clinic)
    code, out, err = run("patient", "update", "P-3", "--weight", "80 kgs", "--reason", "weighed")
    assert (code, out) == (2, "")
    assert err == "formulary: --weight: 'kgs' is not a unit of weight; use kg or lb\n"
    assert audit_actions(clinic) == before and rows(clinic, PatientWeightRow) == 0


def test_a_condition_already_recorded_is_refused_on_update(clinic: str) -> None:
    code, _, err = run("patient", "add", "--chart", "P-4", "--family", "Ito", "--given", "Mai",
                       "--born", "1988-04-05", "--sex", "female", "--condition", "keloid")
    assert code == 0, err
    before = audit_actions(clinic)
    for spelling in ("keloid", "KELOID", "pregnancy; keloid"):
        code, out, err = run("patient", "update", "P-4", "--add-condition", spelling,
                             "--reason", "reported again")
        assert (code, out) == (2, ""), spelling
        assert err == "formulary: --add-condition: keloid is already recorded for P-4\n"
    assert audit_actions(clinic) == before
    code, out, err = run("patient", "update", "P-4", "--add-condition", "pregnancy",
                         "--reason", "reported", "--json")
    assert code == 0, err
    assert json.loads(out)["conditions"] == ["keloid", "pregnancy"]
