"""Text a new user may type by mistake: bytes that are not UTF-8, control characters,
near-duplicate names. Each is one line on stderr, exit 2, and nothing written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from db.database import open_database
from db.store import Store
from db.tables.people import PatientRow, UserRow
from tui.cli.main import app

PASSWORD = "correct horse battery"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def clinic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An empty clinic: the library and one administrator, nothing else."""
    location = str(tmp_path / "clinic.db")
    monkeypatch.setenv("FORMULARY_KEY_DIR", str(tmp_path / "keys"))
    database = open_database(location)
    Store(database).create_first_admin("admin", "Ada Admin", PASSWORD)
    database.dispose()
    monkeypatch.setenv("FORMULARY_DB", location)
    monkeypatch.setenv("FORMULARY_USER", "admin")
    monkeypatch.setenv("FORMULARY_PASSWORD", PASSWORD)
    yield location


def run(*args: str, stdin: bytes | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), input=stdin)
    return result.exit_code, result.stdout, result.stderr


def rows(location: str, model: type) -> int:
    from sqlmodel import Session, func, select

    database = open_database(location)
    try:
        with Session(database.engine) as db:
            return int(db.exec(select(func.count()).select_from(model)).one())
    finally:
        database.dispose()


def refused(code: int, err: str, said: str) -> None:
    assert code == 2, err
    assert err.startswith("formulary: ") and err.count("\n") == 1, err
    assert said in err and "Traceback" not in err and "unexpected" not in err


# "\udcff" is how Python hands over the byte 0xff of a command line that is not UTF-8.
@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("user", "add", "nonu", "--full-name", "Bad\udcffName", "--role", "assistant"),
         "--full-name is not UTF-8 text"),
        (("consent", "sign", "C-100", "--typed-name", "Tess\udcff Test"),
         "--typed-name is not UTF-8 text"),
        (("patient", "list", "--user", "drl\udcffee"), "--user is not UTF-8 text"),
        (("patient", "list", "--user=drl\udcffee"), "--user is not UTF-8 text"),
        (("patient", "list", "--json", "Mo\udcff"), "SEARCH is not UTF-8 text"),
        (("patient", "li\udcffst"), "an argument is not UTF-8 text"),
    ],
)  # fmt: skip
def test_an_argument_that_is_not_utf8_is_refused(
    clinic: str, args: tuple[str, ...], said: str
) -> None:
    code, _, err = run(*args)
    refused(code, err, said)
    assert rows(clinic, UserRow) == 1


def test_an_environment_value_that_is_not_utf8_names_its_option(
    clinic: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORMULARY_USER", "drl\udcffee")
    refused(*run("patient", "list")[::2], "--user is not UTF-8 text")
    monkeypatch.setenv("FORMULARY_USER", "admin")
    monkeypatch.setenv("SOMETHING_ELSE", "\udcff")  # not ours: no business of the command
    assert run("patient", "list")[0] == 0


def test_a_password_on_stdin_that_is_not_utf8_is_refused(clinic: str) -> None:
    code, _, err = run(
        "user", "add", "nonu", "--full-name", "Nona", "--role", "assistant",
        "--password-stdin", stdin=PASSWORD.encode() + b"\nnew pass\xffword long\n",
    )  # fmt: skip
    refused(code, err, "nonu's new password on standard input is not UTF-8 text")
    code, _, err = run("patient", "list", "--password-stdin", stdin=b"correct\xff horse\n")
    refused(code, err, "the password on standard input is not UTF-8 text")
    assert rows(clinic, UserRow) == 1


def test_real_command_line_bytes_are_refused(clinic: str) -> None:
    """The installed command, given the bytes a shell passes: no crash report."""
    result = subprocess.run(
        [sys.executable, "-m", "tui", "user", "add", "nonu", "--full-name", b"Bad\xffName",
         "--role", "assistant", "--password-stdin"],
        cwd=ROOT, input=f"{PASSWORD}\nlong enough password\n".encode(), capture_output=True,
        timeout=120, env=os.environ,
    )  # fmt: skip
    err = result.stderr.decode()
    refused(result.returncode, err, "--full-name is not UTF-8 text")
    assert rows(clinic, UserRow) == 1


@pytest.mark.parametrize("bad", ["\x1b[31m", "\x07", "\r", "\t", "\x9b"])
def test_control_characters_in_a_patient_are_refused(clinic: str, bad: str) -> None:
    code, _, err = run(
        "patient", "add", "--chart", "C-001", "--family", f"Do{bad}e", "--given", "Jane",
        "--born", "1980-01-02", "--sex", "female",
    )  # fmt: skip
    refused(code, err, "the family name contains a")
    code, _, err = run(
        "patient", "add", "--chart", f"C-0{bad}01", "--family", "Doe", "--given", "Jane",
        "--born", "1980-01-02", "--sex", "female",
    )  # fmt: skip
    refused(code, err, "the chart number contains a")
    assert rows(clinic, PatientRow) == 0


def test_setting_one_clinic_detail_keeps_the_others(clinic: str) -> None:
    assert run("clinic", "set", "--name", "North Clinic", "--address", "1 High St\nLeeds")[0] == 0
    assert run("clinic", "set", "--name", "North Hair Clinic")[0] == 0
    _, out, _ = run("clinic", "show", "--json")
    assert json.loads(out)["name"] == "North Hair Clinic"
    assert json.loads(out)["address"] == "1 High St\nLeeds"
    assert run("clinic", "set", "--address", "2 Low St")[0] == 0
    shown = json.loads(run("clinic", "show", "--json")[1])
    assert (shown["name"], shown["address"]) == ("North Hair Clinic", "2 Low St")
    assert run("clinic", "set", "--identifier", "north")[0] == 0
    shown = json.loads(run("clinic", "show", "--json")[1])
    assert (shown["name"], shown["address"]) == ("North Hair Clinic", "2 Low St")
    refused(*run("clinic", "set")[::2], "nothing to change")


PRODUCT = ("--presentation", "ampoule", "--volume", "5 mL", "-i", "biotin=5 mg/mL")


def test_a_product_chart_or_template_twin_in_another_case_is_refused(clinic: str) -> None:
    assert run("product", "add", "--name", " Biotin 5 mg/mL ", *PRODUCT)[0] == 0
    for twin in ("Biotin 5 mg/mL", "biotin 5 MG/ML"):
        refused(*run("product", "add", "--name", twin, *PRODUCT)[::2], "is already called")
    code, _, err = run(
        "lot", "receive", "--product", "Biotin 5 mg/mL", "--lot", "V1", "--expiry", "2029-01-01",
        "--quantity", "12 mL",
    )  # fmt: skip
    assert code == 0, err
    patient = ("--family", "Doe", "--given", "Jane", "--born", "1980-01-02", "--sex", "female")
    assert run("patient", "add", "--chart", "C-001", *patient)[0] == 0
    refused(*run("patient", "add", "--chart", " c-001 ", *patient)[::2], "already belongs")
    code, _, err = run("patient", "update", "c-001", "--given", "Janet", "--reason", "typo")
    assert code == 0, err
    assert rows(clinic, PatientRow) == 1
    assert run("consent", "template", "add", "Standard consent")[0] == 0
    refused(*run("consent", "template", "add", "standard CONSENT")[::2],
            "named 'Standard consent' exists")


def test_a_weight_in_pounds_exports_and_imports(clinic: str, tmp_path: Path) -> None:
    code, _, err = run(
        "patient", "add", "--chart", "C-001", "--family", "Doe", "--given", "Jane",
        "--born", "1980-01-02", "--sex", "female", "--weight", "180 lb",
    )  # fmt: skip
    assert code == 0, err
    out = tmp_path / "clinic.json"
    code, _, err = run("export", "json", "-o", str(out))
    assert code == 0, err
    target = str(tmp_path / "new.db")
    database = open_database(target)
    Store(database).create_first_admin("admin", "Ada Admin", PASSWORD)
    database.dispose()
    code, out_text, err = run("import", str(out), "--db", target, "--json")
    assert code == 0, err
    assert json.loads(out_text)["counts"]["patients"] == 1
    database = open_database(target)
    try:
        from sqlmodel import Session, select

        from db.tables.people import PatientWeightRow

        with Session(database.engine) as db:
            weight = db.exec(select(PatientWeightRow)).one()
        assert (weight.entered_value, weight.entered_unit) == (Decimal(180), "lb")
    finally:
        database.dispose()


def test_an_ingredient_retired_then_added_again(clinic: str) -> None:
    adenosine = ("ingredient", "add", "--name", "Adenosine", "--category", "other",
                 "--form", "adenosine=267.24", "--class", "nucleoside")  # fmt: skip
    assert run(*adenosine)[0] == 0
    code, _, err = run("ingredient", "retire", "adenosine", "--reason", "mistake")
    assert code == 0, err
    code, out, err = run(*adenosine)
    assert code == 0, err
    assert "clinic-adenosine" in out
    assert "adenosine" in run("ingredient", "list", "adenosine")[1]
