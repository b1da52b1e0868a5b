"""Where the database lives and how we connect to it.

SQLite is the default: one file in the platform's user data directory, created
private (0600 in a 0700 directory) before SQLite touches it, in WAL mode with
``synchronous=FULL``, foreign keys on, a busy timeout and ``BEGIN IMMEDIATE`` for
every write transaction so that two writers queue instead of failing half-way.
PostgreSQL is used when the location is a ``postgresql+psycopg://`` URL.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from db.errors import DatabaseUnavailable
from db.location import ENV_VAR as ENV_VAR
from db.location import chosen, plain_path
from db.location import default_path as default_path

#: How long (ms) a SQLite writer waits for another writer before giving up.
BUSY_TIMEOUT_MS = 30_000

#: Execution option marking a read-only unit of work (plain deferred BEGIN on SQLite).
READ_ONLY = "formulary_read_only"

#: Filesystems whose locking SQLite cannot rely on (its documentation warns against them).
NETWORK_FILESYSTEMS = frozenset(
    {
        "nfs",
        "nfs4",
        "cifs",
        "smb",
        "smb2",
        "smb3",
        "smbfs",
        "ncpfs",
        "afs",
        "coda",
        "fuse.sshfs",
        "9p",
        "ceph",
        "glusterfs",
        "fuse.glusterfs",
        "lustre",
        "gpfs",
    }
)


@dataclass(frozen=True, slots=True)
class Location:
    """A resolved database location: a SQLAlchemy URL and, for SQLite, the file."""

    url: str
    path: Path | None

    @property
    def is_sqlite(self) -> bool:
        """True when the database is a local SQLite file."""
        return self.path is not None


def resolve(location: str | Path | None) -> Location:
    """Resolve ``--db``: explicit value, else ``$FORMULARY_DB``, else the default file.

    A value containing ``://`` is a database URL (``postgresql+psycopg://…`` or
    ``sqlite:///…``); anything else is a path to a SQLite file.
    """
    raw = chosen(location)
    path = plain_path(raw)
    if path is not None:
        return Location(url=_sqlite_url(path), path=path)
    url = sa.make_url(str(raw).strip())
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:":
            raise DatabaseUnavailable(
                "an in-memory SQLite database cannot be shared; give a file path with --db"
            )
        path = Path(url.database).expanduser().absolute()
        return Location(url=_sqlite_url(path), path=path)
    if url.get_backend_name() == "postgresql":
        if url.get_driver_name() not in ("psycopg", ""):
            raise DatabaseUnavailable(
                f"unsupported PostgreSQL driver {url.get_driver_name()!r}; "
                "use a postgresql+psycopg:// URL"
            )
        return Location(
            url=url.set(drivername="postgresql+psycopg").render_as_string(False), path=None
        )
    raise DatabaseUnavailable(
        f"unsupported database URL scheme {url.drivername!r}; "
        "give a SQLite file path or a postgresql+psycopg:// URL"
    )


def _sqlite_url(path: Path) -> str:
    return f"sqlite+pysqlite:///{path}"


def filesystem_type(path: Path, mountinfo: str | None = None) -> str | None:
    """The filesystem type holding ``path`` (Linux ``/proc/self/mountinfo``), or None.

    ``mountinfo`` may be given for tests; otherwise it is read from ``/proc``. On
    platforms without ``/proc`` the type is unknown and None is returned.
    """
    if mountinfo is None:
        try:
            mountinfo = Path("/proc/self/mountinfo").read_text(encoding="utf-8")
        except OSError:
            return None
    target = str(path)
    best: tuple[int, str] | None = None
    for line in mountinfo.splitlines():
        left, sep, right = line.partition(" - ")
        fields = left.split()
        if not sep or len(fields) < 5 or not right.split():
            continue
        mount_point = _unescape_mount(fields[4])
        fstype = right.split()[0]
        inside = target == mount_point or target.startswith(mount_point.rstrip("/") + "/")
        if inside and (best is None or len(mount_point) >= best[0]):
            best = (len(mount_point), fstype)
    return best[1] if best else None


def _unescape_mount(field: str) -> str:
    # mountinfo escapes space, tab, newline and backslash as octal (\040 …).
    out: list[str] = []
    i = 0
    while i < len(field):
        if field[i] == "\\" and field[i + 1 : i + 4].isdigit() and i + 3 < len(field):
            out.append(chr(int(field[i + 1 : i + 4], 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def refuse_network_filesystem(path: Path, mountinfo: str | None = None) -> None:
    """Raise :class:`DatabaseUnavailable` when ``path``'s directory is on a network share."""
    # Resolve symlinks through the part of the path that exists, keep the rest as given.
    existing, tail = path, []
    while not existing.exists() and existing != existing.parent:
        tail.append(existing.name)
        existing = existing.parent
    fstype = filesystem_type(existing.resolve().joinpath(*reversed(tail)), mountinfo)
    if fstype is not None and fstype.lower() in NETWORK_FILESYSTEMS:
        raise DatabaseUnavailable(
            f"{path} is on a network filesystem ({fstype}); SQLite cannot lock it safely. "
            "Keep the database on a local disk, or use PostgreSQL for shared access."
        )


def prepare_sqlite_file(path: Path, *, create: bool) -> bool:
    """Make sure the SQLite file exists with private permissions; True if created now.

    The directory is created 0700 and the file 0600 *before* SQLite opens it, so the
    database never exists readable by others, not even for a moment.
    """
    refuse_network_filesystem(path)
    if path.exists():
        if not path.is_file():
            raise DatabaseUnavailable(f"{path} is not a file; give the path of a database file")
        return False
    if not create:
        raise DatabaseUnavailable(
            f"no database at {path}; create one with `formulary init --db {path}`"
        )
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return False  # another process created it first; it goes through the same checks
    except OSError as exc:
        raise DatabaseUnavailable(f"cannot create {path}: {exc.strerror}") from exc
    os.close(fd)
    return True


def make_engine(location: Location) -> sa.Engine:
    """A SQLAlchemy engine for ``location`` with Formulary's connection settings."""
    if location.is_sqlite:
        return _sqlite_engine(location.url)
    return sa.create_engine(location.url, pool_pre_ping=True)


def _sqlite_engine(url: str) -> sa.Engine:
    engine = sa.create_engine(
        url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}
    )

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the sqlite3 module: we emit BEGIN ourselves.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        finally:
            cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        # Writers take the write lock up front, so a transaction never fails half-way
        # with SQLITE_BUSY when it upgrades from reading to writing.
        if connection.get_execution_options().get(READ_ONLY):
            connection.exec_driver_sql("BEGIN")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def is_busy_error(exc: BaseException) -> bool:
    """True when ``exc`` is SQLite reporting that another writer holds the lock."""
    text = str(getattr(exc, "orig", exc)).lower()
    return "database is locked" in text or "database is busy" in text
