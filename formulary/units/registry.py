"""The one Pint registry of the application, built lazily from the project's file.

Nothing imports Pint until a conversion first needs a scale factor; the registry is then
built once per process from ``formulary_units.txt`` alone (not Pint's thousand-unit
default list) with exact ``Decimal`` magnitudes, using Pint's on-disk cache of parsed
definitions when a cache directory is writable. Scale factors between two canonical
units are memoised, so a repeated conversion never touches Pint again.
"""

from __future__ import annotations

import os
import threading
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from formulary.units.catalog import BY_CANONICAL
from formulary.units.errors import IncompatibleUnitsError

DEFINITIONS = Path(__file__).with_name("formulary_units.txt")

#: Set to a directory to hold Pint's definitions cache, or to ``off`` to disable it.
CACHE_ENV = "FORMULARY_UNITS_CACHE"

_lock = threading.Lock()
_registry: Any = None


def cache_folder() -> Path | None:
    """Where Pint may cache the parsed definitions, or None to build from text each time."""
    configured = os.environ.get(CACHE_ENV)
    if configured is not None:
        return None if configured.strip().lower() in {"", "off", "none", "0"} else Path(configured)
    from platformdirs import user_cache_path

    return user_cache_path("formulary", appauthor=False) / "pint"


def build_registry(cache: Path | None) -> Any:
    """A fresh registry from the project's definitions file (exposed for the benchmark)."""
    import pint

    if cache is not None:
        try:
            cache.mkdir(parents=True, exist_ok=True)
        except OSError:
            cache = None
    try:
        return pint.UnitRegistry(
            str(DEFINITIONS), non_int_type=Decimal, cache_folder=cache, on_redefinition="raise"
        )
    except OSError:
        # An unwritable or damaged cache must never stop conversions.
        return pint.UnitRegistry(str(DEFINITIONS), non_int_type=Decimal, on_redefinition="raise")


def get_registry() -> Any:
    """The application registry (built on first use, then shared)."""
    global _registry
    if _registry is None:
        with _lock:
            if _registry is None:
                _registry = build_registry(cache_folder())
    return _registry


def is_loaded() -> bool:
    """Whether the registry has been built in this process (for start-up tests)."""
    return _registry is not None


@lru_cache(maxsize=512)
def scale_factor(source: str, target: str) -> Decimal:
    """Decimal factor f with ``x source == x * f target`` for two canonical units.

    Both must have a Pint expression and the same dimensionality; otherwise
    :class:`IncompatibleUnitsError`. Only canonical strings from the catalog reach Pint.
    """
    if source == target:
        return Decimal(1)
    src = BY_CANONICAL[source].pint
    dst = BY_CANONICAL[target].pint
    if src is None or dst is None:
        raise IncompatibleUnitsError(f"cannot scale {source} to {target} directly")
    import pint

    registry = get_registry()
    try:
        quantity = registry.Quantity(Decimal(1), registry.parse_units(src))
        converted = quantity.to(registry.parse_units(dst))
    except pint.DimensionalityError:
        raise IncompatibleUnitsError(f"{source} and {target} measure different things") from None
    magnitude = converted.magnitude
    return magnitude if isinstance(magnitude, Decimal) else Decimal(str(magnitude))
