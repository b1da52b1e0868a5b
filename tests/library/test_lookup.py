"""Finding ingredients by what a practitioner types."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from formulary.library import (
    AmbiguousIngredient,
    Ingredient,
    Library,
    LibraryError,
    UnknownIngredient,
)


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("Biotin", "biotin"),
        ("BIOTIN", "biotin"),
        ("  biotin ", "biotin"),
        ("Dexpanthénol", "dexpanthenol"),
        ("DEXPANTHÉNOL", "dexpanthenol"),
        ("dex-panthenol", "dexpanthenol"),
        ("Vit B12", "cyanocobalamin"),
        ("vitamin b-12", "cyanocobalamin"),
        ("cobalamin", "cyanocobalamin"),
        ("vitamin B1", "thiamine"),
        ("zinc sulphate", "zinc-sulfate"),
        ("Zn", "zinc-sulfate"),
        ("zinc sulfate heptahydrate", "zinc-sulfate"),
        ("lidocaine HCl", "lidocaine"),
        ("Lidocaine hydrochloride", "lidocaine"),
        ("lignocaine", "lidocaine"),
        ("lidocaine base", "lidocaine"),
        ("Novocain", "procaine"),
        ("sodium selenite", "selenium"),
        ("retinyl acetate", "vitamin-a-palmitate"),
        ("ergocalciferol", "vitamin-d3"),
        ("pantothenic acid", "calcium-pantothenate"),
        ("Tβ4", "thymosin-beta-4"),
        ("thymosin β-4", "thymosin-beta-4"),
        ("NaCl 0.9%", "sodium-chloride"),
        ("normal saline", "sodium-chloride"),
        ("GHK-Cu", "ghk-cu"),
        ("1,3,7-trimethylxanthine", "caffeine"),
        ("Vitamin E (natural) - RRR-alpha-tocopherol", "vitamin-e-natural"),
        ("vitamin e natural", "vitamin-e-natural"),
        ("zinc-sulfate", "zinc-sulfate"),
    ],
)
def test_find(lib: Library, typed: str, key: str) -> None:
    assert lib.find(typed).key == key


def test_every_name_and_synonym_finds_its_entry(lib: Library) -> None:
    shared = {s.name for s in lib.shared_synonyms}
    for ingredient in lib.all():
        assert lib.find(ingredient.name) is ingredient
        assert lib.find(ingredient.name.upper()) is ingredient
        for synonym in ingredient.synonyms:
            if synonym not in shared:
                assert lib.find(synonym) is ingredient, synonym


def test_an_ambiguous_name_is_refused_with_the_candidates(lib: Library) -> None:
    with pytest.raises(AmbiguousIngredient) as caught:
        lib.find("vitamin e")
    assert str(caught.value) == (
        "'vitamin e' matches 2 ingredients: Vitamin E (natural) - RRR-alpha-tocopherol, "
        "Vitamin E (synthetic) - all-rac-alpha-tocopheryl acetate; type the full name"
    )
    assert {c.key for c in caught.value.candidates} == {"vitamin-e-natural", "vitamin-e-synthetic"}
    assert isinstance(caught.value, LibraryError) and isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    ("typed", "keys"),
    [
        ("Vitamin A", {"vitamin-a-retinol", "vitamin-a-palmitate"}),
        ("vit. B5", {"dexpanthenol", "calcium-pantothenate"}),
        ("Capixyl", {"biochanin-a", "acetyl-tetrapeptide-3"}),
        ("tocopherol", {"vitamin-e-natural", "vitamin-e-synthetic"}),
    ],
)
def test_other_deliberately_shared_names(lib: Library, typed: str, keys: set[str]) -> None:
    with pytest.raises(AmbiguousIngredient) as caught:
        lib.find(typed)
    assert {c.key for c in caught.value.candidates} == keys
    for candidate in caught.value.candidates:
        assert candidate.name in str(caught.value)


def test_unknown_name_gets_close_suggestions(lib: Library) -> None:
    with pytest.raises(UnknownIngredient) as caught:
        lib.find("lidocain")
    assert caught.value.suggestions[0] == "Lidocaine hydrochloride"
    assert "did you mean: Lidocaine hydrochloride" in str(caught.value)

    with pytest.raises(UnknownIngredient) as caught:
        lib.find("minoxidyl")
    assert "Minoxidil" in caught.value.suggestions
    assert len(caught.value.suggestions) <= 3


def test_unknown_name_without_anything_close(lib: Library) -> None:
    with pytest.raises(UnknownIngredient) as caught:
        lib.find("qqqqqq")
    assert caught.value.suggestions == ()
    assert "'qqqqqq'" in str(caught.value)


@pytest.mark.parametrize("typed", ["", "   ", "\t"])
def test_empty_input_is_refused(lib: Library, typed: str) -> None:
    with pytest.raises(UnknownIngredient, match="No ingredient name given"):
        lib.find(typed)


@pytest.mark.parametrize("typed", ["--", "%%%", "()"])
def test_punctuation_only_is_refused(lib: Library, typed: str) -> None:
    with pytest.raises(UnknownIngredient, match="has no letters or digits"):
        lib.find(typed)


def test_overlong_input_is_refused_quickly(lib: Library) -> None:
    with pytest.raises(UnknownIngredient) as caught:
        lib.find("biotin" * 1000)
    assert len(str(caught.value)) < 200


@pytest.mark.parametrize(
    ("typed", "key", "form"),
    [
        ("zinc sulfate heptahydrate", "zinc-sulfate", "heptahydrate"),
        ("Lidocaine base", "lidocaine", "base"),
        ("lidocaine HCl monohydrate", "lidocaine", "monohydrate"),
        ("retinyl acetate", "vitamin-a-palmitate", "retinyl-acetate"),
        ("all-trans-retinol", "vitamin-a-retinol", "retinol"),
        ("zinc", "zinc-sulfate", None),
        ("Xylocaine", "lidocaine", None),
    ],
)
def test_resolve_names_the_form_when_typed(
    lib: Library, typed: str, key: str, form: str | None
) -> None:
    ingredient, found = lib.resolve(typed)
    assert ingredient.key == key
    assert (found.key if found else None) == form


def test_resolve_refuses_like_find(lib: Library) -> None:
    with pytest.raises(AmbiguousIngredient):
        lib.resolve("vitamin E")
    with pytest.raises(UnknownIngredient):
        lib.resolve("nothing like it")


def test_by_key(lib: Library) -> None:
    assert lib.by_key("zinc-sulfate").name == "Zinc sulfate"
    with pytest.raises(UnknownIngredient):
        lib.by_key("Zinc sulfate")


def test_search_ranks_prefixes_first(lib: Library) -> None:
    assert lib.search("lido")[0].key == "lidocaine"
    assert lib.search("zinc")[0].key == "zinc-sulfate"
    assert lib.search("Vit B12")[0].key == "cyanocobalamin"
    # Every typed word must start some word of the name.
    assert {i.key for i in lib.search("vit e")} == {"vitamin-e-natural", "vitamin-e-synthetic"}
    names = [i.name for i in lib.search("vitamin")]
    assert names[0].startswith("Vitamin")


def test_search_finds_by_synonym_and_substring(lib: Library) -> None:
    assert lib.search("xylo")[0].key == "lidocaine"
    assert "ghk-cu" in {i.key for i in lib.search("tripeptide")}


def test_search_limits_and_empty_text(lib: Library) -> None:
    assert len(lib.search("", limit=5)) == 5
    assert lib.search("") == list(lib.all()[:20])
    assert lib.search("l", limit=3) == lib.search("l")[:3]
    assert lib.search("anything", limit=0) == []
    assert lib.search("qqqqqq") == []


@given(st.text(max_size=200))
def test_find_returns_an_ingredient_or_a_library_error(text: str) -> None:
    from formulary.library import load_library

    try:
        result = load_library().find(text)
    except LibraryError as error:
        assert str(error)
    else:
        assert isinstance(result, Ingredient)


@given(st.text(max_size=200), st.integers(min_value=-1, max_value=80))
def test_search_never_raises(text: str, limit: int) -> None:
    from formulary.library import load_library

    results = load_library().search(text, limit=limit)
    assert len(results) <= max(limit, 0)
    assert len({i.key for i in results}) == len(results)


@given(st.sampled_from(["Biotin", "Minoxidil", "Glycine", "Caffeine", "Dutasteride"]), st.data())
def test_case_and_spacing_never_matter(name: str, data: st.DataObject) -> None:
    from formulary.library import load_library

    flips = data.draw(st.lists(st.booleans(), min_size=len(name), max_size=len(name)))
    varied = "".join(c.upper() if flip else c.lower() for c, flip in zip(name, flips, strict=True))
    padding = data.draw(st.sampled_from(["", " ", "  ", "\t"]))
    assert load_library().find(padding + varied + padding).name == name
