"""What audit verify and the write guard catch: tables, signatures, keys, rollbacks, ids.

Each attack is made as an intruder with write access to the database (not the key)
would make it: plain SQL with the guard triggers dropped.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from db.audit.guards import install_guards, remove_guards
from db.audit.keys import key_path, load_or_create_key, resolve_key_dir
from db.audit.pinning import read_pin
from db.audit.service import checkpoint_database, verify_database
from db.database import Database, open_database
from db.errors import KeyNotTrusted, NotFormulary, RolledBack, ValidationError
from db.guards import install_signature_guards
from db.store import Actor, Store

from .helpers import World

pytestmark = pytest.mark.storage

PASSWORD = "correct horse battery"


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


def attack(database: Database, *statements: str) -> None:
    """Plain SQL behind the application's back, every guard dropped and put back."""
    with database.engine.begin() as conn:
        remove_guards(conn)
        _drop_signature_guards(conn)
        for statement in statements:
            conn.execute(sa.text(statement))
        install_guards(conn)
        install_signature_guards(conn)


def verify(database: Database, **kwargs: object) -> object:
    return verify_database(database, user="os:test", record=False, **kwargs).report  # type: ignore[arg-type]


@pytest.fixture
def signed(store: Store, admin: Actor) -> tuple[World, int]:
    """A small clinic with one signed session."""
    world = World(store, admin)
    draft = store.save_session_draft(admin, world.draft())
    store.sign_session(admin, draft.id, PASSWORD)
    return world, draft.id


def test_an_untouched_clinic_verifies_with_tables_and_signatures(
    store: Store, signed: tuple[World, int]
) -> None:
    report = verify(store.database)
    assert report.ok, report.problem  # type: ignore[attr-defined]
    assert report.table_rows_checked and report.table_rows_checked > 5  # type: ignore[attr-defined]
    assert report.signatures_checked == 1  # type: ignore[attr-defined]


def test_a_signed_session_edited_by_sql_is_named_by_table_row_and_column(
    store: Store, signed: tuple[World, int]
) -> None:
    _, session_id = signed
    attack(
        store.database,
        f"UPDATE treatment_session SET total_volume_value = '9', notes = 'x' "
        f"WHERE id = {session_id}",
    )
    report = verify(store.database)
    assert report.status == "records" and report.exit_code == 4  # type: ignore[attr-defined]
    text = "\n".join(report.record_problems)  # type: ignore[attr-defined]
    assert f"table treatment_session row {session_id}" in text
    assert "total_volume_value" in text and "notes" in text
    assert f"session {session_id}: its content differs" in text


def test_a_chart_with_an_altered_signed_session_is_not_exported(
    store: Store, admin: Actor, signed: tuple[World, int]
) -> None:
    from db.ops.exports import export_chart

    _, session_id = signed
    delivered: list[object] = []

    def deliver(result: object) -> list[Path]:
        delivered.append(result)
        return []

    export_chart(store, admin, "C-1", "csv", deliver)
    assert delivered
    attack(
        store.database,
        f"UPDATE treatment_session SET total_volume_value = '9' WHERE id = {session_id}",
    )
    before = len(delivered)
    with pytest.raises(ValidationError, match=f"session {session_id}: its content differs"):
        export_chart(store, admin, "C-1", "csv", deliver)
    assert len(delivered) == before  # nothing delivered, nothing audited


def test_rows_inserted_or_deleted_behind_the_back_are_reported(
    store: Store, signed: tuple[World, int]
) -> None:
    world, _ = signed
    attack(store.database, "DELETE FROM outcome WHERE id = -1")  # a no-op: still intact
    assert verify(store.database).ok  # type: ignore[attr-defined]
    attack(
        store.database,
        "UPDATE lot SET quantity_value = '5000' WHERE id = " + str(world.lot.id),
    )
    report = verify(store.database)
    assert f"table lot row {world.lot.id}: quantity_value" in report.record_problems[0]  # type: ignore[attr-defined]


def test_key_is_pinned_missing_or_replaced_key_stops_writes(
    store: Store, admin: Actor
) -> None:
    checkpoint_database(store.database)
    pin = read_pin_of(store.database)
    assert pin is not None
    path = key_path(store.database.db_id)
    saved = path.read_bytes()
    path.unlink()
    with pytest.raises(KeyNotTrusted, match=r"missing.*audit rekey"):
        World(store, admin)
    assert not path.exists()  # never silently re-created
    # Another key in its place: refused too.
    load_or_create_key(store.database.db_id)
    with pytest.raises(KeyNotTrusted, match="replaced"):
        World(store, admin)
    path.write_bytes(saved)
    os.chmod(path, 0o644)
    with pytest.raises(KeyNotTrusted, match="chmod 600"):
        World(store, admin)
    os.chmod(path, 0o600)
    World(store, admin)  # the original key back: writes resume


def read_pin_of(database: Database) -> object:
    with database.engine.connect() as conn:
        return read_pin(conn)


def test_rekey_is_audited_and_old_checkpoints_still_verify(
    store: Store, admin: Actor
) -> None:
    World(store, admin)
    first = checkpoint_database(store.database)
    key_path(store.database.db_id).unlink()  # the key is lost
    with pytest.raises(ValidationError, match="reason"):
        store.rekey(admin, "")
    old, new, checkpoint = store.rekey(admin, "key file lost with the old laptop")
    assert old == first.key_id and new != old and checkpoint.key_id == new
    World(store, admin, chart="C-2")  # writes resume with the new key
    report = verify(store.database)
    assert report.ok, report.problem  # type: ignore[attr-defined]
    assert report.checkpoints_checked >= 2  # type: ignore[attr-defined]
    events = store.audit_events(admin, entity="installation_key")
    assert {e.action for e in events} == {"key.pin", "key.rekey"}


def _snapshot(database: Database, tmp_path: Path, pg_databases: Any) -> Callable[[], None]:
    """Copy the database now; the returned function puts that older copy back in place.

    SQLite: a file copy. PostgreSQL: ``CREATE DATABASE … TEMPLATE`` now, and later the
    current database dropped and the copy renamed to its name (a restore of last
    night's dump comes to the same).
    """
    database.dispose()
    if database.dialect == "sqlite":
        path = database.path
        assert path is not None
        copy = tmp_path / "older.db"
        shutil.copyfile(path, copy)

        def put_back() -> None:
            for suffix in ("-wal", "-shm"):
                Path(str(path) + suffix).unlink(missing_ok=True)
            shutil.copyfile(copy, path)

        return put_back
    name = sa.make_url(database.url).database
    older = f"{name}_older"
    with pg_databases.admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{older}" TEMPLATE "{name}"')

    def put_back_pg() -> None:
        with pg_databases.admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
            conn.exec_driver_sql(f'ALTER DATABASE "{older}" RENAME TO "{name}"')

    return put_back_pg


def test_rollback_is_refused_until_accepted(
    store: Store, admin: Actor, tmp_path: Path, pg_databases: Any
) -> None:
    World(store, admin)
    checkpoint_database(store.database)
    put_back = _snapshot(store.database, tmp_path, pg_databases)
    World(store, admin, chart="C-2")
    checkpoint_database(store.database)
    store.database.dispose()
    put_back()
    again = Store(open_database(store.database.url, create=False))
    try:
        with pytest.raises(RolledBack, match="accept-rollback"):
            World(again, admin, chart="C-3")
        with pytest.raises(RolledBack, match="accept-rollback"):
            checkpoint_database(again.database)  # no checkpoint over the older chain
        assert verify(again.database).status == "truncated"  # type: ignore[attr-defined]
        count, _ = again.accept_rollback(admin, "restored the copy of yesterday")
        assert count >= 1
        World(again, admin, chart="C-3")
        assert verify(again.database).ok  # type: ignore[attr-defined]
    finally:
        again.database.dispose()


def test_changed_db_id_is_reported(store: Store, admin: Actor) -> None:
    World(store, admin)
    checkpoint_database(store.database)
    new_id = str(uuid.uuid4())
    with store.database.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT * FROM audit_event ORDER BY seq")).mappings().all()
    from db.audit.chain import GENESIS_HASH, compute_hash

    prev = GENESIS_HASH
    with store.database.engine.begin() as conn:
        remove_guards(conn)
        conn.execute(sa.text("UPDATE installation SET db_id = :id"), {"id": new_id})
        # Move the hashes out of the way first (they are unique), then write the forgery.
        conn.execute(sa.text("UPDATE audit_event SET hash = 'x' || seq"))
        for row in rows:
            fields = dict(row)
            fields["user"] = fields["user_name"]
            if fields["after"]:
                fields["after"] = fields["after"].replace(store.database.db_id, new_id)
            digest = compute_hash(new_id, fields["seq"], prev, fields)
            conn.execute(
                sa.text("UPDATE audit_event SET prev_hash = :p, hash = :h, after = :a"
                        " WHERE seq = :s"),
                {"p": prev, "h": digest, "a": fields["after"], "s": fields["seq"]},
            )
            prev = digest
        install_guards(conn)
    forged = open_database(store.database.url, create=False)
    try:
        assert forged.db_id == new_id
        report = verify(forged)
        assert report.exit_code == 3, report.problem  # type: ignore[attr-defined]
        assert "id" in str(report.problem)  # type: ignore[attr-defined]
        with pytest.raises(KeyNotTrusted):
            World(Store(forged), admin, chart="C-9")
        assert not key_path(new_id).exists()
        assert sorted(p.name for p in resolve_key_dir().glob("*.ed25519")) == [
            f"{store.database.db_id}.ed25519"
        ]
    finally:
        forged.dispose()


def test_foreign_and_empty_files_are_refused(tmp_path: Path, engine_kind: str) -> None:
    if engine_kind != "sqlite":
        pytest.skip("files")
    import sqlite3

    foreign = tmp_path / "other.sqlite"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    before = foreign.read_bytes()
    with pytest.raises(NotFormulary, match="not a Formulary database"):
        open_database(foreign, create=False)
    with pytest.raises(NotFormulary, match="not a Formulary database"):
        open_database(foreign, create=True)
    assert foreign.read_bytes() == before
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    with pytest.raises(NotFormulary, match="empty"):
        open_database(empty, create=False)
    assert empty.read_bytes() == b""


def _set_application_id(path: Path, value: int) -> None:
    import sqlite3

    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA application_id = {value}")


def test_formulary_files_carry_the_application_id_and_others_are_refused(
    tmp_path: Path, engine_kind: str
) -> None:
    if engine_kind != "sqlite":
        pytest.skip("a SQLite file header")
    import sqlite3

    from db.marker import APPLICATION_ID

    path = tmp_path / "clinic.db"
    open_database(path).dispose()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA application_id").fetchone() == (APPLICATION_ID,)

    # Formulary's tables under another program's id: refused, the file untouched.
    other = tmp_path / "other.db"
    shutil.copy(path, other)
    _set_application_id(other, 0x12345678)
    before = other.read_bytes()
    with pytest.raises(NotFormulary, match="application id is 0x12345678"):
        open_database(other, create=False)
    with pytest.raises(NotFormulary, match="another program"):
        open_database(other)
    assert other.read_bytes() == before

    # The current revision without the marker: refused (only older revisions lack it).
    unmarked = tmp_path / "unmarked.db"
    shutil.copy(path, unmarked)
    _set_application_id(unmarked, 0)
    with pytest.raises(NotFormulary, match="not its marker"):
        open_database(unmarked)

    # A foreign file that merely has the id but no Formulary tables: refused too.
    pretender = tmp_path / "pretender.db"
    with sqlite3.connect(pretender) as conn:
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY)")
    _set_application_id(pretender, APPLICATION_ID)
    with pytest.raises(NotFormulary, match="not a Formulary database"):
        open_database(pretender)


def test_an_older_sqlite_file_is_backed_up_then_marked(tmp_path: Path, engine_kind: str) -> None:
    if engine_kind != "sqlite":
        pytest.skip("a SQLite file header")
    import sqlite3

    from db import migrate
    from db.marker import APPLICATION_ID

    path = tmp_path / "old.db"
    engine = sa.create_engine(f"sqlite:///{path}")
    migrate.upgrade(engine, revision="0008")
    engine.dispose()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA application_id").fetchone() == (0,)
    open_database(path).dispose()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA application_id").fetchone() == (APPLICATION_ID,)
    copies = list(tmp_path.glob("old.db.before-migration-0008-*"))
    assert len(copies) == 1
    with sqlite3.connect(copies[0]) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == ("0008",)


def test_an_older_postgresql_database_is_dumped_before_it_is_migrated(
    tmp_path: Path, engine_kind: str, pg_databases: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    if engine_kind != "postgresql":
        pytest.skip("pg_dump")
    from db import migrate
    from db.errors import DatabaseUnavailable

    url = pg_databases.create()
    try:
        engine = sa.create_engine(sa.make_url(url).set(drivername="postgresql+psycopg"))
        migrate.upgrade(engine, revision="0008")
        engine.dispose()
        # Without pg_dump nothing is migrated.
        monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
        with pytest.raises(DatabaseUnavailable, match="pg_dump was not found"):
            open_database(url, backup_dir=tmp_path / "dumps")
        engine = sa.create_engine(sa.make_url(url).set(drivername="postgresql+psycopg"))
        with engine.connect() as conn:
            assert migrate.current_revision(conn) == "0008"
        engine.dispose()
        monkeypatch.undo()
        database = open_database(url, backup_dir=tmp_path / "dumps")
        database.dispose()
        dumps = list((tmp_path / "dumps").glob("*.before-migration-0008-*.dump"))
        assert len(dumps) == 1 and dumps[0].stat().st_size > 0
        assert dumps[0].stat().st_mode & 0o777 == 0o600
        assert dumps[0].read_bytes().startswith(b"PGDMP")  # pg_dump's custom format
    finally:
        pg_databases.drop(url)


def test_verify_on_a_read_only_database_says_it_was_not_recorded(
    store: Store, admin: Actor, engine_kind: str
) -> None:
    if engine_kind != "sqlite":
        pytest.skip("a read-only SQLite file")
    World(store, admin)
    path = store.database.path
    store.database.dispose()
    engine = sa.create_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
    from dataclasses import replace

    ro = replace(store.database, engine=engine)
    result = verify_database(ro, user="os:test")
    assert result.report.ok and result.recorded_seq is None
    assert "cannot be written" in str(result.not_recorded)
    engine.dispose()
