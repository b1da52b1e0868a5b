"""Showing amounts the way medication-safety practice (ISMP) requires.

A leading zero before a decimal point (0.5 mL), never a trailing zero (5 mg, not
5.0 mg), ``mcg`` not ``µg``, ``mL`` not ``cc``, ``units`` and ``international units``
spelled out, and never scientific notation. ``parse_quantity(format_amount(a)) == a``
for every amount the parser accepts. Pure string work: no Pint.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

from formulary.units.amount import Amount
from formulary.units.catalog import BY_CANONICAL, RATIO
from formulary.units.errors import UnknownUnitError
from formulary.units.parse import strip_decimal

#: Significant figures shown for computed results (never fewer than the integer digits).
DISPLAY_SIGNIFICANT = 4


def round_significant(value: Decimal, significant: int) -> Decimal:
    """``value`` rounded to ``significant`` figures, keeping every integer digit.

    12345.678 → 12346 (integer digits are never rounded away), 0.0123456 → 0.01235.
    Trailing zeros are removed.
    """
    if significant < 1:
        raise ValueError("significant figures must be at least 1")
    if value == 0:
        return Decimal(0)
    exponent = value.adjusted()  # position of the first significant digit
    places = max(significant - 1 - exponent, 0)
    rounded = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
    return strip_decimal(rounded)


def format_value(value: Decimal, *, significant: int | None = None) -> str:
    """A number as ISMP wants it: plain digits, leading zero, no trailing zeros."""
    if not value.is_finite():
        raise ValueError("cannot display a value that is not finite")
    shown = round_significant(value, significant) if significant else strip_decimal(value)
    text = format(shown, "f")
    if text.startswith("-0") and shown == 0:
        text = text[1:]
    return text


def unit_label(unit: str, value: Decimal) -> str:
    """The ISMP display name of a canonical unit after ``value`` (``1 unit``, ``2 units``)."""
    spec = BY_CANONICAL.get(unit)
    if spec is None:
        raise UnknownUnitError(f"{unit!r} is not a canonical unit")
    return spec.singular if value == 1 else spec.plural


def format_amount(amount: Amount, *, significant: int | None = None) -> str:
    """``amount`` for people: ``"0.5 mL"``, ``"5 mg"``, ``"1:1000"``, ``"0.5% w/v"``.

    With ``significant`` the value is rounded for display (computed results); without
    it the stored value is shown exactly, so parsing the text gives the amount back.
    """
    number = format_value(amount.value, significant=significant)
    if amount.unit == RATIO:
        return f"1:{number}"
    label = unit_label(amount.unit, Decimal(number))
    if label.startswith("%"):
        return f"{number}{label}"
    return f"{number} {label}"
