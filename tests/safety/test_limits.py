"""Rule 1: limits per session, per kg and per course, summed in the limit's basis."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from formulary.safety import (
    Findings,
    LimitPer,
    PreviousSession,
    Severity,
    check_formulation,
    check_session,
    merge_limits,
)
from formulary.safety.limits import (
    RULE_COURSE,
    RULE_COURSE_PROJECTED,
    RULE_PER_KG,
    RULE_SESSION,
    RULE_UNCOUNTABLE,
    RULE_WEIGHT,
)
from tests.safety_fixtures import (
    LIDO_ANHYDROUS,
    LIDO_BASE_FORM,
    LIDO_MONOHYDRATE,
    ZINC_GLUCONATE,
    amt,
    context,
    course,
    give,
    limit,
    patient,
    product,
)


def rules(findings: Findings) -> list[str]:
    return [f.rule for f in findings]


# --- per session, one component -----------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "blocked"),
    [("300", False), ("299.999", False), ("300.001", True), ("3000", True)],
)
def test_session_limit_at_and_over(given: str, blocked: bool) -> None:
    ctx = context(
        components=(product(1),),
        contributions=(give(1, "lidocaine", f"{given} mg"),),
        limits=(limit("lidocaine", "300 mg"),),
    )
    found = check_formulation(ctx)
    assert (RULE_SESSION in rules(found)) is blocked
    if blocked:
        (finding,) = found.blocks
        assert finding.component_id == 1
        assert finding.severity is Severity.BLOCK
        assert "300 mg" in finding.message and "test label" in finding.message
        assert "at most 300 mg" in finding.remedy


def test_limit_in_another_mass_unit() -> None:
    ctx = context(
        contributions=(give(1, "biotin", "0.5 mg"),),
        limits=(limit("biotin", "500 mcg"),),
    )
    assert not check_formulation(ctx)
    over = context(
        contributions=(give(1, "biotin", "0.500001 mg"),), limits=(limit("biotin", "500 mcg"),)
    )
    assert rules(check_formulation(over)) == [RULE_SESSION]


# --- sums across components and salts -------------------------------------------------------


def test_two_products_carrying_biotin_are_summed() -> None:
    at_limit = context(
        components=(product(1), product(2)),
        contributions=(give(1, "biotin", "5 mg"), give(2, "biotin", "5 mg")),
        limits=(limit("biotin", "10 mg"),),
    )
    assert not check_formulation(at_limit)
    over = context(
        components=(product(1), product(2)),
        contributions=(give(1, "biotin", "5 mg"), give(2, "biotin", "5.001 mg")),
        limits=(limit("biotin", "10 mg"),),
    )
    (finding,) = check_formulation(over)
    assert finding.rule == RULE_SESSION
    assert finding.component_id == 2  # the larger contributor
    assert "component 1: 5 mg" in finding.message and "component 2: 5.001 mg" in finding.message


def test_zinc_from_two_salts_counts_as_element() -> None:
    # 287.54 mg of the heptahydrate and 455.68 mg of the gluconate each hold 65.38 mg Zn.
    contributions = (give(1, "zinc-sulfate", "287.54 mg"), give(2, "zinc-gluconate", "455.68 mg"))
    at_limit = context(contributions=contributions, limits=(limit("zinc", "130.76 mg"),))
    assert not check_formulation(at_limit)
    just_under = context(contributions=contributions, limits=(limit("zinc", "130.75 mg"),))
    (finding,) = check_formulation(just_under)
    assert finding.rule == RULE_SESSION
    assert "130.76 mg" in finding.message


def test_label_in_elemental_zinc_counts_directly() -> None:
    ctx = context(
        contributions=(
            give(1, "zinc-sulfate", "10 mg", form="zinc (element)"),
            give(2, "zinc-gluconate", "455.68 mg"),
        ),
        limits=(limit("zinc", "75.38 mg"),),
    )
    assert not check_formulation(ctx)
    tighter = context(contributions=ctx.contributions, limits=(limit("zinc", "75.37 mg"),))
    assert rules(check_formulation(tighter)) == [RULE_SESSION]


def test_limit_on_one_salt_ignores_the_other_salt() -> None:
    ctx = context(
        contributions=(give(1, "zinc-sulfate", "100 mg"), give(2, "zinc-gluconate", "900 mg")),
        limits=(limit("zinc-sulfate", "100 mg"),),
    )
    assert not check_formulation(ctx)


def test_other_forms_of_the_same_ingredient_are_converted() -> None:
    # 1 mmol: 288.82 mg monohydrate = 234.34 mg base = 270.80 mg anhydrous HCl.
    contributions = (
        give(1, "lidocaine", "288.82 mg", substance=LIDO_MONOHYDRATE),
        give(2, "lidocaine", "234.34 mg", substance=LIDO_BASE_FORM),
    )
    lim = limit("lidocaine", "541.6 mg", target=LIDO_ANHYDROUS)
    assert not check_formulation(context(contributions=contributions, limits=(lim,)))
    tight = limit("lidocaine", "541.5 mg", target=LIDO_ANHYDROUS)
    assert rules(check_formulation(context(contributions=contributions, limits=(tight,)))) == [
        RULE_SESSION
    ]


def test_limit_stated_on_a_basis_of_the_ingredient() -> None:
    ctx = context(
        contributions=(give(1, "lidocaine", "270.80 mg"),),
        limits=(limit("lidocaine", "234.34 mg", basis="lidocaine base"),),
    )
    assert not check_formulation(ctx)
    tight = context(
        contributions=ctx.contributions,
        limits=(limit("lidocaine", "234.33 mg", basis="lidocaine base"),),
    )
    assert rules(check_formulation(tight)) == [RULE_SESSION]


def test_iu_limit_counts_a_mass_through_the_iu_basis() -> None:
    # 1 IU retinol = 0.3 mcg; 3 mg = 10000 IU.
    ctx = context(
        contributions=(give(1, "vitamin-a-retinol", "3 mg"),),
        limits=(limit("vitamin-a-retinol", "10000 IU"),),
    )
    assert not check_formulation(ctx)
    over = context(
        contributions=(give(1, "vitamin-a-retinol", "3.0003 mg"),),
        limits=(limit("vitamin-a-retinol", "10000 IU"),),
    )
    assert rules(check_formulation(over)) == [RULE_SESSION]


# --- what cannot be counted blocks --------------------------------------------------------------


def test_contribution_without_molar_mass_blocks_instead_of_being_skipped() -> None:
    ctx = context(
        components=(product(1), product(2)),
        contributions=(
            give(1, "zinc-sulfate", "10 mg", form="zinc (element)"),
            give(2, "zinc-mystery", "50 mg"),
        ),
        limits=(limit("zinc", "100 mg"),),
    )
    found = check_formulation(ctx)
    assert rules(found) == [RULE_UNCOUNTABLE]
    (finding,) = found
    assert finding.component_id == 2 and finding.severity is Severity.BLOCK
    assert "molar mass" in finding.message


def test_iu_without_a_form_cannot_be_counted() -> None:
    ctx = context(
        contributions=(give(1, "vitamin-e", "100 IU"),), limits=(limit("vitamin-e", "1000 mg"),)
    )
    found = check_formulation(ctx)
    assert RULE_UNCOUNTABLE in rules(found)
    assert all(f.severity is Severity.BLOCK for f in found)


def test_counted_part_still_blocks_when_another_part_is_uncountable() -> None:
    ctx = context(
        contributions=(
            give(1, "zinc-sulfate", "200 mg", form="zinc (element)"),
            give(2, "zinc-mystery", "50 mg"),
        ),
        limits=(limit("zinc", "100 mg"),),
    )
    assert sorted(rules(check_formulation(ctx))) == [RULE_SESSION, RULE_UNCOUNTABLE]


# --- mg/kg with the recorded weight ----------------------------------------------------------


@pytest.mark.parametrize(("given", "blocked"), [("270", False), ("270.0001", True)])
def test_per_kg_limit_uses_recorded_weight(given: str, blocked: bool) -> None:
    ctx = context(
        patient=patient(weight_kg=amt("60 kg")),
        contributions=(give(1, "lidocaine", f"{given} mg"),),
        limits=(limit("lidocaine", "4.5 mg", LimitPer.KG),),
    )
    found = check_formulation(ctx)
    assert (rules(found) == [RULE_PER_KG]) is blocked
    if blocked:
        assert "4.5 mg/kg" in found.items[0].message
        assert "270 mg" in found.items[0].message


def test_weight_recorded_in_grams_is_converted() -> None:
    ctx = context(
        patient=patient(weight_kg=amt("60000 g")),
        contributions=(give(1, "lidocaine", "270 mg"),),
        limits=(limit("lidocaine", "4.5 mg", LimitPer.KG),),
    )
    assert not check_formulation(ctx)


def test_per_kg_limit_without_weight_blocks() -> None:
    ctx = context(
        patient=patient(weight_kg=None),
        contributions=(give(1, "lidocaine", "20 mg"),),
        limits=(limit("lidocaine", "4.5 mg", LimitPer.KG),),
    )
    (finding,) = check_formulation(ctx)
    assert finding.rule == RULE_WEIGHT and finding.field == "patient.weight"
    assert finding.severity is Severity.BLOCK and "weight" in finding.remedy


def test_stricter_of_absolute_and_per_kg_decides() -> None:
    limits = (limit("lidocaine", "4.5 mg", LimitPer.KG), limit("lidocaine", "300 mg"))
    heavy = patient(weight_kg=amt("80 kg"))  # 360 mg by weight, 300 mg absolute
    ok = context(patient=heavy, contributions=(give(1, "lidocaine", "300 mg"),), limits=limits)
    assert not check_formulation(ok)
    over = context(patient=heavy, contributions=(give(1, "lidocaine", "301 mg"),), limits=limits)
    assert rules(check_formulation(over)) == [RULE_SESSION]
    light = patient(weight_kg=amt("50 kg"))  # 225 mg by weight
    over_kg = context(patient=light, contributions=(give(1, "lidocaine", "226 mg"),), limits=limits)
    assert rules(check_formulation(over_kg)) == [RULE_PER_KG]


def test_limit_without_matching_ingredient_is_silent() -> None:
    ctx = context(
        patient=patient(weight_kg=None),
        contributions=(give(1, "biotin", "5 mg"),),
        limits=(limit("lidocaine", "4.5 mg", LimitPer.KG),),
    )
    assert not check_formulation(ctx)


# --- a session gives part of the mix ------------------------------------------------------------


@pytest.mark.parametrize(("given", "blocked"), [("2 mL", False), ("2.01 mL", True)])
def test_session_counts_the_share_of_the_mix_given(given: str, blocked: bool) -> None:
    ctx = context(
        session_date=date(2026, 11, 24),
        final_volume=amt("4 mL"),
        total_volume=amt(given),
        contributions=(give(1, "lidocaine", "400 mg"),),
        limits=(limit("lidocaine", "200 mg"),),
    )
    assert (RULE_SESSION in rules(check_session(ctx))) is blocked
    # Saving the formulation assumes the whole mix is given.
    assert RULE_SESSION in rules(check_formulation(ctx))


# --- per course ---------------------------------------------------------------------------------


def _course_ctx(this: str, previous: tuple[str, ...]) -> object:
    return context(
        session_date=date(2026, 11, 24),
        course=course(planned_sessions=4),
        contributions=(give(1, "biotin", this),),
        previous_sessions=tuple(
            PreviousSession(date(2026, 10, 1 + 14 * i), (give(9, "biotin", p),))
            for i, p in enumerate(previous)
        ),
        limits=(limit("biotin", "30 mg", LimitPer.COURSE, source="clinic"),),
    )


@pytest.mark.parametrize(("this", "blocked"), [("10 mg", False), ("10.001 mg", True)])
def test_course_limit_adds_earlier_sessions(this: str, blocked: bool) -> None:
    found = check_session(_course_ctx(this, ("10 mg", "10 mg")))  # type: ignore[arg-type]
    assert (rules(found) == [RULE_COURSE]) is blocked
    if blocked:
        assert "after 20 mg in earlier sessions" in found.items[0].message
        assert "at most 10 mg" in found.items[0].remedy


def test_course_projection_warns_when_saving_a_formulation() -> None:
    over = context(
        course=course(planned_sessions=4),
        contributions=(give(1, "biotin", "8 mg"),),
        limits=(limit("biotin", "30 mg", LimitPer.COURSE),),
    )
    (finding,) = check_formulation(over)
    assert finding.rule == RULE_COURSE_PROJECTED and finding.severity is Severity.WARNING
    assert "32 mg" in finding.message
    exact = context(
        course=course(planned_sessions=4),
        contributions=(give(1, "biotin", "7.5 mg"),),
        limits=(limit("biotin", "30 mg", LimitPer.COURSE),),
    )
    assert not check_formulation(exact)


def test_uncountable_earlier_session_blocks_on_the_course() -> None:
    ctx = context(
        session_date=date(2026, 11, 24),
        course=course(),
        contributions=(give(1, "zinc-sulfate", "1 mg", form="zinc (element)"),),
        previous_sessions=(PreviousSession(date(2026, 10, 1), (give(3, "zinc-mystery", "5 mg"),)),),
        limits=(limit("zinc", "100 mg", LimitPer.COURSE),),
    )
    (finding,) = check_session(ctx)
    assert finding.rule == RULE_UNCOUNTABLE and finding.field == "course"


# --- the limits table ---------------------------------------------------------------------------


def test_clinic_limit_replaces_the_matching_default_only() -> None:
    defaults = (
        limit("lidocaine", "300 mg", source="label"),
        limit("lidocaine", "4.5 mg", LimitPer.KG, source="label"),
    )
    clinic = (limit("lidocaine", "200 mg", source="clinic"),)
    merged = merge_limits(defaults, clinic)
    assert {(lim.amount.value, lim.source) for lim in merged} == {
        (Decimal("4.5"), "label"),
        (Decimal("200"), "clinic"),
    }


def test_each_finding_names_the_limit_source() -> None:
    ctx = context(
        contributions=(give(1, "lidocaine", "301 mg"),),
        limits=(limit("lidocaine", "300 mg", source="Pfizer label"),),
    )
    (finding,) = check_formulation(ctx)
    assert finding.source == "Pfizer label"


def test_gluconate_without_zinc_limit_is_not_counted() -> None:
    ctx = context(
        contributions=(give(1, "zinc-gluconate", "1000 mg", substance=ZINC_GLUCONATE),),
        limits=(limit("biotin", "1 mg"),),
    )
    assert not check_formulation(ctx)


def test_a_stricter_clinic_limit_replaces_the_published_one() -> None:
    defaults = (limit("lidocaine", "300 mg", source="label"),)
    merged = merge_limits(defaults, (limit("lidocaine", "200 mg", source="clinic"),))
    assert [(lim.amount.value, lim.source) for lim in merged] == [(Decimal("200"), "clinic")]
    ctx = context(contributions=(give(1, "lidocaine", "250 mg"),), limits=merged)
    (finding,) = check_formulation(ctx)
    assert finding.source == "clinic"


def test_a_looser_clinic_limit_never_loosens_the_published_one() -> None:
    defaults = (limit("lidocaine", "300 mg", source="label"),)
    merged = merge_limits(defaults, (limit("lidocaine", "0.5 g", source="clinic"),))
    assert [(lim.amount.value, lim.source) for lim in merged] == [(Decimal("300"), "label")]
    ctx = context(contributions=(give(1, "lidocaine", "301 mg"),), limits=merged)
    (finding,) = check_formulation(ctx)
    assert finding.source == "label"


def test_limits_that_cannot_be_compared_are_both_checked() -> None:
    defaults = (limit("biotin", "20 mg", source="label"),)
    clinic = (limit("biotin", "2 mmol", source="clinic"),)  # no substance: not comparable
    assert len(merge_limits(defaults, clinic)) == 2
