"""The one Pint registry of the application, built lazily from the project's file.

The registry is built at most once per process, from ``formulary_units.txt`` alone (not
Pint's thousand-unit default list), with exact ``Decimal`` magnitudes and Pint's on-disk
cache of parsed definitions when a cache directory is writable.

Conversions need only one thing from it: each canonical unit's dimensionality and its
factor to base units (the *unit table*). The table is computed by Pint, then kept in the
cache directory under a fingerprint of the definitions file and the catalog, so later
processes read a small JSON file and never import Pint (importing Pint costs far more
than anything else in ``formulary calc``). A missing, stale or damaged table is rebuilt.
Set ``FORMULARY_UNITS_CACHE=off`` to build from Pint every time.
"""

from __future__ import annotations

import os
import threading
from decimal import Decimal, localcontext
from functools import lru_cache
from pathlib import Path
from typing import Any

from formulary.units.catalog import UNITS
from formulary.units.errors import IncompatibleUnitsError

DEFINITIONS = Path(__file__).with_name("formulary_units.txt")

#: Set to a directory to hold Pint's definitions cache, or to ``off`` to disable it.
CACHE_ENV = "FORMULARY_UNITS_CACHE"

_lock = threading.RLock()
_registry: Any = None
_table: dict[str, tuple[str, Decimal]] | None = None


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


def table_key() -> str:
    """Fingerprint of everything the unit table is derived from (file + catalog)."""
    import hashlib  # here, not at import: keeps `import formulary.units` light

    digest = hashlib.sha256(DEFINITIONS.read_bytes())
    for spec in UNITS:
        digest.update(f"\n{spec.canonical}={spec.pint}".encode())
    return digest.hexdigest()[:24]


def _table_path() -> Path | None:
    folder = cache_folder()
    return None if folder is None else folder / f"unit-table-{table_key()}.json"


def table_from_registry() -> dict[str, tuple[str, Decimal]]:
    """Each canonical unit's dimensionality and factor to base units, computed by Pint."""
    registry = get_registry()
    table: dict[str, tuple[str, Decimal]] = {}
    for spec in UNITS:
        if spec.pint is None:
            continue
        base = registry.Quantity(Decimal(1), registry.parse_units(spec.pint)).to_base_units()
        magnitude = base.magnitude
        factor = magnitude if isinstance(magnitude, Decimal) else Decimal(str(magnitude))
        table[spec.canonical] = (str(base.dimensionality), factor)
    return table


def _read_table(path: Path) -> dict[str, tuple[str, Decimal]] | None:
    import json

    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        table = {unit: (str(dims), Decimal(str(factor))) for unit, (dims, factor) in raw.items()}
    except (OSError, ValueError, TypeError, ArithmeticError):
        return None  # missing or damaged: rebuild from the registry
    expected = {spec.canonical for spec in UNITS if spec.pint is not None}
    if set(table) != expected or not all(f.is_finite() and f > 0 for _, f in table.values()):
        return None
    return table


def _write_table(path: Path, table: dict[str, tuple[str, Decimal]]) -> None:
    import json
    import tempfile

    payload = {unit: [dims, str(factor)] for unit, (dims, factor) in table.items()}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename, so a concurrent reader never sees half a file.
        with tempfile.NamedTemporaryFile(
            "w",
            dir=path.parent,
            prefix=".unit-table-",
            suffix=".tmp",
            delete=False,
            encoding="utf-8",
        ) as handle:
            json.dump(payload, handle, sort_keys=True)
        os.replace(handle.name, path)
    except OSError:
        return  # a read-only cache only costs the next process a rebuild


def unit_table() -> dict[str, tuple[str, Decimal]]:
    """The unit table: read from the cache when it matches, else built with Pint once."""
    global _table
    if _table is None:
        with _lock:
            if _table is None:
                path = _table_path()
                table = _read_table(path) if path is not None else None
                if table is None:
                    table = table_from_registry()
                    if path is not None:
                        _write_table(path, table)
                _table = table
    return _table


@lru_cache(maxsize=1024)
def scale_factor(source: str, target: str) -> Decimal:
    """Decimal factor f with ``x source == x * f target`` for two canonical units.

    Both must have a Pint expression and the same dimensionality; otherwise
    :class:`IncompatibleUnitsError`. Only canonical strings from the catalog reach Pint.
    """
    if source == target:
        return Decimal(1)
    table = unit_table()
    src = table.get(source)
    dst = table.get(target)
    if src is None or dst is None:
        raise IncompatibleUnitsError(f"cannot scale {source} to {target} directly")
    if src[0] != dst[0]:
        raise IncompatibleUnitsError(f"{source} and {target} measure different things")
    with localcontext() as ctx:
        ctx.prec = 40
        return src[1] / dst[1]
