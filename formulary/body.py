"""A patient's body weight and height as typed: kilograms or pounds, centimetres.

Pounds are converted to kilograms exactly (1 lb = 0.45359237 kg by definition), so a
weight typed in pounds is stored in kilograms without rounding and can be shown back
as typed. Only plain decimals are read here; nothing goes to Pint's parser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from formulary.units.amount import Amount
from formulary.units.catalog import BY_CANONICAL, unit_key

#: The international pound, exactly, in kilograms.
KG_PER_LB = Decimal("0.45359237")

#: How a pound may be written. The units catalogue has no pound (a dose is never in
#: pounds), so its spellings are declared here and nowhere else. "lbs" is the usual
#: written abbreviation of pounds on scales and charts, so it is taken; an SI symbol
#: takes no plural ("kgs", like "mgs", is refused with the units to write instead).
POUND_SPELLINGS: tuple[str, ...] = ("lb", "lbs", "pound", "pounds")


def _catalogue_spellings(canonical: str) -> dict[str, str]:
    """Every spelling the units catalogue accepts for ``canonical``, as lookup keys."""
    spec = BY_CANONICAL[canonical]
    return {
        unit_key(spelling): canonical
        for spelling in (spec.canonical, spec.singular, spec.plural, *spec.aliases)
    }


#: Accepted spellings (as :func:`~formulary.units.catalog.unit_key`) of the two weight
#: units and of the height unit: kilograms and centimetres as the units catalogue
#: spells them (the one allow-list of units), pounds as above. The app's weight field,
#: ``formulary patient add|update`` and the patient CSV import all read them here.
WEIGHT_UNITS: dict[str, str] = {
    **_catalogue_spellings("kg"),
    **{unit_key(spelling): "lb" for spelling in POUND_SPELLINGS},
}
HEIGHT_UNITS: dict[str, str] = _catalogue_spellings("cm")

#: The units a typed weight or height is stored in (a weight's ``entered`` unit):
#: the catalogue's kg and cm, and the pound, which the catalogue lacks.
TYPED_UNITS: frozenset[str] = frozenset({*WEIGHT_UNITS.values(), *HEIGHT_UNITS.values()})

#: Plausible human ranges: outside them the figure is a typing error.
MIN_KG, MAX_KG = Decimal("1"), Decimal("400")
MIN_CM, MAX_CM = Decimal("30"), Decimal("260")

_NUMBER_UNIT = re.compile(r"^\s*(?P<number>[0-9]+(?:[.,][0-9]+)?)\s*(?P<unit>[A-Za-z]*)\s*$")


class BodyMeasureError(ValueError):
    """A weight or height that cannot be read; the message says how to type it."""


@dataclass(frozen=True, slots=True)
class Weight:
    """A body weight in kilograms, and what was typed (``entered``, kg or lb)."""

    kg: Amount
    entered: Amount


def kg_from(value: Decimal, unit: str) -> Decimal:
    """``value`` in ``unit`` (``kg`` or ``lb``) as exact kilograms."""
    if unit == "kg":
        return value
    if unit == "lb":
        return value * KG_PER_LB
    raise BodyMeasureError(f"weigh in kg or lb, not {unit!r}")


def _split(
    text: str, default_unit: str | None, units: dict[str, str], what: str, example: str
) -> tuple[Decimal, str]:
    match = _NUMBER_UNIT.match(text)
    if match is None:
        raise BodyMeasureError(f"type the {what} as a number and unit, such as {example}")
    spelled = unit_key(match["unit"])
    if not spelled:
        if default_unit is None:
            raise BodyMeasureError(f"give the unit of the {what}, such as {example}")
        unit = default_unit
    elif spelled in units:
        unit = units[spelled]
    else:
        raise BodyMeasureError(
            f"{match['unit']!r} is not a unit of {what}; use "
            + " or ".join(sorted(set(units.values())))
        )
    try:
        value = Decimal(match["number"].replace(",", "."))
    except InvalidOperation as exc:  # pragma: no cover - the pattern admits only digits
        raise BodyMeasureError(f"type the {what} as a number, such as {example}") from exc
    return value, unit


def parse_weight(text: str, default_unit: str | None = None) -> Weight:
    """``70 kg``, ``154 lb`` or ``70`` (with ``default_unit``) as a :class:`Weight`."""
    value, unit = _split(text, default_unit, WEIGHT_UNITS, "weight", "70 kg or 154 lb")
    return weight_of(value, unit)


def weight_of(value: Decimal, unit: str) -> Weight:
    """A checked :class:`Weight` of ``value`` ``unit`` (kg or lb)."""
    kg = kg_from(value, unit)
    if not MIN_KG <= kg <= MAX_KG:
        raise BodyMeasureError(
            f"a weight of {value} {unit} is outside {MIN_KG}-{MAX_KG} kg; check the figure "
            "and the unit"
        )
    return Weight(Amount(kg, "kg"), Amount(value, unit))


def parse_height(text: str, default_unit: str | None = None) -> Amount:
    """``172 cm`` (or ``172`` with ``default_unit``) as an Amount in cm."""
    value, _unit = _split(text, default_unit, HEIGHT_UNITS, "height", "172 cm")
    return height_of(value)


def height_of(value: Decimal) -> Amount:
    """A checked height of ``value`` centimetres."""
    if not MIN_CM <= value <= MAX_CM:
        raise BodyMeasureError(
            f"a height of {value} cm is outside {MIN_CM}-{MAX_CM} cm; check the figure"
        )
    return Amount(value, "cm")


def show_kg(amount: Amount) -> str:
    """A weight in kg as charts print it (one decimal, trailing zero dropped)."""
    shown = amount.value.quantize(Decimal("0.1"))
    text = format(shown.normalize(), "f")
    return f"{text} kg"


def show_entered(amount: Amount) -> str:
    """A weight as it was typed (``154 lb``), exactly, in either unit the forms accept.

    The units catalogue has no pound (a dose is never in pounds), so the typed weight
    cannot go through the general amount formatter.
    """
    return f"{format(amount.value.normalize(), 'f')} {amount.unit}"
