"""The allow-list: every unit Formulary accepts, its canonical string, aliases and kind.

This module is the one place that says which unit strings exist. The parser maps any
accepted spelling onto a canonical string; amounts are stored with that string; the
display layer prints the ISMP-safe name; the registry (``formulary_units.txt``) says
how units relate. Importing this module costs nothing: it is plain data.

Canonical unit strings
======================

===========================  ==========================================================
kind                          canonical strings
===========================  ==========================================================
mass                          ``g`` ``mg`` ``mcg`` ``ng`` ``kg``
volume                        ``L`` ``mL`` ``mcL`` (microlitre) ``U-100 marks`` (one mark = 0.01 mL)
amount (of substance)         ``mol`` ``mmol`` ``micromol`` ``nmol`` ``pmol``
equivalents                   ``mEq`` (needs the substance's valence)
iu                            ``IU`` (per substance and form; never without them)
units                         ``units`` (product-specific biological units; never convert)
mass_concentration            ``mg/mL`` ``mcg/mL`` ``ng/mL`` ``g/L`` ``mg/L`` ``% w/v``
                              ``ratio w/v`` (value N means 1:N, 1 g in N mL)
molar_concentration           ``mol/L`` ``mmol/L`` ``mmol/mL`` ``micromol/L``
equivalent_concentration      ``mEq/mL`` ``mEq/L``
iu_concentration              ``IU/mL``
units_concentration           ``units/mL``
mass_fraction                 ``% w/w``
volume_fraction               ``% v/v``
density                       ``hairs/cm2`` ``hairs/mm2``
length                        ``mm`` ``cm`` ``micrometre``
===========================  ==========================================================
"""

from __future__ import annotations

from dataclasses import dataclass

# Kinds (the dimension a unit measures).
MASS = "mass"
VOLUME = "volume"
AMOUNT = "amount"
EQUIVALENTS = "equivalents"
IU_KIND = "iu"
UNITS_KIND = "units"
MASS_CONCENTRATION = "mass_concentration"
MOLAR_CONCENTRATION = "molar_concentration"
EQUIVALENT_CONCENTRATION = "equivalent_concentration"
IU_CONCENTRATION = "iu_concentration"
UNITS_CONCENTRATION = "units_concentration"
MASS_FRACTION = "mass_fraction"
VOLUME_FRACTION = "volume_fraction"
DENSITY = "density"
LENGTH = "length"

#: Canonical unit of a ratio strength: ``Amount(Decimal("1000"), RATIO)`` is 1:1000 w/v.
RATIO = "ratio w/v"


@dataclass(frozen=True, slots=True)
class UnitSpec:
    """One accepted unit.

    ``pint`` is the unit expression in the project registry (None for ratio strength,
    which is a reciprocal and handled by the conversion code). ``per_volume`` splits a
    concentration into (numerator unit, denominator unit) so conversions can treat the
    numerator with the substance's facts and the denominator as a volume.
    """

    canonical: str
    kind: str
    pint: str | None
    singular: str  # ISMP display after the number 1
    plural: str  # ISMP display after any other number
    aliases: tuple[str, ...] = ()
    per_volume: tuple[str, str] | None = None


def _u(
    canonical: str,
    kind: str,
    pint: str | None,
    aliases: tuple[str, ...] = (),
    *,
    singular: str | None = None,
    plural: str | None = None,
    per_volume: tuple[str, str] | None = None,
) -> UnitSpec:
    return UnitSpec(
        canonical=canonical,
        kind=kind,
        pint=pint,
        singular=singular or canonical,
        plural=plural or canonical,
        aliases=aliases,
        per_volume=per_volume,
    )


_MICRO = ("µ", "μ")  # micro sign U+00B5 and Greek small mu U+03BC, both seen on labels


def _micro(suffix: str) -> tuple[str, ...]:
    return (*(m + suffix for m in _MICRO), "u" + suffix)


UNITS: tuple[UnitSpec, ...] = (
    # mass
    _u("kg", MASS, "kilogram", ("kilogram", "kilograms", "kilo", "kilos")),
    _u("g", MASS, "gram", ("gram", "grams", "gm")),
    _u("mg", MASS, "milligram", ("milligram", "milligrams")),
    _u("mcg", MASS, "microgram", ("microgram", "micrograms", *_micro("g"))),
    _u("ng", MASS, "nanogram", ("nanogram", "nanograms")),
    # volume
    _u("L", VOLUME, "litre", ("l", "litre", "litres", "liter", "liters")),
    _u(
        "mL",
        VOLUME,
        "millilitre",
        ("ml", "cc", "millilitre", "millilitres", "milliliter", "milliliters"),
    ),
    # Microlitres are shown "mcL", never with the µ sign: ISMP lists "µ" as an error-prone
    # symbol (misread as "m"), and "mc" is how it writes micro in "mcg".
    _u(
        "mcL",
        VOLUME,
        "microlitre",
        (
            *_micro("L"),
            "mcl",
            "microL",
            "microlitre",
            "microlitres",
            "microliter",
            "microliters",
        ),
    ),
    _u(
        "U-100 marks",
        VOLUME,
        "U100_mark",
        ("U-100 mark", "U100 marks", "U100 mark", "U-100 syringe marks", "U-100 syringe mark"),
        singular="U-100 mark",
    ),
    # amount of substance, charge
    _u("mol", AMOUNT, "mole", ("mole", "moles")),
    _u("mmol", AMOUNT, "millimole", ("millimole", "millimoles")),
    _u("micromol", AMOUNT, "micromole", ("micromole", "micromoles", *_micro("mol"))),
    _u("nmol", AMOUNT, "nanomole", ("nanomol", "nanomole", "nanomoles")),
    _u("pmol", AMOUNT, "picomole", ("picomol", "picomole", "picomoles")),
    _u("mEq", EQUIVALENTS, "milliequivalent", ("meq", "milliequivalent", "milliequivalents")),
    # biological activity
    _u(
        "IU",
        IU_KIND,
        "international_unit",
        ("international unit", "international units"),
        singular="international unit",
        plural="international units",
    ),
    _u("units", UNITS_KIND, "product_unit", ("unit",), singular="unit", plural="units"),
    # concentrations
    _u("mg/mL", MASS_CONCENTRATION, "milligram / millilitre", ("mg/cc",), per_volume=("mg", "mL")),
    _u(
        "mcg/mL",
        MASS_CONCENTRATION,
        "microgram / millilitre",
        (*(m + "/mL" for m in _micro("g")), "mcg/cc"),
        per_volume=("mcg", "mL"),
    ),
    _u("ng/mL", MASS_CONCENTRATION, "nanogram / millilitre", (), per_volume=("ng", "mL")),
    _u("g/L", MASS_CONCENTRATION, "gram / litre", (), per_volume=("g", "L")),
    _u("mg/L", MASS_CONCENTRATION, "milligram / litre", (), per_volume=("mg", "L")),
    _u("% w/v", MASS_CONCENTRATION, "percent_wv", ("%w/v", "percent w/v", "% (w/v)")),
    _u(RATIO, MASS_CONCENTRATION, None, ()),
    _u("mol/L", MOLAR_CONCENTRATION, "mole / litre", (), per_volume=("mol", "L")),
    _u("mmol/L", MOLAR_CONCENTRATION, "millimole / litre", (), per_volume=("mmol", "L")),
    _u("mmol/mL", MOLAR_CONCENTRATION, "millimole / millilitre", (), per_volume=("mmol", "mL")),
    _u(
        "micromol/L",
        MOLAR_CONCENTRATION,
        "micromole / litre",
        tuple(m + "/L" for m in _micro("mol")),
        per_volume=("micromol", "L"),
    ),
    _u(
        "mEq/mL",
        EQUIVALENT_CONCENTRATION,
        "milliequivalent / millilitre",
        (),
        per_volume=("mEq", "mL"),
    ),
    _u("mEq/L", EQUIVALENT_CONCENTRATION, "milliequivalent / litre", (), per_volume=("mEq", "L")),
    _u(
        "IU/mL",
        IU_CONCENTRATION,
        "international_unit / millilitre",
        ("international units/mL", "international unit/mL", "IU/cc"),
        singular="international units/mL",
        plural="international units/mL",
        per_volume=("IU", "mL"),
    ),
    _u(
        "units/mL",
        UNITS_CONCENTRATION,
        "product_unit / millilitre",
        ("unit/mL", "units/cc"),
        per_volume=("units", "mL"),
    ),
    _u("% w/w", MASS_FRACTION, "percent_ww", ("%w/w", "percent w/w", "% (w/w)")),
    _u("% v/v", VOLUME_FRACTION, "percent_vv", ("%v/v", "percent v/v", "% (v/v)")),
    # outcomes and technique
    _u(
        "hairs/cm2",
        DENSITY,
        "hair / centimetre ** 2",
        ("hairs/cm²", "hair/cm2", "hair/cm²", "hairs per cm2", "hairs per cm²"),
    ),
    _u(
        "hairs/mm2",
        DENSITY,
        "hair / millimetre ** 2",
        ("hairs/mm²", "hair/mm2", "hair/mm²", "hairs per mm2", "hairs per mm²"),
    ),
    _u("mm", LENGTH, "millimetre", ("millimetre", "millimetres", "millimeter", "millimeters")),
    _u("cm", LENGTH, "centimetre", ("centimetre", "centimetres", "centimeter", "centimeters")),
    _u(
        "micrometre",
        LENGTH,
        "micrometre",
        ("micrometres", "micrometer", "micrometers", "micron", "microns", *_micro("m")),
        plural="micrometres",
    ),
)

BY_CANONICAL: dict[str, UnitSpec] = {spec.canonical: spec for spec in UNITS}

#: Groups of kinds callers can restrict parsing to (``parse_quantity(text, kind=...)``).
KIND_GROUPS: dict[str, frozenset[str]] = {
    "mass": frozenset({MASS}),
    "volume": frozenset({VOLUME}),
    "amount": frozenset({AMOUNT}),
    "length": frozenset({LENGTH}),
    "density": frozenset({DENSITY}),
    "body_weight": frozenset({MASS}),
    "mass_or_iu": frozenset({MASS, IU_KIND, UNITS_KIND}),
    "dose": frozenset({MASS, AMOUNT, EQUIVALENTS, IU_KIND, UNITS_KIND}),
    "concentration": frozenset(
        {
            MASS_CONCENTRATION,
            MOLAR_CONCENTRATION,
            EQUIVALENT_CONCENTRATION,
            IU_CONCENTRATION,
            UNITS_CONCENTRATION,
            MASS_FRACTION,
            VOLUME_FRACTION,
        }
    ),
}
KIND_GROUPS.update({spec.kind: frozenset({spec.kind}) for spec in UNITS})

#: How an error message names what was expected, with an example.
KIND_EXAMPLES: dict[str, str] = {
    "mass": "a mass such as 5 mg",
    "volume": "a volume such as 0.5 mL",
    "amount": "an amount of substance such as 2 mmol",
    "length": "a length such as 4 mm",
    "density": "a hair density such as 150 hairs/cm2",
    "body_weight": "a body weight such as 70 kg",
    "mass_or_iu": "a mass or units such as 5 mg or 400 international units",
    "dose": "a dose such as 5 mg, 2 mmol or 400 international units",
    "concentration": "a concentration such as 5 mg/mL or 0.5% w/v",
}

#: The unit an example in a message uses for each kind group: a hint about a depth
#: says "2 mm", never "2 mg". Kinds not listed use their first unit in ``UNITS``.
KIND_EXAMPLE_UNITS: dict[str, str] = {
    "mass": "mg",
    "volume": "mL",
    "amount": "mmol",
    "length": "mm",
    "density": "hairs/cm2",
    "body_weight": "kg",
    "mass_or_iu": "mg",
    "dose": "mg",
    "concentration": "mg/mL",
}


def example_unit(kind: str | None) -> str:
    """A unit of the dimension ``kind`` names, for "such as 2 mm" in a message."""
    if kind is None:
        return "mg"
    if kind in KIND_EXAMPLE_UNITS:
        return KIND_EXAMPLE_UNITS[kind]
    allowed = KIND_GROUPS.get(kind, frozenset())
    return next((spec.canonical for spec in UNITS if spec.kind in allowed), "mg")


#: Quantity-of-substance kinds: what a concentration's numerator can be.
SUBSTANCE_KINDS = frozenset({MASS, AMOUNT, EQUIVALENTS, IU_KIND, UNITS_KIND})

#: Human names of kinds, for messages.
KIND_NAMES: dict[str, str] = {
    MASS: "a mass",
    VOLUME: "a volume",
    AMOUNT: "an amount of substance",
    EQUIVALENTS: "milliequivalents",
    IU_KIND: "International Units",
    UNITS_KIND: "product-specific units",
    MASS_CONCENTRATION: "a mass concentration",
    MOLAR_CONCENTRATION: "a molar concentration",
    EQUIVALENT_CONCENTRATION: "an equivalent concentration",
    IU_CONCENTRATION: "International Units per volume",
    UNITS_CONCENTRATION: "product-specific units per volume",
    MASS_FRACTION: "a mass-per-mass percentage (% w/w)",
    VOLUME_FRACTION: "a volume-per-volume percentage (% v/v)",
    DENSITY: "a hair density",
    LENGTH: "a length",
}


def unit_key(text: str) -> str:
    """The lookup key of a unit spelling: case-folded, with all whitespace removed."""
    return "".join(text.split()).casefold()


def _build_lookup() -> dict[str, str]:
    lookup: dict[str, str] = {}
    for spec in UNITS:
        if spec.canonical == RATIO:
            continue  # written as "1:N", never as a unit after a number
        for spelling in (spec.canonical, spec.singular, spec.plural, *spec.aliases):
            key = unit_key(spelling)
            owner = lookup.setdefault(key, spec.canonical)
            if owner != spec.canonical:  # pragma: no cover - guards the table itself
                raise RuntimeError(f"unit spelling {spelling!r} is claimed twice")
    return lookup


#: Every accepted spelling (as :func:`unit_key`) → canonical unit string.
LOOKUP: dict[str, str] = _build_lookup()

#: Spellings refused on purpose, with the reason shown to the user.
REFUSED: dict[str, str] = {
    unit_key("U"): "'U' is an error-prone abbreviation (misread as 0 or 4); write 'units'",
    unit_key("%"): "say which percentage: '% w/v' (g per 100 mL), '% w/w' or '% v/v'",
    unit_key("percent"): "say which percentage: '% w/v' (g per 100 mL), '% w/w' or '% v/v'",
    unit_key("µ"): "write 'mcg' for micrograms",
    unit_key("cm3"): "write 'mL'",
    unit_key("M"): "molarity is written as 'mol/L' or 'mmol/L'",
}
