"""Why a mixing calculation was refused (a :class:`UnitsError`, so callers catch one base)."""

from __future__ import annotations

from formulary.units.errors import UnitsError


class MixingError(UnitsError):
    """The components, volumes or strengths cannot make the requested preparation."""
