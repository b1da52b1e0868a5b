"""Input checks shared by the Store areas (each raises one ValidationError), and search keys.

Public: bulk loading and transfer derive the same search keys the Store stores.
"""

from __future__ import annotations

import unicodedata
from datetime import date, datetime
from decimal import Decimal

from db.errors import ValidationError
from formulary import clinic, limits
from formulary import text as plain_text
from formulary.units.amount import Amount

#: Longest text a field takes when its declaration names no limit.
MAX_TEXT = 10000

#: Upper bound of any stored magnitude: beyond it an entry is a typing mistake.
MAX_MAGNITUDE = Decimal("1e9")


def text(
    value: str, what: str, *, limit: int, required: bool = False, multiline: bool = False
) -> str:
    """Trimmed text of at most ``limit`` characters, UTF-8 and free of control characters.

    Single-line unless ``multiline`` (free text such as notes, which keeps its line
    breaks and tabs): the rule is :func:`formulary.text.problem`.
    """
    cleaned = unicodedata.normalize("NFC", value or "").strip()
    if required and not cleaned:
        raise ValidationError(f"the {what} is empty; fill it in")
    if len(cleaned) > limit:
        raise ValidationError(f"the {what} is longer than {limit} characters; shorten it")
    wrong = plain_text.problem(cleaned, multiline=multiline)
    if wrong is not None:
        raise ValidationError(f"the {what} {wrong}")
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


def clinic_identifier(value: str) -> str:
    """The clinic identifier trimmed: ``""`` (the default, the database id) or
    :data:`formulary.clinic.IDENTIFIER`."""
    identifier = (value or "").strip()
    if identifier and not clinic.IDENTIFIER.fullmatch(identifier):
        raise ValidationError(
            f"clinic identifier {identifier!r} is not allowed: use {clinic.IDENTIFIER_RULE}"
        )
    return identifier


def beyond_use_minutes(minutes: int) -> int:
    """A syringe label's beyond-use time within :mod:`formulary.clinic`'s bounds."""
    if not clinic.MIN_BEYOND_USE_MINUTES <= minutes <= clinic.MAX_BEYOND_USE_MINUTES:
        raise ValidationError(
            f"beyond-use time {minutes} min is out of range: give {clinic.BEYOND_USE_RANGE}"
        )
    return minutes


def photo_limit(limit_bytes: int) -> int:
    """The largest photo file accepted, within :mod:`formulary.photos`' bounds."""
    from formulary.photos import MAX_MAX_BYTES, MIN_MAX_BYTES

    if not MIN_MAX_BYTES <= limit_bytes <= MAX_MAX_BYTES:
        raise ValidationError(
            f"photo limit {limit_bytes / 2**20:g} MB is out of range: give "
            f"{MIN_MAX_BYTES // 2**20} to {MAX_MAX_BYTES // 2**20} MB"
        )
    return limit_bytes


def search_key(*parts: str) -> str:
    """Case- and accent-insensitive form of ``parts`` for searching."""
    joined = " ".join(p for p in parts if p)
    decomposed = unicodedata.normalize("NFKD", joined.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.split())
