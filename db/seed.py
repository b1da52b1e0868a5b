"""Copying the reference ingredient library into a new database.

Runs inside the transaction that creates the database: the library's entries land
in ``ingredient`` with one audit entry each (action ``ingredient.seed``, user
``system``), so the audit trail accounts for every row from the very first one.
Each row keeps the library's whole document of the entry in ``facts``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from db.audit.canonical import canonical_json
from db.audit.chain import append_entries, append_event, build_entry
from db.images import row_image
from db.tables.stock import IngredientRow
from db.types import utcnow
from db.workstation import workstation_name

#: Document fields that have columns of their own (the rest goes into ``facts``).
_COLUMNS = ("key", "name", "category", "synonyms", "notes", "sources")


def plain(value: Any) -> Any:
    """``value`` as plain JSON values (Decimals as exact strings, dataclasses as dicts)."""
    return json.loads(canonical_json(value))


def library_documents() -> list[dict[str, Any]]:
    """Every entry of the reference library as its plain JSON document."""
    from formulary.library import load_library

    library = load_library()
    return [library.document(entry.key) for entry in library.all()]


def ingredient_row(document: Mapping[str, Any], now: datetime) -> IngredientRow:
    """An ingredient row from one library document."""
    doc = plain(dict(document))
    return IngredientRow(
        key=str(doc["key"]),
        name=str(doc["name"]),
        category=str(doc.get("category") or ""),
        synonyms=[str(s) for s in doc.get("synonyms") or []],
        notes=str(doc.get("notes") or ""),
        sources=[str(s) for s in doc.get("sources") or []],
        facts={k: v for k, v in doc.items() if k not in _COLUMNS},
        origin="library",
        created_at=now,
        updated_at=now,
    )


def audit_installation(connection: sa.Connection, db_id: str) -> None:
    """Record the identity row the first migration wrote, as the chain's first entry."""
    from sqlmodel import select

    from db.tables.installation import InstallationRow

    session = Session(bind=connection, autoflush=False)
    row = session.exec(select(InstallationRow)).one()
    append_event(
        session,
        db_id=db_id,
        user="system",
        workstation=workstation_name(),
        action="installation.create",
        entity="installation",
        entity_id=row.id,
        before=None,
        after=row_image(row),
        reason=None,
        now=utcnow(),
    )


def seed_library(
    connection: sa.Connection,
    db_id: str,
    documents: Iterable[Mapping[str, Any]] | None = None,
) -> int:
    """Insert the library (or ``documents``) into ``ingredient``, audited; the count."""
    items = library_documents() if documents is None else list(documents)
    now = utcnow()
    workstation = workstation_name()
    session = Session(bind=connection, autoflush=False)
    rows = [ingredient_row(document, now) for document in items]
    # One flush and one chained insert for the whole library (a new database's first
    # hundred entries): the same rows and entries, in the same order, as one by one.
    session.add_all(rows)
    session.flush()
    entries = []
    for row in rows:
        after = row_image(row)
        entry = build_entry(
            user="system",
            workstation=workstation,
            action="ingredient.seed",
            entity="ingredient",
            entity_id=row.id,
            before=None,
            after=after,
            reason="reference library copied into a new database",
            now=now,
        )
        entries.append((entry, None, after))
    append_entries(session, db_id, entries)
    session.flush()
    return len(items)


def seed_consent_template(connection: sa.Connection, db_id: str) -> None:
    """Insert the project's default consent template (audited, user ``system``)."""
    from db.store import UnitOfWork
    from db.store.consent import seed_default_template

    session = Session(bind=connection, autoflush=False)
    seed_default_template(
        UnitOfWork(session, db_id=db_id, user="system", workstation=workstation_name())
    )
    session.flush()
