"""Properties of the unit math: round trips, linearity, and refusals that never crash."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from formulary.units import Amount, UnitsError, convert
from formulary.units.catalog import BY_CANONICAL, RATIO
from tests.units import substances as s

_VALUES = st.decimals(min_value=Decimal("0.001"), max_value=Decimal("100000"), places=3)
_UNITS = sorted(BY_CANONICAL)
_SUBSTANCES = st.sampled_from(
    [
        None,
        s.ZINC_SULFATE,
        s.MAGNESIUM_SULFATE,
        s.VITAMIN_E_NATURAL,
        s.VITAMIN_E_SYNTHETIC,
        s.RETINOL,
        s.BOTULINUM_A,
        s.GINKGO,
        s.CALCIUM_PANTOTHENATE,
        s.SODIUM_CHLORIDE,
    ]
)


def _close(a: Decimal, b: Decimal) -> bool:
    return abs(a - b) <= max(abs(a), abs(b)) * Decimal("1e-12")


@given(_VALUES, st.sampled_from(_UNITS), st.sampled_from(_UNITS), _SUBSTANCES)
def test_any_pair_converts_or_refuses_clearly(
    value: Decimal, source: str, target: str, substance: object
) -> None:
    amount = Amount(value, source)
    try:
        result = convert(amount, target, substance)  # type: ignore[arg-type]
    except UnitsError as error:
        assert str(error) and "\n" not in str(error)
        return
    assert result.unit == target
    assert result.value > 0
    back = convert(result, source, substance)  # type: ignore[arg-type]
    assert _close(back.value, value), (amount, result, back)


@given(_VALUES, _VALUES)
def test_scaling_is_linear(a: Decimal, b: Decimal) -> None:
    total = convert(Amount(a + b, "mg/mL"), "mmol/L", s.ZINC_SULFATE).value
    parts = (
        convert(Amount(a, "mg/mL"), "mmol/L", s.ZINC_SULFATE).value
        + convert(Amount(b, "mg/mL"), "mmol/L", s.ZINC_SULFATE).value
    )
    assert _close(total, parts)


@given(_VALUES)
def test_salt_element_round_trip(value: Decimal) -> None:
    element = convert(Amount(value, "mg"), "mcg", s.ZINC_SULFATE_HEPTAHYDRATE, to_form="zinc")
    salt = convert(
        element, "mg", s.ZINC_SULFATE_HEPTAHYDRATE, form="zinc", to_form="zinc sulfate heptahydrate"
    )
    assert _close(salt.value, value)
    assert element.value < value * 1000  # the element is lighter than its salt


@given(_VALUES)
def test_iu_round_trip(value: Decimal) -> None:
    mass = convert(Amount(value, "IU"), "mcg", s.CHOLECALCIFEROL)
    assert _close(mass.value * 40, value)
    assert _close(convert(mass, "IU", s.CHOLECALCIFEROL).value, value)


@given(st.decimals(min_value=Decimal(1), max_value=Decimal(10000000), places=0))
def test_ratio_strength_round_trip(n: Decimal) -> None:
    per_ml = convert(Amount(n, RATIO), "mg/mL")
    assert _close(per_ml.value * n, Decimal(1000))
    assert _close(convert(per_ml, RATIO).value, n)
