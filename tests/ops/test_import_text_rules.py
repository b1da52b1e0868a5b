"""``import`` applies the text rules typed input meets (formulary/text.py).

No control character in a one-line field (a line break and a tab only in free text),
and no two chart numbers, live product names or consent template names that differ
only in case or spacing (formulary.text.same_key). A file breaking either is refused
as a whole, by the record and field, and the database is left as it was.
"""

from __future__ import annotations

import copy
import json
import shutil
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from db import auth
from db.audit.chain import read_head
from db.database import open_database
from db.ops.transfer import TransferError, import_document, parse_document
from db.store import Actor
from formulary.records import Role
from formulary.text import same_key
from tests.conftest import cheap_hasher
from tests.ops.conftest import DEMO_ADMIN

_STAMP = "2026-01-02T03:04:05.000000Z"


def _patient(index: int, chart: str, family: str, diagnosis: str = "") -> dict[str, Any]:
    return {
        "id": index + 1, "chart_number": chart, "family_name": family, "given_name": "Ann",
        "date_of_birth": "1980-01-02", "sex": "female", "diagnosis": diagnosis,
        "grade_scale": None, "grade": "", "weight": None, "height": None,
        "allergies": [], "conditions": [], "consent_on_file": False, "consent_date": None,
        "created_at": _STAMP, "updated_at": _STAMP, "deleted_at": None,
    }


def _product(index: int, name: str, *, retired: str = "") -> dict[str, Any]:
    return {
        "id": index + 1, "name": name, "manufacturer": "", "volume": None, "ingredients": [],
        "presentation": None, "gtin": None, "retired_reason": retired,
        "created_at": _STAMP, "updated_at": _STAMP, "deleted_at": _STAMP if retired else None,
    }


def _lot(index: int, number: str, product_id: int = 1) -> dict[str, Any]:
    return {
        "id": index + 1, "product_id": product_id, "lot_number": number,
        "expiry": "2030-01-31", "quantity": {"value": "5", "unit": "mL"},
        "status": "available", "supplier": "", "units_received": None,
        "received_at": _STAMP, "updated_at": _STAMP,
    }


def _document(**records: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "format": "formulary-export", "version": 1, "exported_at": _STAMP,
        "exported_by": "someone", "source": {"db_id": "elsewhere"},
        "clinic": {"name": "Test clinic", "address": "1 Road\nTown"},
        "records": records,
    }


# -- the rules, file by file (no database) ------------------------------------------------


@pytest.mark.parametrize(
    ("document", "path", "words"),
    [
        (_document(patients=[_patient(0, "C-1", "Doe"), _patient(1, "C-\x1b2", "Roe")]),
         "records.patients[1].chart_number", "control character (U+001B)"),
        (_document(patients=[_patient(0, "C-1", "Do\ne")]),
         "records.patients[0].family_name", "line break (U+000A) (it is one line)"),
        (_document(patients=[_patient(0, "C-1", "Doe"), _patient(1, "c-1", "Roe")]),
         "records.patients[1].chart_number", "records.patients[0] ('C-1')"),
        (_document(patients=[_patient(0, "C 1", "Doe"), _patient(1, "c  1", "Roe")]),
         "records.patients[1].chart_number", "differing only in case or spacing"),
        (_document(products=[_product(0, "Biotin 5 mg/mL"), _product(1, "BIOTIN 5 MG/ML")]),
         "records.products[1].name", "records.products[0] ('Biotin 5 mg/mL')"),
        (_document(patients=[_patient(0, "C-1", "Doe", diagnosis="hair\x07loss")]),
         "records.patients[0].diagnosis", "control character (U+0007)"),
        (_document(patients=[{**_patient(0, "C-1", "Doe"),
                              "allergies": [{"substance": "latex\r", "ingredient_id": None,
                                             "reaction": ""}]}]),
         "records.patients[0].allergies[0].substance", "line break (U+000D)"),
        ({**_document(), "clinic": {"name": "Clinic\x1b[2J", "address": ""}},
         "clinic.name", "control character (U+001B)"),
        (_document(products=[_product(0, "Biotin")], lots=[_lot(0, "A1"), _lot(1, "a1")]),
         "records.lots[1].lot_number", "records.lots[0] ('A1')"),
    ],
)
def test_a_breach_is_refused_by_record_and_field(
    document: dict[str, Any], path: str, words: str
) -> None:
    with pytest.raises(TransferError) as caught:
        parse_document(json.dumps(document))
    message = str(caught.value)
    assert message.startswith(path + ": "), message
    assert words in message
    assert message.endswith("nothing was imported") and "\n" not in message


def test_free_text_keeps_line_breaks_and_tabs_and_retired_names_may_repeat() -> None:
    document = _document(
        products=[_product(0, "Biotin", retired="line one\n\tline two"), _product(1, "biotin")],
    )
    _, rows = parse_document(json.dumps(document))
    assert rows["products"][0]["retired_reason"] == "line one\n\tline two"
    assert [r["name"] for r in rows["products"]] == ["Biotin", "biotin"]


def test_the_same_lot_number_may_serve_two_products() -> None:
    document = _document(
        products=[_product(0, "Biotin"), _product(1, "Zinc")],
        lots=[_lot(0, "A1"), _lot(1, "a1", product_id=2)],
    )
    _, rows = parse_document(json.dumps(document))
    assert [r["lot_number"] for r in rows["lots"]] == ["A1", "a1"]


def test_consent_template_names_are_one_whatever_their_case() -> None:
    template = {"id": 2, "name": "Mesotherapy consent", "current_version": 1,
                "created_at": _STAMP, "updated_at": _STAMP, "retired_at": None,
                "retired_reason": ""}
    twin = {**template, "id": 3, "name": "MESOTHERAPY  consent"}
    with pytest.raises(TransferError, match=r"^records\.consent_templates\[1\]\.name: "):
        parse_document(json.dumps(_document(consent_templates=[template, twin])))


# -- any file, into a database --------------------------------------------------------------

_ONE_LINE = st.text(alphabet="aAbB -\x1b\x07\t\n\x85", min_size=1, max_size=4)


@pytest.fixture(scope="module")
def _template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A new database made by ``formulary init`` once; each example imports into a copy."""
    folder = tmp_path_factory.mktemp("import-template")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FORMULARY_KEY_DIR", str(folder / "keys"))
        patch.delenv("FORMULARY_PASSWORD", raising=False)
        patch.setattr(auth, "_hasher", cheap_hasher)
        from tui.cli.main import app

        result = CliRunner().invoke(
            app, ["init", "--db", str(folder / "new.db"), "--admin", DEMO_ADMIN.username,
                  "--password-stdin"], input=DEMO_ADMIN.password + "\n")
        assert result.exit_code == 0, result.output
    yield folder / "new.db"


def _admin() -> Actor:
    return Actor(1, DEMO_ADMIN.username, DEMO_ADMIN.full_name, Role.ADMIN)


def _state(connection: sa.Connection) -> tuple[int, int, tuple[int, str]]:
    patients = connection.execute(sa.text("SELECT count(*) FROM patient")).scalar_one()
    products = connection.execute(sa.text("SELECT count(*) FROM product")).scalar_one()
    return int(patients), int(products), read_head(connection)


def _expected_refusal(patients: list[tuple[str, str]]) -> str | None:
    """Where the import must stop: the first record breaking a rule, or None."""
    seen: set[str] = set()
    for i, (chart, family) in enumerate(patients):
        for field, value in (("chart_number", chart), ("family_name", family)):
            if any(unicodedata.category(c) == "Cc" for c in value):
                return f"records.patients[{i}].{field}"
        if same_key(chart) in seen:
            return f"records.patients[{i}]"
        seen.add(same_key(chart))
    return None


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(patients=st.lists(st.tuples(_ONE_LINE, _ONE_LINE), min_size=1, max_size=5))
def test_any_file_is_imported_whole_or_refused_with_nothing_written(
    _template: Path, tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch, patients: list[tuple[str, str]],
) -> None:
    target = tmp_path_factory.mktemp("import") / "target.db"
    shutil.copy(_template, target)
    monkeypatch.setenv("FORMULARY_KEY_DIR", str(_template.parent / "keys"))
    document = _document(
        patients=[_patient(i, chart, family) for i, (chart, family) in enumerate(patients)])
    database = open_database(target)
    try:
        with database.engine.connect() as connection:
            before = _state(connection)
        expected = _expected_refusal(patients)
        try:
            import_document(database, _admin(), json.dumps(document), source_name="x.json")
        except TransferError as exc:
            assert expected is not None, str(exc)
            assert str(exc).startswith(expected), (str(exc), expected)
            with database.engine.connect() as connection:
                assert _state(connection) == before
            return
        assert expected is None
        with database.engine.connect() as connection:
            stored = connection.execute(sa.text(
                "SELECT chart_number, family_name FROM patient ORDER BY id")).all()
        assert [tuple(r) for r in stored] == patients
    finally:
        database.dispose()


# -- both engines ---------------------------------------------------------------------------


@pytest.mark.storage
def test_a_twin_or_control_character_late_in_the_file_writes_nothing(
    new_location: Callable[[], str], open_db: Callable[..., Any],
    cli: Callable[..., Any],
) -> None:
    target = new_location()
    result = cli(["init", "--db", target, "--admin", DEMO_ADMIN.username,
                  "--password-stdin"], input=DEMO_ADMIN.password + "\n")
    assert result.exit_code == 0, result.output
    database = open_db(target)
    good = _document(
        products=[_product(0, "Biotin", retired="a\n\tb"), _product(1, "biotin")],
        patients=[_patient(i, f"C-{i}", "Doe") for i in range(30)],
    )
    twin = copy.deepcopy(good)
    twin["records"]["patients"][29]["chart_number"] = "c-3"
    control = copy.deepcopy(good)
    control["records"]["patients"][29]["given_name"] = "Ann\x9b"
    with database.engine.connect() as connection:
        before = _state(connection)
    for bad, path in ((twin, "records.patients[29].chart_number: "),
                      (control, "records.patients[29].given_name: ")):
        with pytest.raises(TransferError, match="^" + path.replace("[", r"\[")):
            import_document(database, _admin(), json.dumps(bad), source_name="bad.json")
        with database.engine.connect() as connection:
            assert _state(connection) == before
    import_document(database, _admin(), json.dumps(good), source_name="good.json")
    with database.engine.connect() as connection:
        charts = connection.execute(sa.text(
            "SELECT chart_number FROM patient ORDER BY id")).scalars().all()
        products = connection.execute(sa.text(
            "SELECT name, retired_reason FROM product ORDER BY id")).all()
    assert charts == [f"C-{i}" for i in range(30)]
    assert [tuple(r) for r in products] == [("Biotin", "a\n\tb"), ("biotin", "")]
