"""Canonical JSON: one exact text per value, and refusal of what is not exact."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from enum import StrEnum

import pytest
from hypothesis import given
from hypothesis import strategies as st

from db.audit.canonical import CanonicalJSONError, canonical_json, format_utc
from formulary.units.amount import Amount


class Colour(StrEnum):
    RED = "red"


def test_keys_sorted_no_whitespace_utf8() -> None:
    assert canonical_json({"b": 1, "a": [True, None], "é": "ü"}) == (
        '{"a":[true,null],"b":1,"é":"ü"}'
    )


def test_decimal_is_a_string_without_exponent() -> None:
    assert canonical_json(Decimal("1E+3")) == '"1000"'
    assert canonical_json(Decimal("0.00000012")) == '"0.00000012"'
    assert canonical_json(Decimal("5.0")) == '"5.0"'


def test_datetimes_are_utc_with_z_and_microseconds() -> None:
    moment = datetime(2026, 1, 2, 5, 4, 5, 7, tzinfo=timezone(timedelta(hours=2)))
    assert canonical_json(moment) == '"2026-01-02T03:04:05.000007Z"'
    assert canonical_json(date(2026, 1, 2)) == '"2026-01-02"'


def test_enums_dataclasses_and_tuples() -> None:
    @dataclass(frozen=True)
    class Line:
        colour: Colour
        amount: Amount

    assert canonical_json(Line(Colour.RED, Amount(Decimal("0.5"), "mL"))) == (
        '{"amount":{"unit":"mL","value":"0.5"},"colour":"red"}'
    )
    assert canonical_json((1, 2)) == "[1,2]"


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (1.5, "float"),
        (float("nan"), "float"),
        ({"x": 0.1}, "float"),
        (Decimal("NaN"), "not finite"),
        (Decimal("Infinity"), "not finite"),
        (datetime(2026, 1, 1), "time zone"),
        ({1: "a"}, "non-string key"),
        ({1, 2}, "no canonical JSON"),
        ("\ud800", "surrogate"),
    ],
)
def test_refuses_inexact_values(value: object, words: str) -> None:
    with pytest.raises(CanonicalJSONError, match=words):
        canonical_json(value)


def test_format_utc_refuses_naive() -> None:
    with pytest.raises(CanonicalJSONError):
        format_utc(datetime(2026, 1, 1))
    assert format_utc(datetime(2026, 1, 1, tzinfo=UTC)) == "2026-01-01T00:00:00.000000Z"


_text = st.text(st.characters(codec="utf-8"), max_size=20)
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | _text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4),
    max_leaves=20,
)


@given(_json)
def test_plain_values_round_trip_and_are_stable(value: object) -> None:
    text = canonical_json(value)
    assert json.loads(text) == value
    assert canonical_json(json.loads(text)) == text
    assert "\n" not in text


@given(st.dictionaries(_text, st.integers(), min_size=2, max_size=6))
def test_key_insertion_order_does_not_matter(mapping: dict[str, int]) -> None:
    reversed_mapping = dict(reversed(list(mapping.items())))
    assert canonical_json(mapping) == canonical_json(reversed_mapping)


@given(st.decimals(allow_nan=False, allow_infinity=False))
def test_decimals_never_use_exponents(value: Decimal) -> None:
    text = json.loads(canonical_json(value))
    assert "E" not in text and "e" not in text
    assert Decimal(text) == value
