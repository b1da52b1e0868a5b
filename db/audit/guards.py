"""Database-side refusal of UPDATE and DELETE on ``audit_event``.

Guards stop mistakes and casual edits through the application's own connection.
They do not stop an attacker who controls the database: SQLite triggers can be
dropped by anyone who can write the file, and a PostgreSQL superuser or the table's
owner can disable triggers. That is why the chain is hashed and checkpointed:
the guards make tampering deliberate, verification makes it visible.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection

_SQLITE = (
    """CREATE TRIGGER IF NOT EXISTS audit_event_no_update
    BEFORE UPDATE ON audit_event
    BEGIN SELECT RAISE(ABORT, 'audit_event is append-only: UPDATE refused'); END""",
    """CREATE TRIGGER IF NOT EXISTS audit_event_no_delete
    BEFORE DELETE ON audit_event
    BEGIN SELECT RAISE(ABORT, 'audit_event is append-only: DELETE refused'); END""",
)

_POSTGRESQL = (
    """CREATE OR REPLACE FUNCTION audit_event_refuse_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'audit_event is append-only: % refused', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END
    $$""",
    "DROP TRIGGER IF EXISTS audit_event_no_change ON audit_event",
    """CREATE TRIGGER audit_event_no_change
    BEFORE UPDATE OR DELETE ON audit_event
    FOR EACH ROW EXECUTE FUNCTION audit_event_refuse_change()""",
    "DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_event",
    """CREATE TRIGGER audit_event_no_truncate
    BEFORE TRUNCATE ON audit_event
    FOR EACH STATEMENT EXECUTE FUNCTION audit_event_refuse_change()""",
    "REVOKE UPDATE, DELETE, TRUNCATE ON audit_event FROM PUBLIC",
)

_DROP_SQLITE = (
    "DROP TRIGGER IF EXISTS audit_event_no_update",
    "DROP TRIGGER IF EXISTS audit_event_no_delete",
)

_DROP_POSTGRESQL = (
    "DROP TRIGGER IF EXISTS audit_event_no_change ON audit_event",
    "DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_event",
    "DROP FUNCTION IF EXISTS audit_event_refuse_change()",
)


def _statements(
    connection: Connection, sqlite: tuple[str, ...], pg: tuple[str, ...]
) -> tuple[str, ...]:
    name = connection.dialect.name
    if name == "sqlite":
        return sqlite
    if name == "postgresql":
        return pg
    raise NotImplementedError(f"no audit guards for the {name} dialect (SQLite, PostgreSQL)")


def install_guards(connection: Connection) -> None:
    """Install the append-only guards on ``audit_event`` (idempotent).

    Call inside the migration that creates the table (``op.get_bind()``).
    """
    for statement in _statements(connection, _SQLITE, _POSTGRESQL):
        connection.execute(text(statement))


def remove_guards(connection: Connection) -> None:
    """Drop the guards: for a migration's downgrade only."""
    for statement in _statements(connection, _DROP_SQLITE, _DROP_POSTGRESQL):
        connection.execute(text(statement))
