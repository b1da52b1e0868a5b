"""Database-side refusal to change what has been signed.

The Store never updates a signed session, a lot draw or an addendum; these triggers
make a mistake elsewhere (a script, a manual edit through the app's connection) fail
loudly instead of silently breaking a signature. Like the audit guards, they stop
accidents, not someone who owns the database: the signature hashes and the audit
chain make deliberate tampering visible.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection

_SQLITE = (
    """CREATE TRIGGER IF NOT EXISTS signed_session_no_update
    BEFORE UPDATE ON treatment_session WHEN OLD.status = 'signed'
    BEGIN SELECT RAISE(ABORT, 'a signed session cannot change: add an addendum'); END""",
    """CREATE TRIGGER IF NOT EXISTS signed_session_no_delete
    BEFORE DELETE ON treatment_session WHEN OLD.status = 'signed'
    BEGIN SELECT RAISE(ABORT, 'a signed session cannot be deleted'); END""",
    """CREATE TRIGGER IF NOT EXISTS session_lot_no_update
    BEFORE UPDATE ON session_lot
    BEGIN SELECT RAISE(ABORT, 'lots drawn by a signed session cannot change'); END""",
    """CREATE TRIGGER IF NOT EXISTS session_lot_no_delete
    BEFORE DELETE ON session_lot
    BEGIN SELECT RAISE(ABORT, 'lots drawn by a signed session cannot be deleted'); END""",
    """CREATE TRIGGER IF NOT EXISTS addendum_no_update
    BEFORE UPDATE ON session_addendum
    BEGIN SELECT RAISE(ABORT, 'a signed addendum cannot change'); END""",
    """CREATE TRIGGER IF NOT EXISTS addendum_no_delete
    BEFORE DELETE ON session_addendum
    BEGIN SELECT RAISE(ABORT, 'a signed addendum cannot be deleted'); END""",
)

_POSTGRESQL = (
    """CREATE OR REPLACE FUNCTION formulary_refuse_signed_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_TABLE_NAME = 'treatment_session' AND OLD.status <> 'signed' THEN
            IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
            RETURN NEW;
        END IF;
        RAISE EXCEPTION 'signed records cannot change (% on %): add an addendum',
            TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
    END
    $$""",
    """CREATE TRIGGER signed_session_guard BEFORE UPDATE OR DELETE ON treatment_session
    FOR EACH ROW EXECUTE FUNCTION formulary_refuse_signed_change()""",
    """CREATE TRIGGER session_lot_guard BEFORE UPDATE OR DELETE ON session_lot
    FOR EACH ROW EXECUTE FUNCTION formulary_refuse_signed_change()""",
    """CREATE TRIGGER addendum_guard BEFORE UPDATE OR DELETE ON session_addendum
    FOR EACH ROW EXECUTE FUNCTION formulary_refuse_signed_change()""",
)


def install_signature_guards(connection: Connection) -> None:
    """Create the triggers (called by the migration that creates the tables)."""
    statements = _SQLITE if connection.dialect.name == "sqlite" else _POSTGRESQL
    for statement in statements:
        connection.execute(text(statement))
