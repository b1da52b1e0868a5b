"""The facts handed to the units engine, checked against hand calculations."""

from __future__ import annotations

from decimal import Decimal

import pytest

from formulary.library import Library, LibraryError, UnknownForm
from formulary.units.substance import Substance


@pytest.mark.parametrize(
    ("key", "form", "basis", "expected"),
    [
        # Zn in ZnSO4·7H2O and in anhydrous ZnSO4
        ("zinc-sulfate", "heptahydrate", "zinc", Decimal("65.38") / Decimal("287.54")),
        ("zinc-sulfate", "anhydrous", "zinc", Decimal("65.38") / Decimal("161.44")),
        ("copper-chloride", "dihydrate", "copper", Decimal("63.55") / Decimal("170.48")),
        ("selenium", "selenious-acid", "selenium", Decimal("78.97") / Decimal("128.98")),
        ("selenium", "sodium-selenite", "selenium", Decimal("78.97") / Decimal("172.95")),
        ("magnesium-sulfate", "heptahydrate", "magnesium", Decimal("24.305") / Decimal("246.47")),
        ("lidocaine", "anhydrous", "lidocaine-base", Decimal("234.34") / Decimal("270.80")),
        ("lidocaine", "monohydrate", "lidocaine-base", Decimal("234.34") / Decimal("288.82")),
        ("procaine", "hydrochloride", "procaine-base", Decimal("236.31") / Decimal("272.77")),
        ("arginine", "hydrochloride", "l-arginine", Decimal("174.20") / Decimal("210.66")),
        ("lysine", "hydrochloride", "l-lysine", Decimal("146.19") / Decimal("182.65")),
        ("ornithine", "hydrochloride", "l-ornithine", Decimal("132.16") / Decimal("168.62")),
        (
            "cysteine",
            "hydrochloride-monohydrate",
            "l-cysteine",
            Decimal("121.15") / Decimal("175.63"),
        ),
        # two pantothenate per calcium
        (
            "calcium-pantothenate",
            "calcium-salt",
            "pantothenic-acid",
            2 * Decimal("219.24") / Decimal("476.54"),
        ),
    ],
)
def test_mass_fractions(lib: Library, key: str, form: str, basis: str, expected: Decimal) -> None:
    assert lib.by_key(key).form(form).mass_fraction(basis) == expected


def test_label_equivalents_are_reproduced(lib: Library) -> None:
    """Figures printed on labels, recomputed from the library's molar masses."""
    q = Decimal("0.01")
    # Cupric chloride: 0.4 mg Cu/mL = 1.07 mg CuCl2·2H2O/mL
    copper_fraction = lib.find("copper").default_form.mass_fraction("copper")
    assert copper_fraction is not None
    assert (Decimal("0.4") / copper_fraction).quantize(q) == Decimal("1.07")
    # Magnesium sulfate 50%: 500 mg/mL = 2.03 mmol/mL = 4.06 mEq/mL
    magnesium = lib.find("magnesium sulfate").substance()
    assert magnesium.molar_mass is not None and magnesium.valence == 2
    mmol = Decimal(500) / magnesium.molar_mass
    assert mmol.quantize(q) == Decimal("2.03")
    assert (mmol * magnesium.valence).quantize(q) == Decimal("4.06")
    # Sodium chloride 0.9%: 9 mg/mL = 154 mmol/L
    saline = lib.find("saline").substance()
    assert saline.molar_mass is not None
    assert (Decimal(9000) / saline.molar_mass).quantize(Decimal(1)) == 154
    # Cysteine HCl 50 mg/mL = 0.285 mmol/mL
    cysteine = lib.find("cysteine").substance()
    assert cysteine.molar_mass is not None
    assert (Decimal(50) / cysteine.molar_mass).quantize(Decimal("0.001")) == Decimal("0.285")
    # Arginine HCl 100 mg/mL: 47.5 mEq chloride per 100 mL
    arginine = lib.find("arginine").substance()
    assert arginine.molar_mass is not None and arginine.valence == 1
    assert (Decimal(10000) / arginine.molar_mass).quantize(Decimal("0.1")) == Decimal("47.5")
    # Retinyl palmitate carries 286.46/524.87 of its mass as retinol (ratio 1.832)
    palmitate = lib.find("retinyl palmitate").default_form
    fraction = palmitate.mass_fraction("retinol")
    assert fraction is not None
    assert (1 / fraction).quantize(Decimal("0.001")) == Decimal("1.832")


def test_substance_default_form(lib: Library) -> None:
    zinc = lib.find("zinc")
    substance = zinc.substance()
    assert isinstance(substance, Substance)
    assert substance == zinc.substance("anhydrous") == zinc.substance("Zinc Sulfate Anhydrous")
    assert substance.key == "zinc-sulfate"
    assert substance.form == "zinc sulfate anhydrous"
    assert substance.molar_mass == Decimal("161.44")
    assert substance.valence == 2
    assert [b.key for b in substance.bases] == ["zinc"]


def test_every_form_gives_a_substance(lib: Library) -> None:
    for ingredient in lib.all():
        assert ingredient.substance().form == ingredient.default_form.label
        for form in ingredient.forms:
            substance = ingredient.substance(form.key)
            assert substance.name == ingredient.name
            for basis in substance.iu_bases:
                assert substance.iu_basis(substance.form) == basis


def test_unknown_form_is_refused_with_the_known_forms(lib: Library) -> None:
    with pytest.raises(UnknownForm) as caught:
        lib.find("lidocaine").substance("tetrahydrate")
    assert isinstance(caught.value, LibraryError)
    message = str(caught.value)
    assert "tetrahydrate" in message
    assert "lidocaine hydrochloride monohydrate" in message and "lidocaine base" in message


def test_polymer_has_no_molar_conversion(lib: Library) -> None:
    hyaluronate = lib.find("hyaluronic acid")
    assert hyaluronate.molar_mass == Decimal("401.30")
    assert hyaluronate.substance().molar_mass is None
    assert hyaluronate.substance("acid").molar_mass is None


def test_unpublished_molar_mass_stays_none(lib: Library) -> None:
    for name in ("Ginkgo", "VEGF", "mesoglycan", "Botox", "signal peptides"):
        assert lib.find(name).substance().molar_mass is None
    silicon = lib.find("Conjonctyl")
    assert silicon.molar_mass == Decimal("94.14")
    assert silicon.substance("salicylate-complex").molar_mass is None


def test_valence_only_where_certain(lib: Library) -> None:
    with_valence = {i.key for i in lib.all() for form in i.forms if form.valence is not None}
    assert with_valence == {
        "zinc-sulfate",
        "copper-chloride",
        "magnesium-sulfate",
        "sodium-chloride",
        "arginine",
    }
