"""Where the database is, worked out without importing SQLAlchemy.

The app's first frame must not wait for the database layer: it reads this module to
decide, with one small read of the SQLite file, whether to show the sign-in form or
the first-administrator form while the Store opens in a worker. ``db.engine.resolve``
uses the same rules, so the two never disagree about which file is meant.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

#: Environment variable that overrides the default database location.
ENV_VAR = "FORMULARY_DB"


def default_path() -> Path:
    """The SQLite file used when neither ``--db`` nor ``FORMULARY_DB`` is given."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("formulary", appauthor=False)) / "formulary.db"


def chosen(location: str | Path | None) -> str | Path:
    """``--db`` if given, else ``$FORMULARY_DB``, else the default file."""
    raw: str | Path | None = location
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raw = os.environ.get(ENV_VAR) or None
    return default_path() if raw is None else raw


def plain_path(raw: str | Path) -> Path | None:
    """The SQLite file ``raw`` names when it is a path rather than a URL, else None."""
    if isinstance(raw, Path):
        return raw.expanduser().absolute()
    text = raw.strip()
    if "://" in text:
        return None
    return Path(text).expanduser().absolute()


def peek_has_users(location: str | Path | None) -> bool | None:
    """Whether the database has any account, from one read-only look; None if unsure.

    False for a SQLite file that does not exist yet (the first run will create it),
    True or False from the ``app_user`` table of an existing file, and None for a URL
    or a file this look cannot read (not a Formulary database, locked, damaged): the
    Store, once open, is then the one that decides, and reports any problem.
    """
    path = plain_path(chosen(location))
    if path is None:
        return None
    if not path.exists():
        return False
    try:
        connection = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=0.2)
    except sqlite3.Error:
        return None
    try:
        row = connection.execute("SELECT EXISTS (SELECT 1 FROM app_user)").fetchone()
    except sqlite3.Error:
        return None
    finally:
        connection.close()
    return bool(row[0])
