"""Recompute every session and addendum signature against the record as stored.

A signature's ``content_hash`` binds the signed content to who signed, when and
with what meaning. Recomputing it over the rows as they are now shows any signed
session whose content was changed after signing, whoever changed it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from json.encoder import encode_basestring as quote
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlmodel import Session, SQLModel

from db.tables.formulations import FormulationVersionRow
from db.tables.sessions import AddendumRow, SessionRow
from formulary.signed_content import SignedContentVersion

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
    """Recompute every stored signature (read-only, on ``conn``'s transaction).

    ``audit verify`` does the same while the table replay reads the sessions
    (:class:`SignatureCheck` fed by :func:`db.audit.replay.replay_tables`), so each
    session is read and serialised once.
    """
    from db.audit import rowtext

    check = SignatureCheck(conn)
    shape = check.sessions
    for page in rowtext.pages(conn, shape):
        for row in page:
            try:
                values: list[str] | None = shape.values(row)
            except (rowtext.Slow, ValueError, TypeError, ArithmeticError):
                values = None
            check.session(row, values)
    return check.finish()


def check_sessions_of(conn: Connection, patient_ids: Sequence[int]) -> list[str]:
    """Recompute the signatures of the signed sessions of ``patient_ids`` (exports).

    An export must not put a signed session's content altered behind the application's
    back under its original signature: the caller refuses the export when this names
    a problem. Addenda are left to ``audit verify``.
    """
    from db.audit import rowtext

    check = SignatureCheck(conn)
    shape = check.sessions
    table: sa.Table = SessionRow.__table__  # type: ignore[attr-defined]
    columns = ", ".join(f'"{c.key}"' for c in table.columns)
    query = sa.text(
        f'SELECT {columns} FROM "{table.name}" WHERE patient_id IN :ids'  # noqa: S608
        " AND content_hash IS NOT NULL"
    ).bindparams(sa.bindparam("ids", expanding=True))
    for start in range(0, len(patient_ids), 500):
        for row in conn.execute(query, {"ids": list(patient_ids[start : start + 500])}):
            try:
                values: list[str] | None = shape.values(row)
            except (rowtext.Slow, ValueError, TypeError, ArithmeticError):
                values = None
            check.session(row, values)
    return list(check.finish(with_addenda=False).problems)


class SignatureCheck:
    """Signatures recomputed session by session, as the rows go by.

    Each session (a driver row and, when the fast path could serialise it, its
    columns' canonical texts, see :mod:`db.audit.rowtext`) is hashed by the fast
    path: the formulation version's part of the signed content once per version and
    definition, the session's part from its column texts. A session whose fast hash
    does not match its stored hash is recomputed at :meth:`finish` by the Store's own
    recipe (:mod:`db.store.signing`), which decides; so is every addendum.
    """

    def __init__(self, conn: Connection) -> None:
        from db.audit import rowtext

        self.conn = conn
        self.rowtext = rowtext
        self.sessions = rowtext.shape_of(SessionRow.__table__)  # type: ignore[attr-defined]
        self.versions = rowtext.shape_of(
            FormulationVersionRow.__table__  # type: ignore[attr-defined]
        )
        self.at = rowtext.shape_positions(self.sessions)
        self.version_values: dict[int, list[str] | None] = {}
        columns = list(SessionRow.__table__.c.keys())  # type: ignore[attr-defined]
        self._id_at = columns.index("id")
        self._hash_at = columns.index("content_hash")
        self._version_at = columns.index("formulation_version_id")
        self._definition_at = columns.index("signed_content_version")
        self._signer_at = columns.index("signer_name")
        self._meaning_at = columns.index("signature_meaning")
        self._signed_at = self.at["signed_at"]  # in the column texts
        self.signed = 0
        self.unsure: list[int] = []  # sessions for the Store's own recipe
        # Per stored definition number (as the row holds it): the definition, its
        # signed session fields' text from the column texts, the content's opening, and
        # per formulation version id its part of the content (None: not from the fast
        # path).
        self._definitions: dict[Any, _Definition] = {}

    def _definition(self, number: Any) -> _Definition:
        from formulary.signed_content import definition

        used = definition(number)
        found = _Definition(
            used,
            self.rowtext.subset_joiner(self.sessions, used.session_fields),
            f'{{"content_version":{used.number},' if used.number >= 2 else "{",
            {},
        )
        self._definitions[number] = found
        return found

    def version(self, row: Sequence[Any], values: list[str] | None) -> None:
        """Note a formulation version row (the replay reads them before the sessions)."""
        self.version_values[int(row[self.versions.key_index])] = values

    def session(self, row: Sequence[Any], values: list[str] | None) -> None:
        """Check one session row; ``values`` None when the fast path could not read it."""
        if row[self._hash_at] is None:
            return  # not signed
        self.signed += 1
        if values is None or not self._matches(row, values):
            self.unsure.append(int(row[self._id_at]))

    def finish(self, *, with_addenda: bool = True) -> SignatureReport:
        """Recompute the unsure sessions and (``with_addenda``) every addendum; the report."""
        from types import SimpleNamespace

        from db.store.signing import (
            addendum_signed_content,
            signature_hash,
            signed_content,
            signed_content_definition,
        )

        conn = self.conn
        problems: list[str] = []
        count = 0
        addenda = 0

        def found(problem: str | None) -> None:
            nonlocal count
            if problem is not None:
                count += 1
                if len(problems) < MAX_LISTED:
                    problems.append(problem)

        versions: dict[int, FormulationVersionRow] = {}
        db = Session(bind=conn, autoflush=False)
        try:
            for row_id in self.unsure:
                stored = _typed(conn, SessionRow, row_id)
                found(_session_problem(db, stored, versions, signature_hash, signed_content))
            session_table: sa.Table = SessionRow.__table__  # type: ignore[attr-defined]
            for batch in _batches(conn, AddendumRow) if with_addenda else ():
                ids = sorted({int(add.session_id) for add in batch})
                hashes = {
                    int(row[0]): row[1]
                    for row in conn.execute(
                        sa.select(session_table.c.id, session_table.c.content_hash).where(
                            session_table.c.id.in_(ids)
                        )
                    )
                }
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
                        found(
                            f"addendum {add.id} of session {add.session_id}: its content "
                            "differs from what was signed"
                        )
        finally:
            db.close()
        return SignatureReport(self.signed, addenda, tuple(problems), count)

    def _matches(self, row: Sequence[Any], values: list[str]) -> bool:
        """The fast hash of the session's signed content equals its stored hash.

        The payload is :func:`db.store.signing.signature_hash`'s canonical JSON spelled
        out: ``{"content":{["content_version":N,]"formulation_version":…,"session":…},
        "meaning":…,"signed_at":…,"signer":…}`` (keys in sorted order).
        """
        try:
            number = row[self._definition_at]
            found = self._definitions.get(number)
            if found is None:
                found = self._definition(number)
            version_id = row[self._version_at]
            if type(version_id) is not int:
                return False
            version_text = found.version_texts.get(version_id, _MISSING)
            if version_text is _MISSING:
                version_text = self._version_text(version_id, found)
            if version_text is None:
                return False
            payload = "".join((
                '{"content":', found.head, '"formulation_version":', version_text,
                ',"session":', found.session_text(values),
                '},"meaning":', quote(row[self._meaning_at]),
                ',"signed_at":', values[self._signed_at],
                ',"signer":', quote(row[self._signer_at]), "}",
            ))
            digest = hashlib.sha256(payload.encode("utf-8")).hexdigest()
        except (self.rowtext.Slow, LookupError, TypeError, ValueError, ArithmeticError):
            return False
        return bool(digest == row[self._hash_at])

    def _version_text(self, version_id: int, found: _Definition) -> str | None:
        if version_id not in self.version_values:
            self._load_version(version_id)
        values = self.version_values.get(version_id)
        text = (
            None if values is None
            else self.rowtext.subset_text(self.versions, values, found.used.formulation_fields)
        )
        found.version_texts[version_id] = text
        return text

    def _load_version(self, version_id: int) -> None:
        shape = self.versions
        values: list[str] | None = None
        for row in self.conn.execute(shape.some, {"keys": [version_id]}):
            try:
                values = shape.values(row)
            except (self.rowtext.Slow, ValueError, TypeError, ArithmeticError):
                values = None
        self.version_values[version_id] = values


_MISSING: Any = object()


@dataclass(frozen=True, slots=True)
class _Definition:
    """A signed-content definition, worked out once for the fast path."""

    used: SignedContentVersion
    #: The session's signed fields' object, from its column texts.
    session_text: Callable[[Sequence[str]], str]
    #: The content object's opening, up to its "formulation_version" key.
    head: str
    #: Formulation version id to its part of the content (None: the Store decides).
    version_texts: dict[int, str | None]


def _typed(conn: Connection, model: type[SQLModel], row_id: int) -> Any:
    table: sa.Table = model.__table__  # type: ignore[attr-defined]
    row = conn.execute(sa.select(table).where(table.c.id == row_id)).one()
    return _Stored(table, row._mapping)


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
