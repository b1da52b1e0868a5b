"""Sources with their kinds, limits on primary sources, forms typed as the substance,
and vitamin E on the USP mass basis or, only when named, the IOM alpha-tocopherol basis."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from formulary.ingredient_units import convert_ingredient
from formulary.library import (
    LIMIT_SOURCE_KINDS,
    SECONDARY_ONLY,
    SOURCE_KINDS,
    Library,
    LibraryDataError,
    load_library,
    parse_source,
)
from formulary.units import (
    AmbiguousFormError,
    Amount,
    UnitsError,
    convert,
    parse_quantity,
    round_significant,
)

#: Every name of every form of every entry with more than one form.
MULTI_FORM = [
    (entry.key, form.key, name)
    for entry in load_library().all()
    if len(entry.forms) > 1
    for form in entry.forms
    for name in (form.label, *form.synonyms)
]


def test_every_source_carries_its_kind(lib: Library) -> None:
    for entry in lib.all():
        for source in entry.cited:
            assert source.kind in SOURCE_KINDS, (entry.key, source.text)
            assert source.text, entry.key
        figures = [*entry.limits, *entry.typical_doses]
        for figure in figures:
            assert figure.cited.kind in SOURCE_KINDS, (entry.key, figure.source)
        for form in entry.forms:
            for fact in form.iu_facts:
                assert parse_source(fact.source).kind in SOURCE_KINDS, (entry.key, fact.source)


def test_every_library_limit_cites_a_primary_source(lib: Library) -> None:
    limits = [(entry, limit) for entry in lib.all() for limit in entry.limits]
    assert limits
    for entry, limit in limits:
        assert limit.cited.kind in LIMIT_SOURCE_KINDS, (entry.key, limit.source)


def test_lidocaine_and_procaine_limits_cite_their_labels(lib: Library) -> None:
    lidocaine = lib.find("lidocaine")
    assert {limit.cited.kind for limit in lidocaine.limits} == {"label"}
    assert all("Hospira" in limit.source for limit in lidocaine.limits)
    procaine = lib.find("procaine")
    assert {limit.cited.kind for limit in procaine.limits} == {"SmPC"}
    assert all("Fachinformation" in limit.source for limit in procaine.limits)
    for entry in (lidocaine, procaine):
        for source in entry.sources:
            assert "realvalueproducts" not in source and "eliveragroup" not in source


def _with_limit_source(document: dict[str, Any], source: str) -> dict[str, Any]:
    edited = copy.deepcopy(document)
    entry = next(e for e in edited["ingredients"] if e["key"] == "lidocaine")
    entry["limits"][0]["source"] = source
    return edited


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("secondary: a shop page https://example.com", "must cite a label, an SmPC"),
        ("registry: an NDC listing", "must cite a label, an SmPC"),
        ("a label with no kind", "must start with its kind"),
    ],
)
def test_a_limit_without_a_primary_source_is_refused(
    document: dict[str, Any], source: str, problem: str
) -> None:
    with pytest.raises(LibraryDataError, match=problem) as refused:
        Library.from_document(_with_limit_source(document, source))
    assert "lidocaine" in str(refused.value) and "limits[0].source" in str(refused.value)


def test_the_nine_entries_on_secondary_sources_only_are_marked(lib: Library) -> None:
    marked = {entry.name for entry in lib.all() if entry.secondary_only}
    assert marked == {
        "Niacinamide",
        "Riboflavin",
        "L-Methionine",
        "L-Lysine hydrochloride",
        "Coenzyme Q10",
        "Saw palmetto extract",
        "Biochanin A",
        "Acetyl tetrapeptide-3",
        "Epidermal growth factor (EGF)",
    }
    for entry in lib.all():
        assert (entry.sourcing == SECONDARY_ONLY) == entry.secondary_only, entry.key
        # The mark travels with the entry's document (what the database copies).
        assert (lib.document(entry.key).get("sourcing") == SECONDARY_ONLY) == (entry.secondary_only)


def test_an_unmarked_secondary_only_entry_is_refused(document: dict[str, Any]) -> None:
    edited = copy.deepcopy(document)
    entry = next(e for e in edited["ingredients"] if e["key"] == "niacinamide")
    del entry["sourcing"]
    with pytest.raises(LibraryDataError, match="sourcing"):
        Library.from_document(edited)


# --- forms typed as the substance ------------------------------------------------------------


@pytest.mark.parametrize(("key", "form_key", "name"), MULTI_FORM)
def test_a_form_typed_as_the_substance_is_that_form(
    lib: Library, key: str, form_key: str, name: str
) -> None:
    entry, form = lib.resolve(name)
    assert entry.key == key
    assert form is not None and form.key == form_key, name
    # Converting with it uses that form's facts, without naming the form again.
    if form.iu_facts:
        done = convert_ingredient(parse_quantity("1000 IU"), "mg", entry, named_form=form)
        mg = form.iu_facts[0].mass_per_iu_mg * 1000
        assert done.result.value == mg and done.from_form == form.label
    elif form.molar_mass is not None and form.convert_moles:
        done = convert_ingredient(parse_quantity("1 mmol"), "mg", entry, named_form=form)
        assert done.result.value == form.molar_mass and done.from_form == form.label


def test_ergocalciferol_typed_as_the_substance_converts_to_iu(lib: Library) -> None:
    entry, form = lib.resolve("ergocalciferol")
    assert "D3" not in entry.name.replace("D3 or D2", "")  # never labelled D3 alone
    done = convert_ingredient(parse_quantity("1.25 mg"), "IU", entry, named_form=form)
    assert done.result == Amount(Decimal(50000), "IU")
    assert done.from_form == "ergocalciferol (D2)"
    # "vitamin D" names no form: the IU of the entry stays a question.
    vitamin_d, none = lib.resolve("vitamin D")
    assert none is None
    with pytest.raises(AmbiguousFormError, match="depend on the form"):
        convert_ingredient(parse_quantity("1000 IU"), "mcg", vitamin_d)


# --- vitamin E: USP mass, and the IOM alpha-tocopherol basis only when asked -------------------

IOM = "mg alpha-tocopherol (IOM 2000)"


@pytest.mark.parametrize(
    ("substance", "iu_to_mg_usp", "iu_to_mg_iom"),
    [
        ("dl-alpha-tocopheryl acetate", "400", "180"),  # USP 1 mg/IU; IOM 0.45
        ("dl-alpha-tocopherol", "364", "180"),  # USP 0.91 mg/IU; IOM 0.45
        ("RRR-alpha-tocopherol", "268", "268"),  # USP 0.67 mg/IU; IOM 0.67
        ("d-alpha-tocopheryl acetate", "294", "268"),  # USP 0.735 mg/IU; IOM 0.67
    ],
)
def test_vitamin_e_both_bases_both_ways(
    lib: Library, substance: str, iu_to_mg_usp: str, iu_to_mg_iom: str
) -> None:
    entry, form = lib.resolve(substance)
    assert form is not None
    units = parse_quantity("400 IU")
    usp = convert_ingredient(units, "mg", entry, named_form=form)
    assert usp.result.value == Decimal(iu_to_mg_usp)  # the default: mg of the compound
    iom = convert_ingredient(units, "mg", entry, named_form=form, to_form=IOM)
    assert iom.result.value == Decimal(iu_to_mg_iom) and iom.to_form == IOM
    # Back: mg alpha-tocopherol → IU, and → mg of the compound.
    back = convert_ingredient(iom.result, "IU", entry, form="alpha-tocopherol-iom")
    assert back.result.value == Decimal(400)
    compound = convert_ingredient(
        iom.result, "mg", entry, form="alpha-tocopherol-iom", named_form=form
    )
    assert round_significant(compound.result.value, 6) == Decimal(iu_to_mg_usp)
    # mg of the compound → mg alpha-tocopherol, both ways.
    there = convert_ingredient(usp.result, "mg", entry, named_form=form, to_form=IOM)
    assert round_significant(there.result.value, 6) == Decimal(iu_to_mg_iom)


def test_the_alpha_tocopherol_basis_is_never_used_silently(lib: Library) -> None:
    synthetic = lib.find("vitamin E synthetic")
    form = synthetic.form("all-rac-alpha-tocopheryl acetate")
    plain = convert_ingredient(parse_quantity("400 IU"), "mg", synthetic, named_form=form)
    assert plain.result.value == 400 and plain.to_form == form.label
    # The engine alone has no activity basis at all.
    substance = synthetic.substance(form.key)
    assert convert(parse_quantity("400 IU"), "mg", substance).value == 400
    # A mass of an entry with several forms needs the form to reach alpha-tocopherol.
    with pytest.raises(AmbiguousFormError, match="name one of"):
        convert_ingredient(parse_quantity("400 mg"), "mg", synthetic, to_form=IOM)


# --- messages: name the substance, never a command-line flag ----------------------------------


@pytest.mark.parametrize(
    ("amount", "target", "name"),
    [
        ("400 IU", "mg", "vitamin E natural"),
        ("400 IU", "mg", "vitamin E synthetic"),
        ("1000 IU", "mcg", "vitamin D"),
        ("400 IU", "mg", "biotin"),
        ("5 mg", "mL", "zinc sulfate"),
        ("5 mg/mL", "mg", "zinc sulfate"),
        ("400 mg", "mg", "vitamin E synthetic"),
    ],
)
def test_domain_messages_name_the_substance_and_no_flag(
    lib: Library, amount: str, target: str, name: str
) -> None:
    entry = lib.find(name)
    to_form = IOM if amount == "400 mg" else None
    with pytest.raises(UnitsError) as refused:
        convert_ingredient(parse_quantity(amount), target, entry, to_form=to_form)
    message = str(refused.value)
    assert "--" not in message and "formulary calc" not in message, message
    if "IU" in amount or to_form:
        assert entry.name in message, message


def test_without_a_substance_the_engine_asks_for_one_without_a_flag() -> None:
    with pytest.raises(UnitsError) as refused:
        convert(parse_quantity("400 IU"), "mg")
    assert "--" not in str(refused.value) and "substance" in str(refused.value)


_IU = st.decimals(min_value=Decimal("0.001"), max_value=Decimal("1000000"), places=3)


@given(
    _IU,
    st.sampled_from(
        [
            "dl-alpha-tocopheryl acetate",
            "RRR-alpha-tocopherol",
            "d-alpha-tocopheryl acetate",
            "dl-alpha-tocopherol",
        ]
    ),
)
def test_alpha_tocopherol_round_trip(value: Decimal, substance: str) -> None:
    entry, form = load_library().resolve(substance)
    units = Amount(value, "IU")
    there = convert_ingredient(units, "mg", entry, named_form=form, to_form=IOM).result
    back = convert_ingredient(there, "IU", entry, form="alpha-tocopherol-iom").result
    assert round_significant(back.value, 12) == round_significant(value, 12)
    compound = convert_ingredient(there, "mg", entry, form=IOM, named_form=form).result
    usp = convert_ingredient(units, "mg", entry, named_form=form).result
    assert round_significant(compound.value, 12) == round_significant(usp.value, 12)
