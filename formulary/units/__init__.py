"""The units engine: strict parsing, substance-aware conversion and safe display.

Importing this package does not import Pint: parsing and display are pure string and
Decimal work, and the registry is built on the first conversion that needs a factor.

    parse_quantity(text, *, kind=None, allow_zero=False) -> Amount
    parse_unit(text) -> str                       # canonical unit string
    format_amount(amount, *, significant=None) -> str
    convert(amount, target_unit, substance=None, *, form=None, to_form=None) -> Amount

The canonical unit strings and their kinds are listed in :mod:`formulary.units.catalog`.
"""

from formulary.units.amount import Amount
from formulary.units.catalog import KIND_GROUPS, RATIO
from formulary.units.convert import convert
from formulary.units.display import (
    DISPLAY_SIGNIFICANT,
    format_amount,
    format_value,
    round_significant,
)
from formulary.units.errors import (
    AmbiguousFormError,
    IncompatibleUnitsError,
    InvalidQuantityError,
    MissingFactError,
    NotConvertibleError,
    SubstanceRequiredError,
    UnitsError,
    UnknownUnitError,
    WrongKindError,
)
from formulary.units.parse import parse_quantity, parse_unit, unit_kind
from formulary.units.substance import Basis, IUBasis, Substance

__all__ = [
    "DISPLAY_SIGNIFICANT",
    "KIND_GROUPS",
    "RATIO",
    "AmbiguousFormError",
    "Amount",
    "Basis",
    "IUBasis",
    "IncompatibleUnitsError",
    "InvalidQuantityError",
    "MissingFactError",
    "NotConvertibleError",
    "Substance",
    "SubstanceRequiredError",
    "UnitsError",
    "UnknownUnitError",
    "WrongKindError",
    "convert",
    "format_amount",
    "format_value",
    "parse_quantity",
    "parse_unit",
    "round_significant",
    "unit_kind",
]
