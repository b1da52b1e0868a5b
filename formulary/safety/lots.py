"""Rule 4: the lots a session draws from.

The expiry date printed on a lot is its last usable day: a lot is expired on the
session date when that date is after its expiry. Expired, quarantined and recalled
lots block; a lot that expires before the course's planned last session warns (the
next sessions will need another lot). What the session draws from a lot, summed over
every component drawing from it, must not exceed the quantity on hand. Any
component with no lot recorded (a product whose lot was not chosen, or an ingredient
added by amount, which has no lot of its own) is a warning to acknowledge, and a lot
of another product blocks: without the right lot a recall cannot find the patient.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal, localcontext

from formulary.records import LotStatus
from formulary.safety.context import LotDraw, SafetyContext
from formulary.safety.findings import Finding, Severity
from formulary.units import convert, format_amount
from formulary.units.amount import Amount
from formulary.units.errors import UnitsError

RULE_EXPIRED = "lot.expired"
RULE_QUARANTINED = "lot.quarantined"
RULE_RECALLED = "lot.recalled"
RULE_EXPIRES_IN_COURSE = "lot.expires_during_course"
RULE_STOCK = "lot.stock_short"
RULE_UNCOUNTABLE = "lot.draw_uncountable"
RULE_MISSING = "lot.missing"
RULE_WRONG_PRODUCT = "lot.wrong_product"

#: How a component without a lot reads, wherever it is shown.
NO_LOT = "no lot recorded: traceability lost"


def planned_end(ctx: SafetyContext) -> date | None:
    """The date of the course's last planned session, projected from this session.

    The remaining sessions follow this one at the course interval, so a course that
    runs late ends late. None without a course or a session date.
    """
    course = ctx.course
    if course is None or ctx.session_date is None:
        return None
    done = len(ctx.previous_sessions) + 1  # this session included
    remaining = max(course.planned_sessions - done, 0)
    planned_gaps = max(course.planned_sessions - 1, 0)
    scheduled = course.start_date + timedelta(days=course.interval_days * planned_gaps)
    projected = ctx.session_date + timedelta(days=course.interval_days * remaining)
    return max(scheduled, projected)


def _lot_label(draw: LotDraw) -> str:
    return f"lot {draw.lot.lot_number}"


def _status_findings(ctx: SafetyContext, draw: LotDraw) -> list[Finding]:
    lot = draw.lot
    found: list[Finding] = []
    if lot.status is LotStatus.RECALLED:
        found.append(
            Finding(
                rule=RULE_RECALLED,
                severity=Severity.BLOCK,
                message=f"{_lot_label(draw)} has been recalled and cannot be used",
                remedy="Choose another lot and set the recalled one aside for return.",
                component_id=draw.component_id,
                field="lots",
                subject=lot.lot_number,
            )
        )
    elif lot.status is LotStatus.QUARANTINED:
        found.append(
            Finding(
                rule=RULE_QUARANTINED,
                severity=Severity.BLOCK,
                message=f"{_lot_label(draw)} is quarantined and cannot be used",
                remedy="Choose another lot, or release this one from quarantine first.",
                component_id=draw.component_id,
                field="lots",
                subject=lot.lot_number,
            )
        )
    if ctx.session_date is None:
        return found
    if ctx.session_date > lot.expiry:
        found.append(
            Finding(
                rule=RULE_EXPIRED,
                severity=Severity.BLOCK,
                message=(
                    f"{_lot_label(draw)} expired on {lot.expiry.isoformat()}, before the "
                    f"session date {ctx.session_date.isoformat()}"
                ),
                remedy="Choose a lot that is in date and discard the expired one.",
                component_id=draw.component_id,
                field="lots",
                subject=lot.lot_number,
            )
        )
        return found
    end = planned_end(ctx)
    if end is not None and lot.expiry < end:
        found.append(
            Finding(
                rule=RULE_EXPIRES_IN_COURSE,
                severity=Severity.WARNING,
                message=(
                    f"{_lot_label(draw)} expires on {lot.expiry.isoformat()}, before the "
                    f"course's last planned session on {end.isoformat()}"
                ),
                remedy="Plan another lot for the later sessions of the course.",
                component_id=draw.component_id,
                field="lots",
                subject=lot.lot_number,
            )
        )
    return found


def _stock_findings(draws: list[LotDraw]) -> list[Finding]:
    """Sum the draws on one lot and compare them with what is on hand."""
    draws = sorted(draws, key=lambda d: d.component_id)
    lot = draws[0].lot
    on_hand = lot.quantity_on_hand
    components = sorted({d.component_id for d in draws})
    found: list[Finding] = []
    total = Decimal(0)
    with localcontext() as work:
        work.prec = 60
        for draw in draws:
            if draw.drawn is None:
                continue
            try:
                total += convert(draw.drawn, on_hand.unit).value
            except UnitsError as error:
                found.append(
                    Finding(
                        rule=RULE_UNCOUNTABLE,
                        severity=Severity.BLOCK,
                        message=(
                            f"{format_amount(draw.drawn)} drawn from lot {lot.lot_number} cannot "
                            f"be compared with its stock of {format_amount(on_hand)}: {error}"
                        ),
                        remedy=f"Enter the amount drawn in the lot's unit ({on_hand.unit}).",
                        component_id=draw.component_id,
                        field="lots",
                        subject=lot.lot_number,
                    )
                )
    if total > on_hand.value:
        drawn = format_amount(Amount(total, on_hand.unit), significant=6)
        found.append(
            Finding(
                rule=RULE_STOCK,
                severity=Severity.BLOCK,
                message=(
                    f"the session draws {drawn} from lot {lot.lot_number} but only "
                    f"{format_amount(on_hand)} is on hand"
                ),
                remedy="Choose another lot for part of the draw, or correct the stock count.",
                component_id=components[0],
                field="lots",
                subject=lot.lot_number,
            )
        )
    return found


def check_lots(ctx: SafetyContext) -> list[Finding]:
    """Findings for every lot drawn in the session and every component left without one."""
    findings: list[Finding] = []
    components = {c.id: c for c in ctx.components}
    by_lot: dict[int, list[LotDraw]] = defaultdict(list)
    for draw in ctx.lots:
        by_lot[draw.lot.id].append(draw)
        findings.extend(_status_findings(ctx, draw))
        component = components.get(draw.component_id)
        if (
            component is not None
            and component.product_id is not None
            and component.product_id != draw.lot.product_id
        ):
            findings.append(
                Finding(
                    rule=RULE_WRONG_PRODUCT,
                    severity=Severity.BLOCK,
                    message=(
                        f"{_lot_label(draw)} is a lot of another product than {component.name}"
                    ),
                    remedy=f"Choose a lot of {component.name}.",
                    component_id=draw.component_id,
                    field="lots",
                    subject=draw.lot.lot_number,
                )
            )
    for draws in by_lot.values():
        findings.extend(_stock_findings(draws))
    drawn_for = {d.component_id for d in ctx.lots}
    for component in ctx.components:
        if component.id not in drawn_for:
            remedy = (
                "Record the lot the product was drawn from, so a recall can be traced."
                if component.product_id is not None
                else "Acknowledge to sign without a lot; to trace it next time, keep the "
                "ingredient as a product with lots in the formulary."
            )
            findings.append(
                Finding(
                    rule=RULE_MISSING,
                    severity=Severity.WARNING,
                    message=missing_lot_message(component.name),
                    remedy=remedy,
                    component_id=component.id,
                    field="lots",
                    subject=str(component.id),
                )
            )
    return findings


def missing_lot_message(component_name: str) -> str:
    """The warning of a component signed without a lot (and how its record reads)."""
    return f"{component_name}: {NO_LOT}"
