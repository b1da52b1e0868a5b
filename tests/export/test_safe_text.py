"""Formula-injection neutralising: nothing dangerous gets through, nothing else changes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from formulary.export.safe_text import FORMULA_TRIGGERS, GUARD, neutralise, restore

TRIGGERS = sorted(FORMULA_TRIGGERS)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("=1+2", "'=1+2"),
        ("+41 44 000 00 00", "'+41 44 000 00 00"),
        ("-10 % redness", "'-10 % redness"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=cmd", "'\t=cmd"),
        ("\r=cmd", "'\r=cmd"),
        ("'=already quoted", "''=already quoted"),
        ("Tolerated well.", "Tolerated well."),
        ("a=b", "a=b"),
        ("", ""),
        ("'plain", "'plain"),
        ("µ-scope 20×", "µ-scope 20×"),
    ],
)
def test_examples(text: str, expected: str) -> None:
    assert neutralise(text) == expected
    assert restore(expected) == text


@given(st.text())
def test_output_never_starts_a_formula(text: str) -> None:
    safe = neutralise(text)
    assert not safe or safe[0] not in FORMULA_TRIGGERS


@given(st.text())
def test_restore_is_the_exact_inverse(text: str) -> None:
    assert restore(neutralise(text)) == text


@given(st.sampled_from(TRIGGERS), st.text())
def test_every_trigger_is_guarded(trigger: str, rest: str) -> None:
    assert neutralise(trigger + rest) == GUARD + trigger + rest


@given(st.text().filter(lambda t: not t.lstrip(GUARD)[:1] or t.lstrip(GUARD)[0] not in TRIGGERS))
def test_safe_text_is_untouched(text: str) -> None:
    assert neutralise(text) == text
