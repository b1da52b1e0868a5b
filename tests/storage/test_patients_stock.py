"""Patients and stock through the Store: audit per change, reasons, soft deletes, search."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

from db.errors import Conflict, NotFound, PermissionDenied, ValidationError
from db.store import Actor, IngredientFields, PatientFields, Store, StrengthSpec
from db.tables.people import PatientRow
from formulary.records import Allergy, Condition, GradeScale, LotStatus, Role, Sex
from formulary.units.amount import Amount

from .conftest import PASSWORD
from .helpers import World, chain_problems, count_rows, events, ml, replay_problems

pytestmark = pytest.mark.storage


def fields(
    chart: str = "C-1", family: str = "Doe", given: str = "Jane", **kw: object
) -> PatientFields:
    values: dict[str, object] = {
        "chart_number": chart,
        "family_name": family,
        "given_name": given,
        "date_of_birth": date(1980, 1, 2),
        "sex": Sex.FEMALE,
    }
    values.update(kw)
    return PatientFields(**values)  # type: ignore[arg-type]


def test_create_update_delete_patient_with_audit(store: Store, users: dict[Role, Actor]) -> None:
    sam = users[Role.ASSISTANT]
    p = store.create_patient(
        sam,
        fields(
            grade_scale=GradeScale.LUDWIG,
            grade="II",
            allergies=(Allergy("lidocaine", reaction="rash"),),
            conditions=(Condition("pregnancy"),),
            consent_on_file=True,
            consent_date=date(2026, 1, 5),
        ),
    )
    assert p.allergies[0].substance == "lidocaine" and p.consent_on_file
    n = len(events(store.database))
    with pytest.raises(ValidationError, match="reason"):
        store.update_patient(sam, p.id, fields(diagnosis="AGA"), "  ")
    updated = store.update_patient(sam, p.id, fields(diagnosis="AGA"), "diagnosis confirmed")
    assert updated.diagnosis == "AGA" and updated.allergies == ()
    assert len(events(store.database)) == n + 1
    # Saving the same content writes nothing.
    store.update_patient(sam, p.id, fields(diagnosis="AGA"), "no change")
    assert len(events(store.database)) == n + 1
    with pytest.raises(PermissionDenied):
        store.delete_patient(sam, p.id, "duplicate")
    store.delete_patient(users[Role.PRACTITIONER], p.id, "duplicate chart")
    assert count_rows(store.database, PatientRow) == 1  # soft
    with pytest.raises(NotFound):
        store.get_patient(sam, p.id)
    assert store.list_patients(sam) == []
    with pytest.raises(Conflict, match="never reused"):
        store.create_patient(sam, fields())
    assert chain_problems(store.database) == [] and replay_problems(store.database) == []


def test_auditor_reads_but_never_writes(store: Store, users: dict[Role, Actor]) -> None:
    store.create_patient(users[Role.ADMIN], fields())
    auditor = users[Role.AUDITOR]
    assert len(store.list_patients(auditor)) == 1
    assert store.audit_events(auditor, entity="patient")[0].action == "patient.create"
    with pytest.raises(PermissionDenied, match="auditor and cannot add patients"):
        store.create_patient(auditor, fields("C-2"))
    with pytest.raises(PermissionDenied):
        store.audit_events(users[Role.ASSISTANT])


def test_allergies_and_conditions(store: Store, admin: Actor) -> None:
    p = store.create_patient(admin, fields())
    p = store.add_allergy(admin, p.id, Allergy("Biotin", ingredient_id=None))
    with pytest.raises(Conflict, match="already recorded"):
        store.add_allergy(admin, p.id, Allergy("biotin"))
    with pytest.raises(ValidationError, match="reason"):
        store.remove_allergy(admin, p.id, "biotin", "")
    p = store.remove_allergy(admin, p.id, "BIOTIN", "entered in error")
    assert p.allergies == ()
    p = store.add_condition(admin, p.id, Condition("anticoagulants", "warfarin"))
    p = store.remove_condition(admin, p.id, "anticoagulants", "stopped")
    assert p.conditions == ()
    assert replay_problems(store.database) == []


def test_patient_validation_messages(store: Store, admin: Actor) -> None:
    with pytest.raises(ValidationError, match="chart number is empty"):
        store.create_patient(admin, fields(chart=" "))
    with pytest.raises(ValidationError, match="future"):
        store.create_patient(admin, fields(date_of_birth=date(2999, 1, 1)))
    with pytest.raises(ValidationError, match="consent"):
        store.create_patient(admin, fields(consent_date=date(2020, 1, 1)))
    assert events(store.database)[-1].action == "user.create"


def test_search_by_name_chart_and_birth_date(store: Store, admin: Actor) -> None:
    store.create_patient(admin, fields("A-100", "Müller", "Zoë"))
    store.create_patient(admin, fields("B-200", "Smith", "Anna", date_of_birth=date(1990, 5, 6)))
    store.create_patient(admin, fields("B-201", "Smithers", "Bob"))
    assert [p.chart_number for p in store.list_patients(admin, "muller zoe")] == ["A-100"]
    assert [p.chart_number for p in store.list_patients(admin, "smith")] == ["B-200", "B-201"]
    assert [p.chart_number for p in store.list_patients(admin, "b-201")] == ["B-201"]
    assert [p.chart_number for p in store.list_patients(admin, "1990-05-06")] == ["B-200"]
    assert store.list_patients(admin, "100%") == []
    assert [p.chart_number for p in store.list_patients(admin, "", limit=1, offset=1)] == ["B-200"]
    assert store.count_patients(admin) == 3


def test_stock_receive_adjust_status_and_fefo(store: Store, admin: Actor) -> None:
    ing = store.upsert_ingredient(
        admin, IngredientFields(key="clinic-dexpanthenol", name="Dexpanthenol")
    )
    prod = store.create_product(
        admin,
        name="Dexpanthenol 250 mg/2 mL",
        ingredients=[StrengthSpec(ing.id, Amount(Decimal("125"), "mg/mL"))],
        volume_per_unit=ml("2"),
    )
    late = store.receive_lot(
        admin, product_id=prod.id, lot_number="LATE", expiry=date(2031, 1, 1), quantity=ml("10")
    )
    early = store.receive_lot(
        admin, product_id=prod.id, lot_number="EARLY", expiry=date(2030, 1, 1), quantity=ml("4")
    )
    old = store.receive_lot(
        admin, product_id=prod.id, lot_number="OLD", expiry=date(2020, 1, 1), quantity=ml("4")
    )
    with pytest.raises(ValidationError, match="stocked in mL"):
        store.receive_lot(
            admin,
            product_id=prod.id,
            lot_number="X",
            expiry=date(2030, 1, 1),
            quantity=Amount(Decimal(1), "mg"),
        )
    with pytest.raises(Conflict, match="already received"):
        store.receive_lot(
            admin, product_id=prod.id, lot_number="LATE", expiry=date(2031, 1, 1), quantity=ml("1")
        )
    # The same number typed in another case is the same lot.
    with pytest.raises(Conflict, match=r"lot late of .* is already received \(as LATE\)"):
        store.receive_lot(
            admin, product_id=prod.id, lot_number="late", expiry=date(2031, 1, 1), quantity=ml("1")
        )
    on = date(2026, 6, 1)
    assert [lot.lot_number for lot in store.lots_for_product(admin, prod.id, on)] == [
        "EARLY",
        "LATE",
    ]
    store.set_lot_status(admin, early.id, LotStatus.QUARANTINED, "temperature excursion")
    assert [lot.lot_number for lot in store.lots_for_product(admin, prod.id, on)] == ["LATE"]
    lot = store.adjust_stock(admin, late.id, ml("-0.25"), "spilled")
    assert lot.quantity_on_hand == ml("9.75")
    with pytest.raises(ValidationError, match="below zero"):
        store.adjust_stock(admin, late.id, ml("-100"), "count")
    with pytest.raises(ValidationError, match="reason"):
        store.adjust_stock(admin, late.id, ml("1"), "")
    assert old.status is LotStatus.AVAILABLE
    assert replay_problems(store.database) == [] and chain_problems(store.database) == []


def test_a_recalled_lot_stays_recalled_until_an_administrator_lifts_the_recall(
    store: Store, users: dict[Role, Actor]
) -> None:
    admin, lee = users[Role.ADMIN], users[Role.PRACTITIONER]
    world = World(store, lee)
    lot_id = world.lot.id
    store.set_lot_status(lee, lot_id, LotStatus.RECALLED, "manufacturer notice 2026-14")
    before = len(events(store.database))
    # Neither a practitioner nor an administrator releases or quarantines it.
    for actor in (lee, admin):
        for status, verb in ((LotStatus.AVAILABLE, "released"),
                             (LotStatus.QUARANTINED, "quarantined")):
            with pytest.raises(ValidationError) as refused:
                store.set_lot_status(actor, lot_id, status, "looks fine to me")
            assert str(refused.value) == (
                f"lot L-C-1 of Biotin 5 mg/mL is recalled, and a recall is final: the lot is "
                f"never drawn from again and cannot be {verb}; if the recall was recorded by "
                "mistake, an administrator can lift it, giving the reason (the lot then stays "
                "quarantined until it is released)"
            )
    # Recalling it again changes nothing and writes nothing.
    assert store.set_lot_status(lee, lot_id, LotStatus.RECALLED, "again").status is (
        LotStatus.RECALLED
    )
    # Lifting it: administrators only, with a reason.
    with pytest.raises(PermissionDenied, match="cannot lift a recall; ask an administrator"):
        store.lift_recall(lee, lot_id, "wrong lot on the notice")
    with pytest.raises(ValidationError, match="give a reason to lift a recall"):
        store.lift_recall(admin, lot_id, "  ")
    assert len(events(store.database)) == before
    assert store.get_lot(lee, lot_id).status is LotStatus.RECALLED

    lifted = store.lift_recall(admin, lot_id, "the notice named lot L-C-7, not this one")
    assert lifted.status is LotStatus.QUARANTINED  # checked before it is drawn again
    entry = events(store.database)[-1]
    assert (entry.action, entry.entity, entry.user_name) == ("lot.set_status", "lot", "admin")
    assert entry.reason == "recall lifted: the notice named lot L-C-7, not this one"
    assert entry.before is not None and entry.after is not None
    assert json.loads(entry.before)["status"] == "recalled"
    assert json.loads(entry.after)["status"] == "quarantined"
    with pytest.raises(ValidationError, match="is not recalled \\(it is quarantined\\)"):
        store.lift_recall(admin, lot_id, "twice")
    # From quarantine it is released as any quarantined lot.
    assert store.set_lot_status(lee, lot_id, LotStatus.AVAILABLE, "checked").status is (
        LotStatus.AVAILABLE
    )
    assert replay_problems(store.database) == [] and chain_problems(store.database) == []


def test_decimals_stay_exact(store: Store, admin: Actor) -> None:
    world = World(store, admin)
    lot = store.adjust_stock(admin, world.lot.id, ml("0.10"), "top up")
    assert str(lot.quantity_on_hand.value) == "1000.10"
    lot = store.adjust_stock(admin, world.lot.id, ml("0.20"), "top up")
    assert lot.quantity_on_hand.value == Decimal("1000.30")


def test_ingredient_edit_needs_reason(store: Store, admin: Actor) -> None:
    store.upsert_ingredient(admin, IngredientFields(key="clinic-zinc", name="Zinc"))
    with pytest.raises(ValidationError, match="reason"):
        store.upsert_ingredient(admin, IngredientFields(key="clinic-zinc", name="Zinc sulfate"))
    edited = store.upsert_ingredient(
        admin,
        IngredientFields(key="clinic-zinc", name="Zinc sulfate", synonyms=("ZnSO4",)),
        "clarify salt",
    )
    assert edited.synonyms == ("ZnSO4",)
    assert [i.key for i in store.list_ingredients(admin, "znso4")] == ["clinic-zinc"]


def test_a_lot_typed_wrong_is_corrected_and_its_sessions_show_it(
    store: Store, users: dict[Role, Actor]
) -> None:
    lee = users[Role.PRACTITIONER]
    world = World(store, lee)
    signed = store.sign_session(lee, store.save_session_draft(lee, world.draft()).id, PASSWORD)
    typed = world.lot
    other = store.receive_lot(
        lee, product_id=world.product.id, lot_number="Z9", expiry=date(2099, 1, 1),
        quantity=ml("5"),
    )
    before = len(events(store.database))

    fixed = store.correct_lot(
        lee, typed.id, reason="the box says B7-X", lot_number="B7-X", expiry=date(2098, 2, 3)
    )
    assert (fixed.lot_number, fixed.expiry) == ("B7-X", date(2098, 2, 3))
    assert fixed.quantity_on_hand == store.get_lot(lee, typed.id).quantity_on_hand
    # The session that drew from it names the lot as corrected, and is still what was signed.
    shown = store.get_session(lee, signed.id)
    assert [(u.lot_id, u.lot_number, u.expiry) for u in shown.lots] == [
        (typed.id, "B7-X", date(2098, 2, 3))
    ]
    assert store.verify_signatures(lee, signed.id) == []
    entry = events(store.database)[-1]
    assert len(events(store.database)) == before + 1
    assert (entry.action, entry.reason) == ("lot.correct", "the box says B7-X")
    assert json.loads(entry.before or "{}")["lot_number"] == typed.lot_number
    assert json.loads(entry.after or "{}")["lot_number"] == "B7-X"

    # Refused, and nothing written: another lot's number in any case, no change at all,
    # nothing to correct, no reason, an assistant.
    with pytest.raises(Conflict, match=r"that product has lot Z9 already"):
        store.correct_lot(lee, typed.id, reason="r", lot_number="z9")
    with pytest.raises(ValidationError, match="already reads so"):
        store.correct_lot(lee, typed.id, reason="r", lot_number="B7-X")
    with pytest.raises(ValidationError, match="nothing to correct"):
        store.correct_lot(lee, typed.id, reason="r")
    with pytest.raises(ValidationError, match="reason"):
        store.correct_lot(lee, typed.id, reason=" ", supplier="Acme")
    with pytest.raises(PermissionDenied):
        store.correct_lot(users[Role.ASSISTANT], other.id, reason="r", supplier="Acme")
    assert len(events(store.database)) == before + 1
    assert chain_problems(store.database) == [] and replay_problems(store.database) == []
