"""UCUM mapping: exact, and never the enzyme unit U for product-specific units."""

from __future__ import annotations

from decimal import Decimal

import pytest

from formulary.export.ucum import as_ratio, to_ucum
from formulary.units.amount import Amount


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        ("5", "mg", ("5", "mg", "mg")),
        ("500", "mcg", ("500", "mcg", "ug")),
        ("2", "mL", ("2", "mL", "mL")),
        ("0.05", "mg/mL", ("0.05", "mg/mL", "mg/mL")),
        ("1000", "mcg/mL", ("1000", "mcg/mL", "ug/mL")),
        ("400", "IU", ("400", "IU", "[iU]")),
        ("50000", "IU/mL", ("50000", "IU/mL", "[iU]/mL")),
        ("0.01", "% w/v", ("0.1", "mg/mL", "mg/mL")),
        ("2", "% w/v", ("20", "mg/mL", "mg/mL")),
        ("128", "hairs/cm2", ("128", "hairs/cm²", "{hairs}/cm2")),
        ("52.5", "micrometre", ("52.5", "µm", "um")),
        ("30", "U-100 marks", ("0.3", "mL", "mL")),
        ("2", "% w/w", ("2", "% w/w", "%")),
        ("5", "micromol/L", ("5", "micromol/L", "umol/L")),
        ("4.06", "mEq/mL", ("4.06", "mEq/mL", "meq/mL")),
    ],
)
def test_mapping(value: str, unit: str, expected: tuple[str, str, str]) -> None:
    q = to_ucum(Amount(Decimal(value), unit))
    assert (q.value, q.unit, q.code) == (Decimal(expected[0]), expected[1], expected[2])


@pytest.mark.parametrize("unit", ["units", "units/mL", "smoots", "IU/units"])
def test_no_ucum_code_rather_than_a_wrong_one(unit: str) -> None:
    q = to_ucum(Amount(Decimal(100), unit))
    assert q.code is None and q.code != "U"
    assert q.value == Decimal(100)


def test_concentration_as_ratio_per_one() -> None:
    top, bottom = as_ratio(Amount(Decimal("0.01"), "% w/v")) or (None, None)
    assert top is not None and bottom is not None
    assert (top.value, top.code, bottom.value, bottom.code) == (
        Decimal("0.1"), "mg", Decimal(1), "mL",
    )
    top, bottom = as_ratio(Amount(Decimal("0.5"), "mg/mL")) or (None, None)
    assert top is not None and bottom is not None
    assert (top.value, top.code, bottom.value, bottom.code) == (
        Decimal("0.5"), "mg", Decimal(1), "mL",
    )
    top, bottom = as_ratio(Amount(Decimal("1000"), "ratio w/v")) or (None, None)
    assert top is not None and bottom is not None
    assert (top.value, top.code, bottom.value, bottom.code) == (
        Decimal(1), "g", Decimal(1000), "mL",
    )
    assert as_ratio(Amount(Decimal("1"), "mg")) is None
