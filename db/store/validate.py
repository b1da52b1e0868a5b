"""Input checks shared by the Store areas (each raises one ValidationError), and search keys.

Public: bulk loading and transfer derive the same search keys the Store stores.
"""

from __future__ import annotations

import unicodedata
from datetime import date, datetime
from decimal import Decimal

from db.errors import ValidationError
from formulary import limits
from formulary.units.amount import Amount

#: Longest text a field takes when its declaration names no limit.
MAX_TEXT = 10000

#: Upper bound of any stored magnitude: beyond it an entry is a typing mistake.
MAX_MAGNITUDE = Decimal("1e9")


def text(value: str, what: str, *, limit: int, required: bool = False) -> str:
    """Trimmed single-line text of at most ``limit`` characters."""
    cleaned = unicodedata.normalize("NFC", value or "").strip()
    if required and not cleaned:
        raise ValidationError(f"the {what} is empty; fill it in")
    if len(cleaned) > limit:
        raise ValidationError(f"the {what} is longer than {limit} characters; shorten it")
    if "\x00" in cleaned:
        raise ValidationError(f"the {what} contains a NUL character; remove it")
    try:
        cleaned.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValidationError(f"the {what} contains characters that are not text") from exc
    return cleaned


def amount(
    value: Amount,
    what: str,
    *,
    positive: bool = True,
    allow_zero: bool = False,
    physical: bool = True,
) -> Amount:
    """A finite, positive (or zero when allowed) Amount with a unit.

    With ``physical`` (the default) a volume, mass or concentration must also fit what a
    syringe, vial or label can hold (:mod:`formulary.limits`); body measures and stock
    on hand pass ``physical=False``.
    """
    if not isinstance(value, Amount):
        raise ValidationError(f"the {what} must be an amount with a unit")
    if not value.unit or len(value.unit) > 32:
        raise ValidationError(f"the {what} has no valid unit; give one such as mL or mg")
    if abs(value.value) > MAX_MAGNITUDE:
        raise ValidationError(f"the {what} ({value.value} {value.unit}) is implausibly large")
    if positive and (value.value < 0 or (value.value == 0 and not allow_zero)):
        raise ValidationError(f"the {what} must be more than zero")
    if physical and value.value >= 0:
        try:
            limits.check_amount(value, f"the {what}")
        except limits.OutOfRange as exc:
            raise ValidationError(str(exc)) from exc
    return value


def moment(value: date | datetime, what: str) -> None:
    """Refuse a date or time outside 1900–2100 (:func:`formulary.limits.check_date`)."""
    try:
        limits.check_date(value, what)
    except limits.OutOfRange as exc:
        raise ValidationError(str(exc)) from exc


def search_key(*parts: str) -> str:
    """Case- and accent-insensitive form of ``parts`` for searching."""
    joined = " ".join(p for p in parts if p)
    decomposed = unicodedata.normalize("NFKD", joined.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.split())
