"""The ingredient library: reference facts for every ingredient a cocktail can contain.

The facts live in ``ingredients.json`` next to this module (see docs/library.md);
:func:`load_library` reads them once. Typical use::

    lib = load_library()
    zinc = lib.find("zinc sulphate")            # name, synonym or form; any case/accents
    facts = zinc.substance("heptahydrate")      # what the units engine converts with
"""

from __future__ import annotations

from formulary.library.errors import (
    AmbiguousIngredient,
    LibraryDataError,
    LibraryError,
    UnknownForm,
    UnknownIngredient,
)
from formulary.library.library import Library, load_library
from formulary.library.loader import SharedSynonym
from formulary.library.model import (
    CATEGORIES,
    CAUTION_CODES,
    DOSE_PERS,
    LIMIT_SOURCE_KINDS,
    SECONDARY_ONLY,
    SOURCE_KINDS,
    ActivityBasis,
    Caution,
    DoseFigure,
    Form,
    Ingredient,
    IUFact,
    Reference,
    Source,
    StockStrength,
    parse_source,
    secondary_only,
    sources_summary,
)

__all__ = [
    "CATEGORIES",
    "CAUTION_CODES",
    "DOSE_PERS",
    "LIMIT_SOURCE_KINDS",
    "SECONDARY_ONLY",
    "SOURCE_KINDS",
    "ActivityBasis",
    "AmbiguousIngredient",
    "Caution",
    "DoseFigure",
    "Form",
    "IUFact",
    "Ingredient",
    "Library",
    "LibraryDataError",
    "LibraryError",
    "Reference",
    "SharedSynonym",
    "Source",
    "StockStrength",
    "UnknownForm",
    "UnknownIngredient",
    "load_library",
    "parse_source",
    "secondary_only",
    "sources_summary",
]
