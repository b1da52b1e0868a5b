"""The data file's own rules, and that a bad edit is refused with the place named."""

from __future__ import annotations

import copy
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from formulary.library import Library, LibraryDataError, LibraryError, load_library
from formulary.library.names import normalize


def test_every_entry_has_sources_and_a_slug_key(lib: Library) -> None:
    keys = [i.key for i in lib.all()]
    assert len(keys) == len(set(keys))
    for ingredient in lib.all():
        assert ingredient.sources and all(s.strip() for s in ingredient.sources)
        assert ingredient.key == ingredient.key.lower()
        assert lib.by_key(ingredient.key) is ingredient


def test_every_number_is_positive(lib: Library) -> None:
    for ingredient in lib.all():
        for form in ingredient.forms:
            assert form.molar_mass is None or form.molar_mass > 0
            assert form.valence is None or form.valence > 0
            for basis in form.bases:
                assert basis.molar_mass > 0 and basis.count >= 1
                # A part cannot weigh more than the whole.
                fraction = form.mass_fraction(basis.key)
                assert fraction is None or Decimal(0) < fraction < 1, (ingredient.key, basis.key)
            for fact in form.iu_facts:
                assert fact.mass_per_iu_mg > 0
        for strength in ingredient.stock_strengths:
            assert strength.amount.value > 0
        for dose in (*ingredient.limits, *ingredient.typical_doses):
            assert dose.amount.value > 0


def test_names_are_shared_only_where_declared(lib: Library) -> None:
    owners: dict[str, set[str]] = {}
    for ingredient in lib.all():
        names = (ingredient.name, ingredient.key, *ingredient.synonyms)
        names += tuple(form.label for form in ingredient.forms)
        for name in names:
            owners.setdefault(normalize(name), set()).add(ingredient.key)
    shared = {normalize(s.name): set(s.keys) for s in lib.shared_synonyms}
    clashing = {name: keys for name, keys in owners.items() if len(keys) > 1}
    assert clashing == shared
    assert normalize("vitamin E") in shared


def test_loading_is_cached() -> None:
    assert load_library() is load_library()


def _first(document: dict[str, Any], key: str) -> dict[str, Any]:
    entry: dict[str, Any] = next(e for e in document["ingredients"] if e["key"] == key)
    return entry


def test_the_packaged_document_loads(document: dict[str, Any]) -> None:
    assert len(Library.from_document(document).all()) == 58


BAD_EDITS: dict[str, Callable[[dict[str, Any]], object]] = {
    "duplicate key": lambda d: d["ingredients"].append(copy.deepcopy(_first(d, "biotin"))),
    "no sources": lambda d: _first(d, "biotin").update(sources=[]),
    "negative molar mass": lambda d: _first(d, "biotin")["forms"][0].update(molar_mass="-1"),
    "zero molar mass": lambda d: _first(d, "biotin")["forms"][0].update(molar_mass="0"),
    "float molar mass": lambda d: _first(d, "biotin")["forms"][0].update(molar_mass=244.31),
    "exponent molar mass": lambda d: _first(d, "biotin")["forms"][0].update(molar_mass="1e3"),
    "unknown unit": lambda d: _first(d, "minoxidil")["stock_strengths"][0]["amount"].update(
        unit="percent"
    ),
    "unknown per": lambda d: _first(d, "procaine")["limits"][0].update(per="day"),
    "limit without source": lambda d: _first(d, "procaine")["limits"][0].update(source=""),
    "unknown category": lambda d: _first(d, "biotin").update(category="herb"),
    "bad slug": lambda d: _first(d, "biotin").update(key="Biotin B7"),
    "default form missing": lambda d: _first(d, "biotin").update(default_form="nope"),
    "withdrawn without reason": lambda d: _first(d, "biotin").update(status="withdrawn"),
    "undeclared shared synonym": lambda d: _first(d, "biotin")["synonyms"].append("zinc"),
    "declared but not shared": lambda d: _first(d, "vitamin-a-retinol")["synonyms"].remove(
        "vitamin A"
    ),
    "iu form not the label": lambda d: _first(d, "vitamin-d3")["forms"][0]["iu_bases"][0].update(
        form="vitamin D"
    ),
    "iu in grams": lambda d: _first(d, "vitamin-d3")["forms"][0]["iu_bases"][0][
        "mass_per_iu"
    ].update(unit="g"),
    "boolean valence": lambda d: _first(d, "zinc-sulfate")["forms"][0].update(valence=True),
    "wrong schema": lambda d: d.update(schema=2),
    "unknown caution code": lambda d: _first(d, "dutasteride")["cautions"][0].update(code="risky"),
    "caution with unknown key": lambda d: _first(d, "ascorbic-acid")["cautions"][0].update(
        {"with": ["copper"]}
    ),
    "zero time window": lambda d: _first(d, "procaine")["limits"][2].update(within_hours="0"),
    "name without letters": lambda d: _first(d, "biotin")["synonyms"].append("--"),
}


@pytest.mark.parametrize("edit", sorted(BAD_EDITS))
def test_a_bad_edit_is_refused(document: dict[str, Any], edit: str) -> None:
    BAD_EDITS[edit](document)
    with pytest.raises(LibraryDataError) as caught:
        Library.from_document(document)
    assert isinstance(caught.value, LibraryError)
    assert str(caught.value).startswith("library data: "), str(caught.value)


def test_an_error_names_the_entry_and_field(document: dict[str, Any]) -> None:
    _first(document, "zinc-sulfate")["forms"][1]["bases"][0].update(molar_mass="zero")
    with pytest.raises(
        LibraryDataError, match=r"\(zinc-sulfate\)\.forms\[1\]\.bases\[0\]\.molar_mass"
    ):
        Library.from_document(document)


def test_document_is_the_data_file_entry_as_written(lib: Library, document: dict[str, Any]) -> None:
    raw = _first(document, "zinc-sulfate")
    copied = lib.document("zinc-sulfate")
    assert copied == raw
    copied["forms"][0]["molar_mass"] = "1"
    assert lib.document("zinc-sulfate") == raw
    assert lib.by_key("zinc-sulfate").molar_mass == Decimal("161.44")
    with pytest.raises(LibraryError):
        lib.document("no-such-key")
