"""The table replay reads images written before later migrations added columns.

``fixtures/rev0001.db.gz`` is a clinic written by the release at revision 0001: its
audit images lack every column added since. Migrated forward, ``audit verify``
(chain, table replay, signatures) must find it intact, and an edit of a column that
the old images lack must still be caught. ``db.audit.history`` must list exactly the
columns the migrations add to existing tables.
"""

from __future__ import annotations

import gzip
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from db import migrate
from db.audit.guards import install_guards, remove_guards
from db.audit.history import ADDED_COLUMNS
from db.audit.service import verify_database
from db.database import Database, open_database
from db.guards import install_signature_guards

pytestmark = pytest.mark.storage

FIXTURE = Path(__file__).parent / "fixtures" / "rev0001.db.gz"


def _unpack(tmp_path: Path) -> Path:
    target = tmp_path / "rev0001" / "formulary.db"
    target.parent.mkdir(mode=0o700)
    with gzip.open(FIXTURE) as source, target.open("wb") as out:
        shutil.copyfileobj(source, out)
    target.chmod(0o600)
    return target


def _copy_everything(source: sa.Engine, target: sa.Engine) -> None:
    """Every row of ``source`` into ``target`` (both at 0001), the trail included."""
    have = sa.MetaData()
    have.reflect(source)
    want = sa.MetaData()
    want.reflect(target)
    with source.connect() as reading, target.begin() as writing:
        writing.execute(sa.text("DELETE FROM installation"))  # made by the upgrade to 0001
        for table in have.sorted_tables:
            if table.name == "alembic_version":
                continue
            rows = [dict(r._mapping) for r in reading.execute(sa.select(table))]
            for row in rows:
                for key, value in row.items():
                    if isinstance(value, datetime) and value.tzinfo is None:
                        row[key] = value.replace(tzinfo=UTC)  # SQLite keeps UTC wall time
            if rows:
                writing.execute(want.tables[table.name].insert(), rows)
        for table in have.sorted_tables:
            if "id" in table.c and table.name != "alembic_version":
                writing.execute(
                    sa.text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                        f"COALESCE((SELECT max(id) FROM {table.name}), 0) + 1, false)"
                    )
                )


def _drop_signature_guards(conn: sa.Connection) -> None:
    if conn.dialect.name == "sqlite":
        for name in (
            "signed_session_no_update", "signed_session_no_delete", "session_lot_no_update",
            "session_lot_no_delete", "addendum_no_update", "addendum_no_delete",
        ):
            conn.execute(sa.text(f"DROP TRIGGER IF EXISTS {name}"))
    else:
        for name, table in (
            ("signed_session_guard", "treatment_session"),
            ("session_lot_guard", "session_lot"),
            ("addendum_guard", "session_addendum"),
        ):
            conn.execute(sa.text(f"DROP TRIGGER IF EXISTS {name} ON {table}"))


def _check(database: Database, tmp_path: Path) -> None:
    report = verify_database(
        database, user="os:test", record=False, key_dir=tmp_path / "keys"
    ).report
    assert report.status == "ok", report.summary()
    assert (report.table_rows_checked or 0) > 400
    assert report.signatures_checked == 62  # sixty sessions, two addenda

    # A column the old images lack is still held: the migration's value (NULL) is
    # what the trail says, so an edit behind the application's back is caught.
    with database.engine.begin() as conn:
        remove_guards(conn)
        _drop_signature_guards(conn)
        conn.execute(
            sa.text(
                "UPDATE treatment_session SET injection_points = '[]' "
                "WHERE id = (SELECT min(id) FROM treatment_session)"
            )
        )
        install_guards(conn)
        install_signature_guards(conn)
    altered = verify_database(
        database, user="os:test", record=False, key_dir=tmp_path / "keys"
    ).report
    assert altered.status == "records"
    assert any("injection_points" in p for p in altered.record_problems), altered.record_problems


def test_a_revision_0001_clinic_migrated_forward_verifies_intact_sqlite(tmp_path: Path) -> None:
    database = open_database(_unpack(tmp_path))  # migrates 0001 -> head
    try:
        with database.engine.connect() as conn:
            assert migrate.current_revision(conn) == migrate.head_revision()
        _check(database, tmp_path)
    finally:
        database.dispose()


def test_a_revision_0001_clinic_migrated_forward_verifies_intact_postgresql(
    tmp_path: Path, pg_databases: Any
) -> None:
    if pg_databases is None:
        pytest.skip("FORMULARY_TEST_PG_URL is not set (PostgreSQL tests skipped)")
    url = pg_databases.create()
    source = sa.create_engine(f"sqlite:///{_unpack(tmp_path)}")
    target = sa.create_engine(sa.make_url(url).set(drivername="postgresql+psycopg"))
    try:
        migrate.upgrade(target, revision="0001")
        with target.begin() as conn:
            remove_guards(conn)
        _copy_everything(source, target)
        with target.begin() as conn:
            install_guards(conn)
    finally:
        source.dispose()
        target.dispose()
    database = open_database(url, backup_dir=tmp_path / "pg-backups")  # migrates to head
    try:
        _check(database, tmp_path)
    finally:
        database.dispose()
        pg_databases.drop(url)


def _columns(engine: sa.Engine) -> dict[str, dict[str, Any]]:
    inspector = sa.inspect(engine)
    return {
        table: {c["name"]: c.get("default") for c in inspector.get_columns(table)}
        for table in inspector.get_table_names()
    }


def test_history_lists_every_column_added_to_an_existing_table(tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'steps.db'}")
    added: dict[str, dict[str, Any]] = {}
    try:
        before: dict[str, dict[str, Any]] = {}
        for revision in migrate.revision_order():
            migrate.upgrade(engine, revision=revision)
            now = _columns(engine)
            for table, columns in now.items():
                if table in before and table not in ("audit_event", "alembic_version"):
                    for name in columns.keys() - before[table].keys():
                        added.setdefault(table, {})[name] = columns[name]
            before = now
    finally:
        engine.dispose()
    assert {t: set(c) for t, c in added.items()} == {
        t: set(c) for t, c in ADDED_COLUMNS.items()
    }
    for table, columns in added.items():
        for name, default in columns.items():
            registered = ADDED_COLUMNS[table][name]
            if default is None:
                assert registered is None, (table, name)
            else:
                assert str(registered) == str(default).strip("'\""), (table, name, default)
