"""Sessions: drafts, signing (validation, stock, locking), immutability, addenda, recall."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from db.errors import AuthenticationFailed, Immutable, PermissionDenied, ValidationError
from db.store import Actor, ComponentSpec, LotChoice, Store, signing
from db.store import sessions as sessions_module
from formulary.records import (
    AdverseEvent,
    LotStatus,
    PatientChart,
    Role,
    ScalpZone,
    SessionStatus,
    ZoneVolume,
)
from formulary.schedule import summarize
from formulary.units.amount import Amount
from tests.consent_helpers import sign_consent

from .conftest import PASSWORD
from .helpers import World, chain_problems, events, ml, replay_problems

pytestmark = pytest.mark.storage


@pytest.fixture
def world(store: Store, users: dict[Role, Actor]) -> World:
    return World(store, users[Role.PRACTITIONER])


def test_assistant_prepares_practitioner_signs(
    store: Store, users: dict[Role, Actor], world: World
) -> None:
    sam, lee = users[Role.ASSISTANT], users[Role.PRACTITIONER]
    draft = store.save_session_draft(sam, world.draft(adverse_events=(AdverseEvent("erythema"),)))
    assert draft.status is SessionStatus.DRAFT
    with pytest.raises(PermissionDenied, match="assistant and cannot sign"):
        store.sign_session(sam, draft.id, PASSWORD)
    signed = store.sign_session(lee, draft.id, PASSWORD)
    assert signed.status is SessionStatus.SIGNED
    assert signed.signature is not None
    assert signed.signature.signer.full_name == "Dr Lee Park"
    assert signed.signature.meaning == "administered by"
    assert signed.signature.signed_at.tzinfo is not None
    assert len(signed.signature.content_hash) == 64
    assert signed.lots[0].drawn == ml("1")
    assert store.get_lot(lee, world.lot.id).quantity_on_hand == ml("999")
    assert store.get_formulation_version(lee, world.version.id).locked
    assert store.verify_signatures(lee, signed.id) == []
    assert chain_problems(store.database) == [] and replay_problems(store.database) == []


def test_the_record_a_signature_returns_is_the_one_read_back(
    store: Store, users: dict[Role, Actor], world: World
) -> None:
    """Signing builds its record from the lots it has just drawn; a read gives the same."""
    sam, lee = users[Role.ASSISTANT], users[Role.PRACTITIONER]
    draft = store.save_session_draft(sam, world.draft())
    signed = store.sign_session(lee, draft.id, PASSWORD)
    assert signed == store.get_session(lee, signed.id)
    recorded = store.record_session(lee, world.draft(), PASSWORD)
    assert recorded == store.get_session(lee, recorded.id)
    assert [u.lot_id for u in recorded.lots] == [world.lot.id]


def test_signed_session_is_immutable_and_addenda_are_signed(
    store: Store, users: dict[Role, Actor], world: World
) -> None:
    lee = users[Role.PRACTITIONER]
    signed = store.sign_session(lee, store.save_session_draft(lee, world.draft()).id, PASSWORD)
    with pytest.raises(Immutable, match="addendum"):
        store.save_session_draft(lee, world.draft(notes="changed"), signed.id)
    with pytest.raises(Immutable):
        store.discard_draft(lee, signed.id, "oops")
    with pytest.raises(ValidationError, match="reason"):
        store.add_addendum(lee, signed.id, "pain score was 3", "", PASSWORD)
    with pytest.raises(AuthenticationFailed):
        store.add_addendum(lee, signed.id, "pain score was 3", "charting error", "wrong pw")
    amended = store.add_addendum(lee, signed.id, "pain score was 3", "charting error", PASSWORD)
    assert amended.addenda[0].signature.meaning == "amended by"
    assert amended.signature == signed.signature
    assert store.verify_signatures(lee, signed.id) == []
    with pytest.raises(PermissionDenied):
        store.add_addendum(users[Role.ASSISTANT], signed.id, "x", "y", PASSWORD)
    assert replay_problems(store.database) == []


def test_tampering_with_a_signed_session_is_detected(
    store: Store, users: dict[Role, Actor], world: World
) -> None:
    lee = users[Role.PRACTITIONER]
    signed = store.sign_session(lee, store.save_session_draft(lee, world.draft()).id, PASSWORD)
    tamper = sa.text("UPDATE treatment_session SET pain_score = 9 WHERE id = :i")
    # The database itself refuses the change …
    with pytest.raises(sa.exc.DBAPIError, match="signed"), store.database.engine.begin() as c:
        c.execute(tamper, {"i": signed.id})
    # … and when someone who owns the database removes that guard, the hashes tell.
    drop = (
        ["DROP TRIGGER signed_session_no_update"]
        if store.database.dialect == "sqlite"
        else ["DROP TRIGGER signed_session_guard ON treatment_session"]
    )
    with store.database.engine.begin() as connection:
        for statement in drop:
            connection.exec_driver_sql(statement)
        connection.execute(tamper, {"i": signed.id})
    assert store.verify_signatures(lee, signed.id) == [
        f"session {signed.id}: content differs from what was signed"
    ]
    assert replay_problems(store.database) != []  # and the audit replay disagrees too


@pytest.mark.parametrize(
    ("problem", "message"),
    [
        ("expired", "expired on"),
        ("quarantined", "quarantined and cannot be used"),
        ("short", "less than"),
        ("zones", "add up to 0.9 mL but the total volume is 1 mL"),
        ("no_lot", "choose the lot used for component 1"),
        ("future", "in the future"),
        ("no_technique", "technique"),
    ],
)
def test_sign_refuses_invalid_sessions_and_changes_nothing(
    store: Store, users: dict[Role, Actor], world: World, problem: str, message: str
) -> None:
    lee = users[Role.PRACTITIONER]
    draft = world.draft()
    if problem == "expired":
        lot = store.receive_lot(
            lee,
            product_id=world.product.id,
            lot_number="EXP",
            expiry=date(2020, 1, 1),
            quantity=ml("10"),
        )
        draft = world.draft(lot_id=lot.id)
    elif problem == "quarantined":
        store.set_lot_status(lee, world.lot.id, LotStatus.QUARANTINED, "check")
    elif problem == "short":
        lot = store.receive_lot(
            lee,
            product_id=world.product.id,
            lot_number="LOW",
            expiry=date(2099, 1, 1),
            quantity=ml("0.5"),
        )
        draft = world.draft(lot_id=lot.id)
    elif problem == "zones":
        draft = world.draft(zones=(ZoneVolume(ScalpZone.VERTEX, ml("0.9")),))
    elif problem == "no_lot":
        draft = world.draft(lots=())
    elif problem == "future":
        draft = world.draft(performed_at=datetime.now(UTC) + timedelta(days=1))
    elif problem == "no_technique":
        draft = world.draft(technique=None)
    saved = store.save_session_draft(lee, draft)
    before = len(events(store.database))
    stock = store.get_lot(lee, world.lot.id).quantity_on_hand
    # A check beforehand (read-only, so it cannot lock rows) sees the same refusal;
    # what an override could get past it leaves to the findings.
    checked = store.check_signing(lee, draft)
    if problem in ("expired", "quarantined"):
        assert checked.refusal is None and checked.findings.requires_override
    else:
        assert checked.refusal is not None and re.search(message, checked.refusal)
    with pytest.raises(ValidationError, match=message):
        store.sign_session(lee, saved.id, PASSWORD)
    assert len(events(store.database)) == before
    assert store.get_lot(lee, world.lot.id).quantity_on_hand == stock
    assert store.get_session(lee, saved.id).status is SessionStatus.DRAFT
    assert not store.get_formulation_version(lee, world.version.id).locked


@pytest.mark.parametrize("final_volume", [True, False], ids=["final volume", "volume drawn"])
def test_more_than_the_syringe_held_is_refused_whatever_is_overridden(
    store: Store, users: dict[Role, Actor], world: World, final_volume: bool
) -> None:
    lee = users[Role.PRACTITIONER]
    version_id = world.version.id
    held = "the 1 mL prepared (the formulation's final volume)"
    if not final_volume:
        # No final volume: the syringe holds the 1 mL drawn from the product.
        version_id = store.save_formulation(
            lee,
            patient_id=world.patient.id,
            name="Undiluted",
            components=[ComponentSpec("Biotin", ml("1"), product_id=world.product.id)],
        ).id
        held = "the 1 mL drawn into the syringe (the formulation has no final volume)"
    too_much = world.draft(
        formulation_version_id=version_id,
        total="2",
        zones=(ZoneVolume(ScalpZone.VERTEX, ml("1")), ZoneVolume(ScalpZone.FRONTAL, ml("1"))),
    )
    # A draft is work in progress: it may hold too much while it is corrected.
    saved = store.save_session_draft(lee, too_much)
    expected = (
        f"the total volume injected (2 mL) is 1 mL more than {held}, and more than the "
        "syringe held cannot have been injected; correct the total volume and the zone "
        "volumes (or, if more was prepared, the formulation)"
    )
    checked = store.check_signing(lee, too_much)
    assert checked.refusal == expected
    assert "volume.over_prepared" in [f.rule for f in checked.findings]
    before = len(events(store.database))
    why = "I measured it twice"
    with pytest.raises(ValidationError) as plain:
        store.sign_session(lee, saved.id, PASSWORD)
    with pytest.raises(ValidationError) as signed_past:
        store.sign_session(lee, saved.id, PASSWORD, acknowledge=True, override_reason=why)
    with pytest.raises(ValidationError) as recorded_past:
        store.record_session(lee, too_much, PASSWORD, acknowledge=True, override_reason=why)
    assert [str(e.value) for e in (plain, signed_past, recorded_past)] == [expected] * 3
    assert len(events(store.database)) == before
    assert store.get_session(lee, saved.id).status is SessionStatus.DRAFT
    assert store.get_lot(lee, world.lot.id).quantity_on_hand == ml("1000")

    # The units are compared, not the figures: 1000 mcL is the 1 mL the syringe held.
    mcl = Amount(Decimal(500), "mcL")
    exact = world.draft(
        formulation_version_id=version_id,
        total_volume=Amount(Decimal(1000), "mcL"),
        zones=(ZoneVolume(ScalpZone.VERTEX, mcl), ZoneVolume(ScalpZone.FRONTAL, mcl)),
    )
    assert store.check_signing(lee, exact).refusal is None
    store.save_session_draft(lee, exact, saved.id)
    signed = store.sign_session(lee, saved.id, PASSWORD)
    assert signed.status is SessionStatus.SIGNED and signed.overrides == ()


def test_zone_volumes_and_total_are_compared_as_volumes(
    store: Store, users: dict[Role, Actor], world: World
) -> None:
    lee = users[Role.PRACTITIONER]
    half = Amount(Decimal(500), "mcL")
    # 500 mcL in each of two zones is the 1 mL total, and so is 0.5 mL + 500 mcL.
    for zones in (
        (ZoneVolume(ScalpZone.VERTEX, half), ZoneVolume(ScalpZone.FRONTAL, half)),
        (ZoneVolume(ScalpZone.VERTEX, ml("0.5")), ZoneVolume(ScalpZone.FRONTAL, half)),
    ):
        assert store.check_signing(lee, world.draft(zones=zones)).refusal is None
    signed = store.sign_session(
        lee,
        store.save_session_draft(
            lee,
            world.draft(
                zones=(ZoneVolume(ScalpZone.VERTEX, half), ZoneVolume(ScalpZone.FRONTAL, half))
            ),
        ).id,
        PASSWORD,
    )
    assert signed.status is SessionStatus.SIGNED
    short = world.draft(zones=(ZoneVolume(ScalpZone.VERTEX, half),))
    assert store.check_signing(lee, short).refusal == (
        "the zone volumes add up to 0.5 mL but the total volume is 1 mL; make them agree"
    )


def test_wrong_signing_password_counts_toward_lockout(
    store: Store, users: dict[Role, Actor], world: World
) -> None:
    lee = users[Role.PRACTITIONER]
    saved = store.save_session_draft(lee, world.draft())
    with pytest.raises(AuthenticationFailed):
        store.sign_session(lee, saved.id, "not my password")
    assert events(store.database)[-1].action == "auth.signature_failed"
    assert store.get_session(lee, saved.id).status is SessionStatus.DRAFT
    info = next(u for u in store.list_users(users[Role.ADMIN]) if u.id == lee.id)
    assert info.failed_logins == 1


def test_failure_midway_rolls_back_everything(
    store: Store, users: dict[Role, Actor], world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    lee = users[Role.PRACTITIONER]
    saved = store.save_session_draft(lee, world.draft())
    before = len(events(store.database))
    real = signing.signature_hash  # what the sessions module calls

    def exploding(*args: object, **kwargs: object) -> str:
        raise RuntimeError("power cut")

    monkeypatch.setattr(sessions_module, "signature_hash", exploding)
    with pytest.raises(RuntimeError):
        store.sign_session(lee, saved.id, PASSWORD)
    monkeypatch.setattr(sessions_module, "signature_hash", real)
    # Stock drawn, session_lot rows and the version lock were all rolled back.
    assert store.get_lot(lee, world.lot.id).quantity_on_hand == ml("1000")
    assert not store.get_formulation_version(lee, world.version.id).locked
    assert len(events(store.database)) == before
    assert replay_problems(store.database) == []


def test_used_formulation_version_is_locked_and_editing_makes_a_new_version(
    store: Store, users: dict[Role, Actor], world: World
) -> None:
    lee = users[Role.PRACTITIONER]
    components = [ComponentSpec("Biotin", ml("1.5"), product_id=world.product.id)]
    # Unused: edited in place.
    v1 = store.save_formulation(
        lee,
        patient_id=world.patient.id,
        name="Cocktail",
        components=components,
        formulation_id=world.version.formulation_id,
    )
    assert (v1.id, v1.version) == (world.version.id, 1)
    # Same content: nothing written.
    n = len(events(store.database))
    store.save_formulation(
        lee,
        patient_id=world.patient.id,
        name="Cocktail",
        components=components,
        formulation_id=world.version.formulation_id,
    )
    assert len(events(store.database)) == n
    draft = world.draft(total="1.5", zones=(ZoneVolume(ScalpZone.VERTEX, ml("1.5")),))
    store.sign_session(lee, store.save_session_draft(lee, draft).id, PASSWORD)
    v2 = store.save_formulation(
        lee,
        patient_id=world.patient.id,
        name="Cocktail",
        components=[ComponentSpec("Biotin", ml("2"), product_id=world.product.id)],
        formulation_id=world.version.formulation_id,
    )
    assert v2.version == 2 and v2.id != v1.id
    history = store.formulation_history(lee, world.version.formulation_id)
    assert [(v.version, v.locked) for v in history] == [(1, True), (2, False)]
    assert history[0].components[0].amount == ml("1.5")
    assert [v.version for v in store.list_formulations(lee, world.patient.id)] == [2]


def test_drafts_are_editable_and_discardable(
    store: Store, users: dict[Role, Actor], world: World
) -> None:
    sam = users[Role.ASSISTANT]
    draft = store.save_session_draft(sam, world.draft(pain_score=2))
    edited = store.save_session_draft(sam, world.draft(pain_score=4, notes="calm"), draft.id)
    assert (edited.id, edited.pain_score, edited.notes) == (draft.id, 4, "calm")
    with pytest.raises(ValidationError, match="pain score"):
        store.save_session_draft(sam, world.draft(pain_score=11), draft.id)
    store.discard_draft(sam, draft.id, "patient cancelled")
    assert store.list_sessions(sam, world.patient.id) == []


def test_recall_finds_every_patient_who_received_the_lot(
    store: Store, users: dict[Role, Actor], world: World
) -> None:
    lee = users[Role.PRACTITIONER]
    other = World(store, lee, chart="C-2")
    for w in (world, other):
        lot_id = world.lot.id
        if w is other:
            # The other patient's product differs; give them a lot with the same number.
            lot_id = store.receive_lot(
                lee,
                product_id=other.product.id,
                lot_number="L-C-1",
                expiry=date(2099, 1, 1),
                quantity=ml("5"),
            ).id
        store.sign_session(lee, store.save_session_draft(lee, w.draft(lot_id=lot_id)).id, PASSWORD)
    store.save_session_draft(lee, world.draft())  # drafts did not receive anything
    hits = store.recall(lee, "L-C-1")
    assert sorted(h.chart_number for h in hits) == ["C-1", "C-2"]
    assert all(h.drawn == ml("1") for h in hits)


def test_load_chart_gathers_the_whole_record(
    store: Store, users: dict[Role, Actor], world: World
) -> None:
    lee = users[Role.PRACTITIONER]
    store.start_course(
        lee,
        patient_id=world.patient.id,
        name="Initial",
        planned_sessions=6,
        interval_days=14,
        start_date=date(2026, 1, 1),
    )
    signed = store.sign_session(lee, store.save_session_draft(lee, world.draft()).id, PASSWORD)
    store.record_outcome(
        lee,
        patient_id=world.patient.id,
        measured_at=datetime.now(UTC),
        density=Amount(Decimal("142"), "hairs/cm2"),
        session_id=signed.id,
        photo_refs=("photos/1.jpg",),
    )
    store.set_clinic(users[Role.ADMIN], "Hair Clinic", "1 Main St")
    chart = store.load_chart(users[Role.AUDITOR], world.patient.id)
    assert (chart.clinic.name, chart.clinic.address) == ("Hair Clinic", "1 Main St")
    assert isinstance(chart, PatientChart)
    assert chart.patient.chart_number == "C-1"
    assert [s.id for s in chart.sessions] == [signed.id]
    assert chart.sessions[0].lots[0].lot_number == "L-C-1"
    assert [c.planned_sessions for c in chart.courses] == [6]
    assert chart.outcomes[0].density is not None and chart.outcomes[0].photo_refs == (
        "photos/1.jpg",
    )
    assert [p.full_name for p in chart.practitioners] == ["Dr Lee Park"]
    assert chart.products[0].ingredients[0].ingredient_name == "Biotin"
    assert chart.formulation_versions[0].locked
    assert replay_problems(store.database) == []


def test_lot_choice_for_a_component_the_formulation_lacks_is_refused(
    store: Store, users: dict[Role, Actor], world: World
) -> None:
    with pytest.raises(ValidationError, match="component 7 is not in formulation"):
        store.save_session_draft(
            users[Role.ASSISTANT], world.draft(lots=(LotChoice(7, world.lot.id),))
        )


def test_patient_summaries_agree_with_the_full_records(
    store: Store, users: dict[Role, Actor], world: World
) -> None:
    lee = users[Role.PRACTITIONER]
    other = World(store, lee, chart="C-2")
    course = store.start_course(
        lee,
        patient_id=world.patient.id,
        name="Initial",
        planned_sessions=6,
        interval_days=14,
        start_date=date(2026, 1, 1),
    )
    sign_consent(store, lee, PASSWORD, world.patient, course.id)
    first = store.sign_session(
        lee,
        store.save_session_draft(lee, world.draft(course_id=course.id, session_number=1)).id,
        PASSWORD,
    )
    store.save_session_draft(lee, world.draft(course_id=course.id))  # a draft counts for nothing
    patients = [other.patient, world.patient]
    got = store.patient_summaries(users[Role.AUDITOR], patients)
    assert got == [
        summarize(p, store.list_courses(lee, p.id), store.list_sessions(lee, p.id))
        for p in patients
    ]
    assert got[0].course is None and got[0].patient == other.patient
    assert got[1].course == course and got[1].sessions_done == 1
    assert got[1].next_due == first.performed_at.date() + timedelta(days=14)
    assert store.patient_summaries(lee, []) == []
