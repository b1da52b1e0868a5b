"""Alembic environment: runs on the connection ``db.migrate`` hands over.

There is no alembic.ini at run time: ``db.migrate`` builds the configuration in code
and passes an open connection (inside its transaction) in ``config.attributes``.
"""

from __future__ import annotations

from alembic import context

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only when alembic is run by hand
    raise RuntimeError("run migrations through db.migrate (open_database), not the alembic CLI")

context.configure(
    connection=connection,
    target_metadata=None,
    render_as_batch=connection.dialect.name == "sqlite",
    transaction_per_migration=False,
)
context.run_migrations()
