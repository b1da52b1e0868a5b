"""Fixtures for the audit-chain tests: a fresh chain on SQLite, and on PostgreSQL
when FORMULARY_TEST_PG_URL is set (in a database created for this test session
and dropped afterwards, so concurrent users of the server are never touched)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import SQLModel

from db.audit.guards import install_guards, remove_guards

PG_ENV = "FORMULARY_TEST_PG_URL"


@dataclass
class ChainDB:
    """A database holding just the audit chain, and the id its hashes are bound to."""

    engine: sa.Engine
    db_id: str

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def attack(self, *statements: str, params: dict[str, Any] | None = None) -> None:
        """Run SQL behind the Store's back, as someone with database access would:
        drop the append-only guards, change rows, put the guards back."""
        with self.engine.begin() as conn:
            remove_guards(conn)
            for statement in statements:
                conn.execute(sa.text(statement), params or {})
            install_guards(conn)

    def rows(self) -> list[sa.Row[Any]]:
        with self.engine.connect() as conn:
            return list(conn.execute(sa.text("SELECT * FROM audit_event ORDER BY seq")))


def sqlite_engine(path: Path) -> sa.Engine:
    """A SQLite engine whose transactions begin IMMEDIATE, as the Store's engine does."""
    engine = sa.create_engine(f"sqlite:///{path}", connect_args={"timeout": 30})

    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # let us issue BEGIN ourselves
        dbapi_connection.execute("PRAGMA journal_mode=WAL")

    @sa.event.listens_for(engine, "begin")
    def _begin(conn: sa.Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str | None]:
    """URL of a database created for this session on the test server, or None."""
    base = os.environ.get(PG_ENV)
    if not base:
        yield None
        return
    name = f"formulary_audit_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _fresh_table(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS audit_event"))
        SQLModel.metadata.create_all(conn, tables=[SQLModel.metadata.tables["audit_event"]])
        install_guards(conn)


@pytest.fixture(params=["sqlite", "postgresql"])
def chain_db(
    request: pytest.FixtureRequest, tmp_path: Path, pg_url: str | None
) -> Iterator[ChainDB]:
    """An empty, guarded audit_event table on each configured engine."""
    if request.param == "postgresql":
        if pg_url is None:
            pytest.skip(f"{PG_ENV} is not set")
        engine = sa.create_engine(pg_url)
    else:
        engine = sqlite_engine(tmp_path / "audit.sqlite")
    _fresh_table(engine)
    try:
        yield ChainDB(engine=engine, db_id=uuid.uuid4().hex)
    finally:
        engine.dispose()
