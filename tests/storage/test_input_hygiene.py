"""What the Store refuses to store as text, on both engines: not UTF-8, control characters."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import col

from db.database import Database
from db.errors import Conflict, NotFound, ValidationError
from db.store import Actor, IngredientFields, PatientFields, Store, StrengthSpec
from db.tables.people import PatientRow
from formulary import text as plain_text
from formulary.consent import DEFAULT_TEMPLATE_TEXT
from formulary.records import Role, Sex
from formulary.units.amount import Amount

PASSWORD = "correct horse battery"
CONTROLS = ["\x1b[31m", "\x07", "\r", "\t", "\x85", "\x9b", "\x7f", "\n", "\u2028", "\udcff"]


def fields(chart: str = "C-001", family: str = "Doe", given_name: str = "Jane") -> PatientFields:
    return PatientFields(chart, family, given_name, date(1980, 1, 2), Sex.FEMALE)


def test_patient_names_and_chart_numbers_refuse_control_characters(
    store: Store, admin: Actor
) -> None:
    for bad in CONTROLS:
        for field in ("chart", "family", "given_name"):
            with pytest.raises(ValidationError, match=r"control character|line break|not UTF-8"):
                store.create_patient(admin, fields(**{field: f"Ab{bad}cd"}))
    assert store.list_patients(admin) == []


def test_a_full_name_or_lot_number_refuses_control_characters(store: Store, admin: Actor) -> None:
    biotin = store.list_ingredients(admin, "biotin")[0]
    product = store.create_product(
        admin, name="Biotin", ingredients=[StrengthSpec(biotin.id, Amount(Decimal(5), "mg/mL"))]
    )
    for bad in CONTROLS:
        with pytest.raises(ValidationError, match="full name"):
            store.create_user(admin, "nurse", f"Nora{bad}Nurse", Role.ASSISTANT, PASSWORD)
        with pytest.raises(ValidationError, match="lot number"):
            store.receive_lot(
                admin, product_id=product.id, lot_number=f"L{bad}1", expiry=date(2030, 1, 1),
                quantity=Amount(Decimal(10), "mL"),
            )
    assert [u.username for u in store.list_users(admin)] == ["admin"]
    assert store.list_lots(admin) == []


def test_notes_keep_line_breaks_and_tabs_but_not_escapes(store: Store, admin: Actor) -> None:
    note = "first line\n\tindented second"
    store.update_clinic(admin, address=note)
    assert store.clinic(admin).address == note
    with pytest.raises(ValidationError, match="clinic address contains a control character"):
        store.update_clinic(admin, address="Main St\x1b]0;owned\x07")
    assert store.clinic(admin).address == note


@given(st.text())
def test_the_rule_refuses_exactly_controls_and_surrogates(value: str) -> None:
    single = plain_text.problem(value)
    multi = plain_text.problem(value, multiline=True)
    has_surrogate = any(0xD800 <= ord(c) <= 0xDFFF for c in value)
    controls = [c for c in value if ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F]
    separators = [c for c in value if c in "\u2028\u2029"]
    assert (single is None) == (not has_surrogate and not controls and not separators)
    assert (multi is None) == (not has_surrogate and not (set(controls) - {"\n", "\t"}))


def test_names_that_differ_only_in_case_or_spacing_are_one_name(
    store: Store, admin: Actor
) -> None:
    biotin = store.list_ingredients(admin, "biotin")[0]
    strength = [StrengthSpec(biotin.id, Amount(Decimal(5), "mg/mL"))]
    first = store.create_product(admin, name="  Biotin 5 mg/mL ", ingredients=strength)
    assert first.name == "Biotin 5 mg/mL"
    for twin in ("Biotin 5 mg/mL", "biotin 5 MG/ML", "Biotin  5 mg/mL"):
        with pytest.raises(Conflict, match=f"product {first.id} is already called"):
            store.create_product(admin, name=twin, ingredients=strength)
    store.retire_product(admin, first.id, "replaced")
    again = store.create_product(admin, name="Biotin 5 mg/mL", ingredients=strength)
    assert [p.id for p in store.list_products(admin)] == [again.id]

    patient = store.create_patient(admin, fields(chart=" C-001 "))
    assert patient.chart_number == "C-001"
    with pytest.raises(Conflict, match="as C-001"):
        store.create_patient(admin, fields(chart=" c-001 "))
    assert store.find_patient(admin, "c-001").id == patient.id
    assert len(store.list_patients(admin)) == 1

    template = store.add_consent_template(admin, "Standard consent", DEFAULT_TEMPLATE_TEXT)
    with pytest.raises(Conflict, match="named 'Standard consent'"):
        store.add_consent_template(admin, "standard CONSENT", DEFAULT_TEMPLATE_TEXT)
    renamed = store.edit_consent_template(
        admin, template.id, DEFAULT_TEMPLATE_TEXT, name="STANDARD consent"
    )
    assert renamed.name == "STANDARD consent"  # its own name in another case is no clash


def test_a_retired_clinic_ingredient_can_be_added_again(store: Store, admin: Actor) -> None:
    first = store.add_clinic_ingredient(
        admin, IngredientFields(key="clinic-adenosine", name="Adenosine")
    )
    store.delete_ingredient(admin, first.id, "entered by mistake")
    assert not store.list_ingredients(admin, "adenosine")
    again = store.add_clinic_ingredient(
        admin, IngredientFields(key="clinic-adenosine", name="Adenosine", category="other")
    )
    assert (again.id, again.category) == (first.id, "other")
    assert [i.id for i in store.list_ingredients(admin, "adenosine")] == [first.id]
    with pytest.raises(Conflict, match="already in the formulary"):
        store.add_clinic_ingredient(admin, IngredientFields(key="clinic-adenosine", name="Ado"))
    library = store.list_ingredients(admin, "biotin")[0]
    store.delete_ingredient(admin, library.id, "not stocked")
    with pytest.raises(Conflict, match="library ingredient that was retired"):
        store.add_clinic_ingredient(admin, IngredientFields(key=library.key, name="Biotin B7"))


def test_case_twins_saved_before_the_rule_stay_readable(
    store: Store, admin: Actor, database: Database
) -> None:
    """No migration: a database may already hold chart numbers differing only in case."""
    first = store.create_patient(admin, fields(chart="AB-1"))
    second = store.create_patient(admin, fields(chart="XY-2"))
    with database.engine.begin() as connection:  # as an older version could have saved it
        connection.execute(
            sa.update(PatientRow).where(col(PatientRow.id) == second.id).values(chart_number="ab-1")
        )
    assert store.find_patient(admin, "AB-1").id == first.id
    assert store.find_patient(admin, " ab-1 ").id == second.id
    with pytest.raises(NotFound, match="did you mean AB-1 or ab-1"):
        store.find_patient(admin, "Ab-1")
    with pytest.raises(Conflict, match="already belongs"):
        store.create_patient(admin, fields(chart="aB-1"))


def test_names_differing_only_in_case_or_spacing_are_one(store: Store, admin: Actor) -> None:
    """formulary.text.same_key, on both engines (SQLite's lower() knows ASCII only)."""
    store.create_patient(admin, fields(chart="AB 1"))
    store.create_patient(admin, fields(chart="ÉC-1"))
    for twin in ("ab  1", "éc-1", "ÉC-1"):
        with pytest.raises(Conflict, match="whatever their case or spacing"):
            store.create_patient(admin, fields(chart=twin))
    store.create_patient(admin, fields(chart="AB 12"))  # contains the other: not a twin
    store.add_consent_template(admin, "Scalp form", DEFAULT_TEMPLATE_TEXT)
    with pytest.raises(Conflict, match="only in case or spacing"):
        store.add_consent_template(admin, "SCALP   form", DEFAULT_TEMPLATE_TEXT)
