"""Opening a Formulary database: resolve, prepare, connect, migrate, identify."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from db import engine as engines
from db import migrate
from db.errors import DatabaseUnavailable, NotFormulary


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
    backup_dir: Path | None = None,
) -> Database:
    """Open (and if needed create and migrate) the database at ``location``.

    ``location`` is a SQLite path, a ``postgresql+psycopg://`` URL, or None for
    ``$FORMULARY_DB`` / the user data directory. With ``create=False`` a missing
    SQLite file is an error instead of being created. The schema is migrated forward;
    a database newer than this code raises :class:`~db.errors.SchemaTooNew`.
    ``seed(connection, db_id)`` runs inside the creating transaction of a new
    database (default: copy the ingredient library in, audited).

    A database of an older revision is backed up before it is migrated: a SQLite
    file is copied beside itself; a PostgreSQL database is dumped with ``pg_dump``
    into ``backup_dir`` (default ``$FORMULARY_BACKUP_DIR``, else the user data
    directory's ``backups``). If the backup cannot be made nothing is migrated.
    """
    where = engines.resolve(location)
    if where.path is not None:
        engines.prepare_sqlite_file(where.path, create=create)
    # A SQLite file is inspected read-only before our engine touches it (the engine
    # switches files to WAL): a foreign file must come out byte for byte unchanged.
    early = _inspect_sqlite_file(where.path) if where.path is not None else None
    engine = engines.make_engine(where)
    try:
        state = early or _inspect(engine)
        if state == "foreign":
            raise NotFormulary(
                f"{_name(where)} is not a Formulary database (it has tables, but no Formulary "
                "schema or installation row); nothing was changed. Give the path of a "
                "Formulary database, or create a new one with `formulary init --db NEW`"
            )
        if state == "empty" and not create:
            raise NotFormulary(
                f"{_name(where)} is empty, not a Formulary database; nothing was changed. "
                f"Create one with `formulary init --db {_name(where)}`"
            )
        if state == "older" and where.path is not None:
            _backup_before_migrating(engine, where.path)
        elif state == "older":
            _dump_before_migrating(engine, where.url, backup_dir)
        seeder = seed if seed is not None else _default_seed

        def after_create(connection: sa.Connection) -> None:
            from db.seed import audit_installation

            db_id = _db_id(connection)
            audit_installation(connection, db_id)
            seeder(connection, db_id)

        # A current database is only read here: a read-only file still opens (verify).
        created = (
            False if state == "current" else migrate.upgrade(engine, after_create=after_create)
        )
        with engine.execution_options(**{engines.READ_ONLY: True}).connect() as connection:
            db_id = _db_id(connection)
            connection.rollback()
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


def _inspect(engine: sa.Engine) -> str:
    """``empty``, ``foreign``, ``current`` or ``older`` (a Formulary schema to migrate).

    A Formulary database carries an Alembic revision this code knows (or a newer one,
    refused later as too new) and its ``installation`` row; a file with tables but
    without them belongs to something else and is never migrated.
    """
    reader = engine.execution_options(**{engines.READ_ONLY: True})
    with reader.connect() as connection:
        tables = set(sa.inspect(connection).get_table_names())
        revision = migrate.current_revision(connection) if "alembic_version" in tables else None
        connection.rollback()
    if not tables:
        return "empty"
    if revision is None or "installation" not in tables:
        return "foreign"
    return "current" if revision == migrate.HEAD else "older"


def _inspect_sqlite_file(path: Path) -> str | None:
    """``empty`` or ``foreign`` for a SQLite file that is not Formulary's, else None.

    A Formulary file carries Formulary's ``application_id`` (:mod:`db.marker`); a file
    without it is Formulary's only if it holds Formulary's tables at a revision from
    before the marker existed (it gets the marker when migrated). Another
    application's id is refused whatever tables the file holds.
    """
    import sqlite3

    from db.marker import APPLICATION_ID

    try:
        if path.stat().st_size == 0:
            return "empty"
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
            app_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
            revision = (
                conn.execute("SELECT version_num FROM alembic_version").fetchone()
                if "alembic_version" in names
                else None
            )
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise NotFormulary(
            f"{path} is not a Formulary database (SQLite cannot read it: {exc}); nothing "
            "was changed. Give the path of a Formulary database, or create a new one with "
            "`formulary init --db NEW`"
        ) from exc
    except OSError as exc:
        raise DatabaseUnavailable(f"cannot read {path}: {exc.strerror}") from exc
    if app_id not in (0, APPLICATION_ID):
        raise NotFormulary(
            f"{path} is not a Formulary database (its SQLite application id is "
            f"{app_id:#010x}, another program's; Formulary's is {APPLICATION_ID:#010x}); "
            "nothing was changed. Give the path of a Formulary database, or create a new "
            "one with `formulary init --db NEW`"
        )
    if not names:
        return "empty"
    if "alembic_version" not in names or "installation" not in names:
        return "foreign"
    if app_id == 0 and (revision is None or str(revision[0]) not in migrate.unmarked_revisions()):
        raise NotFormulary(
            f"{path} is not a Formulary database: it has Formulary's tables but not its "
            f"marker (SQLite application id {APPLICATION_ID:#010x}), which every Formulary "
            "database of its revision carries; nothing was changed. Open the clinic's own "
            "database or a backup of it"
        )
    return None


def _backup_before_migrating(engine: sa.Engine, path: Path) -> None:
    """Copy a SQLite database of an older revision aside before its schema changes."""
    import sqlite3
    from datetime import UTC, datetime

    with engine.connect() as connection:
        revision = migrate.current_revision(connection)
        connection.rollback()
    if revision is None or revision not in migrate.known_revisions():
        return  # too new: refused by migrate.upgrade, nothing to back up
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    copy = path.with_name(f"{path.name}.before-migration-{revision}-{stamp}")
    try:
        fd = os.open(copy, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        os.close(fd)
        src = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            dst = sqlite3.connect(copy)
            try:
                src.backup(dst)
            finally:
                dst.close()
        finally:
            src.close()
    except (OSError, sqlite3.Error) as exc:
        copy.unlink(missing_ok=True)
        raise DatabaseUnavailable(
            f"{path} has an older schema (revision {revision}) and must be migrated, but "
            f"its copy could not be written first ({exc}); nothing was changed. Free disk "
            "space or make the folder writable, then open it again"
        ) from exc


def pg_backup_dir(backup_dir: Path | None = None) -> Path:
    """Where a PostgreSQL database's dump is written before it is migrated."""
    if backup_dir is not None:
        return backup_dir
    configured = os.environ.get("FORMULARY_BACKUP_DIR")
    if configured:
        return Path(configured)
    from platformdirs import user_data_dir

    return Path(user_data_dir("formulary", appauthor=False)) / "backups"


def _dump_before_migrating(engine: sa.Engine, url: str, backup_dir: Path | None) -> None:
    """Dump a PostgreSQL database of an older revision (``pg_dump``) before migrating it.

    The dump is PostgreSQL's custom format (``pg_restore`` restores it), written to a
    private file in :func:`pg_backup_dir`; nothing is migrated unless it succeeded.
    """
    import shutil
    import subprocess
    from datetime import UTC, datetime

    with engine.connect() as connection:
        revision = migrate.current_revision(connection)
        connection.rollback()
    if revision is None or revision not in migrate.known_revisions():
        return  # too new: refused by migrate.upgrade, nothing to back up
    parsed = sa.make_url(url)
    name = "".join(c if c.isalnum() or c in "-_" else "_" for c in parsed.database or "formulary")
    fix = (
        "nothing was changed. Install PostgreSQL's client tools (pg_dump) of the server's "
        "version or newer, or free disk space or make the folder writable "
        "($FORMULARY_BACKUP_DIR chooses it), then open it again"
    )
    program = shutil.which("pg_dump")
    if program is None:
        raise DatabaseUnavailable(
            f"{_safe(url)} has an older schema (revision {revision}) and is backed up with "
            f"pg_dump before it is migrated, but pg_dump was not found; {fix}"
        )
    folder = pg_backup_dir(backup_dir)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    dump = folder / f"{name}.before-migration-{revision}-{stamp}.dump"
    partial = dump.with_name(dump.name + ".partial")
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)  # never on the command line
    libpq = parsed.set(drivername="postgresql", password=None).render_as_string(
        hide_password=False
    )
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(partial, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        os.close(fd)
        done = subprocess.run(
            [program, "--format=custom", f"--file={partial}", f"--dbname={libpq}"],
            env=env,
            capture_output=True,
            text=True,
            timeout=3600,
            check=False,
        )
        if done.returncode != 0:
            lines = (done.stderr or "").strip().splitlines()
            raise OSError(lines[-1] if lines else f"pg_dump exited with {done.returncode}")
        with partial.open("rb") as written:
            os.fsync(written.fileno())
        os.replace(partial, dump)
    except (OSError, subprocess.SubprocessError) as exc:
        partial.unlink(missing_ok=True)
        raise DatabaseUnavailable(
            f"{_safe(url)} has an older schema (revision {revision}) and must be migrated, "
            f"but its backup could not be made first ({exc}); {fix}"
        ) from exc


def _name(where: engines.Location) -> str:
    return str(where.path) if where.path is not None else _safe(where.url)


def _db_id(connection: sa.Connection) -> str:
    value = connection.execute(
        sa.text("SELECT db_id FROM installation ORDER BY id LIMIT 1")
    ).scalar()
    if value is None:
        raise DatabaseUnavailable("the database has no installation row; restore it from a backup")
    return str(value)


def _default_seed(connection: sa.Connection, db_id: str) -> None:
    from db.seed import seed_consent_template, seed_library

    seed_library(connection, db_id)
    # A new clinic can sign consents at once; the template is the clinic's to edit.
    seed_consent_template(connection, db_id)


def _safe(url: str) -> str:
    return sa.make_url(url).render_as_string(hide_password=True)


def _reason(exc: sa.exc.OperationalError) -> str:
    return str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
