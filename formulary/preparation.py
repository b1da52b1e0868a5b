"""What the treatment room checks while preparing a session.

Pure rules the session and formulation screens ask: which lots may be drawn on a day,
which one to propose, whether the volumes given per scalp zone add up to what was
prepared, and what a formulation comes to before it has a final volume.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from formulary.mixing import Addition, Draw, Mix, MixingError, Strength, mix
from formulary.records import Component, Lot, LotStatus, Product, ScalpZone
from formulary.units import UnitsError, convert, format_amount
from formulary.units.amount import Amount
from formulary.units.catalog import BY_CANONICAL, VOLUME
from formulary.units.substance import Substance


def lot_refusal(lot: Lot, on: date) -> str | None:
    """Why ``lot`` may not be drawn on ``on`` (None when it may)."""
    if lot.status is LotStatus.RECALLED:
        return f"lot {lot.lot_number} is recalled: never draw from it"
    if lot.status is LotStatus.QUARANTINED:
        return f"lot {lot.lot_number} is quarantined: choose another lot"
    if lot.expiry < on:
        return f"lot {lot.lot_number} expired on {lot.expiry.isoformat()}: choose another lot"
    if lot.quantity_on_hand.value <= 0:
        return f"lot {lot.lot_number} is empty: choose another lot"
    return None


def propose_lot(lots: Iterable[Lot], on: date) -> Lot | None:
    """The lot to draw from: the first to expire among those that may be drawn."""
    usable = [lot for lot in lots if lot_refusal(lot, on) is None]
    return min(usable, key=lambda lot: (lot.expiry, lot.id), default=None)


def total_volume(volumes: Iterable[Amount]) -> Amount:
    """The sum of volumes, in mL (a non-volume raises the units engine's error)."""
    total = Decimal(0)
    for volume in volumes:
        if BY_CANONICAL[volume.unit].kind != VOLUME:
            raise ValueError(f"{format_amount(volume)} is not a volume: write it in mL")
        total += convert(volume, "mL").value
    return Amount(total.normalize() if total else Decimal(0), "mL")


@dataclass(frozen=True, slots=True)
class ZoneCheck:
    """The zone volumes against the prepared volume."""

    total: Amount
    ok: bool  # the total may be signed (not more than prepared, at least one zone)
    message: str


def check_zones(zones: Mapping[ScalpZone, Amount], prepared: Amount | None) -> ZoneCheck:
    """Add up the zone volumes and compare them with the prepared volume.

    More than was prepared cannot have been injected: refused. Less is allowed (the
    rest was discarded) but said plainly.
    """
    total = total_volume(zones.values())
    shown = format_amount(total)
    if not zones:
        return ZoneCheck(total, False, "Enter the volume given in at least one zone.")
    if prepared is None:
        return ZoneCheck(total, True, f"Total {shown} (no prepared volume to compare with).")
    prepared_ml = convert(prepared, "mL")
    if total.value > prepared_ml.value:
        excess = Amount(total.value - prepared_ml.value, "mL")
        return ZoneCheck(
            total,
            False,
            f"Total {shown} is {format_amount(excess)} MORE than the {format_amount(prepared)} "
            "prepared: correct the zone volumes.",
        )
    if total.value < prepared_ml.value:
        left = Amount(prepared_ml.value - total.value, "mL")
        return ZoneCheck(
            total,
            True,
            f"Total {shown} of {format_amount(prepared)} prepared: {format_amount(left)} "
            "not injected (record why in the notes).",
        )
    return ZoneCheck(total, True, f"Total {shown} = the {format_amount(prepared)} prepared.")


@dataclass(frozen=True, slots=True)
class MixPreview:
    """A formulation worked out as typed: the mix, or what stops it, per component."""

    mix: Mix | None
    final_volume: Amount | None
    problems: dict[int, str]  # component position -> message
    general: str = ""  # a problem of the whole (e.g. nothing to mix)


def _part(component: Component, products: Mapping[int, Product]) -> Draw | Addition:
    if component.product_id is not None:
        product = products.get(component.product_id)
        if product is None:
            raise ValueError(f"product {component.product_id} is not in the formulary")
        return Draw(
            volume=component.amount,
            strengths=tuple(Strength(s.ingredient_id, s.strength) for s in product.ingredients),
            label=component.name,
        )
    if component.ingredient_id is None:
        raise ValueError(f"{component.name} is neither a stock product nor an ingredient")
    return Addition(component.ingredient_id, component.amount, label=component.name)


def preview_mix(
    components: Sequence[Component],
    products: Mapping[int, Product],
    final_volume: Amount | None,
    substances: Mapping[Hashable, Substance] | None = None,
) -> MixPreview:
    """Work out each ingredient's amount per session and final concentration.

    Without a final volume the mix is made up to the volume drawn (no diluent). A
    problem is reported beside the component that causes it, never raised.
    """
    if not components:
        return MixPreview(None, final_volume, {}, "Add a component to see the mix.")
    problems: dict[int, str] = {}
    parts: list[Draw | Addition] = []
    for component in components:
        try:
            parts.append(_part(component, products))
        except ValueError as exc:
            problems[component.position] = str(exc)
    if problems:
        return MixPreview(None, final_volume, problems)
    final = final_volume
    if final is None:
        drawn = [p.volume for p in parts if isinstance(p, Draw)]
        if not drawn:
            return MixPreview(None, None, {}, "Give the final volume the mix is made up to.")
        try:
            final = total_volume(drawn)
        except (ValueError, UnitsError) as exc:
            return MixPreview(None, None, {}, str(exc))
    try:
        return MixPreview(mix(parts, final, substances), final, {})
    except (MixingError, UnitsError) as whole:
        # Find the component that cannot be mixed by trying each one alone.
        for component, part in zip(components, parts, strict=True):
            try:
                mix([part], final if isinstance(part, Addition) else part.volume, substances)
            except (MixingError, UnitsError) as exc:
                problems[component.position] = str(exc)
        return MixPreview(None, final, problems, "" if problems else str(whole))
