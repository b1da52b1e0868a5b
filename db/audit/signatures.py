"""Recompute every session and addendum signature against the record as stored.

A signature's ``content_hash`` binds the signed content to who signed, when and
with what meaning. Recomputing it over the rows as they are now shows any signed
session whose content was changed after signing, whoever changed it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlmodel import Session, SQLModel

from db.tables.formulations import FormulationVersionRow
from db.tables.sessions import AddendumRow, SessionRow

_BATCH = 2_000

#: How many problems are spelled out (the count is always given).
MAX_LISTED = 20


@dataclass(frozen=True, slots=True)
class SignatureReport:
    """Signatures recomputed and the ones that no longer match."""

    sessions_checked: int
    addenda_checked: int
    problems: tuple[str, ...]
    problem_count: int

    @property
    def ok(self) -> bool:
        """True when every signature matches the content stored now."""
        return self.problem_count == 0


class _Stored:
    """A stored row read with Core, shaped like the ORM row for ``row_image``.

    Loading tens of thousands of sessions through the ORM costs more than checking
    them; the signed-content definition only needs the columns and ``__table__``.
    """

    def __init__(self, table: sa.Table, values: Any) -> None:
        self.__dict__.update(values)
        self.__table__ = table


def _batches(conn: Connection, model: type[SQLModel]) -> Iterator[list[Any]]:
    table: sa.Table = model.__table__  # type: ignore[attr-defined]
    key = table.c.id
    last = 0
    while True:
        rows = conn.execute(
            sa.select(table)
            .where(key > last)
            .where(table.c.content_hash.is_not(None))
            .order_by(key)
            .limit(_BATCH)
        ).all()
        if not rows:
            return
        last = int(rows[-1].id)
        yield [_Stored(table, row._mapping) for row in rows]


def check_signatures(conn: Connection) -> SignatureReport:
    """Recompute every stored signature (read-only, on ``conn``'s transaction)."""
    from types import SimpleNamespace

    from db.store.signing import (
        addendum_signed_content,
        signature_hash,
        signed_content,
        signed_content_definition,
    )

    problems: list[str] = []
    count = 0
    sessions = addenda = 0
    hashes: dict[int, str | None] = {}
    versions: dict[int, FormulationVersionRow] = {}
    db = Session(bind=conn, autoflush=False)
    try:
        for batch in _batches(conn, SessionRow):
            for row in batch:
                sessions += 1
                hashes[int(row.id or 0)] = row.content_hash
                problem = _session_problem(db, row, versions, signature_hash, signed_content)
                if problem is not None:
                    count += 1
                    if len(problems) < MAX_LISTED:
                        problems.append(problem)
        for batch in _batches(conn, AddendumRow):
            for add in batch:
                addenda += 1
                session = SimpleNamespace(
                    id=add.session_id, content_hash=hashes.get(add.session_id)
                )
                try:
                    definition = signed_content_definition(add.signed_content_version)
                    content = addendum_signed_content(
                        session, add.text, add.reason, definition  # type: ignore[arg-type]
                    )
                    good = signature_hash(
                        content, add.signer_name, add.signed_at, add.signature_meaning
                    ) == add.content_hash
                except (ValueError, TypeError):
                    good = False
                if not good:
                    count += 1
                    if len(problems) < MAX_LISTED:
                        problems.append(
                            f"addendum {add.id} of session {add.session_id}: its content "
                            "differs from what was signed"
                        )
    finally:
        db.close()
    return SignatureReport(sessions, addenda, tuple(problems), count)


def _session_problem(
    db: Session,
    row: Any,
    versions: dict[int, FormulationVersionRow],
    signature_hash: object,
    signed_content: object,
) -> str | None:
    if not (row.signer_name and row.signed_at and row.signature_meaning):
        return f"session {row.id}: has a content hash but no complete signature (who, when, why)"
    version = versions.get(row.formulation_version_id)
    if version is None:
        version = db.get(FormulationVersionRow, row.formulation_version_id)
        if version is None:
            return (
                f"session {row.id}: its formulation version "
                f"{row.formulation_version_id} is missing"
            )
        versions[row.formulation_version_id] = version
    try:
        expected = signature_hash(  # type: ignore[operator]
            signed_content(row, version),  # type: ignore[operator]
            row.signer_name,
            row.signed_at,
            row.signature_meaning,
        )
    except (ValueError, TypeError) as exc:
        return f"session {row.id}: its stored content cannot be read ({exc})"
    if expected != row.content_hash:
        return f"session {row.id}: its content differs from what {row.signer_name} signed"
    return None
