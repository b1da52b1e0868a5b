"""Findings (order, de-duplication, locators) and the acknowledge/override decision."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from formulary.records import Allergy, Condition, Role
from formulary.safety import (
    AcknowledgementRequired,
    Finding,
    Findings,
    OverrideNotPermitted,
    OverrideRequired,
    Severity,
    check_formulation,
    resolve,
)
from formulary.safety.overrides import ACKNOWLEDGED, MIN_REASON_LENGTH
from tests.safety_fixtures import context, give, patient

AT = datetime(2026, 11, 24, 17, 30, tzinfo=UTC)


def warning(rule: str = "w", subject: str = "", component: int | None = None) -> Finding:
    return Finding(rule, Severity.WARNING, f"{rule} message", "do this", component, None, subject)


def block(rule: str = "b", subject: str = "", field: str | None = None) -> Finding:
    return Finding(rule, Severity.BLOCK, f"{rule} message", "do that", None, field, subject)


def test_blocks_come_first_then_rule_component_field_subject() -> None:
    found = Findings.of(
        [
            warning("a", component=2),
            block("z"),
            warning("a", component=1),
            block("c", field="zones"),
        ]
    )
    assert [(f.severity, f.rule, f.component_id) for f in found] == [
        (Severity.BLOCK, "c", None),
        (Severity.BLOCK, "z", None),
        (Severity.WARNING, "a", 1),
        (Severity.WARNING, "a", 2),
    ]


def test_same_problem_twice_is_one_finding() -> None:
    assert len(Findings.of([block("x", "s"), block("x", "s")])) == 1


def test_findings_summaries() -> None:
    found = Findings.of([warning(component=3), block(field="zones")])
    assert found.requires_override and found.requires_acknowledgement and not found.clear
    assert [f.rule for f in found.blocks] == ["b"] and [f.rule for f in found.warnings] == ["w"]
    assert found.for_component(3) == found.warnings and found.for_field("zones") == found.blocks
    assert Findings().clear and not Findings().requires_override


def test_finding_line_has_severity_rule_locator_message_and_remedy() -> None:
    line = Finding(
        "lot.expired", Severity.BLOCK, "lot A1 expired", "choose another lot", 4, "lots", "A1"
    ).line()
    assert line == "BLOCK lot.expired [component 4, lots]: lot A1 expired -> choose another lot"


# --- resolve ------------------------------------------------------------------------------------


def test_nothing_found_needs_nothing() -> None:
    assert resolve(Findings(), by="alex", role=Role.ASSISTANT, at=AT) == ()


def test_warnings_need_an_acknowledgement() -> None:
    found = Findings.of([warning("w1"), warning("w2")])
    with pytest.raises(AcknowledgementRequired, match="2 warnings"):
        resolve(found, by="alex", role=Role.PRACTITIONER, at=AT)
    recorded = resolve(found, by="alex", role=Role.ASSISTANT, at=AT, acknowledge=True)
    assert [(o.rule, o.severity, o.reason, o.by, o.at) for o in recorded] == [
        ("w1", "warning", ACKNOWLEDGED, "alex", AT),
        ("w2", "warning", ACKNOWLEDGED, "alex", AT),
    ]


def test_a_warning_that_needs_a_reason_is_acknowledged_only_with_one() -> None:
    from dataclasses import replace

    from formulary.safety import ReasonRequired

    found = Findings.of([warning("w1"), replace(warning("same-day"), needs_reason=True)])
    with pytest.raises(ReasonRequired, match="same-day message"):
        resolve(found, by="alex", role=Role.PRACTITIONER, at=AT, acknowledge=True)
    with pytest.raises(ReasonRequired, match=f"at least {MIN_REASON_LENGTH}"):
        resolve(found, by="alex", role=Role.PRACTITIONER, at=AT, override_reason="ok")
    why = "patient travels abroad tomorrow"
    recorded = resolve(found, by="alex", role=Role.PRACTITIONER, at=AT, override_reason=why)
    assert {(o.rule, o.reason) for o in recorded} == {("w1", why), ("same-day", why)}


def test_warnings_acknowledged_one_by_one() -> None:
    found = Findings.of([warning("w1"), warning("w2")])
    with pytest.raises(AcknowledgementRequired, match="w2 message"):
        resolve(found, by="alex", role=Role.PRACTITIONER, at=AT, acknowledge={found.items[0].key})
    keys = {f.key for f in found}
    assert len(resolve(found, by="alex", role=Role.PRACTITIONER, at=AT, acknowledge=keys)) == 2


def test_block_needs_an_override_reason() -> None:
    found = Findings.of([block()])
    with pytest.raises(OverrideRequired, match="written reason"):
        resolve(found, by="alex", role=Role.PRACTITIONER, at=AT, acknowledge=True)
    with pytest.raises(OverrideRequired, match="written reason"):
        resolve(found, by="alex", role=Role.PRACTITIONER, at=AT, override_reason="   ")


@pytest.mark.parametrize("role", [Role.ASSISTANT, Role.AUDITOR])
def test_only_practitioners_and_admins_override(role: Role) -> None:
    with pytest.raises(OverrideNotPermitted, match=role.value):
        resolve(
            Findings.of([block()]),
            by="sam",
            role=role,
            at=AT,
            override_reason="checked with the prescriber by phone",
        )


def test_override_reason_must_say_something() -> None:
    short = "x" * (MIN_REASON_LENGTH - 1)
    with pytest.raises(OverrideRequired, match="at least"):
        resolve(Findings.of([block()]), by="alex", role=Role.ADMIN, at=AT, override_reason=short)
    assert resolve(
        Findings.of([block()]),
        by="alex",
        role=Role.ADMIN,
        at=AT,
        override_reason="x" * MIN_REASON_LENGTH,
    )


def test_override_records_every_finding_with_the_reason() -> None:
    ctx = context(
        patient=patient(allergies=(Allergy("biotin"),), conditions=(Condition("keloid_tendency"),)),
        contributions=(give(1, "biotin", "1 mg"),),
    )
    found = check_formulation(ctx)
    assert found.requires_override and found.requires_acknowledgement
    recorded = resolve(
        found,
        by="dr.ng",
        role=Role.PRACTITIONER,
        at=AT,
        override_reason="  allergy refuted by patch test on 2026-11-01  ",
    )
    assert [(o.rule, o.severity) for o in recorded] == [
        ("allergy", "block"),
        ("contraindication.procedure", "warning"),
    ]
    assert {o.reason for o in recorded} == {"allergy refuted by patch test on 2026-11-01"}
    assert recorded[0].message == found.items[0].message


def test_finding_as_plain_json() -> None:
    finding = Finding("lot.expired", Severity.BLOCK, "m", "r", 4, "lots", "A1", "label")
    assert finding.as_dict() == {
        "rule": "lot.expired",
        "severity": "block",
        "message": "m",
        "remedy": "r",
        "component_id": 4,
        "field": "lots",
        "subject": "A1",
        "source": "label",
        "key": "lot.expired|4|lots|A1",
    }
