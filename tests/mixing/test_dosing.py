"""Dose, volume, dilution and points: the bench arithmetic a pharmacist checks by hand."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from formulary.mixing import (
    MixingError,
    amount_in,
    c1v1,
    dilute,
    points_for,
    total_volume,
    volume_for,
)
from formulary.units import (
    Amount,
    IncompatibleUnitsError,
    NotConvertibleError,
    UnitsError,
    WrongKindError,
    parse_quantity,
)
from tests.units import substances as s


def q(text: str) -> Amount:
    return parse_quantity(text)


def A(value: str, unit: str) -> Amount:
    return Amount(Decimal(value), unit)


@pytest.mark.parametrize(
    ("conc", "volume", "expected"),
    [
        ("250 mg/mL", "2 mL", A("500", "mg")),  # dexpanthenol: 500 mg = 2 mL
        ("0.5% w/v", "2 mL", A("10", "mg")),  # minoxidil 0.5%, 2 mL session
        ("0.01% w/v", "1 mL", A("0.1", "mg")),  # dutasteride 0.01%, 1 mL
        ("0.05% w/v", "2 mL", A("1", "mg")),  # dutasteride 0.05%, 2 mL
        ("1:1000", "0.3 mL", A("0.3", "mg")),
        ("1000 mcg/mL", "0.5 mL", A("500", "mcg")),  # cyanocobalamin
        ("50000 IU/mL", "0.1 mL", A("5000", "IU")),  # Aquasol A
        ("100 units/mL", "0.05 mL", A("5", "units")),  # botulinum 100 U/1 mL
        ("9 g/L", "10 mL", A("0.09", "g")),
        ("154 mmol/L", "500 mL", A("77", "mmol")),
        ("4.06 mEq/mL", "2 mL", A("8.12", "mEq")),
        ("100 mg/mL", "10 U-100 marks", A("10", "mg")),  # 10 marks = 0.1 mL
        ("70% v/v", "10 mL", A("7", "mL")),
    ],
)
def test_amount_in(conc: str, volume: str, expected: Amount) -> None:
    assert amount_in(q(conc), q(volume)) == expected


def test_amount_in_other_unit_with_substance() -> None:
    # 2 mL of zinc 1 mg/mL (as ZnSO4 anhydrous strength 2.469 mg/mL) expressed as zinc
    result = amount_in(q("2.469 mg/mL"), q("2 mL"), s.ZINC_SULFATE, unit="mg", to_form="zinc")
    assert round(result.value, 3) == Decimal("2.000")
    mmol = amount_in(q("500 mg/mL"), q("1 mL"), s.MAGNESIUM_SULFATE, unit="mEq")
    assert round(mmol.value, 2) == Decimal("4.06")


@pytest.mark.parametrize(
    ("amount", "conc", "expected"),
    [
        ("500 mg", "250 mg/mL", A("2", "mL")),  # dexpanthenol label
        ("10 mg", "0.5% w/v", A("2", "mL")),
        ("0.1 mg", "0.01% w/v", A("1", "mL")),
        ("600 mg", "150 mg/mL", A("4", "mL")),  # glutathione 600 mg/4 mL
        ("600 mg", "25 mg/mL", A("24", "mL")),  # Thioctacid 600 mg/24 mL
        ("50 mg", "10 mg/mL", A("5", "mL")),  # buflomedil 50 mg/5 mL
        ("10 units", "100 units/mL", A("0.1", "mL")),
        ("25000 IU", "50000 IU/mL", A("0.5", "mL")),
        ("1 mg", "1:1000", A("1", "mL")),
        ("600 mcg", "60 mcg/mL", A("10", "mL")),  # selenium 600 mcg/10 mL
        ("77 mmol", "154 mmol/L", A("500", "mL")),
    ],
)
def test_volume_for(amount: str, conc: str, expected: Amount) -> None:
    assert volume_for(q(amount), q(conc)) == expected


def test_volume_for_through_substance_facts() -> None:
    # 15 mg retinol from Aquasol A 50000 IU/mL (retinol basis) = 1 mL
    assert volume_for(q("15 mg"), q("50000 IU/mL"), s.RETINOL) == A("1", "mL")
    # 2 mg zinc from 5 mg/mL zinc (element) strength stated as ZnSO4 12.35 mg/mL
    result = volume_for(q("2 mg"), q("12.35 mg/mL"), s.ZINC_SULFATE, form="zinc")
    assert round(result.value, 2) == Decimal("0.40")


@pytest.mark.parametrize(
    ("amount", "conc", "error", "words"),
    [
        ("400 IU", "5 mg/mL", UnitsError, "substance"),
        ("10 units", "5 mg/mL", NotConvertibleError, "never convert"),
        ("5 mg", "1% w/w", NotConvertibleError, "density"),
        ("5 mg", "2 mL", WrongKindError, "expected a concentration"),
        ("2 mL", "5 mg/mL", IncompatibleUnitsError, "concentration"),
        ("150 hairs/cm2", "5 mg/mL", WrongKindError, "expected an amount"),
    ],
)
def test_volume_for_refuses(amount: str, conc: str, error: type[Exception], words: str) -> None:
    with pytest.raises(error, match=words):
        volume_for(q(amount), q(conc))


def test_amount_in_refuses_non_volume() -> None:
    with pytest.raises(WrongKindError, match="must be a volume"):
        amount_in(q("5 mg/mL"), q("2 mg"))


def test_dilute_dutasteride() -> None:
    # 0.05% w/v stock to 0.01% w/v, 5 mL final: 1 mL stock + 4 mL diluent
    result = dilute(q("0.05% w/v"), q("0.01% w/v"), q("5 mL"))
    assert result.stock_volume == A("1", "mL")
    assert result.diluent_volume == A("4", "mL")


def test_dilute_across_units() -> None:
    # lidocaine 2% (20 mg/mL) to 5 mg/mL, 10 mL: 2.5 mL + 7.5 mL
    result = dilute(q("2% w/v"), q("5 mg/mL"), q("10 mL"))
    assert (result.stock_volume, result.diluent_volume) == (A("2.5", "mL"), A("7.5", "mL"))
    # 1:1000 to 1:100000, 10 mL final: 0.1 mL stock
    assert dilute(q("1:1000"), q("1:100000"), q("10 mL")).stock_volume == A("0.1", "mL")
    # magnesium 500 mg/mL to 1 mmol/mL needs the molar mass
    mg = dilute(q("500 mg/mL"), q("1 mmol/mL"), q("10 mL"), s.MAGNESIUM_SULFATE)
    assert round(mg.stock_volume.value, 3) == Decimal("4.929")
    alcohol = dilute(q("70% v/v"), q("35% v/v"), q("10 mL"))
    assert alcohol.stock_volume == A("5", "mL")


def test_dilute_refuses_concentrating() -> None:
    with pytest.raises(MixingError, match="stronger than the stock"):
        dilute(q("0.01% w/v"), q("0.05% w/v"), q("5 mL"))


def test_dilute_refuses_mismatched_kinds_without_substance() -> None:
    with pytest.raises(UnitsError, match="substance"):
        dilute(q("500 mg/mL"), q("1 mmol/mL"), q("10 mL"))
    with pytest.raises(UnitsError):
        dilute(q("100 units/mL"), q("10 mg/mL"), q("10 mL"))


def test_c1v1_solves_each_unknown() -> None:
    c1, v1, c2, v2 = q("20 mg/mL"), q("2.5 mL"), q("5 mg/mL"), q("10 mL")
    assert c1v1(c1=c1, c2=c2, v2=v2) == A("2.5", "mL")
    assert c1v1(c1=c1, v1=v1, c2=c2) == A("10", "mL")
    assert c1v1(v1=v1, c2=c2, v2=v2) == A("20", "mg/mL")
    assert c1v1(c1=c1, v1=v1, v2=v2) == A("5", "mg/mL")
    assert c1v1(c1=q("70% v/v"), v1=q("5 mL"), v2=q("10 mL")) == A("35", "% v/v")
    with pytest.raises(MixingError, match="exactly three"):
        c1v1(c1=c1, v1=v1)


def test_points() -> None:
    assert total_volume(q("0.1 mL"), 20) == A("2", "mL")
    assert total_volume(q("5 U-100 marks"), 40) == A("2", "mL")
    assert points_for(q("2 mL"), q("0.15 mL")) == 13
    with pytest.raises(MixingError):
        total_volume(q("0.1 mL"), 0)
    with pytest.raises(WrongKindError):
        total_volume(q("0.1 mg"), 10)


@given(
    st.decimals(min_value=Decimal("0.001"), max_value=Decimal("1000"), places=3),
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal("100"), places=2),
)
def test_dose_and_volume_are_inverse(conc: Decimal, volume: Decimal) -> None:
    c = Amount(conc, "mg/mL")
    v = Amount(volume, "mL")
    back = volume_for(amount_in(c, v), c)
    assert abs(back.value - volume) <= volume * Decimal("1e-12")


@given(
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal("100"), places=2),
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal("1"), places=2),
    st.decimals(min_value=Decimal("0.1"), max_value=Decimal("100"), places=1),
)
def test_dilution_conserves_amount(c1: Decimal, fraction: Decimal, v2: Decimal) -> None:
    stock, target = Amount(c1, "mg/mL"), Amount(c1 * fraction, "mg/mL")
    result = dilute(stock, target, Amount(v2, "mL"))
    assert result.stock_volume.value + result.diluent_volume.value == v2
    assert abs(c1 * result.stock_volume.value - target.value * v2) <= c1 * v2 * Decimal("1e-12")
