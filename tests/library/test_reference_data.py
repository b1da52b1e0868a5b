"""The data file carries every reference row faithfully, and invents nothing."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from formulary.library import Ingredient, Library, parse_source

_LEADING_NUMBER = re.compile(r"\s*(\d+(?:\.\d+)?)")
_TWO_DECIMALS = re.compile(r"(?<![\d.])(\d+\.\d{2})(?!\d)")


def _reference_name(ingredient: Ingredient) -> str:
    """The reference row an entry comes from (an entry may be named more exactly)."""
    return ingredient.reference.name or ingredient.name


def _entry(lib: Library, row: dict[str, str]) -> Ingredient:
    matches = [i for i in lib.all() if _reference_name(i) == row["name"]]
    assert len(matches) == 1, row["name"]
    return matches[0]


def _all_masses(ingredient: Ingredient) -> set[Decimal]:
    masses: set[Decimal] = set()
    for form in ingredient.forms:
        if form.molar_mass is not None:
            masses.add(form.molar_mass)
        masses.update(basis.molar_mass for basis in form.bases)
    return masses


def test_every_reference_row_is_an_entry(
    lib: Library, reference_rows: list[dict[str, str]]
) -> None:
    assert len(reference_rows) == 58
    assert len(lib.all()) == 58
    assert {_reference_name(i) for i in lib.all()} == {row["name"] for row in reference_rows}


def test_category_notes_and_reference_wording_are_verbatim(
    lib: Library, reference_rows: list[dict[str, str]]
) -> None:
    for row in reference_rows:
        entry = _entry(lib, row)
        assert entry.category == row["category"]
        assert entry.notes == row["notes"]
        assert entry.reference.molar_mass == row["molar_mass_g_per_mol"]
        assert entry.reference.stock == row["typical_stock_concentration"]
        assert entry.reference.per_session == row["typical_amount_per_session"]
        assert entry.reference.iu == row["iu_conversion"]


def test_sources_are_the_reference_sources_split(
    lib: Library, reference_rows: list[dict[str, str]]
) -> None:
    def squash(text: str) -> str:
        return re.sub(r"\s*;\s+", "; ", text.strip())

    def as_in_reference(source: str) -> str:
        # The reference prefixes secondary sources only; the library prefixes every
        # source with its kind (label, SmPC, paper …), so primary prefixes come off.
        found = parse_source(source)
        return source if found.kind == "secondary" else found.text

    for row in reference_rows:
        entry = _entry(lib, row)
        assert entry.sources, row["name"]
        shown = "; ".join(as_in_reference(s) for s in entry.sources)
        assert squash(shown) == squash(row["source"]), row["name"]
        # Primary sources first, as the reference orders them.
        kinds = [parse_source(s).primary for s in entry.sources]
        assert kinds == sorted(kinds, reverse=True), row["name"]


def test_default_molar_mass_is_the_reference_number(
    lib: Library, reference_rows: list[dict[str, str]]
) -> None:
    for row in reference_rows:
        entry = _entry(lib, row)
        text = row["molar_mass_g_per_mol"]
        match = _LEADING_NUMBER.match(text)
        if match is None:
            assert text.startswith("n/a"), text
            # No published figure: nothing may be made up, on any form or basis.
            assert _all_masses(entry) == set(), row["name"]
        else:
            assert entry.molar_mass == Decimal(match.group(1)), row["name"]


def test_every_molar_mass_in_the_reference_text_is_represented(
    lib: Library, reference_rows: list[dict[str, str]]
) -> None:
    for row in reference_rows:
        entry = _entry(lib, row)
        represented = {str(mass) for mass in _all_masses(entry)}
        notes = " ".join(form.molar_mass_note for form in entry.forms)
        for figure in _TWO_DECIMALS.findall(row["molar_mass_g_per_mol"]):
            assert figure in represented or figure in notes, (row["name"], figure)


def test_not_verified_figures_stay_absent(
    lib: Library, reference_rows: list[dict[str, str]]
) -> None:
    for row in reference_rows:
        entry = _entry(lib, row)
        stock = row["typical_stock_concentration"].casefold()
        if stock.startswith(("not verified", "unverified")):
            assert entry.stock_strengths == (), row["name"]
        if row["typical_amount_per_session"].startswith("no published"):
            assert entry.typical_doses == () and entry.limits == (), row["name"]
        if row["iu_conversion"].startswith("none"):
            assert not entry.has_iu, row["name"]


def test_stock_strength_figures_come_from_the_reference_text(
    lib: Library, reference_rows: list[dict[str, str]]
) -> None:
    # Derived, not quoted: a 100-unit vial in 2 mL is 50 units/mL.
    derived = {("botulinum-toxin-a", "50")}
    for row in reference_rows:
        entry = _entry(lib, row)
        text = row["typical_stock_concentration"].replace(",", "")
        quoted = set(re.findall(r"\d+(?:\.\d+)?", text))
        for strength in entry.stock_strengths:
            figure = str(strength.amount.value)
            assert figure in quoted or (entry.key, figure) in derived, (entry.key, figure)


@pytest.mark.parametrize(
    ("key", "form", "mg_per_iu"),
    [
        ("vitamin-e-natural", "RRR-alpha-tocopherol", "0.67"),
        ("vitamin-e-natural", "RRR-alpha-tocopheryl acetate", "0.735"),
        ("vitamin-e-synthetic", "all-rac-alpha-tocopheryl acetate", "1"),
        ("vitamin-e-synthetic", "all-rac-alpha-tocopherol", "0.91"),
        ("vitamin-a-retinol", "all-trans-retinol", "0.0003"),
        ("vitamin-a-palmitate", "retinyl palmitate", "0.00055"),
        ("vitamin-a-palmitate", "retinyl acetate", "0.000344"),
        ("vitamin-d3", "cholecalciferol", "0.000025"),
        ("vitamin-d3", "ergocalciferol (D2)", "0.000025"),
    ],
)
def test_iu_bases(lib: Library, key: str, form: str, mg_per_iu: str) -> None:
    substance = lib.by_key(key).substance(form)
    basis = substance.iu_basis(substance.form)
    assert basis is not None
    assert basis.mass_per_iu_mg == Decimal(mg_per_iu)


def test_natural_vitamin_e_keeps_the_usp_figure_beside_the_iom_one(lib: Library) -> None:
    fact = lib.by_key("vitamin-e-natural").default_form.iu_facts[0]
    assert fact.mass_per_iu_mg == Decimal("0.67")
    assert "0.671" in fact.note
    assert "IOM" in fact.source


@pytest.mark.parametrize("key", ["biotin", "ascorbic-acid", "zinc-sulfate", "botulinum-toxin-a"])
def test_no_iu_is_offered_where_none_exists(lib: Library, key: str) -> None:
    ingredient = lib.by_key(key)
    assert not ingredient.has_iu
    for form in ingredient.forms:
        assert ingredient.substance(form.key).iu_bases == ()


def test_botulinum_units_are_product_specific(lib: Library) -> None:
    toxin = lib.find("Botox")
    assert toxin.product_specific_units
    substance = toxin.substance()
    assert substance.product_specific_units
    assert substance.molar_mass is None
    assert not any(i.product_specific_units for i in lib.all() if i is not toxin)


def test_buflomedil_is_withdrawn_with_the_reason(lib: Library) -> None:
    buflomedil = lib.find("Loftyl")
    assert buflomedil.withdrawn
    assert "suspended" in buflomedil.status_reason
    assert "2012" in buflomedil.status_reason
    assert buflomedil.status_source.startswith("report: https://www.ema.europa.eu/")
    assert [i.key for i in lib.all() if i.withdrawn] == ["buflomedil"]


def test_published_limits(lib: Library) -> None:
    procaine = {(str(d.amount.value), d.amount.unit, d.per) for d in lib.find("procaine").limits}
    assert procaine == {
        ("10", "mg", "wheal"),
        ("500", "mg", "injection"),
        ("200", "mg", "session"),
    }
    [head_neck] = [d for d in lib.find("procaine").limits if d.amount.value == 200]
    assert head_neck.region == "head and neck" and head_neck.within_hours == 2
    lidocaine = {(str(d.amount.value), d.amount.unit, d.per) for d in lib.find("lidocaine").limits}
    assert lidocaine == {("4.5", "mg", "kg"), ("300", "mg", "injection")}
    assert {d.condition for d in lib.find("lidocaine").limits} == {"without adrenaline"}
    for ingredient in lib.all():
        for dose in (*ingredient.limits, *ingredient.typical_doses):
            assert dose.source.strip() and dose.basis.strip()


def test_published_typical_doses(lib: Library) -> None:
    dutasteride = lib.find("dutasteride").typical_doses
    assert (Decimal("0.1"), "mg", "session") in {
        (d.amount.value, d.amount.unit, d.per) for d in dutasteride
    }
    minoxidil = lib.find("minoxidil").typical_doses
    assert [(d.amount.value, d.amount.unit, d.per) for d in minoxidil] == [
        (Decimal(10), "mg", "session")
    ]
    assert "NCT01655108" in minoxidil[0].source


@pytest.mark.parametrize(
    ("key", "value", "unit"),
    [
        ("minoxidil", "0.5", "% w/v"),
        ("dexpanthenol", "250", "mg/mL"),
        ("cyanocobalamin", "1000", "mcg/mL"),
        ("sodium-chloride", "0.9", "% w/v"),
        ("copper-chloride", "0.4", "mg/mL"),
        ("selenium", "40", "mcg/mL"),
        ("vitamin-a-palmitate", "50000", "IU/mL"),
    ],
)
def test_stock_strengths(lib: Library, key: str, value: str, unit: str) -> None:
    strengths = {(s.amount.value, s.amount.unit) for s in lib.by_key(key).stock_strengths}
    assert (Decimal(value), unit) in strengths


def test_classes_for_allergy_matching(lib: Library) -> None:
    def keys(tag: str) -> set[str]:
        return {i.key for i in lib.with_class(tag)}

    assert keys("amino acid") == {
        "cysteine", "methionine", "arginine", "glycine", "proline",
        "lysine", "glutamine", "taurine", "ornithine",
    }  # fmt: skip
    assert keys("ester anaesthetic") == {"procaine"}
    assert keys("amide anaesthetic") == {"lidocaine"}
    assert keys("cobalt") == {"cyanocobalamin"}
    assert keys("copper") == {"copper-chloride", "ghk-cu"}
    assert keys("vitamin B") == {
        "biotin", "dexpanthenol", "calcium-pantothenate", "niacinamide", "pyridoxine",
        "thiamine", "riboflavin", "cyanocobalamin", "folic-acid",
    }  # fmt: skip
    assert keys("Amino-Acid") == keys("amino acid")
    assert "amino acid" in lib.classes()


def test_cautions(lib: Library) -> None:
    def coded(code: str) -> set[str]:
        return {i.key for i in lib.all() if i.cautions_of(code)}

    assert coded("pregnancy") == {"dutasteride", "finasteride", "minoxidil"}
    assert coded("incompatible") == {"ascorbic-acid", "copper-chloride"}
    [ascorbate_copper] = lib.find("vitamin C").cautions_of("incompatible")
    assert ascorbate_copper.with_keys == ("copper-chloride",)
    assert coded("withdrawn") == {"buflomedil"}
    assert coded("sensitivity") == {"cyanocobalamin", "organic-silicon"}
    for ingredient in lib.all():
        for caution in ingredient.cautions:
            assert caution.text.strip()
            for key in caution.with_keys:
                assert lib.by_key(key) is not ingredient
