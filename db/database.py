"""Opening a Formulary database: resolve, prepare, connect, migrate, identify."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from db import engine as engines
from db import migrate
from db.errors import DatabaseUnavailable


@dataclass(frozen=True)
class Database:
    """An open database: its engine, dialect name, identity and (SQLite) file path."""

    engine: sa.Engine
    url: str
    dialect: str
    db_id: str
    path: Path | None
    created: bool

    def dispose(self) -> None:
        """Close every pooled connection (call before deleting or replacing the file)."""
        self.engine.dispose()


def open_database(
    location: str | Path | None = None,
    *,
    create: bool = True,
    seed: Callable[[sa.Connection, str], None] | None = None,
) -> Database:
    """Open (and if needed create and migrate) the database at ``location``.

    ``location`` is a SQLite path, a ``postgresql+psycopg://`` URL, or None for
    ``$FORMULARY_DB`` / the user data directory. With ``create=False`` a missing
    SQLite file is an error instead of being created. The schema is migrated forward;
    a database newer than this code raises :class:`~db.errors.SchemaTooNew`.
    ``seed(connection, db_id)`` runs inside the creating transaction of a new
    database (default: copy the ingredient library in, audited).
    """
    where = engines.resolve(location)
    if where.path is not None:
        engines.prepare_sqlite_file(where.path, create=create)
    engine = engines.make_engine(where)
    try:
        seeder = seed if seed is not None else _default_seed

        def after_create(connection: sa.Connection) -> None:
            from db.seed import audit_installation

            db_id = _db_id(connection)
            audit_installation(connection, db_id)
            seeder(connection, db_id)

        created = migrate.upgrade(engine, after_create=after_create)
        with engine.connect() as connection:
            db_id = _db_id(connection)
    except sa.exc.OperationalError as exc:
        engine.dispose()
        raise DatabaseUnavailable(
            f"cannot open the database {_safe(where.url)}: {_reason(exc)}"
        ) from exc
    except BaseException:
        engine.dispose()
        raise
    return Database(
        engine=engine,
        url=where.url,
        dialect=engine.dialect.name,
        db_id=db_id,
        path=where.path,
        created=created,
    )


def _db_id(connection: sa.Connection) -> str:
    value = connection.execute(
        sa.text("SELECT db_id FROM installation ORDER BY id LIMIT 1")
    ).scalar()
    if value is None:
        raise DatabaseUnavailable("the database has no installation row; restore it from a backup")
    return str(value)


def _default_seed(connection: sa.Connection, db_id: str) -> None:
    from db.seed import seed_library

    seed_library(connection, db_id)


def _safe(url: str) -> str:
    return sa.make_url(url).render_as_string(hide_password=True)


def _reason(exc: sa.exc.OperationalError) -> str:
    return str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
