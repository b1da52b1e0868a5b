"""Rule 5: interval, planned count, course start, zone volumes and the volume given."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from formulary.records import ScalpZone, ZoneVolume
from formulary.safety import PreviousSession, Severity, check_formulation, check_session
from formulary.safety.schedule import (
    RULE_BEFORE_START,
    RULE_INTERVAL,
    RULE_OVER_PLAN,
    RULE_OVER_PREPARED,
    RULE_ZONE_UNIT,
    RULE_ZONES,
)
from tests.safety_fixtures import SESSION_DAY, amt, context, course


def rules(found) -> list[str]:  # type: ignore[no-untyped-def]
    return [f.rule for f in found]


def previous(*days_before: int) -> tuple[PreviousSession, ...]:
    return tuple(PreviousSession(SESSION_DAY - timedelta(days=d)) for d in days_before)


@pytest.mark.parametrize(("gap", "warned"), [(14, False), (13, True), (30, False), (0, True)])
def test_minimum_interval(gap: int, warned: bool) -> None:
    ctx = context(
        session_date=SESSION_DAY,
        course=course(interval_days=14, planned_sessions=10),
        previous_sessions=previous(gap, gap + 28),
    )
    found = check_session(ctx)
    assert rules(found) == ([RULE_INTERVAL] if warned else [])
    if warned:
        (finding,) = found
        assert finding.severity is Severity.WARNING and finding.field == "performed_at"
        assert finding.needs_reason  # acknowledging it must say why
        assert (f"only {gap} day" if gap else "a second session on") in finding.message


def test_interval_counts_a_later_session_too() -> None:
    # A session entered between two others is too close to the later one.
    ctx = context(
        session_date=SESSION_DAY,
        course=course(interval_days=14, planned_sessions=10),
        previous_sessions=previous(28, -5),
    )
    assert rules(check_session(ctx)) == [RULE_INTERVAL]


@pytest.mark.parametrize(("done", "warned"), [(3, False), (4, True)])
def test_past_the_planned_count(done: int, warned: bool) -> None:
    ctx = context(
        session_date=SESSION_DAY,
        course=course(interval_days=7, planned_sessions=4),
        previous_sessions=previous(*(7 * (i + 1) for i in range(done))),
    )
    found = check_session(ctx)
    assert rules(found) == ([RULE_OVER_PLAN] if warned else [])
    if warned:
        assert "session 5 of a course planned for 4" in found.items[0].message


def test_before_the_course_starts() -> None:
    ctx = context(session_date=date(2026, 9, 30), course=course(start_date=date(2026, 10, 1)))
    assert rules(check_session(ctx)) == [RULE_BEFORE_START]
    on_day = context(session_date=date(2026, 10, 1), course=course(start_date=date(2026, 10, 1)))
    assert not check_session(on_day)


def zones(*volumes: str) -> tuple[ZoneVolume, ...]:
    names = list(ScalpZone)
    return tuple(ZoneVolume(names[i], amt(v)) for i, v in enumerate(volumes))


@pytest.mark.parametrize(
    ("volumes", "total", "mismatch"),
    [
        (("0.5 mL", "0.5 mL", "1 mL"), "2 mL", False),
        (("0.5 mL", "0.5 mL", "1 mL"), "2.01 mL", True),
        (("0.5 mL", "0.5 mL", "1 mL"), "1.99 mL", True),
        (("0.5 mL", "0.0015 L"), "2 mL", False),
        (("2 mL",), "0.002 L", False),
    ],
)
def test_zone_volumes_must_add_up(volumes: tuple[str, ...], total: str, mismatch: bool) -> None:
    ctx = context(session_date=SESSION_DAY, zones=zones(*volumes), total_volume=amt(total))
    found = check_session(ctx)
    assert rules(found) == ([RULE_ZONES] if mismatch else [])
    if mismatch:
        assert found.items[0].severity is Severity.BLOCK and found.items[0].field == "zones"


def test_zone_volume_that_is_not_a_volume_blocks() -> None:
    ctx = context(session_date=SESSION_DAY, zones=zones("1 mg"), total_volume=amt("1 mL"))
    assert rules(check_session(ctx)) == [RULE_ZONE_UNIT]


@pytest.mark.parametrize(("total", "over"), [("4 mL", False), ("4.01 mL", True)])
def test_cannot_give_more_than_prepared(total: str, over: bool) -> None:
    ctx = context(session_date=SESSION_DAY, final_volume=amt("4 mL"), total_volume=amt(total))
    assert rules(check_session(ctx)) == ([RULE_OVER_PREPARED] if over else [])


def test_formulation_check_ignores_schedule_and_volumes() -> None:
    ctx = context(
        session_date=SESSION_DAY,
        course=course(planned_sessions=1),
        previous_sessions=previous(1),
        zones=zones("1 mL"),
        total_volume=amt("2 mL"),
    )
    assert not check_formulation(ctx)
    assert set(rules(check_session(ctx))) == {RULE_INTERVAL, RULE_OVER_PLAN, RULE_ZONES}
