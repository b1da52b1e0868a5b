"""``formulary lot list|adjust|quarantine|release|mark-recalled|lift-recall`` and
``patient retire`` from an empty database, in-process: output, exit status, and the
rows and audit entries written."""

from __future__ import annotations

import json
import shutil
import sqlite3
from contextlib import closing
from decimal import Decimal
from pathlib import Path

import pytest
import typer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from db.database import open_database
from db.store import Store
from formulary.units import Amount
from tui.cli.lots import _signed_amount
from tui.cli.main import app

PASSWORD = "correct horse battery"


def _empty_clinic(folder: Path) -> str:
    """The library and one administrator, nothing else; the key folder beside it."""
    location = str(folder / "clinic.db")
    database = open_database(location)
    Store(database).create_first_admin("admin", "Ada Admin", PASSWORD)
    database.dispose()
    return location


def _use(folder: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    location = str(folder / "clinic.db")
    monkeypatch.setenv("FORMULARY_KEY_DIR", str(folder / "keys"))
    monkeypatch.setenv("FORMULARY_DB", location)
    monkeypatch.setenv("FORMULARY_USER", "admin")
    monkeypatch.setenv("FORMULARY_PASSWORD", PASSWORD)
    return location


@pytest.fixture
def empty(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """An empty clinic, as a new clinic starts."""
    # The key folder first: the first write pins the key it finds there.
    _use(tmp_path, monkeypatch)
    return _empty_clinic(tmp_path)


@pytest.fixture(scope="module")
def stocked_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty clinic stocked through the command line (:func:`stocked`), built once."""
    from db import auth
    from tests.conftest import cheap_hasher

    folder = tmp_path_factory.mktemp("stocked")
    with pytest.MonkeyPatch.context() as patch:
        # The suite's cheap hashing, which its function-scoped fixtures do not bring here.
        patch.setattr(auth, "_hasher", cheap_hasher)
        patch.setattr(auth, "pause", lambda _s: None)
        _use(folder, patch)
        stocked(_empty_clinic(folder))
    return folder


@pytest.fixture
def clinic(stocked_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A copy of the stocked clinic (database and key folder) for one test."""
    folder = tmp_path / "clinic"
    shutil.copytree(stocked_template, folder)  # modes too: the key stays 0600
    return _use(folder, monkeypatch)


def run(
    *args: str, input: str | None = None, env: dict[str, str] | None = None
) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), input=input, env=env)
    return result.exit_code, result.stdout, result.stderr


def ok(*args: str, env: dict[str, str] | None = None) -> str:
    code, out, err = run(*args, env=env)
    assert code == 0, err
    return out


def audit(location: str) -> list[tuple[str, str]]:
    """(action, reason) of each audit entry, sign-ins left out (every command signs in)."""
    with closing(sqlite3.connect(f"file:{location}?mode=ro", uri=True)) as conn:
        return [
            (str(a), str(r or ""))
            for a, r in conn.execute("SELECT action, reason FROM audit_event ORDER BY seq")
            if not str(a).startswith("auth.")
        ]


def lots(location: str) -> dict[tuple[int, str], tuple[str, str]]:
    """(product id, lot number) → (quantity on hand, status), straight from the table."""
    with closing(sqlite3.connect(f"file:{location}?mode=ro", uri=True)) as conn:
        return {
            (int(p), str(n)): (f"{Decimal(str(q)).normalize():f} {u}", str(s))
            for p, n, q, u, s in conn.execute(
                "SELECT product_id, lot_number, quantity_value, quantity_unit, status FROM lot"
            )
        }


def stocked(location: str) -> None:
    """Two products that both carry a lot A1, and a lot B7 of the first."""
    ok("product", "add", "--name", "Biotin 5 mg/mL", "--presentation", "ampoule",
       "--volume", "5 mL", "-i", "biotin=5 mg/mL")  # fmt: skip
    ok("product", "add", "--name", "Dutasteride 0.01%", "--presentation", "vial",
       "--volume", "10 mL", "-i", "dutasteride=0.1 mg/mL")  # fmt: skip
    ok("lot", "receive", "--product", "1", "--lot", "A1", "--expiry", "2099-01-01",
       "--count", "4")  # fmt: skip
    ok("lot", "receive", "--product", "2", "--lot", "A1", "--expiry", "2098-06-30",
       "--quantity", "20 mL")  # fmt: skip
    ok("lot", "receive", "--product", "1", "--lot", "B7", "--expiry", "2097-03-01",
       "--quantity", "3 mL")  # fmt: skip


def test_list_from_an_empty_database_then_stock_on_hand(empty: str) -> None:
    assert "No usable lots; --all also lists" in ok("lot", "list")
    assert ok("lot", "list", "--all").strip() == "No lots received yet."
    assert json.loads(ok("lot", "list", "--json")) == []
    stocked(empty)
    out = ok("lot", "list").splitlines()
    # Soonest expiry first, each with its product, number, expiry, quantity and state.
    assert [line.split()[-5:] for line in out] == [
        ["B7", "2097-03-01", "3", "mL", "available"],
        ["A1", "2098-06-30", "20", "mL", "available"],
        ["A1", "2099-01-01", "20", "mL", "available"],
    ]
    assert [line.split("  ")[0].strip() for line in out] == [
        "Biotin 5 mg/mL", "Dutasteride 0.01%", "Biotin 5 mg/mL"]  # fmt: skip
    listed = json.loads(ok("lot", "list", "--product", "Biotin 5 mg/mL", "--json"))
    assert [(x["lot_number"], x["quantity_on_hand"], x["units_received"]) for x in listed] == [
        ("B7", "3 mL", None),
        ("A1", "20 mL", 4),
    ]
    assert listed[1]["product"] == "Biotin 5 mg/mL" and listed[1]["state"] == "available"


def test_usable_by_default_and_every_lot_with_all(clinic: str) -> None:
    ok("lot", "adjust", "B7", "--by", "-3 mL", "--reason", "ampoules broken")
    ok("lot", "quarantine", "A1", "--product", "2", "--reason", "cloudy")
    out = ok("lot", "list")
    assert "B7" not in out and "Dutasteride" not in out and "A1" in out
    every = ok("lot", "list", "--all").splitlines()
    states = {line.split()[-1] for line in every}
    assert states == {"empty", "quarantined", "available"} and len(every) == 3
    code, _, err = run("lot", "list", "--product", "Nothing")
    assert code == 2 and "no product 'Nothing'" in err


def test_adjust_writes_the_counted_difference_with_its_reason(clinic: str) -> None:
    before = len(audit(clinic))
    out = ok("lot", "adjust", "A1", "--product", "Biotin 5 mg/mL", "--by", "-2 mL",
             "--reason", "counted 18 mL")  # fmt: skip
    assert out.strip() == "Adjusted lot A1 of Biotin 5 mg/mL by -2 mL: 18 mL on hand (was 20 mL)."
    # A litre figure on a lot counted in mL is converted, not refused.
    ok("lot", "adjust", "B7", "--by=+0.0015 L", "--reason", "found one more")
    as_json = json.loads(ok("lot", "adjust", "A1", "--product", "1", "--by", "+1 mL",
                            "--reason", "recount", "--json"))  # fmt: skip
    assert (as_json["was"], as_json["by"], as_json["quantity_on_hand"]) == (
        "18 mL", "+1 mL", "19 mL")  # fmt: skip
    assert lots(clinic)[(1, "A1")] == ("19 mL", "available")
    assert lots(clinic)[(1, "B7")] == ("4.5 mL", "available")
    assert lots(clinic)[(2, "A1")] == ("20 mL", "available")
    assert audit(clinic)[before:] == [
        ("lot.adjust", "counted 18 mL"),
        ("lot.adjust", "found one more"),
        ("lot.adjust", "recount"),
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("lot", "adjust", "ZZ9", "--by", "-1 mL", "--reason", "r"),
         "no lot ZZ9; `formulary lot list --all`"),
        (("lot", "adjust", "b7", "--by", "-1 mL", "--reason", "r"), "did you mean B7?"),
        (("lot", "adjust", "A1", "--by", "-1 mL", "--reason", "r"),
         "2 products have a lot A1: Dutasteride 0.01% (product id 2, expires 2098-06-30); "
         "Biotin 5 mg/mL (product id 1, expires 2099-01-01); add --product ID"),
        (("lot", "adjust", "B7", "--product", "2", "--by", "-1 mL", "--reason", "r"),
         "no lot B7 of Dutasteride 0.01%"),
        (("lot", "adjust", "B7", "--by", "-4 mL", "--reason", "r"),
         "holds 3 mL; removing 4 mL would leave less than none"),
        (("lot", "adjust", "B7", "--by", "-1 mL"), "give a reason with --reason"),
        (("lot", "adjust", "B7", "--by", "-1 mL", "--reason", "  "), "give a reason"),
        (("lot", "adjust", "B7", "--reason", "r"), "give the correction with --by"),
        (("lot", "adjust", "B7", "--by", "1 mL", "--reason", "r"), "with + or -"),
        (("lot", "adjust", "B7", "--by", "-1 mg", "--reason", "r"),
         "counted in mL (a volume), not in mg (a mass)"),
        (("lot", "adjust", "B7", "--by", "+2 mg/mL", "--reason", "r"), "not in mg/mL"),
        (("lot", "adjust", "B7", "--by", "-1 zz", "--reason", "r"), "--by: unknown unit 'zz'"),
        (("lot", "adjust", "B7", "--by", "-0 mL", "--reason", "r"), "greater than zero"),
        (("lot", "adjust", "B7", "--by", "-", "--reason", "r"), "--by:"),
        (("lot", "quarantine", "B7"), "give a reason with --reason"),
        (("lot", "release", "ZZ9", "--reason", "r"), "no lot ZZ9"),
        (("lot", "quarantine", "A1", "--reason", "r"), "2 products have a lot A1"),
        (("lot", "receive", "--product", "1", "--lot", "B7", "--expiry", "2099-01-01",
          "--quantity", "1 mL"),
         "lot B7 of Biotin 5 mg/mL is already received; correct its count with "
         "`formulary lot adjust B7 --product 1"),
        (("lot", "receive", "--product", "1", "--lot", "b7", "--expiry", "2099-01-01",
          "--quantity", "1 mL"),
         "lot b7 of Biotin 5 mg/mL is already received (as B7); correct its count with "
         "`formulary lot adjust B7 --product 1"),
        (("lot", "correct", "B7", "--number", "B8"), "give a reason with --reason"),
        (("lot", "correct", "B7", "--reason", "r"), "give what to correct: --number"),
        (("lot", "correct", "B7", "--expiry", "2027-02-30", "--reason", "r"),
         "--expiry '2027-02-30' is not a date"),
        (("lot", "correct", "B7", "--number", "a1", "--reason", "r"),
         "lot B7 of Biotin 5 mg/mL cannot become a1: that product has lot A1 already"),
        (("lot", "correct", "B7", "--number", " ", "--reason", "r"), "lot number"),
        (("lot", "correct", "B7", "--number", "B\x1b7", "--reason", "r"), "lot number"),
        (("lot", "correct", "A1", "--number", "A2", "--reason", "r"), "2 products have a lot A1"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_exit_2_and_nothing_saved(
    clinic: str, args: tuple[str, ...], message: str
) -> None:
    before, held = audit(clinic), lots(clinic)
    code, out, err = run(*args)
    assert code == 2 and message in err, err
    assert err.count("\n") == 1 and err.startswith("formulary: ") and out == ""
    assert audit(clinic) == before and lots(clinic) == held


def test_quarantine_then_release_and_repeats_save_nothing(clinic: str) -> None:
    before = len(audit(clinic))
    out = ok("lot", "quarantine", "A1", "--product", "2", "--reason", "cloudy vial")
    assert out.strip() == (
        "Quarantined lot A1 of Dutasteride 0.01%: no session may draw from it until it is "
        "released."
    )
    assert lots(clinic)[(2, "A1")][1] == "quarantined"
    again = ok("lot", "quarantine", "A1", "--product", "2", "--reason", "cloudy vial")
    assert again.startswith("Nothing changed: lot A1 of Dutasteride 0.01% is already quarantined")
    released = json.loads(
        ok("lot", "release", "A1", "--product", "Dutasteride 0.01%", "--reason", "clear", "--json")
    )
    assert (released["status"], released["changed"]) == ("available", True)
    assert json.loads(ok("lot", "release", "B7", "--reason", "x", "--json"))["changed"] is False
    assert lots(clinic)[(2, "A1")][1] == "available"
    assert audit(clinic)[before:] == [("lot.set_status", "cloudy vial"),
                                      ("lot.set_status", "clear")]  # fmt: skip


def test_a_recalled_lot_is_neither_quarantined_nor_released(clinic: str) -> None:
    written = len(audit(clinic))
    out = ok("lot", "mark-recalled", "B7", "--reason", "supplier recall 2026-12")
    assert out.splitlines() == [
        "Recalled lot B7 of Biotin 5 mg/mL: no session may draw from it again.",
        "No signed session drew from it.",
    ]
    assert audit(clinic)[written:] == [("lot.set_status", "supplier recall 2026-12")]
    again = json.loads(ok("lot", "mark-recalled", "B7", "--reason", "again", "--json"))
    assert (again["status"], again["changed"]) == ("recalled", False)
    assert (again["patient_count"], again["session_count"]) == (0, 0)
    before = audit(clinic)
    for verb, done in (("release", "released"), ("quarantine", "quarantined")):
        code, out, err = run("lot", verb, "B7", "--reason", "checked")
        assert code == 2 and out == "" and err.count("\n") == 1, err
        assert err == (
            "formulary: lot B7 of Biotin 5 mg/mL is recalled, and a recall is final: the lot is "
            f"never drawn from again and cannot be {done}; if the recall was recorded by "
            "mistake, an administrator can lift it, giving the reason (the lot then stays "
            "quarantined until it is released)\n"
        )
    assert audit(clinic) == before and lots(clinic)[(1, "B7")][1] == "recalled"
    assert "B7" not in ok("lot", "list") and "recalled" in ok("lot", "list", "--all")
    # The look-up is unchanged: who received it (nobody yet).
    assert "No signed session drew from this lot." in ok("lot", "recall", "B7")


def test_only_an_administrator_lifts_a_recall_and_the_lot_waits_in_quarantine(
    clinic: str,
) -> None:
    code, _, err = run("user", "add", "lee", "--role", "practitioner", "--full-name", "Dr Lee",
                       "--password-stdin", input=f"{PASSWORD}\nlee-password-1\n")  # fmt: skip
    assert code == 0, err
    lee = {"FORMULARY_USER": "lee", "FORMULARY_PASSWORD": "lee-password-1"}
    ok("lot", "mark-recalled", "B7", "--reason", "supplier recall 2026-12", env=lee)
    before = audit(clinic)
    code, out, err = run("lot", "lift-recall", "B7", "--reason", "wrong lot", env=lee)
    assert code == 2 and err.count("\n") == 1, err
    assert "lee is a practitioner and cannot lift a recall; ask an administrator" in err
    code, _, err = run("lot", "lift-recall", "B7")
    assert code == 2 and "give a reason with --reason" in err, err
    code, _, err = run("lot", "lift-recall", "A1", "--product", "2", "--reason", "x")
    assert code == 2 and err == (
        "formulary: lot A1 of Dutasteride 0.01% is not recalled (it is available): there is "
        "no recall to lift\n"
    )
    assert audit(clinic) == before and lots(clinic)[(1, "B7")][1] == "recalled"

    out = ok("lot", "lift-recall", "B7", "--reason", "the notice named lot B1, not B7")
    assert out.strip() == (
        "Lifted the recall of lot B7 of Biotin 5 mg/mL: it is quarantined until it is checked "
        "and released (`formulary lot release B7 --reason ...`)."
    )
    assert audit(clinic)[len(before):] == [
        ("lot.set_status", "recall lifted: the notice named lot B1, not B7")
    ]
    assert lots(clinic)[(1, "B7")][1] == "quarantined"
    assert "B7" not in ok("lot", "list")
    ok("lot", "release", "B7", "--reason", "checked against the notice", env=lee)
    assert "B7" in ok("lot", "list")


@given(
    sign=st.sampled_from(["-", "+"]),
    value=st.decimals(min_value=Decimal("0.001"), max_value=Decimal(10**6), places=3),
    unit=st.sampled_from(["mL", "ml", "L", "mcL", "mg", "IU"]),
    spaces=st.sampled_from(["", " ", "  "]),
)
def test_a_signed_amount_reads_as_the_units_parser_reads_it(
    sign: str, value: Decimal, unit: str, spaces: str
) -> None:
    from formulary.units import parse_quantity

    got = _signed_amount(f"{sign}{spaces}{value}{spaces}{unit}")
    assert got == ((-1 if sign == "-" else 1), parse_quantity(f"{value} {unit}"))


@given(st.text(max_size=20))
def test_any_by_text_is_an_amount_or_exit_2(text: str) -> None:
    try:
        sign, amount = _signed_amount(text)
    except typer.Exit as stop:
        assert stop.exit_code == 2
        return
    assert sign in (-1, 1) and isinstance(amount, Amount) and amount.value > 0


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(by=st.text(alphabet="+-0123456789.,e mLlgu/%", max_size=12))
def test_adjust_with_any_by_saves_exactly_it_or_nothing(clinic: str, by: str) -> None:
    before, held = audit(clinic), lots(clinic)
    code, _, err = run("lot", "adjust", "B7", "--by", by, "--reason", "count")
    after = lots(clinic)
    if code == 0:
        assert len(audit(clinic)) == len(before) + 1
        sign, amount = _signed_amount(by)
        from formulary.units import convert

        moved = convert(amount, "mL").value * sign
        was = Decimal(held[(1, "B7")][0].split()[0])
        assert Decimal(after[(1, "B7")][0].split()[0]) == was + moved
    else:
        assert code == 2 and err.count("\n") == 1 and err.startswith("formulary: ")
        assert audit(clinic) == before and after == held


def test_patient_retire_takes_the_chart_off_the_list(empty: str) -> None:
    clinic = empty
    for chart, given_name in (("C-1", "Ida"), ("C-2", "Lea")):
        ok("patient", "add", "--chart", chart, "--family", "Roux", "--given", given_name,
           "--born", "1990-01-02", "--sex", "female")  # fmt: skip
    before = len(audit(clinic))
    code, _, err = run("patient", "retire", "C-1")
    assert code == 2 and "give a reason with --reason" in err and err.count("\n") == 1
    code, _, err = run("patient", "retire", "C-9", "--reason", "duplicate")
    assert code == 2 and "no patient has chart number C-9" in err
    assert len(audit(clinic)) == before
    out = ok("patient", "retire", "C-1", "--reason", "duplicate chart")
    assert out.startswith("Retired C-1 ROUX, Ida: gone from the patient list")
    assert audit(clinic)[before:] == [("patient.delete", "duplicate chart")]
    listed = ok("patient", "list")
    assert "C-2" in listed and "C-1" not in listed
    assert "C-1" not in ok("patient", "list", "Ida")
    as_json = json.loads(ok("patient", "retire", "C-2", "--reason", "moved away", "--json"))
    assert (as_json["chart_number"], as_json["retired"]) == ("C-2", True)
    assert ok("patient", "list").strip() == (
        "No patients on the list (retired ones are not listed)."
    )
    code, _, err = run("patient", "retire", "C-2", "--reason", "again")
    assert code == 2 and "no patient has chart number C-2" in err
    # Kept on record: the chart number is never given to anyone else.
    code, _, err = run("patient", "add", "--chart", "C-1", "--family", "New", "--given",
                       "Person", "--born", "1991-01-01", "--sex", "male")  # fmt: skip
    assert code == 2 and "already belongs to another patient (deleted)" in err
    with closing(sqlite3.connect(f"file:{clinic}?mode=ro", uri=True)) as conn:
        kept = conn.execute("SELECT count(*) FROM patient WHERE deleted_at IS NOT NULL").fetchone()
    assert kept == (2,)

    # Listed with --retired, the latest first, with when, by whom and why.
    retired = ok("patient", "list", "--retired").splitlines()
    assert [line.split()[0] for line in retired[::2]] == ["C-2", "C-1"]
    assert retired[3].strip().startswith("retired ") and retired[3].endswith(": duplicate chart")
    (one,) = json.loads(ok("patient", "list", "--retired", "ida", "--json"))
    assert (one["chart_number"], one["retired_reason"]) == ("C-1", "duplicate chart")
    assert one["retired_at"].endswith("Z") and one["retired_by"]
    assert ok("patient", "list", "--retired", "nobody").strip() == "No retired patient matches."

    # Brought back when retired by mistake: audited with the reason, on the list again.
    before = len(audit(clinic))
    code, _, err = run("patient", "restore", "C-1")
    assert code == 2 and "give a reason with --reason" in err and err.count("\n") == 1
    code, _, err = run("patient", "restore", "C-9", "--reason", "mistake")
    assert code == 2 and "no retired patient has chart number C-9" in err
    assert len(audit(clinic)) == before
    out = ok("patient", "restore", "c-1", "--reason", "retired the wrong chart")
    assert out.startswith("Restored C-1 ROUX, Ida: back on the patient list")
    assert audit(clinic)[before:] == [("patient.restore", "retired the wrong chart")]
    assert "C-1" in ok("patient", "list", "Ida")
    code, _, err = run("patient", "restore", "C-1", "--reason", "again")
    assert code == 2 and "no retired patient has chart number C-1" in err
    as_json = json.loads(ok("patient", "restore", "C-2", "--reason", "came back", "--json"))
    assert (as_json["chart_number"], as_json["retired"]) == ("C-2", False)
    assert ok("patient", "list", "--retired").strip() == "No patient is retired."


def test_session_findings_name_the_lot_command_that_fixes_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.cli.test_session_record import _open_clinic, session_file

    _use(tmp_path, monkeypatch)
    made = _open_clinic(str(tmp_path / "clinic.db"))
    made.database.dispose()
    record = session_file(tmp_path, made)
    ok("lot", "adjust", "GOOD", "--by", "-99.5 mL", "--reason", "counted 0.5 mL")
    code, out, _ = run("session", "record", str(record), "--user", "drlee", "--check")
    # Short stock is a refusal no option gets past (exit 2), with the findings printed.
    assert code == 2
    assert "lot.stock_short" in out and "only 0.5 mL is on hand" in out
    assert "(`formulary lot adjust GOOD --by '+N mL' --reason ...` after counting it)" in out
    ok("lot", "adjust", "GOOD", "--by", "+9.5 mL", "--reason", "found a box")
    ok("lot", "quarantine", "GOOD", "--reason", "cloudy")
    code, out, _ = run("session", "record", str(record), "--user", "drlee", "--check")
    assert code == 3 and "lot.stock_short" not in out
    assert "lot.quarantined" in out and "(`formulary lot release GOOD --reason ...`" in out
    ok("lot", "release", "GOOD", "--reason", "clear")
    code, out, err = run("session", "record", str(record), "--user", "drlee", "--check")
    assert code == 0 and "formulary lot" not in out, err


def test_an_assistant_may_list_stock_but_not_correct_it(clinic: str) -> None:
    code, _, err = run("user", "add", "sam", "--role", "assistant", "--full-name", "Sam",
                       "--password-stdin", input=f"{PASSWORD}\nsam-password-1\n")  # fmt: skip
    assert code == 0, err
    ok("patient", "add", "--chart", "C-1", "--family", "Roux", "--given", "Ida",
       "--born", "1990-01-02", "--sex", "female")  # fmt: skip
    before, held = audit(clinic), lots(clinic)
    assert "B7" in ok("lot", "list", "--user", "sam", env={"FORMULARY_PASSWORD": "sam-password-1"})
    for args in (("lot", "adjust", "B7", "--by", "-1 mL"), ("lot", "quarantine", "B7"),
                 ("patient", "retire", "C-1")):  # fmt: skip
        code, _, err = run(*args, "--reason", "r", "--user", "sam",
                           env={"FORMULARY_PASSWORD": "sam-password-1"})  # fmt: skip
        assert code == 2 and err.count("\n") == 1 and "administrator or practitioner" in err, err
    assert lots(clinic) == held and audit(clinic) == before
    assert "C-1" in ok("patient", "list")


def test_correct_fixes_what_was_typed_at_receipt_and_keeps_the_lot(clinic: str) -> None:
    held = lots(clinic)[(1, "B7")]
    out = ok("lot", "correct", "B7", "--number", "B8", "--expiry", "2031-05-31",
             "--reason", "the box says B8, expiring May 2031")  # fmt: skip
    first, last = out.strip().split("; ")
    assert first == "Corrected lot B7 of Biotin 5 mg/mL: number B7 -> B8"
    assert last.startswith("expiry ") and last.endswith(" -> 2031-05-31.")
    # The same lot (its stock and status), under the corrected number, audited with why.
    assert (1, "B7") not in lots(clinic) and lots(clinic)[(1, "B8")] == held
    assert audit(clinic)[-1] == ("lot.correct", "the box says B8, expiring May 2031")
    shown = json.loads(ok("lot", "correct", "B8", "--supplier", "Meso Supplies",
                          "--reason", "delivery note", "--json"))  # fmt: skip
    assert (shown["lot_number"], shown["expiry"], shown["supplier"]) == (
        "B8", "2031-05-31", "Meso Supplies"
    )
    assert shown["was"] == {"lot_number": "B8", "expiry": "2031-05-31", "supplier": ""}
    before = audit(clinic)
    code, out, err = run("lot", "correct", "B8", "--supplier", "Meso Supplies", "--reason", "r")
    assert code == 2 and out == "" and "already reads so; nothing was changed" in err
    assert audit(clinic) == before
