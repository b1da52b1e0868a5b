"""``formulary session list|addendum|discard|outcome|outcomes|retire-outcome`` from an
empty database: a new clinic's first patient, formulation and lots, then each command
in this process, asserting its output, its exit status and what the Store holds."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from db.store import LotChoice, SessionDraft
from formulary.records import ScalpZone, SessionStatus, Technique, ZoneVolume
from formulary.units.amount import Amount
from tests.cli.test_session_record import PASSWORD, Clinic, _open_clinic, ml
from tests.storage.helpers import events
from tui.cli.main import app
from tui.cli.session_records import FUTURE_TOLERANCE, parse_moment

pytestmark = [pytest.mark.storage]


@pytest.fixture
def clinic(tmp_path: Path) -> Iterator[Clinic]:
    made = _open_clinic(str(tmp_path / "clinic.db"))
    try:
        yield made
    finally:
        made.database.dispose()


def run(
    clinic: Clinic, *args: str, user: str = "drlee", stdin: str | None = None
) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        app,
        ["session", *args, "--db", clinic.location, "--user", user],
        env={"FORMULARY_PASSWORD": PASSWORD, "FORMULARY_DB": ""},
        input=stdin,
    )
    return result.exit_code, result.stdout, result.stderr


def one_line(err: str) -> str:
    assert err.count("\n") == 1 and err.startswith("formulary: "), err
    return err


def _draft(clinic: Clinic) -> SessionDraft:
    version = clinic.store.list_formulations(clinic.lee, clinic.patient_id)[0]
    lot = next(
        lot for lot in clinic.store.list_lots(clinic.lee, None) if lot.lot_number == "GOOD"
    )
    return SessionDraft(
        patient_id=clinic.patient_id,
        formulation_version_id=version.id,
        performed_at=datetime.now(UTC) - timedelta(minutes=5),
        technique=Technique.NAPPAGE,
        total_volume=ml("1"),
        zones=(ZoneVolume(ScalpZone.VERTEX, ml("1")),),
        lots=(LotChoice(1, lot.id),),
    )


def _signed(clinic: Clinic) -> int:
    return clinic.store.record_session(clinic.lee, _draft(clinic), PASSWORD).id


# -- outcomes ---------------------------------------------------------------------------


def test_outcome_is_recorded_listed_and_withdrawn(clinic: Clinic) -> None:
    session_id = _signed(clinic)
    code, out, err = run(
        clinic, "outcome", "C-1", "--density", "150 hairs/cm2", "--diameter", "60 micrometre",
        "--zone", "vertex", "--grade", "III", "--session", str(session_id),
        "--at", "2026-01-15T09:30:00+01:00", "--notes", "first follow-up", "--json",
    )
    assert code == 0, err
    shown = json.loads(out)
    (stored,) = clinic.store.list_outcomes(clinic.lee, clinic.patient_id)
    assert shown["id"] == stored.id and shown["session_id"] == session_id
    assert stored.density == Amount(Decimal(150), "hairs/cm2")
    assert stored.shaft_diameter is not None and stored.shaft_diameter.value == 60
    assert (stored.zone, stored.scale_grade, stored.notes, stored.session_id) == (
        ScalpZone.VERTEX, "III", "first follow-up", session_id
    )
    assert stored.measured_at == datetime(2026, 1, 15, 8, 30, tzinfo=UTC)
    code, out, err = run(clinic, "outcomes", "C-1")
    assert code == 0, err
    (line,) = out.splitlines()
    assert "vertex" in line and "density 150 hairs/cm2" in line and "grade III" in line
    assert f"(session {session_id})" in line
    assert json.loads(run(clinic, "outcomes", "C-1", "--json")[1]) == [shown]
    code, _, err = run(clinic, "retire-outcome", str(stored.id))
    assert code == 2 and "--reason" in one_line(err)
    code, out, err = run(clinic, "retire-outcome", str(stored.id), "--reason", "wrong patient")
    assert code == 0 and f"withdrew outcome {stored.id}" in out, err
    assert clinic.store.list_outcomes(clinic.lee, clinic.patient_id) == []
    withdrawn = events(clinic.database)[-1]
    assert (withdrawn.action, withdrawn.reason) == ("outcome.delete", "wrong patient")
    code, out, _ = run(clinic, "outcomes", "C-1")
    assert code == 0 and out == "no outcomes for C-1\n"
    code, _, err = run(clinic, "retire-outcome", str(stored.id), "--reason", "again")
    assert code == 2 and "does not exist" in one_line(err)


def test_outcome_at_a_date_takes_the_time_of_day_now(clinic: Clinic) -> None:
    code, out, err = run(clinic, "outcome", "C-1", "--grade", "II", "--at", "2026-02-01")
    assert code == 0, err
    assert out.startswith("recorded outcome ") and "grade II" in out
    (stored,) = clinic.store.list_outcomes(clinic.lee, clinic.patient_id)
    assert stored.measured_at.astimezone().date().isoformat() == "2026-02-01"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "give at least --density"),
        (["--density", "150 hairs"], "--density: unknown unit 'hairs'"),
        (["--density", "60 micrometre"], "is a length"),
        (["--diameter", "150 hairs/cm2"], "--diameter"),
        (["--grade", "II", "--zone", "crown"], "unknown zone 'crown'"),
        (["--grade", "II", "--at", "2099-01-01"], "in the future"),
        (["--grade", "II", "--at", "2026-01-01T10:00"], "time zone offset"),
        (["--grade", "II", "--at", "last week"], "YYYY-MM-DD"),
        (["--grade", "II", "--at", "1800-01-01"], "between 1900 and 2100"),
        (["--grade", "II", "--session", "99"], "session 99 does not exist"),
        (["--grade", "X" * 21], "grade"),
    ],
)
def test_outcome_bad_input_is_one_line_and_saves_nothing(
    clinic: Clinic, args: list[str], message: str
) -> None:
    before = len(events(clinic.database))
    code, out, err = run(clinic, "outcome", "C-1", *args)
    assert code == 2 and message in one_line(err), (out, err)
    assert clinic.store.list_outcomes(clinic.lee, clinic.patient_id) == []
    assert [e.action for e in events(clinic.database)[before:]] in ([], ["auth.login"])


def test_unknown_chart_is_one_line(clinic: Clinic) -> None:
    for command in (["outcome", "NOPE", "--grade", "II"], ["outcomes", "NOPE"],
                    ["list", "NOPE"]):
        code, _, err = run(clinic, *command)
        assert code == 2 and "NOPE" in one_line(err)


NOW = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)


@given(st.text(max_size=40))
def test_parse_moment_refuses_with_a_message_or_gives_an_aware_past_time(text: str) -> None:
    try:
        moment = parse_moment(text, NOW)
    except ValueError as exc:
        assert str(exc).startswith("--at ")
        return
    assert moment.utcoffset() is not None and moment <= NOW + FUTURE_TOLERANCE


@given(st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(2026, 11, 23),
                    timezones=st.sampled_from([UTC, datetime.now().astimezone().tzinfo])))
def test_parse_moment_reads_back_an_iso_time(moment: datetime) -> None:
    assert parse_moment(moment.isoformat(), NOW) == moment
    assert parse_moment(moment.date().isoformat(), NOW).date() == moment.date()


# -- addenda ----------------------------------------------------------------------------


def test_addendum_is_signed_with_the_password(clinic: Clinic) -> None:
    session_id = _signed(clinic)
    code, _, err = run(clinic, "addendum", str(session_id), "--reason", "typo")
    assert code == 2 and "--text" in one_line(err)
    code, _, err = run(clinic, "addendum", str(session_id), "--text", "pain score was 3")
    assert code == 2 and "--reason" in one_line(err)
    code, _, err = run(clinic, "addendum", str(session_id), "--text", "pain score was 3",
                       "--reason", "typo", "--password-stdin", stdin="not the password\n")
    assert code == 2, err
    one_line(err)
    assert clinic.store.get_session(clinic.lee, session_id).addenda == ()
    code, out, err = run(clinic, "addendum", str(session_id), "--text", "pain score was 3",
                         "--reason", "typo", "--password-stdin", stdin=f"{PASSWORD}\n")
    assert code == 0, err
    session = clinic.store.get_session(clinic.lee, session_id)
    (added,) = session.addenda
    assert (added.text, added.reason) == ("pain score was 3", "typo")
    assert (added.signature.signer.full_name, added.signature.meaning) == (
        "Dr Lee Park", "amended by"
    )
    assert out.startswith(f"added addendum {added.id} to session {session_id}, signed by Dr Lee")
    assert clinic.store.verify_signatures(clinic.lee, session_id) == []
    assert session.status is SessionStatus.SIGNED
    code, out, err = run(clinic, "addendum", str(session_id), "--text", "needle 30G",
                         "--reason", "wrong needle", "--meaning", "corrected by", "--json")
    assert code == 0, err
    shown = json.loads(out)
    assert [a["meaning"] for a in shown["addenda"]] == ["amended by", "corrected by"]
    code, out, _ = run(clinic, "list", "C-1", "--json")
    assert [len(s["addenda"]) for s in json.loads(out)] == [2]


def test_addendum_refusals_are_one_line(clinic: Clinic) -> None:
    draft = clinic.store.save_session_draft(clinic.lee, _draft(clinic))
    signed = _signed(clinic)
    cases = [
        (["addendum", str(draft.id), "--text", "x", "--reason", "y"], "drlee", "still a draft"),
        (["addendum", "99", "--text", "x", "--reason", "y"], "drlee", "does not exist"),
        (["addendum", str(signed), "--text", "x", "--reason", "y"], "sam", "sign"),
    ]
    for args, user, message in cases:
        code, _, err = run(clinic, *args, user=user)
        assert code == 2 and message in one_line(err), (args, err)
    assert clinic.store.get_session(clinic.lee, signed).addenda == ()


# -- drafts -----------------------------------------------------------------------------


def test_a_draft_is_listed_and_discarded_but_a_signed_session_is_not(clinic: Clinic) -> None:
    draft = clinic.store.save_session_draft(clinic.lee, _draft(clinic))
    signed = _signed(clinic)
    code, out, err = run(clinic, "list", "C-1")
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == 2
    assert next(line for line in lines if line.split()[0] == str(draft.id)).endswith(
        "DRAFT (not signed)"
    )
    assert "signed by Dr Lee Park" in next(
        line for line in lines if line.split()[0] == str(signed)
    )
    code, _, err = run(clinic, "discard", str(draft.id))
    assert code == 2 and "--reason" in one_line(err)
    code, _, err = run(clinic, "discard", str(signed), "--reason", "mistake")
    assert code == 2 and "is signed" in one_line(err)
    code, out, err = run(clinic, "discard", str(draft.id), "--reason", "duplicate of the signed")
    assert code == 0 and out == f"discarded draft session {draft.id}\n", err
    remaining = clinic.store.list_sessions(clinic.lee, clinic.patient_id)
    assert [s.id for s in remaining] == [signed]
    discarded = events(clinic.database)[-1]
    assert (discarded.action, discarded.reason) == (
        "session.discard_draft", "duplicate of the signed"
    )
    code, _, err = run(clinic, "discard", str(draft.id), "--reason", "again")
    assert code == 2 and "does not exist" in one_line(err)
    code, out, _ = run(clinic, "list", "C-1", "--json")
    assert [(s["id"], s["status"]) for s in json.loads(out)] == [(signed, "signed")]
