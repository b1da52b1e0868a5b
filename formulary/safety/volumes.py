"""What the syringe held, and the rule that no more than that was injected.

Without a final volume the mix is not made up with a diluent: the syringe holds what
was drawn, the sum of the stock products' volumes. More than the syringe held cannot
have been injected, whatever the figures say: one of them is wrong. This is the one
place that compares the two. The session screen asks it as the zone volumes are typed
(:func:`formulary.preparation.check_zones`), the safety rules show it as the finding
``volume.over_prepared``, and the Store refuses to sign past it, whatever is
overridden.

Volumes are compared exactly in mL (volume units differ by powers of ten), so 1000 mcL
fits in 1 mL and 1001 mcL does not. Figures that cannot be compared (no prepared
volume can be worked out, or one of them is not a volume) are never refused here:
another rule reports them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, localcontext

from formulary.records import Component
from formulary.units import UnitsError, convert, format_amount
from formulary.units.amount import Amount
from formulary.units.parse import strip_decimal

#: Enough digits to multiply any stored volume by a power of ten exactly.
_PRECISION = 100


@dataclass(frozen=True, slots=True)
class Prepared:
    """The volume in the syringe, and where the figure comes from.

    ``drawn`` is True when the formulation has no final volume: the syringe holds the
    volume of the stock products drawn. It changes only how a message names it.
    """

    volume: Amount
    drawn: bool = False

    def describe(self) -> str:
        """The figure with its source, as a message names it."""
        shown = format_amount(self.volume)
        if self.drawn:
            return f"the {shown} drawn into the syringe (the formulation has no final volume)"
        return f"the {shown} prepared (the formulation's final volume)"


def prepared_from(final_volume: Amount | None, components: Iterable[Component]) -> Prepared | None:
    """The volume in the syringe: the final volume, or without one the volume drawn.

    None when it cannot be worked out: no final volume and no product drawn, or
    products drawn in amounts that are not volumes.
    """
    if final_volume is not None:
        return Prepared(final_volume)
    total = Decimal(0)
    drawn = False
    for component in components:
        if component.product_id is None:
            continue
        try:
            volume = in_ml(component.amount)
        except UnitsError:
            return None
        with localcontext() as work:
            work.prec = _PRECISION
            total += volume
        drawn = True
    if not drawn:
        return None
    return Prepared(Amount(strip_decimal(total), "mL"), drawn=True)


def in_ml(volume: Amount) -> Decimal:
    """``volume`` in mL, exactly; a :class:`~formulary.units.UnitsError` when not a volume."""
    factor = convert(Amount(Decimal(1), volume.unit), "mL").value
    with localcontext() as work:
        work.prec = _PRECISION
        return volume.value * factor


@dataclass(frozen=True, slots=True)
class OverPrepared:
    """More was given than the syringe held."""

    given: Amount
    prepared: Prepared
    excess: Amount  # in mL

    def message(self) -> str:
        """One line: both figures, and what to correct."""
        return (
            f"the total volume injected ({format_amount(self.given)}) is "
            f"{format_amount(self.excess)} more than {self.prepared.describe()}, and more "
            "than the syringe held cannot have been injected; correct the total volume and "
            "the zone volumes (or, if more was prepared, the formulation)"
        )


def over_prepared(given: Amount, prepared: Prepared | None) -> OverPrepared | None:
    """Why ``given`` cannot have been injected from ``prepared``, or None when it can.

    Exactly the prepared volume passes; less passes too (the rest was discarded).
    None as well when the two cannot be compared: no prepared volume, or a figure that
    is not a volume.
    """
    if prepared is None:
        return None
    try:
        given_ml = in_ml(given)
        prepared_ml = in_ml(prepared.volume)
    except UnitsError:
        return None
    if given_ml <= prepared_ml:
        return None
    with localcontext() as work:
        work.prec = _PRECISION
        excess = given_ml - prepared_ml
    return OverPrepared(given, prepared, Amount(strip_decimal(excess), "mL"))
