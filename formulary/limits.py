"""What a value can physically be: the one place Formulary declares plausible ranges.

A typo of twelve nines must be refused, not computed and signed. These bounds are
deliberately wide (far beyond any real mesotherapy preparation) and only stop values
that cannot describe a syringe, a vial, a label or a date in a chart:

* dates and times between 1900-01-01 and 2100-12-31;
* a volume of at most 1 L (the largest container a label describes);
* a mass of at most 1 kg;
* a mass concentration of at most 10 g/mL (1000 % w/v; no solution is denser);
* no negative amounts.

The units parser stays strict about syntax and units (``formulary.units``); these
checks are about magnitude and are applied where an amount or a date enters a
record or a calculation (the calculator, the Store's session validation).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from formulary.units import Amount, convert, unit_kind

EARLIEST_YEAR = 1900
LATEST_YEAR = 2100

#: Largest magnitude per kind, in the unit named (canonical units of formulary.units).
MAXIMA: dict[str, tuple[Decimal, str, str]] = {
    "volume": (Decimal(1000), "mL", "1 L, the largest container a label describes"),
    "mass": (Decimal(1000), "g", "1 kg"),
    "mass_concentration": (
        Decimal(10_000), "mg/mL", "10 g/mL (1000 % w/v); no solution is denser"
    ),
}


class OutOfRange(ValueError):
    """A value outside what it can physically be; the message names the bound."""


def check_date(value: date | datetime, what: str) -> None:
    """Refuse a date outside 1900–2100 (year 1 is a typo, not a treatment date)."""
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise OutOfRange(
            f"{what} is in the year {value.year}; dates must lie between {EARLIEST_YEAR} and "
            f"{LATEST_YEAR}: check the year"
        )


def check_amount(amount: Amount, what: str) -> None:
    """Refuse a negative amount, or one beyond what a syringe, vial or label can hold."""
    if amount.value < 0:
        raise OutOfRange(f"{what} is negative ({amount.value} {amount.unit}); give 0 or more")
    try:
        kind = unit_kind(amount.unit)
    except ValueError:
        return
    bound = MAXIMA.get(kind)
    if bound is None:
        return
    limit, unit, words = bound
    try:
        value = convert(amount, unit).value
    except ValueError:
        return
    if value > limit:
        raise OutOfRange(
            f"{what} of {amount.value} {amount.unit} is beyond {words}; check for a typo"
        )
