"""``formulary calc``: human and JSON output, and one-line errors with exit status 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tui.cli.main import app

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def calc(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["calc", *args])
    return result.exit_code, result.stdout, result.stderr


def calc_json(*args: str) -> dict[str, object]:
    code, out, err = calc(*args, "--json")
    assert code == 0, err
    payload = json.loads(out)
    assert isinstance(payload, dict)
    return payload


@pytest.mark.parametrize(
    ("args", "shown"),
    [
        (["convert", "0.5% w/v", "mg/mL"], "0.5% w/v = 5 mg/mL"),
        (["convert", "5", "mg", "mcg"], "5 mg = 5000 mcg"),
        (["convert", "0.5", "%", "w/v", "mg/mL"], "0.5% w/v = 5 mg/mL"),
        (["convert", "1:1000", "mg/mL"], "1:1000 = 1 mg/mL"),
        (["convert", "1 mg/mL", "ratio w/v"], "1 mg/mL = 1:1000"),
        (["convert", "10 U-100 marks", "mL"], "10 U-100 marks = 0.1 mL"),
        (["convert", "2 cc", "mL"], "2 mL = 2 mL"),
        (["convert", "1 mg", "mcg/mL"], None),
        (["dose", "250 mg/mL", "2 mL"], "2 mL of 250 mg/mL = 500 mg"),
        (["dose", "0.5", "%", "w/v", "2", "mL"], "2 mL of 0.5% w/v = 10 mg"),
        (["dose", "100 units/mL", "0.05 mL"], "0.05 mL of 100 units/mL = 5 units"),
        (
            ["dose", "50000 IU/mL", "0.1 mL"],
            "0.1 mL of 50000 international units/mL = 5000 international units",
        ),
        (["dose", "1000 mcg/mL", "0.5 mL", "--unit", "mg"], "0.5 mL of 1000 mcg/mL = 0.5 mg"),
        (["volume", "500 mg", "250 mg/mL"], "500 mg = 2 mL of 250 mg/mL"),
        (["volume", "25 mg", "250 mg/mL"], "25 mg = 0.1 mL (10 U-100 marks) of 250 mg/mL"),
        (["volume", "1 mg", "3 mg/mL"], "1 mg ≈ 0.3333 mL (33.33 U-100 marks) of 3 mg/mL"),
        (
            ["dilute", "--stock", "0.05% w/v", "--target", "0.01% w/v", "--final", "5 mL"],
            "draw 1 mL (100 U-100 marks) of 0.05% w/v and make up to 5 mL with 4 mL of diluent "
            "for 0.01% w/v",
        ),
    ],
)
def test_human_output(args: list[str], shown: str | None) -> None:
    code, out, err = calc(*args)
    if shown is None:
        assert code == 2 and err.count("\n") == 1
        return
    assert code == 0, err
    assert out.strip() == shown


def test_json_convert() -> None:
    payload = calc_json("convert", "0.5% w/v", "mg/mL")
    assert payload["value"] == "5"
    assert payload["unit"] == "mg/mL"
    assert payload["from"] == {"value": "0.5", "unit": "% w/v", "display": "0.5% w/v"}


def test_json_value_is_the_full_decimal() -> None:
    payload = calc_json("volume", "1 mg", "3 mg/mL")
    assert payload["value"] == "0.333333333333333"
    assert payload["unit"] == "mL"
    assert payload["display"] == "0.3333 mL"


def test_json_dose_and_dilute() -> None:
    assert calc_json("dose", "0.01% w/v", "1 mL")["value"] == "0.1"
    payload = calc_json("dilute", "--stock", "2% w/v", "--target", "5 mg/mL", "--final", "10 mL")
    assert (payload["value"], payload["unit"]) == ("2.5", "mL")
    assert payload["diluent_volume"] == {"value": "7.5", "unit": "mL", "display": "7.5 mL"}


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["convert", "5 mgg", "mg"], "unknown unit 'mgg' — did you mean 'mg'"),
        (["convert", "5 mg", "mgg"], "unknown unit 'mgg'"),
        (["convert", "9^9^9", "mg"], "not an expression"),
        (["convert", "nan mg", "mg"], "not a finite number"),
        (["convert", "-5 mg", "mg"], "must be positive"),
        (["convert", "1e3 mg", "mg"], "scientific notation"),
        (["convert", "5 mg", "mL"], "only through a concentration"),
        (["convert", "400 IU", "mg"], "depends on the substance"),
        (["convert", "100 units", "mg"], "never convert"),
        (["convert", "1% w/w", "mg/mL"], "does not convert"),
        (["convert", "5 mg"], "give an amount and a target unit"),
        (["convert"], "give an amount and a target unit"),
        (["convert", "5 mg", "mcg", "--form", "salt"], "--form and --to-form need --substance"),
        (["convert", "5 mg", "mcg", "--to-form", "zinc"], "--form and --to-form need --substance"),
        (["dose", "5 mg/mL", "1 mL", "--form", "zinc"], "need --substance"),
        (["dose", "5 mg", "2 mL"], "expected a concentration"),
        (["dose", "5 mg/mL", "2 mg"], "expected a volume"),
        (["dose", "5 mg/mL"], "give a concentration and a volume"),
        (["volume", "5 mg", "1% w/w"], "density"),
        (["volume", "5 mg", "0 mg/mL"], "greater than zero"),
        (
            ["dilute", "--stock", "0.01% w/v", "--target", "0.05% w/v", "--final", "5 mL"],
            "stronger than the stock",
        ),
        (["dilute", "--stock", "2%", "--target", "1%", "--final", "5 mL"], "say which percentage"),
        (["dilute", "--stock", "2% w/v"], "give --target, --final"),
    ],
)
def test_bad_input_is_one_line_and_status_2(args: list[str], words: str) -> None:
    code, out, err = calc(*args)
    assert code == 2
    assert out == ""
    assert err.startswith("formulary: ")
    assert err.count("\n") == 1, err
    assert words in err


def test_real_process() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tui", "calc", "convert", "0.5% w/v", "mg/mL", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["value"] == "5"
    bad = subprocess.run(
        [sys.executable, "-m", "tui", "calc", "convert", "5 mgg", "mg"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2
    assert bad.stderr == "formulary: amount: unknown unit 'mgg' — did you mean 'mg' or 'mcg'?\n"
    assert bad.stdout == ""


def test_calc_does_not_load_the_database_or_the_app() -> None:
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from tui.cli.main import app\n"
        "r = CliRunner().invoke(app, ['calc', 'convert', '5 mg', 'mcg'])\n"
        "assert r.exit_code == 0, r.output\n"
        "heavy = ('sqlmodel', 'sqlalchemy', 'textual', 'matplotlib')\n"
        "heavy = [m for m in heavy if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr


def test_unknown_option_is_named() -> None:
    code, _, err = calc("convert", "5 mg", "mcg", "--frm", "salt")
    assert code == 2
    assert err == "formulary: unknown option '--frm': see --help\n"


# --- with the ingredient library -------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "shown"),
    [
        (
            [
                "convert",
                "10 mg",
                "mg",
                "--substance",
                "zinc sulfate heptahydrate",
                "--to-form",
                "zinc",
            ],
            "10 mg ≈ 2.274 mg (Zinc sulfate: zinc sulfate heptahydrate → zinc)",
        ),
        (
            ["convert", "5 mg", "mg", "-s", "zinc", "--form", "zinc", "--to-form", "heptahydrate"],
            "5 mg ≈ 21.99 mg (Zinc sulfate: zinc → zinc sulfate heptahydrate)",
        ),
        (
            [
                "convert",
                "10 mg",
                "mg",
                "-s",
                "zinc",
                "--form",
                "anhydrous",
                "--to-form",
                "heptahydrate",
            ],
            "10 mg ≈ 17.81 mg (Zinc sulfate: zinc sulfate anhydrous → zinc sulfate heptahydrate)",
        ),
        (
            ["convert", "200 mg", "mg", "-s", "lidocaine HCl", "--to-form", "lidocaine base"],
            "200 mg ≈ 173.1 mg (Lidocaine hydrochloride: lidocaine hydrochloride anhydrous → "
            "lidocaine base)",
        ),
        (
            ["convert", "400 IU", "mg", "-s", "RRR-alpha-tocopherol"],
            "400 international units = 268 mg (Vitamin E (natural) - RRR-alpha-tocopherol: "
            "RRR-alpha-tocopherol)",
        ),
        (
            [
                "convert",
                "400 IU",
                "mg",
                "-s",
                "vitamin E natural",
                "--form",
                "RRR-alpha-tocopheryl acetate",
            ],
            "400 international units = 294 mg (Vitamin E (natural) - RRR-alpha-tocopherol: "
            "RRR-alpha-tocopheryl acetate)",
        ),
        (
            [
                "convert",
                "400 IU",
                "mg",
                "-s",
                "vitamin E synthetic",
                "--form",
                "all-rac-alpha-tocopheryl acetate",
            ],
            "400 international units = 400 mg (Vitamin E (synthetic) - all-rac-alpha-tocopheryl "
            "acetate: all-rac-alpha-tocopheryl acetate)",
        ),
        (
            ["convert", "50000 IU/mL", "mg/mL", "-s", "retinol"],
            "50000 international units/mL = 15 mg/mL (Vitamin A - retinol: all-trans-retinol)",
        ),
        (
            ["convert", "10000 IU", "mg", "-s", "retinyl acetate"],
            "10000 international units = 3.44 mg (Vitamin A - retinyl palmitate: retinyl acetate)",
        ),
        (
            ["convert", "1000 IU", "mcg", "-s", "vitamin D3", "--form", "cholecalciferol"],
            "1000 international units = 25 mcg (Vitamin D (D3 or D2): cholecalciferol)",
        ),
        # The substance typed is the form: ergocalciferol is the D2 form of the entry.
        (
            ["convert", "1.25 mg", "IU", "--substance", "ergocalciferol"],
            "1.25 mg = 50000 international units (Vitamin D (D3 or D2): ergocalciferol (D2))",
        ),
        (
            ["convert", "1000 IU", "mcg", "-s", "vitamin D3"],
            "1000 international units = 25 mcg (Vitamin D (D3 or D2): cholecalciferol)",
        ),
        # Vitamin E on the IOM alpha-tocopherol basis, only when named, both ways.
        (
            ["convert", "400 IU", "mg", "-s", "vitamin E synthetic",
             "--to-form", "mg alpha-tocopherol (IOM 2000)"],
            "400 international units = 180 mg (Vitamin E (synthetic) - all-rac-alpha-tocopheryl "
            "acetate: International Units → mg alpha-tocopherol (IOM 2000))",
        ),
        (
            ["convert", "180 mg", "IU", "-s", "vitamin E synthetic",
             "--form", "alpha-tocopherol-iom"],
            "180 mg = 400 international units (Vitamin E (synthetic) - all-rac-alpha-tocopheryl "
            "acetate: mg alpha-tocopherol (IOM 2000) → International Units)",
        ),
        (
            ["convert", "500 mg/mL", "mEq/mL", "-s", "magnesium sulfate"],
            "500 mg/mL ≈ 4.057 mEq/mL (Magnesium sulfate: magnesium sulfate heptahydrate)",
        ),
        (
            ["convert", "0.9% w/v", "mmol/L", "-s", "normal saline"],
            "0.9% w/v ≈ 154 mmol/L (Sodium chloride 0.9%: sodium chloride)",
        ),
        (
            ["dose", "2% w/v", "5 mL", "-s", "lidocaine", "--to-form", "lidocaine base"],
            "5 mL of 2% w/v ≈ 86.54 mg (Lidocaine hydrochloride: lidocaine hydrochloride "
            "anhydrous → lidocaine base)",
        ),
        (
            ["dose", "5 mg/mL", "1 mL", "-s", "zinc", "--form", "zinc", "--unit", "mmol"],
            "1 mL of 5 mg/mL ≈ 0.07648 mmol (Zinc sulfate: zinc)",
        ),
        (
            ["volume", "2 mg", "5 mg/mL", "-s", "zinc", "--form", "zinc", "--to-form", "zinc"],
            "2 mg = 0.4 mL (40 U-100 marks) of 5 mg/mL (Zinc sulfate: zinc)",
        ),
        (
            ["volume", "15 mg", "50000 IU/mL", "-s", "retinol"],
            "15 mg = 1 mL (100 U-100 marks) of 50000 international units/mL "
            "(Vitamin A - retinol: all-trans-retinol)",
        ),
        (
            [
                "dilute",
                "--stock",
                "500 mg/mL",
                "--target",
                "1 mmol/mL",
                "--final",
                "10 mL",
                "-s",
                "magnesium sulfate",
            ],
            "draw 4.929 mL of 500 mg/mL and make up to 10 mL with 5.071 mL of diluent for "
            "1 mmol/mL (rounded)",
        ),
    ],
)
def test_with_library_substances(args: list[str], shown: str) -> None:
    code, out, err = calc(*args)
    assert code == 0, err
    assert out.strip() == shown


def test_json_names_the_substance_and_forms() -> None:
    payload = calc_json(
        "convert", "10 mg", "mg", "-s", "zinc sulfate heptahydrate", "--to-form", "zinc"
    )
    assert payload["substance"] == "zinc-sulfate"
    assert payload["form"] == "zinc sulfate heptahydrate"
    assert payload["to_form"] == "zinc"
    assert payload["value"] == "2.27377060582875"


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (
            ["convert", "400 IU", "mg", "-s", "vitamin E natural"],
            "depend on the form: name one of 'RRR-alpha-tocopherol', "
            "'RRR-alpha-tocopheryl acetate' (name the form with --form",
        ),
        (["convert", "400 IU", "mg", "-s", "vitamin E synthetic"], "depend on the form"),
        (["convert", "1000 IU", "mcg", "-s", "vitamin D"], "depend on the form"),
        # Messages name the substance concerned; the flag hint is the command line's own.
        (["convert", "400 IU", "mg"], "depends on the substance, and none is named (name it "),
        (["convert", "5 mg", "mL"], "(use 'formulary calc dose'"),
        (["convert", "100 IU", "mg", "-s", "biotin"], "no International Unit"),
        (["convert", "10 IU", "mg", "-s", "ascorbic acid"], "no International Unit"),
        (["convert", "100 units", "mg", "-s", "Botox"], "never convert"),
        (["convert", "100 units", "IU", "-s", "Botox"], "never convert"),
        (["convert", "100 mg", "mmol", "-s", "ginkgo"], "no molar mass"),
        (["convert", "5 mg", "mmol", "-s", "vitamin A"], "matches 2 ingredients"),
        (["convert", "5 mg", "mmol", "-s", "vitamn C"], "No ingredient named 'vitamn C'"),
        (
            ["convert", "1 mg", "mg", "-s", "zinc", "--to-form", "copper"],
            "has no form or basis 'copper'",
        ),
        (
            ["convert", "1 mg", "mg", "-s", "zinc", "--form", "dihydrate"],
            "has no form or basis 'dihydrate'",
        ),
        (["dose", "5 mg/mL", "1 mL", "-s", "biotin", "--unit", "IU"], "no International Unit"),
    ],
)
def test_library_refusals(args: list[str], words: str) -> None:
    code, out, err = calc(*args)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1, err
    assert words in err


def test_real_process_with_substance() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tui",
            "calc",
            "convert",
            "400 IU",
            "mg",
            "--substance",
            "vitamin E natural",
            "--form",
            "RRR-alpha-tocopherol",
            "--json",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert (payload["value"], payload["unit"], payload["substance"]) == (
        "268",
        "mg",
        "vitamin-e-natural",
    )
