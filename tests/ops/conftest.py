"""Fixtures for the headless operations: fresh databases on every configured engine,
a demo clinic built once per test session, and a CLI runner.

SQLite always; PostgreSQL too when FORMULARY_TEST_PG_URL is set, each test in a
database of its own (``formulary_ops_<random>``) that is dropped afterwards, so other
users of the server are never touched. Checkpoint keys go to a temporary directory.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner, Result

from db import auth
from db.database import Database, open_database
from db.ops.demo import build_demo
from db.ops.demo_data import USERS
from tests.conftest import cheap_hasher

PG_ENV = "FORMULARY_TEST_PG_URL"
ADMIN_PASSWORD = "correct-horse-battery"


def _engines() -> list[str]:
    return ["sqlite", "postgresql"] if os.environ.get(PG_ENV) else ["sqlite"]


@pytest.fixture(scope="session")
def _key_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private directory for checkpoint keys, shared by this package's tests."""
    return tmp_path_factory.mktemp("keys")


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch, _key_dir: Path) -> None:
    """Keys in the temporary directory; no password or database from the caller's shell."""
    monkeypatch.setenv("FORMULARY_KEY_DIR", str(_key_dir))
    monkeypatch.delenv("FORMULARY_PASSWORD", raising=False)
    monkeypatch.delenv("FORMULARY_DB", raising=False)


@pytest.fixture
def new_location(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Callable[[], str]]:
    """Makes locations of new, empty databases on this test's engine (``engine`` param)."""
    engine = getattr(request, "param", "sqlite")
    created: list[str] = []
    base = os.environ.get(PG_ENV)

    def make() -> str:
        if engine == "sqlite":
            path = tmp_path / f"db-{len(created)}.db"
            created.append(str(path))
            return str(path)
        assert base
        name = f"formulary_ops_{uuid.uuid4().hex[:12]}"
        admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        created.append(name)
        url = sa.make_url(base).set(drivername="postgresql+psycopg", database=name)
        return url.render_as_string(hide_password=False)

    yield make
    if engine == "postgresql" and base:
        admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for name in created:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests marked ``storage`` that use ``new_location`` run once per configured engine."""
    if "new_location" in metafunc.fixturenames and metafunc.definition.get_closest_marker(
        "storage"
    ):
        metafunc.parametrize("new_location", _engines(), indirect=True)


@pytest.fixture(scope="session")
def demo_file(tmp_path_factory: pytest.TempPathFactory, _key_dir: Path) -> Path:
    """A SQLite file holding the demo clinic, built once (copy it before changing it)."""
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FORMULARY_KEY_DIR", str(_key_dir))
        patch.setattr(auth, "_hasher", cheap_hasher)
        database = open_database(path)
        try:
            build_demo(database)
        finally:
            database.dispose()
    # The demo's key and checkpoint log as they were when it was built: each copy gets
    # its own (a copy behind a log that other tests moved on would read as rolled back).
    shutil.copytree(_key_dir, path.parent / "keys")
    return path


@pytest.fixture
def demo_copy(demo_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the demo database for one test, with its own key folder."""
    keys = tmp_path / "keys"
    shutil.copytree(demo_file.parent / "keys", keys)
    monkeypatch.setenv("FORMULARY_KEY_DIR", str(keys))
    target = tmp_path / "demo.db"
    src = sqlite3.connect(demo_file)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
    target.chmod(0o600)
    return target


@pytest.fixture
def open_db() -> Iterator[Callable[..., Database]]:
    """Opens databases and disposes of them after the test."""
    opened: list[Database] = []

    def do(location: str | Path, *, create: bool = False) -> Database:
        database = open_database(location, create=create)
        opened.append(database)
        return database

    yield do
    for database in opened:
        database.dispose()


@pytest.fixture
def cli() -> Callable[..., Result]:
    """Runs ``formulary`` in-process: ``cli(args, input=...)`` -> click Result."""
    from tui.cli.main import app

    runner = CliRunner()

    def run(args: list[str], input: str | None = None) -> Result:
        return runner.invoke(app, args, input=input, catch_exceptions=False)

    return run


DEMO_ADMIN = USERS[0]
