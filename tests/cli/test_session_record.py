"""``formulary session record FILE.json`` end to end: a real SQLite database, the
command run as a subprocess, findings, exit codes and what was (not) recorded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from db import auth
from db.database import Database, open_database
from db.store import Actor, ComponentSpec, PatientFields, Store, StrengthSpec
from formulary.records import Allergy, Role, SessionStatus, Sex
from formulary.safety import OVERRIDE_MEANING
from formulary.units.amount import Amount
from tests.conftest import cheap_hasher
from tests.consent_helpers import sign_consent

pytestmark = [pytest.mark.storage, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery"


def ml(text: str) -> Amount:
    return Amount(Decimal(text), "mL")


@dataclass
class Clinic:
    database: Database
    location: str
    store: Store
    lee: Actor
    patient_id: int
    formulation_id: int


def _open_clinic(location: str) -> Clinic:
    database = open_database(location)
    store = Store(database, workstation="test-ws")
    admin = store.create_first_admin("admin", "Ada Admin", PASSWORD)
    store.create_user(admin, "drlee", "Dr Lee Park", Role.PRACTITIONER, PASSWORD)
    store.create_user(admin, "sam", "Sam Assistant", Role.ASSISTANT, PASSWORD)
    lee = store.authenticate("drlee", PASSWORD)
    biotin = next(i.id for i in store.list_ingredients(lee, "biotin") if i.key == "biotin")
    product = store.create_product(
        lee,
        name="Biotin 5 mg/mL",
        volume_per_unit=ml("2"),
        ingredients=[StrengthSpec(biotin, Amount(Decimal(5), "mg/mL"))],
    )
    store.receive_lot(
        lee, product_id=product.id, lot_number="GOOD", expiry=date(2099, 1, 1), quantity=ml("100")
    )
    store.receive_lot(
        lee, product_id=product.id, lot_number="OLD", expiry=date(2020, 1, 1), quantity=ml("100")
    )
    patient = store.create_patient(
        lee,
        PatientFields(
            "C-1", "Doe", "Jane", date(1980, 1, 2), Sex.FEMALE, allergies=(Allergy("penicillin"),)
        ),
    )
    sign_consent(store, lee, PASSWORD, patient)
    version = store.save_formulation(
        lee,
        patient_id=patient.id,
        name="Cocktail",
        components=[ComponentSpec("Biotin", ml("1"), product_id=product.id)],
        final_volume=ml("1"),
    )
    return Clinic(database, location, store, lee, patient.id, version.formulation_id)


@pytest.fixture
def clinic(tmp_path: Path) -> Iterator[Clinic]:
    made = _open_clinic(str(tmp_path / "clinic.db"))
    try:
        yield made
    finally:
        made.database.dispose()


@pytest.fixture(scope="module")
def shared_clinic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clinic]:
    """One clinic for the tests that must not record anything."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(auth, "_hasher", cheap_hasher)
        made = _open_clinic(str(tmp_path_factory.mktemp("shared") / "clinic.db"))
    try:
        yield made
    finally:
        made.database.dispose()


def session_file(tmp_path: Path, clinic: Clinic, **changes: Any) -> Path:
    data: dict[str, Any] = {
        "patient": "C-1",
        "formulation_id": clinic.formulation_id,
        "performed_at": (datetime.now(UTC) - timedelta(minutes=5)).isoformat(),
        "technique": "nappage",
        "needle_gauge": 32,
        "total_volume": "1 mL",
        "zones": {"vertex": "0.5 mL", "frontal": "0.5 mL"},
        "lots": [{"component": 1, "lot": "GOOD"}],
        "pain_score": 2,
    }
    data.update(changes)
    path = tmp_path / "session.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def run(clinic: Clinic, *args: str, user: str = "drlee") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FORMULARY_PASSWORD": PASSWORD}
    env.pop("FORMULARY_DB", None)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "tui",
            "session",
            "record",
            *args,
            "--db",
            clinic.location,
            "--user",
            user,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def run_here(clinic: Clinic, *args: str) -> tuple[int, str, str]:
    """The command in this process (fast; for refusals that happen before any write)."""
    from typer.testing import CliRunner

    from tui.cli.main import app

    result = CliRunner().invoke(
        app,
        ["session", "record", *args, "--db", clinic.location, "--user", "drlee"],
        env={"FORMULARY_PASSWORD": PASSWORD, "FORMULARY_DB": ""},
    )
    return result.exit_code, result.stdout, result.stderr


def sessions(clinic: Clinic) -> list[Any]:
    return clinic.store.list_sessions(clinic.lee, clinic.patient_id)


def test_clean_session_is_recorded_and_signed(tmp_path: Path, clinic: Clinic) -> None:
    done = run(clinic, str(session_file(tmp_path, clinic)))
    assert done.returncode == 0, done.stderr
    (recorded,) = sessions(clinic)
    assert recorded.status is SessionStatus.SIGNED and recorded.overrides == ()
    assert f"recorded and signed session {recorded.id}" in done.stdout


def test_injection_points_per_zone_are_recorded(tmp_path: Path, clinic: Clinic) -> None:
    zones = {"vertex": {"volume": "0.5 mL", "points": 10}, "frontal": "0.5 mL"}
    done = run(clinic, str(session_file(tmp_path, clinic, zones=zones)))
    assert done.returncode == 0, done.stderr
    (recorded,) = sessions(clinic)
    points = {z.zone.value: (z.points, z.volume_per_point) for z in recorded.zones}
    assert points == {"vertex": (10, ml("0.05")), "frontal": (None, None)}
    assert clinic.store.verify_signatures(clinic.lee, recorded.id) == []


def test_block_exits_3_prints_findings_and_records_nothing(tmp_path: Path, clinic: Clinic) -> None:
    path = session_file(tmp_path, clinic, lots=[{"component": 1, "lot": "OLD"}])
    checked = run(clinic, str(path), "--check")
    assert checked.returncode == 3
    assert checked.stdout.splitlines() == [
        line for line in checked.stdout.splitlines() if line.startswith(("BLOCK", "WARNING"))
    ]
    assert checked.stdout.startswith("BLOCK lot.expired [component 1, lots]: lot OLD expired")
    refused = run(clinic, str(path))
    assert refused.returncode == 3
    assert "BLOCK lot.expired" in refused.stdout
    assert "--override" in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
    assert sessions(clinic) == []


def test_override_records_the_session_with_its_override(tmp_path: Path, clinic: Clinic) -> None:
    path = session_file(tmp_path, clinic, lots=[{"component": 1, "lot": "OLD"}])
    assistant = run(clinic, str(path), "--override", "expiry extended in writing", user="sam")
    assert assistant.returncode == 2 and "cannot sign" in assistant.stderr
    done = run(clinic, str(path), "--override", "expiry extended in writing", "--json")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["recorded"] is True and out["overrides"] == 1
    assert [f["rule"] for f in out["findings"]] == ["lot.expired"]
    (recorded,) = sessions(clinic)
    (override,) = recorded.overrides
    assert (override.rule, override.reason, override.by) == (
        "lot.expired",
        "expiry extended in writing",
        "drlee",
    )
    # The override is signed with the session's password: printed name and meaning.
    assert (override.signer_name, override.meaning) == ("Dr Lee Park", OVERRIDE_MEANING)


def test_override_with_a_wrong_password_is_refused_and_audited(
    tmp_path: Path, clinic: Clinic
) -> None:
    from typer.testing import CliRunner

    from tui.cli.main import app

    path = session_file(tmp_path, clinic, lots=[{"component": 1, "lot": "OLD"}])
    result = CliRunner().invoke(
        app,
        ["session", "record", str(path), "--override", "expiry extended in writing",
         "--db", clinic.location, "--user", "drlee"],
        env={"FORMULARY_PASSWORD": "not the password", "FORMULARY_DB": ""},
    )
    assert result.exit_code != 0 and len(result.stderr.strip().splitlines()) == 1
    assert sessions(clinic) == []
    from tests.storage.helpers import events

    assert events(clinic.database)[-1].action == "auth.login_failed"


def test_warning_needs_acknowledge(tmp_path: Path, clinic: Clinic) -> None:
    course = clinic.store.start_course(
        clinic.lee,
        patient_id=clinic.patient_id,
        name="Course",
        planned_sessions=1,
        interval_days=7,
        start_date=date.today() + timedelta(days=3),
    )
    sign_consent(clinic.store, clinic.lee, PASSWORD, clinic.patient_id, course.id)
    path = session_file(tmp_path, clinic, course_id=course.id)
    checked = run(clinic, str(path), "--check")
    assert checked.returncode == 0
    assert "WARNING schedule.before_course_start" in checked.stdout
    refused = run(clinic, str(path))
    assert refused.returncode == 3 and "--acknowledge" in refused.stderr
    done = run(clinic, str(path), "--acknowledge")
    assert done.returncode == 0, done.stderr
    assert [(o.rule, o.reason) for o in sessions(clinic)[0].overrides] == [
        ("schedule.before_course_start", "acknowledged")
    ]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"patient": "NOPE"}, "NOPE"),
        ({"performed_at": "yesterday"}, "performed_at"),
        ({"performed_at": "2026-11-24T10:00:00"}, "time zone"),
        ({"total_volume": "2 bottles"}, "total_volume"),
        ({"zones": {"crown": "1 mL"}}, "unknown zone 'crown'"),
        ({"zones": {"vertex": {"volume": "1 mL", "points": "many"}}}, "whole number"),
        ({"zones": {"vertex": {"volume": "1 mL", "wheals": 3}}}, "unknown field 'wheals'"),
        ({"zones": {"vertex": {"points": 3}}}, "zones.vertex needs a volume"),
        ({"zones": {"vertex": {"volume": "0.5 mL", "points": 0}, "frontal": "0.5 mL"}},
         "between 1 and 500"),
        ({"lots": [{"component": 1, "lot": "MISSING"}]}, "no lot 'MISSING'"),
        ({"technique": "magic"}, "technique"),
        ({"colour": "blue"}, "unknown field 'colour'"),
        ({"formulation_id": None}, "formulation_version_id or formulation_id"),
    ],
)
def test_bad_files_are_one_line_exit_2(
    tmp_path: Path, shared_clinic: Clinic, changes: dict[str, Any], message: str
) -> None:
    clinic = shared_clinic
    path = session_file(tmp_path, clinic, **changes)
    if changes.get("formulation_id", 0) is None:
        raw = json.loads(path.read_text())
        del raw["formulation_id"]
        path.write_text(json.dumps(raw))
    code, out, err = run_here(clinic, str(path))
    assert code == 2, out + err
    assert message in err and len(err.strip().splitlines()) == 1
    assert sessions(clinic) == []


def test_unreadable_file_is_one_line(tmp_path: Path, shared_clinic: Clinic) -> None:
    clinic = shared_clinic
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    code, _, err = run_here(clinic, str(bad))
    assert code == 2 and "not valid JSON" in err
    code, _, err = run_here(clinic, str(tmp_path / "missing.json"))
    assert code == 2 and "cannot read" in err


def test_a_retry_never_records_twice(tmp_path: Path, clinic: Clinic) -> None:
    path = session_file(tmp_path, clinic)
    first = run(clinic, str(path))
    assert first.returncode == 0, first.stderr
    again = run(clinic, str(path))
    assert again.returncode == 0, again.stderr
    (recorded,) = sessions(clinic)
    assert f"already recorded as session {recorded.id}" in again.stdout
    # An explicit key: the same key twice records once; another key records again.
    keyed = run(clinic, str(path), "--idempotency-key", "visit-42")
    assert keyed.returncode == 0 and len(sessions(clinic)) == 2
    assert "already recorded" in run(clinic, str(path), "--idempotency-key", "visit-42").stdout
    assert len(sessions(clinic)) == 2


def test_saved_but_checkpoint_failed_has_its_own_exit_and_no_retry_duplicates(
    tmp_path: Path, clinic: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    import db.audit.service as service

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise OSError(28, "No space left on device")

    path = session_file(tmp_path, clinic)
    with monkeypatch.context() as patch:
        patch.setattr(service, "checkpoint_database", broken)
        code, out, err = run_here(clinic, str(path))
    assert code == 5, (out, err)
    assert err.count("\n") == 1 and "saved, but the checkpoint failed" in err
    assert "do not record it again" in err
    code, out, err = run_here(clinic, str(path))
    assert code == 0 and "already recorded" in out, err
    assert len(sessions(clinic)) == 1


def test_a_session_in_year_one_is_refused(tmp_path: Path, shared_clinic: Clinic) -> None:
    path = session_file(tmp_path, shared_clinic, performed_at="0001-03-04T10:00:00+00:00")
    code, _, err = run_here(shared_clinic, str(path))
    assert code == 2 and err.count("\n") == 1, err
    assert "year 1;" in err and "between 1900 and 2100" in err


@pytest.mark.parametrize(
    ("changes", "rule", "message"),
    [
        ({"lots": [{"component": 1, "lot": "GOOD", "drawn": "150 mL"}]}, "lot.stock_short",
         "holds 100"),
        ({"zones": {"vertex": "0.2 mL"}}, "volume.zones_mismatch", "add up to"),
        # More than the syringe held (its 1 mL final volume), in the unit it was given in.
        ({"total_volume": "1001 mcL", "zones": {"vertex": "501 mcL", "frontal": "500 mcL"}},
         "volume.over_prepared",
         "the total volume injected (1001 mcL) is 0.001 mL more than the 1 mL prepared"),
        ({"performed_at": (datetime.now(UTC) + timedelta(days=1)).isoformat()}, None,
         "in the future"),
    ],
)
def test_check_and_record_agree_on_what_no_option_gets_past(
    tmp_path: Path, shared_clinic: Clinic, changes: dict[str, Any], rule: str | None, message: str
) -> None:
    clinic = shared_clinic
    path = session_file(tmp_path, clinic, **changes)
    lots_before = clinic.store.list_lots(clinic.lee, None, include_empty=True)
    outcomes = []
    for extra in (["--check"], [], ["--override", "the count is wrong, trust me"]):
        code, out, err = run_here(clinic, str(path), *extra)
        outcomes.append(code)
        assert len(err.strip().splitlines()) == 1 and message in err, (extra, out, err)
        if rule is not None:
            assert f"BLOCK {rule}" in out, (extra, out)
        code, out, err = run_here(clinic, str(path), *extra, "--json")
        outcomes.append(code)
        shown = json.loads(out)
        assert shown["recorded"] is False and message in shown["error"]
        assert (rule is None) or rule in [f["rule"] for f in shown["findings"]]
    assert outcomes == [2] * 6
    assert sessions(clinic) == []
    assert clinic.store.list_lots(clinic.lee, None, include_empty=True) == lots_before


def test_more_than_was_drawn_is_refused_by_check_and_record_alike(
    tmp_path: Path, clinic: Clinic
) -> None:
    """Without a final volume the syringe held what was drawn: 1 mL here, not 2."""
    product = next(p for p in clinic.store.list_products(clinic.lee) if p.name == "Biotin 5 mg/mL")
    undiluted = clinic.store.save_formulation(
        clinic.lee,
        patient_id=clinic.patient_id,
        name="Undiluted",
        components=[ComponentSpec("Biotin", ml("1"), product_id=product.id)],
    )
    path = session_file(
        tmp_path, clinic, formulation_id=undiluted.formulation_id, total_volume="2 mL",
        zones={"vertex": "1 mL", "frontal": "1 mL"},
    )
    for extra in (["--check"], [], ["--acknowledge", "--override", "it all went in, I watched"]):
        code, out, err = run_here(clinic, str(path), *extra)
        assert code == 2, (extra, out, err)
        assert err.count("\n") == 1 and err.startswith("formulary: "), err
        assert (
            "the total volume injected (2 mL) is 1 mL more than the 1 mL drawn into the "
            "syringe (the formulation has no final volume)"
        ) in err
        assert "correct the total volume and the zone volumes" in err
    assert sessions(clinic) == []
    # What the syringe held passes the check.
    fits = session_file(tmp_path, clinic, formulation_id=undiluted.formulation_id)
    code, out, err = run_here(clinic, str(fits), "--check", "--acknowledge")
    assert "over_prepared" not in out and "would not be recorded" not in err, (code, out, err)
