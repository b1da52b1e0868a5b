"""Weights shown as charts print them and as they were typed."""

from __future__ import annotations

from decimal import Decimal

from formulary.body import parse_weight, show_entered, show_kg


def test_a_weight_typed_in_pounds_is_shown_as_typed_and_in_kg() -> None:
    weight = parse_weight("154 lb")
    assert show_entered(weight.entered) == "154 lb"
    assert show_kg(weight.kg) == "69.9 kg"


def test_a_weight_typed_in_kg_is_shown_exactly() -> None:
    weight = parse_weight("61.50 kg")
    assert show_entered(weight.entered) == "61.5 kg"
    assert weight.kg.value == Decimal("61.50")
