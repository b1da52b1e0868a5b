"""Why a quantity was refused. ``str(error)`` is the one message shown to the user.

Every error derives from :class:`UnitsError` (a ``ValueError``), so callers that only
need to report bad input catch one class.
"""

from __future__ import annotations


class UnitsError(ValueError):
    """Base class: a quantity could not be read or converted. ``str()`` says why."""


class InvalidQuantityError(UnitsError):
    """The text is not an amount the strict parser accepts."""


class UnknownUnitError(InvalidQuantityError):
    """The unit is not on the allow-list (the message suggests the nearest spellings)."""


class WrongKindError(UnitsError):
    """The quantity is valid but of the wrong kind here (a mass where a volume is due)."""


class IncompatibleUnitsError(UnitsError):
    """The two units measure different things and no fact can relate them."""


class SubstanceRequiredError(UnitsError):
    """The conversion is only meaningful for a named substance."""


class MissingFactError(UnitsError):
    """The substance lacks the fact this conversion needs (molar mass, valence, IU basis)."""


class AmbiguousFormError(UnitsError):
    """The substance has several forms this could mean; the caller must name one."""


class NotConvertibleError(UnitsError):
    """These units never convert (product-specific biological units, % w/w → mg/mL)."""
