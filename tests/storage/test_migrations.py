"""Migrations: from empty on both engines, no-op on reopen, refuse a newer schema."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import db.tables.audit  # noqa: F401 - registers the audit table on the metadata
from db import migrate
from db.database import Database, open_database
from db.errors import SchemaTooNew
from db.store import Store

from .helpers import chain_problems, count_rows, events, replay_problems

pytestmark = pytest.mark.storage


def test_the_declared_head_is_the_scripts_head() -> None:
    # An up-to-date database is recognised by migrate.HEAD without reading the scripts:
    # a migration added without moving HEAD would leave databases unmigrated.
    assert migrate.head_revision() == migrate.HEAD


def test_upgrade_from_empty_creates_every_table(engine_url: str) -> None:
    db = open_database(engine_url)
    try:
        assert db.created
        with db.engine.connect() as connection:
            assert migrate.current_revision(connection) == migrate.head_revision()
            tables = set(sa.inspect(connection).get_table_names())
        assert set(SQLModel.metadata.tables) <= tables
        assert len(db.db_id) == 36
    finally:
        db.dispose()


def test_migrated_schema_matches_the_table_models(engine_url: str) -> None:
    db = open_database(engine_url)
    try:
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": False})
            diffs = [
                d
                for d in compare_metadata(context, SQLModel.metadata)
                # The audit table's extra lookup index and PostgreSQL's trigram, bigram
                # and list indexes for the patient search live only in the migrations.
                if not (
                    d[0] == "remove_index"
                    and d[1].name
                    in {
                        "ix_audit_event_entity",
                        "ix_patient_search_trgm",
                        "ix_patient_search_bigrams",
                        "ix_patient_list",
                    }
                )
            ]
        assert diffs == []
    finally:
        db.dispose()


def test_reopening_changes_nothing(engine_url: str) -> None:
    first = open_database(engine_url)
    first.dispose()
    again = open_database(engine_url)
    try:
        assert not again.created
        assert again.db_id == first.db_id
    finally:
        again.dispose()


def test_audit_table_is_guarded_against_update(engine_url: str) -> None:
    db = open_database(engine_url)
    try:
        store = Store(db, "ws")
        store.create_first_admin("admin", "Ada Admin", "long enough pw")
        with pytest.raises(sa.exc.DBAPIError), db.engine.begin() as connection:
            connection.exec_driver_sql("UPDATE audit_event SET reason = 'x'")
        with pytest.raises(sa.exc.DBAPIError), db.engine.begin() as connection:
            connection.exec_driver_sql("DELETE FROM audit_event")
    finally:
        db.dispose()


def test_a_newer_database_is_refused_clearly(engine_url: str) -> None:
    db = open_database(engine_url)
    with db.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = '9999_future'")
    db.dispose()
    with pytest.raises(SchemaTooNew, match=r"revision 9999_future, newer than this Formulary"):
        open_database(engine_url)


def test_new_database_holds_the_reference_library_audited(engine_url: str) -> None:
    from formulary.library import load_library

    db = open_database(engine_url)
    try:
        store = Store(db, "ws")
        admin = store.create_first_admin("admin", "Ada Admin", "long enough pw")
        stored = store.list_ingredients(admin)
        library = load_library()
        assert len(stored) == len(library) == 58
        zinc = next(i for i in stored if i.key == library.all()[-1].key)
        assert zinc.origin == "library" and zinc.facts["forms"]
        seeds = [e for e in events(db) if e.action == "ingredient.seed"]
        assert len(seeds) == 58 and {e.user_name for e in seeds} == {"system"}
        assert chain_problems(db) == [] and replay_problems(db) == []
    finally:
        db.dispose()


def test_seeding_runs_in_the_creating_transaction(url_factory: Callable[[], str]) -> None:
    from db.seed import seed_library
    from db.tables.stock import IngredientRow

    docs = [{"key": "a", "name": "A", "category": "vitamin", "forms": [{"key": "x"}]}]
    url = url_factory()

    def seed(connection: sa.Connection, db_id: str) -> None:
        seed_library(connection, db_id, docs)

    db = open_database(url, seed=seed)
    try:
        assert count_rows(db, IngredientRow) == 1
        assert [e.action for e in events(db)] == ["installation.create", "ingredient.seed"]
        assert chain_problems(db) == [] and replay_problems(db) == []
    finally:
        db.dispose()


def test_failed_seed_leaves_no_half_created_database(url_factory: Callable[[], str]) -> None:
    def broken(connection: sa.Connection, db_id: str) -> None:
        raise RuntimeError("seed failed")

    url = url_factory()
    with pytest.raises(RuntimeError):
        open_database(url, seed=broken)
    db = open_database(url, seed=lambda c, i: None)
    try:
        assert db.created  # the first attempt left nothing behind
    finally:
        db.dispose()


@pytest.mark.storage
def test_postgresql_searches_patients_through_a_trigram_index(database: Database) -> None:
    """A chain's shared server must not scan every patient per keystroke."""
    if database.dialect != "postgresql":
        pytest.skip("the trigram index is PostgreSQL's; SQLite scans one clinic's patients")
    with database.engine.connect() as connection:
        indexes = {
            row[0]: row[1]
            for row in connection.execute(
                sa.text("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'patient'")
            )
        }
        assert "gin_trgm_ops" in indexes["ix_patient_search_trgm"]
        connection.execute(sa.text("SET enable_seqscan = off"))
        plan = "\n".join(
            row[0]
            for row in connection.execute(
                sa.text("EXPLAIN SELECT id FROM patient WHERE search_key LIKE '%martin%'")
            )
        )
        assert "ix_patient_search_trgm" in plan


def _plan(connection: sa.Connection, dialect: str, query: str) -> str:
    if dialect == "postgresql":
        # Tables this small are cheaper to scan: take the scans away to see the index.
        connection.execute(sa.text("SET enable_seqscan = off"))
        connection.execute(sa.text("SET enable_bitmapscan = off"))
        return "\n".join(r[0] for r in connection.execute(sa.text(f"EXPLAIN {query}")))
    return "\n".join(str(r[-1]) for r in connection.execute(sa.text(f"EXPLAIN QUERY PLAN {query}")))


@pytest.mark.storage
def test_course_progress_is_read_from_an_index_alone(database: Database) -> None:
    """The patient list's due dates: a few index entries per patient, no session rows."""
    query = (
        "SELECT patient_id, course_id, performed_at FROM treatment_session "
        "WHERE patient_id IN (1, 2, 3) AND deleted_at IS NULL AND status = 'signed'"
    )
    with database.engine.connect() as connection:
        plan = _plan(connection, database.dialect, query)
    if database.dialect == "postgresql":
        assert "Index Only Scan using ix_session_signed_progress" in plan
    else:
        assert "COVERING INDEX ix_session_signed_progress" in plan


@pytest.mark.storage
def test_postgresql_chooses_a_search_page_from_the_list_index_alone(database: Database) -> None:
    """A common search word walks the list order in the index, not the table."""
    if database.dialect != "postgresql":
        pytest.skip("included columns are PostgreSQL's; SQLite scans one clinic's patients")
    query = (
        "SELECT id FROM patient WHERE deleted_at IS NULL AND search_key LIKE '%mar%' "
        "ORDER BY family_key, given_key, id LIMIT 100"
    )
    with database.engine.connect() as connection:
        plan = _plan(connection, database.dialect, query)
    assert "Index Only Scan using ix_patient_list" in plan
