"""Where the database lives and how SQLite is set up."""

from __future__ import annotations

import sqlite3
import stat
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from db import engine as engines
from db.database import open_database
from db.errors import DatabaseUnavailable
from db.store import Store
from formulary.records import Role

pytestmark = pytest.mark.storage

MOUNTINFO = """\
22 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw
40 22 0:50 / /mnt/clinic\\040share rw,relatime - cifs //server/share rw
41 22 0:51 / /srv/nfs rw,relatime - nfs4 server:/export rw
42 41 0:52 / /srv/nfs/local rw,relatime - ext4 /dev/sdb1 rw
"""


def test_explicit_location_beats_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(engines.ENV_VAR, str(tmp_path / "env.db"))
    assert engines.resolve(tmp_path / "x.db").path == tmp_path / "x.db"
    assert engines.resolve(None).path == tmp_path / "env.db"


def test_default_is_the_user_data_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(engines.ENV_VAR, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    where = engines.resolve(None)
    assert where.path == tmp_path / "data" / "formulary" / "formulary.db"


def test_postgresql_urls_are_kept_and_other_schemes_refused() -> None:
    where = engines.resolve("postgresql+psycopg://u@h:5432/clinic")
    assert where.path is None and where.url.startswith("postgresql+psycopg://")
    with pytest.raises(DatabaseUnavailable, match="unsupported database URL"):
        engines.resolve("mysql://u@h/db")
    with pytest.raises(DatabaseUnavailable, match="in-memory"):
        engines.resolve("sqlite://")


def test_new_file_is_private_in_a_private_directory(tmp_path: Path) -> None:
    path = tmp_path / "new" / "deeper" / "f.db"
    db = open_database(path)
    try:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        assert db.created and db.dialect == "sqlite"
    finally:
        db.dispose()


def test_missing_file_is_not_created_when_asked_not_to(tmp_path: Path) -> None:
    with pytest.raises(DatabaseUnavailable, match="formulary init"):
        open_database(tmp_path / "absent.db", create=False)
    assert not (tmp_path / "absent.db").exists()


def test_sqlite_connection_settings(tmp_path: Path) -> None:
    db = open_database(tmp_path / "f.db")
    try:
        with db.engine.connect() as connection:
            pragma = connection.exec_driver_sql
            assert pragma("PRAGMA journal_mode").scalar() == "wal"
            assert pragma("PRAGMA synchronous").scalar() == 2  # FULL
            assert pragma("PRAGMA foreign_keys").scalar() == 1
            assert pragma("PRAGMA busy_timeout").scalar() == engines.BUSY_TIMEOUT_MS
    finally:
        db.dispose()


def test_write_transactions_take_the_write_lock_at_begin(tmp_path: Path) -> None:
    db = open_database(tmp_path / "f.db")
    store = Store(db, "ws")
    try:
        session = store._begin()  # what every Store write starts with
        try:
            other = sqlite3.connect(tmp_path / "f.db", timeout=0, isolation_level=None)
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
            # Readers are never blocked by a writer in WAL mode.
            assert other.execute("SELECT count(*) FROM patient").fetchone() == (0,)
            other.close()
        finally:
            session.rollback()
            session.close()
    finally:
        db.dispose()


def test_filesystem_type_picks_the_deepest_mount() -> None:
    assert engines.filesystem_type(Path("/home/x/f.db"), MOUNTINFO) == "ext4"
    assert engines.filesystem_type(Path("/mnt/clinic share/f.db"), MOUNTINFO) == "cifs"
    assert engines.filesystem_type(Path("/srv/nfs/a.db"), MOUNTINFO) == "nfs4"
    assert engines.filesystem_type(Path("/srv/nfs/local/a.db"), MOUNTINFO) == "ext4"
    assert engines.filesystem_type(Path("/srv/nfsx/a.db"), MOUNTINFO) == "ext4"


@pytest.mark.parametrize("where", ["/mnt/clinic share/f.db", "/srv/nfs/f.db"])
def test_network_filesystems_are_refused_with_a_clear_message(where: str) -> None:
    with pytest.raises(DatabaseUnavailable, match=r"network filesystem .*local disk"):
        engines.refuse_network_filesystem(Path(where), MOUNTINFO)


def test_local_filesystem_is_accepted() -> None:
    engines.refuse_network_filesystem(Path("/srv/nfs/local/f.db"), MOUNTINFO)


def test_unreachable_postgresql_is_one_clear_error() -> None:
    with pytest.raises(DatabaseUnavailable, match="cannot open the database"):
        open_database("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")


def test_busy_error_detection() -> None:
    assert engines.is_busy_error(
        sa.exc.OperationalError("BEGIN", {}, Exception("database is locked"))
    )
    assert not engines.is_busy_error(Exception("no such table"))


def test_busy_at_begin_is_retried_then_reported_clearly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from db.errors import Conflict

    db = open_database(tmp_path / "f.db")
    store = Store(db, "ws")
    # The Store's sessions are sqlmodel's; its retry sleeps through time.sleep.
    real = Session.connection
    failures = {"left": 2}

    def flaky(self: object, *args: object, **kwargs: object) -> object:
        if failures["left"] > 0:
            failures["left"] -= 1
            raise sa.exc.OperationalError("BEGIN IMMEDIATE", {}, Exception("database is locked"))
        return real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Session, "connection", flaky)
    monkeypatch.setattr(time, "sleep", lambda _s: None)
    try:
        admin = store.create_first_admin("admin", "Ada Admin", "long enough pw")
        assert admin.id == 1 and failures["left"] == 0
        failures["left"] = 10**6
        with pytest.raises(Conflict, match="busy with another workstation's change; try again"):
            store.create_user(
                admin,
                "x",
                "X",
                Role.ADMIN,
                "long enough pw",
            )
    finally:
        monkeypatch.undo()
        db.dispose()


def test_a_lost_database_is_one_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = open_database(tmp_path / "f.db")
    store = Store(db, "ws")
    admin = store.create_first_admin("admin", "Ada Admin", "long enough pw")

    def broken(self: object, *args: object, **kwargs: object) -> object:
        raise sa.exc.OperationalError("BEGIN IMMEDIATE", {}, Exception("disk I/O error"))

    monkeypatch.setattr(Session, "connection", broken)
    try:
        with pytest.raises(DatabaseUnavailable, match=r"disk I/O error\); nothing was saved"):
            store.create_user(admin, "x", "X", Role.ASSISTANT, "long enough pw")
    finally:
        monkeypatch.undo()
        db.dispose()
