"""What the treatment room checks while preparing a session.

Pure rules the session and formulation screens ask: which lots may be drawn on a day,
which one to propose, whether the volumes given per scalp zone add up to what was
prepared, and what a formulation comes to before it has a final volume.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from formulary.records import Lot, LotStatus, ScalpZone
from formulary.units import convert, format_amount
from formulary.units.amount import Amount
from formulary.units.catalog import BY_CANONICAL, VOLUME


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
