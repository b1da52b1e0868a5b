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


# canonical unit -> (unit shown, UCUM code or None, factor applied to the value)
_SIMPLE: dict[str, tuple[str, str | None, Decimal]] = {
    "g": ("g", "g", Decimal(1)),
    "mg": ("mg", "mg", Decimal(1)),
    "mcg": ("mcg", "ug", Decimal(1)),
    "ng": ("ng", "ng", Decimal(1)),
    "kg": ("kg", "kg", Decimal(1)),
    "L": ("L", "L", Decimal(1)),
    "mL": ("mL", "mL", Decimal(1)),
    "mmol": ("mmol", "mmol", Decimal(1)),
    "mEq": ("mEq", "meq", Decimal(1)),
    "IU": ("IU", "[iU]", Decimal(1)),
    "units": ("units", None, Decimal(1)),
    "mm": ("mm", "mm", Decimal(1)),
    "cm": ("cm", "cm", Decimal(1)),
    "um": ("µm", "um", Decimal(1)),
    "µm": ("µm", "um", Decimal(1)),
    "micrometre": ("µm", "um", Decimal(1)),
    "micrometer": ("µm", "um", Decimal(1)),
    "hairs/cm2": ("hairs/cm²", "{hairs}/cm2", Decimal(1)),
    "hairs/cm²": ("hairs/cm²", "{hairs}/cm2", Decimal(1)),
    "% w/v": ("mg/mL", "mg/mL", Decimal(10)),
}


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
    return UcumQuantity(amount.value, amount.unit, None)


def as_ratio(concentration: Amount) -> tuple[UcumQuantity, UcumQuantity] | None:
    """A concentration (``0.05 mg/mL``, ``0.01 % w/v``) as numerator per one unit.

    None when the unit is not a per-volume or per-mass concentration.
    """
    if concentration.unit == "% w/v":
        return (
            UcumQuantity(concentration.value * 10, "mg", "mg"),
            UcumQuantity(Decimal(1), "mL", "mL"),
        )
    parts = _split(concentration.unit)
    if parts is None:
        return None
    top = to_ucum(Amount(concentration.value, parts[0]))
    bottom = to_ucum(Amount(Decimal(1), parts[1]))
    return top, bottom
