"""The strict parser: what it accepts, what it refuses and how it says so."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from formulary.units import (
    RATIO,
    Amount,
    InvalidQuantityError,
    UnitsError,
    UnknownUnitError,
    WrongKindError,
    format_amount,
    parse_quantity,
    parse_unit,
)
from formulary.units.catalog import BY_CANONICAL, LOOKUP, UNITS


@pytest.mark.parametrize(
    ("text", "value", "unit"),
    [
        ("0.5 mL", "0.5", "mL"),
        ("0.5mL", "0.5", "mL"),
        ("  2 ml ", "2", "mL"),
        ("2 cc", "2", "mL"),
        ("5.0 mg", "5", "mg"),
        ("5.000 mg", "5", "mg"),
        ("500 mg", "500", "mg"),
        ("10 µg", "10", "mcg"),  # micro sign
        ("10 μg", "10", "mcg"),  # Greek mu
        ("10 ug", "10", "mcg"),
        ("10 mcg", "10", "mcg"),
        ("2.5 mcg/mL", "2.5", "mcg/mL"),
        ("2.5 µg/mL", "2.5", "mcg/mL"),
        ("400 IU", "400", "IU"),
        ("400 iu", "400", "IU"),
        ("400 international units", "400", "IU"),
        ("50000 IU/mL", "50000", "IU/mL"),
        ("100 units", "100", "units"),
        ("1 unit", "1", "units"),
        ("4 units/mL", "4", "units/mL"),
        ("0.5% w/v", "0.5", "% w/v"),
        ("0.5 % w/v", "0.5", "% w/v"),
        ("0.5%w/v", "0.5", "% w/v"),
        ("0.5 percent w/v", "0.5", "% w/v"),
        ("1% w/w", "1", "% w/w"),
        ("70% v/v", "70", "% v/v"),
        ("1:1000", "1000", RATIO),
        ("1 : 200000 w/v", "200000", RATIO),
        ("1:10000 (w/v)", "10000", RATIO),
        ("2.03 mmol/mL", "2.03", "mmol/mL"),
        ("154 mmol/L", "154", "mmol/L"),
        ("4.06 mEq/mL", "4.06", "mEq/mL"),
        ("4.06 meq/ml", "4.06", "mEq/mL"),
        ("10 U-100 marks", "10", "U-100 marks"),
        ("1 U-100 mark", "1", "U-100 marks"),
        ("150 hairs/cm2", "150", "hairs/cm2"),
        ("150 hairs/cm²", "150", "hairs/cm2"),
        ("40 µm", "40", "micrometre"),
        ("40 microns", "40", "micrometre"),
        ("4 mm", "4", "mm"),
        ("72.5 kg", "72.5", "kg"),
        ("2 micromol", "2", "micromol"),
        ("007 mg", "7", "mg"),
    ],
)
def test_accepts(text: str, value: str, unit: str) -> None:
    assert parse_quantity(text) == Amount(Decimal(value), unit)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("5 mgg", "unknown unit 'mgg' — did you mean 'mg'"),
        ("5 mls", "did you mean 'mL'"),
        ("5 furlongs", "unknown unit 'furlongs'"),
        ("-1 mg", "must be positive"),
        ("−1 mg", "must be positive"),
        ("+1 mg", "without a sign"),
        ("0 mL", "greater than zero"),
        ("0.000 mL", "greater than zero"),
        (".5 mL", "leading zero"),
        ("5. mg", "decimal point"),
        ("1.2.3 mg", "decimal point"),
        ("1e3 mg", "scientific notation"),
        ("1E-3 mg", "scientific notation"),
        ("9^9^9", "expression"),
        ("9**9 mg", "expression"),
        ("2*3 mg", "expression"),
        ("1+1 mg", "expression"),
        ("(5) mg", "does not start with a number"),
        ("5 5 mg", "expression"),
        ("nan", "not a finite number"),
        ("NaN mg", "not a finite number"),
        ("inf mg", "not a finite number"),
        ("Infinity mL", "not a finite number"),
        ("1,5 mg", "no commas"),
        ("1,000 mg", "no commas"),
        ("5 %", "say which percentage"),
        ("5 percent", "say which percentage"),
        ("5 U", "write 'units'"),
        ("5", "has no unit"),
        ("mg", "does not start with a number"),
        ("", "no amount given"),
        ("   ", "no amount given"),
        ("1" * 13 + " mg", "too large"),
        ("0." + "1" * 13 + " mg", "too many decimals"),
        ("1 mg" + " " * 70, "too long"),
        ("1:0.5", "at least 1"),
        ("2:1000", "ratio strength as 1:N"),
        ("5 ratio w/v", "1:N"),
        ("٥ mg", "digits 0-9"),
        ("５ mg", "digits 0-9"),
    ],
)
def test_refuses_with_a_clear_message(text: str, words: str) -> None:
    with pytest.raises(InvalidQuantityError) as caught:
        parse_quantity(text)
    assert words in str(caught.value)


def test_unknown_unit_is_its_own_error() -> None:
    with pytest.raises(UnknownUnitError):
        parse_quantity("5 mgg")


def test_zero_allowed_when_asked() -> None:
    assert parse_quantity("0 mL", allow_zero=True) == Amount(Decimal(0), "mL")


def test_non_text_is_refused() -> None:
    with pytest.raises(InvalidQuantityError):
        parse_quantity(5)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("0.5 mL", "volume"),
        ("10 U-100 marks", "volume"),
        ("5 mg", "mass_or_iu"),
        ("400 IU", "mass_or_iu"),
        ("20 units", "mass_or_iu"),
        ("2 mmol", "dose"),
        ("5 mg/mL", "concentration"),
        ("1:1000", "concentration"),
        ("0.5% w/v", "concentration"),
        ("72 kg", "body_weight"),
        ("4 mm", "length"),
        ("150 hairs/cm2", "density"),
    ],
)
def test_kind_restriction_accepts(text: str, kind: str) -> None:
    parse_quantity(text, kind=kind)


@pytest.mark.parametrize(
    ("text", "kind", "words"),
    [
        ("5 mg", "volume", "expected a volume such as 0.5 mL, but '5 mg' is a mass"),
        ("0.5 mL", "mass_or_iu", "expected a mass or units"),
        ("5 mg", "concentration", "expected a concentration"),
        ("1:1000", "volume", "is a mass concentration"),
        ("4 mm", "density", "expected a hair density"),
    ],
)
def test_kind_restriction_refuses(text: str, kind: str, words: str) -> None:
    with pytest.raises(WrongKindError) as caught:
        parse_quantity(text, kind=kind)
    assert words in str(caught.value)


def test_unknown_kind_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown quantity kind"):
        parse_quantity("5 mg", kind="weight-ish")


def test_parse_unit_maps_aliases() -> None:
    assert parse_unit("cc") == "mL"
    assert parse_unit("µg/mL") == "mcg/mL"
    assert parse_unit("% W/V") == "% w/v"
    assert parse_unit("ratio w/v") == RATIO
    with pytest.raises(UnknownUnitError, match="did you mean"):
        parse_unit("mcgg")


def test_every_alias_parses_to_its_unit() -> None:
    for spec in UNITS:
        if spec.canonical == RATIO:
            continue
        for spelling in (spec.canonical, spec.singular, spec.plural, *spec.aliases):
            assert parse_quantity(f"2 {spelling}").unit == spec.canonical, spelling
    assert set(LOOKUP.values()) == set(BY_CANONICAL) - {RATIO}


# --- properties --------------------------------------------------------------------------

_ALPHABET = st.sampled_from([*"0123456789.,:-+eE^*/ %()µμ", "mg", "mL", " w/v", "IU", "1:"])


@given(st.text(max_size=80))
def test_any_text_gives_an_amount_or_a_clear_error(text: str) -> None:
    started = time.perf_counter()
    try:
        amount = parse_quantity(text)
    except UnitsError as error:
        message = str(error)
        assert message and "\n" not in message
    else:
        assert amount.value > 0
        assert parse_quantity(format_amount(amount)) == amount
    # A generous guard only; the real figure (max over a large corpus) is in the benchmark.
    assert time.perf_counter() - started < 1.0


@given(st.lists(_ALPHABET, max_size=20).map("".join))
def test_amount_shaped_text_never_crashes(text: str) -> None:
    try:
        parse_quantity(text)
    except UnitsError as error:
        assert str(error)


@given(
    st.decimals(
        min_value=Decimal("0.000000000001"),
        max_value=Decimal("999999999999"),
        places=12,
        allow_nan=False,
        allow_infinity=False,
    ),
    st.sampled_from(sorted(BY_CANONICAL)),
)
def test_parse_of_format_gives_the_amount_back(value: Decimal, unit: str) -> None:
    if unit == RATIO and value < 1:
        value += 1
    text = f"{value:f} {unit}" if unit != RATIO else f"1:{value:f}"
    amount = parse_quantity(text)
    assert parse_quantity(format_amount(amount)) == amount


@pytest.mark.parametrize(
    ("text", "kind", "example"),
    [("2", "length", "2 mm"), ("30", "volume", "30 mL"), ("150", "density", "150 hairs/cm2"),
     ("5", "mass", "5 mg"), ("70", "body_weight", "70 kg"), ("5", None, "5 mg")],
)
def test_a_missing_unit_is_hinted_in_the_fields_own_dimension(
    text: str, kind: str | None, example: str
) -> None:
    with pytest.raises(UnitsError, match=f"such as {example}$"):
        parse_quantity(text, kind=kind)
