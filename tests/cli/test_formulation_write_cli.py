"""``formulary formulation add|revise|retire`` and ``formulary course start``, from an
empty database as a new clinic has it.

Each refusal is one line on stderr with its documented exit status (2 bad input, 3 the
safety rules stop the save) and writes nothing; what is saved is read back through the
Store. The last test walks the whole headless path a clinic without the app takes,
from ``init`` to a signed session.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from db.database import open_database
from db.store import Actor, ComponentSpec, PatientFields, Store, StrengthSpec
from formulary.records import Allergy, Role, Sex
from formulary.units.amount import Amount
from tui.cli.formulation import parse_component
from tui.cli.root import app

pytestmark = [pytest.mark.storage]

PASSWORD = "correct horse battery"
BIOTIN = "Biotin 5 mg/mL"


def ml(text: str) -> Amount:
    return Amount(Decimal(text), "mL")


@dataclass
class Clinic:
    location: str
    store: Store
    lee: Actor
    product_id: int
    patient_id: int  # C-1, no allergy
    allergic_id: int  # C-2, allergic to biotin


@pytest.fixture
def clinic(tmp_path: Path) -> Iterator[Clinic]:
    location = str(tmp_path / "clinic.db")
    database = open_database(location)  # what `formulary init` makes: no demo
    store = Store(database, workstation="test-ws")
    admin = store.create_first_admin("admin", "Ada Admin", PASSWORD)
    store.create_user(admin, "drlee", "Dr Lee Park", Role.PRACTITIONER, PASSWORD)
    store.create_user(admin, "sam", "Sam Assistant", Role.ASSISTANT, PASSWORD)
    lee = store.authenticate("drlee", PASSWORD)
    biotin = next(i.id for i in store.list_ingredients(lee, "biotin") if i.key == "biotin")
    product = store.create_product(
        lee, name=BIOTIN, volume_per_unit=ml("2"),
        ingredients=[StrengthSpec(biotin, Amount(Decimal(5), "mg/mL"))],
    )
    one = store.create_patient(lee, PatientFields("C-1", "Doe", "Jane", date(1980, 1, 2),
                                                  Sex.FEMALE))
    two = store.create_patient(lee, PatientFields("C-2", "Roe", "Ann", date(1981, 3, 4),
                                                  Sex.FEMALE, allergies=(Allergy("biotin"),)))
    try:
        yield Clinic(location, store, lee, product.id, one.id, two.id)
    finally:
        database.dispose()


def run(clinic: Clinic, *args: str, user: str = "drlee") -> tuple[int, str, str]:
    result = CliRunner().invoke(
        app, [*args, "--db", clinic.location, "--user", user],
        env={"FORMULARY_PASSWORD": PASSWORD, "FORMULARY_DB": ""},
    )
    return result.exit_code, result.stdout, result.stderr


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("formulary: "), err
    assert "Traceback" not in err
    return lines[0]


def actions(clinic: Clinic) -> list[str]:
    """The audit trail's actions, sign-ins left out (a refused command still signs in)."""
    uri = f"file:{clinic.location}?mode=ro"
    with contextlib.closing(sqlite3.connect(uri, uri=True)) as conn:
        rows = conn.execute("SELECT action FROM audit_event ORDER BY seq").fetchall()
    return [a for (a,) in rows if not a.startswith("auth.")]


def add(clinic: Clinic, *extra: str, chart: str = "C-1",
        user: str = "drlee") -> tuple[int, str, str]:
    return run(clinic, "formulation", "add", chart, "--name", "Hair cocktail",
               "-c", f"product:{BIOTIN}=1 mL", "-c", "ingredient:dexpanthenol=10 mg",
               "--final-volume", "1 mL", *extra, user=user)


# -- the component syntax ---------------------------------------------------------------


@given(
    kind=st.sampled_from(["product", "ingredient", "Product", " ingredient "]),
    name=st.text(st.characters(blacklist_characters="="),
                 min_size=1).filter(str.strip),
    amount=st.text(min_size=1).filter(str.strip),
)
def test_a_component_reads_back_as_kind_name_and_amount(kind: str, name: str,
                                                        amount: str) -> None:
    text = f"{kind}:{name}={amount}"
    if "=" in amount:  # the amount is after the last '='
        with contextlib.suppress(ValueError):
            assert parse_component(text)[2] == amount.rpartition("=")[2].strip()
        return
    assert parse_component(text) == (kind.strip().casefold(), " ".join(name.split()),
                                     amount.strip())


@given(st.text())
def test_any_text_is_a_component_or_one_reason_why_not(text: str) -> None:
    try:
        kind, name, amount = parse_component(text)
    except ValueError as exc:
        assert "product:NAME=AMOUNT" in str(exc)
    else:
        assert kind in ("product", "ingredient") and name and amount


@pytest.mark.slow
@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(amount=st.text(min_size=1, max_size=20))
def test_any_amount_typed_is_saved_or_refused_in_one_line(clinic: Clinic, amount: str) -> None:
    before = len(clinic.store.list_formulations(clinic.lee, clinic.patient_id))
    code, _, err = run(clinic, "formulation", "add", "C-1", "--name", "Mix",
                         "-c", f"product:{BIOTIN}={amount}")
    after = clinic.store.list_formulations(clinic.lee, clinic.patient_id)
    if code == 0:
        assert len(after) == before + 1 and after[-1].components[0].amount.unit == "mL"
    else:
        assert code == 2, (code, err)
        assert one_line(err) and len(after) == before


# -- add --------------------------------------------------------------------------------


def test_add_saves_the_components_in_order_and_prints_the_ids(clinic: Clinic) -> None:
    code, out, err = add(clinic, "--note", "first plan", "--json")
    assert code == 0, err
    printed = json.loads(out)
    (saved,) = clinic.store.list_formulations(clinic.lee, clinic.patient_id)
    assert printed["saved"] is True and printed["findings"] == []
    assert (printed["formulation_id"], printed["formulation_version_id"]) == (
        saved.formulation_id, saved.id)
    assert [(c.position, c.name, c.amount, c.product_id is not None) for c in saved.components] \
        == [(1, BIOTIN, ml("1"), True), (2, "Dexpanthenol", Amount(Decimal(10), "mg"), False)]
    assert saved.final_volume == ml("1") and saved.note == "first plan"
    assert saved.formulation_name == "Hair cocktail" and saved.created_by == "Dr Lee Park"
    assert "formulation.create" in actions(clinic)
    code, out, _ = add(clinic)
    assert code == 0
    assert out.startswith("saved new: formulation 2: Hair cocktail, version 1 "
                          "(formulation_version_id 2)")


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["-c", "Biotin=1 mL"], "product:NAME=AMOUNT"),
        (["-c", "product:Biotin=1 mL"], "no product 'Biotin'"),
        (["-c", f"product:{BIOTIN}=1 mg"], "is a mass"),
        (["-c", f"product:{BIOTIN}="], "give the amount"),
        (["-c", "ingredient:unobtainium=1 mg"], "no ingredient is called 'unobtainium'"),
        (["-c", f"product:{BIOTIN}=1 mL", "--final-volume", "3"], "--final-volume"),
        ([], "--component"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_saves_nothing(
    clinic: Clinic, args: list[str], says: str
) -> None:
    before = actions(clinic)
    code, _, err = run(clinic, "formulation", "add", "C-1", "--name", "X", *args)
    assert code == 2 and says in one_line(err)
    assert actions(clinic) == before


def test_unknown_chart_no_name_and_an_assistant_are_refused(clinic: Clinic) -> None:
    before = actions(clinic)
    code, _, err = add(clinic, chart="C-9")
    assert code == 2 and "C-9" in one_line(err)
    code, _, err = run(clinic, "formulation", "add", "C-1", "-c", f"product:{BIOTIN}=1 mL")
    assert code == 2 and "--name" in one_line(err)
    code, _, err = add(clinic, user="sam")
    assert code == 2 and "assistant" in one_line(err).casefold()
    assert actions(clinic) == before
    assert clinic.store.list_formulations(clinic.lee, clinic.patient_id) == []


def test_a_block_exits_3_and_saves_nothing_until_overridden(clinic: Clinic) -> None:
    before = actions(clinic)
    code, out, err = add(clinic, "--check", chart="C-2")
    assert code == 3 and out.startswith("BLOCK allergy [component 1]") and err == ""
    code, out, err = add(clinic, chart="C-2")
    assert code == 3 and "BLOCK allergy" in out
    assert "not saved" in one_line(err) and '--override "reason"' in err
    assert actions(clinic) == before
    assert clinic.store.list_formulations(clinic.lee, clinic.allergic_id) == []

    reason = "tolerated biotin for a year; allergy record disputed"
    code, out, err = add(clinic, "--override", reason, "--json", chart="C-2")
    assert code == 0, err
    assert [f["rule"] for f in json.loads(out)["findings"]] == ["allergy"]
    (saved,) = clinic.store.list_formulations(clinic.lee, clinic.allergic_id)
    (override,) = saved.overrides
    assert (override.rule, override.severity, override.reason, override.signer_name) == (
        "allergy", "block", reason, "Dr Lee Park")


def test_a_warning_exits_3_until_acknowledged(clinic: Clinic) -> None:
    clinic.store.create_patient(clinic.lee, PatientFields(
        "C-3", "Poe", "Eve", date(1990, 1, 1), Sex.FEMALE,
        allergies=(Allergy("biotin", kind="intolerance"),)))
    code, out, err = add(clinic, "--check", chart="C-3")
    assert code == 0 and out.startswith("WARNING intolerance")  # nothing blocks
    before = actions(clinic)
    code, out, err = add(clinic, chart="C-3")
    assert code == 3 and "WARNING intolerance" in out and "add --acknowledge" in one_line(err)
    assert actions(clinic) == before
    code, out, err = add(clinic, "--acknowledge", chart="C-3")
    assert code == 0, err
    assert "1 finding(s) overridden or acknowledged" in out
    (saved,) = clinic.store.list_formulations(clinic.lee, clinic.store.find_patient(
        clinic.lee, "C-3").id)
    assert [(o.rule, o.severity) for o in saved.overrides] == [("intolerance", "warning")]


# -- revise and retire ------------------------------------------------------------------


def test_revise_edits_an_unused_version_in_place_and_keeps_what_is_not_given(
    clinic: Clinic,
) -> None:
    assert add(clinic, "--note", "keep me")[0] == 0
    (first,) = clinic.store.list_formulations(clinic.lee, clinic.patient_id)
    code, out, err = run(clinic, "formulation", "revise", "C-1", str(first.formulation_id),
                         "--final-volume", "2 mL")
    assert code == 0, err
    assert out.startswith("saved in place (the version was not used yet): formulation 1:")
    (now,) = clinic.store.list_formulations(clinic.lee, clinic.patient_id)
    assert (now.id, now.version, now.final_volume) == (first.id, 1, ml("2"))
    assert (now.components, now.note, now.formulation_name) == (
        first.components, "keep me", "Hair cocktail")

    before = actions(clinic)
    code, out, _ = run(clinic, "formulation", "revise", "C-1", "1", "--note", "keep me")
    assert code == 0 and out.startswith("unchanged:")
    assert actions(clinic) == before  # identical content writes no audit entry

    code, out, _ = run(clinic, "formulation", "revise", "C-1", "1",
                       "-c", "ingredient:dexpanthenol=20 mg", "--json")
    assert code == 0
    assert [c["name"] for c in json.loads(out)["components"]] == ["Dexpanthenol"]


def test_revise_is_refused_without_a_change_or_for_another_patient(clinic: Clinic) -> None:
    assert add(clinic)[0] == 0
    before = actions(clinic)
    code, _, err = run(clinic, "formulation", "revise", "C-1", "1")
    assert code == 2 and "nothing to change" in one_line(err)
    code, _, err = run(clinic, "formulation", "revise", "C-2", "1", "--note", "x")
    assert code == 2 and "C-2 has no current formulation 1" in one_line(err)
    code, _, err = run(clinic, "formulation", "revise", "C-1", "1", "-c", "product:x")
    assert code == 2 and "--component" in one_line(err)
    assert actions(clinic) == before


def test_retire_hides_the_formulation_and_needs_a_reason(clinic: Clinic) -> None:
    assert add(clinic)[0] == 0
    before = actions(clinic)
    code, _, err = run(clinic, "formulation", "retire", "C-1", "1")
    assert code == 2 and "--reason" in one_line(err)
    assert actions(clinic) == before
    code, out, err = run(clinic, "formulation", "retire", "C-1", "1", "--reason", "duplicate")
    assert code == 0, err
    assert out.startswith("retired formulation 1: Hair cocktail")
    assert clinic.store.list_formulations(clinic.lee, clinic.patient_id) == []
    assert actions(clinic)[len(before):] == ["formulation.delete"]
    code, _, err = run(clinic, "formulation", "retire", "C-1", "1", "--reason", "again")
    assert code == 2 and "no current formulation 1" in one_line(err)
    code, out, _ = run(clinic, "formulation", "list", "C-1", "--retired")
    assert code == 0 and "[retired]" in out


# -- course start -----------------------------------------------------------------------


def test_course_start_plans_the_course_and_prints_its_id(clinic: Clinic) -> None:
    assert add(clinic)[0] == 0
    code, out, err = run(clinic, "course", "start", "C-1", "--name", "Spring course",
                         "--sessions", "8", "--interval", "14", "--start", "2026-11-10",
                         "--formulation", "1", "--json")
    assert code == 0, err
    printed = json.loads(out)
    (course,) = clinic.store.list_courses(clinic.lee, clinic.patient_id)
    assert printed["course_id"] == course.id and printed["formulation_id"] == 1
    assert (course.name, course.planned_sessions, course.interval_days, course.start_date) == (
        "Spring course", 8, 14, date(2026, 11, 10))
    assert (printed["next_session_number"], printed["next_due"]) == (1, "2026-11-10")
    code, out, _ = run(clinic, "course", "start", "C-1", "--name", "Today",
                       "--sessions", "1", "--interval", "1")
    assert code == 0 and out.startswith("started course 2 for C-1")
    assert clinic.store.list_courses(clinic.lee, clinic.patient_id)[-1].start_date \
        == date.today()


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--sessions", "8", "--interval", "14", "--start", "2026-13-01"], "YYYY-MM-DD"),
        (["--sessions", "0", "--interval", "14"], "between 1 and 100"),
        (["--sessions", "8", "--interval", "400"], "between 1 and 365"),
        (["--sessions", "8", "--interval", "14", "--start", "1800-01-01"], "1900"),
        (["--interval", "14"], "--sessions"),
        (["--sessions", "8", "--interval", "14", "--formulation", "1"],
         "no current formulation 1"),  # C-2's, not C-1's
    ],
)
def test_course_start_refuses_bad_input_in_one_line(
    clinic: Clinic, args: list[str], says: str
) -> None:
    clinic.store.save_formulation(
        clinic.lee, patient_id=clinic.allergic_id, name="Other's",
        components=[ComponentSpec("Dexpanthenol", Amount(Decimal(10), "mg"),
                                  ingredient_id=_ingredient(clinic, "dexpanthenol"))],
    )
    before = actions(clinic)
    code, _, err = run(clinic, "course", "start", "C-1", "--name", "Spring", *args)
    assert code == 2 and says in one_line(err)
    assert actions(clinic) == before
    assert clinic.store.list_courses(clinic.lee, clinic.patient_id) == []


def _ingredient(clinic: Clinic, key: str) -> int:
    return next(i.id for i in clinic.store.list_ingredients(clinic.lee, key) if i.key == key)


# -- the whole path ---------------------------------------------------------------------


@pytest.mark.slow
def test_a_new_clinic_records_its_first_session_without_the_app(tmp_path: Path) -> None:
    location = str(tmp_path / "new.db")
    runner = CliRunner()
    env = {"FORMULARY_PASSWORD": PASSWORD, "FORMULARY_DB": ""}

    def cli(*args: str, stdin: str | None = None, user: str = "drlee") -> str:
        signed = [] if args[0] == "init" else ["--user", user]
        result = runner.invoke(app, [*args, "--db", location, *signed], env=env, input=stdin)
        assert result.exit_code == 0, (args, result.stderr)
        return result.stdout

    cli("init", "--admin", "admin", "--full-name", "Ada Admin", "--password-stdin",
        stdin=f"{PASSWORD}\n")
    cli("user", "add", "drlee", "--role", "practitioner", "--full-name", "Dr Lee Park",
        "--password-stdin", stdin=f"{PASSWORD}\n{PASSWORD}\n", user="admin")
    cli("product", "add", "--name", BIOTIN, "--presentation", "ampoule", "--volume", "2 mL",
        "-i", "biotin=5 mg/mL")
    cli("lot", "receive", "--product", BIOTIN, "--lot", "GOOD", "--expiry", "2099-01-01",
        "--quantity", "100 mL")
    cli("patient", "add", "--chart", "C-1", "--family", "Doe", "--given", "Jane",
        "--born", "1980-01-02", "--sex", "female")
    made = json.loads(cli("formulation", "add", "C-1", "--name", "Hair cocktail",
                          "-c", f"product:{BIOTIN}=1 mL", "--final-volume", "1 mL", "--json"))
    course = json.loads(cli("course", "start", "C-1", "--name", "Spring", "--sessions", "6",
                            "--interval", "28", "--formulation", str(made["formulation_id"]),
                            "--json"))
    cli("consent", "sign", "C-1", "--course", str(course["course_id"]),
        "--typed-name", "Jane Doe")
    record = tmp_path / "session.json"
    record.write_text(json.dumps({
        "patient": "C-1",
        "formulation_id": made["formulation_id"],
        "course_id": course["course_id"],
        "session_number": course["next_session_number"],
        "performed_at": (datetime.now(UTC) - timedelta(minutes=5)).isoformat(),
        "technique": "nappage",
        "total_volume": "1 mL",
        "zones": {"vertex": "1 mL"},
        "lots": [{"component": 1, "lot": "GOOD"}],
    }), encoding="utf-8")
    signed = json.loads(cli("session", "record", str(record), "--json"))
    assert signed["recorded"] is True

    shown = json.loads(cli("formulation", "show", str(made["formulation_id"]), "--json"))
    assert shown["formulation_version_id"] == made["formulation_version_id"] and shown["used"]
    (listed,) = json.loads(cli("course", "list", "C-1", "--json"))
    assert (listed["course_id"], listed["sessions_done"], listed["next_session_number"]) == (
        course["course_id"], 1, 2)
    # The version is now used: a change is a new version; the signed one stays as it was.
    out = cli("formulation", "revise", "C-1", str(made["formulation_id"]),
              "--final-volume", "2 mL")
    assert out.startswith("saved as new version (version 1 was used in a signed session)")
    versions = json.loads(cli("formulation", "show", str(made["formulation_id"]),
                              "--json"))["versions"]
    assert [(v["version"], v["used"]) for v in versions] == [(1, True), (2, False)]
    cli("audit", "verify")


def test_revise_removes_the_final_volume_and_refuses_both_options(clinic: Clinic) -> None:
    assert add(clinic, "--note", "keep me")[0] == 0
    (first,) = clinic.store.list_formulations(clinic.lee, clinic.patient_id)
    assert first.final_volume == ml("1")
    before = actions(clinic)
    code, _, err = run(clinic, "formulation", "revise", "C-1", "1", "--final-volume", "2 mL",
                       "--no-final-volume")
    assert code == 2 and "contradict" in one_line(err)
    assert actions(clinic) == before
    code, out, err = run(clinic, "formulation", "revise", "C-1", "1", "--no-final-volume",
                         "--json")
    assert code == 0, err
    assert json.loads(out)["final_volume"] is None
    (now,) = clinic.store.list_formulations(clinic.lee, clinic.patient_id)
    assert (now.id, now.final_volume, now.note) == (first.id, None, "keep me")
    assert now.components == first.components
    assert actions(clinic)[len(before):] == ["formulation_version.update"]
    code, out, _ = run(clinic, "formulation", "revise", "C-1", "1", "--no-final-volume")
    assert code == 0 and out.startswith("unchanged:")
