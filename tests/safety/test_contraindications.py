"""Rule 3: recorded conditions against the ingredients and the procedure."""

from __future__ import annotations

import pytest

from formulary.records import Condition
from formulary.safety import CONDITIONS, RULES, Severity, check_formulation, check_session
from formulary.safety.contraindication_table import (
    is_known_condition,
    normalise_code,
    rules_for,
)
from formulary.safety.contraindications import RULE_INGREDIENT, RULE_PROCEDURE
from tests.safety_fixtures import SESSION_DAY, context, give, patient


def check(codes: tuple[str, ...], *contributions: object):  # type: ignore[no-untyped-def]
    ctx = context(
        patient=patient(conditions=tuple(Condition(c) for c in codes)), contributions=contributions
    )
    return check_formulation(ctx)


@pytest.mark.parametrize("code", ["pregnancy", "breastfeeding"])
@pytest.mark.parametrize("key", ["dutasteride", "finasteride"])
def test_pregnancy_and_breastfeeding_block_5ari_and_warn_procedure(code: str, key: str) -> None:
    found = check((code,), give(1, key, "0.1 mg"), give(2, "biotin", "1 mg"))
    by_rule = {f.rule: f for f in found}
    assert set(by_rule) == {RULE_INGREDIENT, RULE_PROCEDURE}
    ingredient = by_rule[RULE_INGREDIENT]
    assert ingredient.severity is Severity.BLOCK and ingredient.component_id == 1
    assert ingredient.source and "Remove" in ingredient.remedy
    procedure = by_rule[RULE_PROCEDURE]
    assert procedure.severity is Severity.WARNING and procedure.field == "procedure"


def test_pregnancy_without_5ari_only_warns_procedure() -> None:
    found = check(("pregnancy",), give(1, "biotin", "1 mg"))
    assert [(f.rule, f.severity) for f in found] == [(RULE_PROCEDURE, Severity.WARNING)]


@pytest.mark.parametrize("key", ["copper-chloride", "ghk-cu"])
def test_wilsons_disease_blocks_every_copper_ingredient(key: str) -> None:
    found = check(("Wilson's disease",), give(5, key, "1 mg"))
    (finding,) = found
    assert finding.rule == RULE_INGREDIENT and finding.severity is Severity.BLOCK
    assert finding.component_id == 5 and "[L] copper" in finding.source


def test_lebers_disease_blocks_cyanocobalamin_only() -> None:
    found = check(("lebers_disease",), give(1, "cyanocobalamin", "1 mg"), give(2, "biotin", "1 mg"))
    assert [(f.rule, f.component_id, f.severity) for f in found] == [
        (RULE_INGREDIENT, 1, Severity.BLOCK)
    ]


@pytest.mark.parametrize(
    ("code", "severity"),
    [
        ("active_scalp_infection", Severity.BLOCK),
        ("anticoagulant_therapy", Severity.WARNING),
        ("coagulation_disorder", Severity.WARNING),
        ("autoimmune_disease", Severity.WARNING),
        ("immunosuppression", Severity.WARNING),
        ("keloid_tendency", Severity.WARNING),
    ],
)
def test_procedure_rules(code: str, severity: Severity) -> None:
    found = check((code,), give(1, "biotin", "1 mg"))
    (finding,) = found
    assert finding.rule == RULE_PROCEDURE and finding.severity is severity
    assert finding.field == "procedure" and finding.subject == code


def test_keloid_rule_says_it_is_not_verified() -> None:
    (finding,) = check(("keloid_tendency",))
    assert "not verified" in finding.message and "not verified" in finding.source


def test_procedure_rule_applies_to_an_empty_mix_and_a_session() -> None:
    ctx = context(
        patient=patient(conditions=(Condition("active scalp infection"),)), session_date=SESSION_DAY
    )
    assert [f.rule for f in check_session(ctx)] == [RULE_PROCEDURE]


def test_unknown_and_free_text_conditions_are_ignored() -> None:
    assert not check(("hypertension", "", "   "), give(1, "dutasteride", "1 mg"))


def test_code_spellings_normalise() -> None:
    assert normalise_code("  Wilson’s Disease ") == "wilsons_disease"
    assert normalise_code("active-scalp infection") == "active_scalp_infection"
    assert is_known_condition("Keloid tendency")
    assert not is_known_condition("sunburn")


def test_vocabulary_and_rules_agree() -> None:
    codes = [c.code for c in CONDITIONS]
    assert len(codes) == len(set(codes))
    for code in codes:
        assert rules_for(code), f"{code} is offered on the form but no rule uses it"
        assert normalise_code(code) == code
    for rule in RULES:
        assert is_known_condition(rule.condition)
        assert rule.source.strip() and rule.reason.strip() and rule.remedy.strip()
