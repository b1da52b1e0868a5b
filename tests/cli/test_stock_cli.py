"""``formulary product|lot|ingredient|import-csv`` from an empty database, in-process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from db.database import open_database
from db.store import Store
from db.tables.stock import ClinicLimitRow, LotRow, ProductRow
from tui.cli.main import app

PASSWORD = "correct horse battery"
GTIN = "05012345678900"


@pytest.fixture
def clinic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An empty clinic: the library and one administrator, nothing else."""
    location = str(tmp_path / "clinic.db")
    # The key folder first: the first write pins the key it finds there.
    monkeypatch.setenv("FORMULARY_KEY_DIR", str(tmp_path / "keys"))
    database = open_database(location)
    Store(database).create_first_admin("admin", "Ada Admin", PASSWORD)
    database.dispose()
    monkeypatch.setenv("FORMULARY_DB", location)
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


def test_products_lots_and_limits_from_an_empty_database(clinic: str) -> None:
    code, out, _ = run(
        "product", "add", "--name", "Biotin 5 mg/mL", "--presentation", "ampoule",
        "--volume", "5 mL", "-i", "biotin=5 mg/mL", "--gtin", "5012345678900",
    )  # fmt: skip
    assert code == 0 and "Added product 1" in out and GTIN in out
    code, out, _ = run(
        "lot", "receive", "--scan", f"]d201{GTIN}10LOT7<GS>17281231", "--count", "10",
        "--supplier", "Wholesale",
    )  # fmt: skip
    assert code == 0 and "50 mL (10 units)" in out and "2028-12-31" in out
    code, out, _ = run(
        "lot", "receive", "--product", "Biotin 5 mg/mL", "--lot", "V1", "--expiry", "2029-01-01",
        "--quantity", "12 mL",
    )  # fmt: skip
    assert code == 0 and "12 mL" in out
    assert rows(clinic, LotRow) == 2
    code, out, _ = run("ingredient", "limit", "add", "biotin", "--per", "session",
                       "--amount", "10 mg", "--source", "clinic protocol 2026")  # fmt: skip
    assert code == 0 and "at most 10 mg per session" in out
    assert rows(clinic, ClinicLimitRow) == 1
    code, out, _ = run("product", "list", "--json")
    assert code == 0 and '"gtin": "05012345678900"' in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("product", "add", "--name", "E", "--presentation", "ampoule", "--volume", "2 mL",
          "-i", "vitamin-e-natural=400 IU"), "expected a concentration"),
        (("product", "add", "--name", "B", "--presentation", "ampoule", "--volume", "2 mL",
          "-i", "biotin=5 mg/mL", "--gtin", "5012345678901"), "check digit"),
        (("product", "add", "--name", "B", "--presentation", "sachet", "--volume", "2 mL",
          "-i", "biotin=5 mg/mL"), "not a presentation"),
        (("lot", "receive", "--scan", "hello", "--count", "1"), "not a complete GS1 code"),
        (("lot", "receive", "--scan", f"01{GTIN}1728123110X", "--count", "1"),
         "no product has GTIN"),
        (("lot", "receive", "--scan", f"01{GTIN}10X", "--count", "1"), "no expiry date (17)"),
        (("ingredient", "limit", "add", "biotin", "--per", "session", "--amount", "10 mg"),
         "--source"),
        (("product", "retire", "1"), "--reason"),
    ],
)  # fmt: skip
def test_refusals_are_one_line_on_stderr(clinic: str, args: tuple[str, ...], message: str) -> None:
    code, _, err = run(*args)
    assert code == 2 and message in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert rows(clinic, ProductRow) == 0


def test_add_clinic_ingredient_then_a_product_of_it(clinic: str) -> None:
    code, _, err = run("ingredient", "add", "--name", "GHK-Cu")
    assert code == 2 and "already in the formulary" in err  # the library has it
    code, out, _ = run("ingredient", "add", "--name", "Adenosine", "--category", "other",
                       "--form", "adenosine=267.24", "--class", "nucleoside")  # fmt: skip
    assert code == 0 and "clinic-adenosine" in out
    code, out, _ = run("product", "add", "--name", "Adenosine powder", "--presentation", "powder",
                       "--volume", "2 mL", "-i", "adenosine=10 mg")  # fmt: skip
    assert code == 0 and "10 mg per vial = 5 mg/mL" in out


CSV = """name,manufacturer,presentation,volume_per_unit,gtin,ingredient,strength,form
Biotin 5 mg/mL,Aubrac,ampoule,1 mL,5012345678900,biotin,5 mg/mL,
Hair B complex,Helix,vial,5 mL,,biotin,2 mg/mL,
Hair B complex,,,,,dexpanthenol,50 mg/mL,
"""


def test_import_csv_products_dry_run_then_for_real(clinic: str, tmp_path: Path) -> None:
    path = tmp_path / "products.csv"
    path.write_text(CSV, encoding="utf-8")
    code, out, _ = run("import-csv", "products", str(path), "--dry-run")
    assert code == 0 and "would import 2 product(s)" in out
    assert rows(clinic, ProductRow) == 0
    code, out, _ = run("import-csv", "products", str(path))
    assert code == 0 and "imported 2 product(s)" in out
    assert rows(clinic, ProductRow) == 2


def test_import_csv_names_each_bad_cell_and_writes_nothing(clinic: str, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        CSV
        + "Vit E,X,ampoule,2 mL,,vitamin-e-natural,400 IU,\nZ,X,ampoule,2 mL,123,nosuch,1 mg/mL,\n",
        encoding="utf-8",
    )
    code, _, err = run("import-csv", "products", str(path))
    assert code == 2
    lines = err.strip().splitlines()
    assert f"{path}:5: column strength: expected a concentration" in lines[0]
    assert f"{path}:6: column gtin:" in lines[1]
    assert "nothing imported (2 problem(s)" in lines[-1]
    assert rows(clinic, ProductRow) == 0
    # Unknown ingredient names are found once the cells are right, still by line.
    path.write_text(CSV + "Z,X,ampoule,2 mL,,nosuch,1 mg/mL,\n", encoding="utf-8")
    code, _, err = run("import-csv", "products", str(path))
    assert code == 2 and f"{path}:5: column ingredient: no ingredient is called 'nosuch'" in err
    # A Store refusal (the same GTIN twice) names the file line too, and nothing is written.
    path.write_text(CSV + "Again,X,ampoule,1 mL,5012345678900,biotin,5 mg/mL,\n", encoding="utf-8")
    code, _, err = run("import-csv", "products", str(path))
    assert code == 2 and f"{path}:5 (Again): GTIN 05012345678900 is already" in err
    assert rows(clinic, ProductRow) == 0


def test_limit_edit_and_ingredient_retire_need_reasons(clinic: str) -> None:
    run("ingredient", "limit", "add", "biotin", "--per", "session", "--amount", "10 mg",
        "--source", "p1")  # fmt: skip
    code, _, err = run("ingredient", "limit", "edit", "1", "--amount", "8 mg")
    assert code == 2 and "--reason" in err
    code, out, _ = run("ingredient", "limit", "edit", "1", "--amount", "8 mg", "--reason", "p2")
    assert code == 0 and "at most 8 mg per session, source: p1" in out
    code, _, err = run("ingredient", "retire", "biotin", "--reason", "no")
    assert code == 2 and "library ingredient" in err
    run("ingredient", "add", "--name", "Adenosine")
    code, out, _ = run("ingredient", "retire", "adenosine", "--reason", "not stocked")
    assert code == 0 and "Retired ingredient Adenosine" in out


def test_an_expired_lot_is_refused_as_the_receive_form_refuses_it(clinic: str) -> None:
    code, _, _ = run("product", "add", "--name", "Biotin 5 mg/mL", "--presentation", "ampoule",
                     "--volume", "2 mL", "-i", "biotin=5 mg/mL")  # fmt: skip
    assert code == 0
    code, _, err = run("lot", "receive", "--product", "Biotin 5 mg/mL", "--lot", "OLD",
                       "--expiry", "2020-01-01", "--count", "1")  # fmt: skip
    assert code == 2 and "expired on 2020-01-01" in err and err.count("\n") == 1
    assert rows(clinic, LotRow) == 0
    code, out, _ = run("lot", "receive", "--product", "Biotin 5 mg/mL", "--lot", "NEW",
                       "--expiry", "2030-01-01", "--count", "1")  # fmt: skip
    assert code == 0 and "(1 unit)" in out
