"""The rules over the real ingredient library: builders, label maxima, classes, cautions."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from formulary.library import load_library
from formulary.records import (
    Allergy,
    Component,
    Condition,
    FormulationVersion,
    IngredientStrength,
    Product,
    ScalpZone,
    ZoneVolume,
)
from formulary.safety import (
    IngredientFacts,
    IngredientStatus,
    LimitPer,
    SafetyContext,
    Severity,
    check_formulation,
    check_session,
)
from formulary.safety.build import (
    RULE_UNRESOLVED,
    contributions,
    facts_from_library,
    limits_from_library,
)
from formulary.safety.contraindications import RULE_CAUTION, RULE_INGREDIENT
from formulary.safety.limits import (
    RULE_PER_KG,
    RULE_SESSION,
    RULE_WHEAL,
    RULE_WHEAL_UNCHECKED,
)
from tests.safety_fixtures import amt, limit, patient

LIB = load_library()
KEYS = [
    "lidocaine",
    "procaine",
    "zinc-sulfate",
    "biotin",
    "cysteine",
    "ghk-cu",
    "copper-chloride",
    "minoxidil",
    "dutasteride",
    "buflomedil",
    "vitamin-e-natural",
    "cyanocobalamin",
]
# The clinic's ingredient row ids, as the Store would hand them over.
BY_ID: dict[int, IngredientFacts] = {
    i: facts_from_library(LIB.by_key(key), i) for i, key in enumerate(KEYS, start=1)
}
ID = {facts.key: i for i, facts in BY_ID.items()}


def stock(pid: int, name: str, *strengths: tuple[str, str, str]) -> Product:
    return Product(
        pid,
        name,
        "Maker",
        amt("5 mL"),
        tuple(IngredientStrength(ID[key], key, amt(conc), form) for key, conc, form in strengths),
    )


PRODUCTS = {
    p.id: p
    for p in (
        stock(1, "Lidocaine 2%", ("lidocaine", "20 mg/mL", "")),
        stock(2, "Zinc trace element 1 mg/mL", ("zinc-sulfate", "1 mg/mL", "zinc (element)")),
        stock(3, "Zinc sulfate 7H2O 10 mg/mL", ("zinc-sulfate", "10 mg/mL", "heptahydrate")),
        stock(4, "B-complex", ("biotin", "0.5 mg/mL", ""), ("cyanocobalamin", "1 mg/mL", "")),
        stock(5, "Biotin 1 mg/mL", ("biotin", "1 mg/mL", "")),
        stock(6, "Copper peptide", ("ghk-cu", "2 mg/mL", "")),
        stock(7, "Minoxidil 0.5%", ("minoxidil", "0.5 % w/v", "")),
        stock(8, "Dutasteride 0.01%", ("dutasteride", "0.01 % w/v", "")),
        stock(9, "Vitamin E natural", ("vitamin-e-natural", "100 IU/mL", "")),
        stock(10, "Loftyl", ("buflomedil", "10 mg/mL", "")),
        stock(11, "Procaine 2%", ("procaine", "20 mg/mL", "")),
    )
}


def draw(cid: int, pid: int, volume: str) -> Component:
    return Component(cid, cid, PRODUCTS[pid].name, amt(volume), product_id=pid)


def ctx_for(*components: Component, **changes: object) -> SafetyContext:
    broken = contributions(components, PRODUCTS, BY_ID)
    limits = tuple(
        lim for facts in BY_ID.values() for lim in limits_from_library(LIB.by_key(facts.key))
    )
    base: dict[str, object] = {
        "patient": patient(weight_kg=amt("80 kg")),
        "components": components,
        "ingredients": {f.key: f for f in BY_ID.values()},
        "contributions": broken.contributions,
        "problems": broken.problems,
        "limits": limits,
    }
    base.update(changes)
    return SafetyContext(**base)  # type: ignore[arg-type]


def test_library_facts_carry_status_classes_and_forms() -> None:
    buflomedil = BY_ID[ID["buflomedil"]]
    assert buflomedil.status is IngredientStatus.WITHDRAWN
    assert "suspended" in buflomedil.status_reason and "ema.europa.eu" in buflomedil.status_source
    cysteine = BY_ID[ID["cysteine"]]
    assert "amino acid" in cysteine.classes
    zinc = BY_ID[ID["zinc-sulfate"]]
    assert zinc.substance_for("zinc sulfate heptahydrate") is not None
    assert zinc.substance_for("zinc (element)") is None  # a basis, not a form


def test_library_label_maxima_become_limits() -> None:
    lido = {(lim.per, lim.amount.value) for lim in limits_from_library(LIB.by_key("lidocaine"))}
    assert lido == {(LimitPer.KG, Decimal("4.5")), (LimitPer.SESSION, Decimal("300"))}
    procaine = limits_from_library(LIB.by_key("procaine"))
    # 500 mg per injection and 200 mg in the head and neck a session; 10 mg per wheal.
    assert sorted((lim.per, lim.amount.value) for lim in procaine) == [
        (LimitPer.SESSION, Decimal("200")),
        (LimitPer.SESSION, Decimal("500")),
        (LimitPer.WHEAL, Decimal("10")),
    ]
    assert all(lim.source for lim in procaine)


def _procaine_session(zone_volume: str, points: int | None, **changes: object) -> list[str]:
    """Rules raised by a session giving 2% procaine (20 mg/mL) in the vertex zone."""
    mix = (draw(1, 11, "5 mL"),)
    zones = (ZoneVolume(ScalpZone.VERTEX, amt(zone_volume), points),)
    settings: dict[str, object] = {
        "final_volume": amt("5 mL"),
        "total_volume": amt(zone_volume),
        "zones": zones,
    }
    settings.update(changes)
    found = check_session(ctx_for(*mix, **settings))
    return [f.rule for f in found if f.rule.startswith("limit.wheal")]


@pytest.mark.parametrize(
    ("zone_volume", "points", "blocked"),
    [
        ("1 mL", 2, False),  # 0.5 mL of 20 mg/mL: exactly 10 mg a wheal
        ("1.01 mL", 2, True),  # 10.1 mg a wheal
        ("2 mL", 4, False),
        ("2 mL", 3, True),  # 13.3 mg a wheal
    ],
)
def test_procaine_10_mg_per_wheal(zone_volume: str, points: int, blocked: bool) -> None:
    assert _procaine_session(zone_volume, points) == ([RULE_WHEAL] if blocked else [])


def test_per_wheal_block_says_how_many_points_would_do() -> None:
    mix = (draw(1, 11, "5 mL"),)
    zones = (ZoneVolume(ScalpZone.VERTEX, amt("2 mL"), 3),)
    ctx = ctx_for(*mix, final_volume=amt("5 mL"), total_volume=amt("2 mL"), zones=zones)
    (finding,) = [f for f in check_session(ctx) if f.rule == RULE_WHEAL]
    assert finding.severity is Severity.BLOCK
    assert "vertex" in finding.message and "3 points" in finding.message
    assert "at least 4 injection points" in finding.remedy


def test_per_wheal_unchecked_without_points_or_final_volume_is_a_warning() -> None:
    assert _procaine_session("1 mL", None) == [RULE_WHEAL_UNCHECKED]
    assert _procaine_session("1 mL", 2, final_volume=None) == [RULE_WHEAL_UNCHECKED]


def test_per_wheal_limit_is_not_applied_when_a_formulation_is_saved() -> None:
    found = check_formulation(ctx_for(draw(1, 11, "5 mL"), final_volume=amt("5 mL")))
    assert not [f for f in found if f.rule.startswith("limit.wheal")]


@pytest.mark.parametrize(("volume", "blocked"), [("15 mL", False), ("15.01 mL", True)])
def test_lidocaine_300_mg_label_maximum(volume: str, blocked: bool) -> None:
    found = check_formulation(ctx_for(draw(1, 1, volume)))  # 80 kg: 360 mg by weight
    assert ([f.rule for f in found] == [RULE_SESSION]) is blocked


@pytest.mark.parametrize(("volume", "blocked"), [("13.5 mL", False), ("13.51 mL", True)])
def test_lidocaine_mg_per_kg_label_maximum(volume: str, blocked: bool) -> None:
    found = check_formulation(ctx_for(draw(1, 1, volume), patient=patient(weight_kg=amt("60 kg"))))
    assert ([f.rule for f in found] == [RULE_PER_KG]) is blocked


def test_zinc_from_an_elemental_label_and_a_salt_label_sums_as_element() -> None:
    # 1 mL at 1 mg Zn/mL + 28.754 mL at 10 mg heptahydrate/mL (287.54 mg = 65.38 mg Zn).
    components = (draw(1, 2, "1 mL"), draw(2, 3, "28.754 mL"))
    at = ctx_for(*components, limits=(limit("zinc", "66.38 mg", source="clinic"),))
    assert not check_formulation(at)
    over = ctx_for(*components, limits=(limit("zinc", "66.37 mg", source="clinic"),))
    assert [f.rule for f in check_formulation(over)] == [RULE_SESSION]


def test_biotin_from_two_products_is_summed() -> None:
    components = (draw(1, 4, "2 mL"), draw(2, 5, "1 mL"))  # 1 mg + 1 mg
    assert not check_formulation(ctx_for(*components, limits=(limit("biotin", "2 mg"),)))
    tight = ctx_for(*components, limits=(limit("biotin", "1.999 mg"),))
    (finding,) = check_formulation(tight)
    assert (
        finding.rule == RULE_SESSION and "component 1: 1 mg, component 2: 1 mg" in finding.message
    )


def test_class_allergy_and_wilson_through_library_classes() -> None:
    ctx = ctx_for(
        draw(1, 6, "1 mL"),
        draw(2, 4, "1 mL"),
        patient=patient(allergies=(Allergy("cobalt"),), conditions=(Condition("wilsons_disease"),)),
    )
    found = check_formulation(ctx)
    assert {(f.rule, f.component_id) for f in found} == {("allergy", 2), (RULE_INGREDIENT, 1)}
    assert all(f.severity is Severity.BLOCK for f in found)


def test_pregnancy_blocks_dutasteride_and_raises_minoxidil_caution() -> None:
    ctx = ctx_for(
        draw(1, 7, "2 mL"),
        draw(2, 8, "1 mL"),
        patient=patient(conditions=(Condition("pregnancy"),)),
    )
    found = check_formulation(ctx)
    by_component = {(f.component_id, f.rule, f.severity) for f in found}
    assert (2, RULE_INGREDIENT, Severity.BLOCK) in by_component
    assert (1, RULE_CAUTION, Severity.WARNING) in by_component
    assert not any(c == 2 and r == RULE_CAUTION for c, r, _ in by_component)  # no double report
    minoxidil = next(f for f in found if f.rule == RULE_CAUTION)
    assert "trial" in minoxidil.message
    assert minoxidil.source == "registry: ClinicalTrials.gov NCT01655108"


def test_withdrawn_buflomedil_and_vitamin_e_in_iu_with_its_form() -> None:
    found = check_formulation(ctx_for(draw(1, 10, "1 mL"), draw(2, 9, "1 mL")))
    assert [(f.rule, f.component_id) for f in found] == [("ingredient.withdrawn", 1)]


def test_unresolvable_components_block() -> None:
    unknown_product = Component(1, 1, "Mystery vial", amt("1 mL"), product_id=999)
    bad_unit = Component(2, 2, "Lidocaine 2%", amt("5 mg"), product_id=1)
    neither = Component(3, 3, "Something", amt("1 mL"))
    found = check_formulation(ctx_for(unknown_product, bad_unit, neither))
    assert [(f.rule, f.component_id) for f in found] == [
        (RULE_UNRESOLVED, 1),
        (RULE_UNRESOLVED, 2),
        (RULE_UNRESOLVED, 3),
    ]


def test_session_with_share_given_and_records_version() -> None:
    version = FormulationVersion(
        1,
        1,
        "Cocktail",
        1,
        amt("20 mL"),
        (draw(1, 1, "20 mL"),),
        datetime(2026, 11, 1, tzinfo=UTC),
        "dr.ng",
    )
    ctx = ctx_for(
        *version.components, final_volume=version.final_volume, total_volume=amt("15 mL")
    )  # 400 mg in the mix, 300 mg given
    assert [f.rule for f in check_session(ctx)] == ["lot.missing"]
    # The whole mix (400 mg) is over both the 300 mg and the 360 mg (80 kg) maxima.
    assert [f.rule for f in check_formulation(ctx)] == [RULE_PER_KG, RULE_SESSION]


def test_administered_scales_earlier_sessions_by_the_share_given() -> None:
    from formulary.safety.build import administered

    broken = contributions((draw(1, 1, "10 mL"),), PRODUCTS, BY_ID)  # 200 mg lidocaine
    (half,) = administered(broken.contributions, amt("10 mL"), amt("0.005 L"))
    assert half.amount == amt("100 mg")
    assert administered(broken.contributions, None, amt("5 mL")) == broken.contributions
    assert administered(broken.contributions, amt("10 mL"), amt("5 mg")) == broken.contributions


@pytest.mark.parametrize(
    ("key", "form", "label"),
    [
        ("zinc-sulfate", "heptahydrate", "zinc sulfate heptahydrate"),  # library form key
        ("zinc-sulfate", "Zinc Sulfate Heptahydrate", "zinc sulfate heptahydrate"),
        ("lidocaine", "base", "lidocaine base"),
        ("lidocaine", "monohydrate", "lidocaine hydrochloride monohydrate"),
        ("zinc-sulfate", "", "zinc sulfate anhydrous"),  # the default form
    ],
)
def test_forms_by_key_label_or_words(key: str, form: str, label: str) -> None:
    found = BY_ID[ID[key]].substance_for(form)
    assert found is not None and found.form == label


def test_a_form_naming_several_or_none_is_refused() -> None:
    lido = BY_ID[ID["lidocaine"]]
    assert lido.substance_for("hydrochloride") is None  # anhydrous or monohydrate?
    assert lido.substance_for("sulfate") is None
