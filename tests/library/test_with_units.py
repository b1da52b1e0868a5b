"""The library's substance facts drive the units engine as the labels say they should."""

from __future__ import annotations

from decimal import Decimal

import pytest

from formulary.library import Library
from formulary.units.amount import Amount
from formulary.units.catalog import BY_CANONICAL
from formulary.units.convert import convert
from formulary.units.errors import MissingFactError, NotConvertibleError, UnitsError


def _mg(value: str) -> Amount:
    return Amount(Decimal(value), "mg")


def test_every_unit_in_the_data_file_is_canonical(lib: Library) -> None:
    for ingredient in lib.all():
        for strength in ingredient.stock_strengths:
            assert strength.amount.unit in BY_CANONICAL, strength
        for dose in (*ingredient.limits, *ingredient.typical_doses):
            assert dose.amount.unit in BY_CANONICAL, dose


def test_elemental_zinc_to_salt(lib: Library) -> None:
    heptahydrate = lib.find("zinc").substance("heptahydrate")
    salt = convert(_mg("5"), "mg", heptahydrate, form="zinc", to_form=heptahydrate.form)
    assert salt.value.quantize(Decimal("0.01")) == Decimal("21.99")  # 5 x 287.54 / 65.38


def test_lidocaine_hcl_to_base(lib: Library) -> None:
    lidocaine = lib.find("lidocaine").substance()
    base = convert(_mg("200"), "mg", lidocaine, to_form="lidocaine base")
    assert base.value.quantize(Decimal("0.01")) == Decimal("173.07")  # 200 x 234.34 / 270.80


@pytest.mark.parametrize(
    ("name", "form", "iu", "mg"),
    [
        ("vitamin E (natural)", None, "1000", "670"),
        ("vitamin E (synthetic)", None, "1000", "1000"),
        ("vitamin E (synthetic)", "all-rac-alpha-tocopherol", "1000", "910"),
        ("retinyl palmitate", None, "50000", "27.5"),
        ("retinol", None, "50000", "15"),  # Aquasol A: 50,000 IU/mL = 15 mg retinol/mL
        ("cholecalciferol", None, "40000", "1"),
    ],
)
def test_international_units(lib: Library, name: str, form: str | None, iu: str, mg: str) -> None:
    substance = lib.find(name).substance(form)
    assert convert(Amount(Decimal(iu), "IU"), "mg", substance).value == Decimal(mg)


@pytest.mark.parametrize("name", ["biotin", "ascorbic acid", "minoxidil", "zinc"])
def test_no_iu_where_none_exists(lib: Library, name: str) -> None:
    with pytest.raises(MissingFactError):
        convert(Amount(Decimal(10), "IU"), "mg", lib.find(name).substance())


def test_magnesium_milliequivalents(lib: Library) -> None:
    magnesium = lib.find("magnesium sulfate").substance()
    meq = convert(_mg("500"), "mEq", magnesium)
    assert meq.value.quantize(Decimal("0.01")) == Decimal("4.06")


def test_refusals(lib: Library) -> None:
    with pytest.raises(NotConvertibleError):
        convert(Amount(Decimal(100), "units"), "mg", lib.find("Botox").substance())
    with pytest.raises(MissingFactError):
        convert(_mg("100"), "mmol", lib.find("hyaluronic acid").substance())
    with pytest.raises(UnitsError):
        convert(_mg("100"), "mmol", lib.find("ginkgo").substance())
