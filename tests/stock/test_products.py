"""Product labels as entered: presentations, strengths per presentation, counts."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from formulary.products import (
    concentration_of,
    parse_count,
    parse_presentation,
    parse_strength,
    quantity_for_count,
)
from formulary.records import Presentation
from formulary.units import WrongKindError, parse_quantity
from formulary.units.amount import Amount


def test_presentations_by_name() -> None:
    assert parse_presentation("Prefilled syringe") is Presentation.PREFILLED_SYRINGE
    assert parse_presentation("prefilled-syringe") is Presentation.PREFILLED_SYRINGE
    assert parse_presentation("ampule") is Presentation.AMPOULE
    with pytest.raises(ValueError, match="not a presentation"):
        parse_presentation("sachet")


@pytest.mark.parametrize("presentation", [Presentation.AMPOULE, Presentation.VIAL])
def test_a_solution_strength_must_be_a_concentration(presentation: Presentation) -> None:
    assert parse_strength("0.5 % w/v", presentation).concentration.unit == "% w/v"
    with pytest.raises(WrongKindError, match="expected a concentration"):
        parse_strength("400 IU", presentation)


def test_a_powder_vial_amount_over_its_reconstitution_volume() -> None:
    label = parse_strength("20 mg", Presentation.POWDER, parse_quantity("5 mL"))
    assert label.concentration == Amount(Decimal("4"), "mg/mL")
    assert label.per_unit == Amount(Decimal("20"), "mg")
    iu = parse_strength("5000 IU", Presentation.POWDER, parse_quantity("2 mL"))
    assert iu.concentration == Amount(Decimal("2500"), "IU/mL")
    with pytest.raises(WrongKindError, match="reconstitution volume first"):
        parse_strength("20 mg", Presentation.POWDER)
    with pytest.raises(WrongKindError, match="neither"):
        parse_strength("2 mL", Presentation.POWDER, parse_quantity("5 mL"))


@pytest.mark.parametrize(
    "typed", ["20 mg per vial", "20 mg/vial", "20 mg / Vial", "20 mg per unit"]
)
def test_a_powder_strength_may_name_its_container_as_it_is_printed(typed: str) -> None:
    # `product list` prints "20 mg per vial"; the form's hint says so too.
    label = parse_strength(typed, Presentation.POWDER, parse_quantity("5 mL"))
    assert label.per_unit == Amount(Decimal("20"), "mg")


@given(
    st.integers(min_value=1, max_value=10**6),
    st.integers(min_value=1, max_value=10**4),
)
def test_concentration_times_volume_gives_back_the_vial(mg: int, tenth_ml: int) -> None:
    volume = Amount(Decimal(tenth_ml) / 10, "mL")
    conc = concentration_of(Amount(Decimal(mg), "mg"), volume)
    assert conc.unit == "mg/mL"
    assert abs(conc.value * volume.value - mg) <= Decimal(mg) * Decimal("1e-12")


@given(st.integers(min_value=1, max_value=100_000), st.integers(min_value=1, max_value=500))
def test_count_times_unit_volume(count: int, ml: int) -> None:
    unit = Amount(Decimal(ml), "mL")
    assert quantity_for_count(count, unit) == Amount(Decimal(count * ml), "mL")
    assert parse_count(str(count)) == count


@pytest.mark.parametrize("text", ["", "0", "-1", "2.5", "ten", "١٠", "100001"])
def test_bad_counts_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_count(text)
