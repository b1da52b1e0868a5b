"""Copying the reference ingredient library into a new database.

Runs inside the transaction that creates the database: the 58 library entries land
in ``ingredient`` with one audit entry each (action ``ingredient.seed``, user
``system``), so the audit trail accounts for every row from the very first one.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from db.audit.canonical import canonical_json
from db.audit.chain import append_event
from db.images import row_image
from db.tables.formulary import IngredientRow
from db.types import utcnow


def plain(value: Any) -> Any:
    """``value`` as plain JSON values (Decimals as exact strings, dataclasses as dicts)."""
    return json.loads(canonical_json(value))


def library_entries() -> list[Any]:
    """The reference library's entries, or an empty list when this build ships none."""
    from formulary import library

    loader = getattr(library, "load_library", None)
    if loader is None:
        return []
    return list(loader().all())


def ingredient_row(entry: Any, now: Any) -> IngredientRow:
    """An ingredient row from one library entry (fields copied as plain JSON)."""

    def field(name: str, default: Any) -> Any:
        value = getattr(entry, name, default)
        return default if value is None else value

    limits = plain(field("limits", {}))
    return IngredientRow(
        key=str(entry.key),
        name=str(entry.name),
        category=str(plain(field("category", ""))),
        synonyms=plain(list(field("synonyms", ()))),
        forms=plain(list(field("forms", ()))),
        bases=plain(list(field("bases", ()))),
        iu_bases=plain(list(field("iu_bases", ()))),
        limits=limits if isinstance(limits, dict) else {"items": limits},
        notes=str(field("notes", "")),
        sources=plain(list(field("sources", ()))),
        origin="library",
        created_at=now,
        updated_at=now,
    )


def seed_library(
    connection: sa.Connection, db_id: str, entries: Iterable[Any] | None = None
) -> int:
    """Insert the library (or ``entries``) into ``ingredient``, audited; returns the count."""
    items = library_entries() if entries is None else list(entries)
    now = utcnow()
    workstation = (socket.gethostname() or "unknown")[:200]
    session = Session(bind=connection, autoflush=False)
    count = 0
    for entry in items:
        row = ingredient_row(entry, now)
        session.add(row)
        session.flush()
        append_event(
            session,
            db_id=db_id,
            user="system",
            workstation=workstation,
            action="ingredient.seed",
            entity="ingredient",
            entity_id=row.id,
            before=None,
            after=row_image(row),
            reason="reference library copied into a new database",
            now=now,
        )
        count += 1
    session.flush()
    return count
