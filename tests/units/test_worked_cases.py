"""Worked cases a pharmacist would check by hand, from the reference facts.

Each expected figure is written with the significant figures a pharmacist would quote;
the engine's exact result must round to it. Label figures (2.46 mg ZnSO4 per mg Zn,
4.06 mEq/mL, 154 mmol/L …) are quoted beside the computed value they correspond to.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from formulary.units import (
    AmbiguousFormError,
    Amount,
    IncompatibleUnitsError,
    MissingFactError,
    NotConvertibleError,
    SubstanceRequiredError,
    UnitsError,
    convert,
    parse_quantity,
    round_significant,
)
from formulary.units.substance import Substance
from tests.units import substances as s


def _sig(expected: str) -> int:
    digits = expected.replace(".", "").lstrip("0")
    return max(len(digits), 1)


def check(
    text: str,
    target: str,
    expected: str,
    substance: Substance | None = None,
    form: str | None = None,
    to_form: str | None = None,
) -> None:
    result = convert(parse_quantity(text), target, substance, form=form, to_form=to_form)
    assert round_significant(result.value, _sig(expected)) == Decimal(expected), (
        f"{text} -> {target}: got {result.value}, expected {expected}"
    )


# (label, amount, target unit, expected, substance, form, to_form)
CASES = [
    # plain scaling: no substance needed
    ("1 g is 1000 mg", "1 g", "mg", "1000", None, None, None),
    ("0.5 mg is 500 mcg", "0.5 mg", "mcg", "500", None, None, None),
    ("1000 mcg/mL cyanocobalamin label is 1 mg/mL", "1000 mcg/mL", "mg/mL", "1", None, None, None),
    ("250 ng is 0.25 mcg", "250 ng", "mcg", "0.25", None, None, None),
    ("70 kg is 70000 g", "70 kg", "g", "70000", None, None, None),
    ("2 cc typed is 2 mL", "2 cc", "mL", "2", None, None, None),
    ("0.25 L is 250 mL", "0.25 L", "mL", "250", None, None, None),
    ("10 U-100 marks are 0.1 mL", "10 U-100 marks", "mL", "0.1", None, None, None),
    ("0.25 mL is 25 U-100 marks", "0.25 mL", "U-100 marks", "25", None, None, None),
    ("1 U-100 mark is 10 microlitres = 0.01 mL", "1 U-100 mark", "mL", "0.01", None, None, None),
    ("minoxidil 0.5% w/v is 5 mg/mL", "0.5% w/v", "mg/mL", "5", None, None, None),
    ("dutasteride 0.01% w/v is 0.1 mg/mL", "0.01% w/v", "mg/mL", "0.1", None, None, None),
    ("dutasteride 0.05% w/v is 0.5 mg/mL", "0.05% w/v", "mg/mL", "0.5", None, None, None),
    ("dutasteride 0.005% w/v is 50 mcg/mL", "0.005% w/v", "mcg/mL", "50", None, None, None),
    ("lidocaine 2% is 20 mg/mL", "2% w/v", "mg/mL", "20", None, None, None),
    ("saline 0.9% w/v is 9 g/L", "0.9% w/v", "g/L", "9", None, None, None),
    ("arginine HCl 10% is 100 mg/mL", "10% w/v", "mg/mL", "100", None, None, None),
    ("magnesium sulfate 50% is 500 mg/mL", "50% w/v", "mg/mL", "500", None, None, None),
    ("250 mg/mL dexpanthenol is 25% w/v", "250 mg/mL", "% w/v", "25", None, None, None),
    ("1:1000 w/v is 1 mg/mL", "1:1000", "mg/mL", "1", None, None, None),
    ("1:100000 is 10 mcg/mL", "1:100000", "mcg/mL", "10", None, None, None),
    ("1:200000 is 5 mcg/mL", "1:200000 w/v", "mcg/mL", "5", None, None, None),
    ("1:1000 is 0.1% w/v", "1:1000", "% w/v", "0.1", None, None, None),
    ("1 mg/mL is 1:1000", "1 mg/mL", "ratio w/v", "1000", None, None, None),
    ("0.1% w/v is 1:1000", "0.1% w/v", "ratio w/v", "1000", None, None, None),
    ("4 mm needle is 4000 micrometres", "4 mm", "micrometre", "4000", None, None, None),
    ("terminal hair 40 micrometres is 0.04 mm", "40 micrometres", "mm", "0.04", None, None, None),
    ("2.03 mmol/mL is 2030 mmol/L", "2.03 mmol/mL", "mmol/L", "2030", None, None, None),
    ("50000 IU/mL stays IU/mL", "50000 IU/mL", "IU/mL", "50000", None, None, None),
    ("100 units/mL Botox stays units/mL", "100 units/mL", "units/mL", "100", None, None, None),
    # salt <-> element / base
    (
        "1 mg Zn = 2.47 mg ZnSO4 (label: 2.46)",
        "1 mg",
        "mg",
        "2.469",
        s.ZINC_SULFATE,
        "zinc",
        "zinc sulfate anhydrous",
    ),
    (
        "5 mg/mL Zn = 12.35 mg/mL ZnSO4 (label: 12.32)",
        "5 mg/mL",
        "mg/mL",
        "12.35",
        s.ZINC_SULFATE,
        "zinc",
        "zinc sulfate anhydrous",
    ),
    ("10 mg ZnSO4 anhydrous = 4.05 mg Zn", "10 mg", "mg", "4.050", s.ZINC_SULFATE, None, "zinc"),
    (
        "10 mg ZnSO4.7H2O = 2.27 mg Zn",
        "10 mg",
        "mg",
        "2.274",
        s.ZINC_SULFATE_HEPTAHYDRATE,
        None,
        "zinc (element)",
    ),
    (
        "1 mg Zn = 4.40 mg ZnSO4.7H2O",
        "1 mg",
        "mg",
        "4.398",
        s.ZINC_SULFATE_HEPTAHYDRATE,
        "zinc",
        "zinc sulfate heptahydrate",
    ),
    (
        "1.07 mg CuCl2.2H2O = 0.4 mg Cu (label)",
        "1.07 mg/mL",
        "mg/mL",
        "0.3989",
        s.CUPRIC_CHLORIDE,
        None,
        "copper",
    ),
    (
        "65.4 mcg H2SeO3 = 40 mcg Se (label)",
        "65.4 mcg/mL",
        "mcg/mL",
        "40.04",
        s.SELENIOUS_ACID,
        None,
        "selenium",
    ),
    (
        "lidocaine HCl 20 mg = 17.3 mg base",
        "20 mg",
        "mg",
        "17.31",
        s.LIDOCAINE_HCL,
        None,
        "lidocaine base",
    ),
    (
        "lidocaine base 100 mg = 115.6 mg HCl",
        "100 mg",
        "mg",
        "115.6",
        s.LIDOCAINE_HCL,
        "lidocaine (base)",
        "lidocaine hydrochloride anhydrous",
    ),
    (
        "procaine HCl 1% = 8.66 mg/mL base",
        "1% w/v",
        "mg/mL",
        "8.663",
        s.PROCAINE_HCL,
        None,
        "procaine base",
    ),
    (
        "476.54 mg Ca pantothenate = 438.48 mg pantothenic acid (2 per Ca)",
        "476.54 mg",
        "mg",
        "438.48",
        s.CALCIUM_PANTOTHENATE,
        None,
        "pantothenic acid",
    ),
    (
        "1 mmol Ca pantothenate = 2 mmol pantothenic acid",
        "1 mmol",
        "mmol",
        "2",
        s.CALCIUM_PANTOTHENATE,
        None,
        "pantothenic acid",
    ),
    (
        "Thioctacid: 952.29 mg trometamol salt = 600 mg thioctic acid",
        "952.29 mg",
        "mg",
        "600.0",
        s.LIPOIC_ACID_TROMETAMOL,
        None,
        "thioctic acid",
    ),
    (
        "cysteine HCl H2O 50 mg = 34.5 mg cysteine",
        "50 mg",
        "mg",
        "34.49",
        s.CYSTEINE_HCL,
        None,
        "L-cysteine",
    ),
    # mass <-> moles, mmol/L, mEq
    (
        "cysteine HCl 50 mg/mL = 0.285 mmol/mL (label)",
        "50 mg/mL",
        "mmol/mL",
        "0.285",
        s.CYSTEINE_HCL,
        None,
        None,
    ),
    (
        "MgSO4.7H2O 500 mg/mL = 2.03 mmol/mL (label)",
        "500 mg/mL",
        "mmol/mL",
        "2.03",
        s.MAGNESIUM_SULFATE,
        None,
        None,
    ),
    (
        "MgSO4.7H2O 500 mg/mL = 4.06 mEq/mL (label)",
        "500 mg/mL",
        "mEq/mL",
        "4.06",
        s.MAGNESIUM_SULFATE,
        None,
        None,
    ),
    ("MgSO4.7H2O 1 g = 8.11 mEq Mg", "1 g", "mEq", "8.115", s.MAGNESIUM_SULFATE, None, None),
    ("8.115 mEq Mg = 1 g MgSO4.7H2O", "8.1146 mEq", "g", "1.000", s.MAGNESIUM_SULFATE, None, None),
    (
        "saline 0.9% w/v = 154 mmol/L (label)",
        "0.9% w/v",
        "mmol/L",
        "154.0",
        s.SODIUM_CHLORIDE,
        None,
        None,
    ),
    (
        "saline 0.9% w/v = 154 mEq/L sodium",
        "0.9% w/v",
        "mEq/L",
        "154.0",
        s.SODIUM_CHLORIDE,
        None,
        None,
    ),
    ("154 mmol/L NaCl = 9 mg/mL", "154 mmol/L", "mg/mL", "9.000", s.SODIUM_CHLORIDE, None, None),
    (
        "R-Gene 10: 100 mL of 100 mg/mL = 47.5 mEq chloride",
        "10 g",
        "mEq",
        "47.47",
        s.ARGININE_HCL,
        None,
        None,
    ),
    ("minoxidil 5 mg/mL = 23.9 mmol/L", "5 mg/mL", "mmol/L", "23.89", s.MINOXIDIL, None, None),
    ("dexpanthenol 500 mg = 2.436 mmol", "500 mg", "mmol", "2.436", s.DEXPANTHENOL, None, None),
    (
        "cyanocobalamin 1000 mcg = 0.738 micromol",
        "1000 mcg",
        "micromol",
        "0.7378",
        s.CYANOCOBALAMIN,
        None,
        None,
    ),
    (
        "cyanocobalamin 1 mg/mL = 738 micromol/L",
        "1 mg/mL",
        "micromol/L",
        "737.8",
        s.CYANOCOBALAMIN,
        None,
        None,
    ),
    ("biotin 1 mmol = 244.31 mg", "1 mmol", "mg", "244.31", s.BIOTIN, None, None),
    ("ZnSO4 1 mmol = 2 mEq", "1 mmol", "mEq", "2", s.ZINC_SULFATE, None, None),
    (
        "ZnSO4 65.38 mg Zn = 1 mmol ZnSO4",
        "65.38 mg",
        "mmol",
        "1.000",
        s.ZINC_SULFATE,
        "zinc",
        "zinc sulfate anhydrous",
    ),
    # International Units
    (
        "natural vitamin E 400 IU = 268 mg RRR-alpha-tocopherol",
        "400 IU",
        "mg",
        "268",
        s.VITAMIN_E_NATURAL,
        None,
        None,
    ),
    ("natural vitamin E 100 mg = 149 IU", "100 mg", "IU", "149.3", s.VITAMIN_E_NATURAL, None, None),
    (
        "USP natural vitamin E 400 IU as acetate = 294 mg",
        "400 IU",
        "mg",
        "294",
        s.VITAMIN_E_NATURAL_USP,
        "RRR-alpha-tocopheryl acetate",
        None,
    ),
    (
        "synthetic vitamin E 400 IU = 400 mg all-rac acetate",
        "400 IU",
        "mg",
        "400",
        s.VITAMIN_E_SYNTHETIC,
        "all-rac-alpha-tocopheryl acetate",
        None,
    ),
    (
        "synthetic vitamin E 400 IU = 364 mg all-rac tocopherol",
        "400 IU",
        "mg",
        "364",
        s.VITAMIN_E_SYNTHETIC,
        "all-rac-alpha-tocopherol",
        None,
    ),
    (
        "Aquasol A 50000 IU/mL = 15 mg retinol/mL (label)",
        "50000 IU/mL",
        "mg/mL",
        "15",
        s.RETINOL,
        None,
        None,
    ),
    ("1 mcg retinol = 3.33 IU", "1 mcg", "IU", "3.33", s.RETINOL, None, None),
    (
        "Aquasol A 50000 IU/mL = 27.5 mg retinyl palmitate/mL",
        "50000 IU/mL",
        "mg/mL",
        "27.5",
        s.RETINYL_PALMITATE,
        "retinyl palmitate",
        None,
    ),
    (
        "10000 IU = 3.44 mg retinyl acetate",
        "10000 IU",
        "mg",
        "3.44",
        s.RETINYL_PALMITATE,
        "retinyl acetate",
        None,
    ),
    (
        "1 IU retinol basis = 0.55 mcg palmitate (x1.83)",
        "1 IU",
        "mcg",
        "0.5497",
        s.RETINYL_PALMITATE_VIA_RETINOL,
        None,
        "retinyl palmitate",
    ),
    ("vitamin D3 1 mcg = 40 IU", "1 mcg", "IU", "40", s.CHOLECALCIFEROL, None, None),
    ("vitamin D3 1000 IU = 25 mcg", "1000 IU", "mcg", "25", s.CHOLECALCIFEROL, None, None),
    ("vitamin D2 50000 IU = 1.25 mg", "50000 IU", "mg", "1.25", s.ERGOCALCIFEROL, None, None),
    ("IU stays IU for the same substance", "400 IU", "IU", "400", s.VITAMIN_E_NATURAL, None, None),
]


@pytest.mark.parametrize(
    ("text", "target", "expected", "substance", "form", "to_form"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_worked_case(
    text: str,
    target: str,
    expected: str,
    substance: Substance | None,
    form: str | None,
    to_form: str | None,
) -> None:
    check(text, target, expected, substance, form, to_form)


# (label, amount, target, substance, form, to_form, error class, words in the message)
REFUSALS = [
    (
        "biotin has no IU",
        "100 IU",
        "mg",
        s.BIOTIN,
        None,
        None,
        MissingFactError,
        "no International Unit",
    ),
    (
        "ascorbic acid's obsolete IU is not used",
        "1 mg",
        "IU",
        s.ASCORBIC_ACID,
        None,
        None,
        MissingFactError,
        "no International Unit",
    ),
    (
        "IU to mg needs the substance",
        "400 IU",
        "mg",
        None,
        None,
        None,
        SubstanceRequiredError,
        "substance",
    ),
    (
        "synthetic vitamin E without a form is ambiguous",
        "400 IU",
        "mg",
        s.VITAMIN_E_SYNTHETIC,
        None,
        None,
        AmbiguousFormError,
        "all-rac-alpha-tocopherol",
    ),
    (
        "USP natural vitamin E without a form is ambiguous",
        "100 mg",
        "IU",
        s.VITAMIN_E_NATURAL_USP,
        None,
        None,
        AmbiguousFormError,
        "RRR-alpha-tocopheryl acetate",
    ),
    (
        "vitamin A esters without a form are ambiguous",
        "1000 IU",
        "mcg",
        s.RETINYL_PALMITATE,
        None,
        None,
        AmbiguousFormError,
        "retinyl acetate",
    ),
    (
        "vitamin D3 has no ergocalciferol form",
        "1000 IU",
        "mcg",
        s.CHOLECALCIFEROL,
        "ergocalciferol",
        None,
        MissingFactError,
        "no form 'ergocalciferol'",
    ),
    (
        "botulinum units never become mg",
        "100 units",
        "mg",
        s.BOTULINUM_A,
        None,
        None,
        NotConvertibleError,
        "never convert",
    ),
    (
        "botulinum units are not IU",
        "100 units",
        "IU",
        s.BOTULINUM_A,
        None,
        None,
        NotConvertibleError,
        "never convert",
    ),
    (
        "botulinum is not dosed in IU",
        "100 IU",
        "IU",
        s.BOTULINUM_A,
        None,
        None,
        NotConvertibleError,
        "product-specific",
    ),
    (
        "units/mL never become mg/mL",
        "100 units/mL",
        "mg/mL",
        s.BOTULINUM_A,
        None,
        None,
        NotConvertibleError,
        "never convert",
    ),
    (
        "ginkgo extract has no molar mass",
        "120 mg",
        "mmol",
        s.GINKGO,
        None,
        None,
        MissingFactError,
        "no molar mass",
    ),
    (
        "mg to mmol needs the substance",
        "5 mg",
        "mmol",
        None,
        None,
        None,
        SubstanceRequiredError,
        "substance",
    ),
    (
        "biotin has no valence for mEq",
        "1 mmol",
        "mEq",
        s.BIOTIN,
        None,
        None,
        MissingFactError,
        "valence",
    ),
    (
        "mass never becomes volume without a concentration",
        "5 mg",
        "mL",
        None,
        None,
        None,
        IncompatibleUnitsError,
        "concentration",
    ),
    (
        "volume never becomes mass without a concentration",
        "1 mL",
        "mg",
        s.MINOXIDIL,
        None,
        None,
        IncompatibleUnitsError,
        "concentration",
    ),
    ("% w/w is not mg/mL", "1% w/w", "mg/mL", None, None, None, NotConvertibleError, "% w/w"),
    ("% v/v is not % w/v", "70% v/v", "% w/v", None, None, None, NotConvertibleError, "% v/v"),
    ("% w/w is not % v/v", "1% w/w", "% v/v", None, None, None, NotConvertibleError, "% w/w"),
    (
        "a concentration is not an amount",
        "5 mg/mL",
        "mg",
        None,
        None,
        None,
        IncompatibleUnitsError,
        "volume",
    ),
    (
        "hair density is not a mass",
        "150 hairs/cm2",
        "mg",
        None,
        None,
        None,
        IncompatibleUnitsError,
        "cannot convert",
    ),
    (
        "zinc has no copper form",
        "1 mg",
        "mg",
        s.ZINC_SULFATE,
        None,
        "copper",
        MissingFactError,
        "no form 'copper'",
    ),
    (
        "salt to element needs the substance",
        "10 mg",
        "mg",
        None,
        None,
        "zinc",
        SubstanceRequiredError,
        "substance",
    ),
]


@pytest.mark.parametrize(
    ("text", "target", "substance", "form", "to_form", "error", "words"),
    [case[1:] for case in REFUSALS],
    ids=[case[0] for case in REFUSALS],
)
def test_refused_case(
    text: str,
    target: str,
    substance: Substance | None,
    form: str | None,
    to_form: str | None,
    error: type[UnitsError],
    words: str,
) -> None:
    with pytest.raises(error) as caught:
        convert(parse_quantity(text), target, substance, form=form, to_form=to_form)
    assert words in str(caught.value)


def test_enough_worked_cases() -> None:
    assert len(CASES) + len(REFUSALS) >= 60


def test_a_zero_ratio_strength_is_refused() -> None:
    with pytest.raises(UnitsError, match="N above zero"):
        convert(Amount(Decimal(0), "ratio w/v"), "mg/mL")
    with pytest.raises(UnitsError, match="above zero"):
        convert(Amount(Decimal(0), "mg/mL"), "ratio w/v")


def test_broken_facts_are_refused_not_crashed() -> None:
    from formulary.units import Basis, IUBasis

    zero_count = Substance(
        key="x",
        name="X",
        form="x salt",
        molar_mass=Decimal(100),
        bases=(Basis("x", "x", Decimal(50), count=0),),
    )
    with pytest.raises(MissingFactError):
        convert(parse_quantity("1 mg"), "mg", zero_count, to_form="x")
    zero_iu = Substance(key="y", name="Y", form="y", iu_bases=(IUBasis("y", Decimal(0)),))
    with pytest.raises(MissingFactError, match="no positive mass per IU"):
        convert(parse_quantity("1 mg"), "IU", zero_iu)
    zero_mass = Substance(key="z", name="Z", form="z", molar_mass=Decimal(0))
    with pytest.raises(MissingFactError, match="no molar mass"):
        convert(parse_quantity("1 mg"), "mmol", zero_mass)
