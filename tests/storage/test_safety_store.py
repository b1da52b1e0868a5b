"""The safety rules inside the Store: formulation saves and session signing, with the
override and acknowledgement paths end to end and their audit entries."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from db.errors import AccountLocked, AuthenticationFailed, ValidationError
from db.store import Actor, ComponentSpec, LotChoice, PatientFields, Store, StrengthSpec
from db.store.safety import SafetyBlocked
from formulary.records import Allergy, Condition, Role, SessionStatus, Sex
from formulary.safety import OVERRIDE_MEANING
from formulary.units.amount import Amount
from tests.consent_helpers import sign_consent

from .conftest import PASSWORD
from .helpers import World, chain_problems, events, ml, replay_problems

pytestmark = pytest.mark.storage

REASON = "patch test negative on 2026-11-01, allergy entry is wrong"


def mg(text: str) -> Amount:
    return Amount(Decimal(text), "mg")


def ingredient_id(store: Store, actor: Actor, key: str) -> int:
    return next(i.id for i in store.list_ingredients(actor, key) if i.key == key)


@pytest.fixture
def lee(users: dict[Role, Actor]) -> Actor:
    return users[Role.PRACTITIONER]


@pytest.fixture
def world(store: Store, lee: Actor) -> World:
    return World(store, lee)


def _allergic_patient(store: Store, actor: Actor, *allergies: Allergy) -> int:
    patient = store.create_patient(
        actor,
        PatientFields(
            "C-ALL",
            "Roe",
            "Kim",
            date(1979, 3, 4),
            Sex.MALE,
            weight=Amount(Decimal(80), "kg"),
            allergies=allergies,
        ),
    )
    return patient.id


def test_formulation_with_an_allergen_is_refused_then_overridden_and_audited(
    store: Store, lee: Actor, world: World
) -> None:
    patient_id = _allergic_patient(store, lee, Allergy("biotin"))
    components = [ComponentSpec("Biotin", ml("1"), product_id=world.product.id)]
    before = len(events(store.database))
    with pytest.raises(SafetyBlocked, match="block this") as refused:
        store.save_formulation(
            lee, patient_id=patient_id, name="Mix", components=components, final_volume=ml("2")
        )
    assert [f.rule for f in refused.value.findings] == ["allergy"]
    assert len(events(store.database)) == before  # nothing saved, nothing audited
    # The editor sees the same finding before saving.
    (finding,) = store.check_formulation(
        lee, patient_id=patient_id, components=components, final_volume=ml("2")
    )
    assert finding.component_id == 1 and "biotin" in finding.message
    saved = store.save_formulation(
        lee,
        patient_id=patient_id,
        name="Mix",
        components=components,
        final_volume=ml("2"),
        override_reason=REASON,
        override_password=PASSWORD,
    )
    entry = events(store.database)[-1]
    assert entry.action == "formulation_version.safety_override"
    assert entry.entity_id == str(saved.id) and entry.user_name == lee.username
    assert "allergy" in (entry.reason or "") and REASON in (entry.reason or "")
    # The override is a signature: printed name, time and meaning bound to the finding.
    signed = (entry.reason or "").splitlines()[1]
    assert signed.startswith("BLOCK allergy:")
    assert f"| {lee.full_name} ({lee.username}), {OVERRIDE_MEANING} |" in signed
    assert chain_problems(store.database) == [] and replay_problems(store.database) == []


def test_a_formulation_override_needs_the_practitioners_password(
    store: Store, lee: Actor, world: World
) -> None:
    patient_id = _allergic_patient(store, lee, Allergy("biotin"))
    components = [ComponentSpec("Biotin", ml("1"), product_id=world.product.id)]
    save = {
        "patient_id": patient_id,
        "name": "Mix",
        "components": components,
        "final_volume": ml("2"),
        "override_reason": REASON,
    }
    before = len(events(store.database))
    with pytest.raises(ValidationError, match="password"):
        store.save_formulation(lee, **save)  # type: ignore[arg-type]
    assert len(events(store.database)) == before
    with pytest.raises(AuthenticationFailed):
        store.save_formulation(lee, **save, override_password="not the password")  # type: ignore[arg-type]
    refused = events(store.database)[-1]
    assert refused.action == "auth.override_failed" and refused.user_name == lee.username
    assert not any(e.action.startswith("formulation") for e in events(store.database)[before:])
    # A wrong override password counts toward the lockout like any other.
    for _ in range(4):
        with pytest.raises((AuthenticationFailed, AccountLocked)):
            store.save_formulation(lee, **save, override_password="still wrong")  # type: ignore[arg-type]
    with pytest.raises(AccountLocked):
        store.save_formulation(lee, **save, override_password=PASSWORD)  # type: ignore[arg-type]


def test_lidocaine_label_maximum_from_the_seeded_library(store: Store, lee: Actor) -> None:
    lido = ingredient_id(store, lee, "lidocaine")
    product = store.create_product(
        lee,
        name="Lidocaine 2%",
        volume_per_unit=ml("5"),
        ingredients=[StrengthSpec(lido, Amount(Decimal(20), "mg/mL"))],
    )
    patient_id = _allergic_patient(store, lee)
    ok = [ComponentSpec("Lidocaine 2%", ml("15"), product_id=product.id)]
    assert not store.check_formulation(
        lee, patient_id=patient_id, components=ok, final_volume=ml("20")
    )
    over = [ComponentSpec("Lidocaine 2%", ml("15.5"), product_id=product.id)]
    found = store.check_formulation(
        lee, patient_id=patient_id, components=over, final_volume=ml("20")
    )
    assert [f.rule for f in found] == ["limit.session"]
    assert "300 mg" in found.items[0].message and found.items[0].source
    # The limit cites the Hospira label, and the finding shows the kind beside it.
    assert found.items[0].source.startswith("label: ") and "Hospira" in found.items[0].source
    assert "[label: " in found.items[0].message


def test_expired_lot_blocks_signing_until_a_practitioner_overrides(
    store: Store, lee: Actor, world: World
) -> None:
    expired = store.receive_lot(
        lee,
        product_id=world.product.id,
        lot_number="OLD",
        expiry=date(2020, 1, 1),
        quantity=ml("10"),
    )
    draft = store.save_session_draft(lee, world.draft(lot_id=expired.id))
    found = store.check_session(lee, draft.id)
    assert [(f.rule, f.component_id, f.field) for f in found] == [("lot.expired", 1, "lots")]
    with pytest.raises(SafetyBlocked, match="expired on 2020-01-01"):
        store.sign_session(lee, draft.id, PASSWORD)
    with pytest.raises(SafetyBlocked, match="at least"):
        store.sign_session(lee, draft.id, PASSWORD, override_reason="ok")
    assert store.get_session(lee, draft.id).status is SessionStatus.DRAFT
    why = "manufacturer extended the expiry in writing"
    with pytest.raises(AuthenticationFailed):
        store.sign_session(lee, draft.id, "wrong password", override_reason=why)
    assert events(store.database)[-1].action == "auth.signature_failed"
    assert store.get_session(lee, draft.id).status is SessionStatus.DRAFT
    signed = store.sign_session(lee, draft.id, PASSWORD, override_reason=why)
    assert signed.status is SessionStatus.SIGNED
    (override,) = signed.overrides
    assert (override.rule, override.severity, override.by) == ("lot.expired", "block", "drlee")
    assert (override.signer_name, override.meaning) == (lee.full_name, OVERRIDE_MEANING)
    assert override.at == signed.signature.signed_at if signed.signature else False
    assert override.reason == "manufacturer extended the expiry in writing"
    sign_event = next(e for e in reversed(events(store.database)) if e.action == "session.sign")
    assert "safety override (lot.expired)" in (sign_event.reason or "")
    after = json.loads(sign_event.after or "{}")
    assert after["overrides"][0]["rule"] == "lot.expired"
    assert store.verify_signatures(lee, signed.id) == []
    assert chain_problems(store.database) == [] and replay_problems(store.database) == []


def test_warnings_need_acknowledging_and_are_recorded(
    store: Store, lee: Actor, world: World
) -> None:
    course = store.start_course(
        lee,
        patient_id=world.patient.id,
        name="Course",
        planned_sessions=6,
        interval_days=14,
        start_date=date.today() - timedelta(days=1),
    )
    sign_consent(store, lee, PASSWORD, world.patient, course.id)
    soon = store.receive_lot(
        lee,
        product_id=world.product.id,
        lot_number="SOON",
        expiry=date.today() + timedelta(days=20),
        quantity=ml("10"),
    )
    draft = store.save_session_draft(lee, world.draft(lot_id=soon.id, course_id=course.id))
    with pytest.raises(SafetyBlocked, match="acknowledged"):
        store.sign_session(lee, draft.id, PASSWORD)
    signed = store.sign_session(lee, draft.id, PASSWORD, acknowledge=True)
    assert [(o.rule, o.severity, o.reason) for o in signed.overrides] == [
        ("lot.expires_during_course", "warning", "acknowledged")
    ]
    sign_event = next(e for e in reversed(events(store.database)) if e.action == "session.sign")
    assert sign_event.reason == "1 safety warning acknowledged"


def test_course_interval_counts_earlier_signed_sessions(
    store: Store, lee: Actor, world: World
) -> None:
    course = store.start_course(
        lee,
        patient_id=world.patient.id,
        name="Course",
        planned_sessions=6,
        interval_days=7,
        start_date=date.today() - timedelta(days=30),
    )
    sign_consent(store, lee, PASSWORD, world.patient, course.id)
    first = store.save_session_draft(
        lee, world.draft(course_id=course.id, performed_at=datetime.now(UTC) - timedelta(days=3))
    )
    store.sign_session(lee, first.id, PASSWORD)
    second = store.save_session_draft(lee, world.draft(course_id=course.id))
    assert [f.rule for f in store.check_session(lee, second.id)] == ["schedule.interval"]


def test_clean_session_signs_without_overrides(store: Store, lee: Actor, world: World) -> None:
    signed = store.sign_session(lee, store.save_session_draft(lee, world.draft()).id, PASSWORD)
    assert signed.overrides == ()


def test_conditions_and_intolerances_reach_the_rules(store: Store, lee: Actor) -> None:
    cyano = ingredient_id(store, lee, "cyanocobalamin")
    product = store.create_product(
        lee,
        name="B12 1 mg/mL",
        volume_per_unit=ml("1"),
        ingredients=[StrengthSpec(cyano, Amount(Decimal(1), "mg/mL"))],
    )
    patient = store.create_patient(
        lee,
        PatientFields(
            "C-LEB",
            "Poe",
            "Sam",
            date(1990, 1, 1),
            Sex.MALE,
            conditions=(Condition("lebers_disease"),),
            allergies=(Allergy("cobalt", kind="intolerance"),),
        ),
    )
    assert store.get_patient(lee, patient.id).allergies[0].kind == "intolerance"
    found = store.check_formulation(
        lee,
        patient_id=patient.id,
        components=[ComponentSpec("B12", ml("1"), product_id=product.id)],
        final_volume=ml("1"),
    )
    assert {(f.rule, f.severity.value) for f in found} == {
        ("contraindication.ingredient", "block"),
        ("intolerance", "warning"),
    }


def test_stock_cannot_go_negative_even_with_an_override(
    store: Store, lee: Actor, world: World
) -> None:
    low = store.receive_lot(
        lee,
        product_id=world.product.id,
        lot_number="LOW",
        expiry=date(2099, 1, 1),
        quantity=ml("0.5"),
    )
    draft = store.save_session_draft(lee, world.draft(lots=(LotChoice(1, low.id),)))
    assert [f.rule for f in store.check_session(lee, draft.id)] == ["lot.stock_short"]
    with pytest.raises(Exception, match="less than"):
        store.sign_session(lee, draft.id, PASSWORD, override_reason="stock count is wrong, fine")


def test_record_session_is_all_or_nothing(store: Store, lee: Actor, world: World) -> None:
    expired = store.receive_lot(
        lee,
        product_id=world.product.id,
        lot_number="OLD",
        expiry=date(2020, 1, 1),
        quantity=ml("10"),
    )
    draft = world.draft(lot_id=expired.id)
    assert [f.rule for f in store.check_session_draft(lee, draft)] == ["lot.expired"]
    before = len(events(store.database))
    with pytest.raises(SafetyBlocked):
        store.record_session(lee, draft, PASSWORD)
    # Only the re-entered password's check may be audited; no draft is left behind.
    assert [e.action for e in events(store.database)[before:]] == []
    assert store.list_sessions(lee, world.patient.id) == []
    signed = store.record_session(
        lee, draft, PASSWORD, override_reason="expiry extended in writing"
    )
    assert signed.status is SessionStatus.SIGNED and signed.overrides[0].rule == "lot.expired"
    assert chain_problems(store.database) == [] and replay_problems(store.database) == []


def test_clinic_course_limit_projected_at_save_and_enforced_at_signing(
    store: Store, lee: Actor, world: World
) -> None:
    from db.store import IngredientFields

    course_limit = {
        "amount": {"value": "10", "unit": "mg"},
        "per": "course",
        "source": "clinic protocol 2026-03",
    }
    store.upsert_ingredient(
        lee,
        IngredientFields(key=world.ingredient.key, name="Biotin", facts={"limits": [course_limit]}),
        reason="clinic course maximum for biotin",
    )
    course = store.start_course(
        lee,
        patient_id=world.patient.id,
        name="Course",
        planned_sessions=4,
        interval_days=1,
        start_date=date.today() - timedelta(days=10),
        formulation_id=world.version.formulation_id,
    )
    sign_consent(store, lee, PASSWORD, world.patient, course.id)
    components = [ComponentSpec("Biotin", ml("1"), product_id=world.product.id)]  # 5 mg each
    found = store.check_formulation(
        lee,
        patient_id=world.patient.id,
        components=components,
        final_volume=ml("1"),
        formulation_id=world.version.formulation_id,
    )
    (projected,) = found
    assert projected.rule == "limit.course_projected" and "clinic protocol" in projected.message
    first = store.save_session_draft(
        lee, world.draft(course_id=course.id, performed_at=datetime.now(UTC) - timedelta(days=2))
    )
    store.sign_session(lee, first.id, PASSWORD)  # 5 mg of 10
    second = store.save_session_draft(
        lee, world.draft(course_id=course.id, performed_at=datetime.now(UTC) - timedelta(days=1))
    )
    assert not store.check_session(lee, second.id)  # 10 mg: exactly at the limit
    store.sign_session(lee, second.id, PASSWORD)
    third = store.save_session_draft(lee, world.draft(course_id=course.id))
    (over,) = store.check_session(lee, third.id)
    assert over.rule == "limit.course" and "after 10 mg in earlier sessions" in over.message


def test_an_ingredient_edited_after_a_check_is_read_afresh(
    store: Store, lee: Actor, world: World
) -> None:
    # The rules' view of the ingredients is parsed once per stored content: an edit
    # (a limit added, then taken away again) must show in the very next check.
    from db.store import IngredientFields

    draft = store.save_session_draft(lee, world.draft())
    assert not store.check_session(lee, draft.id)
    session_limit = {
        "amount": {"value": "2", "unit": "mg"},
        "per": "session",
        "source": "clinic protocol 2026-04",
    }
    store.upsert_ingredient(
        lee,
        IngredientFields(
            key=world.ingredient.key, name="Biotin", facts={"limits": [session_limit]}
        ),
        reason="clinic session maximum for biotin",
    )
    (over,) = store.check_session(lee, draft.id)  # 5 mg given, 2 mg allowed
    assert over.rule.startswith("limit.") and "clinic protocol 2026-04" in over.message
    store.upsert_ingredient(
        lee,
        IngredientFields(key=world.ingredient.key, name="Biotin", facts={"limits": []}),
        reason="protocol withdrawn",
    )
    assert not store.check_session(lee, draft.id)
    store.sign_session(lee, draft.id, PASSWORD)
