"""When the workstation has been left alone long enough to lock it."""

from __future__ import annotations

import time
from collections.abc import Callable


class IdleWatch:
    """Remembers the last input and says when the idle limit has passed.

    The clock is injectable so the rule can be tested without waiting.
    """

    def __init__(self, limit_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit_seconds = limit_seconds
        self._clock = clock
        self._last_input = clock()

    def touch(self) -> None:
        """Record that the user just did something."""
        self._last_input = self._clock()

    @property
    def last_input(self) -> float:
        """The clock's reading at the last input."""
        return self._last_input

    @property
    def idle_for(self) -> float:
        """Seconds since the last input."""
        return self._clock() - self._last_input

    def expired(self) -> bool:
        """True once the user has been idle for the whole limit."""
        return self.idle_for >= self.limit_seconds
