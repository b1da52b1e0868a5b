"""ISMP display: leading zero, no trailing zero, mcg, mL, units spelled out, no exponent."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from formulary.units import RATIO, Amount, format_amount, format_value, round_significant


@pytest.mark.parametrize(
    ("value", "unit", "shown"),
    [
        ("0.5", "mL", "0.5 mL"),  # leading zero
        (".5", "mL", "0.5 mL"),
        ("5.0", "mg", "5 mg"),  # no trailing zero
        ("5.000", "mg", "5 mg"),
        ("500", "mg", "500 mg"),
        ("5E+2", "mg", "500 mg"),  # no scientific notation
        ("1E-7", "g", "0.0000001 g"),
        ("10", "mcg", "10 mcg"),  # never µg
        ("2", "mL", "2 mL"),  # never cc
        ("20", "units", "20 units"),  # spelled out
        ("1", "units", "1 unit"),
        ("400", "IU", "400 international units"),
        ("1", "IU", "1 international unit"),
        ("50000", "IU/mL", "50000 international units/mL"),
        ("100", "units/mL", "100 units/mL"),
        ("0.5", "% w/v", "0.5% w/v"),
        ("1", "% w/w", "1% w/w"),
        ("1000", RATIO, "1:1000"),
        ("10", "U-100 marks", "10 U-100 marks"),
        ("1", "U-100 marks", "1 U-100 mark"),
        ("40", "micrometre", "40 micrometres"),
        ("150", "hairs/cm2", "150 hairs/cm2"),
        ("4.06", "mEq/mL", "4.06 mEq/mL"),
    ],
)
def test_ismp_display(value: str, unit: str, shown: str) -> None:
    assert format_amount(Amount(Decimal(value), unit)) == shown


@pytest.mark.parametrize(
    ("value", "significant", "shown"),
    [
        ("2.0249009", 4, "2.025"),
        ("0.73779201", 4, "0.7378"),
        ("0.000012345", 3, "0.0000123"),
        ("12345.678", 4, "12346"),  # integer digits are never rounded away
        ("268.000", 4, "268"),
        ("0.99996", 4, "1"),
        ("1.5", 4, "1.5"),
    ],
)
def test_significant_figures_for_computed_results(value: str, significant: int, shown: str) -> None:
    assert format_value(Decimal(value), significant=significant) == shown


def test_rounded_amount() -> None:
    assert format_amount(Amount(Decimal("17.30723781388"), "mg"), significant=4) == "17.31 mg"


def test_round_significant_rejects_zero_figures() -> None:
    with pytest.raises(ValueError):
        round_significant(Decimal(1), 0)


@given(
    st.decimals(
        allow_nan=False,
        allow_infinity=False,
        min_value=Decimal("1E-20"),
        max_value=Decimal("1E+20"),
    )
)
def test_never_scientific_notation(value: Decimal) -> None:
    text = format_value(value)
    assert "E" not in text and "e" not in text
    assert not text.startswith(".")
    assert Decimal(text) == value
    if "." in text:
        assert not text.endswith("0")


def test_non_canonical_unit_is_a_units_error() -> None:
    from formulary.units import UnitsError

    with pytest.raises(UnitsError, match="not a canonical unit"):
        format_amount(Amount(Decimal(1), "µg"))
