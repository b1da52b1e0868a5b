"""Several components made up to a final volume: what each ingredient ends up as.

A component is either a stock drawn by volume (a product with one or more ingredient
strengths) or an ingredient added by amount (a powder, a vial's whole content). The
result gives, per ingredient, the amount in one preparation (one session) and its final
concentration, plus the volume drawn and the diluent that makes up the rest.

Ingredients are identified by an opaque ``key`` (a library id, a name) that this module
only compares; the library or the database maps it back.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext

from formulary.mixing.dosing import amount_in, require_volume
from formulary.mixing.errors import MixingError
from formulary.units.amount import Amount
from formulary.units.catalog import BY_CANONICAL, KIND_NAMES, SUBSTANCE_KINDS, VOLUME
from formulary.units.convert import WORK_PRECISION, convert, tidy
from formulary.units.display import format_amount
from formulary.units.errors import UnitsError, WrongKindError
from formulary.units.substance import Substance

#: Amount unit → (concentration unit, factor from amount/mL to that unit).
_CONCENTRATION_OF: dict[str, tuple[str, Decimal]] = {
    "kg": ("mg/mL", Decimal(1000000)),
    "g": ("mg/mL", Decimal(1000)),
    "mg": ("mg/mL", Decimal(1)),
    "mcg": ("mcg/mL", Decimal(1)),
    "ng": ("ng/mL", Decimal(1)),
    "mol": ("mmol/mL", Decimal(1000)),
    "mmol": ("mmol/mL", Decimal(1)),
    "micromol": ("micromol/L", Decimal(1000)),
    "mEq": ("mEq/mL", Decimal(1)),
    "IU": ("IU/mL", Decimal(1)),
    "units": ("units/mL", Decimal(1)),
    "mL": ("% v/v", Decimal(100)),  # a liquid ingredient measured by volume (from % v/v)
}


@dataclass(frozen=True, slots=True)
class Strength:
    """One ingredient of a stock at its labelled strength (a concentration)."""

    key: Hashable
    concentration: Amount


@dataclass(frozen=True, slots=True)
class Draw:
    """A stock drawn by volume; each of its ingredients comes along at its strength."""

    volume: Amount
    strengths: tuple[Strength, ...]
    label: str = ""


@dataclass(frozen=True, slots=True)
class Addition:
    """An ingredient added by amount (mass, mmol, IU, units), taking no volume of its own."""

    key: Hashable
    amount: Amount
    label: str = ""


@dataclass(frozen=True, slots=True)
class MixLine:
    """What one ingredient contributes to the preparation."""

    key: Hashable
    amount: Amount  # in one preparation (one session)
    final_concentration: Amount


@dataclass(frozen=True, slots=True)
class Mix:
    """The computed preparation."""

    final_volume: Amount  # mL
    drawn_volume: Amount  # mL of stocks drawn
    diluent_volume: Amount  # mL of diluent to make up to the final volume
    lines: tuple[MixLine, ...]

    def line(self, key: Hashable) -> MixLine:
        """The line of ingredient ``key`` (KeyError if it is not in the mix)."""
        for line in self.lines:
            if line.key == key:
                return line
        raise KeyError(key)


def mix(
    components: Sequence[Draw | Addition],
    final_volume: Amount,
    substances: Mapping[Hashable, Substance] | None = None,
) -> Mix:
    """Each ingredient's amount and final concentration when ``components`` are made up
    to ``final_volume``.

    The same ingredient from several components is added up; amounts stated differently
    (mg and mcg) are converted, and different kinds (mg and mmol) only with the
    ingredient's entry in ``substances``. Refused with a clear :class:`MixingError` or
    :class:`~formulary.units.errors.UnitsError`: no components, a component that is not a
    volume or an amount, drawn volumes exceeding the final volume, or amounts that cannot
    be added.
    """
    if not components:
        raise MixingError("a preparation needs at least one component")
    final = require_volume(final_volume, "final volume")
    if final.value <= 0:
        raise MixingError("the final volume must be greater than zero")
    facts = substances or {}
    totals: dict[Hashable, Amount] = {}
    order: list[Hashable] = []
    drawn = Decimal(0)
    for index, component in enumerate(components, start=1):
        name = component.label or f"component {index}"
        if isinstance(component, Draw):
            volume = require_volume(component.volume, f"volume drawn of {name}")
            if not component.strengths:
                raise MixingError(f"{name} has no ingredient strengths")
            drawn += volume.value
            for strength in component.strengths:
                contributed = amount_in(strength.concentration, volume)
                _add(totals, order, strength.key, contributed, facts.get(strength.key), name)
        else:
            kind = BY_CANONICAL[component.amount.unit].kind
            if kind not in SUBSTANCE_KINDS:
                raise WrongKindError(
                    f"{name} must be added as an amount such as 5 mg or 400 international "
                    f"units, not {KIND_NAMES[kind]} ({format_amount(component.amount)})"
                )
            _add(totals, order, component.key, component.amount, facts.get(component.key), name)
    if drawn > final.value:
        raise MixingError(
            f"the components measure {format_amount(Amount(tidy(drawn), 'mL'))}, more than "
            f"the final volume {format_amount(final)}: raise the final volume or draw less"
        )
    lines = tuple(_line(key, totals[key], final.value) for key in order)
    return Mix(
        final_volume=final,
        drawn_volume=Amount(tidy(drawn), "mL"),
        diluent_volume=Amount(tidy(final.value - drawn), "mL"),
        lines=lines,
    )


def _add(
    totals: dict[Hashable, Amount],
    order: list[Hashable],
    key: Hashable,
    amount: Amount,
    substance: Substance | None,
    name: str,
) -> None:
    if key not in totals:
        totals[key] = amount
        order.append(key)
        return
    current = totals[key]
    try:
        same = convert(amount, current.unit, substance)
    except UnitsError as error:
        raise MixingError(
            f"cannot add {format_amount(amount)} from {name} to {format_amount(current)} of "
            f"the same ingredient: {error}"
        ) from None
    with localcontext() as ctx:
        ctx.prec = WORK_PRECISION
        totals[key] = Amount(tidy(current.value + same.value), current.unit)


def _line(key: Hashable, amount: Amount, final_ml: Decimal) -> MixLine:
    unit = amount.unit
    if BY_CANONICAL[unit].kind == VOLUME:
        amount = convert(amount, "mL")
        unit = "mL"
    conc_unit, factor = _CONCENTRATION_OF[unit]
    with localcontext() as ctx:
        ctx.prec = WORK_PRECISION
        value = amount.value / final_ml * factor
    return MixLine(key=key, amount=amount, final_concentration=Amount(tidy(value), conc_unit))
