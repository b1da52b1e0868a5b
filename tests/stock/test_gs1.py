"""GS1 scans and GTINs: what a USB scanner types, in every separator style."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from formulary.gs1 import (
    GS,
    ScanError,
    gtin_check_digit,
    looks_like_scan,
    normalize_gtin,
    parse_scan,
)

payloads = st.text(alphabet="0123456789", min_size=13, max_size=13)  # GTIN-14 less its check
#: Lot numbers as GS1 allows them (AI 10: up to 20 characters of the CSET 82 set);
#: no "(" so the human-readable form stays unambiguous.
lots = st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ0123456789-./", min_size=1, max_size=20).filter(
    lambda s: s.strip() == s
)
expiries = st.dates(min_value=date(2000, 1, 1), max_value=date(2049, 12, 28))


def with_check(payload: str) -> str:
    return payload + str(gtin_check_digit(payload))


@given(payloads)
def test_a_valid_gtin_is_kept_and_a_wrong_check_digit_refused(payload: str) -> None:
    gtin = with_check(payload)
    assert normalize_gtin(gtin) == gtin.zfill(14)
    wrong = payload + str((int(gtin[-1]) + 1) % 10)
    with pytest.raises(ScanError, match="check digit"):
        normalize_gtin(wrong)


def test_short_gtins_are_padded_to_gtin_14() -> None:
    assert normalize_gtin("5012345678900") == "05012345678900"
    assert normalize_gtin(" 96385074 ") == "00000096385074"
    assert normalize_gtin("") == ""
    with pytest.raises(ScanError, match="8, 12, 13 or 14 digits"):
        normalize_gtin("12345")
    with pytest.raises(ScanError, match="digits only"):
        normalize_gtin("50123A5678900")


def _styles(gtin: str, lot: str, expiry: date) -> list[str]:
    yymmdd = expiry.strftime("%y%m%d")
    return [
        f"01{gtin}17{yymmdd}10{lot}",  # lot last: no separator needed
        f"]d201{gtin}10{lot}{GS}17{yymmdd}",  # DataMatrix identifier, real GS
        f"01{gtin}10{lot}<GS>17{yymmdd}",  # placeholder typed by the scanner
        f"01{gtin}10{lot}{{GS}}17{yymmdd}",
        f"01{gtin}10{lot}\u241d17{yymmdd}\r\n",
        f"(01){gtin}(17){yymmdd}(10){lot}",  # human-readable form
        f"]C101{gtin}10{lot}^]17{yymmdd}",  # GS1-128
    ]


@settings(max_examples=60, deadline=None)
@given(payloads, lots, expiries)
def test_every_separator_style_reads_the_same(payload: str, lot: str, expiry: date) -> None:
    gtin = with_check(payload)
    for text in _styles(gtin, lot, expiry):
        scan = parse_scan(text)
        assert (scan.gtin, scan.lot_number, scan.expiry) == (gtin, lot, expiry), text
        assert scan.missing == ()
        assert looks_like_scan(text)


def test_partial_scan_says_what_is_missing() -> None:
    scan = parse_scan("0105012345678900")
    assert scan.missing == ("lot number (10)", "expiry date (17)")


def test_expiry_day_00_is_the_last_day_of_the_month() -> None:
    assert parse_scan("010501234567890017280200").expiry == date(2028, 2, 29)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("hello", "not a complete GS1 code"),
        ("01050123456789011728123110AB", "wrong check digit"),
        ("0105012345678900171302301", "not a real date"),
        ("(01)05012345678900(17)281300(10)X", "not a real date"),
        ("21ABCDEFGHIJKLMNOPQ", "no GTIN, lot or expiry"),
    ],
)
def test_bad_scans_get_one_clear_message(text: str, message: str) -> None:
    with pytest.raises(ScanError, match=message):
        parse_scan(text)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_any_text_either_parses_or_says_why(text: str) -> None:
    try:
        parse_scan(text)
    except ScanError as exc:
        assert str(exc) and "\n" not in str(exc)


def test_a_typed_lot_number_is_not_a_scan() -> None:
    assert not looks_like_scan("BT-24-1120")
    assert not looks_like_scan("0105012345678900")  # a bare GTIN: no lot in it
