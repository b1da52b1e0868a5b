"""Microlitres, nanomoles and picomoles, hairs per mm²: worked cases and round trips.

Volumes per injection point are written in microlitres, peptides and growth factors
are dosed in nmol and pmol, and hair density is charted per cm² or per mm². Each
worked case is a figure a pharmacist can check by hand.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from formulary.ingredient_units import convert_ingredient
from formulary.library import load_library
from formulary.units import (
    Amount,
    UnknownUnitError,
    convert,
    format_amount,
    parse_quantity,
    parse_unit,
    round_significant,
)
from formulary.units.substance import Substance

IGF1 = Substance(key="igf-1", name="IGF-1", form="rhIGF-1", molar_mass=Decimal("7649"))
THYMOSIN = Substance(
    key="thymosin-beta-4", name="Thymosin beta-4", form="peptide", molar_mass=Decimal("4963.51")
)


@pytest.mark.parametrize(
    "spelling",
    ["uL", "ul", "µL", "μL", "µl", "μl", "microL", "microliter", "microlitre", "microlitres",
     "microliters", "mcL"],
)
def test_every_microlitre_spelling_is_mcl(spelling: str) -> None:
    # Both micro signs: U+00B5 (micro sign) and U+03BC (Greek small mu).
    assert parse_unit(spelling) == "mcL"
    assert parse_quantity(f"50 {spelling}") == Amount(Decimal(50), "mcL")


@pytest.mark.parametrize(
    ("text", "target", "expected"),
    [
        ("50 uL", "mL", "0.05"),
        ("5 µL", "mL", "0.005"),
        ("5 microL", "mL", "0.005"),
        ("0.05 mL", "mcL", "50"),
        ("1 L", "mcL", "1000000"),
        ("250 mcL", "L", "0.00025"),
        ("10 U-100 marks", "mcL", "100"),  # one mark is 0.01 mL = 10 mcL
    ],
)
def test_microlitre_worked_cases(text: str, target: str, expected: str) -> None:
    assert convert(parse_quantity(text), target).value == Decimal(expected)


def test_microlitres_display_without_the_micro_sign() -> None:
    # ISMP: "µ" is misread as "m"; micro is written "mc" (mcg), so microlitres are "mcL".
    assert format_amount(parse_quantity("50 µL")) == "50 mcL"
    assert "µ" not in format_amount(parse_quantity("1 μL"))


@pytest.mark.parametrize(
    ("text", "target", "substance", "expected"),
    [
        # IGF-1, 7649 g/mol: 1 mg / 7649 g/mol = 130.7 nmol
        ("1 mg", "nmol", IGF1, "130.7"),
        ("1 mcg", "pmol", IGF1, "130.7"),
        ("100 nmol", "mg", IGF1, "0.7649"),
        ("1 nmol", "pmol", None, "1000"),
        ("2500 pmol", "nmol", None, "2.5"),
        ("1 micromol", "nmol", None, "1000"),
        # thymosin beta-4, 4963.51 g/mol: 5 mg = 1007 nmol
        ("5 mg", "nmol", THYMOSIN, "1007"),
        ("10 pmol", "ng", THYMOSIN, "49.64"),
    ],
)
def test_nanomole_and_picomole_worked_cases(
    text: str, target: str, substance: Substance | None, expected: str
) -> None:
    result = convert(parse_quantity(text), target, substance)
    digits = len(expected.replace(".", "").lstrip("0"))
    assert round_significant(result.value, digits) == Decimal(expected)


def test_nanomoles_of_a_library_peptide() -> None:
    igf = load_library().find("IGF-1")
    result = convert_ingredient(parse_quantity("1 mg"), "nmol", igf).result
    assert round_significant(result.value, 4) == Decimal("130.7")


@pytest.mark.parametrize(
    ("text", "target", "expected"),
    [
        ("200 hairs/cm2", "hairs/mm2", "2"),
        ("150 hairs/cm²", "hairs/mm2", "1.5"),
        ("2 hairs/mm2", "hairs/cm2", "200"),
        ("1.75 hairs/mm²", "hairs/cm2", "175"),
    ],
)
def test_hair_density_worked_cases(text: str, target: str, expected: str) -> None:
    assert convert(parse_quantity(text), target).value == Decimal(expected)


@pytest.mark.parametrize(
    ("typed", "wanted", "never"),
    [
        ("mikroliter", "mcL", "micromol"),
        ("ull", "mcL", "micromol"),
        ("microlitr", "mcL", "micromol"),
        ("nanomols", "nmol", "mcL"),
        ("hairs/mn2", "hairs/mm2", None),
    ],
)
def test_suggestions_keep_to_the_kind_typed(typed: str, wanted: str, never: str | None) -> None:
    with pytest.raises(UnknownUnitError) as caught:
        parse_quantity(f"50 {typed}")
    message = str(caught.value)
    assert repr(wanted) in message
    if never is not None:
        assert never not in message


_VALUES = st.decimals(min_value=Decimal("0.001"), max_value=Decimal("1000000"), places=3)


@given(_VALUES, st.sampled_from(["mcL", "mL", "L", "U-100 marks"]))
def test_microlitre_round_trip(value: Decimal, other: str) -> None:
    amount = Amount(value, "mcL")
    back = convert(convert(amount, other), "mcL")
    assert back.value == value
    assert parse_quantity(format_amount(amount)) == amount


@given(_VALUES, st.sampled_from(["mol", "mmol", "micromol", "nmol", "pmol", "mcg", "mg"]))
def test_nanomole_round_trip(value: Decimal, other: str) -> None:
    amount = Amount(value, "nmol")
    back = convert(convert(amount, other, IGF1), "nmol", IGF1)
    assert round_significant(back.value, 12) == round_significant(value, 12)
    picomoles = convert(amount, "pmol")
    assert picomoles.value == value * 1000
    assert parse_quantity(format_amount(amount)) == amount


@given(_VALUES)
def test_density_round_trip(value: Decimal) -> None:
    amount = Amount(value, "hairs/mm2")
    assert convert(amount, "hairs/cm2").value == value * 100
    assert convert(convert(amount, "hairs/cm2"), "hairs/mm2").value == value
    assert parse_quantity(format_amount(amount)) == amount
