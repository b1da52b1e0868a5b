"""Rule 2: allergies and intolerances against every ingredient, by name, synonym and class."""

from __future__ import annotations

import pytest

from formulary.records import Allergy
from formulary.safety import Severity, check_formulation
from formulary.safety.allergies import RULE_ALLERGY, RULE_INTOLERANCE
from tests.safety_fixtures import context, give, patient, product


def check(allergies: tuple[Allergy, ...], *contributions: object, components: tuple = ()):  # type: ignore[no-untyped-def,type-arg]
    ctx = context(
        patient=patient(allergies=allergies), components=components, contributions=contributions
    )
    return check_formulation(ctx)


@pytest.mark.parametrize(
    ("written", "key"),
    [
        ("Biotin", "biotin"),
        ("vitamin H", "biotin"),  # synonym
        ("LIDOCAINE", "lidocaine"),  # case, and a word of the name
        ("lignocaine", "lidocaine"),  # synonym
        ("amino acids", "cysteine"),  # class, plural
        ("Amino-acid", "glycine"),  # class, punctuation
        ("sulphites", "metabisulfite"),  # class, British spelling, plural
        ("cobalt", "cyanocobalamin"),  # class from the label's cobalt sensitivity
        ("vitamin B12", "cyanocobalamin"),
        ("zinc", "zinc-gluconate"),
        ("local anaesthetics", "lidocaine"),
    ],
)
def test_allergy_matches_names_synonyms_and_classes(written: str, key: str) -> None:
    found = check((Allergy(written),), give(1, key, "1 mg"))
    (finding,) = found
    assert finding.rule == RULE_ALLERGY
    assert finding.severity is Severity.BLOCK
    assert finding.component_id == 1
    assert written in finding.message
    assert "Remove" in finding.remedy


@pytest.mark.parametrize(
    ("written", "key"),
    [
        ("zincite", "zinc-sulfate"),
        ("penicillin", "biotin"),
        ("acidic foods", "glycine"),
        ("", "biotin"),
        ("   ", "biotin"),
        ("---", "biotin"),
        ("vitamin B12 and more words than any name", "cyanocobalamin"),
    ],
)
def test_allergy_does_not_match_unrelated_ingredients(written: str, key: str) -> None:
    assert not check((Allergy(written),), give(1, key, "1 mg"))


def test_allergy_by_library_id() -> None:
    found = check(
        (Allergy("the B vitamin from the old chart", ingredient_id=1),), give(1, "biotin", "1 mg")
    )
    assert [f.rule for f in found] == [RULE_ALLERGY]


def test_allergy_to_a_product_name() -> None:
    found = check(
        (Allergy("HairCocktail Plus"),),
        give(3, "biotin", "1 mg"),
        components=(product(3, "HairCocktail Plus"),),
    )
    assert [f.component_id for f in found] == [3]


def test_component_without_known_ingredients_is_matched_by_name() -> None:
    found = check((Allergy("Mesoglycan"),), components=(product(4, "Mesoglycan 2 mL ampoule"),))
    assert [f.component_id for f in found] == [4]


def test_class_allergy_matches_every_member_in_every_component() -> None:
    found = check(
        (Allergy("amino acid"),),
        give(1, "cysteine", "1 mg"),
        give(1, "glycine", "1 mg"),
        give(2, "glycine", "2 mg"),
        give(2, "biotin", "2 mg"),
    )
    assert sorted((f.component_id, f.subject.split(":")[0]) for f in found) == [
        (1, "cysteine"),
        (1, "glycine"),
        (2, "glycine"),
    ]


def test_intolerance_warns() -> None:
    found = check(
        (Allergy("biotin", reaction="nausea", kind="intolerance"),), give(1, "biotin", "1 mg")
    )
    (finding,) = found
    assert finding.rule == RULE_INTOLERANCE and finding.severity is Severity.WARNING
    assert "nausea" in finding.message


def test_no_allergies_no_findings() -> None:
    assert not check((), give(1, "biotin", "1 mg"), give(2, "cysteine", "1 mg"))


def test_a_product_name_match_is_reported_once_per_component() -> None:
    # "zinc" names the product, not its ingredients: one finding for the component.
    found = check(
        (Allergy("zinc"),),
        give(1, "biotin", "1 mg"),
        give(1, "glycine", "1 mg"),
        components=(product(1, "B-complex with zinc"),),
    )
    assert [(f.component_id, f.subject) for f in found] == [(1, ":zinc")]
    # When an ingredient matches, the product's own name adds no second finding.
    found = check(
        (Allergy("zinc"),),
        give(2, "zinc-sulfate", "1 mg"),
        components=(product(2, "Zinc sulfate 10 mg/mL"),),
    )
    assert [(f.component_id, f.subject) for f in found] == [(2, "zinc-sulfate:zinc")]
