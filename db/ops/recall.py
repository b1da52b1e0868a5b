"""Lot recalls: every patient and signed session that received a lot, in any mix.

A session records, for each component of the cocktail it gave, the lot it was drawn
from (``session_lot``), whether the product was given alone or mixed with others, and
whether it is a single-ingredient ampoule or a multi-ingredient vial. The Store's
:meth:`~db.store.Store.recall` finds those rows; this module groups them by patient
for the recall letter and says plainly when a lot number is unknown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from db.audit.canonical import format_decimal, format_utc
from db.errors import NotFound
from db.store import Actor, RecallHit, Store
from formulary.units.amount import Amount


@dataclass(frozen=True, slots=True)
class RecalledLot:
    """A lot carrying the recalled number (the same number may exist for two products)."""

    lot_id: int
    product_name: str
    expiry: date
    status: str


@dataclass(frozen=True, slots=True)
class RecalledSession:
    """One signed session that drew from the lot."""

    session_id: int
    performed_at: datetime
    lot_id: int
    product_name: str
    drawn: Amount | None
    zones: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RecalledPatient:
    """A patient who received the lot, with the sessions in which they did."""

    patient_id: int
    chart_number: str
    name: str
    sessions: tuple[RecalledSession, ...]


@dataclass(frozen=True, slots=True)
class RecallReport:
    """Everything a recall needs: the lots, the patients and their sessions."""

    lot_number: str
    lots: tuple[RecalledLot, ...]
    patients: tuple[RecalledPatient, ...]

    @property
    def session_count(self) -> int:
        """Signed sessions that drew from the lot."""
        return sum(len(p.sessions) for p in self.patients)

    def to_json(self) -> dict[str, Any]:
        """Plain JSON (quantities as ``{"value": "<decimal>", "unit": ...}``)."""
        return {
            "lot_number": self.lot_number,
            "lots": [
                {
                    "lot_id": lot.lot_id,
                    "product": lot.product_name,
                    "expiry": lot.expiry.isoformat(),
                    "status": lot.status,
                }
                for lot in self.lots
            ],
            "patient_count": len(self.patients),
            "session_count": self.session_count,
            "patients": [
                {
                    "patient_id": p.patient_id,
                    "chart_number": p.chart_number,
                    "name": p.name,
                    "sessions": [
                        {
                            "session_id": s.session_id,
                            "performed_at": format_utc(s.performed_at),
                            "lot_id": s.lot_id,
                            "product": s.product_name,
                            "drawn": None
                            if s.drawn is None
                            else {"value": format_decimal(s.drawn.value), "unit": s.drawn.unit},
                            "zones": list(s.zones),
                        }
                        for s in p.sessions
                    ],
                }
                for p in self.patients
            ],
        }


def recall_lot(store: Store, actor: Actor, lot_number: str) -> RecallReport:
    """Who received lot ``lot_number``; :class:`NotFound` when no lot has that number."""
    number = lot_number.strip()
    if not number:
        raise NotFound("the lot number is empty; type it as printed on the recall notice")
    lots = [lot for lot in store.list_lots(actor, include_empty=True) if lot.lot_number == number]
    if not lots:
        near = sorted(
            {
                lot.lot_number
                for lot in store.list_lots(actor, include_empty=True)
                if lot.lot_number.casefold() == number.casefold()
            }
        )
        hint = f" (did you mean {', '.join(near)}?)" if near else ""
        raise NotFound(
            f"no lot numbered {number!r} was ever received{hint}; "
            "check the number on the recall notice"
        )
    products = {p.id: p.name for p in store.list_products(actor)}
    for lot in lots:
        if lot.product_id not in products:  # a retired product: still named on the recall
            products[lot.product_id] = store.get_product(actor, lot.product_id).name
    recalled = tuple(
        RecalledLot(lot.id, products[lot.product_id], lot.expiry, lot.status.value)
        for lot in lots
    )
    return RecallReport(number, recalled, _by_patient(store.recall(actor, number)))


def _by_patient(hits: list[RecallHit]) -> tuple[RecalledPatient, ...]:
    grouped: dict[int, list[RecallHit]] = {}
    for hit in hits:
        grouped.setdefault(hit.patient_id, []).append(hit)
    patients = []
    for patient_id, own in grouped.items():
        first = own[0]
        patients.append(
            RecalledPatient(
                patient_id=patient_id,
                chart_number=first.chart_number,
                name=first.patient_name,
                sessions=tuple(
                    RecalledSession(
                        session_id=h.session_id,
                        performed_at=h.performed_at,
                        lot_id=h.lot_id,
                        product_name=h.product_name,
                        drawn=h.drawn,
                        zones=tuple(z.value for z in h.zones),
                    )
                    for h in sorted(own, key=lambda h: (h.performed_at, h.session_id))
                ),
            )
        )
    return tuple(sorted(patients, key=lambda p: p.chart_number))
