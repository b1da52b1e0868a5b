"""Rule 1: per-session and per-course limits, summed in the ingredient's own basis.

Every contribution that carries a limit's subject is expressed in the limit's unit
and basis (the element, the base, the IU of the stated form) and summed over every
component: two products that both carry biotin, zinc from two different salts. The
amounts in a prepared mix are scaled by the share of it that is given
(``total_volume / final_volume``) when both volumes are known.

A per-wheal limit counts the amount in one injection point of each zone: the mix's
amount of the ingredient x (the zone's volume per point / the mix's final volume).

Exactly at the limit passes; anything above it blocks. A contribution that cannot be
expressed in the limit's basis (no molar mass, no form for an IU) blocks too: an
amount that cannot be counted is never silently left out of the sum.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal, localcontext

from formulary.records import ZoneVolume
from formulary.safety.context import Contribution, Limit, LimitPer, SafetyContext
from formulary.safety.express import carries_basis, express
from formulary.safety.findings import Finding, Severity
from formulary.units import convert, format_amount
from formulary.units.amount import Amount
from formulary.units.errors import UnitsError
from formulary.units.substance import Substance

RULE_SESSION = "limit.session"
RULE_PER_KG = "limit.per_kg"
RULE_COURSE = "limit.course"
RULE_COURSE_PROJECTED = "limit.course_projected"
RULE_UNCOUNTABLE = "limit.uncountable"
RULE_WEIGHT = "limit.weight_missing"
RULE_SHARE = "limit.share_unknown"
RULE_WHEAL = "limit.wheal"
RULE_WHEAL_UNCHECKED = "limit.wheal_unchecked"

_PRECISION = 60
_SHOWN = 6  # significant figures in messages


def merge_limits(defaults: Iterable[Limit], clinic: Iterable[Limit]) -> tuple[Limit, ...]:
    """The limits in force: where the clinic and the library count the same thing, the
    stricter figure applies.

    A clinic limit meets a default with the same subject, counting (per) and basis.
    When the two amounts can be compared (same unit, or convertible with the limit's
    substance) only the smaller is kept, so a clinic figure can tighten a published
    maximum but never loosen it. Figures that cannot be compared are both kept: each
    is checked, and the stricter one decides. Defaults the clinic did not touch stay,
    each with its own source.
    """
    kept = list(defaults)
    added: list[Limit] = []
    for limit in clinic:
        rivals = [d for d in kept if d.identity == limit.identity]
        comparable = [(d, _smaller(limit, d)) for d in rivals]
        if rivals and all(answer is not None for _, answer in comparable):
            if all(answer for _, answer in comparable):
                kept = [d for d in kept if d not in rivals]
                added.append(limit)
            continue  # a published figure is stricter: it stays, the clinic's is moot
        added.append(limit)
    return (*kept, *added)


def _smaller(limit: Limit, other: Limit) -> bool | None:
    """True when ``limit`` is below ``other``, False when not, None when not comparable."""
    if limit.amount.unit == other.amount.unit:
        return limit.amount.value < other.amount.value
    try:
        converted = convert(limit.amount, other.amount.unit, limit.target or other.target)
    except UnitsError:
        return None
    return converted.value < other.amount.value


@dataclass(frozen=True, slots=True)
class _Counted:
    component_id: int
    amount: Decimal


def _show(value: Decimal, unit: str) -> str:
    return format_amount(Amount(value, unit), significant=_SHOWN)


def _cited(limit: Limit) -> str:
    """Where a limit comes from, with its note (``"label: without adrenaline"``)."""
    return f"{limit.source}: {limit.note}" if limit.note else limit.source


def _ingredient_name(ctx: SafetyContext, key: str) -> str:
    facts = ctx.ingredient(key)
    return key if facts is None else facts.name


def _substance(ctx: SafetyContext, contribution: Contribution) -> Substance | None:
    if contribution.substance is not None:
        return contribution.substance
    facts = ctx.ingredient(contribution.ingredient_key)
    return None if facts is None else facts.substance


def _applies(ctx: SafetyContext, limit: Limit, contribution: Contribution) -> bool:
    if contribution.ingredient_key.casefold() == limit.subject.casefold():
        return True
    return carries_basis(_substance(ctx, contribution), limit.subject)


def _subject_label(ctx: SafetyContext, limit: Limit) -> str:
    facts = ctx.ingredient(limit.subject)
    name = facts.name if facts is not None else limit.subject
    return f"{name} ({limit.basis})" if limit.basis else name


def _target(ctx: SafetyContext, limit: Limit) -> Substance | None:
    if limit.target is not None:
        return limit.target
    facts = ctx.ingredient(limit.subject)
    return None if facts is None else facts.substance


def _to_form(ctx: SafetyContext, limit: Limit) -> str:
    """The form a limit counts in: its basis, else the ingredient's default form, else
    the basis its subject names (a limit on "zinc" counts zinc)."""
    if limit.basis:
        return limit.basis
    if ctx.ingredient(limit.subject) is None:
        return limit.subject
    target = _target(ctx, limit)
    return "" if target is None else target.form


def _count(
    ctx: SafetyContext,
    limit: Limit,
    contributions: Sequence[Contribution],
    rule_context: str,
) -> tuple[list[_Counted], list[Finding]]:
    """Each matching contribution in the limit's unit and basis, and what could not be."""
    counted: list[_Counted] = []
    problems: list[Finding] = []
    to_form = _to_form(ctx, limit)
    for contribution in contributions:
        if not _applies(ctx, limit, contribution):
            continue
        try:
            amount = express(
                contribution.amount,
                limit.amount.unit,
                _substance(ctx, contribution),
                form=contribution.form,
                to_form=to_form,
                target=_target(ctx, limit),
            )
        except UnitsError as error:
            problems.append(
                Finding(
                    rule=RULE_UNCOUNTABLE,
                    severity=Severity.BLOCK,
                    message=(
                        f"{format_amount(contribution.amount)} of "
                        f"{_ingredient_name(ctx, contribution.ingredient_key)} "
                        f"cannot be counted against the {rule_context} limit on "
                        f"{_subject_label(ctx, limit)}: {error}"
                    ),
                    remedy=(
                        "State the amount in a unit and form the library can convert "
                        "(name the salt, ester or IU form on the product), or record the "
                        "missing fact."
                    ),
                    component_id=contribution.component_id,
                    subject=f"{limit.subject}:{contribution.ingredient_key}:{rule_context}",
                    source=limit.source,
                )
            )
            continue
        counted.append(_Counted(contribution.component_id, amount.value))
    return counted, problems


def _sum(counted: Iterable[_Counted]) -> Decimal:
    with localcontext() as work:
        work.prec = _PRECISION
        # Sorted so the exact sum never depends on the order components arrived in.
        return sum(sorted(c.amount for c in counted), Decimal(0))


def _locate(counted: Sequence[_Counted]) -> int | None:
    """The component that contributes most (lowest id on a tie): where the fix is likely."""
    by_component: dict[int, Decimal] = {}
    with localcontext() as work:
        work.prec = _PRECISION
        for c in counted:
            by_component[c.component_id] = by_component.get(c.component_id, Decimal(0)) + c.amount
    if not by_component:
        return None
    return min(by_component, key=lambda cid: (-by_component[cid], cid))


def _breakdown(counted: Sequence[_Counted], unit: str) -> str:
    components = sorted({c.component_id for c in counted})
    if len(components) < 2:
        return ""
    parts = []
    for cid in components:
        part = _sum(c for c in counted if c.component_id == cid)
        parts.append(f"component {cid}: {_show(part, unit)}")
    return " (" + ", ".join(parts) + ")"


def administered_share(ctx: SafetyContext) -> tuple[Decimal, Finding | None]:
    """The share of the prepared mix that is given in this session (1 when unknown).

    A formulation check (no total volume) assumes the whole mix is given.
    """
    if ctx.total_volume is None or ctx.final_volume is None:
        return Decimal(1), None
    try:
        given = convert(ctx.total_volume, ctx.final_volume.unit)
    except UnitsError as error:
        return Decimal(1), Finding(
            rule=RULE_SHARE,
            severity=Severity.BLOCK,
            message=f"the volume given cannot be compared with the prepared volume: {error}",
            remedy="Enter the total volume given as a volume, such as 2 mL.",
            field="total_volume",
        )
    if ctx.final_volume.value <= 0:
        return Decimal(1), None
    with localcontext() as work:
        work.prec = _PRECISION
        return given.value / ctx.final_volume.value, None


def _scaled(counted: list[_Counted], share: Decimal) -> list[_Counted]:
    with localcontext() as work:
        work.prec = _PRECISION
        return [_Counted(c.component_id, c.amount * share) for c in counted]


def _weight_kg(ctx: SafetyContext) -> Decimal | None:
    weight = ctx.patient.weight_kg
    if weight is None:
        return None
    try:
        return convert(weight, "kg").value
    except UnitsError:
        return None


def _session_maximum(
    ctx: SafetyContext, limit: Limit, counted: list[_Counted]
) -> tuple[Decimal | None, Finding | None]:
    if limit.per is LimitPer.SESSION:
        return limit.amount.value, None
    weight = _weight_kg(ctx)
    if weight is None or weight <= 0:
        return None, Finding(
            rule=RULE_WEIGHT,
            severity=Severity.BLOCK,
            message=(
                f"the limit on {_subject_label(ctx, limit)} is "
                f"{format_amount(limit.amount)} per kg and no body weight is recorded"
            ),
            remedy=(
                "Record the patient's weight on the chart (Edit patient: kg or lb, with "
                "the date weighed), then check again."
            ),
            component_id=_locate(counted),
            field="patient.weight",
            subject=f"{limit.subject}:{limit.basis}",
            source=limit.source,
        )
    with localcontext() as work:
        work.prec = _PRECISION
        return limit.amount.value * weight, None


def _over_session(ctx: SafetyContext, limit: Limit, share: Decimal) -> list[Finding]:
    counted, problems = _count(ctx, limit, ctx.contributions, "per-session")
    if not counted:
        return problems
    counted = _scaled(counted, share)
    maximum, missing = _session_maximum(ctx, limit, counted)
    if missing is not None:
        return [*problems, missing]
    assert maximum is not None
    total = _sum(counted)
    if total <= maximum:
        return problems
    unit = limit.amount.unit
    per_kg = ""
    rule = RULE_SESSION
    if limit.per is LimitPer.KG:
        rule = RULE_PER_KG
        per_kg = f" ({format_amount(limit.amount)}/kg x recorded weight)"
    problems.append(
        Finding(
            rule=rule,
            severity=Severity.BLOCK,
            message=(
                f"{_show(total, unit)} of {_subject_label(ctx, limit)} in this session is over "
                f"the limit of {_show(maximum, unit)}{per_kg}"
                f"{_breakdown(counted, unit)} [{_cited(limit)}]"
            ),
            remedy=(
                f"Reduce the amount of {_subject_label(ctx, limit)} to at most "
                f"{_show(maximum, unit)}, or give a smaller volume."
            ),
            component_id=_locate(counted),
            subject=f"{limit.subject}:{limit.basis}:{limit.amount.value}",
            source=limit.source,
        )
    )
    return problems


def _previous(ctx: SafetyContext, limit: Limit) -> tuple[Decimal, list[Finding]]:
    doses = tuple(d for session in ctx.previous_sessions for d in session.doses)
    counted, problems = _count(ctx, limit, doses, "per-course (earlier sessions)")
    # Earlier sessions' amounts have no place in this mix: locate them on the course.
    relocated = [
        Finding(
            rule=p.rule,
            severity=p.severity,
            message=p.message,
            remedy="Correct the earlier session's record so its amounts can be counted.",
            field="course",
            subject=p.subject,
            source=p.source,
        )
        for p in problems
    ]
    return _sum(counted), relocated


def _over_course(
    ctx: SafetyContext, limit: Limit, share: Decimal, *, projected: bool
) -> list[Finding]:
    counted, problems = _count(ctx, limit, ctx.contributions, "per-course")
    if not counted:
        return problems
    counted = _scaled(counted, share)
    before, earlier_problems = _previous(ctx, limit)
    problems.extend(earlier_problems)
    this_session = _sum(counted)
    unit = limit.amount.unit
    maximum = limit.amount.value
    with localcontext() as work:
        work.prec = _PRECISION
        if projected:
            sessions_left = 1
            if ctx.course is not None:
                sessions_left = max(ctx.course.planned_sessions - len(ctx.previous_sessions), 1)
            total = before + this_session * sessions_left
        else:
            total = before + this_session
    if total <= maximum:
        return problems
    if projected:
        problems.append(
            Finding(
                rule=RULE_COURSE_PROJECTED,
                severity=Severity.WARNING,
                message=(
                    f"at {_show(this_session, unit)} of {_subject_label(ctx, limit)} a session, "
                    f"the planned course would reach {_show(total, unit)}, over its limit of "
                    f"{_show(maximum, unit)} [{_cited(limit)}]"
                ),
                remedy="Lower the amount per session or plan fewer sessions.",
                component_id=_locate(counted),
                subject=f"{limit.subject}:{limit.basis}:{maximum}",
                source=limit.source,
            )
        )
    else:
        problems.append(
            Finding(
                rule=RULE_COURSE,
                severity=Severity.BLOCK,
                message=(
                    f"{_show(this_session, unit)} of {_subject_label(ctx, limit)} now, after "
                    f"{_show(before, unit)} in earlier sessions, makes {_show(total, unit)}: over "
                    f"the course limit of {_show(maximum, unit)} [{_cited(limit)}]"
                ),
                remedy=(
                    f"Give at most {_show(max(maximum - before, Decimal(0)), unit)} of "
                    f"{_subject_label(ctx, limit)} in this session, or end the course."
                ),
                component_id=_locate(counted),
                subject=f"{limit.subject}:{limit.basis}:{maximum}",
                source=limit.source,
            )
        )
    return problems


def _zone_words(zone: ZoneVolume) -> str:
    return zone.zone.value.replace("_", " ")


def _wheal_unchecked(limit: Limit, subject: str, why: str, remedy: str, key: str) -> Finding:
    return Finding(
        rule=RULE_WHEAL_UNCHECKED,
        severity=Severity.WARNING,
        message=(
            f"the per-wheal limit of {format_amount(limit.amount)} on {subject} is not "
            f"checked: {why} [{_cited(limit)}]"
        ),
        remedy=remedy,
        field="zones",
        subject=f"{limit.subject}:{limit.basis}:{key}",
        source=limit.source,
    )


def _over_wheal(ctx: SafetyContext, limit: Limit) -> list[Finding]:
    """Each zone's amount per injection point against a per-wheal limit."""
    counted, problems = _count(ctx, limit, ctx.contributions, "per-wheal")
    if not counted or not ctx.zones:
        return problems
    subject = _subject_label(ctx, limit)
    final = ctx.final_volume
    if final is None or final.value <= 0:
        problems.append(
            _wheal_unchecked(
                limit,
                subject,
                "the formulation has no final volume, so the amount per millilitre is unknown",
                "Give the formulation's final volume, then check again.",
                "final_volume",
            )
        )
        return problems
    unrecorded = [z for z in ctx.zones if z.points is None]
    if unrecorded:
        # Named in a fixed order, so the finding never depends on the order zones came in.
        names = ", ".join(sorted({_zone_words(z) for z in unrecorded}))
        problems.append(
            _wheal_unchecked(
                limit,
                subject,
                f"the injection points in {names} are not recorded",
                "Enter the number of injection points for each zone.",
                "points",
            )
        )
    unit = limit.amount.unit
    in_mix = _sum(counted)
    for zone in ctx.zones:
        if zone.points is None or zone.points <= 0:
            continue
        try:
            zone_volume = convert(zone.volume, final.unit).value
        except UnitsError as error:
            problems.append(
                Finding(
                    rule=RULE_UNCOUNTABLE,
                    severity=Severity.BLOCK,
                    message=(
                        f"the volume in the {_zone_words(zone)} zone cannot be compared with "
                        f"the prepared volume: {error}"
                    ),
                    remedy="Enter the zone's volume as a volume, such as 0.5 mL.",
                    field="zones",
                    subject=f"{limit.subject}:{limit.basis}:{zone.zone.value}:volume",
                    source=limit.source,
                )
            )
            continue
        with localcontext() as work:
            work.prec = _PRECISION
            in_zone = in_mix * zone_volume / final.value
            per_point = in_zone / zone.points
            if per_point <= limit.amount.value:
                continue
            more = ""
            if limit.amount.value > 0:
                needed = (in_zone / limit.amount.value).to_integral_value(rounding=ROUND_CEILING)
                more = f"use at least {needed} injection points in the {_zone_words(zone)} zone, "
        per_point_volume = zone.volume_per_point
        assert per_point_volume is not None
        problems.append(
            Finding(
                rule=RULE_WHEAL,
                severity=Severity.BLOCK,
                message=(
                    f"{_show(per_point, unit)} of {subject} in each injection point of the "
                    f"{_zone_words(zone)} zone ({zone.points} points of "
                    f"{format_amount(per_point_volume, significant=_SHOWN)}) is over the "
                    f"per-wheal limit of {_show(limit.amount.value, unit)} [{_cited(limit)}]"
                ),
                remedy=(
                    f"To stay within it, {more}give less volume there, or put less "
                    f"{subject} in the mix."
                ),
                component_id=_locate(counted),
                field="zones",
                subject=f"{limit.subject}:{limit.basis}:{zone.zone.value}",
                source=limit.source,
            )
        )
    return problems


def check_limits(ctx: SafetyContext, *, session: bool) -> list[Finding]:
    """Findings for every limit the mix exceeds or cannot be counted against.

    With ``session`` False (a formulation being saved) the whole mix counts as one
    session and a per-course limit is projected over the course's planned sessions
    (a warning); with ``session`` True the amounts given are scaled by the share of
    the mix given and added to the earlier sessions' (a block), and a per-wheal limit
    is checked in each zone's injection points (sessions only).
    """
    findings: list[Finding] = []
    share, share_problem = administered_share(ctx) if session else (Decimal(1), None)
    if share_problem is not None:
        findings.append(share_problem)
    for limit in ctx.limits:
        if limit.per is LimitPer.WHEAL:
            # Only a session knows its zones and injection points.
            if session:
                findings.extend(_over_wheal(ctx, limit))
        elif limit.per is LimitPer.COURSE:
            findings.extend(_over_course(ctx, limit, share, projected=not session))
        else:
            findings.extend(_over_session(ctx, limit, share))
    return findings
