"""Choosing a library ingredient's form for a conversion (formulary.ingredient_units)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from formulary.ingredient_units import choose, convert_ingredient
from formulary.library import load_library
from formulary.units import (
    AmbiguousFormError,
    MissingFactError,
    UnitsError,
    parse_quantity,
    round_significant,
)

LIB = load_library()


def _value(text: str, target: str, name: str, **forms: str) -> Decimal:
    ingredient, named = LIB.resolve(name)
    done = convert_ingredient(parse_quantity(text), target, ingredient, named_form=named, **forms)
    return round_significant(done.result.value, 4)


@pytest.mark.parametrize(
    ("text", "target", "name", "forms", "expected"),
    [
        ("10 mg", "mg", "zinc", {"to_form": "zinc"}, "4.050"),
        ("10 mg", "mg", "zinc", {"form": "heptahydrate", "to_form": "zinc"}, "2.274"),
        ("5 mg", "mg", "zinc", {"form": "zinc", "to_form": "heptahydrate"}, "21.99"),
        ("10 mg", "mg", "zinc", {"form": "anhydrous", "to_form": "heptahydrate"}, "17.81"),
        ("10 mg", "mg", "zinc sulfate heptahydrate", {"to_form": "zinc"}, "2.274"),
        ("20 mg/mL", "mg/mL", "lidocaine", {"form": "monohydrate", "to_form": "base"}, "16.23"),
        ("476.54 mg", "mg", "calcium pantothenate", {"to_form": "free-acid"}, "438.5"),
        ("400 IU", "mg", "vitamin E synthetic", {"form": "all-rac-alpha-tocopherol"}, "364"),
        ("10000 IU", "mg", "retinyl palmitate", {"to_form": "retinyl acetate"}, "3.44"),
        ("1 mg", "IU", "retinyl palmitate", {"form": "retinyl palmitate"}, "1818"),
        ("1 mcg", "IU", "vitamin D3", {"form": "ergocalciferol"}, "40"),
        ("500 mg", "mEq", "magnesium sulfate", {}, "4.057"),
    ],
)
def test_converts_through_the_right_form(
    text: str, target: str, name: str, forms: dict[str, str], expected: str
) -> None:
    assert _value(text, target, name, **forms) == Decimal(expected)


def test_a_typed_form_name_is_used() -> None:
    assert _value("400 IU", "mg", "RRR-alpha-tocopheryl acetate") == Decimal(294)


@pytest.mark.parametrize(
    "name",
    ["vitamin E natural", "vitamin E synthetic", "vitamin D", "Vitamin A - retinyl palmitate"],
)
def test_iu_without_a_form_is_ambiguous(name: str) -> None:
    with pytest.raises(AmbiguousFormError, match="depend on the form"):
        _value("400 IU", "mg", name)


def test_a_single_iu_form_needs_no_form() -> None:
    assert _value("50000 IU", "mg", "retinol") == Decimal(15)


def test_choose_returns_the_basis() -> None:
    choice = choose(LIB.find("zinc"), form="zinc")
    assert choice.basis == "zinc"
    assert choice.substance.form == "zinc sulfate anhydrous"


@pytest.mark.parametrize(
    ("name", "forms", "error", "words"),
    [
        ("zinc", {"to_form": "copper"}, MissingFactError, "no form or basis 'copper'"),
        ("zinc", {"form": "copper"}, MissingFactError, "no form or basis 'copper'"),
        (
            "lidocaine",
            {"form": "base", "to_form": "monohydrate"},
            MissingFactError,
            "share no recorded basis",
        ),
    ],
)
def test_refusals(name: str, forms: dict[str, str], error: type[UnitsError], words: str) -> None:
    with pytest.raises(error, match=words):
        _value("10 mg", "mg", name, **forms)
