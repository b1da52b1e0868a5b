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
from json.encoder import encode_basestring as _quote
from typing import Any

import sqlalchemy as sa

from db.audit.canonical import dumps_plain, format_decimal, format_utc
from db.audit.chain import (
    PG_APPEND_LOCK_KEY,
    build_entry,
    chain_json,
    chain_rows,
    entry_json,
    note_head,
    read_head,
)
from db.audit.subject import BatchOwners, fill_patients, patient_of
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
    json_forms: tuple[tuple[int, Callable[[Any], Any]], ...]  # JSON columns, as stored
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
        json_forms=tuple(
            (i, _json_text) for i, column in enumerate(table.columns)
            if isinstance(column.type, sa.JSON)
        ),
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


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"})


def copy_field(value: Any) -> str:
    """A stored value as one field of PostgreSQL's COPY text format (``\\N`` is NULL).

    Backslash, newline, carriage return and tab are the characters COPY's text
    format gives a meaning to; each is escaped, everything else goes as it is.
    Timestamps go in as UTC with their ``Z`` (every timestamp column is timestamptz).
    """
    if value is None:
        return "\\N"
    kind = type(value)
    if kind is str:
        if "\\" in value or "\n" in value or "\r" in value or "\t" in value:
            return str(value.translate(_COPY_ESCAPES))
        return str(value)
    if kind is bool:
        return "t" if value else "f"
    if kind is int:
        return str(value)
    if kind is Decimal:
        return format_decimal(value)
    if kind is datetime:
        return format_utc(value)
    if kind is date:
        return str(value.isoformat())
    if isinstance(value, str):  # a str subclass, such as a table's quoted name
        return copy_field(str(value))
    raise TypeError(f"no COPY form for {kind.__name__}")


def copy_line(table: sa.Table, values: Mapping[str, Any]) -> str:
    """One row of ``table`` as a line of COPY text, columns in the table's order."""
    return "\t".join(map(copy_field, stored_row(table, values, "postgresql"))) + "\n"


def copy_line_of_image(
    table: sa.Table, values: Mapping[str, Any], image: Mapping[str, Any]
) -> str:
    """:func:`copy_line` from the row's :func:`plain_image` (the same text, made faster).

    The image already holds every timestamp, date and decimal as the text
    :func:`copy_field` would make of it; only JSON columns are taken from ``values``
    (stored as the driver would store them, not as the image's canonical form).
    """
    shape = _shape(table)
    row = list(shape.get(image))
    for index, form in shape.json_forms:
        value = values[shape.keys[index]]
        row[index] = None if value is None else form(value)
    return "\t".join(map(copy_field, row)) + "\n"


#: The audit columns in the order a worker writes them: first those that are the same
#: for every entry of a table in a batch, then the entry's own; the chain adds the last
#: three.
_AUDIT_COPY = (
    "COPY audit_event (action, entity, before, ts_utc, user_name, workstation, reason, "
    "entity_id, after, patient_id, seq, prev_hash, hash) FROM STDIN"
)


@dataclass(frozen=True, slots=True)
class _EntryForm:
    """The fixed parts of one table's insert entries in a batch, as text.

    An insert entry's hashed JSON is its nine fields in key order
    (:func:`db.audit.chain.entry_json`); of those only ``after`` and ``entity_id``
    differ from row to row of a table in one batch, so the rest is quoted once.
    Strings are quoted by the encoder's own function (``encode_basestring``, what
    ``ensure_ascii=False`` uses); the first entry of every form is also serialised
    the general way and must agree (:meth:`PreparedRows.insert_plain`).
    """

    json_head: str  # '{"action":…,"after":'
    json_middle: str  # ',"before":null,"entity":…,"entity_id":'
    json_tail: str  # ',"reason":…,"ts_utc":…,"user":…,"workstation":…}'
    copy_head: str  # action, entity, before, ts_utc, user_name, workstation, reason


@dataclass
class PreparedRows:
    """Rows already in the driver's stored form and their audit entries (no chain yet).

    Made by a worker process; a :class:`BulkWriter` chains and writes them
    (:meth:`BulkWriter.add_prepared`). Only plain, picklable values inside.
    ``dialect`` is the engine the rows are for (``sqlite`` or ``postgresql``).

    For PostgreSQL the worker does all it can, so that the one process that chains
    the entries in order has little left to do: rows as COPY text (``copy_data``,
    bytes per table once :meth:`seal` is called), and for each entry the UTF-8 of
    its hashed JSON (:func:`db.audit.chain.entry_json`) and its COPY fields up to
    the chain's own (``audit_json``, ``audit_copy``). Each entry's patient is
    derived here from the batch's own rows (:class:`db.audit.subject.BatchOwners`).
    """

    ts_utc: str
    user: str
    workstation: str
    reason: str | None
    rows: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)
    entries: list[dict[str, Any]] = field(default_factory=list)
    dialect: str = "sqlite"
    copy_data: dict[str, bytes] = field(default_factory=dict)
    audit_json: list[bytes] = field(default_factory=list)
    audit_copy: list[bytes] = field(default_factory=list)
    _lines: dict[str, list[str]] = field(default_factory=dict, repr=False)
    _owners: BatchOwners = field(default_factory=BatchOwners, repr=False)
    _forms: dict[tuple[str, str], _EntryForm] = field(default_factory=dict, repr=False)

    def insert_plain(
        self, table: sa.Table, values: Mapping[str, Any], action: str, after_json: str,
        image: Mapping[str, Any] | None = None,
    ) -> None:
        """Same contract as :meth:`BulkWriter.insert_plain`.

        ``image``, when given, is the :func:`plain_image` that ``after_json`` was made
        from: the COPY text is then made from its already formatted values.
        """
        name = str(table.name)
        ident = values.get("id")
        entity_id = None if ident is None else str(ident)
        self._owners.note(name, values)
        # The row's values name the same ids as its image (ids are plain ints in both).
        patient = patient_of(name, entity_id, None, values, self._owners)
        if self.dialect != "postgresql":
            entry = plain_entry(self.ts_utc, self.user, self.workstation, action, name,
                                ident, after_json, self.reason)
            entry["patient_id"] = patient
            self.rows.setdefault(name, []).append(stored_row(table, values, self.dialect))
            self.entries.append(entry)
            return
        self._lines.setdefault(name, []).append(
            copy_line(table, values) if image is None else copy_line_of_image(table, values, image)
        )
        form = self._forms.get((action, name))
        first = form is None
        if form is None:
            form = self._form(action, name)
        hashed = (
            form.json_head + _quote(after_json) + form.json_middle
            + ("null" if entity_id is None else _quote(entity_id)) + form.json_tail
        )
        if first:
            # The first entry of each form, serialised the general way too: the two
            # must be the same text, or the chain would not be the Store's.
            general = entry_json(plain_entry(self.ts_utc, self.user, self.workstation,
                                             action, name, ident, after_json, self.reason))
            if general != hashed:
                raise AssertionError("the bulk entry JSON no longer matches the chain's recipe")
        self.audit_json.append(hashed.encode("utf-8"))
        self.audit_copy.append(
            (form.copy_head + copy_field(entity_id) + "\t" + copy_field(after_json) + "\t"
             + copy_field(patient) + "\t").encode("utf-8")
        )

    def _form(self, action: str, entity: str) -> _EntryForm:
        reason = "null" if self.reason is None else _quote(self.reason)
        form = _EntryForm(
            json_head='{"action":' + _quote(action) + ',"after":',
            json_middle=',"before":null,"entity":' + _quote(entity) + ',"entity_id":',
            json_tail=(',"reason":' + reason + ',"ts_utc":' + _quote(self.ts_utc)
                       + ',"user":' + _quote(self.user) + ',"workstation":'
                       + _quote(self.workstation) + "}"),
            copy_head="\t".join(copy_field(v) for v in (
                action, entity, None, self.ts_utc, self.user, self.workstation, self.reason
            )) + "\t",
        )
        self._forms[(action, entity)] = form
        return form

    def seal(self) -> None:
        """Turn the COPY lines into bytes (in the worker, before the batch is sent back)."""
        for name, lines in self._lines.items():
            self.copy_data[name] = self.copy_data.get(name, b"") + "".join(lines).encode("utf-8")
        self._lines = {}
        self._owners = BatchOwners()
        self._forms = {}


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
        self._copy: dict[str, list[bytes]] = {}
        self._copy_tables: dict[str, sa.Table] = {}
        self._chain_json: list[bytes] = []
        self._chain_copy: list[bytes] = []
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
        self, table: sa.Table, values: Mapping[str, Any], action: str, after_json: str,
        image: Mapping[str, Any] | None = None,
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
        """Queue rows and entries made elsewhere (another process) by :class:`PreparedRows`.

        PostgreSQL batches (COPY text) are chained after any entry queued otherwise.
        """
        if prepared.dialect == "postgresql":
            if self.connection.dialect.name != "postgresql":
                raise ValueError("rows prepared for PostgreSQL cannot be written elsewhere")
            prepared.seal()
            for name, data in prepared.copy_data.items():
                if name not in tables:
                    raise ValueError(f"no table {name} to write prepared rows to")
                self._copy_tables[name] = tables[name]
                self._copy.setdefault(name, []).append(data)
            self._chain_json.extend(prepared.audit_json)
            self._chain_copy.extend(prepared.audit_copy)
            return
        for name, rows in prepared.rows.items():
            if name not in self._prepared:
                self._prepared[name] = (tables[name], [])
            self._prepared[name][1].extend(rows)
        self._entries.extend(prepared.entries)

    @property
    def pending_entries(self) -> int:
        """Audit entries queued and not yet written."""
        return len(self._entries) + len(self._chain_json)

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
        copy_order = [n for n in table_order if n in self._copy]
        copy_order += [n for n in self._copy if n not in copy_order]
        for name in copy_order:
            columns = ", ".join(_shape(self._copy_tables[name]).keys)
            # Table and column names: our metadata, never input.
            self._copy_in(f"COPY {name} ({columns}) FROM STDIN", self._copy[name])
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
            if events:
                note_head(self.connection, events[-1]["seq"], events[-1]["hash"])
            self.entries_written += len(events)
        if self._chain_json:
            self._write_chain()
        self._copy.clear()
        self._copy_tables.clear()
        self._chain_json.clear()
        self._chain_copy.clear()
        self._inserts.clear()
        self._prepared.clear()
        self._order.clear()
        self._updates.clear()
        self._entries.clear()


    def _write_chain(self) -> None:
        # Entries prepared elsewhere: only the chain is computed here, then one COPY.
        head, prev_hash = read_head(self.connection)
        chained = list(
            chain_json(self.db_id, self._chain_json, start_seq=head + 1, prev_hash=prev_hash)
        )
        lines = [
            b"%s%d\t%s\t%s\n" % (fields, seq, prev.encode("ascii"), digest.encode("ascii"))
            for fields, (seq, prev, digest) in zip(self._chain_copy, chained, strict=True)
        ]
        self._copy_in(_AUDIT_COPY, [b"".join(lines[i : i + BATCH])
                                    for i in range(0, len(lines), BATCH)])
        if chained:
            note_head(self.connection, chained[-1][0], chained[-1][2])
        self.entries_written += len(lines)

    def _copy_in(self, statement: str, chunks: list[bytes]) -> None:
        driver = self.connection.connection.driver_connection
        assert driver is not None
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            for chunk in chunks:
                copy.write(chunk)

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


_CONSTRAINTS = sa.text(
    """
    SELECT c.contype, c.conname, c.conrelid::regclass::text, pg_get_constraintdef(c.oid)
    FROM pg_constraint c
    WHERE c.conrelid = ANY (SELECT to_regclass(n) FROM unnest(CAST(:names AS text[])) AS n)
      AND c.contype IN ('u', 'f')
      AND NOT (c.contype = 'u' AND EXISTS (
          SELECT 1 FROM pg_constraint r WHERE r.contype = 'f' AND r.conindid = c.conindid))
    ORDER BY c.contype DESC, c.conname
    """
)
_INDEXES = sa.text(
    """
    SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
    FROM pg_index i
    WHERE i.indrelid = ANY (SELECT to_regclass(n) FROM unnest(CAST(:names AS text[])) AS n)
      AND NOT i.indisprimary
      AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
    ORDER BY 1
    """
)


def defer_indexes(connection: sa.Connection, tables: Iterable[sa.Table]) -> list[str]:
    """PostgreSQL: drop the secondary indexes and unique and foreign-key constraints of
    ``tables`` before a bulk load; returns the statements that put them back.

    Maintaining a dozen indexes row by row (the unique audit hash index above all:
    random keys into an index larger than the server's cache) and checking every
    foreign key row by row costs more than building each index once from sorted
    rows and checking each key in one join, which :func:`restore_indexes` does.
    Primary keys stay (ids arrive in order), and so does any unique constraint a
    foreign key depends on. Call both in the one transaction that loads the rows:
    PostgreSQL's DDL is transactional, so a load that fails leaves every index and
    constraint as it was, and one that succeeds has had every constraint checked
    again over all its rows. SQLite: nothing (returns no statements).
    """
    if connection.dialect.name != "postgresql":
        return []
    names = {"names": [table.name for table in tables]}
    quote = connection.dialect.identifier_preparer.quote
    drop: list[str] = []
    restore: list[str] = []
    foreign: list[str] = []
    for kind, name, relation, definition in connection.execute(_CONSTRAINTS, names):
        drop.append(f"ALTER TABLE {relation} DROP CONSTRAINT {quote(name)}")
        add = f"ALTER TABLE {relation} ADD CONSTRAINT {quote(name)} {definition}"
        (foreign if kind == "f" else restore).append(add)
    for index, definition in connection.execute(_INDEXES, names):
        drop.append(f"DROP INDEX {index}")
        restore.append(definition)
    for statement in drop:
        connection.exec_driver_sql(statement)
    # Foreign keys last: their check reads the indexes put back before them.
    return restore + foreign


#: Memory for each index build of :func:`restore_indexes` (sorts in memory, not on disk).
RESTORE_MEMORY = "256MB"


def restore_indexes(connection: sa.Connection, statements: Iterable[str]) -> None:
    """Run the statements :func:`defer_indexes` returned (in the same transaction)."""
    statements = list(statements)
    if not statements:
        return
    connection.exec_driver_sql(f"SET LOCAL maintenance_work_mem = '{RESTORE_MEMORY}'")
    for statement in statements:
        connection.exec_driver_sql(statement)
