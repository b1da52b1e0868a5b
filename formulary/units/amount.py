"""The stored form of every quantity in Formulary.

An :class:`Amount` is an exact decimal magnitude plus a canonical unit string. It is
what the database stores, what records carry and what exports print. It deliberately
knows nothing about Pint: building and converting quantities is the job of the rest of
``formulary.units``; this module must stay importable in microseconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Amount:
    """An exact quantity: ``value`` in ``unit``.

    ``unit`` is always one of the canonical unit strings of ``formulary.units``
    (for example ``"mg"``, ``"mcg"``, ``"mL"``, ``"mg/mL"``, ``"% w/v"``, ``"IU"``,
    ``"units"``); the parser maps every accepted alias onto them, so two equal
    amounts always compare equal.
    """

    value: Decimal
    unit: str

    def __post_init__(self) -> None:
        if not isinstance(self.value, Decimal):
            raise TypeError("Amount.value must be a Decimal, not " + type(self.value).__name__)
        if not self.value.is_finite():
            raise ValueError("Amount.value must be finite")
