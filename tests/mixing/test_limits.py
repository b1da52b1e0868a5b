"""Plausible ranges (formulary.limits): typos of magnitude and year are refused."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from formulary.limits import OutOfRange, check_amount, check_date
from formulary.units import Amount


@pytest.mark.parametrize(
    ("amount", "refused"),
    [
        (Amount(Decimal("999999999999"), "% w/v"), True),
        (Amount(Decimal("1000"), "% w/v"), False),
        (Amount(Decimal("250"), "mg/mL"), False),
        (Amount(Decimal("1001"), "mL"), True),
        (Amount(Decimal("1000"), "mL"), False),
        (Amount(Decimal("2"), "kg"), True),
        (Amount(Decimal("-5"), "mL"), True),
        (Amount(Decimal("0"), "mL"), False),
    ],
)
def test_magnitudes(amount: Amount, refused: bool) -> None:
    if refused:
        with pytest.raises(OutOfRange, match=r"check for a typo|negative"):
            check_amount(amount, "the amount")
    else:
        check_amount(amount, "the amount")


@given(st.dates())
def test_dates_outside_1900_2100_are_refused(day: date) -> None:
    if 1900 <= day.year <= 2100:
        check_date(day, "the date")
    else:
        with pytest.raises(OutOfRange, match=str(day.year)):
            check_date(day, "the date")


def test_year_one_is_refused_for_a_session_time() -> None:
    with pytest.raises(OutOfRange, match="year 1;"):
        check_date(datetime(1, 1, 1, tzinfo=UTC), "the session time")


def test_calc_refuses_an_impossible_concentration() -> None:
    from typer.testing import CliRunner

    from tui.cli.main import app

    result = CliRunner().invoke(app, ["calc", "dose", "999999999999 % w/v", "1 mL"])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "beyond 10 g/mL" in result.stderr
