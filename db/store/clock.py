"""The Store's clock: each unit of work reads the time once, from :func:`now`.

Public so that tests (and a demo built for pictures) can pin or step the time the
Store stamps on rows and audit entries, without reaching into the Store's private
modules: ``unittest.mock.patch.object(db.store.clock, "now", lambda: moment)``.
"""

from __future__ import annotations

from datetime import datetime

from db.types import utcnow


def now() -> datetime:
    """The current time, timezone-aware UTC."""
    return utcnow()
