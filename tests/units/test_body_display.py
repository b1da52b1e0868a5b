"""Weights read in the units the app accepts, shown as charts print them and as typed."""

from __future__ import annotations

from decimal import Decimal

import pytest

from formulary.body import (
    HEIGHT_UNITS,
    POUND_SPELLINGS,
    WEIGHT_UNITS,
    BodyMeasureError,
    parse_weight,
    show_entered,
    show_kg,
)
from formulary.units.amount import Amount
from formulary.units.catalog import BY_CANONICAL, unit_key


def test_a_weight_typed_in_pounds_is_shown_as_typed_and_in_kg() -> None:
    weight = parse_weight("154 lb")
    assert show_entered(weight.entered) == "154 lb"
    assert show_kg(weight.kg) == "69.9 kg"


def test_a_weight_typed_in_kg_is_shown_exactly() -> None:
    weight = parse_weight("61.50 kg")
    assert show_entered(weight.entered) == "61.5 kg"
    assert weight.kg.value == Decimal("61.50")


@pytest.mark.parametrize("typed", ["80 kg", "80 KG", "80kg", "80 kilogram", "80 kilograms",
                                   "80 kilo", "80 kilos"])
def test_kilograms_are_spelled_as_the_units_catalogue_spells_them(typed: str) -> None:
    assert parse_weight(typed).entered == Amount(Decimal(80), "kg")


@pytest.mark.parametrize("typed", ["176 lb", "176 LB", "176 pound", "176 pounds"])
def test_pounds_are_spelled_as_declared_once(typed: str) -> None:
    assert parse_weight(typed).entered == Amount(Decimal(176), "lb")


@pytest.mark.parametrize("unit", ["kgs", "kilogramme", "st", "g", "mg", "KGS"])
def test_an_unknown_weight_spelling_is_refused_naming_the_units(unit: str) -> None:
    with pytest.raises(BodyMeasureError) as refused:
        parse_weight(f"80 {unit}")
    assert str(refused.value) == f"{unit!r} is not a unit of weight; use kg or lb"


def test_every_catalogue_spelling_of_kg_and_cm_is_accepted_and_nothing_else() -> None:
    # One declaration: the units catalogue's kg and cm, plus the pound declared beside
    # the parser (the catalogue has no pound).
    for canonical, units in (("kg", WEIGHT_UNITS), ("cm", HEIGHT_UNITS)):
        spec = BY_CANONICAL[canonical]
        spelled = {unit_key(s) for s in (spec.canonical, spec.singular, spec.plural,
                                         *spec.aliases)}
        assert {k for k, v in units.items() if v == canonical} == spelled
    assert {k for k, v in WEIGHT_UNITS.items() if v == "lb"} == set(POUND_SPELLINGS)
    assert set(HEIGHT_UNITS.values()) == {"cm"}
