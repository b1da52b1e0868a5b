"""Storage fixtures: every test runs on SQLite, and on PostgreSQL when configured.

``FORMULARY_TEST_PG_URL`` (e.g. ``postgresql+psycopg://postgres@127.0.0.1:5432/test``)
names a server; each PostgreSQL test gets its own uniquely named database created
through an AUTOCOMMIT connection to that URL, and dropped when the test ends, so
xdist workers and other users of the server never see each other's data.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from db.database import Database, open_database
from db.store import Actor, Store
from formulary.records import Role

PG_ENV = "FORMULARY_TEST_PG_URL"
PASSWORD = "correct horse battery"

ENGINES = [
    "sqlite",
    pytest.param(
        "postgresql",
        marks=pytest.mark.skipif(
            not os.environ.get(PG_ENV), reason=f"{PG_ENV} is not set (PostgreSQL tests skipped)"
        ),
    ),
]


class PgDatabases:
    """Creates and drops uniquely named databases on the test server."""

    def __init__(self, server_url: str) -> None:
        self.server_url = sa.make_url(server_url)
        self.admin = sa.create_engine(self.server_url, isolation_level="AUTOCOMMIT")
        self.created: list[str] = []

    def create(self) -> str:
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        name = f"formulary_t_{worker}_{uuid.uuid4().hex[:12]}"
        with self.admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return self.server_url.set(database=name).render_as_string(hide_password=False)

    def drop(self, url: str) -> None:
        name = sa.make_url(url).database
        if name is None or name not in self.created:
            return  # already dropped (a test may drop its databases early)
        with self.admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.created.remove(name)

    def close(self) -> None:
        for name in list(self.created):
            with self.admin.connect() as connection:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.admin.dispose()


@pytest.fixture(scope="session")
def pg_databases() -> Iterator[PgDatabases | None]:
    """The session's PostgreSQL database factory (None without a server)."""
    url = os.environ.get(PG_ENV)
    if not url:
        yield None
        return
    factory = PgDatabases(url)
    try:
        yield factory
    finally:
        factory.close()


@pytest.fixture(params=ENGINES)
def engine_kind(request: pytest.FixtureRequest) -> str:
    """``sqlite`` or ``postgresql``: every storage test runs once per engine."""
    return str(request.param)


@pytest.fixture
def url_factory(
    engine_kind: str, tmp_path: Path, pg_databases: PgDatabases | None
) -> Iterator[Callable[[], str]]:
    """Makes fresh, empty database locations of the engine under test."""
    kind = engine_kind
    made: list[str] = []
    counter = iter(range(1_000_000))

    def make() -> str:
        if kind == "sqlite":
            url = str(tmp_path / f"db{next(counter)}" / "formulary.db")
        else:
            assert pg_databases is not None
            url = pg_databases.create()
        made.append(url)
        return url

    yield make
    if kind != "sqlite" and pg_databases is not None:
        for url in made:
            pg_databases.drop(url)


@pytest.fixture
def engine_url(url_factory: Callable[[], str]) -> str:
    """A fresh, empty database location: a SQLite path, or a PostgreSQL URL."""
    return url_factory()


@pytest.fixture
def database(engine_url: str) -> Iterator[Database]:
    """A new migrated database (empty library unless the library ships entries)."""
    db = open_database(engine_url)
    try:
        yield db
    finally:
        db.dispose()


@pytest.fixture
def store(database: Database) -> Store:
    """A Store on the test database, workstation ``test-ws``."""
    return Store(database, workstation="test-ws")


@pytest.fixture
def admin(store: Store) -> Actor:
    """The first administrator."""
    return store.create_first_admin("admin", "Ada Admin", PASSWORD)


@pytest.fixture
def users(store: Store, admin: Actor) -> dict[Role, Actor]:
    """One signed-in user per role."""
    out = {Role.ADMIN: admin}
    for role, name, full in (
        (Role.PRACTITIONER, "drlee", "Dr Lee Park"),
        (Role.ASSISTANT, "sam", "Sam Assistant"),
        (Role.AUDITOR, "audrey", "Audrey Auditor"),
    ):
        store.create_user(admin, name, full, role, PASSWORD)
        out[role] = store.authenticate(name, PASSWORD)
    return out
