"""Code 128: the symbol table, known encodings, and every text read back as written."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from formulary.export.code128 import (
    WIDTHS,
    Code128Error,
    decode_modules,
    encode,
    modules,
    parse_session_code,
    pattern,
    session_code,
)


def test_the_symbol_table_is_well_formed() -> None:
    assert len(WIDTHS) == 107 and len(set(WIDTHS)) == 107
    for value, widths in enumerate(WIDTHS[:106]):
        assert sum(map(int, widths)) == 11, value
        assert sum(int(w) for w in widths[0::2]) % 2 == 0, value  # even bar modules
    assert sum(map(int, WIDTHS[106])) == 13


def test_known_encoding_set_b() -> None:
    # "Kingcean" in set B: start B (104), the letters, check 64, stop (0x68 … 0x40 0x6a).
    assert encode("Kingcean") == [104, 43, 73, 78, 71, 67, 69, 65, 78, 64, 106]


def test_known_encoding_set_c() -> None:
    # "000132" in set C: start C, 00 01 32, check (105 + 0 + 2 + 96) % 103 = 100, stop.
    assert encode("000132") == [105, 0, 1, 32, 100, 106]
    bars = modules(encode("000132"), quiet=0)
    assert bars == ("11010011100" "11011001100" "11001101100" "11000110110"
                    "10111101110" "1100011101011")


def test_session_codes_pack_the_digits() -> None:
    values = encode(session_code(123456))
    assert values[0] == 104 and 99 in values  # letters in B, then the digits in C
    assert values[-5:-2] == [12, 34, 56]
    assert decode_modules(pattern("SESSION-123456")) == "SESSION-123456"
    assert decode_modules(pattern("SESSION-12345")) == "SESSION-12345"


def test_session_code_parsing() -> None:
    assert parse_session_code("SESSION-42") == 42
    assert parse_session_code("  session-42\n") == 42
    assert parse_session_code("C-000123") is None
    assert parse_session_code("SESSION-") is None
    assert parse_session_code("SESSION-12a") is None


def test_what_cannot_be_encoded_is_refused() -> None:
    with pytest.raises(Code128Error):
        encode("")
    with pytest.raises(Code128Error):
        encode("µ")
    with pytest.raises(Code128Error):
        decode_modules("1010101")


@given(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), min_size=1,
               max_size=40))
def test_every_printable_text_reads_back(text: str) -> None:
    bits = pattern(text)
    assert set(bits) <= {"0", "1"} and bits.startswith("0" * 10)
    assert decode_modules(bits) == text


@given(st.integers(min_value=1, max_value=10**12 - 1))
def test_every_session_id_reads_back(session_id: int) -> None:
    assert parse_session_code(decode_modules(pattern(session_code(session_id)))) == session_id
