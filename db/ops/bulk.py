"""Writing many rows at once, each with its own audit entry, in one transaction.

The Store writes row by row (flush, then append the entry), which is right for a
person at a keyboard and far too slow for an import of a whole clinic or a synthetic
clinic of twenty thousand patients. :class:`BulkWriter` keeps the same promise (every
row inserted has an audit entry whose ``after`` is the complete row image, exactly
as :meth:`db.store.UnitOfWork.add` would record it) but collects the rows, computes
the hash chain in Python (:func:`db.audit.chain.chain_rows`) and inserts rows and
entries with ``executemany`` in large batches, inside the caller's transaction.

The caller holds the append lock: a write transaction on SQLite (``BEGIN
IMMEDIATE``), the advisory lock on PostgreSQL (:func:`take_append_lock`).
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from db.audit.canonical import dumps_plain, format_decimal, format_utc
from db.audit.chain import PG_APPEND_LOCK_KEY, build_entry, chain_rows, read_head
from db.audit.subject import fill_patients
from db.images import REDACTED, fingerprint
from db.tables.audit import AuditEvent
from db.types import DecimalText, UTCDateTime

_SECRET_TABLES = frozenset(name for name, _ in REDACTED)

#: Rows per executemany call: large enough to amortise, small enough for memory.
BATCH = 5_000


def take_append_lock(connection: sa.Connection) -> None:
    """Serialise with every other audit append (PostgreSQL; SQLite's BEGIN IMMEDIATE does it)."""
    if connection.dialect.name == "postgresql":
        connection.execute(
            sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_APPEND_LOCK_KEY}
        )


def image_of(table: sa.Table, values: Mapping[str, Any]) -> dict[str, Any]:
    """The audit image of a row: every column, secrets fingerprinted (as db.images does)."""
    image: dict[str, Any] = {}
    for column in table.columns:
        value = values[column.key]
        if (table.name, column.key) in REDACTED and value is not None:
            value = fingerprint(str(value))
        image[column.key] = value
    return image


_AS_IS = frozenset({str, int, bool, list, dict, type(None)})


def plain_value(value: Any) -> Any:
    """A column value as canonical JSON has it (JSON columns are already plain)."""
    kind = type(value)
    if kind in _AS_IS:
        return value
    if kind is Decimal:
        return format_decimal(value)
    if kind is datetime:
        return format_utc(value)
    if kind is date:
        return value.isoformat()
    raise TypeError(f"no plain form for {kind.__name__}")


def plain_image(table: sa.Table, values: Mapping[str, Any]) -> dict[str, Any]:
    """``image_of`` in plain values, for rows of str/int/bool/None/Decimal/datetime/date
    and plain JSON columns, without the general converter's recursion.

    ``dumps_plain`` of it is byte for byte ``canonical_json(image_of(table, values))``.
    Not for tables with redacted columns (passwords): use :func:`image_of` there.
    """
    if table.name in _SECRET_TABLES:
        raise ValueError(f"{table.name} has secret columns; audit it with image_of")
    shape = _shape(table)
    row = list(shape.get(values))
    for index in shape.plain_columns:
        value = row[index]
        if value is not None:
            row[index] = plain_value(value)
    return dict(zip(shape.keys, row, strict=True))


@dataclass(frozen=True, slots=True)
class _Shape:
    """What bulk writes need to know about a table, worked out once."""

    keys: tuple[str, ...]
    get: Callable[[Mapping[str, Any]], tuple[Any, ...]]
    plain_columns: tuple[int, ...]  # columns whose values may need plain_value
    sqlite_forms: tuple[tuple[int, Callable[[Any], Any]], ...]
    pg_forms: tuple[tuple[int, Callable[[Any], Any]], ...]
    insert_sql: str


_SHAPES: dict[sa.Table, _Shape] = {}


def _shape(table: sa.Table) -> _Shape:
    found = _SHAPES.get(table)
    if found is not None:
        return found
    keys = tuple(table.columns.keys())
    plain_columns = tuple(
        i for i, column in enumerate(table.columns)
        if isinstance(column.type, DecimalText | UTCDateTime | sa.Date | sa.DateTime)
    )
    forms = tuple(
        (i, form) for i, column in enumerate(table.columns)
        if (form := _sqlite_form(column)) is not None
    )
    pg_forms = tuple(
        (i, form) for i, column in enumerate(table.columns)
        if (form := _pg_form(column)) is not None
    )
    placeholders = ", ".join("?" for _ in keys)
    shape = _Shape(
        keys=keys,
        get=operator.itemgetter(*keys),
        plain_columns=plain_columns,
        sqlite_forms=forms,
        pg_forms=pg_forms,
        insert_sql=f"INSERT INTO {table.name} ({', '.join(keys)}) VALUES ({placeholders})",  # noqa: S608
    )
    _SHAPES[table] = shape
    return shape


def plain_image_json(table: sa.Table, values: Mapping[str, Any]) -> str:
    """The canonical JSON text of :func:`plain_image`."""
    return dumps_plain(plain_image(table, values))


def plain_entry(
    ts_utc: str, user: str, workstation: str, action: str, entity: str,
    entity_id: int | None, after_json: str, reason: str | None,
) -> dict[str, Any]:
    """An audit entry (the fields :func:`db.audit.chain.compute_hash` hashes) of an insert."""
    return {
        "ts_utc": ts_utc,
        "user": user,
        "workstation": workstation,
        "action": action,
        "entity": entity,
        "entity_id": None if entity_id is None else str(entity_id),
        "before": None,
        "after": after_json,
        "reason": reason,
    }


def stored_row(table: sa.Table, values: Mapping[str, Any], dialect: str) -> tuple[Any, ...]:
    """A row's values in the forms SQLAlchemy's column types hand to ``dialect``'s driver."""
    shape = _shape(table)
    stored = list(shape.get(values))
    for index, form in shape.sqlite_forms if dialect == "sqlite" else shape.pg_forms:
        value = stored[index]
        if value is not None:
            stored[index] = form(value)
    return tuple(stored)


@dataclass
class PreparedRows:
    """Rows already in the driver's stored form and their audit entries (no chain yet).

    Made by a worker process; a :class:`BulkWriter` chains and writes them
    (:meth:`BulkWriter.add_prepared`). Only plain, picklable values inside.
    ``dialect`` is the engine the rows are for (``sqlite`` or ``postgresql``).
    """

    ts_utc: str
    user: str
    workstation: str
    reason: str | None
    rows: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)
    entries: list[dict[str, Any]] = field(default_factory=list)
    dialect: str = "sqlite"

    def insert_plain(
        self, table: sa.Table, values: Mapping[str, Any], action: str, after_json: str
    ) -> None:
        """Same contract as :meth:`BulkWriter.insert_plain`."""
        self.rows.setdefault(table.name, []).append(stored_row(table, values, self.dialect))
        self.entries.append(
            plain_entry(self.ts_utc, self.user, self.workstation, action, table.name,
                        values.get("id"), after_json, self.reason)
        )


class BulkWriter:
    """Collects inserts and updates with their audit entries; :meth:`flush` writes them."""

    def __init__(
        self,
        connection: sa.Connection,
        *,
        db_id: str,
        user: str,
        workstation: str,
        now: datetime,
        reason: str | None = None,
    ) -> None:
        self.connection = connection
        self.db_id = db_id
        self.user = user
        self.workstation = workstation
        self.now = now
        self.reason = reason
        self._inserts: dict[str, tuple[sa.Table, list[dict[str, Any]]]] = {}
        self._order: list[str] = []
        self._updates: list[tuple[sa.Table, dict[str, Any]]] = []
        self._entries: list[dict[str, Any]] = []
        self._prepared: dict[str, tuple[sa.Table, list[tuple[Any, ...]]]] = {}
        self.rows_written = 0
        self.entries_written = 0
        self._ts = format_utc(now)

    def insert(
        self,
        table: sa.Table,
        values: Mapping[str, Any],
        action: str,
        *,
        after: Mapping[str, Any] | None = None,
    ) -> None:
        """Queue one row (every column given) and its ``action`` entry.

        ``after`` may pass a ready image (plain values) to skip recomputing it.
        """
        missing = [c.key for c in table.columns if c.key not in values]
        if missing:
            raise ValueError(f"{table.name} row lacks {', '.join(missing)}")
        if table.name not in self._inserts:
            self._inserts[table.name] = (table, [])
            self._order.append(table.name)
        row = dict(values)
        self._inserts[table.name][1].append(row)
        self._entries.append(
            build_entry(
                user=self.user,
                workstation=self.workstation,
                action=action,
                entity=table.name,
                entity_id=row.get("id"),
                before=None,
                after=after if after is not None else image_of(table, row),
                reason=self.reason,
                now=self.now,
            )
        )

    def insert_plain(
        self, table: sa.Table, values: Mapping[str, Any], action: str, after_json: str
    ) -> None:
        """Queue a row whose audit image is already canonical JSON text (the fast path).

        For generated data only: ``action`` must be a valid dotted verb and
        ``after_json`` exactly ``canonical_json(image_of(table, values))``
        (:func:`plain_image_json` makes it).
        """
        if table.name not in self._inserts:
            self._inserts[table.name] = (table, [])
            self._order.append(table.name)
        self._inserts[table.name][1].append(dict(values))
        self._entries.append(
            plain_entry(self._ts, self.user, self.workstation, action, table.name,
                        values.get("id"), after_json, self.reason)
        )

    def update(
        self,
        table: sa.Table,
        before: Mapping[str, Any],
        after: Mapping[str, Any],
        action: str,
    ) -> None:
        """Queue an update of the row ``before["id"]`` to ``after`` (full images) and its entry."""
        changed = {k: v for k, v in after.items() if before.get(k) != v}
        if not changed:
            return
        self._updates.append((table, {"id": before["id"], **changed}))
        self._entries.append(
            build_entry(
                user=self.user,
                workstation=self.workstation,
                action=action,
                entity=table.name,
                entity_id=before["id"],
                before=image_of(table, before),
                after=image_of(table, after),
                reason=self.reason,
                now=self.now,
            )
        )

    def audit(self, action: str, entity: str, entity_id: str | int | None,
              after: Mapping[str, Any] | None) -> None:
        """Queue an entry that records an event rather than a row (an import's summary)."""
        self._entries.append(
            build_entry(
                user=self.user, workstation=self.workstation, action=action, entity=entity,
                entity_id=entity_id, before=None, after=after, reason=self.reason, now=self.now,
            )
        )

    def add_prepared(self, tables: Mapping[str, sa.Table], prepared: PreparedRows) -> None:
        """Queue rows and entries made elsewhere (another process) by :class:`PreparedRows`."""
        for name, rows in prepared.rows.items():
            if name not in self._prepared:
                self._prepared[name] = (tables[name], [])
            self._prepared[name][1].extend(rows)
        self._entries.extend(prepared.entries)

    @property
    def pending_entries(self) -> int:
        """Audit entries queued and not yet written."""
        return len(self._entries)

    def flush(self, table_order: Iterable[str] = ()) -> None:
        """Write queued rows (``table_order`` first, for foreign keys), updates and entries."""
        order = [name for name in table_order if name in self._inserts]
        order += [name for name in self._order if name not in order]
        for name in order:
            table, rows = self._inserts[name]
            for start in range(0, len(rows), BATCH):
                self._insert(table, rows[start : start + BATCH])
            self.rows_written += len(rows)
        prepared_order = [n for n in table_order if n in self._prepared]
        prepared_order += [n for n in self._prepared if n not in prepared_order]
        for name in prepared_order:
            table, stored = self._prepared[name]
            self._write_stored(table, stored)
            self.rows_written += len(stored)
        for table, values in self._updates:
            key = values.pop("id")
            self.connection.execute(
                table.update().where(table.c.id == key), values
            )
            self.rows_written += 1
        if self._entries:
            fill_patients(self.connection, self._entries)
            seq, prev = read_head(self.connection)
            events = list(chain_rows(self.db_id, self._entries, start_seq=seq + 1, prev_hash=prev))
            audit_table: sa.Table = AuditEvent.__table__  # type: ignore[attr-defined]
            for start in range(0, len(events), BATCH):
                self._insert(audit_table, events[start : start + BATCH])
            self.entries_written += len(events)
        self._inserts.clear()
        self._prepared.clear()
        self._order.clear()
        self._updates.clear()
        self._entries.clear()


    def _insert(self, table: sa.Table, rows: list[dict[str, Any]]) -> None:
        # Values in the exact forms SQLAlchemy's types hand the driver, written without
        # the type machinery (it costs more than the insert itself).
        dialect = self.connection.dialect.name
        self._write_stored(table, [stored_row(table, row, dialect) for row in rows])

    def _write_stored(self, table: sa.Table, rows: list[tuple[Any, ...]]) -> None:
        if self.connection.dialect.name == "sqlite":
            self.connection.exec_driver_sql(_shape(table).insert_sql, rows)
            return
        # PostgreSQL: COPY, several times faster than batched INSERTs for a clinic of
        # hundreds of thousands of rows; in the caller's transaction, like the inserts.
        driver = self.connection.connection.driver_connection
        assert driver is not None
        columns = ", ".join(_shape(table).keys)
        with driver.cursor() as cursor, cursor.copy(
            f"COPY {table.name} ({columns}) FROM STDIN"  # table and columns: our metadata
        ) as copy:
            for row in rows:
                copy.write_row(row)


def _json_text(value: Any) -> str:
    # Most JSON columns of generated rows are empty lists: skip the encoder for them.
    return "[]" if value == [] else json.dumps(value)


def _sqlite_form(column: sa.Column[Any]) -> Callable[[Any], Any] | None:
    """How SQLAlchemy's column type stores a Python value in SQLite (None: as it is)."""
    kind = column.type
    if isinstance(kind, UTCDateTime):
        return lambda v: v.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(kind, DecimalText):
        return lambda v: format(v, "f")
    if isinstance(kind, sa.JSON):
        return _json_text
    if isinstance(kind, sa.DateTime):  # pragma: no cover - every timestamp is UTCDateTime
        raise TypeError(f"{column} is a naive DateTime; bulk writes store UTCDateTime only")
    if isinstance(kind, sa.Date):
        return lambda v: v.isoformat()
    if isinstance(kind, sa.Boolean):
        return int
    return None


def _pg_form(column: sa.Column[Any]) -> Callable[[Any], Any] | None:
    """How a Python value goes to psycopg for ``column`` (None: as it is)."""
    kind = column.type
    if isinstance(kind, DecimalText):
        return lambda v: format(v, "f")
    if isinstance(kind, sa.JSON):
        return _json_text
    return None


def bump_sequences(connection: sa.Connection, tables: Iterable[sa.Table]) -> None:
    """After inserting explicit ids on PostgreSQL, move each id sequence past the maximum."""
    if connection.dialect.name != "postgresql":
        return  # SQLite's INTEGER PRIMARY KEY continues from max(id) by itself
    for table in tables:
        if "id" not in table.c:
            continue
        # Table names come from our own metadata, never from input.
        statement = (
            "SELECT setval(pg_get_serial_sequence(:t, 'id'), "  # noqa: S608
            f"COALESCE((SELECT max(id) FROM {table.name}), 0) + 1, false)"
        )
        connection.execute(
            sa.text(statement),
            {"t": table.name},
        )
