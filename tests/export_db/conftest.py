"""Database-backed export tests: a clinic built through the Store, on every engine.

SQLite always; PostgreSQL too when FORMULARY_TEST_PG_URL is set, each test in a
database of its own (``formulary_exp_<random>``) dropped afterwards. Checkpoint keys
live in a temporary directory; password hashing is made cheap for speed.

Migrating a database and building the clinic (users, signed sessions, consents,
outcomes) took most of each test's time, so each is done once per test process and
engine, and ``database`` gives every test a copy at its own ``location``: of the
clinic, key folder with it, when the test uses ``clinic``; else of a newly migrated
database. Tests of making a database (``init``) still make their own.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
import sqlalchemy as sa

from db import auth
from db.database import Database, open_database
from db.store import Store
from tests.conftest import cheap_hasher
from tests.export_db.clinic import Clinic, build_clinic

PG_ENV = "FORMULARY_TEST_PG_URL"
ENGINES = [
    "sqlite",
    pytest.param("postgresql", marks=pytest.mark.skipif(
        not os.environ.get(PG_ENV), reason=f"{PG_ENV} is not set (PostgreSQL tests skipped)")),
]


@pytest.fixture(autouse=True)
def key_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "keys"
    monkeypatch.setenv("FORMULARY_KEY_DIR", str(path))
    monkeypatch.delenv("FORMULARY_PASSWORD", raising=False)
    monkeypatch.delenv("FORMULARY_DB", raising=False)
    return path


def _is_postgresql(location: str) -> bool:
    return location.startswith("postgresql")


def _pg_admin() -> sa.Engine:
    return sa.create_engine(sa.make_url(os.environ[PG_ENV]), isolation_level="AUTOCOMMIT")


def _new_pg_database() -> str:
    server = sa.make_url(os.environ[PG_ENV])
    name = f"formulary_exp_{uuid.uuid4().hex[:12]}"
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    return server.set(database=name).render_as_string(hide_password=False)


def _drop_pg_database(location: str) -> None:
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.exec_driver_sql(
            f'DROP DATABASE IF EXISTS "{sa.make_url(location).database}" WITH (FORCE)'
        )
    admin.dispose()


@dataclass(frozen=True)
class Template:
    """A database made once (and never opened again): where it is, its key folder,
    and, for a clinic, what :func:`build_clinic` returned (its Store left behind)."""

    location: str
    keys: Path
    clinic: Clinic | None


class Templates:
    """The migrated database and the clinic, per engine, each made on first use."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.made: dict[tuple[bool, bool], Template] = {}

    def get(self, postgresql: bool, with_clinic: bool) -> Template:
        what = (postgresql, with_clinic)
        if what not in self.made:
            folder = self.folder / f"{'pg' if postgresql else 'sqlite'}-{int(with_clinic)}"
            folder.mkdir()
            location = _new_pg_database() if postgresql else str(folder / "clinic.db")
            keys = folder / "keys"
            with pytest.MonkeyPatch.context() as patch:
                patch.setenv("FORMULARY_KEY_DIR", str(keys))
                patch.delenv("FORMULARY_FILES_DIR", raising=False)
                patch.setattr(auth, "_hasher", cheap_hasher)
                patch.setattr(auth, "pause", lambda _seconds: None)
                database = open_database(location)
                try:
                    made = build_clinic(Store(database, workstation="test-ws")) if with_clinic \
                        else None
                finally:
                    database.dispose()
            if not postgresql:  # closed cleanly: all in its file (no -wal or -shm left)
                assert {p.name for p in folder.iterdir() if p != keys} <= {
                    "clinic.db", "clinic.db.files"}
            self.made[what] = Template(location, keys, made)
        return self.made[what]

    def close(self) -> None:
        for template in self.made.values():
            if _is_postgresql(template.location):
                _drop_pg_database(template.location)


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Templates]:
    made = Templates(tmp_path_factory.mktemp("export-templates"))
    try:
        yield made
    finally:
        made.close()


@pytest.fixture(params=ENGINES)
def location(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new database location: a SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield str(tmp_path / "clinic.db")
        return
    made = _new_pg_database()
    try:
        yield made
    finally:
        _drop_pg_database(made)


@pytest.fixture
def database(
    request: pytest.FixtureRequest, location: str, key_dir: Path, templates: Templates
) -> Iterator[Database]:
    """A new migrated database at ``location``; holding the clinic (and its key in
    ``key_dir``) when the test uses ``clinic``. A copy of the one made for the engine."""
    postgresql = _is_postgresql(location)
    template = templates.get(postgresql, "clinic" in request.fixturenames)
    if postgresql:
        name = sa.make_url(location).database
        source = sa.make_url(template.location).database
        admin = _pg_admin()
        with admin.connect() as conn:  # the test's empty database, replaced by a copy
            conn.exec_driver_sql(f'DROP DATABASE "{name}"')
            conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
        admin.dispose()
    else:
        assert not Path(location).exists()
        shutil.copyfile(template.location, location)
        Path(location).chmod(0o600)  # as a new database file is made
        files = Path(f"{template.location}.files")  # the managed folder beside it
        if files.exists():
            shutil.copytree(files, f"{location}.files")  # modes too
    if template.keys.exists():  # the key the clinic's checkpoints pinned, and their log
        shutil.copytree(template.keys, key_dir, dirs_exist_ok=True)  # modes too: 0600
    db = open_database(location, create=False)
    try:
        yield db
    finally:
        db.dispose()


@pytest.fixture
def clinic(database: Database, templates: Templates) -> Clinic:
    """The clinic of :func:`build_clinic` (a copy: see :class:`Templates`), with a new Store."""
    made = templates.get(database.dialect == "postgresql", True).clinic
    assert made is not None
    return replace(made, store=Store(database, workstation="test-ws"))


@pytest.fixture
def cli() -> Callable[..., object]:
    from typer.testing import CliRunner

    from tui.cli.main import app

    runner = CliRunner()

    def run(args: list[str], input: str | None = None) -> object:
        return runner.invoke(app, args, input=input, catch_exceptions=False)

    return run
