"""Database-backed export tests: a clinic built through the Store, on every engine.

SQLite always; PostgreSQL too when FORMULARY_TEST_PG_URL is set, each test in a
database of its own (``formulary_exp_<random>``) dropped afterwards. Checkpoint keys
live in a temporary directory; password hashing is made cheap for speed.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from db.database import Database, open_database
from db.store import Store
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


@pytest.fixture(params=ENGINES)
def location(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new database location: a SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield str(tmp_path / "clinic.db")
        return
    server = sa.make_url(os.environ[PG_ENV])
    name = f"formulary_exp_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture
def database(location: str) -> Iterator[Database]:
    db = open_database(location)
    try:
        yield db
    finally:
        db.dispose()


@pytest.fixture
def clinic(database: Database) -> Clinic:
    return build_clinic(Store(database, workstation="test-ws"))


@pytest.fixture
def cli() -> Callable[..., object]:
    from typer.testing import CliRunner

    from tui.cli.main import app

    runner = CliRunner()

    def run(args: list[str], input: str | None = None) -> object:
        return runner.invoke(app, args, input=input, catch_exceptions=False)

    return run
