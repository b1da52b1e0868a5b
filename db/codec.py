"""Domain values to and from the plain JSON kept in JSON columns.

Decimals are stored as exact strings in plain notation (``"0.5"``), never floats.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from db.audit.canonical import format_decimal, format_utc
from formulary.units.amount import Amount


def amount_to_json(amount: Amount | None) -> dict[str, str] | None:
    """``{"value": "0.5", "unit": "mL"}`` or None."""
    if amount is None:
        return None
    return {"value": format_decimal(amount.value), "unit": amount.unit}


def amount_from_json(data: Any) -> Amount | None:
    """The inverse of :func:`amount_to_json`."""
    if data is None:
        return None
    return Amount(Decimal(str(data["value"])), str(data["unit"]))


def amount_from_columns(value: Decimal | None, unit: str | None) -> Amount | None:
    """An Amount from a value/unit column pair (None when either is missing)."""
    if value is None or unit is None:
        return None
    return Amount(value, unit)


def columns_of(amount: Amount | None) -> tuple[Decimal | None, str | None]:
    """The value/unit column pair of an Amount."""
    if amount is None:
        return None, None
    return Decimal(format_decimal(amount.value)), amount.unit


def datetime_to_json(moment: datetime) -> str:
    """ISO-8601 UTC with ``Z`` (as the audit trail writes it)."""
    return format_utc(moment)


def datetime_from_json(text: str) -> datetime:
    """The inverse of :func:`datetime_to_json`."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def date_from_json(text: str | None) -> date | None:
    """``YYYY-MM-DD`` to a date."""
    return None if text is None else date.fromisoformat(text)
