"""Storage fixtures: every test runs on SQLite, and on PostgreSQL when configured.

``FORMULARY_TEST_PG_URL`` (e.g. ``postgresql+psycopg://postgres@127.0.0.1:5432/test``)
names a server; each PostgreSQL test gets its own uniquely named database created
through an AUTOCOMMIT connection to that URL, and dropped when the test ends, so
xdist workers and other users of the server never see each other's data.

Migrating a new database and seeding its library takes most of a storage test's
setup (about a second on PostgreSQL), so each engine's new database is migrated once
per test process and the ``database`` fixture gives every test a copy of it (a file
copy on SQLite, ``CREATE DATABASE ... TEMPLATE`` on PostgreSQL): the same tables,
library and audit entries a new database has. Tests of creating and migrating a
database open a fresh location (``engine_url``, ``url_factory``) themselves.
"""

from __future__ import annotations

import os
import shutil
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

    def clone_into(self, url: str, template: str) -> None:
        """Replace the empty database at ``url`` with a copy of the database ``template``."""
        name = sa.make_url(url).database
        assert name in self.created, "only databases made here are replaced"
        with self.admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE "{name}"')
            connection.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')

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


class MigratedTemplates:
    """One newly created, migrated and seeded database per engine, made on first use.

    Never opened again once made: each test's ``database`` is a copy of it.
    """

    def __init__(self, folder: Path, pg: PgDatabases | None) -> None:
        self.folder = folder
        self.pg = pg
        self.made: dict[str, str] = {}

    def location(self, kind: str) -> str:
        if kind not in self.made:
            if kind == "sqlite":
                url = str(self.folder / "template" / "formulary.db")
            else:
                assert self.pg is not None
                url = self.pg.create()
            # Its own key folder: creating a database writes no key, and checked so.
            keys = self.folder / f"keys-{kind}"
            with pytest.MonkeyPatch.context() as patch:
                patch.setenv("FORMULARY_KEY_DIR", str(keys))
                open_database(url).dispose()
            assert not keys.exists() or not any(keys.iterdir())
            if kind == "sqlite":
                # Closed cleanly, the database is all in its file (no -wal or -shm left).
                assert sorted(p.name for p in Path(url).parent.iterdir()) == ["formulary.db"]
            self.made[kind] = url
        return self.made[kind]

    def copy_to(self, kind: str, url: str) -> None:
        """Make the (fresh, empty) location ``url`` a copy of the migrated database."""
        template = self.location(kind)
        if kind == "sqlite":
            target = Path(url)
            assert not target.exists()
            target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            shutil.copyfile(template, target)
            target.chmod(0o600)  # as a new database file is made
        else:
            assert self.pg is not None
            name = sa.make_url(template).database
            assert name is not None
            self.pg.clone_into(url, name)


@pytest.fixture(scope="session")
def migrated_templates(
    tmp_path_factory: pytest.TempPathFactory, pg_databases: PgDatabases | None
) -> MigratedTemplates:
    """This test process's migrated databases, one per engine (see :class:`MigratedTemplates`)."""
    return MigratedTemplates(tmp_path_factory.mktemp("migrated"), pg_databases)


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
def database(
    engine_kind: str, engine_url: str, migrated_templates: MigratedTemplates
) -> Iterator[Database]:
    """A new migrated database (empty library unless the library ships entries), at
    ``engine_url``: a copy of the one this process migrated for the engine."""
    migrated_templates.copy_to(engine_kind, engine_url)
    db = open_database(engine_url, create=False)
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
