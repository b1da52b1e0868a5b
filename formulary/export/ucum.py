"""Formulary's canonical units written as UCUM, the unit code system FHIR expects.

Only exact, meaning-preserving mappings are listed. ``% w/v`` becomes mg/mL (1 % w/v
is 1 g per 100 mL, exactly 10 mg/mL). International Units are UCUM ``[iU]``.
Product-specific units (botulinum toxins) have no UCUM equivalent; UCUM's ``U`` is
the enzyme unit (1 µmol/min) and would be a dangerous lie, so they are written with
their printed unit and no code at all, which FHIR allows.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from formulary.units.amount import Amount

UCUM_SYSTEM = "http://unitsofmeasure.org"


@dataclass(frozen=True, slots=True)
class UcumQuantity:
    """A value with the unit people read and, when one exists, its UCUM code."""

    value: Decimal
    unit: str
    code: str | None


# canonical unit (formulary.units.catalog) -> (unit shown, UCUM code or None, factor)
_SIMPLE: dict[str, tuple[str, str | None, Decimal]] = {
    "kg": ("kg", "kg", Decimal(1)),
    "g": ("g", "g", Decimal(1)),
    "mg": ("mg", "mg", Decimal(1)),
    "mcg": ("mcg", "ug", Decimal(1)),
    "ng": ("ng", "ng", Decimal(1)),
    "L": ("L", "L", Decimal(1)),
    "mL": ("mL", "mL", Decimal(1)),
    "mcL": ("mcL", "uL", Decimal(1)),
    "U-100 marks": ("mL", "mL", Decimal("0.01")),  # one mark is exactly 0.01 mL
    "mol": ("mol", "mol", Decimal(1)),
    "mmol": ("mmol", "mmol", Decimal(1)),
    "micromol": ("micromol", "umol", Decimal(1)),
    "nmol": ("nmol", "nmol", Decimal(1)),
    "pmol": ("pmol", "pmol", Decimal(1)),
    "mEq": ("mEq", "meq", Decimal(1)),
    "IU": ("IU", "[iU]", Decimal(1)),
    "units": ("units", None, Decimal(1)),
    "% w/v": ("mg/mL", "mg/mL", Decimal(10)),
    "% w/w": ("% w/w", "%", Decimal(1)),
    "% v/v": ("% v/v", "%", Decimal(1)),
    "hairs/cm2": ("hairs/cm²", "{hairs}/cm2", Decimal(1)),
    "hairs/mm2": ("hairs/mm²", "{hairs}/mm2", Decimal(1)),
    "mm": ("mm", "mm", Decimal(1)),
    "cm": ("cm", "cm", Decimal(1)),
    "micrometre": ("µm", "um", Decimal(1)),
}

#: Ratio strength: value N means 1 g in N mL (formulary.units.catalog.RATIO).
RATIO = "ratio w/v"


def _split(unit: str) -> tuple[str, str] | None:
    if unit.count("/") != 1 or unit.startswith("hairs/"):
        return None
    top, bottom = (part.strip() for part in unit.split("/"))
    return top, bottom


def to_ucum(amount: Amount) -> UcumQuantity:
    """``amount`` as a UCUM quantity; ``code`` is None when UCUM has no equal unit."""
    if amount.unit in _SIMPLE:
        shown, code, factor = _SIMPLE[amount.unit]
        return UcumQuantity(amount.value * factor, shown, code)
    parts = _split(amount.unit)
    if parts is not None and parts[0] in _SIMPLE and parts[1] in _SIMPLE:
        top_shown, top_code, top_factor = _SIMPLE[parts[0]]
        bottom_shown, bottom_code, bottom_factor = _SIMPLE[parts[1]]
        code = f"{top_code}/{bottom_code}" if top_code and bottom_code else None
        return UcumQuantity(
            amount.value * top_factor / bottom_factor, f"{top_shown}/{bottom_shown}", code
        )
    if amount.unit == RATIO:
        return UcumQuantity(amount.value, "1:N w/v (1 g in N mL)", None)
    return UcumQuantity(amount.value, amount.unit, None)


def _q(value: Decimal | int, unit: str) -> UcumQuantity:
    return to_ucum(Amount(Decimal(value), unit))


def as_ratio(concentration: Amount) -> tuple[UcumQuantity, UcumQuantity] | None:
    """A concentration as an exact numerator and denominator, each in UCUM.

    ``0.05 mg/mL`` → 0.05 mg per 1 mL; ``0.01 % w/v`` → 0.1 mg per 1 mL;
    ``2 % w/w`` → 2 g per 100 g; ratio 1:1000 → 1 g per 1000 mL. None when the unit
    is not a concentration.
    """
    value, unit = concentration.value, concentration.unit
    if unit == "% w/v":
        return _q(value * 10, "mg"), _q(1, "mL")
    if unit == "% w/w":
        return _q(value, "g"), _q(100, "g")
    if unit == "% v/v":
        return _q(value, "mL"), _q(100, "mL")
    if unit == RATIO:
        return _q(1, "g"), _q(value, "mL")
    parts = _split(unit)
    if parts is None:
        return None
    return _q(value, parts[0]), _q(1, parts[1])
