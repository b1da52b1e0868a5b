"""Dates outside 1900–2100 and amounts no syringe, vial or label can hold are refused.

The bounds live in :mod:`formulary.limits`; the Store applies them to every amount
and date a record takes (so the app, the CLI and the CSV imports, which all go
through it, refuse the same), and the JSON import to the same fields. Body measures
and stock on hand are not syringe contents and keep only their own checks.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from db.errors import ValidationError
from db.store import Actor, ComponentSpec, Store, StrengthSpec
from formulary.units.amount import Amount

from .helpers import World, ml

pytestmark = pytest.mark.storage


def test_amounts_beyond_a_syringe_or_label_are_refused(store: Store, admin: Actor) -> None:
    world = World(store, admin)
    with pytest.raises(ValidationError, match="beyond 1 L"):
        store.save_formulation(
            admin, patient_id=world.patient.id, name="Huge",
            components=[ComponentSpec("Biotin", ml("2000"), product_id=world.product.id)],
        )
    with pytest.raises(ValidationError, match="beyond 1 L"):
        store.save_formulation(
            admin, patient_id=world.patient.id, name="Huge",
            components=[ComponentSpec("Biotin", ml("1"), product_id=world.product.id)],
            final_volume=ml("999999999"),
        )
    with pytest.raises(ValidationError, match="beyond 10 g/mL"):
        store.create_product(
            admin, name="Dense",
            ingredients=[StrengthSpec(world.ingredient.id, Amount(Decimal("20000"), "mg/mL"))],
            volume_per_unit=ml("2"),
        )
    with pytest.raises(ValidationError, match="beyond 1 L"):
        store.create_product(
            admin, name="Barrel",
            ingredients=[StrengthSpec(world.ingredient.id, Amount(Decimal("5"), "mg/mL"))],
            volume_per_unit=ml("5000"),
        )
    with pytest.raises(ValidationError, match="beyond 1 L"):
        store.save_session_draft(admin, world.draft(total="1500"))
    # Stock on hand is not a syringe: a delivery of 2 L is fine.
    store.receive_lot(admin, product_id=world.product.id, lot_number="BIG",
                      expiry=date(2099, 1, 1), quantity=ml("2000"))


def test_dates_outside_1900_to_2100_are_refused(store: Store, admin: Actor) -> None:
    world = World(store, admin)
    with pytest.raises(ValidationError, match="between 1900 and 2100"):
        store.receive_lot(admin, product_id=world.product.id, lot_number="FAR",
                          expiry=date(2200, 1, 1), quantity=ml("10"))
    with pytest.raises(ValidationError, match="between 1900 and 2100"):
        store.start_course(admin, patient_id=world.patient.id, name="Course",
                           planned_sessions=4, interval_days=14, start_date=date(1850, 1, 1))
    with pytest.raises(ValidationError, match="between 1900 and 2100"):
        store.record_outcome(admin, patient_id=world.patient.id,
                             measured_at=datetime(1, 1, 1, tzinfo=UTC), scale_grade="III")
    with pytest.raises(ValidationError, match="between 1900 and 2100"):
        store.save_session_draft(
            admin, world.draft(performed_at=datetime(2150, 1, 1, tzinfo=UTC))
        )
