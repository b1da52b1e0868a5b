"""Appending to the hash chain, and the hash recipe itself.

``hash = SHA-256( "FORMULARY-AUDIT-v1" NUL db_id NUL seq NUL prev_hash NUL entry_json )``
where ``entry_json`` is the canonical JSON of the nine entry fields (docs/audit.md
gives the recipe in full for auditors who re-implement it).

:func:`append_event` runs inside the caller's open transaction and never commits:
the change and its audit entry are written together or not at all. Appends are
serialized so that ``seq`` has neither gaps nor forks: on PostgreSQL by a
transaction-scoped advisory lock taken here; on SQLite by the Store's engine, which
opens every write transaction with ``BEGIN IMMEDIATE`` (one writer at a time).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from db.audit.canonical import canonical_json, dumps_plain, format_utc
from db.audit.subject import PatientLookup, has_patient_column, patient_of
from db.tables.audit import AuditEvent

#: prev_hash of the first entry.
GENESIS_HASH = "0" * 64

#: Domain tag: a hash made for anything else can never pass for an audit entry.
DOMAIN_TAG = "FORMULARY-AUDIT-v1"

#: Key of the PostgreSQL advisory lock that serializes appends ("formular" in ASCII).
PG_APPEND_LOCK_KEY = 0x666F726D756C6172

#: The entry fields, as named inside the hashed JSON.
ENTRY_FIELDS = (
    "ts_utc",
    "user",
    "workstation",
    "action",
    "entity",
    "entity_id",
    "before",
    "after",
    "reason",
)

_ACTION = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
_LIMITS = {"user": 200, "workstation": 200, "action": 100, "entity": 100, "entity_id": 100}


_INSERT = AuditEvent.__table__.insert()  # type: ignore[attr-defined]
_HEAD = text("SELECT seq, hash FROM audit_event ORDER BY seq DESC LIMIT 1")
_PG_LOCK = text("SELECT pg_advisory_xact_lock(:key)")


class AuditInputError(ValueError):
    """An audit entry that cannot be recorded as given (empty user, bad action …)."""


def compute_hash(db_id: str, seq: int, prev_hash: str, entry_fields: Mapping[str, Any]) -> str:
    """The hex SHA-256 of one entry, chained to ``prev_hash``.

    ``entry_fields`` holds exactly :data:`ENTRY_FIELDS` with the values as stored:
    strings, or ``None`` for ``entity_id``/``before``/``after``/``reason``
    (``before``/``after`` are the canonical JSON *text*, hashed as JSON strings).
    """
    return hash_entry_json(db_id, seq, prev_hash, entry_json(entry_fields).encode("utf-8"))


def entry_json(entry_fields: Mapping[str, Any]) -> str:
    """The canonical JSON of an entry's :data:`ENTRY_FIELDS`: the part of the hashed
    message that does not depend on the entry's place in the chain.

    Bulk loads make it in worker processes, so that the one process that must chain
    the entries in order only hashes (:func:`hash_entry_json`).
    """
    return dumps_plain({name: entry_fields[name] for name in ENTRY_FIELDS})


def hash_entry_json(db_id: str, seq: int, prev_hash: str, entry_json_utf8: bytes) -> str:
    """:func:`compute_hash` given the UTF-8 bytes of :func:`entry_json` (same digest)."""
    head = "\x00".join((DOMAIN_TAG, db_id, str(seq), prev_hash, "")).encode("utf-8")
    return hashlib.sha256(head + entry_json_utf8).hexdigest()


def entry_of(event: AuditEvent) -> dict[str, Any]:
    """The hashed entry fields of a stored row."""
    return {
        "ts_utc": event.ts_utc,
        "user": event.user_name,
        "workstation": event.workstation,
        "action": event.action,
        "entity": event.entity,
        "entity_id": event.entity_id,
        "before": event.before,
        "after": event.after,
        "reason": event.reason,
    }


def read_head(conn: Session | Connection) -> tuple[int, str]:
    """``(seq, hash)`` of the newest entry, or ``(0, GENESIS_HASH)`` for an empty chain."""
    row = conn.execute(_HEAD).first()
    if row is None:
        return 0, GENESIS_HASH
    return int(row[0]), str(row[1])


class _Appending:
    """What one transaction's appends know: the head they wrote, the patients looked up.

    The append lock is held from the first append to the end of the transaction, so
    the only writer of the chain meanwhile is this transaction, and the head it last
    wrote is the head. Kept in the connection's ``info`` with the transaction objects
    it belongs to: another transaction (or a savepoint begun or ended since) starts
    afresh from the table.
    """

    __slots__ = ("head", "locked", "lookup", "owner")

    def __init__(self, owner: tuple[object, object], lookup: PatientLookup) -> None:
        self.owner = owner
        self.lookup = lookup
        self.head: tuple[int, str] | None = None
        self.locked = False


_APPENDING = "formulary.audit.appending"


def _appending(conn: Connection) -> _Appending:
    owner = (conn.get_transaction(), conn.get_nested_transaction())
    state = conn.info.get(_APPENDING)
    if not isinstance(state, _Appending) or state.owner[0] is not owner[0] or (
        state.owner[1] is not owner[1]
    ):
        state = _Appending(owner, PatientLookup(conn))
        conn.info[_APPENDING] = state
    return state


def note_head(conn: Connection, seq: int, head_hash: str) -> None:
    """Record that this transaction wrote the chain up to ``seq`` (bulk inserts call it)."""
    _appending(conn).head = (seq, head_hash)


def transaction_head(conn: Session | Connection) -> tuple[int, str]:
    """:func:`read_head` for a writer: read once per transaction, then kept as it appends.

    Only for a transaction that holds the write lock (a Store write, a migration):
    nobody else can move the head until it ends.
    """
    state = _appending(conn.connection() if isinstance(conn, Session) else conn)
    if state.head is None:
        state.head = read_head(conn)
    return state.head


def _check_text(name: str, value: str | None, *, required: bool) -> None:
    if value is None or value == "":
        if required:
            raise AuditInputError(f"audit entry needs a non-empty {name}")
        return
    if "\x00" in value:
        raise AuditInputError(f"audit {name} contains a NUL character; remove it")
    limit = _LIMITS.get(name)
    if limit is not None and len(value) > limit:
        raise AuditInputError(f"audit {name} is {len(value)} characters long; at most {limit}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise AuditInputError(f"audit {name} is not valid Unicode text") from exc


def build_entry(
    *,
    user: str,
    workstation: str,
    action: str,
    entity: str,
    entity_id: str | int | None,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    reason: str | None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Validate and normalise one entry into its stored (and hashed) field values."""
    _check_text("user", user, required=True)
    _check_text("workstation", workstation, required=True)
    _check_text("entity", entity, required=True)
    if not _ACTION.match(action or ""):
        raise AuditInputError(
            f"audit action {action!r} is not a dotted verb such as 'patient.create'"
        )
    if isinstance(entity_id, bool):
        raise AuditInputError("audit entity_id must be a string or an integer, not a bool")
    eid = str(entity_id) if isinstance(entity_id, int) else entity_id
    _check_text("entity_id", eid, required=False)
    _check_text("reason", reason, required=False)
    entry = {
        "ts_utc": format_utc(now if now is not None else datetime.now(UTC)),
        "user": user,
        "workstation": workstation,
        "action": action,
        "entity": entity,
        "entity_id": eid,
        "before": None if before is None else canonical_json(before),
        "after": None if after is None else canonical_json(after),
        "reason": reason,
    }
    return entry


def append_event(
    session: Session | Connection,
    *,
    db_id: str,
    user: str,
    workstation: str,
    action: str,
    entity: str,
    entity_id: str | int | None,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    reason: str | None,
    now: datetime | None = None,
) -> AuditEvent:
    """Append one entry inside the caller's open transaction (written, never committed).

    ``session`` is an ORM session or a Core connection in a transaction (migrations
    and seeding work on connections). On PostgreSQL this takes the append advisory
    lock, held until the caller's transaction ends; on SQLite the caller's transaction
    must have begun with ``BEGIN IMMEDIATE`` (the Store's engine does so). Raises
    :class:`AuditInputError` for entries that cannot be recorded.
    """
    entry = build_entry(
        user=user,
        workstation=workstation,
        action=action,
        entity=entity,
        entity_id=entity_id,
        before=before,
        after=after,
        reason=reason,
        now=now,
    )
    # A detached record of what was written (validated above; not added to a session).
    return AuditEvent(**append_entries(session, db_id, [(entry, before, after)])[0])


def append_entries(
    session: Session | Connection,
    db_id: str,
    entries: Sequence[tuple[dict[str, Any], Mapping[str, Any] | None, Mapping[str, Any] | None]],
) -> list[dict[str, Any]]:
    """Append entries made by :func:`build_entry`, in order, with one insert.

    Each comes with the before and after images it was built from (they name the
    patient the entry concerns). Returns the rows written (column name -> value).
    Otherwise as :func:`append_event`, which appends one.
    """
    if not entries:
        return []
    if isinstance(session, Session):
        # Pending ORM rows are written first, so the audit entry follows the change.
        session.flush()
        # Core statements on the session's own connection: same transaction, without
        # the ORM's per-statement overhead (most of an append's cost otherwise).
        conn = session.connection()
    else:
        conn = session
    state = _appending(conn)
    if not state.locked and conn.dialect.name == "postgresql":
        # Once per transaction: the lock is held until it ends.
        conn.execute(_PG_LOCK, {"key": PG_APPEND_LOCK_KEY})
    state.locked = True
    if has_patient_column(conn):
        # The patient index column: derived from what is hashed, never hashed itself.
        for entry, before, after in entries:
            entry["patient_id"] = patient_of(
                entry["entity"], entry["entity_id"], before, after, state.lookup
            )
    seq, prev_hash = state.head if state.head is not None else read_head(conn)
    rows = list(
        chain_rows(db_id, [entry for entry, _, _ in entries], start_seq=seq + 1,
                   prev_hash=prev_hash)
    )
    conn.execute(_INSERT, rows if len(rows) > 1 else rows[0])
    state.head = (rows[-1]["seq"], rows[-1]["hash"])
    return rows


def chain_json(
    db_id: str,
    entry_jsons: Iterable[bytes],
    *,
    start_seq: int,
    prev_hash: str,
) -> Iterator[tuple[int, str, str]]:
    """``(seq, prev_hash, hash)`` of each entry given as the UTF-8 of its :func:`entry_json`.

    The chain of :func:`chain_rows` for bulk loads whose entries were serialised
    elsewhere (worker processes): only the hashing is left, and it is the same hash.
    """
    seq = start_seq
    for utf8 in entry_jsons:
        digest = hash_entry_json(db_id, seq, prev_hash, utf8)
        yield seq, prev_hash, digest
        prev_hash = digest
        seq += 1


def chain_rows(
    db_id: str,
    entries: Iterable[Mapping[str, Any]],
    *,
    start_seq: int = 1,
    prev_hash: str = GENESIS_HASH,
) -> Iterator[dict[str, Any]]:
    """Rows (column name -> value) of a correct chain over already-built entries.

    For bulk loading (benchmarks, tests, importing a chain): the caller inserts the
    rows in one go instead of appending one by one.
    """
    seq = start_seq
    for entry in entries:
        digest = compute_hash(db_id, seq, prev_hash, entry)
        yield {
            "seq": seq,
            "ts_utc": entry["ts_utc"],
            "user_name": entry["user"],
            "workstation": entry["workstation"],
            "action": entry["action"],
            "entity": entry["entity"],
            "entity_id": entry["entity_id"],
            "before": entry["before"],
            "after": entry["after"],
            "reason": entry["reason"],
            "prev_hash": prev_hash,
            "hash": digest,
            # Only when known: migrations before 0008 append to a table without it.
            **({"patient_id": entry["patient_id"]} if "patient_id" in entry else {}),
        }
        prev_hash = digest
        seq += 1
