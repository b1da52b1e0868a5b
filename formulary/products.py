"""What a product label says, checked as it is entered: presentation, strengths, counts.

A product is what arrives in a box: ampoules, vials or prefilled syringes of a
solution, each of a fill volume, or vials of powder made up to a reconstitution
volume. A solution's strength must be a concentration (5 mg/mL, 0.5 % w/v,
50000 IU/mL); a powder's label states the amount in one vial (20 mg), which in its
reconstitution volume gives the concentration the mixing and safety code works with.
Strength text goes through :func:`formulary.units.parse_quantity`, the strict parser,
so the messages are the ones every other field shows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, localcontext

from formulary.records import Presentation
from formulary.units import convert, format_amount, parse_quantity, unit_kind
from formulary.units.amount import Amount
from formulary.units.catalog import (
    AMOUNT,
    EQUIVALENTS,
    IU_CONCENTRATION,
    IU_KIND,
    KIND_GROUPS,
    KIND_NAMES,
    MASS,
    UNITS_KIND,
    VOLUME,
)
from formulary.units.convert import WORK_PRECISION, tidy
from formulary.units.errors import WrongKindError

#: Solutions: their strength is a concentration.
SOLUTIONS = frozenset({Presentation.AMPOULE, Presentation.VIAL, Presentation.PREFILLED_SYRINGE})

#: The most units (ampoules, vials) one delivery may count, to catch a typing slip.
MAX_UNITS_RECEIVED = 100_000

#: What one vial of powder may hold, and the concentration unit it gives per mL.
_PER_ML = {
    MASS: ("mg", "mg/mL"),
    IU_KIND: ("IU", "IU/mL"),
    UNITS_KIND: ("units", "units/mL"),
    AMOUNT: ("mmol", "mmol/mL"),
    EQUIVALENTS: ("mEq", "mEq/mL"),
}


@dataclass(frozen=True, slots=True)
class LabelledStrength:
    """One ingredient's strength as the label states it and as the stock holds it.

    ``concentration`` is per mL of what is drawn (for a powder, once made up);
    ``per_unit`` is the amount in one vial of powder, None for a solution.
    """

    concentration: Amount
    per_unit: Amount | None = None


def parse_presentation(text: str) -> Presentation:
    """``"ampoule"``, ``"prefilled syringe"`` … as a :class:`Presentation`."""
    wanted = "_".join(text.strip().casefold().replace("-", " ").split())
    for presentation in Presentation:
        if wanted in (presentation.value, presentation.value.rstrip("e")):
            return presentation
    if wanted in ("ampul", "ampule", "amp"):
        return Presentation.AMPOULE
    if wanted in ("syringe", "pfs"):
        return Presentation.PREFILLED_SYRINGE
    names = ", ".join(p.label for p in Presentation)
    raise ValueError(f"{text.strip()!r} is not a presentation: use one of {names}")


def parse_unit_volume(text: str, presentation: Presentation) -> Amount:
    """The fill volume (or, for a powder, the reconstitution volume) of one unit."""
    what = "reconstitution volume" if presentation is Presentation.POWDER else "volume per unit"
    if not text.strip():
        raise WrongKindError(f"no {what} given: write it like 5 mL")
    return parse_quantity(text, kind="volume")


def concentration_of(per_unit: Amount, volume: Amount) -> Amount:
    """``per_unit`` dissolved in ``volume``: 20 mg in 5 mL → 4 mg/mL (20 significant
    figures at most; the per-vial amount stays on record exactly)."""
    kind = unit_kind(per_unit.unit)
    if kind not in _PER_ML:
        raise WrongKindError(
            f"a vial of powder holds an amount such as 20 mg or 5000 IU, "
            f"not {format_amount(per_unit)}"
        )
    numerator, unit = _PER_ML[kind]
    if kind == MASS and per_unit.unit in ("mcg", "ng"):
        numerator, unit = per_unit.unit, f"{per_unit.unit}/mL"
    amount = per_unit if per_unit.unit == numerator else convert(per_unit, numerator)
    if unit_kind(volume.unit) != VOLUME:
        raise WrongKindError("the reconstitution volume must be a volume such as 5 mL")
    millilitres = convert(volume, "mL").value
    with localcontext() as ctx:
        ctx.prec = WORK_PRECISION
        value = amount.value / millilitres
    return Amount(tidy(value), unit)


def labelled_strength(
    amount: Amount, presentation: Presentation, unit_volume: Amount | None = None
) -> LabelledStrength:
    """A strength stated for a product of ``presentation``, checked.

    A solution's strength must be a concentration. A powder takes the amount in one
    vial (divided by ``unit_volume``, its reconstitution volume) or the concentration
    once made up. Raises :class:`~formulary.units.errors.WrongKindError` otherwise.
    """
    kind = unit_kind(amount.unit)
    if presentation in SOLUTIONS:
        if kind not in KIND_GROUPS["concentration"]:
            raise WrongKindError(
                "expected a concentration such as 5 mg/mL or 0.5% w/v, but "
                f"{format_amount(amount)} is {KIND_NAMES[kind]}"
            )
        return LabelledStrength(amount)
    if kind in KIND_GROUPS["concentration"]:
        return LabelledStrength(amount)
    if kind not in _PER_ML:
        raise WrongKindError(
            "expected the amount in one vial such as 20 mg or 5000 IU, or the concentration "
            f"once made up such as 4 mg/mL, but {format_amount(amount)} is neither"
        )
    if unit_volume is None:
        raise WrongKindError(
            "give the reconstitution volume first: the amount per vial is divided by it"
        )
    return LabelledStrength(concentration_of(amount, unit_volume), amount)


def parse_strength(
    text: str, presentation: Presentation, unit_volume: Amount | None = None
) -> LabelledStrength:
    """A strength typed for a product of ``presentation`` (see :func:`labelled_strength`).

    For a solution the text goes through the strict parser with ``kind="concentration"``,
    so ``"400 IU"`` gets its message ("expected a concentration such as 5 mg/mL …").
    """
    if presentation in SOLUTIONS:
        return LabelledStrength(parse_quantity(text, kind="concentration"))
    # "20 mg per vial" is how the strength is printed back (and how a label says it):
    # the container named after the amount is the unit itself, not part of the amount.
    return labelled_strength(
        parse_quantity(_PER_CONTAINER.sub("", text)), presentation, unit_volume
    )


#: A trailing "per vial", "/ampoule" … after a powder's or a syringe's amount.
_PER_CONTAINER = re.compile(
    r"\s*(?:per|/)\s*(?:vial|ampoule|ampule|syringe|unit|container)s?\s*$", re.IGNORECASE
)


def needs_form(strength: Amount) -> bool:
    """True when a strength means nothing without the form it is stated in (IU/mL)."""
    return unit_kind(strength.unit) == IU_CONCENTRATION


def quantity_for_count(count: int, unit_volume: Amount) -> Amount:
    """What ``count`` units of ``unit_volume`` hold: 10 ampoules of 5 mL → 50 mL."""
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError("count the units received: a whole number of 1 or more")
    if count > MAX_UNITS_RECEIVED:
        raise ValueError(
            f"{count} units in one delivery is implausible (at most {MAX_UNITS_RECEIVED}); "
            "check the count"
        )
    return Amount(unit_volume.value * Decimal(count), unit_volume.unit)


def parse_count(text: str) -> int:
    """A count of units typed as a plain whole number (``"10"``)."""
    stripped = text.strip()
    if not stripped:
        raise ValueError("no count given: type how many ampoules or vials arrived, such as 10")
    if not stripped.isascii() or not stripped.isdigit():
        raise ValueError(f"type the count as a whole number such as 10, not {stripped!r}")
    count = int(stripped)
    if count < 1:
        raise ValueError("the count must be 1 or more")
    if count > MAX_UNITS_RECEIVED:
        raise ValueError(
            f"{count} units in one delivery is implausible (at most {MAX_UNITS_RECEIVED}); "
            "check the count"
        )
    return count


def refuse_expired(expiry: date, today: date) -> str | None:
    """Why a lot expiring on ``expiry`` may not be received on ``today``; None if it may.

    One rule for the receive form and ``formulary lot receive``: an expired lot never
    enters stock (it could only be quarantined or thrown away).
    """
    if expiry < today:
        return f"expired on {expiry.isoformat()}: do not receive this lot"
    return None


def units_text(count: int) -> str:
    """``1 unit``, ``10 units``."""
    return f"{count} unit" if count == 1 else f"{count} units"
