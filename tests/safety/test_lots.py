"""Rule 4: lots — expiry, status, expiry within the course, stock on hand."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from formulary.records import Component, LotStatus
from formulary.safety import LotDraw, PreviousSession, Severity, check_formulation, check_session
from formulary.safety.lots import (
    RULE_EXPIRED,
    RULE_EXPIRES_IN_COURSE,
    RULE_MISSING,
    RULE_QUARANTINED,
    RULE_RECALLED,
    RULE_STOCK,
    RULE_UNCOUNTABLE,
    RULE_WRONG_PRODUCT,
    planned_end,
)
from tests.safety_fixtures import SESSION_DAY, amt, context, course, lot, product


def session(*draws: LotDraw, **changes: object):  # type: ignore[no-untyped-def]
    components = changes.pop("components", (product(1), product(2)))
    base: dict[str, object] = {
        "session_date": SESSION_DAY,
        "components": components,
        "lots": draws,
    }
    base.update(changes)
    return check_session(context(**base))


def rules(found) -> list[str]:  # type: ignore[no-untyped-def]
    return [f.rule for f in found]


@pytest.mark.parametrize(
    ("expiry", "expired"),
    [
        (SESSION_DAY, False),
        (SESSION_DAY - timedelta(days=1), True),
        (SESSION_DAY + timedelta(days=1), False),
    ],
)
def test_expired_on_the_session_date(expiry: date, expired: bool) -> None:
    found = session(LotDraw(1, lot(1, expiry=expiry), amt("1 mL")), components=(product(1),))
    assert (RULE_EXPIRED in rules(found)) is expired
    if expired:
        (finding,) = found.blocks
        assert finding.component_id == 1 and finding.field == "lots"
        assert expiry.isoformat() in finding.message


@pytest.mark.parametrize(
    ("status", "rule"),
    [(LotStatus.QUARANTINED, RULE_QUARANTINED), (LotStatus.RECALLED, RULE_RECALLED)],
)
def test_quarantined_and_recalled_lots_block(status: LotStatus, rule: str) -> None:
    found = session(LotDraw(1, lot(1, status=status), amt("1 mL")), components=(product(1),))
    (finding,) = found
    assert finding.rule == rule and finding.severity is Severity.BLOCK


def test_planned_end_follows_a_late_course() -> None:
    plan = course(start_date=date(2026, 10, 1), interval_days=14, planned_sessions=4)
    on_time = context(
        course=plan,
        session_date=date(2026, 10, 15),
        previous_sessions=(PreviousSession(date(2026, 10, 1)),),
    )
    assert planned_end(on_time) == date(2026, 11, 12)  # 10-01, 10-15, 10-29, 11-12
    late = context(
        course=plan,
        session_date=date(2026, 11, 24),
        previous_sessions=(PreviousSession(date(2026, 10, 1)),),
    )
    assert planned_end(late) == date(2026, 12, 22)  # two more sessions 14 days apart


@pytest.mark.parametrize(
    ("expiry", "warned"), [(date(2026, 12, 22), False), (date(2026, 12, 21), True)]
)
def test_expiring_within_the_course_warns(expiry: date, warned: bool) -> None:
    found = session(
        LotDraw(1, lot(1, expiry=expiry), amt("1 mL")),
        components=(product(1),),
        course=course(start_date=date(2026, 10, 1), interval_days=14, planned_sessions=4),
        previous_sessions=(PreviousSession(date(2026, 10, 1)),),
    )
    assert rules(found) == ([RULE_EXPIRES_IN_COURSE] if warned else [])
    if warned:
        assert found.items[0].severity is Severity.WARNING


def test_no_course_no_expiry_warning() -> None:
    assert not session(
        LotDraw(1, lot(1, expiry=SESSION_DAY), amt("1 mL")), components=(product(1),)
    )


@pytest.mark.parametrize(("drawn", "short"), [("10 mL", False), ("10.01 mL", True)])
def test_stock_on_hand(drawn: str, short: bool) -> None:
    found = session(LotDraw(1, lot(1, on_hand="10 mL"), amt(drawn)), components=(product(1),))
    assert (rules(found) == [RULE_STOCK]) is short


def test_draws_on_one_lot_are_summed_across_components() -> None:
    shared = lot(1, product_id=101, on_hand="3 mL")
    ok = session(
        LotDraw(1, shared, amt("1.5 mL")),
        LotDraw(2, shared, amt("0.0015 L")),
        components=(product(1), product(2, product_id=101)),
    )
    assert not ok
    over = session(
        LotDraw(1, shared, amt("1.5 mL")),
        LotDraw(2, shared, amt("1.6 mL")),
        components=(product(1), product(2, product_id=101)),
    )
    (finding,) = over
    assert finding.rule == RULE_STOCK and "3.1 mL" in finding.message


def test_draw_in_another_volume_unit_is_converted() -> None:
    assert not session(LotDraw(1, lot(1, on_hand="0.01 L"), amt("10 mL")), components=(product(1),))
    found = session(LotDraw(1, lot(1, on_hand="0.01 L"), amt("11 mL")), components=(product(1),))
    assert rules(found) == [RULE_STOCK]


def test_draw_that_cannot_be_compared_blocks() -> None:
    found = session(LotDraw(1, lot(1, on_hand="10 mL"), amt("5 mg")), components=(product(1),))
    assert rules(found) == [RULE_UNCOUNTABLE]


def test_product_without_a_lot_warns() -> None:
    found = session(LotDraw(1, lot(1), amt("1 mL")))
    (finding,) = found
    assert finding.rule == RULE_MISSING and finding.component_id == 2
    assert finding.severity is Severity.WARNING
    assert finding.message == "Product 2: no lot recorded: traceability lost"


def test_ingredient_added_by_amount_has_no_lot_and_warns() -> None:
    bare = Component(3, 3, "Dutasteride", amt("0.1 mg"), ingredient_id=7)
    found = session(LotDraw(1, lot(1), amt("1 mL")), components=(product(1), bare))
    (finding,) = found
    assert finding.rule == RULE_MISSING and finding.component_id == 3
    assert finding.severity is Severity.WARNING and finding.field == "lots"
    assert finding.message == "Dutasteride: no lot recorded: traceability lost"
    assert "Acknowledge" in finding.remedy


def test_lot_of_another_product_blocks() -> None:
    found = session(LotDraw(1, lot(1, product_id=999), amt("1 mL")), components=(product(1),))
    assert rules(found) == [RULE_WRONG_PRODUCT]


def test_formulation_check_ignores_lots() -> None:
    ctx = context(
        session_date=SESSION_DAY,
        components=(product(1),),
        lots=(LotDraw(1, lot(1, status=LotStatus.RECALLED), amt("1 mL")),),
    )
    assert not check_formulation(ctx)


def test_the_same_finding_in_two_components_is_read_once() -> None:
    from formulary.safety import Finding, Findings

    twice = [
        Finding("contraindication.ingredient", Severity.BLOCK, "Lidocaine with X: avoid", "r", c)
        for c in (1, 2)
    ]
    found = Findings.of([*twice, Finding("lot.missing", Severity.WARNING, "B: no lot", "r", 3)])
    assert len(found) == 3  # each beside its own component
    assert [f.message for f in found.to_read()] == ["Lidocaine with X: avoid", "B: no lot"]


def test_a_lot_past_its_expiry_reads_expired_and_a_decision_outranks_it() -> None:
    from formulary.preparation import lot_state

    day = date(2026, 6, 1)
    assert lot_state(lot(expiry=date(2026, 5, 31)), day) == "expired"
    assert lot_state(lot(expiry=day), day) == "available"  # its last usable day
    recalled = lot(expiry=date(2026, 5, 31), status=LotStatus.RECALLED)
    assert lot_state(recalled, day) == "recalled"
    assert lot_state(lot(on_hand="0 mL"), day) == "empty"
