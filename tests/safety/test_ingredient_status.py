"""Rule 6: withdrawn and suspended ingredients; amounts whose meaning depends on a form."""

from __future__ import annotations

import dataclasses

import pytest

from formulary.safety import IngredientStatus, Severity, check_formulation, check_session
from formulary.safety.ingredient_status import (
    RULE_AMBIGUOUS,
    RULE_SUSPENDED,
    RULE_UNKNOWN,
    RULE_WITHDRAWN,
)
from tests.safety_fixtures import FACTS, SESSION_DAY, context, give


def rules(found) -> list[str]:  # type: ignore[no-untyped-def]
    return [f.rule for f in found]


def test_withdrawn_ingredient_warns_with_reason_and_source() -> None:
    found = check_formulation(context(contributions=(give(2, "buflomedil", "10 mg"),)))
    (finding,) = found
    assert finding.rule == RULE_WITHDRAWN and finding.severity is Severity.WARNING
    assert "suspended in 2012" in finding.message and "ema.europa.eu" in finding.message
    assert finding.component_id == 2


def test_suspended_ingredient_warns_once_per_component() -> None:
    facts = dict(FACTS)
    facts["biotin"] = dataclasses.replace(
        facts["biotin"], status=IngredientStatus.SUSPENDED, status_reason="supplier recall notice"
    )
    found = check_session(
        context(
            ingredients=facts,
            session_date=SESSION_DAY,
            contributions=(
                give(1, "biotin", "1 mg"),
                give(1, "biotin", "2 mg"),
                give(2, "biotin", "1 mg"),
            ),
        )
    )
    assert [(f.rule, f.component_id) for f in found] == [(RULE_SUSPENDED, 1), (RULE_SUSPENDED, 2)]


@pytest.mark.parametrize(
    ("key", "amount", "form"),
    [
        ("vitamin-e", "100 IU", ""),  # natural or synthetic? not said
        ("biotin", "100 IU", ""),  # biotin has no IU
        ("biotin", "100 units", ""),  # not a biological product
        ("botulinum-toxin-a", "5 mg", ""),  # a toxin is dosed in its product's units
        ("botulinum-toxin-a", "10 IU", ""),
        ("zinc-mystery", "1 mmol", ""),  # moles without a molar mass
        ("zinc-sulfate", "5 mg", "zinc gluconate"),  # a form this ingredient does not have
    ],
)
def test_ambiguous_amounts_block(key: str, amount: str, form: str) -> None:
    found = check_formulation(context(contributions=(give(4, key, amount, form=form),)))
    assert RULE_AMBIGUOUS in rules(found)
    finding = next(f for f in found if f.rule == RULE_AMBIGUOUS)
    assert finding.severity is Severity.BLOCK and finding.component_id == 4


@pytest.mark.parametrize(
    ("key", "amount", "form"),
    [
        ("vitamin-e", "100 IU", "RRR-alpha-tocopherol"),
        ("vitamin-e", "100 IU", "all-rac-alpha-tocopheryl acetate"),
        ("vitamin-a-retinol", "5000 IU", ""),  # one IU form: no doubt
        ("botulinum-toxin-a", "20 units", ""),
        ("zinc-sulfate", "1 mmol", ""),
        ("zinc-sulfate", "5 mg", "zinc (element)"),
        ("biotin", "5 mg", ""),
    ],
)
def test_clear_amounts_pass(key: str, amount: str, form: str) -> None:
    assert not check_formulation(context(contributions=(give(4, key, amount, form=form),)))


def test_unknown_ingredient_blocks() -> None:
    (finding,) = check_formulation(context(contributions=(give(1, "unobtainium", "1 mg"),)))
    assert finding.rule == RULE_UNKNOWN and finding.severity is Severity.BLOCK
