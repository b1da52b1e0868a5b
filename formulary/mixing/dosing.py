"""Bench arithmetic on amounts: how much is in a volume, what volume holds an amount,
how to dilute a stock, and how much a run of injection points takes.

Pure functions on :class:`~formulary.units.amount.Amount`; every unit question is
answered by :func:`formulary.units.convert`, so a mass and a volume meet only through a
concentration and a salt only becomes its element through the substance's facts.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, localcontext

from formulary.mixing.errors import MixingError
from formulary.units.amount import Amount
from formulary.units.catalog import (
    BY_CANONICAL,
    KIND_NAMES,
    MASS_CONCENTRATION,
    MASS_FRACTION,
    SUBSTANCE_KINDS,
    VOLUME,
    VOLUME_FRACTION,
)
from formulary.units.convert import WORK_PRECISION, convert, tidy
from formulary.units.display import format_amount
from formulary.units.errors import NotConvertibleError, WrongKindError
from formulary.units.substance import Substance

_HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class Dilution:
    """How to make ``final_volume`` at ``target`` strength from ``stock``."""

    stock: Amount
    target: Amount
    final_volume: Amount
    stock_volume: Amount  # draw this much stock …
    diluent_volume: Amount  # … and make up with this much diluent


def require_volume(amount: Amount, what: str = "volume") -> Amount:
    """``amount`` in mL, or :class:`WrongKindError` if it is not a volume."""
    if BY_CANONICAL[amount.unit].kind != VOLUME:
        raise WrongKindError(
            f"the {what} must be a volume such as 0.5 mL, not {format_amount(amount)}"
        )
    return convert(amount, "mL")


def per_volume(concentration: Amount) -> tuple[Amount, str, str]:
    """A concentration as (value in numerator/denominator unit, numerator, denominator).

    ``% w/v`` and ratio strengths become mg/mL; ``% v/v`` becomes mL of solute per mL.
    ``% w/w`` needs the solution's density and is refused.
    """
    spec = BY_CANONICAL[concentration.unit]
    if spec.kind == VOLUME_FRACTION:
        with localcontext() as ctx:
            ctx.prec = WORK_PRECISION
            fraction = concentration.value / _HUNDRED
        return Amount(tidy(fraction), "mL/mL"), "mL", "mL"
    if spec.kind == MASS_FRACTION:
        raise NotConvertibleError(
            f"{format_amount(concentration)} is mass per mass: an amount per volume needs the "
            "solution's density; state the strength as mg/mL or % w/v"
        )
    if spec.per_volume is not None:
        return concentration, spec.per_volume[0], spec.per_volume[1]
    if spec.kind == MASS_CONCENTRATION:  # % w/v and ratio strengths
        return convert(concentration, "mg/mL"), "mg", "mL"
    raise WrongKindError(_not_a_concentration(concentration))


def _in_unit(amount: Amount, unit: str, substance: Substance | None) -> Amount:
    # "mL/mL" (a % v/v) is internal and never goes through convert().
    return amount if amount.unit == unit else convert(amount, unit, substance)


def _not_a_concentration(amount: Amount) -> str:
    kind = KIND_NAMES[BY_CANONICAL[amount.unit].kind]
    return (
        "expected a concentration such as 5 mg/mL or 0.5% w/v, "
        f"but {format_amount(amount)} is {kind}"
    )


def amount_in(
    concentration: Amount,
    volume: Amount,
    substance: Substance | None = None,
    *,
    unit: str | None = None,
    form: str | None = None,
    to_form: str | None = None,
) -> Amount:
    """Concentration × volume: how much substance ``volume`` of a solution holds.

    The result is in the concentration's numerator unit (5 mg/mL × 2 mL = 10 mg;
    0.5% w/v × 2 mL = 10 mg), or in ``unit`` if given (converted with ``substance``,
    ``form`` and ``to_form`` as in :func:`formulary.units.convert`).
    """
    per, numerator, denominator = per_volume(concentration)
    drawn = convert(require_volume(volume), denominator)
    with localcontext() as ctx:
        ctx.prec = WORK_PRECISION
        value = per.value * drawn.value
    result = Amount(tidy(value), numerator)
    if unit is not None or form is not None or to_form is not None:
        result = convert(result, unit or numerator, substance, form=form, to_form=to_form)
    return result


def volume_for(
    amount: Amount,
    concentration: Amount,
    substance: Substance | None = None,
    *,
    form: str | None = None,
    to_form: str | None = None,
) -> Amount:
    """Amount ÷ concentration: the volume (mL) of solution that holds ``amount``.

    ``amount`` may be stated differently from the concentration's numerator (mg of zinc
    against mg/mL of zinc sulfate, IU against mg/mL) when ``substance`` supplies the
    facts; ``form`` is the form of ``amount``, ``to_form`` that of the concentration
    (default: the substance's own form).
    """
    kind = BY_CANONICAL[amount.unit].kind
    if kind not in SUBSTANCE_KINDS and kind != VOLUME:
        raise WrongKindError(
            "expected an amount such as 5 mg, 2 mmol or 400 international units, "
            f"not {format_amount(amount)}"
        )
    per, numerator, denominator = per_volume(concentration)
    if per.value <= 0:
        raise MixingError("the concentration must be greater than zero")
    if to_form is None and form is not None and substance is not None:
        to_form = substance.form or substance.name  # strengths are stated in the entry's form
    needed = convert(amount, numerator, substance, form=form, to_form=to_form)
    with localcontext() as ctx:
        ctx.prec = WORK_PRECISION
        value = needed.value / per.value
    return convert(Amount(tidy(value), denominator), "mL")


def dilute(
    stock: Amount,
    target: Amount,
    final_volume: Amount,
    substance: Substance | None = None,
) -> Dilution:
    """C1·V1 = C2·V2: the stock volume and diluent that make ``final_volume`` at ``target``.

    ``target`` may be stated in another concentration unit than ``stock`` (0.05% w/v
    against 5 mg/mL); different kinds (mmol/L against mg/mL) need ``substance``.
    A target stronger than the stock is refused: dilution cannot concentrate.
    """
    v2 = require_volume(final_volume, "final volume")
    c1, _, _ = per_volume(stock)
    c2_per, _, _ = per_volume(target)
    c2 = _in_unit(c2_per, c1.unit, substance)
    if c1.value <= 0 or c2.value <= 0:
        raise MixingError("both strengths must be greater than zero")
    if c2.value > c1.value:
        raise MixingError(
            f"the target {format_amount(target)} is stronger than the stock "
            f"{format_amount(stock)}: dilution cannot make a solution stronger"
        )
    with localcontext() as ctx:
        ctx.prec = WORK_PRECISION
        v1 = c2.value * v2.value / c1.value
        diluent = v2.value - v1
    return Dilution(
        stock=stock,
        target=target,
        final_volume=final_volume,
        stock_volume=Amount(tidy(v1), "mL"),
        diluent_volume=Amount(tidy(diluent), "mL"),
    )


def c1v1(
    *,
    c1: Amount | None = None,
    v1: Amount | None = None,
    c2: Amount | None = None,
    v2: Amount | None = None,
    substance: Substance | None = None,
) -> Amount:
    """Solve C1·V1 = C2·V2 for the one argument left out (volumes in mL, C in C1's unit)."""
    if sum(value is None for value in (c1, v1, c2, v2)) != 1:
        raise MixingError("give exactly three of c1, v1, c2 and v2")
    with localcontext() as ctx:
        ctx.prec = WORK_PRECISION
        if c1 is not None and c2 is not None:
            conc1 = per_volume(c1)[0]
            conc2 = _in_unit(per_volume(c2)[0], conc1.unit, substance)
            if conc1.value <= 0 or conc2.value <= 0:
                raise MixingError("strengths must be greater than zero")
            if v2 is not None:  # v1 = c2 v2 / c1
                return Amount(tidy(conc2.value * require_volume(v2).value / conc1.value), "mL")
            if v1 is not None:  # v2 = c1 v1 / c2
                return Amount(tidy(conc1.value * require_volume(v1).value / conc2.value), "mL")
        if v1 is not None and v2 is not None:
            known_c, known_v, other_v = (c2, v2, v1) if c1 is None else (c1, v1, v2)
            if known_c is not None:
                known = per_volume(known_c)[0]
                other = require_volume(other_v).value
                if other <= 0:
                    raise MixingError("volumes must be greater than zero")
                value = known.value * require_volume(known_v).value / other
                if known.unit == "mL/mL":  # back from the internal fraction to % v/v
                    return Amount(tidy(value * _HUNDRED), "% v/v")
                return Amount(tidy(value), known.unit)
    raise MixingError("give exactly three of c1, v1, c2 and v2")  # pragma: no cover


def total_volume(per_point: Amount, points: int) -> Amount:
    """Volume per injection point × number of points, in mL."""
    if isinstance(points, bool) or not isinstance(points, int) or points < 1:
        raise MixingError("the number of points must be a whole number of at least 1")
    each = require_volume(per_point, "volume per point")
    return Amount(tidy(each.value * points), "mL")


def points_for(total: Amount, per_point: Amount) -> int:
    """How many whole points of ``per_point`` a ``total`` volume fills (rounded down)."""
    whole = require_volume(total, "total volume")
    each = require_volume(per_point, "volume per point")
    if each.value <= 0:
        raise MixingError("the volume per point must be greater than zero")
    return int(whole.value // each.value)
