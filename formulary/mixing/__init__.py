"""Mixing math: pure functions on amounts.

amount_in(concentration, volume, substance=None, *, unit=None, form=None, to_form=None)
volume_for(amount, concentration, substance=None, *, form=None, to_form=None) -> mL
dilute(stock, target, final_volume, substance=None) -> Dilution
c1v1(*, c1=None, v1=None, c2=None, v2=None, substance=None)  # solve the missing one
total_volume(per_point, points) -> mL;  points_for(total, per_point) -> int
mix(components, final_volume, substances=None) -> Mix
"""

from formulary.mixing.dosing import (
    Dilution,
    amount_in,
    c1v1,
    dilute,
    per_volume,
    points_for,
    total_volume,
    volume_for,
)
from formulary.mixing.errors import MixingError
from formulary.mixing.mix import Addition, Draw, Mix, MixLine, Strength, mix

__all__ = [
    "Addition",
    "Dilution",
    "Draw",
    "Mix",
    "MixLine",
    "MixingError",
    "Strength",
    "amount_in",
    "c1v1",
    "dilute",
    "mix",
    "per_volume",
    "points_for",
    "total_volume",
    "volume_for",
]
