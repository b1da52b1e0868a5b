"""Rule 5: the session's place in its course, and its volumes.

A session closer to another session of the course than the course's interval, dated
before the course starts, or beyond the planned number of sessions warns. The
volumes recorded per scalp zone must add up exactly to the total volume given, and
the volume given cannot exceed what the syringe held (the final volume, or without
one the volume drawn: :mod:`formulary.safety.volumes`): both block, because one of
the figures on the chart is wrong, and the Store signs past neither.
"""

from __future__ import annotations

from decimal import Decimal, localcontext

from formulary.safety.context import SafetyContext
from formulary.safety.findings import Finding, Severity
from formulary.safety.volumes import over_prepared, prepared_from
from formulary.units import convert, format_amount
from formulary.units.amount import Amount
from formulary.units.errors import UnitsError

RULE_INTERVAL = "schedule.interval"
RULE_BEFORE_START = "schedule.before_course_start"
RULE_OVER_PLAN = "schedule.over_planned_count"
RULE_ZONES = "volume.zones_mismatch"
RULE_ZONE_UNIT = "volume.zone_uncountable"
RULE_OVER_PREPARED = "volume.over_prepared"


def check_schedule(ctx: SafetyContext) -> list[Finding]:
    """Interval, course start and planned count of a session within its course."""
    course = ctx.course
    when = ctx.session_date
    if course is None or when is None:
        return []
    findings: list[Finding] = []
    if when < course.start_date:
        findings.append(
            Finding(
                rule=RULE_BEFORE_START,
                severity=Severity.WARNING,
                message=(
                    f"the session date {when.isoformat()} is before the course "
                    f"'{course.name}' starts on {course.start_date.isoformat()}"
                ),
                remedy="Check the session date, or move the course start.",
                field="performed_at",
                subject=str(course.id),
            )
        )
    earlier = sorted(p.performed_on for p in ctx.previous_sessions)
    if earlier and course.interval_days > 0:
        nearest = min(earlier, key=lambda d: (abs((when - d).days), d))
        gap = abs((when - nearest).days)
        if gap < course.interval_days:
            when_text = (
                f"a second session on {nearest.isoformat()}, the day of another session"
                if gap == 0
                else f"only {gap} day{'s' if gap != 1 else ''} from the session of "
                f"{nearest.isoformat()}"
            )
            findings.append(
                Finding(
                    rule=RULE_INTERVAL,
                    severity=Severity.WARNING,
                    message=(
                        f"{when_text}; the course '{course.name}' plans at least "
                        f"{course.interval_days} days between sessions"
                    ),
                    remedy="Reschedule the session, or write why it is given early.",
                    field="performed_at",
                    subject=str(course.id),
                    needs_reason=True,
                )
            )
    number = len(ctx.previous_sessions) + 1
    if number > course.planned_sessions:
        findings.append(
            Finding(
                rule=RULE_OVER_PLAN,
                severity=Severity.WARNING,
                message=(
                    f"this would be session {number} of a course planned for "
                    f"{course.planned_sessions}"
                ),
                remedy="Extend the course plan, or start a new course.",
                field="performed_at",
                subject=str(course.id),
            )
        )
    return findings


def check_volumes(ctx: SafetyContext) -> list[Finding]:
    """The zone volumes add up to the total given, which fits in the prepared volume."""
    findings: list[Finding] = []
    total = ctx.total_volume
    if total is None:
        return findings
    if ctx.zones:
        summed = Decimal(0)
        countable = True
        with localcontext() as work:
            work.prec = 60
            for zone in sorted(ctx.zones, key=lambda z: z.zone.value):
                try:
                    summed += convert(zone.volume, total.unit).value
                except UnitsError as error:
                    countable = False
                    findings.append(
                        Finding(
                            rule=RULE_ZONE_UNIT,
                            severity=Severity.BLOCK,
                            message=(
                                f"the volume for {zone.zone.value.replace('_', ' ')} "
                                f"({format_amount(zone.volume)}) is not a volume: {error}"
                            ),
                            remedy="Enter each zone's volume in mL.",
                            field="zones",
                            subject=zone.zone.value,
                        )
                    )
        if countable and summed != total.value:
            shown = format_amount(Amount(summed, total.unit), significant=6)
            findings.append(
                Finding(
                    rule=RULE_ZONES,
                    severity=Severity.BLOCK,
                    message=(
                        f"the zone volumes add up to {shown} but the total given is "
                        f"{format_amount(total)}"
                    ),
                    remedy="Correct the zone volumes or the total so that they agree.",
                    field="zones",
                )
            )
    # Without a final volume the syringe held what was drawn. Figures that cannot be
    # compared are reported by the limits rule, which needs the same share.
    over = over_prepared(total, prepared_from(ctx.final_volume, ctx.components))
    if over is not None:
        findings.append(
            Finding(
                rule=RULE_OVER_PREPARED,
                severity=Severity.BLOCK,
                message=(
                    f"the total volume injected ({format_amount(total)}) is more than "
                    f"{over.prepared.describe()}"
                ),
                remedy=(
                    "Correct the total volume and the zone volumes (or, if more was "
                    "prepared, the formulation): no override signs past this."
                ),
                field="total_volume",
            )
        )
    return findings
