"""What a treatment session records, declared once: each field, its kind and its range.

The Store, the session screen and the command line all check a session's numbers
against the ranges declared here, so a range lives in one place.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class IntRange:
    """An inclusive range of whole numbers a field accepts."""

    low: int
    high: int
    #: How the field is named in messages ("needle gauge").
    label: str
    #: The unit shown after a value in messages ("G"), if any.
    unit: str = ""

    def _show(self, value: int) -> str:
        return f"{value} {self.unit}" if self.unit else str(value)

    def problem(self, value: int | None, where: str = "") -> str | None:
        """Why ``value`` is refused (one sentence), or None when it is in range or absent."""
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            return f"the {self.label}{where} must be a whole number"
        if self.low <= value <= self.high:
            return None
        return (
            f"the {self.label}{where} must be between {self._show(self.low)} and "
            f"{self._show(self.high)}"
        )


NEEDLE_GAUGE = IntRange(18, 34, "needle gauge", "G")
PAIN_SCORE = IntRange(0, 10, "pain score")
SESSION_NUMBER = IntRange(1, 1000, "session number")
#: Injection points (wheals) in one scalp zone in one session.
INJECTION_POINTS = IntRange(1, 500, "number of injection points")
