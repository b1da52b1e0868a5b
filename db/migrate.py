"""Bring a database to this release's schema when it is opened.

The migration scripts ship as package data (``db/migrations``) and run in code: no
``alembic.ini`` is needed. A database whose revision this code does not know was
written by a newer Formulary and is refused rather than guessed at.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.resources import files
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from db.errors import SchemaTooNew

#: Advisory-lock key serialising migrations between PostgreSQL clients ("FRMLMIGR").
_PG_MIGRATION_LOCK = 0x46524D4C4D494752 - (1 << 63)


def _config() -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(str(files("db") / "migrations"))))
    return cfg


#: The newest schema revision, as the migration scripts chain it. Opening a database
#: compares its stamp with this, so an up-to-date database (every command but the
#: first after an upgrade) opens without importing Alembic and reading every script,
#: about a tenth of a second of each command. tests/storage/test_migrations.py checks
#: it against :func:`head_revision`, so a new migration cannot be left out of it.
HEAD = "0013"


def head_revision() -> str:
    """The newest schema revision this code knows (read from the migration scripts)."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return str(head)


def known_revisions() -> set[str]:
    """Every schema revision this code can migrate from."""
    from alembic.script import ScriptDirectory

    return {str(rev.revision) for rev in ScriptDirectory.from_config(_config()).walk_revisions()}


def revision_order() -> list[str]:
    """Every revision, oldest first (alembic's chain, not the file names' order)."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(_config())
    return [str(rev.revision) for rev in reversed(list(script.walk_revisions()))]


def unmarked_revisions() -> set[str]:
    """Revisions from before SQLite files carried Formulary's application id."""
    from alembic.script import ScriptDirectory

    from db.marker import MARKED_FROM

    script = ScriptDirectory.from_config(_config())
    return {
        str(rev.revision) for rev in script.iterate_revisions(MARKED_FROM, "base")
    } - {MARKED_FROM}


def current_revision(connection: sa.Connection) -> str | None:
    """The revision stamped in the database, or None for an empty database."""
    # Alembic's own table, read directly: importing Alembic to read one row cost more
    # than opening the database.
    if not sa.inspect(connection).has_table("alembic_version"):
        return None
    stamped = connection.execute(sa.text("SELECT version_num FROM alembic_version")).first()
    return None if stamped is None else str(stamped[0])


def upgrade(
    engine: sa.Engine,
    after_create: Callable[[sa.Connection], None] | None = None,
    *,
    revision: str = "head",
) -> bool:
    """Migrate ``engine``'s database to :func:`head_revision`; True if it was empty.

    ``revision`` stops at an older revision instead (tests build databases as an
    earlier release left them, then migrate them).

    Runs in one transaction (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: under an
    advisory lock), so two processes opening a new database at once create it once.
    ``after_create`` runs in that same transaction when the database was empty (it
    seeds the ingredient library), so a database is never left half-created.
    Raises :class:`SchemaTooNew` for a database written by a newer release.
    """
    from alembic import command

    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(sa.select(sa.func.pg_advisory_xact_lock(_PG_MIGRATION_LOCK)))
        current = current_revision(connection)
        if current is not None and current not in known_revisions():
            raise SchemaTooNew(
                f"this database has schema revision {current}, newer than this Formulary "
                f"understands (newest known: {head_revision()}); install the newer Formulary "
                "release that wrote it, or open a backup made before the upgrade"
            )
        if current == (HEAD if revision == "head" else revision):
            return False
        cfg = _config()
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)
        if current is None and after_create is not None:
            after_create(connection)
        return current is None
