"""A clinic's first week of stock through the Store: products with presentation and
GTIN, edit and retire with reasons, lots by count or volume, clinic ingredients and
clinic limits beside the library's (the stricter one applies). Both engines."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from db.errors import Conflict, PermissionDenied, ValidationError
from db.store import (
    Actor,
    ClinicLimitFields,
    IngredientFields,
    ProductFields,
    Store,
    StrengthSpec,
)
from db.tables.stock import ClinicLimitRow, LotRow, ProductRow
from formulary.records import Presentation, Role
from formulary.units.amount import Amount

from .helpers import chain_problems, count_rows, events, ml, replay_problems

pytestmark = pytest.mark.storage

GTIN = "05012345678900"


def amount(text: str) -> Amount:
    value, unit = text.split(" ", 1)
    return Amount(Decimal(value), unit)


def ingredient_id(store: Store, actor: Actor, key: str) -> int:
    (found,) = [i for i in store.list_ingredients(actor, key) if i.key == key]
    return found.id


def biotin_fields(store: Store, actor: Actor, **kw: object) -> ProductFields:
    values: dict[str, object] = {
        "name": "Biotin 5 mg/mL ampoule 1 mL",
        "presentation": Presentation.AMPOULE,
        "volume_per_unit": ml("1"),
        "ingredients": (StrengthSpec(ingredient_id(store, actor, "biotin"), amount("5 mg/mL")),),
        "manufacturer": "Aubrac Pharma",
        "gtin": "5012345678900",
    }
    values.update(kw)
    return ProductFields(**values)  # type: ignore[arg-type]


def test_add_edit_retire_product_with_audit(store: Store, admin: Actor) -> None:
    product = store.add_product(admin, biotin_fields(store, admin))
    assert product.presentation is Presentation.AMPOULE
    assert product.gtin == GTIN  # stored as GTIN-14
    assert product.ingredients[0].strength == amount("5 mg/mL")
    assert store.product_by_gtin(admin, "5012345678900") == product
    with pytest.raises(ValidationError, match="reason"):
        store.update_product(admin, product.id, biotin_fields(store, admin, name="B"), "")
    edited = store.update_product(
        admin, product.id, biotin_fields(store, admin, manufacturer="Nordvik"), "new supplier"
    )
    assert edited.manufacturer == "Nordvik"
    store.retire_product(admin, product.id, "discontinued by the maker")
    assert store.list_products(admin) == []
    (retired,) = store.list_products(admin, include_retired=True)
    assert retired.retired_reason == "discontinued by the maker"
    assert count_rows(store.database, ProductRow) == 1  # never hard-deleted
    actions = [(e.action, e.reason) for e in events(store.database) if e.entity == "product"]
    assert actions == [
        ("product.create", None),
        ("product.update", "new supplier"),
        ("product.delete", "discontinued by the maker"),
    ]
    assert chain_problems(store.database) == [] and replay_problems(store.database) == []


def test_solution_strength_must_be_a_concentration(store: Store, admin: Actor) -> None:
    bad = biotin_fields(
        store,
        admin,
        ingredients=(StrengthSpec(ingredient_id(store, admin, "biotin"), amount("400 IU")),),
    )
    with pytest.raises(ValidationError, match="expected a concentration"):
        store.add_product(admin, bad)
    assert count_rows(store.database, ProductRow) == 0


def test_bad_gtin_check_digit_and_duplicate_gtin_refused(store: Store, admin: Actor) -> None:
    with pytest.raises(ValidationError, match="check digit"):
        store.add_product(admin, biotin_fields(store, admin, gtin="5012345678901"))
    store.add_product(admin, biotin_fields(store, admin))
    with pytest.raises(Conflict, match="already"):
        store.add_product(admin, biotin_fields(store, admin, name="Other"))


def test_iu_strength_needs_a_form_with_an_iu(store: Store, admin: Actor) -> None:
    vit_e = ingredient_id(store, admin, "vitamin-e-natural")
    fields = biotin_fields(
        store,
        admin,
        name="Vitamin E",
        gtin="",
        ingredients=(StrengthSpec(vit_e, amount("100 IU/mL")),),
    )
    with pytest.raises(ValidationError, match="without its form"):
        store.add_product(admin, fields)
    ok = ProductFields(
        **{
            **{f: getattr(fields, f) for f in ProductFields.__dataclass_fields__},
            "ingredients": (StrengthSpec(vit_e, amount("100 IU/mL"), "RRR-alpha-tocopherol"),),
        }
    )
    assert store.add_product(admin, ok).ingredients[0].form == "RRR-alpha-tocopherol"
    with pytest.raises(ValidationError, match="no form"):
        store.add_product(
            admin,
            biotin_fields(
                store,
                admin,
                gtin="",
                ingredients=(
                    StrengthSpec(ingredient_id(store, admin, "biotin"), amount("5 mg/mL"), "x"),
                ),
            ),
        )


def test_powder_strength_per_vial_in_its_reconstitution_volume(store: Store, admin: Actor) -> None:
    powder = store.add_product(
        admin,
        biotin_fields(
            store,
            admin,
            presentation=Presentation.POWDER,
            volume_per_unit=ml("5"),
            ingredients=(StrengthSpec(ingredient_id(store, admin, "biotin"), amount("20 mg")),),
        ),
    )
    (line,) = powder.ingredients
    assert line.strength == amount("4 mg/mL") and line.per_unit == amount("20 mg")


def test_receive_by_count_and_by_volume(
    store: Store, admin: Actor, users: dict[Role, Actor]
) -> None:
    product = store.add_product(admin, biotin_fields(store, admin, volume_per_unit=ml("5")))
    nurse = users[Role.ASSISTANT]
    counted = store.receive_lot(
        nurse,
        product_id=product.id,
        lot_number="BT-1",
        expiry=date(2031, 1, 31),
        count=10,
        supplier="Pharma Wholesale",
    )
    assert counted.quantity_on_hand == ml("50") and counted.units_received == 10
    assert counted.supplier == "Pharma Wholesale"
    by_volume = store.receive_lot(
        nurse, product_id=product.id, lot_number="BT-2", expiry=date(2031, 2, 1), quantity=ml("12")
    )
    assert by_volume.quantity_on_hand == ml("12") and by_volume.units_received is None
    with pytest.raises(ValidationError, match="either"):
        store.receive_lot(
            nurse,
            product_id=product.id,
            lot_number="BT-3",
            expiry=date(2031, 2, 1),
            quantity=ml("1"),
            count=1,
        )
    with pytest.raises(ValidationError, match="whole number"):
        store.receive_lot(
            nurse, product_id=product.id, lot_number="BT-3", expiry=date(2031, 2, 1), count=0
        )
    assert count_rows(store.database, LotRow) == 2
    received = [e for e in events(store.database) if e.action == "lot.receive"]
    assert len(received) == 2
    # What is in the product is fixed once stock of it exists.
    with pytest.raises(ValidationError, match="cannot change"):
        store.update_product(
            admin, product.id, biotin_fields(store, admin, volume_per_unit=ml("2")), "typo"
        )


def test_clinic_ingredient_and_limit_need_source_and_reason(
    store: Store, admin: Actor, users: dict[Role, Actor]
) -> None:
    facts = {
        "classes": ["peptide"],
        "forms": [{"key": "base", "label": "copper tripeptide-1", "molar_mass": "340.4"}],
        "default_form": "base",
    }
    ghk = store.upsert_ingredient(
        admin,
        IngredientFields(key="clinic-ghk-cu", name="GHK-Cu", category="peptide", facts=facts),
    )
    assert ghk.origin == "clinic"
    with pytest.raises(ValidationError, match="source"):
        store.add_clinic_limit(admin, ghk.id, ClinicLimitFields("session", amount("2 mg"), " "))
    with pytest.raises(PermissionDenied):
        store.add_clinic_limit(
            users[Role.ASSISTANT], ghk.id, ClinicLimitFields("session", amount("2 mg"), "protocol")
        )
    limit = store.add_clinic_limit(
        admin, ghk.id, ClinicLimitFields("session", amount("2 mg"), "clinic protocol 2026-12")
    )
    assert [c.id for c in store.list_clinic_limits(admin)] == [limit.id]
    with pytest.raises(ValidationError, match="reason"):
        store.update_clinic_limit(
            admin, limit.id, ClinicLimitFields("session", amount("1 mg"), "p"), ""
        )
    changed = store.update_clinic_limit(
        admin, limit.id, ClinicLimitFields("session", amount("1 mg"), "protocol v2"), "tighter"
    )
    assert changed.amount == amount("1 mg")
    store.retire_clinic_limit(admin, limit.id, "protocol withdrawn")
    assert store.list_clinic_limits(admin) == []
    (kept,) = store.list_clinic_limits(admin, include_retired=True)
    assert kept.retired and kept.retired_reason == "protocol withdrawn"
    assert count_rows(store.database, ClinicLimitRow) == 1
    actions = [e.action for e in events(store.database) if e.entity == "clinic_limit"]
    assert actions == ["clinic_limit.create", "clinic_limit.update", "clinic_limit.retire"]
    assert chain_problems(store.database) == [] and replay_problems(store.database) == []


def test_library_facts_stay_read_only(store: Store, admin: Actor) -> None:
    (biotin,) = [i for i in store.list_ingredients(admin, "biotin") if i.key == "biotin"]
    assert biotin.origin == "library"
    with pytest.raises(ValidationError, match="read-only"):
        store.upsert_ingredient(
            admin,
            IngredientFields(key="biotin", name="Biotin", facts={"limits": []}),
            "try to edit",
        )


def _lidocaine_limits(store: Store, admin: Actor) -> list[tuple[str, Decimal, str]]:
    from sqlmodel import Session

    from db.store.safety import ingredient_facts

    with Session(store.database.engine) as db:
        _, limits = ingredient_facts(db)
    return sorted(
        (lim.per.value, lim.amount.value, lim.source)
        for lim in limits
        if lim.subject == "lidocaine"
    )


def test_stricter_of_clinic_and_library_limit_applies(store: Store, admin: Actor) -> None:
    lidocaine = ingredient_id(store, admin, "lidocaine")
    basis = "lidocaine hydrochloride anhydrous"
    library = _lidocaine_limits(store, admin)
    library_session = [x for x in library if x[0] == "session"]
    assert library_session, "the library has a per-session lidocaine maximum"
    published = library_session[0][1]
    # Looser than the label: the label's figure stays in force.
    store.add_clinic_limit(
        admin, lidocaine, ClinicLimitFields("session", Amount(published + 100, "mg"), "ours", basis)
    )
    assert [x for x in _lidocaine_limits(store, admin) if x[0] == "session"] == library_session
    # Stricter than the label: the clinic's figure replaces it.
    store.add_clinic_limit(
        admin, lidocaine, ClinicLimitFields("session", amount("100 mg"), "protocol 3", basis)
    )
    assert [x for x in _lidocaine_limits(store, admin) if x[0] == "session"] == [
        ("session", Decimal("100"), "clinic limit: protocol 3")
    ]


def test_add_products_all_or_nothing_and_dry_run(store: Store, admin: Actor) -> None:
    good = biotin_fields(store, admin)
    other = biotin_fields(store, admin, name="Biotin 10 mL", gtin="")
    clash = biotin_fields(store, admin, name="Same GTIN")  # the first one's GTIN again
    before = len(events(store.database))
    with pytest.raises(Conflict, match=r"line 4 \(Same GTIN\): GTIN 05012345678900"):
        store.add_products(admin, [good, other, clash], labels=["line 2", "line 3", "line 4"])
    assert count_rows(store.database, ProductRow) == 0
    checked = store.add_products(admin, [good, other], dry_run=True)
    assert [p.name for p in checked] == [good.name, other.name]
    assert count_rows(store.database, ProductRow) == 0
    assert len(events(store.database)) == before  # a dry run leaves no audit entry
    added = store.add_products(admin, [good, other])
    assert count_rows(store.database, ProductRow) == 2 and len(added) == 2
    assert chain_problems(store.database) == [] and replay_problems(store.database) == []


def test_clinic_ingredient_may_not_duplicate_a_known_name(store: Store, admin: Actor) -> None:
    with pytest.raises(Conflict, match="already in the formulary"):
        store.add_clinic_ingredient(admin, IngredientFields(key="clinic-b7", name="Biotin"))
    with pytest.raises(Conflict, match="already in the formulary"):
        store.add_clinic_ingredient(
            admin, IngredientFields(key="clinic-x", name="X", synonyms=("vitamin B7",))
        )
    added = store.add_clinic_ingredient(
        admin, IngredientFields(key="clinic-adenosine", name="Adenosine")
    )
    assert added.origin == "clinic"


def test_clinic_limit_is_enforced_by_the_rules_in_both_directions(
    store: Store, admin: Actor
) -> None:
    from db.store import ComponentSpec, PatientFields
    from formulary.records import Sex

    basis = "lidocaine hydrochloride anhydrous"
    lidocaine = ingredient_id(store, admin, "lidocaine")
    patient = store.create_patient(
        admin, PatientFields("C-9", "Doe", "Jane", date(1980, 1, 2), Sex.FEMALE)
    )
    product = store.add_product(
        admin,
        ProductFields(
            name="Lidocaine HCl 2 %",
            presentation=Presentation.AMPOULE,
            volume_per_unit=ml("5"),
            ingredients=(StrengthSpec(lidocaine, amount("20 mg/mL"), basis),),
        ),
    )

    def session_findings(volume: str) -> list[str]:
        found = store.check_formulation(
            admin,
            patient_id=patient.id,
            components=[ComponentSpec("Lidocaine", ml(volume), product_id=product.id)],
            final_volume=ml(volume),
        )
        return [f.source for f in found if f.rule == "limit.session"]

    assert session_findings("10") == []  # 200 mg, under the label's 300 mg
    stricter = store.add_clinic_limit(
        admin, lidocaine, ClinicLimitFields("session", amount("150 mg"), "protocol 7", basis)
    )
    assert session_findings("10") == ["clinic limit: protocol 7"]  # the clinic's 150 mg
    store.retire_clinic_limit(admin, stricter.id, "back to the label")
    store.add_clinic_limit(
        admin, lidocaine, ClinicLimitFields("session", amount("400 mg"), "looser", basis)
    )
    (label,) = session_findings("16")  # 320 mg: the label's 300 mg still applies
    assert "clinic" not in label
