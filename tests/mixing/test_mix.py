"""Several components made up to a final volume."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from formulary.mixing import Addition, Draw, MixingError, Strength, mix
from formulary.units import Amount, UnitsError, WrongKindError, parse_quantity
from tests.units import substances as s


def q(text: str) -> Amount:
    return parse_quantity(text)


def A(value: str, unit: str) -> Amount:
    return Amount(Decimal(value), unit)


def test_dutasteride_containing_solution() -> None:
    # A published-style cocktail: dutasteride 0.05% 1 mL, dexpanthenol 250 mg/mL 0.4 mL,
    # pyridoxine HCl 100 mg/mL 0.2 mL, biotin powder 1 mg, made up to 2 mL.
    result = mix(
        [
            Draw(q("1 mL"), (Strength("dutasteride", q("0.05% w/v")),), "dutasteride"),
            Draw(q("0.4 mL"), (Strength("dexpanthenol", q("250 mg/mL")),)),
            Draw(q("0.2 mL"), (Strength("pyridoxine", q("100 mg/mL")),)),
            Addition("biotin", q("1 mg")),
        ],
        q("2 mL"),
    )
    assert result.drawn_volume == A("1.6", "mL")
    assert result.diluent_volume == A("0.4", "mL")
    assert result.line("dutasteride").amount == A("0.5", "mg")
    assert result.line("dutasteride").final_concentration == A("0.25", "mg/mL")
    assert result.line("dexpanthenol").amount == A("100", "mg")
    assert result.line("dexpanthenol").final_concentration == A("50", "mg/mL")
    assert result.line("pyridoxine").final_concentration == A("10", "mg/mL")
    assert result.line("biotin").final_concentration == A("0.5", "mg/mL")
    assert [line.key for line in result.lines] == [
        "dutasteride",
        "dexpanthenol",
        "pyridoxine",
        "biotin",
    ]


def test_multi_ingredient_stock_and_repeated_ingredient() -> None:
    # A two-ingredient stock drawn once brings both; lidocaine added twice is summed.
    stock = Draw(q("1 mL"), (Strength(1, q("2% w/v")), Strength(2, q("1:100000"))), "lido-epi")
    result = mix([stock, Draw(q("500 U-100 marks"), (Strength(1, q("1% w/v")),))], q("10 mL"))
    assert result.line(1).amount == A("70", "mg")  # 20 mg + 50 mg
    assert result.line(1).final_concentration == A("7", "mg/mL")
    assert result.line(2).amount == A("0.01", "mg")
    assert result.drawn_volume == A("6", "mL")


def test_mixed_units_of_one_ingredient_are_added() -> None:
    result = mix([Addition("b12", q("500 mcg")), Addition("b12", q("0.5 mg"))], q("5 mL"))
    assert result.line("b12").amount == A("1000", "mcg")
    assert result.line("b12").final_concentration == A("200", "mcg/mL")


def test_iu_and_units_lines_keep_their_units() -> None:
    result = mix(
        [
            Draw(q("0.1 mL"), (Strength("vit-a", q("50000 IU/mL")),)),
            Draw(q("0.5 mL"), (Strength("botox", q("100 units/mL")),)),
        ],
        q("2 mL"),
    )
    assert result.line("vit-a").final_concentration == A("2500", "IU/mL")
    assert result.line("botox").final_concentration == A("25", "units/mL")


def test_adding_different_kinds_needs_the_substance() -> None:
    parts = [Addition("mg", q("246.47 mg")), Addition("mg", q("1 mmol"))]
    with pytest.raises(MixingError, match="cannot add 1 mmol"):
        mix(parts, q("10 mL"))
    result = mix(parts, q("10 mL"), {"mg": s.MAGNESIUM_SULFATE})
    assert result.line("mg").amount == A("492.94", "mg")


def test_iu_of_different_ingredients_never_meet() -> None:
    parts = [Addition("vit-e", q("400 IU")), Addition("vit-e", q("100 units"))]
    with pytest.raises(MixingError, match="never convert"):
        mix(parts, q("2 mL"))
    separate = mix([Addition("vit-e", q("400 IU")), Addition("vit-d", q("400 IU"))], q("2 mL"))
    assert len(separate.lines) == 2


def test_refusals() -> None:
    with pytest.raises(MixingError, match="more than the final volume"):
        mix([Draw(q("3 mL"), (Strength("x", q("1 mg/mL")),))], q("2 mL"))
    with pytest.raises(MixingError, match="at least one component"):
        mix([], q("2 mL"))
    with pytest.raises(WrongKindError, match="final volume must be a volume"):
        mix([Addition("x", q("1 mg"))], q("2 mg"))
    with pytest.raises(WrongKindError, match="added as an amount"):
        mix([Addition("x", q("1 mL"))], q("2 mL"))
    with pytest.raises(UnitsError, match="density"):
        mix([Draw(q("1 mL"), (Strength("x", q("1% w/w")),))], q("2 mL"))
    with pytest.raises(MixingError, match="no ingredient strengths"):
        mix([Draw(q("1 mL"), ())], q("2 mL"))


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c"]),
            st.decimals(min_value=Decimal("0.01"), max_value=Decimal("500"), places=2),
            st.decimals(min_value=Decimal("0.01"), max_value=Decimal("1"), places=2),
        ),
        min_size=1,
        max_size=6,
    ),
    st.decimals(min_value=Decimal("6"), max_value=Decimal("20"), places=1),
)
def test_mix_conserves_each_ingredient(
    parts: list[tuple[str, Decimal, Decimal]], final: Decimal
) -> None:
    components = [
        Draw(Amount(volume, "mL"), (Strength(key, Amount(conc, "mg/mL")),))
        for key, conc, volume in parts
    ]
    result = mix(components, Amount(final, "mL"))
    for key in {key for key, _, _ in parts}:
        expected = sum((conc * volume for k, conc, volume in parts if k == key), Decimal(0))
        line = result.line(key)
        assert line.amount == Amount(expected, "mg")
        assert abs(line.final_concentration.value * final - expected) <= expected * Decimal("1e-12")
    drawn = sum(volume for _, _, volume in parts)
    assert result.drawn_volume.value + result.diluent_volume.value == final
    assert result.drawn_volume.value == drawn
